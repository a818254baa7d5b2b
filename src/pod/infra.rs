//! The infra ("pause") container: the pod's namespaces are born with it, and it holds
//! them. Like containerd's sandbox spec, it is an OCI spec built without side effects
//! ([`spec`]) and run by the runtime like any container ([`start`]):
//!
//! - new NET, IPC and UTS namespaces (and PID with `shareProcessNamespace`, where the
//!   pause program is PID 1 and reaps orphans), hostname = the pod's name; the runtime
//!   brings `lo` up in the new network namespace;
//! - a new MNT namespace whose root is a small tmpfs holding only the pause program
//!   and what it loads, bound read-only: nothing of the host or of the supervisor's
//!   mounts is in its mount table;
//! - no capabilities at all, `no_new_privs`, the RuntimeDefault seccomp profile.
//!
//! Containers later join its NET, IPC, UTS (and PID) through `/proc/<infra pid>/ns/*`.

use super::infra_files::{self, RootFile};
use super::paths::PodPaths;
use super::seccomp;
use crate::runtime::{self, RootfsMount};
use anyhow::{Context, Result};
use nix::unistd::Pid;
use oci_spec::runtime::{
    LinuxBuilder, LinuxCapabilitiesBuilder, LinuxNamespaceBuilder, LinuxNamespaceType, Mount,
    MountBuilder, ProcessBuilder, RootBuilder, Spec, SpecBuilder, UserBuilder,
};
use std::collections::HashSet;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

/// The pause program installed next to the minipod binary.
pub fn pause_program() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("find the minipod binary")?;
    let pause = exe.with_file_name("minipod-pause");
    if !pause.is_file() {
        anyhow::bail!(
            "the infra program {} is missing (it is built and installed with minipod)",
            pause.display()
        );
    }
    Ok(pause)
}

/// The infra's spec: a pure function of the pod's hostname, whether it shares one PID
/// namespace, and the files its root holds.
pub fn spec(hostname: &str, share_pid: bool, files: &[RootFile]) -> Result<Spec> {
    // No capability in any set: pause only waits for signals and reaps children.
    let none = LinuxCapabilitiesBuilder::default()
        .bounding(HashSet::new())
        .effective(HashSet::new())
        .permitted(HashSet::new())
        .inheritable(HashSet::new())
        .ambient(HashSet::new())
        .build()?;
    let mut library_dirs: Vec<String> = files
        .iter()
        .skip(1)
        .filter_map(|f| f.inside.parent().map(|d| d.display().to_string()))
        .collect();
    library_dirs.dedup();
    let process = ProcessBuilder::default()
        // Found through PATH, so that `ps` shows `minipod-pause <pod>`.
        .args(vec!["minipod-pause".to_string(), hostname.to_string()])
        .env(vec![
            "PATH=/".to_string(),
            format!("LD_LIBRARY_PATH={}", library_dirs.join(":")),
        ])
        .cwd("/")
        .user(UserBuilder::default().uid(0u32).gid(0u32).build()?)
        .capabilities(none)
        .no_new_privileges(true)
        .build()?;
    let new = |typ| LinuxNamespaceBuilder::default().typ(typ).build();
    let mut namespaces = vec![
        new(LinuxNamespaceType::Network)?,
        new(LinuxNamespaceType::Ipc)?,
        new(LinuxNamespaceType::Uts)?,
        new(LinuxNamespaceType::Mount)?,
    ];
    if share_pid {
        namespaces.push(new(LinuxNamespaceType::Pid)?);
    }
    // RuntimeDefault, as containerd gives the sandbox: pause waits for signals and
    // reaps, none of the calls the profile refuses (mount, unshare, keyctl, bpf, ...).
    let seccomp = seccomp::profile::to_oci(&seccomp::profile::runtime_default()?, &[])?;
    let linux = LinuxBuilder::default()
        .namespaces(namespaces)
        .seccomp(seccomp)
        .build()?;
    let mounts = files.iter().map(bind).collect::<Result<Vec<Mount>>>()?;
    Ok(SpecBuilder::default()
        .version("1.0.2")
        .hostname(hostname)
        .root(
            RootBuilder::default()
                .path("rootfs")
                .readonly(true)
                .build()?,
        )
        .process(process)
        .mounts(mounts)
        .linux(linux)
        .build()?)
}

/// `hostNetwork: true`: the pod uses the host's network (and, as containerd does it,
/// the host's UTS namespace, so no hostname is set: it is the host's).
pub fn on_host_network(spec: &mut Spec) {
    if let Some(linux) = spec.linux_mut() {
        if let Some(namespaces) = linux.namespaces_mut() {
            namespaces.retain(|n| {
                !matches!(
                    n.typ(),
                    LinuxNamespaceType::Network | LinuxNamespaceType::Uts
                )
            });
        }
    }
    spec.set_hostname(None);
}

fn bind(file: &RootFile) -> Result<Mount> {
    Ok(MountBuilder::default()
        .destination(&file.inside)
        .typ("bind")
        .source(&file.host)
        .options(
            ["bind", "ro", "nosuid", "nodev"]
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>(),
        )
        .build()?)
}

