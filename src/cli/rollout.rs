//! `rollout status|history|undo|restart|pause|resume` with kubectl's lines.

use super::{apps_edit, outln, Context};
use crate::api::apps::{AppsKind, AppsObject};
use crate::controllers::{deployment, manager, pod_template_hash, store};
use anyhow::{bail, Result};
use clap::{Args, Subcommand};

#[derive(Subcommand, Debug)]
pub enum RolloutCommand {
    /// Wait until the rollout is done, printing kubectl's progress lines.
    #[command(after_help = "Example:\n  minipod rollout status deployment/nginx-deployment")]
    Status(RolloutArgs),
    /// The revisions of a Deployment (its ReplicaSets).
    #[command(after_help = "Example:\n  minipod rollout history deployment/nginx-deployment")]
    History(RolloutArgs),
    /// Go back to the previous revision (or --to-revision=N).
    #[command(
        after_help = "Example:\n  minipod rollout undo deployment/nginx-deployment --to-revision=1"
    )]
    Undo(RolloutArgs),
    /// Roll every pod again with the same template (a restartedAt annotation).
    Restart(RolloutArgs),
    /// Stop rolling out template changes.
    Pause(RolloutArgs),
    /// Roll out again what changed while paused.
    Resume(RolloutArgs),
}

#[derive(Args, Debug)]
pub struct RolloutArgs {
    /// `deployment/NAME` or `deployment NAME`.
    #[arg(required = true, value_name = "RESOURCE [NAME]")]
    pub what: Vec<String>,
    #[arg(short = 'n', long = "namespace", default_value = "default")]
    pub namespace: String,
    /// undo: the revision to go back to (0: the previous one); history: show one.
    #[arg(long, default_value_t = 0)]
    pub to_revision: i64,
    /// history: the pod template of this revision.
    #[arg(long, default_value_t = 0)]
    pub revision: i64,
    /// status: give up after this many seconds (0: wait for ever).
    #[arg(long, default_value_t = 0)]
    pub timeout: u64,
}

pub fn run(ctx: &Context, command: &RolloutCommand) -> Result<i32> {
    match command {
        RolloutCommand::Status(a) => status(ctx, a),
        RolloutCommand::History(a) => history(ctx, a),
        RolloutCommand::Undo(a) => undo(ctx, a),
        RolloutCommand::Restart(a) => restart(ctx, a),
        RolloutCommand::Pause(a) => pause(ctx, a, true),
        RolloutCommand::Resume(a) => pause(ctx, a, false),
    }
}

/// kubectl's line for where a rollout is, and whether it is done.
fn progress(object: &AppsObject) -> (String, bool) {
    let name = object.name();
    match object {
        AppsObject::Deployment(d) => {
            let st = d.status.clone().unwrap_or_default();
            let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
            let updated = st.updated_replicas.unwrap_or(0);
            let total = st.replicas.unwrap_or(0);
            let available = st.available_replicas.unwrap_or(0);
            if d.metadata.generation > st.observed_generation {
                return (
                    "Waiting for deployment spec update to be observed...".into(),
                    false,
                );
            }
            let stalled = st.conditions.iter().flatten().any(|c| {
                c.type_ == "Progressing" && c.reason.as_deref() == Some("ProgressDeadlineExceeded")
            });
            if stalled {
                return (
                    format!("error: deployment {name:?} exceeded its progress deadline"),
                    true,
                );
            }
            if updated < want {
                return (format!("Waiting for deployment {name:?} rollout to finish: {updated} out of {want} new replicas have been updated..."), false);
            }
            if total > updated {
                return (format!("Waiting for deployment {name:?} rollout to finish: {} old replicas are pending termination...", total - updated), false);
            }
            if available < updated {
                return (format!("Waiting for deployment {name:?} rollout to finish: {available} of {updated} updated replicas are available..."), false);
            }
            (format!("deployment {name:?} successfully rolled out"), true)
        }
        AppsObject::DaemonSet(ds) => {
            let st = ds.status.clone().unwrap_or_default();
            let updated = st.updated_number_scheduled.unwrap_or(0);
            let available = st.number_available.unwrap_or(0);
            if ds.metadata.generation > st.observed_generation {
                return (
                    "Waiting for daemon set spec update to be observed...".into(),
                    false,
                );
            }
            if updated < st.desired_number_scheduled {
                return (format!("Waiting for daemon set {name:?} rollout to finish: {updated} out of {} new pods have been updated...", st.desired_number_scheduled), false);
            }
            if available < st.desired_number_scheduled {
                return (format!("Waiting for daemon set {name:?} rollout to finish: {available} of {} updated pods are available...", st.desired_number_scheduled), false);
            }
            (format!("daemon set {name:?} successfully rolled out"), true)
        }
        AppsObject::ReplicaSet(_) => (String::new(), true),
    }
}

