//! Control groups: each container gets its own, with its limits, under its pod's.
//!
//! Both kinds of host are handled: a pure cgroup v2 host (`/sys/fs/cgroup` is the
//! unified hierarchy: `memory.max`, `cpu.max`, `cpu.weight`, `pids.max`) and a v1 or
//! hybrid host (one hierarchy per controller under `/sys/fs/cgroup/<controller>`:
//! `memory.limit_in_bytes`, `cpu.cfs_quota_us`, `cpu.shares`, `pids.max`). Paths in the
//! spec (`linux.cgroupsPath`) are relative to the hierarchy roots.

use super::error::CgroupError;
use super::kernel::kernel;
use oci_spec::runtime::LinuxResources;
use std::path::{Path, PathBuf};

type Result<T> = std::result::Result<T, CgroupError>;

const ROOT: &str = "/sys/fs/cgroup";
/// The v1 controllers minipod puts containers in (freezer: runc's pause/resume).
const V1_CONTROLLERS: [&str; 6] = ["memory", "cpu", "cpuacct", "pids", "devices", "freezer"];

/// The v1 controllers a container gets a cgroup of its own in.
pub fn v1_controllers() -> &'static [&'static str] {
    &V1_CONTROLLERS
}

#[derive(Debug, Clone, PartialEq)]
pub enum Hierarchy {
    V2,
    V1,
}

pub fn hierarchy() -> Hierarchy {
    // CGROUP2_SUPER_MAGIC on /sys/fs/cgroup means a unified (v2) host.
    match nix::sys::statfs::statfs(ROOT) {
        Ok(fs) if fs.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC => Hierarchy::V2,
        _ => Hierarchy::V1,
    }
}

/// Is this a cgroup v2 host whose memory controller containers get (where
/// `memory.oom.group` exists)?
pub fn v2_memory() -> bool {
    hierarchy() == Hierarchy::V2
        && std::fs::read_to_string(Path::new(ROOT).join("cgroup.controllers"))
            .is_ok_and(|c| c.split_whitespace().any(|c| c == "memory"))
}

/// The directories of one cgroup: one on v2, one per controller on v1.
pub fn dirs(path: &Path) -> Vec<PathBuf> {
    let rel = path.strip_prefix("/").unwrap_or(path);
    match hierarchy() {
        Hierarchy::V2 => vec![Path::new(ROOT).join(rel)],
        Hierarchy::V1 => V1_CONTROLLERS
            .iter()
            .map(|c| Path::new(ROOT).join(c))
            .filter(|d| d.is_dir())
            .map(|d| d.join(rel))
            .collect(),
    }
}

fn write(dir: &Path, file: &str, value: &str, why: &str) -> Result<()> {
    let path = dir.join(file);
    kernel()
        .write(&path, value, why)
        .map_err(|errno| CgroupError::Write {
            path: path.clone(),
            value: value.to_string(),
            errno: errno.into(),
        })
}

fn mkdir(dir: &Path, why: &str) -> Result<()> {
    kernel()
        .mkdir(dir, why)
        .map_err(|errno| CgroupError::Create {
            path: dir.to_path_buf(),
            errno: errno.into(),
        })
}

/// On v2, a child cgroup only gets controllers its parent delegates: enable memory,
/// cpu and pids in every ancestor's `cgroup.subtree_control`.
fn delegate_v2(path: &Path) -> Result<()> {
    let rel = path.strip_prefix("/").unwrap_or(path);
    let mut dir = PathBuf::from(ROOT);
    let available = std::fs::read_to_string(dir.join("cgroup.controllers")).unwrap_or_default();
    let wanted: Vec<&str> = ["memory", "cpu", "pids"]
        .into_iter()
        .filter(|c| available.split_whitespace().any(|a| a == *c))
        .collect();
    let mut components = rel.components().peekable();
    while let Some(c) = components.next() {
        for ctrl in &wanted {
            // Already enabled is fine; a refusal is reported when limits are written.
            let _ = kernel().write(
                &dir.join("cgroup.subtree_control"),
                &format!("+{ctrl}"),
                "a child cgroup only gets the controllers its parent hands down",
            );
        }
        dir.push(c);
        if components.peek().is_some() {
            mkdir(&dir, "the pod's cgroup, parent of its containers'")?;
        }
    }
    Ok(())
}

