//! The pod record (`pod.json`): the Pod as applied, with the defaults and the uid the
//! API server would have given it, and the images its containers run.

use super::paths::PodPaths;
use super::status::{Phase, PodStatus};
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

/// The pod's last status. A damaged file (empty, truncated: a crash or a full disk)
/// makes only this pod `Unknown`; it never stops a command about other pods.
pub fn load_status(paths: &PodPaths) -> Result<Option<PodStatus>> {
    match std::fs::read(paths.status()) {
        Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            unknown_status(format!("{} is damaged: {e}", paths.status().display()))
        }))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Ok(Some(unknown_status(format!(
            "read {}: {e}",
            paths.status().display()
        )))),
    }
}

/// A status nobody can vouch for.
fn unknown_status(message: String) -> PodStatus {
    PodStatus {
        phase: Phase::Unknown,
        reason: String::new(),
        message,
        start_time: None,
        deletion_timestamp: None,
        supervisor: None,
        infra: None,
        qos_class: String::new(),
        init_container_statuses: vec![],
        container_statuses: vec![],
        ..Default::default()
    }
}

pub fn save_status(paths: &PodPaths, status: &PodStatus) -> Result<()> {
    atomic::write_json(&paths.status(), status)
}

/// Every pod with a record under the state root, sorted by namespace and name. A pod
/// whose record is damaged is listed with what can be read (its name from the name
/// index, its uid from its directory), `Unknown`; a directory a creation left without a
/// record is removed (see [`forget_unfinished`]).
pub fn list(state: &StateRoot) -> Result<Vec<StoredPod>> {
    let dir = state.pods_run();
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("list {}", dir.display())),
    };
    let names = name_index(state);
    let mut pods = Vec::new();
    for entry in entries.flatten() {
        let uid = entry.file_name().to_string_lossy().into_owned();
        let named = names.iter().find(|(_, _, d)| *d == entry.path());
        match load_record(
            state,
            &uid,
            named.map(|(ns, n, _)| (ns.as_str(), n.as_str())),
        ) {
            Some(loaded) => {
                let pod = loaded.into_stored(state)?;
                if finish_interrupted(state, &pod) {
                    continue;
                }
                pods.push(pod);
            }
            None => forget_unfinished(state, &uid),
        }
    }
    pods.sort_by(|a, b| {
        (a.record.namespace(), a.record.name()).cmp(&(b.record.namespace(), b.record.name()))
    });
    Ok(pods)
}

/// The record of pod `uid`: read from `pod.json`, or, when that is damaged, made of
/// what is known (`named`: its namespace and name from the name index) so the pod can
/// still be listed and deleted. None when there is no `pod.json` at all.
fn load_record(state: &StateRoot, uid: &str, named: Option<(&str, &str)>) -> Option<Loaded> {
    let file = state.pod_run(uid).join("pod.json");
    let bytes = match std::fs::read(&file) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(_) => Vec::new(),
    };
    match serde_json::from_slice::<PodRecord>(&bytes) {
        Ok(record) if record.uid() == uid => Some(Loaded {
            record,
            damaged: None,
        }),
        _ => {
            let (ns, name) = named.unwrap_or(("default", uid));
            let mut pod = Pod::default();
            pod.metadata.name = Some(name.to_string());
            pod.metadata.namespace = Some(ns.to_string());
            pod.metadata.uid = Some(uid.to_string());
            Some(Loaded {
                record: PodRecord {
                    pod,
                    images: BTreeMap::new(),
                    seccomp: Default::default(),
                },
                damaged: Some(format!("{} is damaged", file.display())),
            })
        }
    }
}

/// A record as read: `damaged` says why it was made of what is known.
struct Loaded {
    record: PodRecord,
    damaged: Option<String>,
}

