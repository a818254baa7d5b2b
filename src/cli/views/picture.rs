//! What the picture of a pod shows, gathered once from the running pod: the infra
//! process with its namespaces, `lo` and hostname; the containers joined to it; the
//! init containers in order; the volumes with their host paths and mounts.
//! `picture_svg` and `picture_text` only draw this.

use super::members::{self, Member, Role};
use super::namespace_table::{self, Mark};
use super::procfs;
use super::volume_table::{self, Volume};
use crate::pod::record::StoredPod;
use crate::pod::status::{ContainerState, ContainerStatus, PodStatus};
use anyhow::Result;

#[derive(Debug, Clone)]
pub struct Infra {
    pub pid: i32,
    /// Inodes of the pod's net, ipc and uts namespaces.
    pub net: Option<u64>,
    pub ipc: Option<u64>,
    pub uts: Option<u64>,
    /// The hostname in the pod's UTS namespace.
    pub hostname: Option<String>,
    /// Network interfaces of the pod's network namespace (`/proc/PID/net/dev`).
    pub interfaces: Vec<String>,
    /// Its local IPv4 addresses (`/proc/PID/net/fib_trie`).
    pub addresses: Vec<String>,
    /// The pod's `eth0`, its addresses and the veth pair to the bridge (rtnetlink).
    pub link: Option<crate::net::links::PodLink>,
}

#[derive(Debug, Clone)]
pub struct ContainerBox {
    pub name: String,
    pub image: String,
    /// `Running`, `Waiting (ContainerCreating)`, `Terminated (Completed, exit 0)`.
    pub state: String,
    /// Host PID of its PID 1 while it runs.
    pub pid: Option<i32>,
    /// Namespace types it shares with the infra process (`net`, `ipc`, `uts`).
    pub shared: Vec<&'static str>,
    /// Namespace types of its own (`mnt`, `pid`, `cgroup`).
    pub own: Vec<&'static str>,
}

#[derive(Debug, Clone)]
pub struct Picture {
    pub name: String,
    pub phase: String,
    pub reason: String,
    /// `None` when the infra process is gone: the pod's namespaces are gone with it.
    pub infra: Option<Infra>,
    pub init_containers: Vec<ContainerBox>,
    pub containers: Vec<ContainerBox>,
    pub volumes: Vec<Volume>,
}

/// Look at the pod now. `status` is the truthful status (see `cli::get`).
pub fn gather(pod: &StoredPod, status: &PodStatus) -> Result<Picture> {
    let procs = procfs::all()?;
    let members = members::members(status, &procs);
    let rows = namespace_table::rows(&members, status.supervisor.map(|p| p.pid));
    let infra = members
        .iter()
        .find(|m| m.role == Role::Infra)
        .map(|m| infra(m, &rows));
    let spec = pod.record.pod.spec.clone().unwrap_or_default();
    let image_of = |name: &str, statuses: &[ContainerStatus]| {
        statuses
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.image.clone())
    };
    let boxes = |specs: &[k8s_openapi::api::core::v1::Container], statuses: &[ContainerStatus]| {
        specs
            .iter()
            .map(|c| {
                let st = statuses.iter().find(|s| s.name == c.name);
                let pid = st.and_then(|s| s.process.filter(|p| p.is_alive()).map(|p| p.pid));
                let row = pid.and_then(|pid| rows.iter().find(|r| r.pid == pid));
                let kinds = |mark: Mark| -> Vec<&'static str> {
                    row.map(|r| {
                        r.cells
                            .iter()
                            .filter(|c| c.mark == mark)
                            .map(|c| c.kind)
                            .collect()
                    })
                    .unwrap_or_default()
                };
                ContainerBox {
                    name: c.name.clone(),
                    image: image_of(&c.name, statuses)
                        .or_else(|| c.image.clone())
                        .unwrap_or_default(),
                    state: st
                        .map(|s| state_words(&s.state))
                        .unwrap_or_else(|| "Waiting".into()),
                    pid,
                    shared: kinds(Mark::Shared),
                    own: kinds(Mark::Own),
                }
            })
            .collect::<Vec<_>>()
    };
    Ok(Picture {
        name: pod.record.name().to_string(),
        phase: status.phase.to_string(),
        reason: status.reason.clone(),
        infra,
        init_containers: boxes(
            spec.init_containers.as_deref().unwrap_or(&[]),
            &status.init_container_statuses,
        ),
        containers: boxes(&spec.containers, &status.container_statuses),
        volumes: volume_table::volumes(pod),
    })
}

fn infra(m: &Member, rows: &[namespace_table::Row]) -> Infra {
    let inode = |kind: &str| {
        rows.iter()
            .find(|r| r.pid == m.pid)
            .and_then(|r| r.cells.iter().find(|c| c.kind == kind))
            .and_then(|c| c.inode)
    };
    Infra {
        pid: m.pid,
        net: inode("net"),
        ipc: inode("ipc"),
        uts: inode("uts"),
        hostname: hostname_in(m.pid).ok(),
        interfaces: interfaces(m.pid),
        addresses: local_addresses(m.pid),
        link: crate::net::links::pod_link(m.pid, crate::net::pod_network::IFNAME)
            .ok()
            .flatten(),
    }
}

/// A container state in a few words.
pub fn state_words(state: &ContainerState) -> String {
    match state {
        ContainerState::Running { .. } => "Running".into(),
        ContainerState::Waiting { reason, .. } => format!("Waiting ({reason})"),
        ContainerState::Terminated {
            reason, exit_code, ..
        } => format!("Terminated ({reason}, exit {exit_code})"),
    }
}

/// The hostname the kernel keeps in the UTS namespace of `pid` (the runtime visits
/// that namespace with `setns`, asks, and comes back).
pub fn hostname_in(pid: i32) -> Result<String> {
    crate::runtime::visit::hostname_in(pid)
}

/// Interface names in the network namespace of `pid` (`/proc/PID/net/dev`).
fn interfaces(pid: i32) -> Vec<String> {
    std::fs::read_to_string(format!("/proc/{pid}/net/dev"))
        .unwrap_or_default()
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(|n| n.trim().to_string())
        .collect()
}

/// Local IPv4 addresses of the network namespace of `pid`: in `fib_trie`, an address
/// line `|-- 127.0.0.1` followed by `/32 host LOCAL`. Empty while `lo` is down.
fn local_addresses(pid: i32) -> Vec<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/net/fib_trie")).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<String> = Vec::new();
    for pair in lines.windows(2) {
        if let Some(addr) = pair[0].trim().strip_prefix("|-- ") {
            if pair[1].contains("/32 host LOCAL") && !out.iter().any(|a| a == addr) {
                out.push(addr.to_string());
            }
        }
    }
    out
}

/// `eth0 10.244.0.5/16 ⇄ veth1a2b3c4d ─ bridge minipod0`: the pod's end of the
/// pair with its addresses, the host's end, the bridge it is a port of.
pub fn pair_words(link: &crate::net::links::PodLink) -> String {
    let addrs = link.global_addresses();
    format!(
        "{} {} ⇄ {} ─ bridge {}",
        link.name,
        names_or_none(&addrs, ","),
        link.host_veth.as_deref().unwrap_or("?"),
        link.bridge.as_deref().unwrap_or("none")
    )
}

/// Names joined by `sep`, or `none` when there are none (both pictures print lists so).
pub fn names_or_none<S: AsRef<str>>(items: &[S], sep: &str) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items
            .iter()
            .map(|s| s.as_ref())
            .collect::<Vec<_>>()
            .join(sep)
    }
}
