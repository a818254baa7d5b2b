//! A Deployment's status as the deployment controller writes it: counts summed over
//! its ReplicaSets, the Available and Progressing conditions, the revision.

use super::actions::Action;
use super::deployment::{revision, REVISION};
use super::observed::World;
use super::replicaset::{counts, desired_replicas};
use crate::api::apps::AppsObject;
use crate::state::time::meta_at;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet};

/// A condition, keeping its times when neither status nor reason changed.
fn condition(
    old: Option<&DeploymentStatus>,
    kind: &str,
    status: &str,
    reason: &str,
    message: String,
    now: i64,
) -> DeploymentCondition {
    let before = old
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == kind));
    let (transition, update) = match before {
        Some(b) if b.status == status && b.reason.as_deref() == Some(reason) => {
            (b.last_transition_time.clone(), b.last_update_time.clone())
        }
        Some(b) if b.status == status => (b.last_transition_time.clone(), meta_at(now)),
        _ => (meta_at(now), meta_at(now)),
    };
    DeploymentCondition {
        type_: kind.to_string(),
        status: status.to_string(),
        reason: Some(reason.to_string()),
        message: Some(message),
        last_transition_time: transition,
        last_update_time: update,
    }
}

pub fn update(
    d: &Deployment,
    new: Option<&ReplicaSet>,
    old: &[&ReplicaSet],
    world: &World,
    _surge: i32,
    unavailable: i32,
) -> Vec<Action> {
    let spec = d.spec.clone().unwrap_or_default();
    let want = spec.replicas.unwrap_or(1).max(0);
    let mut all: Vec<&ReplicaSet> = old.to_vec();
    all.extend(new);
    let mut total_actual = 0;
    let mut total_spec: i32 = 0;
    let mut ready = 0;
    let mut available = 0;
    for rs in &all {
        let c = counts(rs, world);
        total_actual += c.replicas;
        total_spec = total_spec.saturating_add(desired_replicas(rs));
        ready += c.ready;
        available += c.available;
    }
    let updated = new.map_or(0, |rs| counts(rs, world).replicas);
    let old_status = d.status.as_ref();
    let now = world.now;
    let mut conditions = Vec::new();
    if available >= want.saturating_sub(unavailable) {
        conditions.push(condition(
            old_status,
            "Available",
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.".into(),
            now,
        ));
    } else {
        conditions.push(condition(
            old_status,
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.".into(),
            now,
        ));
    }
    let new_name = new
        .and_then(|rs| rs.metadata.name.clone())
        .unwrap_or_default();
    if spec.paused == Some(true) {
        conditions.push(condition(
            old_status,
            "Progressing",
            "Unknown",
            "DeploymentPaused",
            "Deployment is paused".into(),
            now,
        ));
    } else if new.is_some() {
        let complete = updated == want && available == want && total_actual == want;
        // Progress: any count moved since the last status (upstream refreshes the
        // condition's lastUpdateTime then).
        let progressed = old_status.is_none_or(|s| {
            s.updated_replicas != Some(updated)
                || s.ready_replicas != Some(ready)
                || s.available_replicas != Some(available)
                || s.replicas != Some(total_actual)
        });
        let before = old_status
            .and_then(|s| s.conditions.as_ref())
            .and_then(|c| c.iter().find(|c| c.type_ == "Progressing"));
        let last_progress = before
            .and_then(|c| c.last_update_time.as_ref())
            .map(|t| t.0.as_second())
            .unwrap_or(now);
        let deadline = i64::from(spec.progress_deadline_seconds.unwrap_or(600));
        let stalled = !complete && !progressed && now.saturating_sub(last_progress) > deadline;
        let already_stalled =
            before.is_some_and(|c| c.reason.as_deref() == Some("ProgressDeadlineExceeded"));
        let mut c = if complete {
            condition(
                old_status,
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                format!("ReplicaSet \"{new_name}\" has successfully progressed."),
                now,
            )
        } else if stalled || (already_stalled && !progressed) {
            condition(
                old_status,
                "Progressing",
                "False",
                "ProgressDeadlineExceeded",
                format!("ReplicaSet \"{new_name}\" has timed out progressing."),
                now,
            )
        } else {
            condition(
                old_status,
                "Progressing",
                "True",
                "ReplicaSetUpdated",
                format!("ReplicaSet \"{new_name}\" is progressing."),
                now,
            )
        };
        if progressed && !complete {
            c.last_update_time = meta_at(now);
        }
        conditions.push(c);
    }
    let status = DeploymentStatus {
        observed_generation: d.metadata.generation,
        replicas: Some(total_actual),
        updated_replicas: Some(updated),
        ready_replicas: Some(ready),
        available_replicas: Some(available),
        unavailable_replicas: Some(total_spec.saturating_sub(available).max(0)).filter(|n| *n > 0),
        conditions: Some(conditions),
        collision_count: old_status.and_then(|s| s.collision_count),
        terminating_replicas: None,
    };
    let new_revision = new.map(|rs| revision(&rs.metadata)).unwrap_or(0);
    let revision_changed = new_revision > 0 && revision(&d.metadata) != new_revision;
    if d.status.as_ref() == Some(&status) && !revision_changed {
        return Vec::new();
    }
    let mut updated_d = d.clone();
    updated_d.status = Some(status);
    if new_revision > 0 {
        updated_d
            .metadata
            .annotations
            .get_or_insert_with(Default::default)
            .insert(REVISION.into(), new_revision.to_string());
    }
    vec![Action::PutStatus(Box::new(AppsObject::Deployment(
        updated_d,
    )))]
}