/// Create the cgroup, write its limits and move the calling process into it (its
/// children, the container, are born there).
pub fn enter(path: &Path, resources: Option<&LinuxResources>) -> Result<()> {
    let hierarchy = hierarchy();
    if hierarchy == Hierarchy::V2 {
        delegate_v2(path)?;
    }
    let dirs = dirs(path);
    for dir in &dirs {
        mkdir(dir, "the container's own cgroup")?;
    }
    if let Some(r) = resources {
        for (file, value) in limit_files(&hierarchy, r) {
            let controller = file.split('.').next().unwrap_or("");
            let dir = dirs
                .iter()
                .find(|d| {
                    hierarchy == Hierarchy::V2 || d.starts_with(Path::new(ROOT).join(controller))
                })
                .ok_or_else(|| CgroupError::NoController {
                    controller: controller.to_string(),
                })?;
            write(dir, file, &value, "what the container may use")?;
        }
    }
    if let Some(r) = resources {
        write_unified(&hierarchy, &dirs, r, "what the container may use")?;
    }
    if let Some(rules) = resources.and_then(|r| r.devices().as_ref()) {
        enforce_devices(&hierarchy, &dirs, rules)?;
    }
    for dir in &dirs {
        write(
            dir,
            "cgroup.procs",
            "0",
            "this process, and the container it forks, in the cgroup: the kernel counts it there",
        )?;
    }
    Ok(())
}

/// The device rules: the devices controller on v1, a BPF program on v2.
fn enforce_devices(
    hierarchy: &Hierarchy,
    dirs: &[PathBuf],
    rules: &[oci_spec::runtime::LinuxDeviceCgroup],
) -> Result<()> {
    let devices = Path::new(ROOT).join("devices");
    let in_force = match hierarchy {
        Hierarchy::V2 => match dirs.first() {
            Some(dir) => super::devices::attach_program(dir, rules),
            None => Err(anyhow::anyhow!("no cgroup to attach the device program to")),
        },
        Hierarchy::V1 => match dirs.iter().find(|d| d.starts_with(&devices)) {
            Some(dir) => super::devices::write_v1(dir, rules),
            None => Err(anyhow::anyhow!(
                "the spec has device rules but this host has no devices cgroup controller"
            )),
        },
    };
    in_force.map_err(|err| CgroupError::Devices {
        message: format!("{err:#}"),
    })
}

/// The files and values for the spec's limits on this host.
pub fn limit_files(hierarchy: &Hierarchy, r: &LinuxResources) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let v2 = *hierarchy == Hierarchy::V2;
    if let Some(limit) = r.memory().as_ref().and_then(|m| m.limit()) {
        out.push((
            if v2 {
                "memory.max"
            } else {
                "memory.limit_in_bytes"
            },
            limit.to_string(),
        ));
        if v2 {
            // No swap beyond the limit, as kubelet runs containers.
            out.push(("memory.swap.max", "0".to_string()));
        }
    }
    if let Some(cpu) = r.cpu() {
        let period = cpu.period().unwrap_or(100_000);
        if let Some(quota) = cpu.quota().filter(|q| *q > 0) {
            if v2 {
                out.push(("cpu.max", format!("{quota} {period}")));
            } else {
                out.push(("cpu.cfs_period_us", period.to_string()));
                out.push(("cpu.cfs_quota_us", quota.to_string()));
            }
        }
        if let Some(shares) = cpu.shares() {
            if v2 {
                // The conversion runc and kubelet use from shares to weight.
                let weight = 1 + ((shares.clamp(2, 262_144) - 2) * 9999) / 262_142;
                out.push(("cpu.weight", weight.to_string()));
            } else {
                out.push(("cpu.shares", shares.to_string()));
            }
        }
    }
    if let Some(pids) = r.pids().as_ref().map(|p| p.limit()).filter(|l| *l > 0) {
        out.push(("pids.max", pids.to_string()));
    }
    out
}

