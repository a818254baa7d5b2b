//! Namespaces of a new container: some joined by path (the pod's, held by the infra
//! process), the others created new.

use super::error::NamespaceError;
use super::kernel::kernel;
use nix::fcntl::OFlag;
use nix::sched::CloneFlags;
use nix::sys::stat::Mode;
use oci_spec::runtime::{LinuxNamespace, LinuxNamespaceType};
use std::collections::HashSet;
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;

pub fn clone_flag(typ: LinuxNamespaceType) -> CloneFlags {
    match typ {
        LinuxNamespaceType::Mount => CloneFlags::CLONE_NEWNS,
        LinuxNamespaceType::Cgroup => CloneFlags::CLONE_NEWCGROUP,
        LinuxNamespaceType::Uts => CloneFlags::CLONE_NEWUTS,
        LinuxNamespaceType::Ipc => CloneFlags::CLONE_NEWIPC,
        LinuxNamespaceType::User => CloneFlags::CLONE_NEWUSER,
        LinuxNamespaceType::Pid => CloneFlags::CLONE_NEWPID,
        LinuxNamespaceType::Network => CloneFlags::CLONE_NEWNET,
        LinuxNamespaceType::Time => CloneFlags::from_bits_retain(libc::CLONE_NEWTIME),
    }
}

/// The `/proc/PID/ns/<name>` file name of a namespace type.
pub fn proc_name(typ: LinuxNamespaceType) -> &'static str {
    match typ {
        LinuxNamespaceType::Mount => "mnt",
        LinuxNamespaceType::Cgroup => "cgroup",
        LinuxNamespaceType::Uts => "uts",
        LinuxNamespaceType::Ipc => "ipc",
        LinuxNamespaceType::User => "user",
        LinuxNamespaceType::Pid => "pid",
        LinuxNamespaceType::Network => "net",
        LinuxNamespaceType::Time => "time",
    }
}

/// The spec's namespaces, split into those to join (with their paths) and the flags
/// of those to create. Checks the OCI rules: a path is absolute, a type appears once.
pub struct Plan {
    pub join: Vec<(LinuxNamespaceType, PathBuf)>,
    pub create: CloneFlags,
    /// The user namespace, kept apart: it is created first (see `userns`) or joined
    /// last, once everything that needs the host's privileges is done.
    pub user: Option<super::userns::UserPlan>,
}

pub fn plan(namespaces: &[LinuxNamespace]) -> Result<Plan, NamespaceError> {
    let mut seen = HashSet::new();
    let mut join = Vec::new();
    let mut create = CloneFlags::empty();
    let mut user = None;
    for ns in namespaces {
        let name = proc_name(ns.typ());
        if !seen.insert(name) {
            return Err(NamespaceError::Duplicate { name: name.into() });
        }
        if ns.typ() == LinuxNamespaceType::User {
            user = Some(match ns.path() {
                Some(path) if !path.is_absolute() => {
                    return Err(NamespaceError::RelativePath {
                        name: name.into(),
                        path: path.clone(),
                    })
                }
                Some(path) => super::userns::UserPlan::Join(path.clone()),
                None => super::userns::UserPlan::Create,
            });
            continue;
        }
        match ns.path() {
            Some(path) if !path.is_absolute() => {
                return Err(NamespaceError::RelativePath {
                    name: name.into(),
                    path: path.clone(),
                })
            }
            Some(path) => join.push((ns.typ(), path.clone())),
            None => create |= clone_flag(ns.typ()),
        }
    }
    Ok(Plan { join, create, user })
}

/// Join every namespace of the plan. All files are opened first: once a namespace is
/// joined, a path may mean something else (and after joining a mount namespace the
/// host's files may be gone).
pub fn join_all(plan: &Plan) -> Result<(), NamespaceError> {
    let mut opened: Vec<(LinuxNamespaceType, PathBuf, OwnedFd)> = Vec::new();
    for (typ, path) in &plan.join {
        let fd = nix::fcntl::open(path, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())
            .map_err(|errno| NamespaceError::Open {
                path: path.clone(),
                errno: errno.into(),
            })?;
        opened.push((*typ, path.clone(), fd));
    }
    // A mount namespace, if any, is joined last.
    opened.sort_by_key(|(typ, _, _)| *typ == LinuxNamespaceType::Mount);
    for (typ, path, fd) in &opened {
        let why = match typ {
            LinuxNamespaceType::Network => "join the pod's network: same IP, same localhost",
            LinuxNamespaceType::Ipc => "join the pod's IPC: SysV and POSIX queues shared",
            LinuxNamespaceType::Uts => "join the pod's hostname",
            LinuxNamespaceType::Pid => "shareProcessNamespace: see the pod's processes",
            _ => "join a namespace of the pod",
        };
        kernel()
            .setns(fd.as_fd(), path, clone_flag(*typ), why)
            .map_err(|errno| NamespaceError::Setns {
                path: path.clone(),
                errno: errno.into(),
            })?;
    }
    Ok(())
}

/// Words for a set of clone flags: `NEWNS|NEWPID`.
pub fn describe(flags: CloneFlags) -> String {
    let names = [
        (CloneFlags::CLONE_NEWNS, "NEWNS"),
        (CloneFlags::CLONE_NEWPID, "NEWPID"),
        (CloneFlags::CLONE_NEWNET, "NEWNET"),
        (CloneFlags::CLONE_NEWIPC, "NEWIPC"),
        (CloneFlags::CLONE_NEWUTS, "NEWUTS"),
        (CloneFlags::CLONE_NEWCGROUP, "NEWCGROUP"),
        (CloneFlags::CLONE_NEWUSER, "NEWUSER"),
        (CloneFlags::from_bits_retain(libc::CLONE_NEWTIME), "NEWTIME"),
    ];
    names
        .iter()
        .filter(|(flag, _)| flags.contains(*flag))
        .map(|(_, name)| *name)
        .collect::<Vec<_>>()
        .join("|")
}

