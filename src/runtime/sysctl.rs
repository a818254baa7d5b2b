//! The spec's `linux.sysctl`: kernel parameters written into the container's own
//! namespaces, once they exist and before anything of the container runs (runc writes
//! them at the same point). Only parameters a namespace holds are accepted, and only
//! when the spec gives that namespace: `net.*` needs a network namespace; `kernel.shm*`,
//! `kernel.msg*`, `kernel.sem` and `fs.mqueue.*` an IPC one; `kernel.hostname` and
//! `kernel.domainname` a UTS one. Anything else would change the host.
//!
//! `/proc/sys/net` and the IPC parameters answer for the namespaces of the process
//! that writes them, so the host's /proc (still mounted here) reaches the new ones.

use super::error::{Error, ProcessError};
use super::kernel::kernel;
use super::namespaces::Plan;
use nix::sched::CloneFlags;
use oci_spec::runtime::LinuxNamespaceType;
use std::collections::HashMap;
use std::path::PathBuf;

/// The namespace that holds `name` (dotted), if any.
pub fn namespace_of(name: &str) -> Option<LinuxNamespaceType> {
    if name.starts_with("net.") {
        Some(LinuxNamespaceType::Network)
    } else if name.starts_with("kernel.shm")
        || name.starts_with("kernel.msg")
        || name == "kernel.sem"
        || name.starts_with("fs.mqueue.")
    {
        Some(LinuxNamespaceType::Ipc)
    } else if name == "kernel.hostname" || name == "kernel.domainname" {
        Some(LinuxNamespaceType::Uts)
    } else {
        None
    }
}

/// kubelet's NormalizeName: `net/ipv4/ip_forward` is `net.ipv4.ip_forward` (in the
/// slash form a dot belongs to a name, as in `net/ipv4/conf/eth0.100/forwarding`).
pub fn normalize(name: &str) -> String {
    match name.find(['.', '/']) {
        Some(i) if name.as_bytes()[i] == b'/' => name
            .chars()
            .map(|c| match c {
                '/' => '.',
                '.' => '/',
                c => c,
            })
            .collect(),
        _ => name.to_string(),
    }
}

/// `/proc/sys/...` for a dotted name; None for a name that could leave /proc/sys.
pub fn proc_path(name: &str) -> Option<PathBuf> {
    let parts: Vec<&str> = name.split('.').collect();
    let bad = |p: &&str| {
        p.is_empty()
            || !p
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '/'))
            || p.split('/').any(|s| s.is_empty() || s == "..")
    };
    if parts.iter().any(bad) {
        return None;
    }
    // A `/` inside a part is a dot of an interface name (eth0.100).
    let mut path = PathBuf::from("/proc/sys");
    for p in parts {
        path.push(p.replace('/', "."));
    }
    Some(path)
}

fn has(plan: &Plan, typ: LinuxNamespaceType) -> bool {
    let flag = match typ {
        LinuxNamespaceType::Network => CloneFlags::CLONE_NEWNET,
        LinuxNamespaceType::Ipc => CloneFlags::CLONE_NEWIPC,
        LinuxNamespaceType::Uts => CloneFlags::CLONE_NEWUTS,
        _ => return false,
    };
    plan.create.contains(flag) || plan.join.iter().any(|(t, _)| *t == typ)
}

/// Write every parameter, in name order; the first that cannot be written stops the
/// container.
pub fn write_all(sysctls: Option<&HashMap<String, String>>, plan: &Plan) -> Result<(), Error> {
    let Some(sysctls) = sysctls else {
        return Ok(());
    };
    let mut names: Vec<&String> = sysctls.keys().collect();
    names.sort();
    for raw in names {
        let name = normalize(raw);
        let refuse = |why: &str| {
            Error::Process(ProcessError::Failed {
                what: format!("sysctl {raw}: {why}"),
                errno: nix::errno::Errno::EPERM.into(),
            })
        };
        let Some(typ) = namespace_of(&name) else {
            return Err(refuse("not namespaced: it would change the host"));
        };
        if !has(plan, typ) {
            return Err(refuse("the container has no namespace of its own for it"));
        }
        let path = proc_path(&name).ok_or_else(|| refuse("not a sysctl name"))?;
        let value = sysctls.get(raw).cloned().unwrap_or_default();
        kernel()
            .write(&path, &value, "a pod sysctl, in the pod's own namespace")
            .map_err(|errno| {
                Error::Process(ProcessError::Failed {
                    what: format!("sysctl {raw}={value} ({})", path.display()),
                    errno: errno.into(),
                })
            })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_normalize_and_stay_in_proc_sys() {
        assert_eq!(normalize("net/ipv4/ip_forward"), "net.ipv4.ip_forward");
        assert_eq!(
            normalize("net/ipv4/conf/eth0.100/forwarding"),
            "net.ipv4.conf.eth0/100.forwarding"
        );
        assert_eq!(
            proc_path("net.ipv4.conf.eth0/100.forwarding").unwrap(),
            PathBuf::from("/proc/sys/net/ipv4/conf/eth0.100/forwarding")
        );
        assert!(proc_path("net.ipv4.x/../../etc").is_none());
        assert!(proc_path("net..x").is_none());
        assert_eq!(
            namespace_of("kernel.shm_rmid_forced"),
            Some(LinuxNamespaceType::Ipc)
        );
        assert_eq!(namespace_of("vm.swappiness"), None);
        assert_eq!(namespace_of("kernel.panic"), None);
    }

    #[test]
    fn the_host_is_never_written() {
        let swappiness = std::fs::read_to_string("/proc/sys/vm/swappiness").unwrap();
        let somaxconn = std::fs::read_to_string("/proc/sys/net/core/somaxconn").unwrap();
        let host_only = Plan {
            join: Vec::new(),
            create: CloneFlags::empty(),
            user: None,
        };
        let one = |k: &str, v: &str| Some([(k.to_string(), v.to_string())].into_iter().collect());
        let err = write_all(one("vm.swappiness", "1").as_ref(), &host_only).unwrap_err();
        assert!(
            err.to_string()
                .contains("not namespaced: it would change the host"),
            "{err}"
        );
        // net.* without a network namespace of its own is the host's too.
        let err = write_all(one("net.core.somaxconn", "7").as_ref(), &host_only).unwrap_err();
        assert!(err.to_string().contains("no namespace of its own"), "{err}");
        assert_eq!(
            std::fs::read_to_string("/proc/sys/vm/swappiness").unwrap(),
            swappiness
        );
        assert_eq!(
            std::fs::read_to_string("/proc/sys/net/core/somaxconn").unwrap(),
            somaxconn
        );
    }
}