fn find(ctx: &Context, kind: AppsKind, ns: &str, name: &str) -> Result<AppsObject> {
    match store::find(&ctx.state, kind, ns, name)? {
        Some(o) => Ok(o),
        None => bail!(
            "Error from server (NotFound): {}.apps \"{name}\" not found",
            kind.plural()
        ),
    }
}

fn status(ctx: &Context, args: &RolloutArgs) -> Result<i32> {
    let (kind, name) = apps_edit::target(&args.what)?;
    if kind == AppsKind::ReplicaSet {
        bail!("no status viewer has been implemented for ReplicaSet");
    }
    let started = std::time::Instant::now();
    let mut last = String::new();
    loop {
        let object = find(ctx, kind, &args.namespace, &name)?;
        let (line, done) = progress(&object);
        if let Some(error) = line.strip_prefix("error: ") {
            super::errln!("error: {error}");
            return Ok(1);
        }
        if line != last {
            outln!("{line}");
            last = line;
        }
        if done {
            return Ok(0);
        }
        if args.timeout > 0 && started.elapsed().as_secs() >= args.timeout {
            bail!("timed out waiting for the condition");
        }
        // The manager may have died: any command brings it back.
        manager::ensure_running(&ctx.state)?;
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// The Deployment's ReplicaSets by revision, oldest first.
fn revisions(ctx: &Context, d: &AppsObject) -> Result<Vec<(i64, AppsObject)>> {
    let uid = d.metadata().uid.clone().unwrap_or_default();
    let mut out: Vec<(i64, AppsObject)> = store::list(&ctx.state, AppsKind::ReplicaSet)?
        .into_iter()
        .filter(|rs| {
            crate::controllers::observed::controller_of(rs.metadata().owner_references.as_ref())
                .is_some_and(|o| o.uid == uid)
        })
        .map(|rs| (deployment::revision(rs.metadata()), rs))
        .collect();
    out.sort_by_key(|(r, _)| *r);
    Ok(out)
}

fn history(ctx: &Context, args: &RolloutArgs) -> Result<i32> {
    let (kind, name) = apps_edit::target(&args.what)?;
    if kind != AppsKind::Deployment {
        bail!("minipod keeps a rollout history for Deployments only");
    }
    let d = find(ctx, kind, &args.namespace, &name)?;
    let all = revisions(ctx, &d)?;
    if args.revision > 0 {
        let Some((_, rs)) = all.iter().find(|(r, _)| *r == args.revision) else {
            bail!("unable to find the specified revision");
        };
        outln!("{}/{name} with revision #{}", kind.kubectl(), args.revision);
        let template = rs.template().cloned().unwrap_or_default();
        outln!(
            "{}",
            super::yaml_out::to_yaml(&serde_json::to_value(&template)?).trim_end()
        );
        return Ok(0);
    }
    outln!("{}/{name} ", kind.kubectl());
    let mut rows = vec![vec!["REVISION".to_string(), "CHANGE-CAUSE".to_string()]];
    for (revision, rs) in &all {
        let cause = rs
            .metadata()
            .annotations
            .as_ref()
            .and_then(|a| a.get("kubernetes.io/change-cause"))
            .cloned()
            .unwrap_or_else(|| "<none>".into());
        rows.push(vec![revision.to_string(), cause]);
    }
    for line in super::get::format_columns(&rows, 2, 0) {
        outln!("{line}");
    }
    outln!();
    Ok(0)
}

fn undo(ctx: &Context, args: &RolloutArgs) -> Result<i32> {
    let (kind, name) = apps_edit::target(&args.what)?;
    if kind != AppsKind::Deployment {
        bail!("minipod can undo Deployments only");
    }
    let d = find(ctx, kind, &args.namespace, &name)?;
    let all = revisions(ctx, &d)?;
    let current = deployment::revision(d.metadata());
    let chosen = if args.to_revision > 0 {
        all.iter().find(|(r, _)| *r == args.to_revision)
    } else {
        all.iter().rev().find(|(r, _)| *r != current)
    };
    let Some((revision, rs)) = chosen else {
        if args.to_revision > 0 {
            bail!(
                "unable to find specified revision {} in history",
                args.to_revision
            );
        }
        bail!("no rollout history found for deployment {name:?}");
    };
    let mut template = rs.template().cloned().unwrap_or_default();
    if let Some(labels) = template.metadata.as_mut().and_then(|m| m.labels.as_mut()) {
        labels.remove(pod_template_hash::LABEL);
    }
    let revision = *revision;
    let mut same = false;
    apps_edit::edit(ctx, kind, &args.namespace, &name, |object| {
        if let AppsObject::Deployment(d) = object {
            if let Some(spec) = d.spec.as_mut() {
                same = spec.template == template;
                spec.template = template;
            }
        }
        Ok(())
    })?;
    if same {
        outln!(
            "{}/{name} skipped rollback (current template already matches revision {revision})",
            kind.kubectl()
        );
    } else {
        outln!("{}/{name} rolled back", kind.kubectl());
    }
    Ok(0)
}

fn restart(ctx: &Context, args: &RolloutArgs) -> Result<i32> {
    let (kind, name) = apps_edit::target(&args.what)?;
    if kind == AppsKind::ReplicaSet {
        bail!("replicasets.apps \"{name}\" restarting is not supported");
    }
    let now = crate::state::time::now();
    apps_edit::edit(ctx, kind, &args.namespace, &name, |object| {
        let template = match object {
            AppsObject::Deployment(d) => d.spec.as_mut().map(|s| &mut s.template),
            AppsObject::DaemonSet(d) => d.spec.as_mut().map(|s| &mut s.template),
            AppsObject::ReplicaSet(_) => None,
        };
        if let Some(t) = template {
            t.metadata
                .get_or_insert_with(Default::default)
                .annotations
                .get_or_insert_with(Default::default)
                .insert("kubectl.kubernetes.io/restartedAt".into(), now);
        }
        Ok(())
    })?;
    outln!("{}/{name} restarted", kind.kubectl());
    Ok(0)
}

fn pause(ctx: &Context, args: &RolloutArgs, paused: bool) -> Result<i32> {
    let (kind, name) = apps_edit::target(&args.what)?;
    if kind != AppsKind::Deployment {
        bail!(
            "{}.apps \"{name}\" {} is not supported",
            kind.plural(),
            if paused { "pausing" } else { "resuming" }
        );
    }
    let word = if paused { "paused" } else { "resumed" };
    apps_edit::edit(ctx, kind, &args.namespace, &name, |object| {
        if let AppsObject::Deployment(d) = object {
            let spec = d.spec.get_or_insert_with(Default::default);
            if spec.paused.unwrap_or(false) == paused {
                if paused {
                    bail!("deployments.apps {name:?} is already paused");
                }
                bail!("deployments.apps {name:?} is not paused");
            }
            spec.paused = paused.then_some(true);
        }
        Ok(())
    })?;
    outln!("{}/{name} {word}", kind.kubectl());
    Ok(0)
}
