//! The DaemonSet controller on one node: exactly one pod of the template on this
//! host, labelled `controller-revision-hash`; a template change replaces it
//! (RollingUpdate: with maxSurge the new pod first, else the old pod first) or waits
//! for the pod to be deleted (OnDelete).

use super::actions::{owner_reference, Action, ObjectRef};
use super::observed::{PodView, World};
use super::pod_template_hash;
use super::rolling_update;
use crate::api::apps::{selector, AppsObject};
use k8s_openapi::api::apps::v1::{DaemonSetSpec, DaemonSetStatus};
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

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
    let new_pod = || Action::CreatePod {
        pod: Box::new(pod_for_node(&spec.template, &me, &owner, &hash, node)),
        for_object: me.clone(),
    };
    let surge = max_surge(spec);
    let (updated_pods, old_pods): (Vec<&PodView>, Vec<&PodView>) =
        active.iter().copied().partition(|p| current(p));
    match active.as_slice() {
        [] if !any_terminating => actions.push(new_pod()),
        [] => {}
        // maxSurge: the new pod starts beside the old one, which goes once the new
        // one is available (the node is never without a ready daemon).
        _ if surge > 0 && !on_delete && !old_pods.is_empty() => match updated_pods.first() {
            None => actions.push(new_pod()),
            Some(new) => {
                for p in updated_pods.iter().skip(1) {
                    actions.push(delete(p));
                }
                if new.is_available(min_ready, world.now) {
                    for p in &old_pods {
                        actions.push(delete(p));
                    }
                }
            }
        },
        // maxUnavailable: the old pod goes first, its replacement follows.
        [one] => {
            if !current(one) && !on_delete {
                actions.push(delete(one));
            }
        }
        [_keep, extra @ ..] => {
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

/// The daemon pod for this node: the template, named after the DaemonSet, owned by
/// it, labelled with the template's revision, bound to the node.
fn pod_for_node(
    template: &PodTemplateSpec,
    me: &ObjectRef,
    owner: &OwnerReference,
    hash: &str,
    node: &str,
) -> Pod {
    let mut metadata = template.metadata.clone().unwrap_or_default();
    metadata.name = None;
    metadata.generate_name = Some(format!("{}-", me.name));
    metadata.namespace = Some(me.namespace.clone());
    metadata.owner_references = Some(vec![owner.clone()]);
    metadata
        .labels
        .get_or_insert_with(Default::default)
        .insert(REVISION_LABEL.into(), hash.to_string());
    let mut pod_spec = template.spec.clone().unwrap_or_default();
    pod_spec.node_name = Some(node.to_string());
    Pod {
        metadata,
        spec: Some(pod_spec),
        status: None,
    }
}

/// RollingUpdate's maxSurge for the one node this DaemonSet has (a percentage of
/// one rounds up, as the controller does); 0 for OnDelete or when unset.
fn max_surge(spec: &DaemonSetSpec) -> i32 {
    let strategy = spec.update_strategy.as_ref();
    if strategy.and_then(|s| s.type_.as_deref()) == Some("OnDelete") {
        return 0;
    }
    let surge = strategy
        .and_then(|s| s.rolling_update.as_ref())
        .and_then(|u| u.max_surge.as_ref());
    rolling_update::scaled_value(surge, 1, true).max(0)
}
