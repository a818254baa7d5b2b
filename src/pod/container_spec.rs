//! From a pod's container to the OCI runtime spec that runs it: a pure function, so
//! what a container will get can be checked without creating anything (the shape of
//! containerd's sandbox and container specs). The result is written as the bundle's
//! `config.json`, which a student, or runc, can read.

use super::container_process::{command_line, environment};
use super::paths::PodPaths;
use super::record::ImageUse;
use anyhow::{Context, Result};
use k8s_openapi::api::core::v1::{Container, Pod};
use oci_spec::runtime::{
    Capability, LinuxBuilder, LinuxCapabilitiesBuilder, LinuxDevice, LinuxNamespace,
    LinuxNamespaceBuilder, LinuxNamespaceType, Mount, MountBuilder, ProcessBuilder, RootBuilder,
    Spec, SpecBuilder, UserBuilder,
};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

pub const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The 14 capabilities containerd and Docker grant a container by default.
pub const DEFAULT_CAPABILITIES: [Capability; 14] = [
    Capability::Chown,
    Capability::DacOverride,
    Capability::Fsetid,
    Capability::Fowner,
    Capability::Mknod,
    Capability::NetRaw,
    Capability::Setgid,
    Capability::Setuid,
    Capability::Setfcap,
    Capability::Setpcap,
    Capability::NetBindService,
    Capability::SysChroot,
    Capability::Kill,
    Capability::AuditWrite,
];

/// Paths the container must not read (the OCI/containerd defaults).
pub const MASKED_PATHS: [&str; 11] = [
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Paths the container may read but not write.
pub const READONLY_PATHS: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// Who the container's process runs as, resolved against the image's /etc/passwd.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedUser {
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
}

/// Everything about the pod a container's spec depends on.
pub struct SpecInputs<'a> {
    pub pod: &'a Pod,
    pub container: &'a Container,
    pub image: &'a ImageUse,
    pub paths: &'a PodPaths,
    /// Host PID of the infra process, whose namespaces the container joins.
    pub infra_pid: i32,
    /// Volume name → host path to bind (an emptyDir's directory, a hostPath).
    pub volume_sources: &'a BTreeMap<String, PathBuf>,
    /// The container's subPaths, pinned by the caller (see `volumes`).
    pub sub_paths: &'a super::volumes::SubPaths,
    pub user: ResolvedUser,
    /// Capabilities, no_new_privs, privileged, read-only root (`security::privileges`).
    pub privileges: super::security::privileges::Privileges,
    /// The container's seccomp profile, as the pod and the node chose it.
    pub seccomp: super::seccomp::Choice,
    /// `hostUsers: false`: the first host id of the pod's user namespace, which the
    /// container joins; its root and bind mounts are then idmapped.
    pub userns: Option<u32>,
}

pub fn build(inputs: &SpecInputs) -> Result<Spec> {
    let c = inputs.container;
    let name = &c.name;
    let env = environment(inputs);
    let args = command_line(c, inputs.image, &env);
    let cwd = c
        .working_dir
        .clone()
        .filter(|w| !w.is_empty())
        .or_else(|| Some(inputs.image.working_dir.clone()).filter(|w| !w.is_empty()))
        .unwrap_or_else(|| "/".to_string());
    let privileges = &inputs.privileges;
    let caps: HashSet<Capability> = privileges.capabilities.clone();
    let what = || format!("build the OCI spec of container {name}");
    let cap_names: Vec<String> = caps.iter().map(|c| format!("CAP_{c}")).collect();
    // containerd gives a privileged container no seccomp filter at all.
    let seccomp_choice = if privileges.privileged {
        super::seccomp::Choice::Unconfined
    } else {
        inputs.seccomp.clone()
    };
    let seccomp = super::seccomp::profile::oci_section(&seccomp_choice, &cap_names)
        .with_context(|| format!("container {name}: CreateContainerConfigError"))?;
    let cgroup_v2 = crate::runtime::cgroups::v2_memory();
    let mut resources = super::resources::of(c)
        .to_oci(cgroup_v2)
        .with_context(what)?;
    let device_rules = if privileges.privileged {
        super::device_rules::allow_all().with_context(what)?
    } else {
        super::device_rules::default_rules().with_context(what)?
    };
    resources.set_devices(Some(device_rules));

    let process = ProcessBuilder::default()
        // `tty: true`: its stdio is a pseudo-terminal, its controlling terminal.
        .terminal(c.tty == Some(true))
        .user(
            UserBuilder::default()
                .uid(inputs.user.uid)
                .gid(inputs.user.gid)
                .additional_gids(inputs.user.additional_gids.clone())
                .build()
                .with_context(what)?,
        )
        .args(args)
        .env(env)
        .cwd(cwd)
        .capabilities(
            LinuxCapabilitiesBuilder::default()
                .bounding(caps.clone())
                .effective(caps.clone())
                .permitted(caps)
                .inheritable(HashSet::new())
                .ambient(HashSet::new())
                .build()
                .with_context(what)?,
        )
        .no_new_privileges(privileges.no_new_privs)
        .build()
        .with_context(what)?;

    let uid = inputs.pod.metadata.uid.as_deref().unwrap_or_default();
    let linux = LinuxBuilder::default()
        .cgroups_path(super::resources::pod_cgroup(uid).join(name))
        .resources(resources)
        .namespaces(namespaces(inputs).with_context(what)?)
        .devices(devices(privileges.privileged).with_context(what)?)
        .masked_paths(if privileges.unmasked_proc {
            Vec::new()
        } else {
            MASKED_PATHS.iter().map(|s| s.to_string()).collect()
        })
        .readonly_paths(if privileges.unmasked_proc {
            Vec::new()
        } else {
            READONLY_PATHS.iter().map(|s| s.to_string()).collect()
        })
        .build()
        .with_context(what)?;

    let mut linux = linux;
    linux.set_seccomp(seccomp);
    if let Some(host_start) = inputs.userns {
        let maps = super::security::id_mappings(host_start).with_context(what)?;
        linux.set_uid_mappings(Some(maps.clone()));
        linux.set_gid_mappings(Some(maps));
    }
    let mut spec = SpecBuilder::default()
        .version("1.0.2")
        .root(
            RootBuilder::default()
                .path("rootfs")
                .readonly(privileges.readonly_root)
                .build()
                .with_context(what)?,
        )
        .process(process)
        .mounts(if inputs.userns.is_some() {
            idmapped(
                mounts(inputs).with_context(what)?,
                &host_path_mounts(inputs),
            )
        } else {
            mounts(inputs).with_context(what)?
        })
        .linux(linux)
        .build()
        .with_context(what)?;
    // The container joins the pod's UTS namespace: the infra process named it.
    spec.set_hostname(None);
    Ok(spec)
}

