//! `apply -f`, `create -f`, `replace -f`: manifests in, pods out.

use super::apply_duplicates::{self, Deduplicated};
use super::Context;
use super::{errln, outln};
use crate::api::{self, ManifestDoc};
use crate::narration::Step;
use crate::pod::{create, delete, record};
use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ApplyArgs {
    /// Manifest file, directory of manifests, or `-` for standard input (repeatable).
    #[arg(short = 'f', long = "filename", required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Print each kernel step as it happens (`--explain=json` for JSON lines).
    #[arg(long, value_enum, num_args = 0..=1, default_missing_value = "text", require_equals = true)]
    pub explain: Option<ExplainFormat>,

    /// Create nothing: `client` prints the object as it would be sent, `server` also
    /// runs every check apply runs (images, hostPaths, hostPorts, existing pods).
    #[arg(
        long,
        value_enum,
        value_name = "none|client|server",
        require_equals = true
    )]
    pub dry_run: Option<DryRun>,

    /// With --dry-run: print the object as json, yaml or name.
    #[arg(short = 'o', long = "output", value_name = "json|yaml|name")]
    pub output: Option<String>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum DryRun {
    None,
    Client,
    Server,
}

#[derive(Args, Debug)]
pub struct ReplaceArgs {
    #[command(flatten)]
    pub apply: ApplyArgs,
    /// Delete the pod and create it again.
    #[arg(long)]
    pub force: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum ExplainFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, PartialEq)]
pub enum Verb {
    Apply,
    Create,
    Replace { force: bool },
}

impl Verb {
    /// The verb as kubectl names it in messages.
    pub fn word(self) -> &'static str {
        match self {
            Verb::Apply => "apply",
            Verb::Create => "create",
            Verb::Replace { .. } => "replace",
        }
    }
}

/// What will be done with one manifest document.
enum Action {
    Create(create::Plan),
    Unchanged(String),
    /// Only metadata labels/annotations changed: update the record.
    Configure(Box<record::StoredPod>, ManifestDoc),
    ForceReplace(Box<record::StoredPod>, create::Plan),
    /// A container's image changed: the supervisor replaces that container.
    ChangeImages(Box<record::StoredPod>, ManifestDoc),
}

pub fn run(ctx: &Context, args: &ApplyArgs, verb: Verb) -> Result<i32> {
    // Controller objects of a file that also holds Pods are recorded once the Pods
    // passed every check (nothing is created when one of them is refused).
    let pending_apps: Vec<api::AppsDoc>;
    let apps_explain = args.explain.is_some() || ctx.verbose > 0;
    let docs: Vec<ManifestDoc> = match api::load_objects(&args.files) {
        Ok(objects) => {
            let (pods, apps): (Vec<_>, Vec<_>) = objects
                .into_iter()
                .partition(|o| matches!(o, api::ApiObject::Pod(_)));
            let apps: Vec<api::AppsDoc> = apps
                .into_iter()
                .filter_map(|o| match o {
                    api::ApiObject::Apps(doc) => Some(doc),
                    api::ApiObject::Pod(_) => None,
                })
                .collect();
            if !apps.is_empty() && pods.is_empty() {
                return super::apply_apps::run(ctx, apps, verb, args.dry_run, apps_explain);
            }
            pending_apps = apps;
            pods.into_iter()
                .filter_map(|o| match o {
                    api::ApiObject::Pod(doc) => Some(doc),
                    api::ApiObject::Apps(_) => None,
                })
                .collect()
        }
        Err(errors) => {
            for e in &errors.0 {
                errln!("error: {e}");
            }
            return Ok(1);
        }
    };
    if docs.is_empty() {
        // kubectl's words for a file with no object in it (empty, comments, `---`).
        errln!("error: no objects passed to {}", verb.word());
        return Ok(1);
    }
    apply_docs(ctx, docs, pending_apps, args, verb)
}