impl Loaded {
    /// The pod with its status; with a damaged record, nobody can vouch for the pod.
    fn into_stored(self, state: &StateRoot) -> Result<StoredPod> {
        let paths = self.record.paths(state);
        let mut status = load_status(&paths)?;
        if let Some(why) = self.damaged {
            let mut st = status.unwrap_or_else(|| unknown_status(String::new()));
            st.phase = Phase::Unknown;
            st.reason = String::new();
            st.message = why;
            status = Some(st);
        }
        // The API server sets deletionTimestamp when the deletion is asked for; the
        // supervisor writes it a moment later. Until then the request says it.
        if let Some(st) = status.as_mut().filter(|s| s.deletion_timestamp.is_none()) {
            if let Ok(asked) = std::fs::metadata(paths.delete_request()).and_then(|m| m.modified())
            {
                st.deletion_timestamp = Some(crate::state::time::rfc3339(asked));
            }
        }
        Ok(StoredPod {
            record: self.record,
            status,
            paths,
        })
    }
}

/// A pod directory without `pod.json`: a creation right now, or one interrupted
/// (apply killed between its first file and its record). Once it is old enough not to
/// be the former, and no supervisor serves it, it and its name go.
fn forget_unfinished(state: &StateRoot, uid: &str) {
    let dir = state.pod_run(uid);
    let old = std::fs::metadata(&dir)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age > UNFINISHED_AFTER);
    if !old || dir.join("pod.json").exists() {
        return;
    }
    if let Ok(_index) = crate::state::lock::lock(state) {
        for (ns, name, target) in name_index(state) {
            if target == dir {
                let _ = std::fs::remove_file(name_link(state, &ns, &name));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Carry on what a command that was interrupted (Ctrl-C, killed) had started: a
/// deletion whose supervisor is gone is finished (true: the pod is no more); a pod
/// recorded whose supervisor never started gets it now (once).
fn finish_interrupted(state: &StateRoot, pod: &StoredPod) -> bool {
    let deleting = pod
        .status
        .as_ref()
        .is_some_and(|s| s.deletion_timestamp.is_some());
    if deleting && super::delete::find_supervisor(pod).is_none() {
        // Being finished by another command right now: listed as it is (Terminating).
        return super::delete::finish_abandoned(state, pod).unwrap_or(false);
    }
    let unstarted = pod.status.is_none()
        && std::fs::metadata(pod.paths.record())
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > UNFINISHED_AFTER);
    if unstarted && super::delete::find_supervisor(pod).is_none() {
        super::create::resume(state, &pod.record);
    }
    false
}

/// How long a creation may take between a pod's directory and its record.
const UNFINISHED_AFTER: std::time::Duration = std::time::Duration::from_secs(3);

/// Every name link: (namespace, name, the pod directory it points to).
fn name_index(state: &StateRoot) -> Vec<(String, String, PathBuf)> {
    let mut out = Vec::new();
    let root = state.run.join("names");
    for ns in std::fs::read_dir(&root).into_iter().flatten().flatten() {
        for link in std::fs::read_dir(ns.path()).into_iter().flatten().flatten() {
            if let Ok(target) = std::fs::read_link(link.path()) {
                out.push((
                    ns.file_name().to_string_lossy().into_owned(),
                    link.file_name().to_string_lossy().into_owned(),
                    target,
                ));
            }
        }
    }
    out
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

/// The pod `name` in `namespace`, if any: through the name index, or, when its link
/// is missing or stale, through the records (and the link is made again), so the index
/// and the records never tell two stories.
pub fn find(state: &StateRoot, namespace: &str, name: &str) -> Result<Option<StoredPod>> {
    let linked = std::fs::read_link(name_link(state, namespace, name))
        .ok()
        .and_then(|dir| {
            let uid = dir.file_name()?.to_string_lossy().into_owned();
            let loaded = load_record(state, &uid, Some((namespace, name)))?;
            let r = &loaded.record;
            (r.namespace() == namespace && r.name() == name).then_some(loaded)
        });
    let loaded = match linked {
        Some(loaded) => loaded,
        None => {
            let Some(found) = list(state)?
                .into_iter()
                .find(|p| p.record.namespace() == namespace && p.record.name() == name)
            else {
                return Ok(None);
            };
            if let Ok(_index) = crate::state::lock::lock(state) {
                let _ = link_name(state, &found.record);
            }
            return Ok(Some(found));
        }
    };
    loaded.into_stored(state).map(Some)
}
