//! `describe pod NAME` / `describe -f FILE`: kubectl's human-readable page for a pod,
//! in its layout (fields, containers, conditions, volumes, QoS class, events).

use super::describe_container::{container, seccomp_line};
use super::get::{node_name, split_resource, truthful_status};
use super::Context;
use crate::api;
use crate::pod::events::{self, Event};
use crate::pod::record::{self, StoredPod};
use crate::pod::status::{ContainerState, PodStatus};
use crate::state::time;
use anyhow::{bail, Result};
use clap::Args;
use k8s_openapi::api::core::v1::{Container, Pod, Volume};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct DescribeArgs {
    /// `pod NAME...`, `pod/NAME`, or `pods` for every pod of the namespace.
    #[arg(value_name = "RESOURCE [NAME...]")]
    pub what: Vec<String>,
    /// Describe the pods a manifest names.
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[arg(short = 'n', long = "namespace", default_value = "default")]
    pub namespace: String,
}

pub fn run(ctx: &Context, args: &DescribeArgs) -> Result<i32> {
    // (namespace, name) of each pod asked for; None: every pod of the namespace.
    let wanted: Option<Vec<(String, String)>> = if !args.files.is_empty() {
        let docs = match api::load_objects(&args.files) {
            Ok(objects) => {
                let mut pods = Vec::new();
                for o in objects {
                    match o {
                        api::ApiObject::Pod(doc) => pods.push(doc),
                        api::ApiObject::Apps(doc) => {
                            let o = &doc.object;
                            let name = [o.name().to_string()];
                            super::describe_apps::run(ctx, o.kind(), o.namespace(), &name)?;
                            println!();
                        }
                    }
                }
                if pods.is_empty() {
                    return Ok(0);
                }
                pods
            }
            Err(errors) => {
                for e in &errors.0 {
                    eprintln!("error: {e}");
                }
                return Ok(1);
            }
        };
        Some(
            docs.iter()
                .map(|d| {
                    let m = &d.pod.metadata;
                    (
                        m.namespace.clone().unwrap_or_else(|| "default".into()),
                        m.name.clone().unwrap_or_default(),
                    )
                })
                .collect(),
        )
    } else {
        if args.what.is_empty() {
            bail!("You must specify the type of resource to describe. Use \"minipod describe pods\" or \"minipod describe -f FILE\"");
        }
        let (resource, names) = split_resource(&args.what)?;
        if let Some(kind) = crate::api::apps::AppsKind::from_resource(&resource) {
            return super::describe_apps::run(ctx, kind, &args.namespace, &names);
        }
        super::apply::ensure_pods(&resource)?;
        (!names.is_empty()).then(|| {
            names
                .into_iter()
                .map(|n| (args.namespace.clone(), n))
                .collect()
        })
    };
    let all = record::list(&ctx.state)?;
    let mut pages = Vec::new();
    let mut missing = Vec::new();
    match wanted {
        None => pages.extend(
            all.iter()
                .filter(|p| p.record.namespace() == args.namespace),
        ),
        Some(list) => {
            for (ns, name) in list {
                match all
                    .iter()
                    .find(|p| p.record.namespace() == ns && p.record.name() == name)
                {
                    Some(p) => pages.push(p),
                    None => missing.push(name),
                }
            }
        }
    }
    let texts: Vec<String> = pages.iter().map(|p| describe(p)).collect();
    print!("{}", texts.join("\n\n"));
    if pages.is_empty() && missing.is_empty() {
        eprintln!("No resources found in {} namespace.", args.namespace);
    }
    for n in &missing {
        eprintln!("Error from server (NotFound): pods \"{n}\" not found");
    }
    Ok(if missing.is_empty() { 0 } else { 1 })
}

