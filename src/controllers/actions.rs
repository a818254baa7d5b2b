//! What the controllers decide: the actions the executor carries out.

use super::observed::PodView;
use crate::api::apps::{AppsKind, AppsObject};
use crate::pod::events::EventType;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use std::collections::BTreeMap;

/// Who an event is about, and who wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectRef {
    pub kind: AppsKind,
    pub namespace: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Create this pod (its name, labels and ownerReferences set); `for_object` names
    /// the controller, for its SuccessfulCreate or FailedCreate event.
    CreatePod {
        pod: Box<Pod>,
        for_object: ObjectRef,
    },
    /// Delete this pod (by uid: a pod of the same name made since is not it).
    DeletePod {
        namespace: String,
        name: String,
        uid: String,
        /// The controller, for its SuccessfulDelete event (none for the collector).
        for_object: Option<ObjectRef>,
    },
    /// Set the pod's labels and controller ownerReference (adopt, or release: None).
    SetPodOwner {
        namespace: String,
        name: String,
        uid: String,
        owner: Option<OwnerReference>,
        labels: BTreeMap<String, String>,
    },
    /// Write a controller object whole (a ReplicaSet the Deployment made or scaled).
    Put(Box<AppsObject>),
    /// Write only the status (and a Deployment's revision annotation) of an object;
    /// skipped when the stored object's uid or `metadata.generation` is no longer the
    /// one the status was computed from (the spec changed meanwhile).
    PutStatus(Box<AppsObject>),
    /// Remove a controller object (a ReplicaSet past the history limit, one whose
    /// Deployment is gone).
    Remove(ObjectRef),
    Event {
        about: ObjectRef,
        event_type: EventType,
        reason: String,
        message: String,
    },
}

impl Action {
    /// Adopt `pod` for `owner`, or release it (None), keeping its labels.
    pub fn set_pod_owner(pod: &PodView, owner: Option<OwnerReference>) -> Action {
        Action::SetPodOwner {
            namespace: pod.namespace.clone(),
            name: pod.name.clone(),
            uid: pod.uid.clone(),
            owner,
            labels: pod.labels.clone(),
        }
    }
}

impl Action {
    pub fn event(about: &ObjectRef, reason: &str, message: String) -> Action {
        Action::Event {
            about: about.clone(),
            event_type: EventType::Normal,
            reason: reason.to_string(),
            message,
        }
    }
}

impl ObjectRef {
    pub fn of(object: &AppsObject) -> ObjectRef {
        ObjectRef {
            kind: object.kind(),
            namespace: object.namespace().to_string(),
            name: object.name().to_string(),
        }
    }
}

/// The ownerReference a controller puts on what it makes.
pub fn owner_reference(object: &AppsObject) -> OwnerReference {
    OwnerReference {
        api_version: "apps/v1".into(),
        kind: object.kind().name().into(),
        name: object.name().into(),
        uid: object.metadata().uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}
