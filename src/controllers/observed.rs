//! What the controllers see: the controller objects and every pod, reduced to what a
//! decision needs, with the time as a number, so that deciding is a pure function.

use crate::api::apps::AppsObject;
use crate::pod::record::StoredPod;
use crate::pod::status::{ContainerState, Phase};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use std::collections::BTreeMap;

/// One pod as the controllers see it.
#[derive(Debug, Clone, PartialEq)]
pub struct PodView {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub labels: BTreeMap<String, String>,
    /// The ownerReference with `controller: true`, if any.
    pub controller: Option<OwnerReference>,
    pub phase: Phase,
    /// Every container ready (kubelet's Ready condition).
    pub ready: bool,
    /// When it became ready (seconds since the epoch): the latest container start.
    pub ready_since: Option<i64>,
    /// Being deleted (a request made, or its supervisor stopping it).
    pub terminating: bool,
    /// Created (seconds since the epoch).
    pub created: i64,
    pub restarts: u32,
    /// Has a node (always, on one node, once recorded).
    pub scheduled: bool,
}

impl PodView {
    /// Counts toward a controller's replicas: not finished, not being deleted.
    pub fn is_active(&self) -> bool {
        !self.terminating && !self.phase.is_finished()
    }
    /// Ready for at least `min_ready_seconds` at `now`.
    pub fn is_available(&self, min_ready_seconds: i64, now: i64) -> bool {
        self.ready
            && (min_ready_seconds == 0
                || self
                    .ready_since
                    .is_some_and(|t| now.saturating_sub(t) >= min_ready_seconds))
    }
    pub fn owned_by(&self, uid: &str) -> bool {
        self.controller.as_ref().is_some_and(|o| o.uid == uid)
    }
}

/// The world at one moment.
#[derive(Debug, Clone, Default)]
pub struct World {
    pub now: i64,
    pub objects: Vec<AppsObject>,
    pub pods: Vec<PodView>,
}

impl World {
    pub fn pods_in<'a>(&'a self, namespace: &'a str) -> impl Iterator<Item = &'a PodView> + 'a {
        self.pods.iter().filter(move |p| p.namespace == namespace)
    }
}

/// The controller ownerReference of an object's metadata.
pub fn controller_of(owners: Option<&Vec<OwnerReference>>) -> Option<OwnerReference> {
    owners?.iter().find(|o| o.controller == Some(true)).cloned()
}

fn seconds(text: &str) -> Option<i64> {
    let t = crate::state::time::parse(text)?;
    t.duration_since(std::time::UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_secs()).ok())
}

/// A stored pod (its status made truthful by the caller) as the controllers see it.
pub fn view(stored: &StoredPod, deletion_requested: bool) -> PodView {
    let pod: &Pod = &stored.record.pod;
    let status = stored.status.clone().unwrap_or_default();
    let containers = &status.container_statuses;
    let expected = pod.spec.as_ref().map_or(0, |s| s.containers.len());
    let ready = status.phase == Phase::Running
        && status.deletion_timestamp.is_none()
        && containers.len() == expected
        && containers.iter().all(|c| c.ready);
    let ready_since = containers
        .iter()
        .filter_map(|c| match &c.state {
            ContainerState::Running { started_at } => seconds(started_at),
            _ => None,
        })
        .max();
    let created = pod
        .metadata
        .creation_timestamp
        .as_ref()
        .and_then(|t| seconds(&t.0.to_string()))
        .unwrap_or(0);
    PodView {
        namespace: stored.record.namespace().to_string(),
        name: stored.record.name().to_string(),
        uid: stored.record.uid().to_string(),
        labels: pod.metadata.labels.clone().unwrap_or_default(),
        controller: controller_of(pod.metadata.owner_references.as_ref()),
        phase: status.phase,
        ready,
        ready_since,
        terminating: deletion_requested || status.deletion_timestamp.is_some(),
        created,
        restarts: status.all_containers().map(|c| c.restart_count).sum(),
        scheduled: pod.spec.as_ref().is_some_and(|s| s.node_name.is_some()),
    }
}