/// The whole page for one pod.
pub fn describe(p: &StoredPod) -> String {
    let pod = &p.record.pod;
    let status = truthful_status(p);
    let spec = pod.spec.clone().unwrap_or_default();
    let mut out = String::new();
    let top = |out: &mut String, key: &str, value: &str| {
        let _ = writeln!(out, "{:<18}{value}", format!("{key}:"));
    };
    top(&mut out, "Name", p.record.name());
    top(&mut out, "Namespace", p.record.namespace());
    top(
        &mut out,
        "Priority",
        &spec.priority.unwrap_or(0).to_string(),
    );
    top(
        &mut out,
        "Service Account",
        spec.service_account_name.as_deref().unwrap_or("default"),
    );
    top(&mut out, "Node", &node_name());
    top(
        &mut out,
        "Start Time",
        &status
            .start_time
            .as_deref()
            .map(human_time)
            .unwrap_or_else(|| "<unset>".into()),
    );
    map_lines(&mut out, "Labels:", 18, pod.metadata.labels.as_ref());
    map_lines(
        &mut out,
        "Annotations:",
        18,
        pod.metadata.annotations.as_ref(),
    );
    top(&mut out, "Status", &pod_status_word(&status));
    if !status.message.is_empty() {
        top(&mut out, "Message", &status.message);
    }
    if !status.reason.is_empty() {
        top(&mut out, "Reason", &status.reason);
    }
    // The pod's IPs from its CNI network (kubectl: `IPs:` then `  IP:  <ip>` per line),
    // none (loopback only) as kubectl shows a pod without.
    top(&mut out, "IP", &status.pod_ip);
    if status.pod_ips.is_empty() {
        top(&mut out, "IPs", "<none>");
    } else {
        out.push_str("IPs:\n");
        for ip in &status.pod_ips {
            let _ = writeln!(out, "  IP:  {}", ip.ip);
        }
    }

    if let Some(owner) =
        crate::controllers::observed::controller_of(pod.metadata.owner_references.as_ref())
    {
        top(
            &mut out,
            "Controlled By",
            &format!("{}/{}", owner.kind, owner.name),
        );
    }
    let inits = spec.init_containers.clone().unwrap_or_default();
    if !inits.is_empty() {
        out.push_str("Init Containers:\n");
        for c in &inits {
            let st = status
                .init_container_statuses
                .iter()
                .find(|s| s.name == c.name);
            container(&mut out, c, st, &seccomp_line(p, c));
        }
    }
    out.push_str("Containers:\n");
    for c in &spec.containers {
        let st = status.container_statuses.iter().find(|s| s.name == c.name);
        container(&mut out, c, st, &seccomp_line(p, c));
    }

    out.push_str("Conditions:\n");
    let mut rows = vec![vec!["Type".to_string(), "Status".to_string()]];
    for (kind, ok) in conditions(pod, &status) {
        let word = if ok { "True" } else { "False" };
        rows.push(vec![kind.to_string(), word.to_string()]);
    }
    table(&mut out, &rows, 2);

    let vols = spec.volumes.clone().unwrap_or_default();
    if vols.is_empty() {
        out.push_str("Volumes:                     <none>\n");
    } else {
        out.push_str("Volumes:\n");
        for v in &vols {
            volume(&mut out, v);
        }
    }
    let _ = writeln!(out, "{:<29}{}", "QoS Class:", qos_class(pod));
    map_lines(&mut out, "Node-Selectors:", 29, spec.node_selector.as_ref());
    let _ = writeln!(out, "{:<29}<none>", "Tolerations:");
    events_section(&mut out, &events::load(&p.paths));
    out
}

/// `key=value` lines, the first beside the title, `<none>` when empty.
fn map_lines(out: &mut String, title: &str, width: usize, map: Option<&BTreeMap<String, String>>) {
    let map = map.cloned().unwrap_or_default();
    if map.is_empty() {
        let _ = writeln!(out, "{title:<width$}<none>");
        return;
    }
    for (i, (k, v)) in map.iter().enumerate() {
        let head = if i == 0 { title } else { "" };
        let _ = writeln!(out, "{head:<width$}{k}={v}");
    }
}

/// kubectl's STATUS line: `Terminating` while being deleted, else the phase.
fn pod_status_word(status: &PodStatus) -> String {
    if status.deletion_timestamp.is_some() {
        let since = status
            .deletion_timestamp
            .as_deref()
            .and_then(time::parse)
            .map(time::age);
        return format!(
            "Terminating (lasts {})",
            since.unwrap_or_else(|| "<unknown>".into())
        );
    }
    status.phase.to_string()
}

/// The five pod conditions kubelet reports, from what the supervisor recorded.
pub(super) fn conditions(pod: &Pod, status: &PodStatus) -> Vec<(&'static str, bool)> {
    let sandbox = status.infra.is_some_and(|i| i.is_alive());
    let spec = pod.spec.clone().unwrap_or_default();
    let init_ok = spec.init_containers.iter().flatten().all(|c| {
        let sidecar = c.restart_policy.as_deref() == Some("Always");
        status
            .init_container_statuses
            .iter()
            .find(|s| s.name == c.name)
            .is_some_and(|s| {
                if sidecar {
                    s.ready
                } else {
                    matches!(s.state, ContainerState::Terminated { exit_code: 0, .. })
                }
            })
    });
    let ready = status.phase == crate::pod::status::Phase::Running
        && !status.container_statuses.is_empty()
        && status.container_statuses.iter().all(|c| c.ready);
    vec![
        ("PodReadyToStartContainers", sandbox),
        ("Initialized", init_ok),
        ("Ready", ready),
        ("ContainersReady", ready),
        ("PodScheduled", true),
    ]
}

