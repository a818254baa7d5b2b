//! The ReplicaSet controller (kube-controller-manager's replicaset-controller), as a
//! pure decision: given a ReplicaSet and the pods, keep exactly `replicas` active pods
//! matching its selector; adopt orphans that match, release owned pods that no
//! longer match, delete the surplus in the order kube-controller-manager ranks them.

use super::actions::{owner_reference, Action, ObjectRef};
use super::observed::{PodView, World};
use crate::api::apps::{selector, AppsObject};
use crate::pod::status::Phase;
use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetStatus};
use k8s_openapi::api::core::v1::Pod;
use std::cmp::Ordering;

/// No more pods than this are created in one pass (upstream's burst is 500).
const BURST: usize = 500;

/// How many of a ReplicaSet's pods are there, ready, available.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Counts {
    pub replicas: i32,
    pub fully_labeled: i32,
    pub ready: i32,
    pub available: i32,
}

/// The active pods a ReplicaSet owns (by uid), as they are right now.
pub fn counts(rs: &ReplicaSet, world: &World) -> Counts {
    let uid = rs.metadata.uid.as_deref().unwrap_or("");
    let ns = rs.metadata.namespace.as_deref().unwrap_or("default");
    let min_ready = i64::from(
        rs.spec
            .as_ref()
            .and_then(|s| s.min_ready_seconds)
            .unwrap_or(0),
    );
    let template_labels = rs
        .spec
        .as_ref()
        .and_then(|s| s.template.as_ref())
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    let mut c = Counts::default();
    for p in world
        .pods_in(ns)
        .filter(|p| p.owned_by(uid) && p.is_active())
    {
        c.replicas += 1;
        if template_labels
            .iter()
            .all(|(k, v)| p.labels.get(k) == Some(v))
        {
            c.fully_labeled += 1;
        }
        if p.ready {
            c.ready += 1;
        }
        if p.is_available(min_ready, world.now) {
            c.available += 1;
        }
    }
    c
}

pub fn desired_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec
        .as_ref()
        .and_then(|s| s.replicas)
        .unwrap_or(1)
        .max(0)
}

pub fn decide(object: &AppsObject, world: &World) -> Vec<Action> {
    let AppsObject::ReplicaSet(rs) = object else {
        return Vec::new();
    };
    let Some(spec) = rs.spec.as_ref() else {
        return Vec::new();
    };
    let me = ObjectRef::of(object);
    let uid = rs.metadata.uid.clone().unwrap_or_default();
    let owner = owner_reference(object);
    // Being deleted in the foreground: its pods are being deleted, none is made.
    if rs.metadata.deletion_timestamp.is_some() {
        return Vec::new();
    }
    let mut actions = Vec::new();
    let mut mine: Vec<&PodView> = Vec::new();
    for p in world.pods_in(&me.namespace) {
        let matches = selector::matches(&spec.selector, &p.labels);
        match &p.controller {
            None if matches && p.is_active() && rs.metadata.deletion_timestamp.is_none() => {
                actions.push(Action::set_pod_owner(p, Some(owner.clone())));
                mine.push(p);
            }
            Some(o) if o.uid == uid && !matches => actions.push(Action::set_pod_owner(p, None)),
            Some(o) if o.uid == uid => mine.push(p),
            _ => {}
        }
    }
    // A finished pod never runs again: it is replaced, and removed (the pod garbage
    // collector's job upstream).
    for p in mine
        .iter()
        .filter(|p| p.phase.is_finished() && !p.terminating)
    {
        actions.push(Action::DeletePod {
            namespace: p.namespace.clone(),
            name: p.name.clone(),
            uid: p.uid.clone(),
            for_object: None,
        });
    }
    let mut active: Vec<&PodView> = mine.iter().copied().filter(|p| p.is_active()).collect();
    let want = usize::try_from(desired_replicas(rs)).unwrap_or(0);
    if active.len() < want {
        let missing = (want - active.len()).min(BURST);
        if let Some(template) = &spec.template {
            for _ in 0..missing {
                let mut metadata = template.metadata.clone().unwrap_or_default();
                metadata.name = None;
                metadata.generate_name = Some(format!("{}-", me.name));
                metadata.namespace = Some(me.namespace.clone());
                metadata.owner_references = Some(vec![owner.clone()]);
                let pod = Pod {
                    metadata,
                    spec: template.spec.clone(),
                    status: None,
                };
                actions.push(Action::CreatePod {
                    pod: Box::new(pod),
                    for_object: me.clone(),
                });
            }
        }
    } else if active.len() > want {
        active.sort_by(|a, b| deletion_rank(a, b, world.now));
        for p in active.iter().take(active.len() - want) {
            actions.push(Action::DeletePod {
                namespace: p.namespace.clone(),
                name: p.name.clone(),
                uid: p.uid.clone(),
                for_object: Some(me.clone()),
            });
        }
    }
    let c = counts(rs, world);
    let status = ReplicaSetStatus {
        replicas: c.replicas,
        fully_labeled_replicas: Some(c.fully_labeled),
        ready_replicas: Some(c.ready),
        available_replicas: Some(c.available),
        observed_generation: rs.metadata.generation,
        conditions: None,
        terminating_replicas: None,
    };
    if rs.status.as_ref() != Some(&status) {
        let mut updated = rs.clone();
        updated.status = Some(status);
        actions.push(Action::PutStatus(Box::new(AppsObject::ReplicaSet(updated))));
    }
    actions
}

/// kube-controller-manager's order of deletion (the first goes first): unscheduled
/// before scheduled, Pending before Unknown before Running, not ready before ready,
/// ready for less time first, more restarts first, newer first.
pub fn deletion_rank(a: &PodView, b: &PodView, now: i64) -> Ordering {
    fn phase_rank(p: Phase) -> u8 {
        match p {
            Phase::Pending => 0,
            Phase::Unknown => 1,
            Phase::Running => 2,
            _ => 3,
        }
    }
    a.scheduled
        .cmp(&b.scheduled)
        .then(phase_rank(a.phase).cmp(&phase_rank(b.phase)))
        .then(a.ready.cmp(&b.ready))
        .then_with(|| {
            // Ready for less time first.
            let ra = a.ready_since.map(|t| now.saturating_sub(t));
            let rb = b.ready_since.map(|t| now.saturating_sub(t));
            ra.cmp(&rb)
        })
        .then(b.restarts.cmp(&a.restarts))
        .then(b.created.cmp(&a.created))
}
