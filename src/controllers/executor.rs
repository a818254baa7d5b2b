//! Carries out the controllers' actions: pods are created and deleted through the pod
//! layer (`pod::create`, `pod::delete`, as `apply` and `delete` do), controller
//! records are written under their lock. Waiting (a pod's start, a pod's grace
//! period) happens in threads, so the controllers go on deciding meanwhile.

use super::actions::{Action, ObjectRef};
use super::{generate_name, store};
use crate::api::apps::AppsObject;
use crate::pod::events::EventType;
use crate::pod::{create, delete, record};
use crate::state::paths::StateRoot;
use anyhow::{Context, Result};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// After a pod could not be created, its controller waits this long before trying
/// again (upstream backs off too; a missing image must not fill the events).
const CREATE_BACKOFF: Duration = Duration::from_secs(10);

pub struct Executor {
    state: StateRoot,
    /// Controller (kind/namespace/name) → when creating its pods last failed.
    failed_creates: HashMap<String, Instant>,
    /// Threads still waiting on a pod's start or deletion.
    pub in_flight: Arc<AtomicUsize>,
    /// Each action done, in a few words, for the narration and the log.
    pub on_line: Box<dyn FnMut(&str)>,
}

fn key(o: &ObjectRef) -> String {
    format!("{}/{}/{}", o.kind.name(), o.namespace, o.name)
}

impl Executor {
    pub fn new(state: &StateRoot) -> Executor {
        Executor {
            state: state.clone(),
            failed_creates: HashMap::new(),
            in_flight: Arc::new(AtomicUsize::new(0)),
            on_line: Box::new(|_| {}),
        }
    }

    pub fn run(&mut self, actions: Vec<Action>) {
        for action in actions {
            if let Err(e) = self.one(action) {
                (self.on_line)(&format!("error: {e:#}"));
            }
        }
    }

    fn event(&self, about: &ObjectRef, event_type: EventType, reason: &str, message: &str) {
        store::record_event(
            &self.state,
            about.kind,
            &about.namespace,
            &about.name,
            event_type,
            reason,
            message,
        );
    }

