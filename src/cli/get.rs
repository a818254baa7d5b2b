//! `get pods`: kubectl's table, or the objects as JSON/YAML.

use super::label_selector::Selector;
use super::output::{custom_columns, jsonpath};
use super::Context;
use crate::cli::display;
use crate::pod::record::{self, StoredPod};
use crate::pod::status::{ContainerState, PodStatus};
use crate::state::time;
use anyhow::{bail, Result};
use clap::Args;

#[derive(Args, Debug)]
pub struct GetArgs {
    /// `pods` (or `pod`, `po`), optionally followed by names; `pod/NAME` works too.
    #[arg(required = true, value_name = "RESOURCE [NAME...]")]
    pub what: Vec<String>,
    /// Output format: wide, json, yaml, name.
    #[arg(short = 'o', long = "output")]
    pub output: Option<String>,
    /// Only pods whose labels match (`app=web`, `app!=web`, `app`, `!app`,
    /// `app in (a,b)`, `app notin (a,b)`; a comma means and).
    #[arg(short = 'l', long = "selector")]
    pub selector: Option<String>,
    /// Namespace to list.
    #[arg(short = 'n', long = "namespace", default_value = "default")]
    pub namespace: String,
    /// List pods of every namespace.
    #[arg(short = 'A', long = "all-namespaces")]
    pub all_namespaces: bool,
    /// Print the table without its header line.
    #[arg(long)]
    pub no_headers: bool,
    /// Add a LABELS column.
    #[arg(long)]
    pub show_labels: bool,
    /// Add a column with the value of this label (repeatable, or comma-separated).
    #[arg(short = 'L', long = "label-columns", value_delimiter = ',')]
    pub label_columns: Vec<String>,
    /// After listing, print a row again whenever it changes (until Ctrl-C).
    #[arg(short = 'w', long)]
    pub watch: bool,
    /// Like --watch, without the first listing.
    #[arg(long)]
    pub watch_only: bool,
    /// With -o jsonpath: a path that finds nothing prints nothing (false: an error).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "true|false")]
    pub allow_missing_template_keys: bool,
    /// Order the rows by this field (`.metadata.name`, `{.status.startTime}`).
    #[arg(long, value_name = "JSONPATH")]
    pub sort_by: Option<String>,
}

pub fn run(ctx: &Context, args: &GetArgs) -> Result<i32> {
    let (resource, names) = split_resource(&args.what)?;
    if matches!(resource.as_str(), "events" | "event" | "ev") {
        return print_events(ctx, args);
    }
    if super::namespaces::is_namespace(&resource) {
        let headers = !args.no_headers;
        return super::namespaces::get(ctx, &names, args.output.as_deref(), headers);
    }
    if let Some(selector) = &args.selector {
        if let Err(error) = Selector::parse(selector) {
            eprintln!("error: {error}");
            return Ok(1);
        }
    }
    if let Some(kind) = crate::api::apps::AppsKind::from_resource(&resource) {
        return super::get_apps::run(ctx, args, kind, &names);
    }
    if resource == "all" {
        return super::get_apps::run_all(ctx, args);
    }
    if resource.contains(',') && (args.watch || args.watch_only) {
        // kubectl's watch follows one kind of object at a time.
        bail!("you may only specify a single resource type");
    }
    if resource.contains(',') && names.is_empty() {
        return super::get_apps::run_list(ctx, args, &resource);
    }
    super::apply::ensure_pods(&resource)?;
    if args.watch || args.watch_only {
        return super::watch::run(ctx, args, &[super::watch::Watched::Pods], &names);
    }
    let (mut pods, missing) = select_pods(ctx, args, &names)?;
    if let Some(expr) = &args.sort_by {
        super::sort_by::sort_pods(&mut pods, expr)?;
    }
    let output = args.output.as_deref();
    match output {
        // kubectl prints no header over an empty table, only "No resources found".
        None | Some("wide") if pods.is_empty() => {}
        None | Some("wide") => print_columns(&table_rows(&pods, args, !args.no_headers)),
        Some("name") => pods.iter().for_each(|p| println!("pod/{}", p.record.name())),
        Some("json") | Some("yaml") => {
            let value = as_object(&pods, &names);
            if args.output.as_deref() == Some("json") {
                println!("{}", serde_json::to_string_pretty(&value)?);
            } else {
                print!("{}", super::yaml_out::to_yaml(&value));
            }
        }
        Some(o) if o.starts_with("jsonpath=") || o.starts_with("jsonpath:") => {
            print!("{}", jsonpath::render(
                    &o[9..],
                    &as_object(&pods, &names),
                    args.allow_missing_template_keys,
                )?);
        }
        Some(o) if o.starts_with("custom-columns=") => {
            let objects: Vec<serde_json::Value> = pods.iter().map(pod_object).collect();
            print_columns(&custom_columns::rows(&o[15..], &objects, !args.no_headers)?);
        }
        Some(other) => bail!("unable to match a printer suitable for the output format \"{other}\", allowed formats are: custom-columns,json,jsonpath,name,wide,yaml"),
    }
    Ok(report_not_found(
        args,
        pods.is_empty() && names.is_empty(),
        "pods",
        &missing,
    ))
}