/// `run` for pods already read (from files, or made by `minipod run`), with the
/// controller objects of the same files, recorded once the pods passed every check.
pub fn apply_docs(
    ctx: &Context,
    docs: Vec<ManifestDoc>,
    mut pending_apps: Vec<api::AppsDoc>,
    args: &ApplyArgs,
    verb: Verb,
) -> Result<i32> {
    let apps_explain = args.explain.is_some() || ctx.verbose > 0;
    let Deduplicated { docs, copies } = match apply_duplicates::deduplicate(docs, verb) {
        Ok(deduplicated) => deduplicated,
        Err(errors) => {
            for e in &errors {
                print_error(e);
            }
            return Ok(1);
        }
    };
    // The API server refuses a pod in a namespace that does not exist: nothing is
    // created (a client dry run does not ask the server).
    if args.dry_run != Some(DryRun::Client) {
        let refused = namespace_errors(ctx, &docs)?;
        if !refused.is_empty() {
            refused.iter().for_each(|e| errln!("{e}"));
            return Ok(1);
        }
    }
    if let Some(mode) = args.dry_run.filter(|m| *m != DryRun::None) {
        if !pending_apps.is_empty() {
            let apps = std::mem::take(&mut pending_apps);
            let code = super::apply_apps::run(ctx, apps, verb, args.dry_run, false)?;
            if code != 0 {
                return Ok(code);
            }
        }
        return dry_run(ctx, docs, mode, args.output.as_deref(), verb);
    }
    // The locks of the pods named here (in one order, so two applies never deadlock),
    // held while deciding and recording, released before waiting on any supervisor.
    let names: std::collections::BTreeSet<(String, String)> = docs
        .iter()
        .map(|d| {
            let m = &d.pod.metadata;
            (
                m.namespace.clone().unwrap_or_else(|| "default".into()),
                m.name.clone().unwrap_or_default(),
            )
        })
        .collect();
    let mut locks = Vec::new();
    for (ns, name) in &names {
        locks.push(crate::state::lock::lock_pod(&ctx.state, ns, name)?);
    }

    // Decide everything before doing anything.
    let mut actions = Vec::new();
    let mut errors = Vec::new();
    for doc in docs {
        let name = doc.pod.metadata.name.clone().unwrap_or_default();
        let ns = doc
            .pod
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let existing = record::find(&ctx.state, &ns, &name)?;
        match (existing, verb) {
            (None, Verb::Replace { .. }) => errors.push(format!(
                "Error from server (NotFound): {}pods \"{name}\" not found",
                api::files::error_when("replacing", &doc.origin)
            )),
            (None, _) => match create::plan(&ctx.state, &doc.pod, &doc.origin) {
                Ok(plan) => actions.push(Action::Create(plan)),
                Err(mut e) => errors.append(&mut e),
            },
            (Some(_), Verb::Create) => errors.push(format!(
                "Error from server (AlreadyExists): {}pods \"{name}\" already exists",
                api::files::error_when("creating", &doc.origin)
            )),
            (Some(existing), Verb::Replace { force: true }) => {
                match create::plan(&ctx.state, &doc.pod, &doc.origin) {
                    Ok(plan) => actions.push(Action::ForceReplace(Box::new(existing), plan)),
                    Err(mut e) => errors.append(&mut e),
                }
            }
            (Some(existing), _) => match compare(&existing, &doc) {
                Ok(Comparison::Unchanged) => actions.push(Action::Unchanged(name)),
                Ok(Comparison::MetadataChanged) => {
                    actions.push(Action::Configure(Box::new(existing), doc))
                }
                Ok(Comparison::ImagesChanged) => {
                    match create::plan(&ctx.state, &doc.pod, &doc.origin) {
                        Ok(_) => actions.push(Action::ChangeImages(Box::new(existing), doc)),
                        Err(mut e) => errors.append(&mut e),
                    }
                }
                Err(e) => errors.push(e),
            },
        }
    }
    if !errors.is_empty() {
        for e in &errors {
            print_error(e);
        }
        return Ok(1);
    }
    if !pending_apps.is_empty() {
        let code = super::apply_apps::run(ctx, pending_apps, verb, None, apps_explain)?;
        if code != 0 {
            return Ok(code);
        }
    }

    // -v narrates like --explain.
    let explain = args
        .explain
        .or((ctx.verbose > 0).then_some(ExplainFormat::Text));
    let mut print_step = |s: &Step| match explain {
        Some(ExplainFormat::Text) => outln!("{}", s.to_line()),
        Some(ExplainFormat::Json) => {
            if let Ok(line) = serde_json::to_string(s) {
                outln!("{line}");
            }
        }
        None => {}
    };
    let done_word = match verb {
        Verb::Replace { .. } => "replaced",
        _ => "created",
    };
    let mut failed = false;
    let mut outcomes = Vec::new();
    for action in actions {
        match action {
            Action::Unchanged(name) => {
                outcomes.push(Outcome::Line(format!("pod/{name} unchanged")))
            }
            Action::Configure(existing, doc) => {
                let mut updated = existing.record.clone();
                updated.pod.metadata.labels = doc.pod.metadata.labels.clone();
                updated.pod.metadata.annotations = doc.pod.metadata.annotations.clone();
                record::save(&existing.paths, &updated)?;
                let word = if verb == Verb::Apply {
                    "configured"
                } else {
                    "replaced"
                };
                outcomes.push(Outcome::Line(format!("pod/{} {word}", updated.name())));
            }
            Action::ChangeImages(existing, doc) => {
                match crate::pod::update::change_images(
                    &ctx.state,
                    &existing,
                    &doc.pod,
                    &doc.origin,
                ) {
                    Ok(_) => {
                        let word = if verb == Verb::Apply {
                            "configured"
                        } else {
                            "replaced"
                        };
                        outcomes.push(Outcome::Line(format!(
                            "pod/{} {word}",
                            existing.record.name()
                        )));
                    }
                    Err(e) => outcomes.push(Outcome::Error(format!("{e:#}"))),
                }
            }
            Action::ForceReplace(existing, plan) => {
                // The old pod must be gone (its hostPorts free) before the new one.
                delete::delete(&ctx.state, &existing, None, &mut print_step)?;
                outln!("pod \"{}\" deleted", existing.record.name());
                let name = plan.pod.metadata.name.clone().unwrap_or_default();
                match create::begin(&ctx.state, plan) {
                    Ok(starting) => {
                        outcomes.push(Outcome::Starting(Box::new(starting), name, "replaced"))
                    }
                    Err(e) => outcomes.push(Outcome::Error(format!("{e:#}"))),
                }
            }
            Action::Create(plan) => {
                let name = plan.pod.metadata.name.clone().unwrap_or_default();
                match create::begin(&ctx.state, plan) {
                    Ok(starting) => {
                        outcomes.push(Outcome::Starting(Box::new(starting), name, done_word))
                    }
                    Err(e) => outcomes.push(Outcome::Error(format!("{e:#}"))),
                }
            }
        }
    }
    // Every pod is recorded and its supervisor carries it on: no lock while waiting.
    drop(locks);
    for outcome in outcomes {
        match outcome {
            Outcome::Line(line) => outln!("{line}"),
            Outcome::Error(e) => {
                errln!("error: {e}");
                failed = true;
            }
            Outcome::Starting(starting, name, word) => {
                let ns = starting.record.namespace().to_string();
                match starting.wait(&ctx.state, &mut print_step) {
                    Ok(_) => outln!("pod/{name} {word}"),
                    Err(e) => {
                        errln!("error: {e:#}");
                        failed = true;
                        super::delete::forget_lock(ctx, &ns, &name);
                    }
                }
            }
        }
    }
    for line in copies {
        outln!("{line}");
    }
    Ok(if failed { 1 } else { 0 })
}

