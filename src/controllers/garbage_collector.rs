//! The garbage collector's part: an object whose controller owner is gone goes too
//! (a deletion with `propagationPolicy: Background`, kubectl's default). ReplicaSets
//! of a deleted Deployment, pods of a deleted ReplicaSet or DaemonSet.

use super::actions::{Action, ObjectRef};
use super::observed::{controller_of, World};

/// Whether an ownerReference's owner is one of the controller kinds (a pod owned by
/// something else is not ours to judge).
fn owned_by_apps(kind: &str, api_version: &str) -> bool {
    api_version == "apps/v1" && matches!(kind, "Deployment" | "ReplicaSet" | "DaemonSet")
}

fn exists(world: &World, uid: &str) -> bool {
    world
        .objects
        .iter()
        .any(|o| o.metadata().uid.as_deref() == Some(uid))
}

pub fn decide(world: &World) -> Vec<Action> {
    let mut actions = Vec::new();
    for object in &world.objects {
        let Some(owner) = controller_of(object.metadata().owner_references.as_ref()) else {
            continue;
        };
        if owned_by_apps(&owner.kind, &owner.api_version) && !exists(world, &owner.uid) {
            actions.push(Action::Remove(ObjectRef::of(object)));
        }
    }
    for pod in &world.pods {
        let Some(owner) = &pod.controller else {
            continue;
        };
        if owned_by_apps(&owner.kind, &owner.api_version)
            && !exists(world, &owner.uid)
            && !pod.terminating
        {
            actions.push(Action::DeletePod {
                namespace: pod.namespace.clone(),
                name: pod.name.clone(),
                uid: pod.uid.clone(),
                for_object: None,
            });
        }
    }
    actions
}

/// Something is left for the collector (dependents whose owner is gone).
pub fn has_work(world: &World) -> bool {
    !decide(world).is_empty()
        || world.pods.iter().any(|p| {
            p.terminating
                && p.controller.as_ref().is_some_and(|o| {
                    owned_by_apps(&o.kind, &o.api_version) && !exists(world, &o.uid)
                })
        })
}
