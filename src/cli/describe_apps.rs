//! `describe deploy|rs|ds NAME`: kubectl's pages for the controller kinds (Replicas,
//! StrategyType, RollingUpdateStrategy, Pod Template, Conditions, OldReplicaSets,
//! NewReplicaSet, Events).

use super::describe::{events_section_from, human_time, table, volume};
use super::Context;
use crate::api::apps::{selector, AppsKind, AppsObject};
use crate::controllers::observed::{controller_of, World};
use crate::controllers::{deployment, manager, store};
use crate::pod::status::Phase;
use anyhow::Result;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;
use std::fmt::Write as _;

pub fn run(ctx: &Context, kind: AppsKind, namespace: &str, names: &[String]) -> Result<i32> {
    let all: Vec<AppsObject> = store::list(&ctx.state, kind)?
        .into_iter()
        .filter(|o| o.namespace() == namespace)
        .collect();
    let world = manager::observe(&ctx.state)?;
    let mut pages = Vec::new();
    let mut code = 0;
    let chosen: Vec<&AppsObject> = if names.is_empty() {
        all.iter().collect()
    } else {
        let mut chosen = Vec::new();
        for n in names {
            match all.iter().find(|o| o.name() == n) {
                Some(o) => chosen.push(o),
                None => {
                    eprintln!(
                        "Error from server (NotFound): {}.apps \"{n}\" not found",
                        kind.plural()
                    );
                    code = 1;
                }
            }
        }
        chosen
    };
    for o in chosen {
        pages.push(page(ctx, o, &world));
    }
    print!("{}", pages.join("\n\n"));
    if names.is_empty() && pages.is_empty() {
        eprintln!("No resources found in {namespace} namespace.");
    }
    Ok(code)
}

fn line(out: &mut String, width: usize, key: &str, value: &str) {
    let text = format!("{:<width$}{value}", format!("{key}:"));
    let _ = writeln!(out, "{}", text.trim_end());
}

fn map_lines(
    out: &mut String,
    width: usize,
    key: &str,
    map: Option<&BTreeMap<String, String>>,
    sep: &str,
) {
    let map = map.cloned().unwrap_or_default();
    if map.is_empty() {
        line(out, width, key, "<none>");
        return;
    }
    for (i, (k, v)) in map.iter().enumerate() {
        let head = if i == 0 {
            format!("{key}:")
        } else {
            String::new()
        };
        let _ = writeln!(out, "{head:<width$}{k}{sep}{v}");
    }
}

fn int_or_percent(v: Option<&IntOrString>) -> String {
    match v {
        Some(IntOrString::Int(n)) => n.to_string(),
        Some(IntOrString::String(s)) => s.clone(),
        None => "0".into(),
    }
}

/// `2 Running / 0 Waiting / 0 Succeeded / 0 Failed` of the pods a controller owns.
fn pods_status(world: &World, uid: &str) -> String {
    let mut counts = [0; 4];
    for p in world.pods.iter().filter(|p| p.owned_by(uid)) {
        let i = match p.phase {
            Phase::Running => 0,
            Phase::Pending | Phase::Unknown => 1,
            Phase::Succeeded => 2,
            Phase::Failed => 3,
        };
        counts[i] += 1;
    }
    format!(
        "{} Running / {} Waiting / {} Succeeded / {} Failed",
        counts[0], counts[1], counts[2], counts[3]
    )
}

