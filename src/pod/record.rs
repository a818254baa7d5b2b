//! The pod record (`pod.json`): the Pod as applied, with the defaults and the uid the
//! API server would have given it, and the images its containers run.

use super::paths::PodPaths;
use super::status::PodStatus;
use crate::state::{atomic, paths::StateRoot};
use anyhow::{Context, Result};
use k8s_openapi::api::core::v1::Pod;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// An image as a container of this pod uses it, resolved once at apply time.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageUse {
    pub reference: String,
    pub id: String,
    pub layers: Vec<PathBuf>,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub working_dir: String,
    pub user: String,
    pub stop_signal: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PodRecord {
    pub pod: Pod,
    /// Container name → image.
    pub images: BTreeMap<String, ImageUse>,
    /// The node's seccomp default and profile directory, as they were at apply time.
    #[serde(default)]
    pub seccomp: super::seccomp::NodeSeccomp,
}

impl PodRecord {
    pub fn name(&self) -> &str {
        self.pod.metadata.name.as_deref().unwrap_or("")
    }
    pub fn namespace(&self) -> &str {
        self.pod.metadata.namespace.as_deref().unwrap_or("default")
    }
    pub fn uid(&self) -> &str {
        self.pod.metadata.uid.as_deref().unwrap_or("")
    }
    /// `terminationGracePeriodSeconds` (Kubernetes' default: 30).
    pub fn grace_period(&self) -> i64 {
        self.pod
            .spec
            .as_ref()
            .and_then(|s| s.termination_grace_period_seconds)
            .unwrap_or(30)
    }
    pub fn paths(&self, state: &StateRoot) -> PodPaths {
        PodPaths::new(state, self.namespace(), self.name(), self.uid())
    }
}

/// One pod found on disk: its record and the last status its supervisor wrote.
pub struct StoredPod {
    pub record: PodRecord,
    pub status: Option<PodStatus>,
    pub paths: PodPaths,
}

pub fn save(paths: &PodPaths, record: &PodRecord) -> Result<()> {
    atomic::write_json(&paths.record(), record)
}

pub fn load_status(paths: &PodPaths) -> Result<Option<PodStatus>> {
    match std::fs::read(paths.status()) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .with_context(|| format!("read {}", paths.status().display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("read {}", paths.status().display())),
    }
}

pub fn save_status(paths: &PodPaths, status: &PodStatus) -> Result<()> {
    atomic::write_json(&paths.status(), status)
}

/// Every pod with a record under the state root, sorted by namespace and name.
pub fn list(state: &StateRoot) -> Result<Vec<StoredPod>> {
    let dir = state.pods_run();
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("list {}", dir.display())),
    };
    let mut pods = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("list {}", dir.display()))?;
        let file = entry.path().join("pod.json");
        let bytes = match std::fs::read(&file) {
            Ok(bytes) => bytes,
            // A pod being created or deleted right now: not (or no longer) a pod.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("read {}", file.display())),
        };
        let record: PodRecord =
            serde_json::from_slice(&bytes).with_context(|| format!("read {}", file.display()))?;
        let paths = record.paths(state);
        let status = load_status(&paths)?;
        pods.push(StoredPod {
            record,
            status,
            paths,
        });
    }
    pods.sort_by(|a, b| {
        (a.record.namespace(), a.record.name()).cmp(&(b.record.namespace(), b.record.name()))
    });
    Ok(pods)
}

/// `run/names/<namespace>/<name>`: a symlink to the pod's directory, so that one pod
/// is found by its name without reading every pod's record.
fn name_link(state: &StateRoot, namespace: &str, name: &str) -> PathBuf {
    state.run.join("names").join(namespace).join(name)
}

/// Give the pod its name: made before its record, so a pod with a record always has
/// one (a link left without a record by a crash is ignored and replaced).
pub fn link_name(state: &StateRoot, record: &PodRecord) -> Result<()> {
    let link = name_link(state, record.namespace(), record.name());
    if let Some(dir) = link.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    }
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(state.pod_run(record.uid()), &link)
        .with_context(|| format!("link {} to the pod's records", link.display()))
}

/// Forget the pod's name (only if it still names this pod).
pub fn unlink_name(state: &StateRoot, record: &PodRecord) {
    let link = name_link(state, record.namespace(), record.name());
    if std::fs::read_link(&link).is_ok_and(|t| t == state.pod_run(record.uid())) {
        let _ = std::fs::remove_file(&link);
    }
}

/// The pod `name` in `namespace`, if any.
pub fn find(state: &StateRoot, namespace: &str, name: &str) -> Result<Option<StoredPod>> {
    let Ok(dir) = std::fs::read_link(name_link(state, namespace, name)) else {
        return Ok(None);
    };
    let file = dir.join("pod.json");
    let bytes = match std::fs::read(&file) {
        Ok(bytes) => bytes,
        // Named but without a record: a creation that did not finish.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("read {}", file.display())),
    };
    let record: PodRecord =
        serde_json::from_slice(&bytes).with_context(|| format!("read {}", file.display()))?;
    if record.namespace() != namespace || record.name() != name {
        return Ok(None);
    }
    let paths = record.paths(state);
    let status = load_status(&paths)?;
    Ok(Some(StoredPod {
        record,
        status,
        paths,
    }))
}
