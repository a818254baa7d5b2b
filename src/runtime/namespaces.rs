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