fn page(ctx: &Context, object: &AppsObject, world: &World) -> String {
    let mut out = String::new();
    let meta = object.metadata();
    let w = match object {
        AppsObject::Deployment(_) => 24,
        _ => 16,
    };
    line(&mut out, w, "Name", object.name());
    line(&mut out, w, "Namespace", object.namespace());
    if let AppsObject::Deployment(_) = object {
        let created = meta
            .creation_timestamp
            .as_ref()
            .map(|t| human_time(&t.0.to_string()))
            .unwrap_or_default();
        line(&mut out, w, "CreationTimestamp", &created);
    }
    let sel = object.selector().map(selector::to_text).unwrap_or_default();
    if !matches!(object, AppsObject::Deployment(_)) {
        line(&mut out, w, "Selector", &sel);
    }
    if let AppsObject::DaemonSet(ds) = object {
        let ns = ds
            .spec
            .as_ref()
            .and_then(|s| s.template.spec.as_ref())
            .and_then(|s| s.node_selector.clone());
        map_lines(&mut out, w, "Node-Selector", ns.as_ref(), "=");
    }
    map_lines(&mut out, w, "Labels", meta.labels.as_ref(), "=");
    map_lines(&mut out, w, "Annotations", meta.annotations.as_ref(), ": ");
    if let Some(owner) = controller_of(meta.owner_references.as_ref()) {
        line(
            &mut out,
            w,
            "Controlled By",
            &format!("{}/{}", owner.kind, owner.name),
        );
    }
    let uid = meta.uid.clone().unwrap_or_default();
    match object {
        AppsObject::Deployment(d) => {
            let spec = d.spec.clone().unwrap_or_default();
            let st = d.status.clone().unwrap_or_default();
            line(&mut out, w, "Selector", &sel);
            let want = spec.replicas.unwrap_or(1);
            line(
                &mut out,
                w,
                "Replicas",
                &format!(
                    "{want} desired | {} updated | {} total | {} available | {} unavailable",
                    st.updated_replicas.unwrap_or(0),
                    st.replicas.unwrap_or(0),
                    st.available_replicas.unwrap_or(0),
                    st.unavailable_replicas.unwrap_or(0)
                ),
            );
            let strategy = spec.strategy.clone().unwrap_or_default();
            let kind = strategy
                .type_
                .clone()
                .unwrap_or_else(|| "RollingUpdate".into());
            line(&mut out, w, "StrategyType", &kind);
            line(
                &mut out,
                w,
                "MinReadySeconds",
                &spec.min_ready_seconds.unwrap_or(0).to_string(),
            );
            if let Some(u) = &strategy.rolling_update {
                line(
                    &mut out,
                    w,
                    "RollingUpdateStrategy",
                    &format!(
                        "{} max unavailable, {} max surge",
                        int_or_percent(u.max_unavailable.as_ref()),
                        int_or_percent(u.max_surge.as_ref())
                    ),
                );
            }
            template(&mut out, &spec.template);
            out.push_str("Conditions:\n");
            let mut rows = vec![
                ["Type", "Status", "Reason"].map(String::from).to_vec(),
                ["----", "------", "------"].map(String::from).to_vec(),
            ];
            for c in st.conditions.iter().flatten() {
                rows.push(vec![
                    c.type_.clone(),
                    c.status.clone(),
                    c.reason.clone().unwrap_or_default(),
                ]);
            }
            table(&mut out, &rows, 2);
            let (new, old) = deployment::new_and_old(d, world);
            let describe_rs = |rs: &k8s_openapi::api::apps::v1::ReplicaSet| {
                format!(
                    "{} ({}/{} replicas created)",
                    rs.metadata.name.clone().unwrap_or_default(),
                    rs.status.as_ref().map_or(0, |s| s.replicas),
                    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0)
                )
            };
            let old: Vec<String> = old
                .iter()
                .filter(|rs| {
                    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0) > 0
                        || rs.status.as_ref().is_some_and(|s| s.replicas > 0)
                })
                .map(|rs| describe_rs(rs))
                .collect();
            line(
                &mut out,
                17,
                "OldReplicaSets",
                &if old.is_empty() {
                    "<none>".into()
                } else {
                    old.join(", ")
                },
            );
            line(
                &mut out,
                17,
                "NewReplicaSet",
                &new.map(describe_rs).unwrap_or_else(|| "<none>".into()),
            );
        }
        AppsObject::ReplicaSet(rs) => {
            let spec = rs.spec.clone().unwrap_or_default();
            let st = rs.status.clone().unwrap_or_default();
            line(
                &mut out,
                w,
                "Replicas",
                &format!(
                    "{} current / {} desired",
                    st.replicas,
                    spec.replicas.unwrap_or(1)
                ),
            );
            line(&mut out, w, "Pods Status", &pods_status(world, &uid));
            if let Some(t) = &spec.template {
                template(&mut out, t);
            }
        }
        AppsObject::DaemonSet(ds) => {
            let st = ds.status.clone().unwrap_or_default();
            let _ = writeln!(
                out,
                "Desired Number of Nodes Scheduled: {}",
                st.desired_number_scheduled
            );
            let _ = writeln!(
                out,
                "Current Number of Nodes Scheduled: {}",
                st.current_number_scheduled
            );
            let _ = writeln!(
                out,
                "Number of Nodes Scheduled with Up-to-date Pods: {}",
                st.updated_number_scheduled.unwrap_or(0)
            );
            let _ = writeln!(
                out,
                "Number of Nodes Scheduled with Available Pods: {}",
                st.number_available.unwrap_or(0)
            );
            let _ = writeln!(
                out,
                "Number of Nodes Misscheduled: {}",
                st.number_misscheduled
            );
            line(&mut out, 14, "Pods Status", &pods_status(world, &uid));
            if let Some(spec) = &ds.spec {
                template(&mut out, &spec.template);
            }
        }
    }
    let from = match object.kind() {
        AppsKind::Deployment => "deployment-controller",
        AppsKind::ReplicaSet => "replicaset-controller",
        AppsKind::DaemonSet => "daemonset-controller",
    };
    let events = store::events(&ctx.state, object.kind(), object.namespace(), object.name());
    events_section_from(&mut out, &events, Some(from));
    out
}

