//! The namespace table: for each process of the pod and each namespace type, the
//! namespace's inode as the kernel reports it in `/proc/PID/ns/*`, and whether it is
//! the pod's (the same as the infra's), the container's own, or the host's.

use super::members::{Member, Role};
use super::procfs::{ns_inode, NS_KINDS};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mark {
    /// The same as the infra process's: the pod's namespace.
    Shared,
    /// Neither the infra's nor the host's: this process's own.
    Own,
    /// The same as the host's (minipod's own process).
    Host,
    /// The infra's own mount namespace is its supervisor's (the shim unshared it).
    Shim,
    /// The kernel does not show this namespace (gone, or type not supported).
    Unknown,
}

impl Mark {
    pub fn word(self) -> &'static str {
        match self {
            Mark::Shared => "shared",
            Mark::Own => "own",
            Mark::Host => "host",
            Mark::Shim => "shim",
            Mark::Unknown => "?",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    pub kind: &'static str,
    pub inode: Option<u64>,
    pub mark: Mark,
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub who: String,
    pub pid: i32,
    pub cells: Vec<Cell>,
}

/// One row per member. `supervisor` is the shim's PID (its mount namespace is the one
/// the infra process runs in).
pub fn rows(members: &[Member], supervisor: Option<i32>) -> Vec<Row> {
    let host: Vec<Option<u64>> = NS_KINDS.iter().map(|k| ns_inode("self", k)).collect();
    let of = |pid: i32| -> Vec<Option<u64>> {
        NS_KINDS
            .iter()
            .map(|k| ns_inode(&pid.to_string(), k))
            .collect()
    };
    let infra = members
        .iter()
        .find(|m| m.role == Role::Infra)
        .map(|m| of(m.pid));
    let shim = supervisor.map(of);
    members
        .iter()
        .map(|m| {
            let mine = of(m.pid);
            let cells = NS_KINDS
                .iter()
                .enumerate()
                .map(|(i, kind)| {
                    let inode = mine[i];
                    let same = |other: &Option<Vec<Option<u64>>>| {
                        other.as_ref().and_then(|o| o[i]).is_some()
                            && other.as_ref().map(|o| o[i]) == Some(inode)
                    };
                    let mark = if inode.is_none() {
                        Mark::Unknown
                    } else if inode == host[i] {
                        Mark::Host
                    } else if m.role != Role::Infra && same(&infra) {
                        Mark::Shared
                    } else if m.role == Role::Infra && same(&shim) {
                        Mark::Shim
                    } else {
                        Mark::Own
                    };
                    Cell { kind, inode, mark }
                })
                .collect();
            Row {
                who: label(m),
                pid: m.pid,
                cells,
            }
        })
        .collect()
}

/// How a member is named in the tables: `infra`, `nginx`, `init:setup`, `exec:sh@nginx`.
pub fn label(m: &Member) -> String {
    match &m.role {
        Role::Infra | Role::Container => m.who.clone(),
        Role::InitContainer => format!("init:{}", m.who),
        Role::Exec { container } => format!("exec:{}@{container}", m.who),
    }
}
