//! `delete pod NAME...` / `delete -f FILE`.

use super::delete_pods;
use super::label_selector::Selector;
use super::Context;
use super::{errln, outln};
use crate::api as manifest;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct DeleteArgs {
    /// `pod NAME...` or `pod/NAME`.
    #[arg(value_name = "RESOURCE [NAME...]")]
    pub what: Vec<String>,
    /// Delete the pods a manifest describes (repeatable; `-` for standard input).
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[arg(short = 'n', long = "namespace", default_value = "default")]
    pub namespace: String,
    /// Seconds each container gets to stop after SIGTERM (default: the pod's
    /// terminationGracePeriodSeconds, 30); 0 with --force kills at once.
    #[arg(long = "grace-period", allow_negative_numbers = true)]
    pub grace_period: Option<i64>,
    /// Kill at once, without waiting for a graceful stop (--grace-period=0; with
    /// --grace-period=N: that grace period).
    #[arg(long)]
    pub force: bool,
    /// Same as --grace-period=1.
    #[arg(long)]
    pub now: bool,
    /// Every pod of the namespace.
    #[arg(long)]
    pub all: bool,
    /// Only pods whose labels match (`app=web`, `app in (a,b)`, `!app`).
    #[arg(short = 'l', long = "selector")]
    pub selector: Option<String>,
    /// With --all or -l: in every namespace.
    #[arg(short = 'A', long = "all-namespaces")]
    pub all_namespaces: bool,
    /// No error when the pod does not exist.
    #[arg(long)]
    pub ignore_not_found: bool,
    /// Print each kernel step of the teardown.
    #[arg(long)]
    pub explain: bool,
    /// What becomes of a Deployment's, ReplicaSet's or DaemonSet's dependents.
    #[arg(
        long,
        value_enum,
        default_value = "background",
        value_name = "background|orphan|foreground"
    )]
    pub cascade: super::delete_apps::Cascade,
}