/// Write new limits into an existing cgroup (runc's `update`).
pub fn update(path: &Path, resources: &LinuxResources) -> Result<()> {
    let hierarchy = hierarchy();
    let dirs = dirs(path);
    for (file, value) in limit_files(&hierarchy, resources) {
        let controller = file.split('.').next().unwrap_or("");
        let dir = dirs
            .iter()
            .find(|d| hierarchy == Hierarchy::V2 || d.starts_with(Path::new(ROOT).join(controller)))
            .ok_or_else(|| CgroupError::NoController {
                controller: controller.to_string(),
            })?;
        write(dir, file, &value, "the container's new limits")?;
    }
    write_unified(&hierarchy, &dirs, resources, "the container's new limits")
}

/// The spec's `unified` entries (cgroup v2 file → value, as kubelet's
/// `memory.oom.group`), checked by `unified_files`, written into the cgroup.
fn write_unified(
    hierarchy: &Hierarchy,
    dirs: &[PathBuf],
    r: &LinuxResources,
    why: &str,
) -> Result<()> {
    let files = unified_files(hierarchy, r)?;
    if files.is_empty() {
        return Ok(());
    }
    let Some(dir) = dirs.first() else {
        return Err(CgroupError::NoController {
            controller: "cgroup v2".to_string(),
        });
    };
    for (file, value) in files {
        let why = if file == "memory.oom.group" {
            "an OOM kill takes the whole container, as kubelet asks on cgroup v2"
        } else {
            why
        };
        write(dir, &file, &value, why)?;
    }
    Ok(())
}

/// The `unified` entries to write: only on a cgroup v2 host (runc refuses them on
/// v1), and each key a file of the cgroup itself (`memory.oom.group`), never a path.
pub fn unified_files(hierarchy: &Hierarchy, r: &LinuxResources) -> Result<Vec<(String, String)>> {
    let Some(unified) = r.unified().as_ref().filter(|u| !u.is_empty()) else {
        return Ok(Vec::new());
    };
    let mut files: Vec<(String, String)> = unified
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    files.sort();
    for (key, _) in &files {
        let refuse = |why: &str| CgroupError::Unified {
            key: key.clone(),
            why: why.to_string(),
        };
        if *hierarchy != Hierarchy::V2 {
            return Err(refuse("this host's cgroups are not v2 (unified)"));
        }
        let plain = !key.is_empty()
            && !key.starts_with('.')
            && key.contains('.')
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_');
        if !plain || key.starts_with("cgroup.") {
            return Err(refuse("not a controller file of the cgroup"));
        }
    }
    Ok(files)
}

