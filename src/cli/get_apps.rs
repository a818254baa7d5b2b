//! `get deploy|rs|ds|all`: kubectl's tables for the controller kinds, or the objects
//! as JSON/YAML/names/jsonpath; `get -w` of them prints a row per change.

use super::get::{print_columns, GetArgs};
use super::label_cells::{joined, label_cells};
use super::label_selector::Selector;
use super::output::jsonpath;
use super::Context;
use crate::api::apps::{selector, AppsKind, AppsObject};
use crate::controllers::store;
use crate::state::time;
use anyhow::{bail, Result};

/// The objects of `kind` asked for, and the names not found.
pub fn select(
    ctx: &Context,
    args: &GetArgs,
    kind: AppsKind,
    names: &[String],
) -> Result<(Vec<AppsObject>, Vec<String>)> {
    let mut objects: Vec<AppsObject> = store::list(&ctx.state, kind)?
        .into_iter()
        .filter(|o| args.all_namespaces || o.namespace() == args.namespace)
        .collect();
    if let Some(text) = &args.selector {
        let sel = Selector::parse(text).map_err(|e| anyhow::anyhow!(e))?;
        objects.retain(|o| sel.matches(&o.metadata().labels.clone().unwrap_or_default()));
    }
    let missing = names
        .iter()
        .filter(|n| !objects.iter().any(|o| o.name() == n.as_str()))
        .cloned()
        .collect();
    if !names.is_empty() {
        objects.retain(|o| names.iter().any(|n| n == o.name()));
    }
    Ok((objects, missing))
}

fn age(object: &AppsObject) -> String {
    object
        .metadata()
        .creation_timestamp
        .as_ref()
        .and_then(|t| time::parse(&t.0.to_string()))
        .map(time::age)
        .unwrap_or_else(|| "<unknown>".into())
}

