//! The Deployment controller (kube-controller-manager's deployment-controller), as a
//! pure decision: the Deployment owns ReplicaSets named `<deployment>-<pod-template-
//! hash>`; the one whose template is the Deployment's is the new one, the others are
//! old. A template change makes a new ReplicaSet and moves the replicas over with
//! RollingUpdate (within maxSurge / maxUnavailable) or Recreate.

use super::actions::{owner_reference, Action, ObjectRef};
use super::observed::{controller_of, World};
use super::replicaset::{counts, desired_replicas, Counts};
use super::rolling_update::{self, OldSet};
use super::{deployment_status, pod_template_hash};
use crate::api::apps::{AppsKind, AppsObject};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, ReplicaSetSpec};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use std::collections::BTreeMap;

pub const REVISION: &str = "deployment.kubernetes.io/revision";
pub const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
pub const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";

/// The revision annotation of an object (0 when none).
pub fn revision(metadata: &ObjectMeta) -> i64 {
    metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(REVISION))
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

/// The ReplicaSets a Deployment owns, oldest first.
pub fn owned_sets<'a>(d: &Deployment, world: &'a World) -> Vec<&'a ReplicaSet> {
    let uid = d.metadata.uid.as_deref().unwrap_or("");
    let ns = d.metadata.namespace.as_deref().unwrap_or("default");
    let mut sets: Vec<&ReplicaSet> = world
        .objects
        .iter()
        .filter_map(|o| match o {
            AppsObject::ReplicaSet(rs) => Some(rs),
            _ => None,
        })
        .filter(|rs| rs.metadata.namespace.as_deref().unwrap_or("default") == ns)
        .filter(|rs| {
            controller_of(rs.metadata.owner_references.as_ref()).is_some_and(|o| o.uid == uid)
        })
        .collect();
    sets.sort_by(|a, b| {
        let key = |rs: &ReplicaSet| {
            (
                rs.metadata.creation_timestamp.as_ref().map(|t| t.0),
                rs.metadata.name.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
    sets
}

/// Whether a ReplicaSet's template is the Deployment's (its hash label aside).
pub fn same_template(rs: &ReplicaSet, template: &PodTemplateSpec) -> bool {
    let Some(mut theirs) = rs.spec.as_ref().and_then(|s| s.template.clone()) else {
        return false;
    };
    if let Some(labels) = theirs.metadata.as_mut().and_then(|m| m.labels.as_mut()) {
        labels.remove(pod_template_hash::LABEL);
    }
    let mut ours = template.clone();
    if let Some(labels) = ours.metadata.as_mut().and_then(|m| m.labels.as_mut()) {
        labels.remove(pod_template_hash::LABEL);
    }
    let empty_to_none = |t: &mut PodTemplateSpec| {
        if let Some(m) = t.metadata.as_mut() {
            if m.labels.as_ref().is_some_and(|l| l.is_empty()) {
                m.labels = None;
            }
        }
    };
    empty_to_none(&mut theirs);
    empty_to_none(&mut ours);
    theirs == ours
}

/// The new ReplicaSet (the Deployment's template) and the old ones, oldest first.
pub fn new_and_old<'a>(
    d: &Deployment,
    world: &'a World,
) -> (Option<&'a ReplicaSet>, Vec<&'a ReplicaSet>) {
    let Some(spec) = d.spec.as_ref() else {
        return (None, Vec::new());
    };
    let sets = owned_sets(d, world);
    let new = sets
        .iter()
        .copied()
        .find(|rs| same_template(rs, &spec.template));
    let old = sets
        .into_iter()
        .filter(|rs| new.is_none_or(|n| n.metadata.uid != rs.metadata.uid))
        .collect();
    (new, old)
}

fn scaled(rs: &ReplicaSet, replicas: i32, annotations: &[(&str, String)]) -> ReplicaSet {
    let mut rs = rs.clone();
    if let Some(spec) = rs.spec.as_mut() {
        spec.replicas = Some(replicas);
    }
    let map = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
    for (k, v) in annotations {
        map.insert(k.to_string(), v.clone());
    }
    rs
}

fn name_of(rs: &ReplicaSet) -> String {
    rs.metadata.name.clone().unwrap_or_default()
}

fn scaling_event(me: &ObjectRef, rs: &ReplicaSet, from: i32, to: i32) -> Action {
    let direction = if to > from { "up" } else { "down" };
    Action::event(
        me,
        "ScalingReplicaSet",
        format!(
            "Scaled {direction} replica set {} from {from} to {to}",
            name_of(rs)
        ),
    )
}

pub fn decide(object: &AppsObject, world: &World) -> Vec<Action> {
    let AppsObject::Deployment(d) = object else {
        return Vec::new();
    };
    let Some(spec) = d.spec.as_ref() else {
        return Vec::new();
    };
    if d.metadata.deletion_timestamp.is_some() {
        return Vec::new();
    }
    let me = ObjectRef::of(object);
    // ReplicaSets without a controller that the selector matches (left by a
    // `delete --cascade=orphan`) are adopted first, as upstream's ref manager does.
    let orphans: Vec<Action> = world
        .objects
        .iter()
        .filter_map(|o| match o {
            AppsObject::ReplicaSet(rs) => Some(rs),
            _ => None,
        })
        .filter(|rs| rs.metadata.namespace.as_deref().unwrap_or("default") == me.namespace)
        .filter(|rs| controller_of(rs.metadata.owner_references.as_ref()).is_none())
        .filter(|rs| {
            crate::api::apps::selector::matches(
                &spec.selector,
                &rs.metadata.labels.clone().unwrap_or_default(),
            )
        })
        .map(|rs| {
            let mut adopted = rs.clone();
            adopted
                .metadata
                .owner_references
                .get_or_insert_with(Vec::new)
                .push(owner_reference(object));
            Action::Put(Box::new(AppsObject::ReplicaSet(adopted)))
        })
        .collect();
    if !orphans.is_empty() {
        return orphans;
    }
    let replicas = spec.replicas.unwrap_or(1).max(0);
    let (surge, unavailable) = limits(d, replicas);
    let (new, old) = new_and_old(d, world);
    // The Deployment's status, with the new ReplicaSet when there is one.
    let status = |new: Option<&ReplicaSet>| {
        deployment_status::update(d, new, &old, world, surge, unavailable)
    };
    let max_old_revision = old
        .iter()
        .map(|rs| revision(&rs.metadata))
        .max()
        .unwrap_or(0);
    let mut actions = Vec::new();
    let paused = spec.paused == Some(true);
    let recreate = spec.strategy.as_ref().and_then(|s| s.type_.as_deref()) == Some("Recreate");
    let desired_annotations = [
        (DESIRED_REPLICAS, replicas.to_string()),
        (MAX_REPLICAS, (replicas.saturating_add(surge)).to_string()),
    ];

    let Some(new) = new else {
        if paused {
            actions.extend(status(None));
            return actions;
        }
        let old_total: i32 = old
            .iter()
            .fold(0i32, |a, rs| a.saturating_add(desired_replicas(rs)));
        let start = if recreate {
            if old_total > 0 || old_pods_left(&old, world) {
                actions.extend(scale_old_to_zero(&me, &old));
                actions.extend(status(None));
                return actions;
            }
            replicas
        } else if old.is_empty() {
            replicas
        } else {
            rolling_update::new_replicas(replicas, surge, 0, old_total)
        };
        let hash = pod_template_hash::compute(
            &spec.template,
            d.status.as_ref().and_then(|s| s.collision_count),
        );
        let name = format!("{}-{hash}", me.name);
        let taken = world.objects.iter().any(|o| {
            o.kind() == AppsKind::ReplicaSet && o.namespace() == me.namespace && o.name() == name
        });
        if taken {
            // A ReplicaSet of that name with another template: hash again with one
            // more collision.
            let mut bumped = d.clone();
            let status = bumped.status.get_or_insert_with(Default::default);
            status.collision_count = Some(status.collision_count.unwrap_or(0).saturating_add(1));
            actions.push(Action::PutStatus(Box::new(AppsObject::Deployment(bumped))));
            return actions;
        }
        let rs = new_replica_set(
            object,
            d,
            &name,
            &hash,
            start,
            max_old_revision.saturating_add(1),
            &desired_annotations,
        );
        if start > 0 {
            actions.push(Action::event(
                &me,
                "ScalingReplicaSet",
                format!("Scaled up replica set {name} from 0 to {start}"),
            ));
        }
        actions.push(Action::Put(Box::new(AppsObject::ReplicaSet(rs))));
        return actions;
    };

    // The new ReplicaSet carries the newest revision (again, after an undo).
    let mut new_rs = new.clone();
    let new_revision = revision(&new.metadata);
    if new_revision <= max_old_revision {
        new_rs = scaled(
            &new_rs,
            desired_replicas(&new_rs),
            &[(REVISION, max_old_revision.saturating_add(1).to_string())],
        );
        actions.push(Action::Put(Box::new(AppsObject::ReplicaSet(
            new_rs.clone(),
        ))));
    }
    if paused {
        actions.extend(status(Some(&new_rs)));
        return actions;
    }
    let new_now = desired_replicas(&new_rs);
    let old_total: i32 = old
        .iter()
        .fold(0i32, |a, rs| a.saturating_add(desired_replicas(rs)));
    if recreate {
        if old_total > 0 {
            actions.extend(scale_old_to_zero(&me, &old));
        } else if !old_pods_left(&old, world) && new_now != replicas {
            actions.push(scaling_event(&me, &new_rs, new_now, replicas));
            actions.push(Action::Put(Box::new(AppsObject::ReplicaSet(scaled(
                &new_rs,
                replicas,
                &desired_annotations,
            )))));
        }
    } else {
        let grown = if new_now > replicas {
            replicas
        } else {
            rolling_update::new_replicas(
                replicas,
                surge,
                new_now,
                new_now.saturating_add(old_total),
            )
        };
        if grown != new_now {
            actions.push(scaling_event(&me, &new_rs, new_now, grown));
            actions.push(Action::Put(Box::new(AppsObject::ReplicaSet(scaled(
                &new_rs,
                grown,
                &desired_annotations,
            )))));
        } else if old_total > 0 {
            let counted = |rs: &ReplicaSet| {
                let c: Counts = counts(rs, world);
                OldSet {
                    replicas: desired_replicas(rs),
                    available: c.available.min(desired_replicas(rs)),
                }
            };
            let old_sets: Vec<OldSet> = old.iter().map(|rs| counted(rs)).collect();
            let after =
                rolling_update::scale_down_old(replicas, unavailable, counted(&new_rs), &old_sets);
            for (rs, to) in old.iter().zip(after) {
                let from = desired_replicas(rs);
                if to != from {
                    actions.push(scaling_event(&me, rs, from, to));
                    actions.push(Action::Put(Box::new(AppsObject::ReplicaSet(scaled(
                        rs,
                        to,
                        &[],
                    )))));
                }
            }
        } else if new_rs
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(DESIRED_REPLICAS))
            != Some(&replicas.to_string())
        {
            actions.push(Action::Put(Box::new(AppsObject::ReplicaSet(scaled(
                &new_rs,
                new_now,
                &desired_annotations,
            )))));
        }
    }
    actions.extend(cleanup(d, &old, world));
    actions.extend(status(Some(&new_rs)));
    actions
}

/// maxSurge and maxUnavailable as numbers (Recreate: 0 and all).
pub fn limits(d: &Deployment, replicas: i32) -> (i32, i32) {
    let update = d
        .spec
        .as_ref()
        .and_then(|s| s.strategy.as_ref())
        .and_then(|s| s.rolling_update.as_ref());
    match update {
        Some(u) => {
            rolling_update::limits(u.max_surge.as_ref(), u.max_unavailable.as_ref(), replicas)
        }
        None => (0, replicas),
    }
}

fn old_pods_left(old: &[&ReplicaSet], world: &World) -> bool {
    old.iter().any(|rs| {
        let uid = rs.metadata.uid.as_deref().unwrap_or("");
        world
            .pods
            .iter()
            .any(|p| p.owned_by(uid) && !p.phase.is_finished())
    })
}

fn scale_old_to_zero(me: &ObjectRef, old: &[&ReplicaSet]) -> Vec<Action> {
    let mut actions = Vec::new();
    for rs in old {
        let from = desired_replicas(rs);
        if from > 0 {
            actions.push(scaling_event(me, rs, from, 0));
            actions.push(Action::Put(Box::new(AppsObject::ReplicaSet(scaled(
                rs,
                0,
                &[],
            )))));
        }
    }
    actions
}

/// Old ReplicaSets scaled to 0 and empty, beyond `revisionHistoryLimit`, oldest
/// revision first.
fn cleanup(d: &Deployment, old: &[&ReplicaSet], world: &World) -> Vec<Action> {
    let limit = d
        .spec
        .as_ref()
        .and_then(|s| s.revision_history_limit)
        .unwrap_or(10)
        .max(0);
    let mut idle: Vec<&&ReplicaSet> = old
        .iter()
        .filter(|rs| desired_replicas(rs) == 0 && counts(rs, world).replicas == 0)
        .filter(|rs| {
            let uid = rs.metadata.uid.as_deref().unwrap_or("");
            !world.pods.iter().any(|p| p.owned_by(uid))
        })
        .collect();
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    if idle.len() <= limit {
        return Vec::new();
    }
    idle.sort_by_key(|rs| revision(&rs.metadata));
    let extra = idle.len() - limit;
    idle.iter()
        .take(extra)
        .map(|rs| {
            Action::Remove(ObjectRef {
                kind: AppsKind::ReplicaSet,
                namespace: rs.metadata.namespace.clone().unwrap_or_default(),
                name: name_of(rs),
            })
        })
        .collect()
}

fn new_replica_set(
    object: &AppsObject,
    d: &Deployment,
    name: &str,
    hash: &str,
    replicas: i32,
    revision: i64,
    desired: &[(&str, String)],
) -> ReplicaSet {
    let spec = d.spec.clone().unwrap_or_default();
    let mut template = spec.template.clone();
    let template_meta = template.metadata.get_or_insert_with(Default::default);
    template_meta
        .labels
        .get_or_insert_with(BTreeMap::new)
        .insert(pod_template_hash::LABEL.into(), hash.into());
    let labels = template_meta.labels.clone();
    let mut selector: LabelSelector = spec.selector.clone();
    selector
        .match_labels
        .get_or_insert_with(BTreeMap::new)
        .insert(pod_template_hash::LABEL.into(), hash.into());
    let mut annotations = BTreeMap::new();
    annotations.insert(REVISION.to_string(), revision.to_string());
    for (k, v) in desired {
        annotations.insert(k.to_string(), v.clone());
    }
    ReplicaSet {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: d.metadata.namespace.clone(),
            labels,
            annotations: Some(annotations),
            owner_references: Some(vec![owner_reference(object)]),
            ..Default::default()
        },
        spec: Some(ReplicaSetSpec {
            replicas: Some(replicas),
            min_ready_seconds: spec.min_ready_seconds,
            selector,
            template: Some(template),
        }),
        status: None,
    }
}