/// `Pod Template:` as kubectl prints it.
fn template(out: &mut String, t: &PodTemplateSpec) {
    out.push_str("Pod Template:\n");
    let meta = t.metadata.clone().unwrap_or_default();
    let labels = meta.labels.clone().unwrap_or_default();
    let mut first = true;
    if labels.is_empty() {
        out.push_str("  Labels:  <none>\n");
    }
    for (k, v) in &labels {
        let head = if first { "  Labels:  " } else { "           " };
        first = false;
        let _ = writeln!(out, "{head}{k}={v}");
    }
    if let Some(a) = meta.annotations.as_ref().filter(|a| !a.is_empty()) {
        for (i, (k, v)) in a.iter().enumerate() {
            let head = if i == 0 {
                "  Annotations:  "
            } else {
                "                "
            };
            let _ = writeln!(out, "{head}{k}: {v}");
        }
    }
    let spec = t.spec.clone().unwrap_or_default();
    let sections = [
        (
            "Init Containers",
            spec.init_containers.clone().unwrap_or_default(),
        ),
        ("Containers", spec.containers.clone()),
    ];
    for (title, containers) in sections {
        if containers.is_empty() {
            continue;
        }
        let _ = writeln!(out, "  {title}:");
        for c in &containers {
            let _ = writeln!(out, "   {}:", c.name);
            let field = |out: &mut String, key: &str, value: &str| {
                let text = format!("    {:<14}{value}", format!("{key}:"));
                let _ = writeln!(out, "{}", text.trim_end());
            };
            field(out, "Image", c.image.as_deref().unwrap_or(""));
            let ports = c.ports.clone().unwrap_or_default();
            let show = |n: i32, proto: &Option<String>| {
                format!("{n}/{}", proto.as_deref().unwrap_or("TCP"))
            };
            if ports.is_empty() {
                field(out, "Port", "<none>");
                field(out, "Host Port", "<none>");
            } else {
                let list: Vec<String> = ports
                    .iter()
                    .map(|p| show(p.container_port, &p.protocol))
                    .collect();
                field(out, "Port", &list.join(", "));
                let hosts: Vec<String> = ports
                    .iter()
                    .map(|p| show(p.host_port.unwrap_or(0), &p.protocol))
                    .collect();
                field(out, "Host Port", &hosts.join(", "));
            }
            for (key, words) in [("Command", &c.command), ("Args", &c.args)] {
                if let Some(words) = words.as_ref().filter(|w| !w.is_empty()) {
                    let _ = writeln!(out, "    {key}:");
                    for w in words {
                        let _ = writeln!(out, "      {w}");
                    }
                }
            }
            let env = c.env.clone().unwrap_or_default();
            if env.is_empty() {
                field(out, "Environment", "<none>");
            } else {
                out.push_str("    Environment:\n");
                for e in &env {
                    let _ = writeln!(
                        out,
                        "      {}:  {}",
                        e.name,
                        e.value.clone().unwrap_or_default()
                    );
                }
            }
            let mounts = c.volume_mounts.clone().unwrap_or_default();
            if mounts.is_empty() {
                field(out, "Mounts", "<none>");
            } else {
                out.push_str("    Mounts:\n");
                for m in &mounts {
                    let mode = if m.read_only == Some(true) {
                        "ro"
                    } else {
                        "rw"
                    };
                    let _ = writeln!(out, "      {} from {} ({mode})", m.mount_path, m.name);
                }
            }
        }
    }
    let volumes = spec.volumes.clone().unwrap_or_default();
    if volumes.is_empty() {
        out.push_str("  Volumes:         <none>\n");
    } else {
        out.push_str("  Volumes:\n");
        for v in &volumes {
            let mut text = String::new();
            volume(&mut text, v);
            for (i, l) in text.lines().enumerate() {
                let pad = if i == 0 { " " } else { "" };
                let _ = writeln!(out, "{pad}{l}");
            }
        }
    }
    let node = super::label_cells::joined_or_none(spec.node_selector.as_ref());
    let _ = writeln!(out, "  Node-Selectors:  {node}");
    out.push_str("  Tolerations:     <none>\n");
}