/// The host PIDs of every process in the cgroup.
pub fn procs(path: &Path) -> Vec<i32> {
    let dir = match hierarchy() {
        Hierarchy::V2 => dirs(path).into_iter().next(),
        // Every container is in each controller's hierarchy; pids is always there.
        Hierarchy::V1 => dirs(path)
            .into_iter()
            .find(|d| d.starts_with(Path::new(ROOT).join("pids"))),
    };
    let Some(dir) = dir else {
        return Vec::new();
    };
    std::fs::read_to_string(dir.join("cgroup.procs"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// The freezer's directory and the file and values that freeze and thaw it.
fn freezer(path: &Path) -> Option<(PathBuf, &'static str, &'static str, &'static str)> {
    match hierarchy() {
        Hierarchy::V2 => dirs(path)
            .into_iter()
            .next()
            .map(|d| (d, "cgroup.freeze", "1", "0")),
        Hierarchy::V1 => dirs(path)
            .into_iter()
            .find(|d| d.starts_with(Path::new(ROOT).join("freezer")))
            .map(|d| (d, "freezer.state", "FROZEN", "THAWED")),
    }
}

/// Freeze (or thaw) every process of the cgroup (runc's `pause` and `resume`).
pub fn freeze(path: &Path, frozen: bool) -> Result<()> {
    let (dir, file, on, off) = freezer(path).ok_or_else(|| CgroupError::NoController {
        controller: "freezer".to_string(),
    })?;
    let why = if frozen {
        "pause: the kernel stops scheduling every process of the cgroup"
    } else {
        "resume: the processes run again"
    };
    write(&dir, file, if frozen { on } else { off }, why)?;
    if frozen {
        // v1 reports FREEZING until every task has stopped.
        for _ in 0..1000 {
            if is_frozen(path) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
    Ok(())
}

/// Is the cgroup frozen?
pub fn is_frozen(path: &Path) -> bool {
    let Some((dir, file, on, _)) = freezer(path) else {
        return false;
    };
    std::fs::read_to_string(dir.join(file)).is_ok_and(|v| v.trim() == on)
}

/// Was a process of this cgroup killed by the OOM killer?
pub fn oom_killed(path: &Path) -> bool {
    dirs(path).iter().any(|dir| {
        let (file, key) = match hierarchy() {
            Hierarchy::V2 => ("memory.events", "oom_kill"),
            Hierarchy::V1 => ("memory.oom_control", "oom_kill"),
        };
        std::fs::read_to_string(dir.join(file))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once(' '))
            .any(|(k, v)| k == key && v.trim().parse::<u64>().unwrap_or(0) > 0)
    })
}

/// Move the calling process into an existing cgroup (`exec` joins its container's).
pub fn join(path: &Path) -> Result<()> {
    for dir in dirs(path) {
        if dir.is_dir() {
            write(&dir, "cgroup.procs", "0", "join the container's cgroup")?;
        }
    }
    Ok(())
}

/// Remove a cgroup tree, children first; it must hold no process any more.
pub fn remove(path: &Path) {
    for dir in dirs(path) {
        remove_tree(&dir);
    }
}

/// Remove a cgroup only if it has no child left (the shared `/minipod` parent).
pub fn remove_if_unused(path: &Path) {
    for dir in dirs(path) {
        let has_child = std::fs::read_dir(&dir)
            .map(|d| d.flatten().any(|e| e.file_type().is_ok_and(|t| t.is_dir())))
            .unwrap_or(false);
        if !has_child {
            let _ = std::fs::remove_dir(&dir);
        }
    }
}

fn remove_tree(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                remove_tree(&e.path());
            }
        }
    }
    // rmdir, not remove_dir_all: a cgroup's files cannot be unlinked.
    let _ = std::fs::remove_dir(dir);
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::LinuxResourcesBuilder;

    fn unified(pairs: &[(&str, &str)]) -> LinuxResources {
        LinuxResourcesBuilder::default()
            .unified(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<std::collections::HashMap<_, _>>(),
            )
            .build()
            .unwrap()
    }

    #[test]
    fn unified_files_are_written_on_v2_only_and_only_inside_the_cgroup() {
        let oom = unified(&[("memory.oom.group", "1")]);
        assert_eq!(
            unified_files(&Hierarchy::V2, &oom).unwrap(),
            [("memory.oom.group".to_string(), "1".to_string())]
        );
        // runc refuses unified on a v1 (or hybrid) host; so does minipod-runc.
        let err = unified_files(&Hierarchy::V1, &oom).unwrap_err();
        assert_eq!(
            err.to_string(),
            "linux.resources.unified \"memory.oom.group\": this host's cgroups are not v2 (unified)"
        );
        for key in [
            "../../memory.max",
            "memory/../x",
            "cgroup.procs",
            ".hidden",
            "nodot",
            "",
        ] {
            assert!(
                unified_files(&Hierarchy::V2, &unified(&[(key, "1")])).is_err(),
                "{key:?}"
            );
        }
        assert!(unified_files(&Hierarchy::V1, &unified(&[]))
            .unwrap()
            .is_empty());
    }
}
