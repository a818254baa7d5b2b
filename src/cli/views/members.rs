//! The processes that make up a running pod, as the status names them (infra and each
//! container's PID 1), plus the `exec` processes found in `/proc`: processes in a
//! container's mount namespace that are not in its PID 1's tree.

use super::procfs::{self, Proc};
use crate::pod::status::PodStatus;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub enum Role {
    Infra,
    InitContainer,
    Container,
    /// A process `minipod exec` put into this container.
    Exec {
        container: String,
    },
}

#[derive(Debug, Clone)]
pub struct Member {
    /// "infra", the container's name, or the exec'd command.
    pub who: String,
    pub role: Role,
    pub pid: i32,
}

/// Is the pod's infra process alive? Without it the pod has no namespaces to show.
pub fn infra_alive(status: &PodStatus) -> bool {
    status.infra.is_some_and(|p| p.is_alive())
}

/// The live processes of the pod: infra first, then init containers and containers
/// in the order of the manifest, then the exec'd processes.
pub fn members(status: &PodStatus, procs: &[Proc]) -> Vec<Member> {
    let mut out = Vec::new();
    if let Some(infra) = status.infra.filter(|p| p.is_alive()) {
        out.push(Member {
            who: "infra".into(),
            role: Role::Infra,
            pid: infra.pid,
        });
    }
    let live = |c: &crate::pod::status::ContainerStatus| c.process.filter(|p| p.is_alive());
    for c in &status.init_container_statuses {
        if let Some(p) = live(c) {
            out.push(Member {
                who: c.name.clone(),
                role: Role::InitContainer,
                pid: p.pid,
            });
        }
    }
    for c in &status.container_statuses {
        if let Some(p) = live(c) {
            out.push(Member {
                who: c.name.clone(),
                role: Role::Container,
                pid: p.pid,
            });
        }
    }
    let containers: Vec<Member> = out
        .iter()
        .filter(|m| m.role != Role::Infra)
        .cloned()
        .collect();
    for c in containers {
        for p in execs_in(c.pid, procs) {
            out.push(Member {
                who: p.comm.clone(),
                role: Role::Exec {
                    container: c.who.clone(),
                },
                pid: p.pid,
            });
        }
    }
    out
}

/// Processes in the mount namespace of `pid1` that are neither it nor its descendants:
/// they entered with `setns` (`minipod exec`, or its CLI process that joined first).
fn execs_in(pid1: i32, procs: &[Proc]) -> Vec<Proc> {
    let Some(mnt) = procfs::ns_inode(&pid1.to_string(), "mnt") else {
        return Vec::new();
    };
    let tree = descendants(pid1, procs);
    procs
        .iter()
        .filter(|p| p.pid != pid1 && !tree.contains(&p.pid))
        .filter(|p| procfs::ns_inode(&p.pid.to_string(), "mnt") == Some(mnt))
        .cloned()
        .collect()
}

/// PIDs of every descendant of `root` (children, their children, ...).
pub fn descendants(root: i32, procs: &[Proc]) -> Vec<i32> {
    let mut children: BTreeMap<i32, Vec<i32>> = BTreeMap::new();
    for p in procs {
        children.entry(p.ppid).or_default().push(p.pid);
    }
    let mut out = Vec::new();
    let mut todo = vec![root];
    while let Some(pid) = todo.pop() {
        for &child in children.get(&pid).map(Vec::as_slice).unwrap_or(&[]) {
            out.push(child);
            todo.push(child);
        }
    }
    out
}