/// The pod's hostname: `spec.hostname` if set, else the pod's name (63 chars at most);
/// on the host's network (and UTS namespace), the host's name.
pub fn pod_hostname(pod: &Pod) -> String {
    if crate::net::pod_network::host_network(pod) {
        if let Ok(name) = nix::unistd::gethostname() {
            return name.to_string_lossy().into_owned();
        }
    }
    let name = pod
        .spec
        .as_ref()
        .and_then(|s| s.hostname.clone())
        .or_else(|| pod.metadata.name.clone())
        .unwrap_or_default();
    name.chars().take(63).collect()
}

/// net, ipc, uts joined from the infra process (pid too with shareProcessNamespace);
/// mnt, cgroup (and pid) new.
fn namespaces(inputs: &SpecInputs) -> Result<Vec<LinuxNamespace>> {
    let share_pid = inputs
        .pod
        .spec
        .as_ref()
        .and_then(|s| s.share_process_namespace)
        .unwrap_or(false);
    let host_pid = super::security::host_namespaces::host_pid(inputs.pod);
    let joined = |typ, name: &str| {
        LinuxNamespaceBuilder::default()
            .typ(typ)
            .path(format!("/proc/{}/ns/{name}", inputs.infra_pid))
            .build()
    };
    let new = |typ| LinuxNamespaceBuilder::default().typ(typ).build();
    Ok(vec![
        joined(LinuxNamespaceType::Network, "net")?,
        joined(LinuxNamespaceType::Ipc, "ipc")?,
        joined(LinuxNamespaceType::Uts, "uts")?,
        if share_pid {
            joined(LinuxNamespaceType::Pid, "pid")?
        } else {
            new(LinuxNamespaceType::Pid)?
        },
        new(LinuxNamespaceType::Mount)?,
        new(LinuxNamespaceType::Cgroup)?,
    ]
    .into_iter()
    // hostPID: no PID namespace of its own; it stays in the host's.
    .filter(|n| !(host_pid && n.typ() == LinuxNamespaceType::Pid))
    .chain(
        inputs
            .userns
            .map(|_| joined(LinuxNamespaceType::User, "user"))
            .transpose()?,
    )
    .collect())
}

/// The harmless devices every container gets; a privileged one also gets the host's.
fn devices(privileged: bool) -> Result<Vec<LinuxDevice>> {
    let mut out = crate::runtime::devices::default_nodes()?;
    if privileged {
        for d in super::security::host_devices::list() {
            if !out.iter().any(|o| o.path() == d.path()) {
                out.push(d);
            }
        }
    }
    Ok(out)
}

/// In a pod with its own user namespace the pod's own binds (emptyDirs, /dev/shm,
/// the /etc files, the termination log) are idmapped (OCI's `idmap`): what the pod
/// wrote as root is root's inside. A hostPath is not: the host's files keep the
/// host's owners, and uid 0 in the pod is nobody to them.
fn idmapped(mut mounts: Vec<Mount>, host_paths: &[String]) -> Vec<Mount> {
    for m in &mut mounts {
        let dest = m.destination().display().to_string();
        if m.typ().as_deref() == Some("bind") && !host_paths.contains(&dest) {
            let mut options = m.options().clone().unwrap_or_default();
            options.push("idmap".to_string());
            m.set_options(Some(options));
        }
    }
    mounts
}

