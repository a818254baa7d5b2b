//! The controller objects' records, beside the pods' in the state root:
//! `run/apps/<resource>/<namespace>/<name>.json` holds the object as the API server
//! would (spec, metadata with uid and generation, and the status the controllers
//! write); `run/apps/events/<resource>/<namespace>/<name>.jsonl` its events.
//! One lock (`run/locks/apps.lock`: no namespace has a dot) guards every read-change-write of these records, for
//! milliseconds, so the CLI's spec changes and the controllers' status writes never
//! undo each other.

use crate::api::apps::{AppsKind, AppsObject};
use crate::pod::events::{Event, EventType};
use crate::state::{atomic, lock, paths::StateRoot, time};
use anyhow::{Context, Result};
use std::io::Write;
use std::path::PathBuf;

/// The directory of every controller record.
pub fn apps_dir(state: &StateRoot) -> PathBuf {
    state.run.join("apps")
}

fn record_path(state: &StateRoot, kind: AppsKind, namespace: &str, name: &str) -> PathBuf {
    apps_dir(state)
        .join(kind.plural())
        .join(namespace)
        .join(format!("{name}.json"))
}

fn events_path(state: &StateRoot, kind: AppsKind, namespace: &str, name: &str) -> PathBuf {
    apps_dir(state)
        .join("events")
        .join(kind.plural())
        .join(namespace)
        .join(format!("{name}.jsonl"))
}

/// The lock of all controller records, held while one is read, changed and written.
pub fn lock(state: &StateRoot) -> Result<lock::StateLock> {
    lock::lock_named(state, "apps.lock")
}

/// Every object of `kind`, sorted by namespace and name. A damaged record is skipped
/// with a warning on standard error (it names the file).
pub fn list(state: &StateRoot, kind: AppsKind) -> Result<Vec<AppsObject>> {
    let dir = apps_dir(state).join(kind.plural());
    let mut out = Vec::new();
    let namespaces = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e).with_context(|| format!("list {}", dir.display())),
    };
    for ns in namespaces.flatten() {
        for file in std::fs::read_dir(ns.path()).into_iter().flatten().flatten() {
            let path = file.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            match read(&path, kind) {
                Ok(object) => out.push(object),
                Err(e) => eprintln!("warning: {e:#}"),
            }
        }
    }
    out.sort_by(|a, b| (a.namespace(), a.name()).cmp(&(b.namespace(), b.name())));
    Ok(out)
}

/// Every controller object of every kind.
pub fn list_all(state: &StateRoot) -> Result<Vec<AppsObject>> {
    let mut all = Vec::new();
    for kind in AppsKind::all() {
        all.extend(list(state, kind)?);
    }
    Ok(all)
}

fn read(path: &std::path::Path, kind: AppsKind) -> Result<AppsObject> {
    let bytes = std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).with_context(|| format!("{} is damaged", path.display()))?;
    AppsObject::from_value(kind, value).with_context(|| format!("{} is damaged", path.display()))
}

pub fn find(
    state: &StateRoot,
    kind: AppsKind,
    namespace: &str,
    name: &str,
) -> Result<Option<AppsObject>> {
    let path = record_path(state, kind, namespace, name);
    if !path.exists() {
        return Ok(None);
    }
    read(&path, kind).map(Some)
}

/// Write the object's record (the caller holds [`lock`]).
pub fn save(state: &StateRoot, object: &AppsObject) -> Result<()> {
    let path = record_path(state, object.kind(), object.namespace(), object.name());
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    }
    atomic::write_json(&path, &object.to_value())
}

/// Remove the object's record and its events (the caller holds [`lock`]).
pub fn remove(state: &StateRoot, kind: AppsKind, namespace: &str, name: &str) -> Result<()> {
    let path = record_path(state, kind, namespace, name);
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("remove {}", path.display())),
    }
    let _ = std::fs::remove_file(events_path(state, kind, namespace, name));
    Ok(())
}

/// Append an event to the object's events (lost, not fatal, when it cannot be written).
pub fn record_event(
    state: &StateRoot,
    kind: AppsKind,
    namespace: &str,
    name: &str,
    event_type: EventType,
    reason: &str,
    message: &str,
) {
    let event = Event {
        time: time::now(),
        kind: event_type,
        reason: reason.to_string(),
        message: message.to_string(),
    };
    let path = events_path(state, kind, namespace, name);
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let Ok(mut line) = serde_json::to_vec(&event) else {
        return;
    };
    line.push(b'\n');
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
    {
        let _ = file.write_all(&line);
    }
}

/// The object's events, oldest first.
pub fn events(state: &StateRoot, kind: AppsKind, namespace: &str, name: &str) -> Vec<Event> {
    let text =
        std::fs::read_to_string(events_path(state, kind, namespace, name)).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}