    fn one(&mut self, action: Action) -> Result<()> {
        match action {
            Action::CreatePod { pod, for_object } => {
                if self
                    .failed_creates
                    .get(&key(&for_object))
                    .is_some_and(|t| t.elapsed() < CREATE_BACKOFF)
                {
                    return Ok(());
                }
                let mut pod = *pod;
                let base = pod.metadata.generate_name.clone().unwrap_or_default();
                let ns = for_object.namespace.clone();
                // A name already taken (5 random letters of 27: rare) is drawn again,
                // as the API server retries generateName.
                let mut name = generate_name::generate(&base)?;
                let mut lock = crate::state::lock::lock_pod(&self.state, &ns, &name)?;
                for _ in 0..5 {
                    if record::find(&self.state, &ns, &name)?.is_none() {
                        break;
                    }
                    name = generate_name::generate(&base)?;
                    lock = crate::state::lock::lock_pod(&self.state, &ns, &name)?;
                }
                pod.metadata.name = Some(name.clone());
                let origin = format!("{} {}", for_object.kind.name(), for_object.name);
                let started = match create::plan(&self.state, &pod, &origin) {
                    Ok(plan) => create::begin(&self.state, plan).map_err(|e| format!("{e:#}")),
                    Err(errors) => Err(errors.join("; ")),
                };
                drop(lock);
                match started {
                    Ok(starting) => {
                        self.failed_creates.remove(&key(&for_object));
                        self.event(
                            &for_object,
                            EventType::Normal,
                            "SuccessfulCreate",
                            &format!("Created pod: {name}"),
                        );
                        (self.on_line)(&format!(
                            "{}/{}: created pod {name}",
                            for_object.kind.name(),
                            for_object.name
                        ));
                        let state = self.state.clone();
                        let in_flight = self.in_flight.clone();
                        in_flight.fetch_add(1, Ordering::SeqCst);
                        std::thread::spawn(move || {
                            let _ = starting.wait(&state, &mut |_| {});
                            in_flight.fetch_sub(1, Ordering::SeqCst);
                        });
                    }
                    Err(why) => {
                        self.failed_creates.insert(key(&for_object), Instant::now());
                        self.event(
                            &for_object,
                            EventType::Warning,
                            "FailedCreate",
                            &format!("Error creating: {why}"),
                        );
                        (self.on_line)(&format!("{origin}: could not create a pod: {why}"));
                    }
                }
            }
            Action::DeletePod {
                namespace,
                name,
                uid,
                for_object,
            } => {
                let lock = crate::state::lock::lock_pod(&self.state, &namespace, &name)?;
                let Some(pod) = record::find(&self.state, &namespace, &name)? else {
                    return Ok(());
                };
                if pod.record.uid() != uid {
                    return Ok(());
                }
                let deleting = delete::begin(&pod, None)?;
                drop(lock);
                if let Some(owner) = &for_object {
                    self.event(
                        owner,
                        EventType::Normal,
                        "SuccessfulDelete",
                        &format!("Deleted pod: {name}"),
                    );
                }
                (self.on_line)(&format!("deleting pod {name}"));
                let state = self.state.clone();
                let in_flight = self.in_flight.clone();
                in_flight.fetch_add(1, Ordering::SeqCst);
                std::thread::spawn(move || {
                    let _ = deleting.finish(&state, &mut |_| {});
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                });
            }
            Action::SetPodOwner {
                namespace,
                name,
                uid,
                owner,
                labels,
            } => {
                let _lock = crate::state::lock::lock_pod(&self.state, &namespace, &name)?;
                let Some(pod) = record::find(&self.state, &namespace, &name)? else {
                    return Ok(());
                };
                if pod.record.uid() != uid {
                    return Ok(());
                }
                let mut updated = pod.record.clone();
                let meta = &mut updated.pod.metadata;
                let mut refs: Vec<_> = meta
                    .owner_references
                    .take()
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|o| o.controller != Some(true))
                    .collect();
                let word = if owner.is_some() {
                    "adopted"
                } else {
                    "released"
                };
                refs.extend(owner);
                meta.owner_references = Some(refs).filter(|r| !r.is_empty());
                meta.labels = Some(labels).filter(|l| !l.is_empty());
                record::save(&pod.paths, &updated)?;
                (self.on_line)(&format!("pod {name} {word}"));
            }
            Action::Put(object) => {
                let _lock = store::lock(&self.state)?;
                let mut object = *object;
                let existing = store::find(
                    &self.state,
                    object.kind(),
                    object.namespace(),
                    object.name(),
                )?;
                match existing {
                    Some(old) => {
                        let meta = object.metadata_mut();
                        meta.uid = old.metadata().uid.clone();
                        meta.creation_timestamp = old.metadata().creation_timestamp.clone();
                        let same_spec = spec_of(&old) == spec_of(&object);
                        let generation = old.metadata().generation.unwrap_or(1);
                        object.metadata_mut().generation = Some(if same_spec {
                            generation
                        } else {
                            generation.saturating_add(1)
                        });
                        set_status_from(&mut object, &old);
                    }
                    None => {
                        let meta = object.metadata_mut();
                        meta.uid = Some(create::new_uid()?);
                        meta.creation_timestamp = crate::state::time::meta_now();
                        meta.generation = Some(1);
                    }
                }
                store::save(&self.state, &object)?;
            }
            Action::PutStatus(object) => {
                let _lock = store::lock(&self.state)?;
                let Some(mut current) = store::find(
                    &self.state,
                    object.kind(),
                    object.namespace(),
                    object.name(),
                )?
                else {
                    return Ok(());
                };
                if current.metadata().uid != object.metadata().uid
                    || current.metadata().generation != object.metadata().generation
                {
                    return Ok(());
                }
                set_status_from(&mut current, &object);
                if let AppsObject::Deployment(_) = &*object {
                    let revision = object
                        .metadata()
                        .annotations
                        .as_ref()
                        .and_then(|a| a.get(super::deployment::REVISION))
                        .cloned();
                    if let Some(revision) = revision {
                        current
                            .metadata_mut()
                            .annotations
                            .get_or_insert_with(Default::default)
                            .insert(super::deployment::REVISION.into(), revision);
                    }
                }
                store::save(&self.state, &current)?;
            }
            Action::Remove(what) => {
                let _lock = store::lock(&self.state)?;
                store::remove(&self.state, what.kind, &what.namespace, &what.name)
                    .with_context(|| format!("remove {} {}", what.kind.name(), what.name))?;
                (self.on_line)(&format!("{}/{} removed", what.kind.name(), what.name));
            }
            Action::Event {
                about,
                event_type,
                reason,
                message,
            } => {
                (self.on_line)(&format!(
                    "{}/{}: {reason}: {message}",
                    about.kind.name(),
                    about.name
                ));
                self.event(&about, event_type, &reason, &message);
            }
        }
        Ok(())
    }
}

fn spec_of(object: &AppsObject) -> serde_json::Value {
    object.to_value().get("spec").cloned().unwrap_or_default()
}

/// Copy `from`'s status into `to`.
fn set_status_from(to: &mut AppsObject, from: &AppsObject) {
    match (to, from) {
        (AppsObject::Deployment(t), AppsObject::Deployment(f)) => t.status = f.status.clone(),
        (AppsObject::ReplicaSet(t), AppsObject::ReplicaSet(f)) => t.status = f.status.clone(),
        (AppsObject::DaemonSet(t), AppsObject::DaemonSet(f)) => t.status = f.status.clone(),
        _ => {}
    }
}