/// kubectl's header for a kind.
pub fn header(kind: AppsKind, args: &GetArgs) -> Vec<String> {
    let wide = args.output.as_deref() == Some("wide");
    let mut h: Vec<&str> = Vec::new();
    if args.all_namespaces {
        h.push("NAMESPACE");
    }
    match kind {
        AppsKind::Deployment => h.extend(["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]),
        AppsKind::ReplicaSet => h.extend(["NAME", "DESIRED", "CURRENT", "READY", "AGE"]),
        AppsKind::DaemonSet => h.extend([
            "NAME",
            "DESIRED",
            "CURRENT",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "NODE SELECTOR",
            "AGE",
        ]),
    }
    if wide {
        h.extend(["CONTAINERS", "IMAGES", "SELECTOR"]);
    }
    let mut h: Vec<String> = h.into_iter().map(String::from).collect();
    h.extend(args.label_columns.iter().map(|l| l.to_uppercase()));
    if args.show_labels {
        h.push("LABELS".into());
    }
    h
}

/// One object's row; `prefix`: `deployment.apps/` in `get all`.
pub fn row(object: &AppsObject, args: &GetArgs, prefix: &str) -> Vec<String> {
    let wide = args.output.as_deref() == Some("wide");
    let mut r = Vec::new();
    if args.all_namespaces {
        r.push(object.namespace().to_string());
    }
    r.push(format!("{prefix}{}", object.name()));
    match object {
        AppsObject::Deployment(d) => {
            let s = d.status.clone().unwrap_or_default();
            let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
            r.push(format!("{}/{want}", s.ready_replicas.unwrap_or(0)));
            r.push(s.updated_replicas.unwrap_or(0).to_string());
            r.push(s.available_replicas.unwrap_or(0).to_string());
        }
        AppsObject::ReplicaSet(rs) => {
            let s = rs.status.clone().unwrap_or_default();
            let want = rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
            r.push(want.to_string());
            r.push(s.replicas.to_string());
            r.push(s.ready_replicas.unwrap_or(0).to_string());
        }
        AppsObject::DaemonSet(ds) => {
            let s = ds.status.clone().unwrap_or_default();
            r.push(s.desired_number_scheduled.to_string());
            r.push(s.current_number_scheduled.to_string());
            r.push(s.number_ready.to_string());
            r.push(s.updated_number_scheduled.unwrap_or(0).to_string());
            r.push(s.number_available.unwrap_or(0).to_string());
            let node_selector = ds
                .spec
                .as_ref()
                .and_then(|s| s.template.spec.as_ref())
                .and_then(|s| s.node_selector.as_ref())
                .map(joined)
                .unwrap_or_else(|| "<none>".into());
            r.push(node_selector);
        }
    }
    r.push(age(object));
    if wide {
        let containers = object
            .template()
            .and_then(|t| t.spec.as_ref())
            .map(|s| s.containers.clone())
            .unwrap_or_default();
        let names: Vec<String> = containers.iter().map(|c| c.name.clone()).collect();
        let images: Vec<String> = containers
            .iter()
            .map(|c| c.image.clone().unwrap_or_default())
            .collect();
        r.push(names.join(","));
        r.push(images.join(","));
        r.push(
            object
                .selector()
                .map(selector::to_text)
                .unwrap_or_else(|| "<none>".into()),
        );
    }
    let labels = object.metadata().labels.clone().unwrap_or_default();
    r.extend(label_cells(&labels, args));
    r
}

/// `get deploy ...`: the answer for one controller kind.
pub fn run(ctx: &Context, args: &GetArgs, kind: AppsKind, names: &[String]) -> Result<i32> {
    if args.watch || args.watch_only {
        return super::watch::run(ctx, args, &[super::watch::Watched::Apps(kind)], names);
    }
    let (objects, missing) = select(ctx, args, kind, names)?;
    let as_object =
        || super::get::one_or_list(objects.iter().map(AppsObject::to_value).collect(), names);
    match args.output.as_deref() {
        None | Some("wide") if objects.is_empty() => {}
        None | Some("wide") => {
            let mut rows = Vec::new();
            if !args.no_headers {
                rows.push(header(kind, args));
            }
            rows.extend(objects.iter().map(|o| row(o, args, "")));
            print_columns(&rows);
        }
        Some("name") => {
            for o in &objects {
                println!("{}/{}", kind.kubectl(), o.name());
            }
        }
        Some("json") => println!("{}", serde_json::to_string_pretty(&as_object())?),
        Some("yaml") => print!("{}", super::yaml_out::to_yaml(&as_object())),
        Some(o) if o.starts_with("jsonpath=") || o.starts_with("jsonpath:") => {
            print!("{}", jsonpath::render(&o[9..], &as_object(), args.allow_missing_template_keys)?);
        }
        Some(other) => bail!("unable to match a printer suitable for the output format \"{other}\", allowed formats are: json,jsonpath,name,wide,yaml"),
    }
    let resource = format!("{}.apps", kind.plural());
    Ok(super::get::report_not_found(
        args,
        objects.is_empty() && names.is_empty(),
        &resource,
        &missing,
    ))
}

/// `get all`: pods, then each controller kind that has objects, names prefixed by
/// their resource as kubectl prints them.
pub fn run_all(ctx: &Context, args: &GetArgs) -> Result<i32> {
    let mut all = vec![None];
    all.extend(AppsKind::all().map(Some));
    run_several(ctx, args, &all)
}

/// `get pods,deploy,rs`: each kind asked for, as `get all` prints them.
pub fn run_list(ctx: &Context, args: &GetArgs, list: &str) -> Result<i32> {
    // In the order asked; None stands for pods.
    let mut kinds: Vec<Option<AppsKind>> = Vec::new();
    for word in list.split(',').filter(|w| !w.is_empty()) {
        let more: Vec<Option<AppsKind>> = match AppsKind::from_resource(word) {
            Some(kind) => vec![Some(kind)],
            None if matches!(word, "pod" | "pods" | "po") => vec![None],
            None if word == "all" => {
                let mut all = vec![None];
                all.extend(AppsKind::all().map(Some));
                all
            }
            None => bail!("the server doesn't have a resource type \"{word}\""),
        };
        for k in more {
            if !kinds.contains(&k) {
                kinds.push(k);
            }
        }
    }
    run_several(ctx, args, &kinds)
}

fn run_several(ctx: &Context, args: &GetArgs, kinds: &[Option<AppsKind>]) -> Result<i32> {
    let mut blocks: Vec<Vec<Vec<String>>> = Vec::new();
    for kind in kinds {
        let Some(kind) = *kind else {
            let pods = super::get::pod_rows_for_all(ctx, args)?;
            if !pods.is_empty() {
                blocks.push(pods);
            }
            continue;
        };
        let (objects, _) = select(ctx, args, kind, &[])?;
        if objects.is_empty() {
            continue;
        }
        let prefix = format!("{}/", kind.kubectl());
        let mut rows = vec![header(kind, args)];
        rows.extend(objects.iter().map(|o| row(o, args, &prefix)));
        blocks.push(rows);
    }
    if blocks.is_empty() {
        eprintln!("No resources found in {} namespace.", args.namespace);
        return Ok(0);
    }
    for (i, block) in blocks.iter().enumerate() {
        if i > 0 {
            println!();
        }
        print_columns(block);
    }
    Ok(0)
}