pub fn run(ctx: &Context, args: &DeleteArgs) -> Result<i32> {
    let mut targets: Vec<(String, String)> = Vec::new();
    // Controller objects: (kind, namespace, name).
    let mut apps_targets = Vec::new();
    if !args.files.is_empty() {
        match manifest::load_objects(&args.files) {
            // kubectl delete -f of a file with no object in it.
            Ok(docs) if docs.is_empty() => {
                outln!("No resources found");
                return Ok(0);
            }
            Ok(docs) => {
                for d in docs {
                    let d = match d {
                        manifest::ApiObject::Pod(d) => d,
                        manifest::ApiObject::Apps(a) => {
                            let o = &a.object;
                            apps_targets.push((
                                o.kind(),
                                o.namespace().to_string(),
                                o.name().to_string(),
                            ));
                            continue;
                        }
                    };
                    let ns = d
                        .pod
                        .metadata
                        .namespace
                        .clone()
                        .unwrap_or_else(|| "default".into());
                    targets.push((ns, d.pod.metadata.name.clone().unwrap_or_default()));
                }
            }
            Err(errors) => {
                for e in &errors.0 {
                    errln!("error: {e}");
                }
                return Ok(1);
            }
        }
    } else {
        if args.what.is_empty() {
            errln!("error: You must provide one or more resources by argument or filename.");
            return Ok(1);
        }
        let (resource, names) = super::get::split_resource(&args.what)?;
        if super::namespaces::is_namespace(&resource) {
            return super::namespaces::delete(ctx, &names, grace_period(args));
        }
        if let Some(kind) = crate::api::apps::AppsKind::from_resource(&resource) {
            let selecting = args.all || args.selector.is_some();
            if names.is_empty() && !selecting {
                errln!("error: resource(s) were provided, but no name was specified");
                return Ok(1);
            }
            if !names.is_empty() && selecting {
                errln!("error: name cannot be provided when a selector is specified");
                return Ok(1);
            }
            if names.is_empty() {
                // --all or -l: the namespace's objects of that kind (every one with -A).
                let selector = match args.selector.as_deref().map(Selector::parse).transpose() {
                    Ok(selector) => selector,
                    Err(error) => {
                        errln!("error: {error}");
                        return Ok(1);
                    }
                };
                let mut found: Vec<_> = crate::controllers::store::list(&ctx.state, kind)?
                    .into_iter()
                    .filter(|o| args.all_namespaces || o.namespace() == args.namespace)
                    .filter(|o| {
                        let labels = o.metadata().labels.clone().unwrap_or_default();
                        selector.as_ref().is_none_or(|s| s.matches(&labels))
                    })
                    .map(|o| (kind, o.namespace().to_string(), o.name().to_string()))
                    .collect();
                if found.is_empty() {
                    outln!("No resources found");
                    return Ok(0);
                }
                found.sort();
                return delete_apps_targets(ctx, found, args);
            }
            apps_targets.extend(names.into_iter().map(|n| (kind, args.namespace.clone(), n)));
            return delete_apps_targets(ctx, apps_targets, args);
        }
        super::apply::ensure_pods(&resource)?;
        if names.is_empty() && !args.all && args.selector.is_none() {
            errln!("error: resource(s) were provided, but no name was specified");
            return Ok(1);
        }
        if !names.is_empty() && (args.all || args.selector.is_some()) {
            errln!("error: name cannot be provided when a selector is specified");
            return Ok(1);
        }
        if names.is_empty() {
            // --all or -l: the pods of the namespace (of every one with -A).
            let namespace = (!args.all_namespaces).then_some(args.namespace.as_str());
            match super::pod_targets::selected(ctx, namespace, args.selector.as_deref())? {
                Ok(found) if found.is_empty() => {
                    outln!("No resources found");
                    return Ok(0);
                }
                Ok(found) => targets.extend(found),
                Err(error) => {
                    errln!("error: {error}");
                    return Ok(1);
                }
            }
        }
        targets.extend(names.into_iter().map(|n| (args.namespace.clone(), n)));
    }
    let code = delete_apps_targets(ctx, apps_targets, args)?;
    if targets.is_empty() {
        return Ok(code);
    }
    let grace = grace_period(args);
    if args.force && grace == Some(0) {
        errln!("Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.");
    }
    let how = delete_pods::Deletion {
        grace,
        ignore_not_found: args.ignore_not_found,
        explain: args.explain,
        quiet: false,
    };
    Ok(delete_pods::delete_pods(ctx, targets, &how)?.max(code))
}

/// Delete Deployments, ReplicaSets and DaemonSets (their dependents by `--cascade`);
/// returns the exit code.
fn delete_apps_targets(
    ctx: &Context,
    targets: Vec<(crate::api::apps::AppsKind, String, String)>,
    args: &DeleteArgs,
) -> Result<i32> {
    let mut code = 0;
    for (kind, ns, name) in targets {
        if super::delete_apps::delete_one(ctx, kind, &ns, &name, args.cascade)? {
            outln!("{} \"{name}\" deleted", kind.kubectl());
        } else if !args.ignore_not_found {
            errln!(
                "Error from server (NotFound): {}.apps \"{name}\" not found",
                kind.plural()
            );
            code = 1;
        }
    }
    Ok(code)
}

/// The grace period kubectl asks for (None: the pod's own): `--now` is 1,
/// `--grace-period=0` without `--force` is 1, `--force` without a grace period is 0.
fn grace_period(args: &DeleteArgs) -> Option<i64> {
    let asked = match (args.grace_period, args.now) {
        (Some(g), _) if g >= 0 => Some(g),
        (_, true) => Some(1),
        _ => None,
    };
    match asked {
        Some(0) if !args.force => Some(1),
        None if args.force => Some(0),
        other => other,
    }
}

/// The name is free again: its lock file goes too (unless the name was taken again).
pub(super) fn forget_lock(ctx: &Context, ns: &str, name: &str) {
    delete_pods::forget_lock(ctx, ns, name)
}
