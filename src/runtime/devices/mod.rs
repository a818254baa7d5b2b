//! Which device nodes a container may open or create: the OCI spec's
//! `linux.resources.devices` enforced by the container's cgroup. A node in the
//! container's /dev is not enough to stop it: with CAP_MKNOD it can make any node
//! (`mknod /tmp/kmsg c 1 11`), so the check must be on the device numbers.
//!
//! - cgroup v1: the devices controller, `devices.deny` then `devices.allow` lines.
//! - cgroup v2: there is no such file; a BPF_PROG_TYPE_CGROUP_DEVICE program generated
//!   from the rules ([`program`]) is loaded and attached to the cgroup ([`bpf`]).

pub(in crate::runtime) mod bpf;
mod default_nodes;
pub mod program;

pub use default_nodes::default_nodes;

use crate::runtime::kernel::kernel;
use anyhow::{bail, Context, Result};
use oci_spec::runtime::LinuxDeviceCgroup;
use std::os::fd::AsFd;
use std::path::Path;

/// The rule as the v1 controller reads it: `c 1:3 rwm`, `a *:* rwm`.
fn v1_line(rule: &LinuxDeviceCgroup) -> String {
    let num = |n: Option<i64>| {
        n.filter(|n| *n >= 0)
            .map_or("*".to_string(), |n| n.to_string())
    };
    format!(
        "{} {}:{} {}",
        rule.typ().unwrap_or_default().as_str(),
        num(rule.major()),
        num(rule.minor()),
        rule.access().as_deref().unwrap_or("rwm")
    )
}

/// cgroup v1: write each rule, in order, into the devices controller's `dir`.
/// `devices.deny` of `a` empties the list; each `devices.allow` adds one exception.
pub fn write_v1(dir: &Path, rules: &[LinuxDeviceCgroup]) -> Result<()> {
    for rule in rules {
        let (file, why) = if rule.allow() {
            ("devices.allow", "devices: one exception to the deny")
        } else {
            (
                "devices.deny",
                "devices: mknod may make any node, only these numbers may be opened",
            )
        };
        let line = v1_line(rule);
        let path = dir.join(file);
        kernel()
            .write(&path, &line, why)
            .with_context(|| format!("write {line:?} to {}", path.display()))?;
    }
    Ok(())
}

/// cgroup v2: generate, load and attach the device program to `dir`.
pub fn attach_program(dir: &Path, rules: &[LinuxDeviceCgroup]) -> Result<()> {
    let prog = program::generate(rules);
    let fd = match kernel().bpf_prog_load(
        &prog,
        "devices: cgroup v2 has no devices file, a BPF program checks every open and mknod",
    ) {
        Ok(fd) => fd,
        Err(err) => {
            let log = bpf::verifier_log(&prog);
            bail!(
                "bpf(BPF_PROG_LOAD, BPF_PROG_TYPE_CGROUP_DEVICE, {} insns): {err}{}",
                prog.len(),
                if log.is_empty() {
                    String::new()
                } else {
                    format!("; verifier: {log}")
                }
            );
        }
    };
    let cgroup =
        std::fs::File::open(dir).with_context(|| format!("open cgroup {}", dir.display()))?;
    kernel()
        .bpf_prog_attach(
            fd.as_fd(),
            cgroup.as_fd(),
            dir,
            "the program runs on every open and mknod of a device by the cgroup's processes",
        )
        .with_context(|| {
            format!(
                "bpf(BPF_PROG_ATTACH, BPF_CGROUP_DEVICE) to {}",
                dir.display()
            )
        })?;
    // The cgroup holds the program now; our descriptor can go.
    drop(fd);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// The cgroup v2 hierarchy of this host: the whole /sys/fs/cgroup, or the
    /// `unified` mount of a hybrid host.
    fn v2_root() -> Option<&'static Path> {
        ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"]
            .into_iter()
            .map(Path::new)
            .find(|p| p.join("cgroup.procs").exists() && p.join("cgroup.subtree_control").exists())
    }

    /// In a cgroup of its own, a shell under the default rules.
    fn in_cgroup(dir: &Path, script: &str) -> (bool, String) {
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "echo $$ > {}/cgroup.procs && {script}",
                dir.display()
            ))
            .output()
            .expect("run sh");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    #[test]
    fn the_v2_program_refuses_kmsg_and_allows_null() {
        assert!(nix::unistd::geteuid().is_root(), "this test needs root");
        let root = v2_root().expect("a cgroup v2 hierarchy on this host");
        let dir = root.join(format!("minipod-devices-test-{}", std::process::id()));
        std::fs::create_dir(&dir).unwrap();
        let rules = crate::pod::device_rules::default_rules().unwrap();
        let attached = attach_program(&dir, &rules);
        let node = format!("/tmp/minipod-devtest-kmsg-{}", std::process::id());
        let results = attached.as_ref().ok().map(|_| {
            (
                in_cgroup(&dir, "exec 3<>/dev/kmsg"),
                in_cgroup(&dir, "exec 3<>/dev/null"),
                in_cgroup(&dir, &format!("mknod {node} c 1 11 && exec 3<{node}")),
            )
        });
        let _ = std::fs::remove_file(&node);
        let _ = std::fs::remove_dir(&dir);
        attached.unwrap();
        let (kmsg, null, made) = results.unwrap();
        assert!(
            !kmsg.0 && kmsg.1.contains("Operation not permitted"),
            "{kmsg:?}"
        );
        assert!(null.0, "{null:?}");
        // mknod is allowed, opening the node it made is not.
        assert!(
            !made.0 && made.1.contains("Operation not permitted"),
            "{made:?}"
        );
    }

    #[test]
    fn v1_lines_are_what_the_controller_reads() {
        let rules = crate::pod::device_rules::default_rules().unwrap();
        let lines: Vec<String> = rules.iter().map(v1_line).collect();
        assert_eq!(lines[0], "a *:* rwm");
        assert!(lines.contains(&"c 136:* rwm".to_string()));
        assert!(lines.contains(&"b *:* m".to_string()));
    }
}
