//! `apply/create/replace -f` of Deployments, ReplicaSets and DaemonSets: the object is
//! recorded (as the API server stores it: uid, generation, creation time) and the
//! controller manager, started if need be, makes the pods.

use super::apply::{DryRun, Verb};
use super::Context;
use super::{errln, outln};
use crate::api::apps::AppsObject;
use crate::api::AppsDoc;
use crate::controllers::{deployment, manager, store};
use anyhow::Result;

/// What will be done with one object.
enum Plan {
    Create(AppsObject),
    /// `replace --force`: the old object goes (its dependents with it, through the
    /// collector), a new one (a new uid) takes its name.
    Recreate(AppsObject),
    Update(AppsObject, &'static str),
    Unchanged(AppsObject),
}

fn spec_of(object: &AppsObject) -> serde_json::Value {
    object.to_value().get("spec").cloned().unwrap_or_default()
}

/// Annotations the controllers write, not the user.
fn user_annotations(object: &AppsObject) -> std::collections::BTreeMap<String, String> {
    let mut a = object.metadata().annotations.clone().unwrap_or_default();
    a.remove(deployment::REVISION);
    a.remove("kubectl.kubernetes.io/restartedAt");
    a
}

/// Decide, check and record every controller object; print kubectl's lines. Errors
/// are printed; the exit code is returned.
pub fn run(
    ctx: &Context,
    docs: Vec<AppsDoc>,
    verb: Verb,
    dry_run: Option<DryRun>,
    explain: bool,
) -> Result<i32> {
    if docs.is_empty() {
        return Ok(0);
    }
    let lock = store::lock(&ctx.state)?;
    let mut plans = Vec::new();
    let mut errors = Vec::new();
    for doc in docs {
        if dry_run.is_none_or(|d| d != DryRun::Client) {
            warn_missing_images(ctx, &doc.object, &doc.origin);
        }
        let new = doc.object;
        let kind = new.kind();
        let existing = store::find(&ctx.state, kind, new.namespace(), new.name())?;
        let resource = format!("{}.apps", kind.plural());
        let name = new.name().to_string();
        match (existing, verb) {
            (None, Verb::Replace { .. }) => errors.push(format!(
                "Error from server (NotFound): {}{resource} \"{name}\" not found",
                crate::api::files::error_when("replacing", &doc.origin)
            )),
            (None, _) => {
                // The API server refuses an object in a namespace that does not exist
                // (a client dry run does not ask it).
                let source = crate::api::namespaces::source_name(&doc.origin);
                if dry_run != Some(DryRun::Client) {
                    if let Some(refused) = crate::api::namespaces::admit(
                        &ctx.state,
                        new.namespace(),
                        &resource,
                        &name,
                        source,
                    )? {
                        errors.push(refused);
                        continue;
                    }
                }
                plans.push(Plan::Create(new))
            }
            (Some(_), Verb::Create) => errors.push(format!(
                "Error from server (AlreadyExists): {}{resource} \"{name}\" already exists",
                crate::api::files::error_when("creating", &doc.origin)
            )),
            (Some(_), Verb::Replace { force: true }) => plans.push(Plan::Recreate(new)),
            (Some(old), _) => {
                if old.selector() != new.selector() {
                    errors.push(format!(
                        "The {} \"{name}\" is invalid: spec.selector: Invalid value: {}: field is immutable",
                        kind.name(),
                        serde_json::to_string(&new.selector()).unwrap_or_default()
                    ));
                    continue;
                }
                let same = spec_of(&old) == spec_of(&new)
                    && old.metadata().labels == new.metadata().labels
                    && user_annotations(&old) == user_annotations(&new);
                let mut updated = new;
                let meta = updated.metadata_mut();
                meta.uid = old.metadata().uid.clone();
                meta.creation_timestamp = old.metadata().creation_timestamp.clone();
                let generation = old.metadata().generation.unwrap_or(1);
                let spec_changed = spec_of(&old) != spec_of(&updated);
                updated.metadata_mut().generation = Some(if spec_changed {
                    generation.saturating_add(1)
                } else {
                    generation
                });
                // The controllers' own annotations and status stay.
                let mut annotations = updated.metadata().annotations.clone().unwrap_or_default();
                for key in [deployment::REVISION] {
                    if let Some(v) = old.metadata().annotations.as_ref().and_then(|a| a.get(key)) {
                        annotations.insert(key.to_string(), v.clone());
                    }
                }
                updated.metadata_mut().annotations = Some(annotations).filter(|a| !a.is_empty());
                copy_status(&mut updated, &old);
                match (same, verb) {
                    (true, Verb::Apply) => plans.push(Plan::Unchanged(updated)),
                    (_, Verb::Apply) => plans.push(Plan::Update(updated, "configured")),
                    _ => plans.push(Plan::Update(updated, "replaced")),
                }
            }
        }
    }
    if !errors.is_empty() {
        errors.iter().for_each(|e| super::apply::print_error(e));
        return Ok(1);
    }
    let suffix = match dry_run {
        Some(DryRun::Client) => " (dry run)",
        Some(DryRun::Server) => " (server dry run)",
        _ => "",
    };
    let mut lines = Vec::new();
    let mut changed = Vec::new();
    for plan in plans {
        let (object, word) = match plan {
            Plan::Create(mut object) => {
                if suffix.is_empty() {
                    let meta = object.metadata_mut();
                    meta.uid = Some(crate::pod::create::new_uid()?);
                    meta.creation_timestamp = crate::state::time::meta_now();
                    meta.generation = Some(1);
                }
                let word = if verb == (Verb::Replace { force: false }) {
                    "replaced"
                } else {
                    "created"
                };
                (object, word)
            }
            Plan::Recreate(mut object) => {
                if suffix.is_empty() {
                    let (kind, ns) = (object.kind(), object.namespace().to_string());
                    store::remove(&ctx.state, kind, &ns, object.name())?;
                    let meta = object.metadata_mut();
                    meta.uid = Some(crate::pod::create::new_uid()?);
                    meta.creation_timestamp = crate::state::time::meta_now();
                    meta.generation = Some(1);
                }
                lines.push(format!(
                    "{} \"{}\" deleted",
                    object.kind().kubectl(),
                    object.name()
                ));
                (object, "replaced")
            }
            Plan::Update(object, word) => (object, word),
            Plan::Unchanged(object) => (object, "unchanged"),
        };
        if suffix.is_empty() && word != "unchanged" {
            store::save(&ctx.state, &object)?;
            changed.push((
                object.kind(),
                object.namespace().to_string(),
                object.name().to_string(),
            ));
        }
        lines.push(format!(
            "{}/{} {word}{suffix}",
            object.kind().kubectl(),
            object.name()
        ));
    }
    drop(lock);
    for line in lines {
        outln!("{line}");
    }
    if suffix.is_empty() {
        start_manager(ctx, explain)?;
        if explain && !changed.is_empty() {
            super::apply_explain_apps::follow(ctx, &changed)?;
        }
    }
    Ok(0)
}

fn copy_status(to: &mut AppsObject, from: &AppsObject) {
    match (to, from) {
        (AppsObject::Deployment(t), AppsObject::Deployment(f)) => t.status = f.status.clone(),
        (AppsObject::ReplicaSet(t), AppsObject::ReplicaSet(f)) => t.status = f.status.clone(),
        (AppsObject::DaemonSet(t), AppsObject::DaemonSet(f)) => t.status = f.status.clone(),
        _ => {}
    }
}

/// Start the controller manager unless it runs; narrate it with --explain.
pub fn start_manager(ctx: &Context, explain: bool) -> Result<()> {
    match manager::ensure_running(&ctx.state)? {
        Some(pid) if explain => outln!(
            "controller-manager: started (PID {pid}, `minipod controller-manager`, its own session): it watches {} and the pods' records, and makes the pods",
            store::apps_dir(&ctx.state).display()
        ),
        _ if explain => {
            if let Some(pid) = manager::running_pid(&ctx.state) {
                outln!("controller-manager: already running (PID {pid}): it sees the new object within a second");
            }
        }
        _ => {}
    }
    Ok(())
}

/// A cluster accepts a Deployment whose image no node has: its pods are created and
/// fail to pull (ErrImagePull, then ImagePullBackOff). minipod has no registry, so it
/// also says at once which image its pods wait for.
fn warn_missing_images(ctx: &Context, object: &AppsObject, origin: &str) {
    let Some(template) = object.template() else {
        return;
    };
    let pod = crate::api::apps::template_pod(template, object.name());
    let origin = format!("{origin}: {}/{}", object.kind().kubectl(), object.name());
    if let Err(errors) = crate::pod::create::resolve_images(&ctx.state, &pod, &origin) {
        for e in errors {
            errln!("Warning: {e}: its pods wait in ErrImagePull/ImagePullBackOff until the image is loaded (minipod image load)");
        }
    }
}
