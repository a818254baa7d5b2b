//! `delete pod NAME...` / `delete -f FILE`.

use super::Context;
use super::{errln, outln};
use crate::api as manifest;
use crate::pod::{delete, record};
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
    /// Together with --grace-period=0: do not wait for a graceful stop.
    #[arg(long)]
    pub force: bool,
    /// Same as --grace-period=1.
    #[arg(long)]
    pub now: bool,
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
        if names.is_empty() {
            errln!("error: resource(s) were provided, but no name was specified");
            return Ok(1);
        }
        match crate::api::apps::AppsKind::from_resource(&resource) {
            Some(kind) => {
                apps_targets.extend(names.into_iter().map(|n| (kind, args.namespace.clone(), n)))
            }
            None => {
                super::apply::ensure_pods(&resource)?;
                targets.extend(names.into_iter().map(|n| (args.namespace.clone(), n)));
            }
        }
    }
    let mut code = 0;
    for (kind, ns, name) in apps_targets {
        if !super::delete_apps::delete_one(ctx, kind, &ns, &name, args.cascade)?
            && !args.ignore_not_found
        {
            errln!(
                "Error from server (NotFound): {}.apps \"{name}\" not found",
                kind.plural()
            );
            code = 1;
        }
    }
    if targets.is_empty() {
        return Ok(code);
    }
    let grace = match (args.grace_period, args.now) {
        (Some(g), _) if g < 0 => None,
        (Some(0), _) if !args.force => {
            // kubectl: --grace-period=0 without --force means 1 second.
            Some(1)
        }
        (Some(g), _) => Some(g),
        (None, true) => Some(1),
        (None, false) => None,
    };
    if args.force && grace == Some(0) {
        errln!("Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.");
    }
    // Ask every pod's supervisor first (each under its pod's lock, briefly), then wait
    // for all of them with no lock held: N pods take one grace period, not N.
    let mut deleting = Vec::new();
    for (ns, name) in targets {
        let _lock = crate::state::lock::lock_pod(&ctx.state, &ns, &name)?;
        let Some(pod) = record::find(&ctx.state, &ns, &name)? else {
            if !args.ignore_not_found {
                errln!("Error from server (NotFound): pods \"{name}\" not found");
                code = 1;
            }
            continue;
        };
        match delete::begin(&pod, grace) {
            Ok(d) => deleting.push(d),
            Err(e) => {
                errln!("error: {e:#}");
                code = 1;
            }
        }
    }
    let explain = args.explain;
    let mut on_step = |s: &crate::narration::Step| {
        if explain {
            outln!("{}", s.to_line());
        }
    };
    for d in deleting {
        let (ns, name) = (d.namespace().to_string(), d.name().to_string());
        match d.finish(&ctx.state, &mut on_step) {
            Ok(()) => outln!("pod \"{name}\" deleted"),
            Err(e) => {
                errln!("error: {e:#}");
                code = 1;
            }
        }
        forget_lock(ctx, &ns, &name);
    }
    Ok(code)
}

/// The name is free again: its lock file goes too (unless the name was taken again).
pub(super) fn forget_lock(ctx: &Context, ns: &str, name: &str) {
    if let Ok(lock) = crate::state::lock::lock_pod(&ctx.state, ns, name) {
        if matches!(record::find(&ctx.state, ns, name), Ok(None)) {
            lock.remove();
        }
    }
}
