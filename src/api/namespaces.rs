//! Namespaces as the API server keeps them: objects of their own
//! (`run/namespaces/<name>.json`), `default` always there, a pod only in a
//! namespace that exists and is not being deleted.
//!
//! What kubectl shows of one: NAME, STATUS (`Active`, `Terminating` while its pods
//! are deleted) and AGE; as an object, `kind: Namespace` with the label
//! `kubernetes.io/metadata.name` the API server adds.

use crate::state::{atomic, paths::StateRoot, time};
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The namespace every cluster has, and pods without one go to.
pub const DEFAULT: &str = "default";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Namespace {
    pub name: String,
    pub uid: String,
    pub creation_timestamp: String,
    pub phase: Phase,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub enum Phase {
    Active,
    Terminating,
}

impl Phase {
    pub fn word(self) -> &'static str {
        match self {
            Phase::Active => "Active",
            Phase::Terminating => "Terminating",
        }
    }
}

impl Namespace {
    /// The object as the API server returns it (`get ns X -o yaml`).
    pub fn to_object(&self) -> serde_json::Value {
        serde_json::json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "creationTimestamp": self.creation_timestamp,
                "labels": {"kubernetes.io/metadata.name": self.name},
                "name": self.name,
                "uid": self.uid,
            },
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": self.phase.word()},
        })
    }
}

fn dir(state: &StateRoot) -> PathBuf {
    state.run.join("namespaces")
}

fn path(state: &StateRoot, name: &str) -> PathBuf {
    dir(state).join(format!("{name}.json"))
}

/// One namespace, or None. `default` is made on first use.
pub fn get(state: &StateRoot, name: &str) -> Result<Option<Namespace>> {
    let file = path(state, name);
    match std::fs::read(&file) {
        Ok(data) => {
            let ns = serde_json::from_slice(&data)
                .with_context(|| format!("read namespace record {}", file.display()))?;
            Ok(Some(ns))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if name == DEFAULT {
                return Ok(Some(write_new(state, DEFAULT)?));
            }
            Ok(None)
        }
        Err(e) => Err(e).with_context(|| format!("read {}", file.display())),
    }
}

/// Every namespace, sorted by name (`default` always among them).
pub fn list(state: &StateRoot) -> Result<Vec<Namespace>> {
    let mut all = Vec::new();
    get(state, DEFAULT)?;
    let entries = match std::fs::read_dir(dir(state)) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(all),
        Err(e) => return Err(e).with_context(|| format!("list {}", dir(state).display())),
    };
    for entry in entries {
        let entry = entry.with_context(|| format!("list {}", dir(state).display()))?;
        let file_name = entry.file_name().to_string_lossy().into_owned();
        // Temporary files of an atomic write start with a dot.
        let Some(name) = file_name
            .strip_suffix(".json")
            .filter(|_| !file_name.starts_with('.'))
        else {
            continue;
        };
        if let Some(ns) = get(state, name)? {
            all.push(ns);
        }
    }
    all.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(all)
}

/// Why a namespace cannot be created, in the API server's words.
pub fn create(state: &StateRoot, name: &str) -> Result<std::result::Result<Namespace, String>> {
    let reasons = super::names::dns1123_label(name);
    if !reasons.is_empty() {
        return Ok(Err(format!(
            "The Namespace \"{name}\" is invalid: metadata.name: Invalid value: \"{name}\": {}",
            reasons.join(", ")
        )));
    }
    let _lock = crate::state::lock::lock(state)?;
    if get(state, name)?.is_some() {
        return Ok(Err(format!(
            "Error from server (AlreadyExists): namespaces \"{name}\" already exists"
        )));
    }
    Ok(Ok(write_new(state, name)?))
}

fn write_new(state: &StateRoot, name: &str) -> Result<Namespace> {
    let ns = Namespace {
        name: name.to_string(),
        uid: crate::pod::create::new_uid()?,
        creation_timestamp: time::now(),
        phase: Phase::Active,
    };
    std::fs::create_dir_all(dir(state))
        .with_context(|| format!("create {}", dir(state).display()))?;
    atomic::write_json(&path(state, name), &ns)?;
    Ok(ns)
}

/// Mark a namespace as being deleted: no new pod goes into it from now on.
pub fn mark_terminating(state: &StateRoot, ns: &Namespace) -> Result<()> {
    let mut terminating = ns.clone();
    terminating.phase = Phase::Terminating;
    atomic::write_json(&path(state, &ns.name), &terminating)
}

/// Forget a namespace (its pods are gone).
pub fn remove(state: &StateRoot, name: &str) -> Result<()> {
    let file = path(state, name);
    match std::fs::remove_file(&file) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("remove {}", file.display())),
    }
}

/// Can a new pod go into `name`? Err: the API server's reason, for a pod `pod`
/// created from `source` (kubectl names the file: `error when creating "pod.yaml"`).
pub fn admit_pod(state: &StateRoot, name: &str, pod: &str, source: &str) -> Result<Option<String>> {
    admit(state, name, "pods", pod, source)
}

/// Can a new object of `resource` (`pods`, `deployments.apps`, ...) named `object` go
/// into namespace `name`? Err: the API server's reason.
pub fn admit(
    state: &StateRoot,
    name: &str,
    resource: &str,
    object: &str,
    source: &str,
) -> Result<Option<String>> {
    Ok(match get(state, name)? {
        Some(ns) if ns.phase == Phase::Active => None,
        Some(_) => Some(format!(
            "Error from server (Forbidden): error when creating \"{source}\": {resource} \"{object}\" is forbidden: unable to create new content in namespace {name} because it is being terminated"
        )),
        None => Some(format!(
            "Error from server (NotFound): error when creating \"{source}\": namespaces \"{name}\" not found"
        )),
    })
}

/// The file a manifest came from as kubectl names it: `STDIN` for `-`, without our
/// ` (document 2)` / ` (item 1)` suffixes.
pub fn source_name(origin: &str) -> &str {
    let file = origin.split(" (").next().unwrap_or(origin);
    if file == "-" {
        "STDIN"
    } else {
        file
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> (StateRoot, PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "minipod-ns-unit-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        (StateRoot::new(Some(&dir)), dir)
    }

    #[test]
    fn default_is_always_there_and_names_are_checked() {
        let (state, dir) = root();
        let names: Vec<String> = list(&state).unwrap().into_iter().map(|n| n.name).collect();
        assert_eq!(names, ["default"]);
        assert!(create(&state, "team-a").unwrap().is_ok());
        assert_eq!(
            create(&state, "team-a").unwrap().unwrap_err(),
            "Error from server (AlreadyExists): namespaces \"team-a\" already exists"
        );
        assert!(create(&state, "Team_A")
            .unwrap()
            .unwrap_err()
            .starts_with("The Namespace \"Team_A\" is invalid: metadata.name: Invalid value: \"Team_A\": a lowercase RFC 1123 label"));
        assert_eq!(admit_pod(&state, "team-a", "p", "p.yaml").unwrap(), None);
        assert_eq!(
            admit_pod(&state, "nowhere", "p", "p.yaml").unwrap().unwrap(),
            "Error from server (NotFound): error when creating \"p.yaml\": namespaces \"nowhere\" not found"
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn kubectl_names_the_source_file() {
        assert_eq!(source_name("-"), "STDIN");
        assert_eq!(source_name("pods.yaml (document 2)"), "pods.yaml");
    }
}