/// kubectl's lines after a listing: "No resources found" when nothing was asked by
/// name and nothing matched, a NotFound line per missing name of `resource` (`pods`,
/// `deployments.apps`); the exit code (1 when a name was missing).
pub fn report_not_found(
    args: &GetArgs,
    none_found: bool,
    resource: &str,
    missing: &[String],
) -> i32 {
    if none_found {
        if args.all_namespaces {
            eprintln!("No resources found");
        } else {
            eprintln!("No resources found in {} namespace.", args.namespace);
        }
    }
    for n in missing {
        eprintln!("Error from server (NotFound): {resource} \"{n}\" not found");
    }
    if missing.is_empty() {
        0
    } else {
        1
    }
}

/// One object for a single named pod, else a List, as the API server answers.
fn as_object(pods: &[StoredPod], names: &[String]) -> serde_json::Value {
    one_or_list(pods.iter().map(pod_object).collect(), names)
}

/// The object itself when one name was asked and found, else a List of them.
pub fn one_or_list(objects: Vec<serde_json::Value>, names: &[String]) -> serde_json::Value {
    if names.len() == 1 && objects.len() == 1 {
        objects.into_iter().next().unwrap_or_default()
    } else {
        serde_json::json!({"apiVersion": "v1", "kind": "List", "items": objects, "metadata": {"resourceVersion": ""}})
    }
}

/// The pods asked for (namespace, selector, names), with their truthful status, and
/// the names that were not found.
pub(super) fn select_pods(
    ctx: &Context,
    args: &GetArgs,
    names: &[String],
) -> Result<(Vec<StoredPod>, Vec<String>)> {
    let mut pods: Vec<StoredPod> = record::list(&ctx.state)?
        .into_iter()
        .filter(|p| args.all_namespaces || p.record.namespace() == args.namespace)
        .collect();
    if let Some(selector) = &args.selector {
        let selector = Selector::parse(selector).map_err(|error| anyhow::anyhow!(error))?;
        pods.retain(|p| {
            let labels = p.record.pod.metadata.labels.clone().unwrap_or_default();
            selector.matches(&labels)
        });
    }
    let mut missing = Vec::new();
    if !names.is_empty() {
        for n in names {
            if !pods.iter().any(|p| p.record.name() == n) {
                missing.push(n.clone());
            }
        }
        pods.retain(|p| names.iter().any(|n| n == p.record.name()));
    }
    for p in &mut pods {
        p.status = Some(truthful_status(p));
    }
    Ok((pods, missing))
}

/// `pods a b`, `pod/a`, `pods/a`.
pub fn split_resource(what: &[String]) -> Result<(String, Vec<String>)> {
    let first = what.first().cloned().unwrap_or_default();
    if let Some((res, name)) = first.split_once('/') {
        let mut names = vec![name.to_string()];
        names.extend(what[1..].iter().cloned());
        return Ok((res.to_string(), names));
    }
    Ok((first, what[1..].to_vec()))
}