/// The container's mount paths of hostPath volumes.
fn host_path_mounts(inputs: &SpecInputs) -> Vec<String> {
    let volumes = inputs
        .pod
        .spec
        .as_ref()
        .and_then(|s| s.volumes.as_deref())
        .unwrap_or(&[]);
    inputs
        .container
        .volume_mounts
        .iter()
        .flatten()
        .filter(|vm| {
            volumes
                .iter()
                .any(|v| v.name == vm.name && v.host_path.is_some())
        })
        .map(|vm| vm.mount_path.clone())
        .collect()
}

fn mount(dest: &str, typ: &str, source: &Path, options: &[&str]) -> Result<Mount> {
    Ok(MountBuilder::default()
        .destination(dest)
        .typ(typ)
        .source(source)
        .options(options.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .build()?)
}

/// The standard file systems, the pod's shared /dev/shm and /etc files, then the
/// volumes, parents before children.
fn mounts(inputs: &SpecInputs) -> Result<Vec<Mount>> {
    let p = inputs.paths;
    let mut out = vec![
        mount(
            "/proc",
            "proc",
            Path::new("proc"),
            &["nosuid", "noexec", "nodev"],
        )?,
        mount(
            "/dev",
            "tmpfs",
            Path::new("tmpfs"),
            &["nosuid", "strictatime", "mode=755", "size=65536k"],
        )?,
        mount(
            "/dev/pts",
            "devpts",
            Path::new("devpts"),
            &[
                "nosuid",
                "noexec",
                "newinstance",
                "ptmxmode=0666",
                "mode=0620",
                "gid=5",
            ],
        )?,
        mount(
            "/dev/shm",
            "bind",
            &if super::security::host_namespaces::host_ipc(inputs.pod) {
                PathBuf::from("/dev/shm")
            } else {
                p.shm()
            },
            &["rbind", "nosuid", "nodev", "noexec"],
        )?,
        mount(
            "/dev/mqueue",
            "mqueue",
            Path::new("mqueue"),
            &["nosuid", "noexec", "nodev"],
        )?,
        mount(
            "/sys",
            "sysfs",
            Path::new("sysfs"),
            if inputs.privileges.privileged {
                &["nosuid", "noexec", "nodev", "rw"]
            } else {
                &["nosuid", "noexec", "nodev", "ro"]
            },
        )?,
        // containerd's CRI gives every container its cgroups here, read-only unless
        // privileged: a program reads its own limits (memory.limit_in_bytes, memory.max),
        // never its pod's or the host's (see runtime::cgroup_mount on v1 hosts).
        mount(
            "/sys/fs/cgroup",
            "cgroup",
            Path::new("cgroup"),
            if inputs.privileges.privileged {
                &["nosuid", "noexec", "nodev", "relatime", "rw"]
            } else {
                &["nosuid", "noexec", "nodev", "relatime", "ro"]
            },
        )?,
        mount(
            "/etc/hosts",
            "bind",
            &p.etc_file("etc-hosts"),
            &["rbind", "rprivate"],
        )?,
        mount(
            "/etc/hostname",
            "bind",
            &p.etc_file("hostname"),
            &["rbind", "rprivate"],
        )?,
        mount(
            "/etc/resolv.conf",
            "bind",
            &p.etc_file("resolv.conf"),
            &["rbind", "rprivate"],
        )?,
    ];
    // The container's last words: a host file bound on terminationMessagePath.
    let message_path = inputs
        .container
        .termination_message_path
        .clone()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "/dev/termination-log".into());
    out.push(mount(
        &message_path,
        "bind",
        &super::termination_message::host_file(p, &inputs.container.name),
        &["rbind", "rprivate"],
    )?);
    let mut volume_mounts: Vec<_> = inputs
        .container
        .volume_mounts
        .iter()
        .flatten()
        .enumerate()
        .collect();
    volume_mounts.sort_by_key(|(_, m)| Path::new(&m.mount_path).components().count());
    for (index, vm) in volume_mounts {
        let base = inputs
            .volume_sources
            .get(&vm.name)
            .with_context(|| format!("volume {} has no host path", vm.name))?;
        // A subPath is mounted from where the caller pinned it, never by its own path.
        let source = match vm.sub_path.as_deref() {
            Some(sub) if !sub.is_empty() => inputs
                .sub_paths
                .source(index)
                .with_context(|| format!("subPath {sub:?} of volume {} was not opened", vm.name))?,
            _ => base.clone(),
        };
        let options: &[&str] = if vm.read_only == Some(true) {
            &["rbind", "rprivate", "ro"]
        } else {
            &["rbind", "rprivate"]
        };
        out.push(mount(&vm.mount_path, "bind", &source, options)?);
    }
    Ok(out)
}