/// Build the infra's bundle and have the runtime run it; returns its host PID.
/// `cgroup`: where it is born, in its pod's cgroup tree.
pub fn start(
    paths: &PodPaths,
    hostname: &str,
    share_pid: bool,
    host_network: bool,
    security: &super::security::InfraSecurity,
    cgroup: &Path,
    programs: &mut runtime::seccomp::Programs,
) -> Result<Pid> {
    let files = infra_files::for_program(&pause_program()?)?;
    let mut spec = spec(hostname, share_pid, &files)?;
    if let Some(linux) = spec.linux_mut() {
        linux.set_cgroups_path(Some(cgroup.to_path_buf()));
    }
    if host_network {
        on_host_network(&mut spec);
    }
    if let Some(host_start) = security.userns {
        let maps = super::security::id_mappings(host_start)?;
        if let Some(linux) = spec.linux_mut() {
            if let Some(namespaces) = linux.namespaces_mut() {
                namespaces.insert(
                    0,
                    LinuxNamespaceBuilder::default()
                        .typ(LinuxNamespaceType::User)
                        .build()?,
                );
            }
            linux.set_uid_mappings(Some(maps.clone()));
            linux.set_gid_mappings(Some(maps));
        }
    }
    if !security.sysctls.is_empty() {
        if let Some(linux) = spec.linux_mut() {
            linux.set_sysctl(Some(security.sysctls.clone()));
        }
    }
    if security.host_ipc {
        crate::narration::step(
            "no IPC namespace for the infra: the pod keeps the host's",
            "hostIPC: true shares the host's SysV/POSIX IPC",
        );
        super::security::host_namespaces::keep_hosts(&mut spec, LinuxNamespaceType::Ipc);
    }
    let bundle = paths.infra_bundle();
    let rootfs = bundle.join("rootfs");
    std::fs::create_dir_all(&rootfs).with_context(|| format!("create {}", rootfs.display()))?;
    spec.save(bundle.join("config.json"))
        .with_context(|| format!("write {}", bundle.join("config.json").display()))?;
    // The root, in the supervisor's mount namespace only until the infra has made its
    // own copy of it (a new mount namespace copies the mounts it starts from).
    let root = RootfsMount::tmpfs(&rootfs, "64k")?;
    let stdio = runtime::Stdio {
        stdin: dev_null()?,
        stdout: dev_null()?,
        stderr: dev_null()?,
    };
    let pid = runtime::run("infra", &bundle, &spec, programs, &stdio)
        .context("start the infra process")?;
    drop(root);
    Ok(pid)
}

fn dev_null() -> Result<OwnedFd> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(Path::new("/dev/null"))
        .context("open /dev/null")?;
    Ok(OwnedFd::from(file))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> Vec<RootFile> {
        vec![
            RootFile {
                host: "/opt/minipod-pause".into(),
                inside: "/minipod-pause".into(),
            },
            RootFile {
                host: "/usr/lib/x86_64-linux-gnu/libc.so.6".into(),
                inside: "/lib/x86_64-linux-gnu/libc.so.6".into(),
            },
        ]
    }

    #[test]
    fn the_infra_creates_the_pods_namespaces_and_holds_no_capability() {
        let spec = spec("web", false, &files()).unwrap();
        let types: Vec<_> = spec
            .linux()
            .as_ref()
            .unwrap()
            .namespaces()
            .clone()
            .unwrap()
            .iter()
            .map(|n| (n.typ(), n.path().is_none()))
            .collect();
        assert_eq!(
            types,
            [
                (LinuxNamespaceType::Network, true),
                (LinuxNamespaceType::Ipc, true),
                (LinuxNamespaceType::Uts, true),
                (LinuxNamespaceType::Mount, true),
            ]
        );
        assert_eq!(spec.hostname().as_deref(), Some("web"));
        let process = spec.process().as_ref().unwrap();
        assert_eq!(process.no_new_privileges(), Some(true));
        let caps = process.capabilities().as_ref().unwrap();
        assert!(caps.bounding().as_ref().unwrap().is_empty());
        assert!(caps.permitted().as_ref().unwrap().is_empty());
        assert_eq!(spec.root().as_ref().unwrap().readonly(), Some(true));
        // The RuntimeDefault filter: everything not listed is refused with EPERM.
        let filter = spec.linux().as_ref().unwrap().seccomp().clone().unwrap();
        assert_eq!(
            filter.default_action(),
            oci_spec::runtime::LinuxSeccompAction::ScmpActErrno
        );
        let allowed = |name: &str| {
            filter.syscalls().iter().flatten().any(|s| {
                s.action() == oci_spec::runtime::LinuxSeccompAction::ScmpActAllow
                    && s.names().iter().any(|n| n == name)
            })
        };
        assert!(allowed("wait4") && allowed("rt_sigsuspend") && allowed("execve"));
        assert!(!allowed("mount") && !allowed("unshare"));
        let mounts = spec.mounts().as_ref().unwrap();
        assert_eq!(mounts.len(), 2);
        assert!(mounts
            .iter()
            .all(|m| m.options().as_ref().unwrap().contains(&"ro".to_string())));
    }

    #[test]
    fn on_the_host_network_the_infra_keeps_the_hosts_net_and_uts() {
        let mut spec = spec("web", false, &files()).unwrap();
        on_host_network(&mut spec);
        let namespaces = spec.linux().as_ref().unwrap().namespaces().clone().unwrap();
        let types: Vec<_> = namespaces.iter().map(|n| n.typ()).collect();
        assert_eq!(types, [LinuxNamespaceType::Ipc, LinuxNamespaceType::Mount]);
        assert_eq!(spec.hostname(), &None);
    }

    #[test]
    fn a_shared_process_namespace_is_born_with_the_infra() {
        let spec = spec("web", true, &files()).unwrap();
        let namespaces = spec.linux().as_ref().unwrap().namespaces().clone().unwrap();
        assert!(namespaces
            .iter()
            .any(|n| n.typ() == LinuxNamespaceType::Pid && n.path().is_none()));
    }
}