/// The status as the supervisor wrote it, unless the supervisor is gone while the pod
/// was not finished: then nobody knows, and the pod is `Unknown`.
pub fn truthful_status(p: &StoredPod) -> PodStatus {
    let Some(mut status) = p.status.clone() else {
        return PodStatus {
            phase: crate::pod::status::Phase::Pending,
            reason: String::new(),
            message: String::new(),
            start_time: None,
            deletion_timestamp: None,
            supervisor: None,
            infra: None,
            qos_class: String::new(),
            init_container_statuses: vec![],
            container_statuses: vec![],
            ..Default::default()
        };
    };
    let finished = status.phase.is_finished();
    if let Some(sup) = status.supervisor {
        if !finished && !sup.is_alive() {
            status.phase = crate::pod::status::Phase::Unknown;
            status.message = format!(
                "the pod's supervisor (PID {}) is gone: nobody watches its containers",
                sup.pid
            );
            // /proc has the truth now: a container whose process is gone is not
            // Running, whatever the last status said (kubelet's words for it).
            let all = status
                .init_container_statuses
                .iter_mut()
                .chain(status.container_statuses.iter_mut());
            for c in all {
                c.ready = false;
                let gone = !c.process.is_some_and(|p| p.is_alive());
                if let (true, ContainerState::Running { started_at }) = (gone, &c.state) {
                    c.state = ContainerState::Terminated {
                        exit_code: 137,
                        signal: None,
                        reason: "ContainerStatusUnknown".into(),
                        message: "The container could not be located when the pod was terminated"
                            .into(),
                        started_at: started_at.clone(),
                        finished_at: String::new(),
                    };
                    c.process = None;
                }
            }
        }
    }
    status
}

/// The pods' header, as `get pods` prints it.
pub(super) fn pod_header(args: &GetArgs) -> Vec<String> {
    table_rows(&[], args, true).remove(0)
}

/// The pods' rows, no header.
pub(super) fn pod_rows(pods: &[StoredPod], args: &GetArgs) -> Vec<Vec<String>> {
    table_rows(pods, args, false)
}

/// `get all`: the pods' table with names as `pod/NAME` (empty: no pods).
pub(super) fn pod_rows_for_all(ctx: &Context, args: &GetArgs) -> Result<Vec<Vec<String>>> {
    let (pods, _) = select_pods(ctx, args, &[])?;
    if pods.is_empty() {
        return Ok(Vec::new());
    }
    let mut rows = table_rows(&pods, args, true);
    let at = usize::from(args.all_namespaces);
    for r in rows.iter_mut().skip(1) {
        if let Some(cell) = r.get_mut(at) {
            *cell = format!("pod/{cell}");
        }
    }
    Ok(rows)
}