/// The namespaces a pod's infra makes for the whole pod, with the words narration
/// uses for each.
const POD_LEVEL: [(CloneFlags, LinuxNamespaceType, &str); 3] = [
    (
        CloneFlags::CLONE_NEWNET,
        LinuxNamespaceType::Network,
        "network",
    ),
    (CloneFlags::CLONE_NEWIPC, LinuxNamespaceType::Ipc, "IPC"),
    (
        CloneFlags::CLONE_NEWUTS,
        LinuxNamespaceType::Uts,
        "hostname",
    ),
];

/// The pod-level namespaces (network, IPC, UTS) the plan creates.
pub fn pod_level(plan: &Plan) -> CloneFlags {
    POD_LEVEL
        .iter()
        .fold(CloneFlags::empty(), |all, (flag, _, _)| all | *flag)
        & plan.create
}

/// `a`, `a and b`, `a, b and c`.
fn listed(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Why the pod-level namespaces are unshared, read from the plan: which of the pod's
/// network, IPC and hostname are born here, and which stay the host's because the
/// spec neither creates nor joins them (hostNetwork, hostIPC).
pub fn pod_level_why(plan: &Plan) -> String {
    let born = pod_level(plan);
    let joined = |typ: LinuxNamespaceType| plan.join.iter().any(|(t, _)| *t == typ);
    let made: Vec<&str> = POD_LEVEL
        .iter()
        .filter(|(flag, _, _)| born.contains(*flag))
        .map(|(_, _, word)| *word)
        .collect();
    let kept: Vec<&str> = POD_LEVEL
        .iter()
        .filter(|(flag, typ, _)| !born.contains(*flag) && !joined(*typ))
        .map(|(_, _, word)| *word)
        .collect();
    let verb = |words: &[&str], one: &'static str, many: &'static str| {
        if words.len() == 1 {
            one
        } else {
            many
        }
    };
    let mut why = format!(
        "the pod's {} {} born here",
        listed(&made),
        verb(&made, "is", "are")
    );
    if !kept.is_empty() {
        why.push_str(&format!(
            "; {} {} the host's",
            listed(&kept),
            verb(&kept, "stays", "stay")
        ));
    }
    why
}

/// Why a container's own namespaces (those not made for the pod) are unshared, read
/// from the flags; `fork_needed` when the container's first process must be a child
/// (a PID namespace, new or joined, takes effect for children only).
pub fn own_why(own: CloneFlags, fork_needed: bool) -> String {
    let mut parts = Vec::new();
    if own.contains(CloneFlags::CLONE_NEWNS) {
        parts.push("a filesystem view of its own");
    }
    if own.contains(CloneFlags::CLONE_NEWPID) {
        parts.push("its own PID 1");
    }
    if own.contains(CloneFlags::CLONE_NEWCGROUP) {
        parts.push("its own cgroup as its root");
    }
    if own.contains(CloneFlags::from_bits_retain(libc::CLONE_NEWTIME)) {
        parts.push("its own clocks");
    }
    for (flag, _, word) in POD_LEVEL {
        if own.contains(flag) {
            parts.push(match word {
                "network" => "a network of its own",
                "IPC" => "IPC of its own",
                _ => "a hostname of its own",
            });
        }
    }
    let mut why = listed(&parts);
    if fork_needed {
        why.push_str(if own.contains(CloneFlags::CLONE_NEWPID) {
            " (a new PID namespace takes effect for children)"
        } else {
            " (the joined PID namespace takes effect for children)"
        });
    }
    why
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(typ: LinuxNamespaceType, path: Option<&str>) -> LinuxNamespace {
        let mut n = LinuxNamespace::default();
        n.set_typ(typ);
        n.set_path(path.map(PathBuf::from));
        n
    }

    fn why(types: &[LinuxNamespaceType]) -> String {
        let all: Vec<LinuxNamespace> = types.iter().map(|t| ns(*t, None)).collect();
        pod_level_why(&plan(&all).unwrap())
    }

    #[test]
    fn the_infra_narration_names_what_its_flags_make_and_what_stays_the_hosts() {
        use LinuxNamespaceType::*;
        assert_eq!(
            why(&[Network, Ipc, Uts, Mount]),
            "the pod's network, IPC and hostname are born here"
        );
        // hostIPC
        assert_eq!(
            why(&[Network, Uts, Mount]),
            "the pod's network and hostname are born here; IPC stays the host's"
        );
        // hostNetwork (the host's UTS too, as containerd does it)
        assert_eq!(
            why(&[Ipc, Mount]),
            "the pod's IPC is born here; network and hostname stay the host's"
        );
        // hostNetwork and hostIPC
        assert_eq!(
            pod_level(&plan(&[ns(Mount, None)]).unwrap()),
            CloneFlags::empty()
        );
    }

    #[test]
    fn a_containers_own_namespaces_are_told_from_its_flags() {
        let own = CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWPID | CloneFlags::CLONE_NEWCGROUP;
        assert_eq!(
            own_why(own, true),
            "a filesystem view of its own, its own PID 1 and its own cgroup as its root \
             (a new PID namespace takes effect for children)"
        );
        // shareProcessNamespace: the pod's PID namespace is joined, not made.
        assert_eq!(
            own_why(CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWCGROUP, true),
            "a filesystem view of its own and its own cgroup as its root \
             (the joined PID namespace takes effect for children)"
        );
        // hostPID
        assert_eq!(
            own_why(CloneFlags::CLONE_NEWNS, false),
            "a filesystem view of its own"
        );
    }
}
