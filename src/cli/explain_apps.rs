//! `explain deployment|rs|ds NAME`: the ownership tree the controllers keep, read
//! from the records and the kernel now: Deployment → ReplicaSets (revision, desired,
//! image) → Pods (phase, supervisor, infra PID and its namespaces) → containers.

use super::Context;
use crate::api::apps::{AppsKind, AppsObject};
use crate::controllers::observed::controller_of;
use crate::controllers::{deployment, manager, store};
use crate::pod::record::{self, StoredPod};
use anyhow::{bail, Result};

fn ns_link(pid: i32, ns: &str) -> String {
    std::fs::read_link(format!("/proc/{pid}/ns/{ns}"))
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| format!("{ns}:?"))
}

fn owned_by<'a>(uid: &str, pods: &'a [StoredPod]) -> Vec<&'a StoredPod> {
    pods.iter()
        .filter(|p| {
            controller_of(p.record.pod.metadata.owner_references.as_ref())
                .is_some_and(|o| o.uid == uid)
        })
        .collect()
}

fn pod_lines(out: &mut Vec<String>, pods: &[&StoredPod], indent: &str) {
    for (i, p) in pods.iter().enumerate() {
        let last = i + 1 == pods.len();
        let (branch, more) = if last {
            ("└─ ", "   ")
        } else {
            ("├─ ", "│  ")
        };
        let status = super::get::truthful_status(p);
        let mut line = format!("{indent}{branch}Pod/{}  {}", p.record.name(), status.phase);
        if let Some(s) = status.supervisor {
            line.push_str(&format!("  supervisor PID {}", s.pid));
        }
        out.push(line);
        if let Some(infra) = status.infra.filter(|i| i.is_alive()) {
            out.push(format!(
                "{indent}{more}├─ infra PID {}  {} {} {}",
                infra.pid,
                ns_link(infra.pid, "net"),
                ns_link(infra.pid, "ipc"),
                ns_link(infra.pid, "uts")
            ));
        }
        let containers: Vec<_> = status.container_statuses.iter().collect();
        for (j, c) in containers.iter().enumerate() {
            let b = if j + 1 == containers.len() {
                "└─ "
            } else {
                "├─ "
            };
            let pid = c
                .process
                .filter(|p| p.is_alive())
                .map(|p| format!("PID {}  {}", p.pid, ns_link(p.pid, "net")))
                .unwrap_or_else(|| "not running".into());
            out.push(format!(
                "{indent}{more}{b}container {}  {}  {pid}",
                c.name, c.image
            ));
        }
    }
}

fn rs_line(rs: &AppsObject) -> String {
    let AppsObject::ReplicaSet(r) = rs else {
        return String::new();
    };
    let image = rs
        .template()
        .and_then(|t| t.spec.as_ref())
        .map(|s| {
            s.containers
                .iter()
                .map(|c| c.image.clone().unwrap_or_default())
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    format!(
        "ReplicaSet/{}  revision {}, {} desired, {} ready, {image}",
        rs.name(),
        deployment::revision(&r.metadata),
        r.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0),
        r.status
            .as_ref()
            .and_then(|s| s.ready_replicas)
            .unwrap_or(0)
    )
}

pub fn run(ctx: &Context, kind: AppsKind, namespace: &str, names: &[String]) -> Result<i32> {
    let [name] = names else {
        bail!(
            "name exactly one {}: `{} NAME`",
            kind.name(),
            kind.name().to_lowercase()
        );
    };
    let Some(object) = store::find(&ctx.state, kind, namespace, name)? else {
        bail!(
            "Error from server (NotFound): {}.apps \"{name}\" not found",
            kind.plural()
        );
    };
    let pods = record::list(&ctx.state)?;
    let mut out = Vec::new();
    let manager_line = match manager::running_pid(&ctx.state) {
        Some(pid) => format!("controller-manager PID {pid} (minipod controller-manager) keeps it"),
        None => "controller-manager not running: the next minipod command starts it".into(),
    };
    let uid = object.metadata().uid.clone().unwrap_or_default();
    match &object {
        AppsObject::Deployment(d) => {
            out.push(format!(
                "Deployment/{name}  revision {}, {} replicas  ({manager_line})",
                deployment::revision(&d.metadata),
                d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
            ));
            let sets: Vec<AppsObject> = store::list(&ctx.state, AppsKind::ReplicaSet)?
                .into_iter()
                .filter(|rs| {
                    controller_of(rs.metadata().owner_references.as_ref())
                        .is_some_and(|o| o.uid == uid)
                })
                .collect();
            let mut sets = sets;
            sets.sort_by_key(|rs| std::cmp::Reverse(deployment::revision(rs.metadata())));
            for (i, rs) in sets.iter().enumerate() {
                let last = i + 1 == sets.len();
                out.push(format!(
                    "{}{}",
                    if last { "└─ " } else { "├─ " },
                    rs_line(rs)
                ));
                let rs_uid = rs.metadata().uid.clone().unwrap_or_default();
                pod_lines(
                    &mut out,
                    &owned_by(&rs_uid, &pods),
                    if last { "   " } else { "│  " },
                );
            }
        }
        AppsObject::ReplicaSet(_) => {
            out.push(format!("{}  ({manager_line})", rs_line(&object)));
            pod_lines(&mut out, &owned_by(&uid, &pods), "");
        }
        AppsObject::DaemonSet(_) => {
            out.push(format!("DaemonSet/{name}  ({manager_line})"));
            pod_lines(&mut out, &owned_by(&uid, &pods), "");
        }
    }
    for line in out {
        println!("{line}");
    }
    Ok(0)
}
