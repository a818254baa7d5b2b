//! The DaemonSet controller on one node: exactly one pod of the template on this
//! host, labelled `controller-revision-hash`; a template change replaces it
//! (RollingUpdate, maxUnavailable 1) or waits for the pod to be deleted (OnDelete).

use super::actions::{owner_reference, Action, ObjectRef};
use super::observed::{PodView, World};
use super::pod_template_hash;
use crate::api::apps::{selector, AppsObject};
use k8s_openapi::api::apps::v1::DaemonSetStatus;
use k8s_openapi::api::core::v1::Pod;

pub const REVISION_LABEL: &str = "controller-revision-hash";

pub fn decide(object: &AppsObject, world: &World, node: &str) -> Vec<Action> {
    let AppsObject::DaemonSet(ds) = object else {
        return Vec::new();
    };
    let Some(spec) = ds.spec.as_ref() else {
        return Vec::new();
    };
    if ds.metadata.deletion_timestamp.is_some() {
        return Vec::new();
    }
    let me = ObjectRef::of(object);
    let uid = ds.metadata.uid.clone().unwrap_or_default();
    let owner = owner_reference(object);
    let hash = pod_template_hash::compute(
        &spec.template,
        ds.status.as_ref().and_then(|s| s.collision_count),
    );
    let on_delete = spec
        .update_strategy
        .as_ref()
        .and_then(|s| s.type_.as_deref())
        == Some("OnDelete");
    let min_ready = i64::from(spec.min_ready_seconds.unwrap_or(0));
    let mut actions = Vec::new();
    let mut mine: Vec<&PodView> = Vec::new();
    for p in world.pods_in(&me.namespace) {
        let matches = selector::matches(&spec.selector, &p.labels);
        match &p.controller {
            None if matches && p.is_active() => {
                actions.push(Action::set_pod_owner(p, Some(owner.clone())));
                mine.push(p);
            }
            Some(o) if o.uid == uid => mine.push(p),
            _ => {}
        }
    }
    let delete = |p: &PodView| Action::DeletePod {
        namespace: p.namespace.clone(),
        name: p.name.clone(),
        uid: p.uid.clone(),
        for_object: Some(me.clone()),
    };
    for p in mine
        .iter()
        .filter(|p| p.phase.is_finished() && !p.terminating)
    {
        actions.push(delete(p));
    }
    let mut active: Vec<&PodView> = mine.iter().copied().filter(|p| p.is_active()).collect();
    active.sort_by_key(|p| std::cmp::Reverse(p.created));
    let current = |p: &PodView| p.labels.get(REVISION_LABEL) == Some(&hash);
    let any_terminating = mine.iter().any(|p| p.terminating);
    match active.as_slice() {
        [] if !any_terminating => {
            let mut metadata = spec.template.metadata.clone().unwrap_or_default();
            metadata.name = None;
            metadata.generate_name = Some(format!("{}-", me.name));
            metadata.namespace = Some(me.namespace.clone());
            metadata.owner_references = Some(vec![owner.clone()]);
            metadata
                .labels
                .get_or_insert_with(Default::default)
                .insert(REVISION_LABEL.into(), hash.clone());
            let mut pod_spec = spec.template.spec.clone().unwrap_or_default();
            pod_spec.node_name = Some(node.to_string());
            actions.push(Action::CreatePod {
                pod: Box::new(Pod {
                    metadata,
                    spec: Some(pod_spec),
                    status: None,
                }),
                for_object: me.clone(),
            });
        }
        [] => {}
        [one] => {
            if !current(one) && !on_delete {
                actions.push(delete(one));
            }
        }
        [keep, extra @ ..] => {
            let _ = keep;
            for p in extra {
                actions.push(delete(p));
            }
        }
    }
    let scheduled = i32::from(!active.is_empty());
    let ready = i32::from(active.iter().any(|p| p.ready));
    let available = i32::from(active.iter().any(|p| p.is_available(min_ready, world.now)));
    let updated = i32::from(active.iter().any(|p| current(p)));
    let status = DaemonSetStatus {
        current_number_scheduled: scheduled,
        desired_number_scheduled: 1,
        number_ready: ready,
        number_available: Some(available).filter(|n| *n > 0),
        number_unavailable: Some(1 - available).filter(|n| *n > 0),
        number_misscheduled: 0,
        updated_number_scheduled: Some(updated),
        observed_generation: ds.metadata.generation,
        collision_count: ds.status.as_ref().and_then(|s| s.collision_count),
        conditions: None,
    };
    if ds.status.as_ref() != Some(&status) {
        let mut updated_ds = ds.clone();
        updated_ds.status = Some(status);
        actions.push(Action::PutStatus(Box::new(AppsObject::DaemonSet(
            updated_ds,
        ))));
    }
    actions
}