pub(super) fn volume(out: &mut String, v: &Volume) {
    let _ = writeln!(out, "  {}:", v.name);
    let mut rows: Vec<(&str, String)> = Vec::new();
    if let Some(e) = &v.empty_dir {
        rows.push((
            "Type",
            "EmptyDir (a temporary directory that shares a pod's lifetime)".into(),
        ));
        rows.push(("Medium", e.medium.clone().unwrap_or_default()));
        rows.push((
            "SizeLimit",
            e.size_limit
                .as_ref()
                .map(|q| q.0.clone())
                .unwrap_or_else(|| "<unset>".into()),
        ));
    } else if let Some(h) = &v.host_path {
        rows.push(("Type", "HostPath (bare host directory volume)".into()));
        rows.push(("Path", h.path.clone()));
        rows.push(("HostPathType", h.type_.clone().unwrap_or_default()));
    } else {
        rows.push(("Type", "<a volume type minipod does not describe>".into()));
    }
    let w = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 3;
    for (k, val) in rows {
        let line = format!("    {:<w$}{val}", format!("{k}:"));
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

/// BestEffort without any request or limit; Guaranteed when every container limits
/// cpu and memory with requests equal to them; Burstable otherwise.
pub fn qos_class(pod: &Pod) -> &'static str {
    let spec = pod.spec.clone().unwrap_or_default();
    let all: Vec<&Container> = spec
        .init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter())
        .collect();
    let none = all.iter().all(|c| {
        c.resources.as_ref().is_none_or(|r| {
            r.limits.as_ref().is_none_or(|l| l.is_empty())
                && r.requests.as_ref().is_none_or(|q| q.is_empty())
        })
    });
    if none {
        return "BestEffort";
    }
    let guaranteed = all.iter().all(|c| {
        let Some(r) = &c.resources else { return false };
        let limits = r.limits.clone().unwrap_or_default();
        let requests = r.requests.clone().unwrap_or_default();
        ["cpu", "memory"].iter().all(|k| {
            limits
                .get(*k)
                .is_some_and(|l| requests.get(*k).is_none_or(|q| q == l))
        })
    });
    if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

/// kubectl's Events table; repeated events are folded into `AGE (xN over SPAN)`.
fn events_section(out: &mut String, events: &[Event]) {
    events_section_from(out, events, None)
}

/// The Events table, with `from` as the FROM of every event (a controller's).
pub(super) fn events_section_from(out: &mut String, events: &[Event], from: Option<&str>) {
    if events.is_empty() {
        out.push_str("Events:                      <none>\n");
        return;
    }
    out.push_str("Events:\n");
    let mut folded: Vec<(&Event, usize, String)> = Vec::new();
    for e in events {
        match folded
            .iter_mut()
            .find(|(f, _, _)| f.kind == e.kind && f.reason == e.reason && f.message == e.message)
        {
            Some((_, n, last)) => {
                *n += 1;
                *last = e.time.clone();
            }
            None => folded.push((e, 1, e.time.clone())),
        }
    }
    let age = |t: &str| {
        time::parse(t)
            .map(time::age)
            .unwrap_or_else(|| "<unknown>".into())
    };
    let mut rows = vec![
        ["Type", "Reason", "Age", "From", "Message"]
            .map(String::from)
            .to_vec(),
        ["----", "------", "----", "----", "-------"]
            .map(String::from)
            .to_vec(),
    ];
    for (e, n, last) in folded {
        let when = if n == 1 {
            age(&e.time)
        } else {
            format!("{} (x{n} over {})", age(&last), age(&e.time))
        };
        rows.push(vec![
            e.kind.to_string(),
            e.reason.clone(),
            when,
            from.unwrap_or_else(|| events::source(e)).to_string(),
            e.message.clone(),
        ]);
    }
    table(out, &rows, 2);
}

/// Columns padded to the widest cell plus two spaces (kubectl's describe tables).
pub(super) fn table(out: &mut String, rows: &[Vec<String>], indent: usize) {
    for line in super::get::format_columns(rows, 2, indent) {
        let _ = writeln!(out, "{line}");
    }
}

/// `2026-11-23T19:17:54Z` → `Mon, 23 Nov 2026 19:17:54 +0000` (Go's RFC1123Z, which
/// kubectl describe prints).
pub fn human_time(rfc3339: &str) -> String {
    let Some(t) = time::parse(rfc3339) else {
        return rfc3339.to_string();
    };
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let whole = time::rfc3339(t); // 2026-11-23T19:17:54Z
    let (date, clock) = whole
        .trim_end_matches('Z')
        .split_once('T')
        .unwrap_or(("", ""));
    let mut parts = date.split('-');
    let (y, m, d) = (
        parts.next().unwrap_or(""),
        parts
            .next()
            .and_then(|m| m.parse::<usize>().ok())
            .unwrap_or(1),
        parts.next().unwrap_or(""),
    );
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let weekday = DAYS[((secs / 86400) % 7) as usize];
    let month = MONTHS[(m.clamp(1, 12)) - 1];
    format!("{weekday}, {d} {month} {y} {clock} +0000")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_like_kubectl_describe() {
        assert_eq!(
            human_time("2026-11-23T19:17:54Z"),
            "Mon, 23 Nov 2026 19:17:54 +0000"
        );
        assert_eq!(
            human_time("1970-01-01T00:00:00Z"),
            "Thu, 01 Jan 1970 00:00:00 +0000"
        );
    }
}