/// One error as kubectl prints it: the API server's (`Error from server (...)`) as
/// they are, the client's after `error: `.
pub(super) fn print_error(e: &str) {
    if e.starts_with("Error from server") {
        errln!("{e}");
    } else {
        errln!("error: {e}");
    }
}

/// kubectl's error for each pod whose namespace does not exist or is being deleted.
fn namespace_errors(ctx: &Context, docs: &[ManifestDoc]) -> Result<Vec<String>> {
    let mut errors = Vec::new();
    for doc in docs {
        let meta = &doc.pod.metadata;
        let ns = meta
            .namespace
            .as_deref()
            .unwrap_or(api::namespaces::DEFAULT);
        let name = meta.name.as_deref().unwrap_or_default();
        let source = api::namespaces::source_name(&doc.origin);
        errors.extend(api::namespaces::admit_pod(&ctx.state, ns, name, source)?);
    }
    Ok(errors)
}

/// What one manifest document came to, printed once no lock is held.
enum Outcome {
    Line(String),
    Error(String),
    /// Recorded, its supervisor started: wait until it runs.
    Starting(Box<create::Starting>, String, &'static str),
}

/// `--dry-run=client|server`: the objects as they would be created, nothing created.
fn dry_run(
    ctx: &Context,
    docs: Vec<ManifestDoc>,
    mode: DryRun,
    output: Option<&str>,
    verb: Verb,
) -> Result<i32> {
    let mut errors = Vec::new();
    let mut words = Vec::new();
    for doc in &docs {
        let name = doc.pod.metadata.name.clone().unwrap_or_default();
        let ns = doc.pod.metadata.namespace.as_deref().unwrap_or("default");
        let mut word = match verb {
            Verb::Replace { .. } => "replaced",
            _ => "created",
        };
        if mode == DryRun::Client && verb == Verb::Apply {
            // kubectl computes the patch against the live object: an empty one is
            // `unchanged`, any other `configured` (the server is not asked).
            if let Some(existing) = record::find(&ctx.state, ns, &name)? {
                word = match compare(&existing, doc) {
                    Ok(Comparison::Unchanged) => "unchanged",
                    _ => "configured",
                };
            }
        }
        if mode == DryRun::Server {
            let existing = record::find(&ctx.state, ns, &name)?;
            match (existing, verb) {
                (None, Verb::Replace { .. }) => errors.push(format!(
                    "Error from server (NotFound): {}pods \"{name}\" not found",
                    api::files::error_when("replacing", &doc.origin)
                )),
                (Some(_), Verb::Create) => errors.push(format!(
                    "Error from server (AlreadyExists): {}pods \"{name}\" already exists",
                    api::files::error_when("creating", &doc.origin)
                )),
                (Some(existing), Verb::Apply) => match compare(&existing, doc) {
                    Ok(Comparison::Unchanged) => word = "unchanged",
                    Ok(Comparison::MetadataChanged) => word = "configured",
                    Ok(Comparison::ImagesChanged) => {
                        word = "configured";
                        if let Err(mut e) =
                            create::resolve_images(&ctx.state, &doc.pod, &doc.origin)
                        {
                            errors.append(&mut e);
                        }
                    }
                    Err(e) => errors.push(e),
                },
                (existing, _) => {
                    // A forced replace frees the old pod's hostPorts first: only check
                    // images and paths then.
                    if existing.is_none() || verb == Verb::Apply {
                        if let Err(mut e) = create::plan(&ctx.state, &doc.pod, &doc.origin) {
                            errors.append(&mut e);
                        }
                    }
                }
            }
        }
        words.push((name, word));
    }
    if !errors.is_empty() {
        for e in &errors {
            print_error(e);
        }
        return Ok(1);
    }
    let suffix = if mode == DryRun::Server {
        "(server dry run)"
    } else {
        "(dry run)"
    };
    let objects: Vec<serde_json::Value> = docs
        .iter()
        .map(|d| {
            let mut v = serde_json::to_value(&d.pod).unwrap_or_default();
            if let Some(obj) = v.as_object_mut() {
                obj.entry("apiVersion").or_insert("v1".into());
                obj.entry("kind").or_insert("Pod".into());
                obj.insert("status".into(), serde_json::json!({}));
            }
            v
        })
        .collect();
    match output {
        None => words
            .iter()
            .for_each(|(name, word)| outln!("pod/{name} {word} {suffix}")),
        Some("name") => words.iter().for_each(|(name, _)| outln!("pod/{name}")),
        Some(fmt @ ("json" | "yaml")) => {
            let value = if objects.len() == 1 {
                objects.into_iter().next().unwrap_or_default()
            } else {
                serde_json::json!({"apiVersion": "v1", "kind": "List", "items": objects, "metadata": {"resourceVersion": ""}})
            };
            if fmt == "json" {
                outln!("{}", serde_json::to_string_pretty(&value)?);
            } else {
                outln!("{}", super::yaml_out::to_yaml(&value).trim_end_matches('\n'));
            }
        }
        Some(other) => bail!("unable to match a printer suitable for the output format \"{other}\", allowed formats are: json,name,yaml"),
    }
    Ok(0)
}

/// Is the manifest the same as the running pod's? Spec changes are refused with the
/// API server's reason; labels and annotations may change.
fn compare(existing: &record::StoredPod, doc: &ManifestDoc) -> Result<Comparison, String> {
    let name = existing.record.name();
    let old = serde_json::to_value(&existing.record.pod.spec).unwrap_or_default();
    // The node was chosen at creation (the scheduler's field): compare the rest.
    let mut new_spec = doc.pod.spec.clone();
    if let (Some(new), Some(old)) = (new_spec.as_mut(), existing.record.pod.spec.as_ref()) {
        if new.node_name.is_none() {
            new.node_name = old.node_name.clone();
        }
    }
    let new = serde_json::to_value(&new_spec).unwrap_or_default();
    if old != new {
        let images_only = {
            let strip = |mut v: serde_json::Value| {
                for key in ["containers", "initContainers"] {
                    if let Some(list) = v.get_mut(key).and_then(|l| l.as_array_mut()) {
                        for c in list {
                            if let Some(obj) = c.as_object_mut() {
                                obj.remove("image");
                                obj.remove("imagePullPolicy");
                            }
                        }
                    }
                }
                v
            };
            strip(old.clone()) == strip(new.clone())
        };
        if images_only {
            return Ok(Comparison::ImagesChanged);
        }
        return Err(format!(
            "The Pod \"{name}\" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
        ));
    }
    let meta = &existing.record.pod.metadata;
    if meta.labels == doc.pod.metadata.labels && meta.annotations == doc.pod.metadata.annotations {
        Ok(Comparison::Unchanged)
    } else {
        Ok(Comparison::MetadataChanged)
    }
}

/// How a manifest differs from the running pod, among the changes Kubernetes allows.
enum Comparison {
    Unchanged,
    /// Labels or annotations.
    MetadataChanged,
    /// A container's image (the running container is replaced).
    ImagesChanged,
}

pub fn ensure_pods(resource: &str) -> Result<()> {
    match resource {
        "pod" | "pods" | "po" => Ok(()),
        other => bail!("the server doesn't have a resource type \"{other}\" (minipod knows pods)"),
    }
}