/// kubectl's table: header (when asked) and one row per pod.
fn table_rows(pods: &[StoredPod], args: &GetArgs, headers: bool) -> Vec<Vec<String>> {
    let wide = args.output.as_deref() == Some("wide");
    let mut rows: Vec<Vec<String>> = Vec::new();
    if headers {
        let mut h = vec![];
        if args.all_namespaces {
            h.push("NAMESPACE");
        }
        h.extend(["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
        if wide {
            h.extend(["IP", "NODE", "NOMINATED NODE", "READINESS GATES"]);
        }
        let mut h: Vec<String> = h.into_iter().map(String::from).collect();
        h.extend(args.label_columns.iter().map(|l| l.to_uppercase()));
        if args.show_labels {
            h.push("LABELS".into());
        }
        rows.push(h);
    }
    for p in pods {
        let status = p.status.clone().unwrap_or_else(|| truthful_status(p));
        let row = display::row(&p.record.pod, &status);
        let age = crate::pod::create::created_at(&p.record)
            .map(time::age)
            .unwrap_or_else(|| "<unknown>".into());
        let mut r = vec![];
        if args.all_namespaces {
            r.push(p.record.namespace().to_string());
        }
        r.extend([
            p.record.name().to_string(),
            row.ready,
            row.status,
            row.restarts,
            age,
        ]);
        if wide {
            let node = p.record.pod.spec.as_ref().and_then(|s| s.node_name.clone());
            let ip = Some(status.pod_ip.clone()).filter(|ip| !ip.is_empty());
            r.extend([
                ip.unwrap_or_else(|| "<none>".into()),
                node.unwrap_or_else(|| "<none>".into()),
                "<none>".into(),
                "<none>".into(),
            ]);
        }
        let labels = p.record.pod.metadata.labels.clone().unwrap_or_default();
        r.extend(super::label_cells::label_cells(&labels, args));
        rows.push(r);
    }
    rows
}

/// The node is this host.
pub fn node_name() -> String {
    crate::pod::create::node_name()
}

/// `get events`: every pod's events, oldest first, as kubectl lists them.
fn print_events(ctx: &Context, args: &GetArgs) -> Result<i32> {
    let mut all = Vec::new();
    for p in record::list(&ctx.state)? {
        if !args.all_namespaces && p.record.namespace() != args.namespace {
            continue;
        }
        for e in crate::pod::events::load(&p.paths) {
            all.push((
                p.record.namespace().to_string(),
                format!("pod/{}", p.record.name()),
                e,
            ));
        }
    }
    // The controllers' events: `deployment/NAME`, `replicaset/NAME`, `daemonset/NAME`.
    for o in crate::controllers::store::list_all(&ctx.state)? {
        if !args.all_namespaces && o.namespace() != args.namespace {
            continue;
        }
        for e in crate::controllers::store::events(&ctx.state, o.kind(), o.namespace(), o.name()) {
            let object = format!("{}/{}", o.kind().name().to_lowercase(), o.name());
            all.push((o.namespace().to_string(), object, e));
        }
    }
    all.sort_by(|a, b| a.2.time.cmp(&b.2.time));
    if all.is_empty() {
        eprintln!("No resources found in {} namespace.", args.namespace);
        return Ok(0);
    }
    let mut rows = Vec::new();
    if !args.no_headers {
        let mut h = vec![];
        if args.all_namespaces {
            h.push("NAMESPACE");
        }
        h.extend(["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]);
        rows.push(h.into_iter().map(String::from).collect());
    }
    for (ns, object, e) in all {
        let mut r = vec![];
        if args.all_namespaces {
            r.push(ns);
        }
        r.extend([
            time::parse(&e.time)
                .map(time::age)
                .unwrap_or_else(|| "<unknown>".into()),
            e.kind.to_string(),
            e.reason,
            object,
            e.message,
        ]);
        rows.push(r);
    }
    print_columns(&rows);
    Ok(0)
}

/// Columns padded to their widest cell plus three spaces, as kubectl prints them.
pub fn print_columns(rows: &[Vec<String>]) {
    for line in format_columns(rows, 3, 0) {
        println!("{line}");
    }
}

/// Table lines: each column padded to its widest cell plus `gap` spaces, the whole
/// indented by `indent` (kubectl's `get` uses a gap of 3, `describe` of 2).
pub fn format_columns(rows: &[Vec<String>], gap: usize, indent: usize) -> Vec<String> {
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..n)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .map(|r| {
            let mut line = " ".repeat(indent);
            for (i, cell) in r.iter().enumerate() {
                if i + 1 == r.len() {
                    line.push_str(cell);
                } else {
                    line.push_str(&format!("{cell:<w$}{}", " ".repeat(gap), w = widths[i]));
                }
            }
            line.trim_end().to_string()
        })
        .collect()
}

/// The Pod object as the API server would return it: the record and the status,
/// without minipod's own bookkeeping (PIDs).
pub fn pod_object(p: &StoredPod) -> serde_json::Value {
    let mut v = serde_json::to_value(&p.record.pod).unwrap_or_default();
    let mut status = serde_json::to_value(p.status.clone().unwrap_or_else(|| truthful_status(p)))
        .unwrap_or_default();
    if let Some(obj) = status.as_object_mut() {
        obj.remove("supervisor");
        obj.remove("infra");
        if let Some(ts) = obj.remove("deletionTimestamp") {
            if let Some(meta) = v.get_mut("metadata").and_then(|m| m.as_object_mut()) {
                meta.insert("deletionTimestamp".into(), ts);
            }
        }
        for key in ["initContainerStatuses", "containerStatuses"] {
            if let Some(list) = obj.get_mut(key).and_then(|l| l.as_array_mut()) {
                for c in list {
                    if let Some(c) = c.as_object_mut() {
                        c.remove("process");
                    }
                }
            }
        }
    }
    if let Some(obj) = v.as_object_mut() {
        obj.insert("status".into(), status);
        obj.entry("apiVersion").or_insert("v1".into());
        obj.entry("kind").or_insert("Pod".into());
    }
    v
}
