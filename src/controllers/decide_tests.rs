//! The controllers' decisions as tables: a world in, actions out, no root needed.

use super::actions::Action;
use super::observed::{PodView, World};
use super::{decide_all, deployment, garbage_collector, replicaset};
use crate::api::apps::AppsObject;
use crate::api::{parse_objects, ApiObject};
use crate::pod::status::Phase;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

const CHAPTER: &str = include_str!("../../examples/nginx-deployment.yaml");

fn deployment(uid: &str) -> AppsObject {
    let objects = parse_objects(CHAPTER, "d.yaml").unwrap();
    let ApiObject::Apps(doc) = objects.into_iter().next().unwrap() else {
        panic!()
    };
    let mut d = doc.object;
    d.metadata_mut().uid = Some(uid.into());
    d.metadata_mut().generation = Some(1);
    d
}

fn owner(kind: &str, name: &str, uid: &str) -> OwnerReference {
    OwnerReference {
        api_version: "apps/v1".into(),
        kind: kind.into(),
        name: name.into(),
        uid: uid.into(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

fn pod(name: &str, rs: &AppsObject, ready: bool, created: i64) -> PodView {
    let labels = rs
        .template()
        .and_then(|t| t.metadata.clone())
        .and_then(|m| m.labels)
        .unwrap_or_default();
    PodView {
        namespace: "default".into(),
        name: name.into(),
        uid: format!("uid-{name}"),
        labels,
        controller: Some(owner(
            "ReplicaSet",
            rs.name(),
            rs.metadata().uid.as_deref().unwrap(),
        )),
        phase: if ready {
            Phase::Running
        } else {
            Phase::Pending
        },
        ready,
        ready_since: ready.then_some(created),
        terminating: false,
        created,
        restarts: 0,
        scheduled: true,
    }
}

/// The ReplicaSet the Deployment makes first (its Put), given a uid.
fn first_replica_set(d: &AppsObject, uid: &str) -> AppsObject {
    let world = World {
        now: 100,
        objects: vec![d.clone()],
        pods: vec![],
    };
    let actions = deployment::decide(d, &world);
    let rs = actions
        .iter()
        .find_map(|a| match a {
            Action::Put(o) => Some((**o).clone()),
            _ => None,
        })
        .expect("a new ReplicaSet");
    let mut rs = rs;
    rs.metadata_mut().uid = Some(uid.into());
    rs.metadata_mut().generation = Some(1);
    rs
}

fn count(actions: &[Action], f: impl Fn(&Action) -> bool) -> usize {
    actions.iter().filter(|a| f(a)).count()
}

#[test]
fn a_new_deployment_makes_a_replica_set_of_two_named_by_its_template_hash() {
    let d = deployment("d1");
    let rs = first_replica_set(&d, "rs1");
    let name = rs.name().to_string();
    let hash = name.strip_prefix("nginx-deployment-").unwrap();
    assert!(hash
        .bytes()
        .all(|b| super::pod_template_hash::ALPHABET.contains(&b)));
    let AppsObject::ReplicaSet(r) = &rs else {
        panic!()
    };
    let spec = r.spec.as_ref().unwrap();
    assert_eq!(spec.replicas, Some(2));
    assert_eq!(
        spec.selector.match_labels.as_ref().unwrap()["pod-template-hash"],
        hash
    );
    assert_eq!(deployment::revision(&r.metadata), 1);
    assert_eq!(r.metadata.owner_references.as_ref().unwrap()[0].uid, "d1");
}

#[test]
fn a_replica_set_creates_the_missing_and_deletes_the_surplus_least_valuable_first() {
    let d = deployment("d1");
    let rs = first_replica_set(&d, "rs1");
    let creates = |pods: Vec<PodView>| {
        let world = World {
            now: 100,
            objects: vec![rs.clone()],
            pods,
        };
        let actions = replicaset::decide(&rs, &world);
        (
            count(&actions, |a| matches!(a, Action::CreatePod { .. })),
            actions
                .iter()
                .filter_map(|a| match a {
                    Action::DeletePod { name, .. } => Some(name.clone()),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        )
    };
    // (pods, creates, deleted)
    assert_eq!(creates(vec![]), (2, vec![]));
    assert_eq!(creates(vec![pod("a", &rs, true, 1)]), (1, vec![]));
    assert_eq!(
        creates(vec![pod("a", &rs, true, 1), pod("b", &rs, true, 2)]),
        (0, vec![])
    );
    // Three: the one not ready goes first, then the newest.
    assert_eq!(
        creates(vec![
            pod("a", &rs, true, 1),
            pod("b", &rs, false, 0),
            pod("c", &rs, true, 3)
        ]),
        (0, vec!["b".to_string()])
    );
    assert_eq!(
        creates(vec![
            pod("a", &rs, true, 1),
            pod("b", &rs, true, 2),
            pod("c", &rs, true, 3)
        ]),
        (0, vec!["c".to_string()])
    );
    // A terminating pod does not count: a replacement is made at once.
    let mut gone = pod("a", &rs, true, 1);
    gone.terminating = true;
    assert_eq!(creates(vec![gone, pod("b", &rs, true, 2)]), (1, vec![]));
    // A failed pod is replaced and removed.
    let mut failed = pod("a", &rs, false, 1);
    failed.phase = Phase::Failed;
    assert_eq!(
        creates(vec![failed, pod("b", &rs, true, 2)]),
        (1, vec!["a".to_string()])
    );
}

#[test]
fn created_pods_carry_generate_name_labels_and_the_owner() {
    let d = deployment("d1");
    let rs = first_replica_set(&d, "rs1");
    let world = World {
        now: 1,
        objects: vec![rs.clone()],
        pods: vec![],
    };
    let Some(Action::CreatePod { pod, .. }) = replicaset::decide(&rs, &world).into_iter().next()
    else {
        panic!("a pod first")
    };
    assert_eq!(
        pod.metadata.generate_name.as_deref(),
        Some(&*format!("{}-", rs.name()))
    );
    assert!(pod
        .metadata
        .labels
        .as_ref()
        .unwrap()
        .contains_key("pod-template-hash"));
    assert_eq!(
        pod.metadata.owner_references.as_ref().unwrap()[0].kind,
        "ReplicaSet"
    );
}

#[test]
fn a_template_change_rolls_with_at_most_one_extra_pod() {
    let d = deployment("d1");
    let old = first_replica_set(&d, "rs-old");
    let pods = vec![pod("a", &old, true, 1), pod("b", &old, true, 2)];
    // The template changes: a new ReplicaSet of 1 (2 + maxSurge 1 = 3 pods at most).
    let mut d2 = d.clone();
    if let AppsObject::Deployment(dep) = &mut d2 {
        dep.spec
            .as_mut()
            .unwrap()
            .template
            .spec
            .as_mut()
            .unwrap()
            .containers[0]
            .image = Some("nginx:1.17.8".into());
    }
    let world = World {
        now: 10,
        objects: vec![d2.clone(), old.clone()],
        pods: pods.clone(),
    };
    let actions = deployment::decide(&d2, &world);
    let new = actions
        .iter()
        .find_map(|a| match a {
            Action::Put(o) if o.name() != old.name() => Some((**o).clone()),
            _ => None,
        })
        .expect("a second ReplicaSet");
    let AppsObject::ReplicaSet(n) = &new else {
        panic!()
    };
    assert_eq!(n.spec.as_ref().unwrap().replicas, Some(1));
    assert_eq!(deployment::revision(&n.metadata), 2);
    assert!(actions
        .iter()
        .any(|a| matches!(a, Action::Event { message, .. }
        if message == &format!("Scaled up replica set {} from 0 to 1", new.name()))));
    // While the new pod is not ready, the old ReplicaSet keeps its two.
    let mut new = new;
    new.metadata_mut().uid = Some("rs-new".into());
    let mut pods2 = pods.clone();
    pods2.push(pod("n1", &new, false, 11));
    let world = World {
        now: 12,
        objects: vec![d2.clone(), old.clone(), new.clone()],
        pods: pods2.clone(),
    };
    let actions = deployment::decide(&d2, &world);
    assert_eq!(
        count(&actions, |a| matches!(a, Action::Put(_))),
        0,
        "{actions:?}"
    );
    // Once it is available, the old one goes to 1.
    pods2.last_mut().unwrap().ready = true;
    pods2.last_mut().unwrap().phase = Phase::Running;
    pods2.last_mut().unwrap().ready_since = Some(11);
    let world = World {
        now: 12,
        objects: vec![d2.clone(), old.clone(), new.clone()],
        pods: pods2,
    };
    let actions = deployment::decide(&d2, &world);
    assert!(
        actions
            .iter()
            .any(|a| matches!(a, Action::Event { message, .. }
        if message == &format!("Scaled down replica set {} from 2 to 1", old.name()))),
        "{actions:?}"
    );
}

#[test]
fn the_collector_removes_what_lost_its_owner() {
    let d = deployment("d1");
    let rs = first_replica_set(&d, "rs1");
    let p = pod("a", &rs, true, 1);
    // The Deployment is gone: its ReplicaSet goes; the ReplicaSet gone: its pod goes.
    let world = World {
        now: 1,
        objects: vec![rs.clone()],
        pods: vec![p.clone()],
    };
    let actions = garbage_collector::decide(&world);
    assert!(
        matches!(&actions[..], [Action::Remove(r)] if r.name == rs.name()),
        "{actions:?}"
    );
    let world = World {
        now: 1,
        objects: vec![],
        pods: vec![p],
    };
    let actions = garbage_collector::decide(&world);
    assert!(matches!(&actions[..], [Action::DeletePod { name, .. }] if name == "a"));
    assert!(garbage_collector::has_work(&world));
    // Everything in place: nothing to do.
    let world = World {
        now: 1,
        objects: vec![d, rs.clone()],
        pods: vec![pod("a", &rs, true, 1)],
    };
    assert!(garbage_collector::decide(&world).is_empty());
}

#[test]
fn a_daemon_set_keeps_one_pod_on_the_node() {
    let text = CHAPTER
        .replace("kind: Deployment", "kind: DaemonSet")
        .replace("  replicas: 2\n", "");
    let ApiObject::Apps(doc) = parse_objects(&text, "ds.yaml").unwrap().remove(0) else {
        panic!()
    };
    let mut ds = doc.object;
    ds.metadata_mut().uid = Some("ds1".into());
    let world = World {
        now: 1,
        objects: vec![ds.clone()],
        pods: vec![],
    };
    let actions = decide_all(&world, "node-1");
    let created: Vec<_> = actions
        .iter()
        .filter_map(|a| match a {
            Action::CreatePod { pod, .. } => Some(pod.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(created.len(), 1);
    assert_eq!(
        created[0].spec.as_ref().unwrap().node_name.as_deref(),
        Some("node-1")
    );
    assert!(created[0]
        .metadata
        .labels
        .as_ref()
        .unwrap()
        .contains_key("controller-revision-hash"));
}

#[test]
fn recreate_stops_the_old_pods_before_the_new_replica_set_grows() {
    let d = deployment("d1");
    let old = first_replica_set(&d, "rs-old");
    let mut d2 = d.clone();
    if let AppsObject::Deployment(dep) = &mut d2 {
        let spec = dep.spec.as_mut().unwrap();
        spec.strategy = Some(k8s_openapi::api::apps::v1::DeploymentStrategy {
            type_: Some("Recreate".into()),
            rolling_update: None,
        });
        spec.template.spec.as_mut().unwrap().containers[0].image = Some("nginx:1.17.8".into());
    }
    let pods = vec![pod("a", &old, true, 1), pod("b", &old, true, 2)];
    let world = World {
        now: 5,
        objects: vec![d2.clone(), old.clone()],
        pods: pods.clone(),
    };
    let actions = deployment::decide(&d2, &world);
    // First the old ReplicaSet goes to 0, and no new one yet.
    assert!(
        actions
            .iter()
            .any(|a| matches!(a, Action::Event { message, .. }
        if message == &format!("Scaled down replica set {} from 2 to 0", old.name()))),
        "{actions:?}"
    );
    assert!(!actions
        .iter()
        .any(|a| matches!(a, Action::Put(o) if o.name() != old.name())));
    // Old pods still there (terminating): still no new ReplicaSet.
    let mut zero = old.clone();
    if let AppsObject::ReplicaSet(r) = &mut zero {
        r.spec.as_mut().unwrap().replicas = Some(0);
    }
    let mut dying = pods;
    for p in &mut dying {
        p.terminating = true;
    }
    let world = World {
        now: 6,
        objects: vec![d2.clone(), zero.clone()],
        pods: dying,
    };
    assert!(!deployment::decide(&d2, &world)
        .iter()
        .any(|a| matches!(a, Action::Put(o) if o.name() != old.name())));
    // All gone: the new ReplicaSet at full size.
    let world = World {
        now: 7,
        objects: vec![d2.clone(), zero],
        pods: vec![],
    };
    let actions = deployment::decide(&d2, &world);
    assert!(actions.iter().any(|a| matches!(a, Action::Put(o)
        if o.name() != old.name() && matches!(&**o, AppsObject::ReplicaSet(r) if r.spec.as_ref().unwrap().replicas == Some(2)))), "{actions:?}");
}

#[test]
fn an_orphaned_replica_set_is_adopted_again() {
    let d = deployment("d1");
    let mut rs = first_replica_set(&d, "rs1");
    rs.metadata_mut().owner_references = None;
    let world = World {
        now: 1,
        objects: vec![d.clone(), rs.clone()],
        pods: vec![],
    };
    let actions = deployment::decide(&d, &world);
    assert!(
        matches!(&actions[..], [Action::Put(o)]
        if o.name() == rs.name() && o.metadata().owner_references.as_ref().unwrap()[0].uid == "d1"),
        "{actions:?}"
    );
}

#[test]
fn a_rollout_without_progress_past_its_deadline_is_reported() {
    let mut d = deployment("d1");
    let rs = first_replica_set(&d, "rs1");
    // Two pods that never become ready; the last progress was at t=0.
    let pods = vec![pod("a", &rs, false, 0), pod("b", &rs, false, 0)];
    let world = World {
        now: 0,
        objects: vec![d.clone(), rs.clone()],
        pods: pods.clone(),
    };
    let first = deployment::decide(&d, &world);
    let Some(Action::PutStatus(with_status)) = first
        .into_iter()
        .find(|a| matches!(a, Action::PutStatus(_)))
    else {
        panic!("a status")
    };
    d = *with_status;
    let reason_at = |now: i64| {
        let world = World {
            now,
            objects: vec![d.clone(), rs.clone()],
            pods: pods.clone(),
        };
        deployment::decide(&d, &world)
            .into_iter()
            .find_map(|a| match a {
                Action::PutStatus(o) => match *o {
                    AppsObject::Deployment(x) => {
                        x.status?
                            .conditions?
                            .into_iter()
                            .find(|c| c.type_ == "Progressing")?
                            .reason
                    }
                    _ => None,
                },
                _ => None,
            })
    };
    // Within the 600 s deadline nothing changes; past it, the condition says so.
    assert_eq!(reason_at(500), None);
    assert_eq!(reason_at(601).as_deref(), Some("ProgressDeadlineExceeded"));
}

#[test]
fn a_daemon_set_with_max_surge_starts_the_new_pod_before_the_old_one_goes() {
    let text = CHAPTER
        .replace("kind: Deployment", "kind: DaemonSet")
        .replace("  replicas: 2\n", "  updateStrategy:\n    type: RollingUpdate\n    rollingUpdate:\n      maxSurge: 1\n      maxUnavailable: 0\n");
    let ApiObject::Apps(doc) = parse_objects(&text, "ds.yaml").unwrap().remove(0) else {
        panic!()
    };
    let mut ds = doc.object;
    ds.metadata_mut().uid = Some("ds1".into());
    let creates = |a: &Action| matches!(a, Action::CreatePod { .. });
    let deletes = |name: &'static str| move |a: &Action| matches!(a, Action::DeletePod { name: n, .. } if n == name);
    // The pod of an older template (no revision label of this one), ready.
    let old = pod("old", &ds, true, 1);
    let world = World {
        now: 10,
        objects: vec![ds.clone()],
        pods: vec![old.clone()],
    };
    let actions = decide_all(&world, "node-1");
    assert_eq!(count(&actions, creates), 1, "{actions:?}");
    assert_eq!(count(&actions, deletes("old")), 0, "{actions:?}");
    let hash = actions
        .iter()
        .find_map(|a| match a {
            Action::CreatePod { pod, .. } => pod.metadata.labels.clone(),
            _ => None,
        })
        .and_then(|l| l.get("controller-revision-hash").cloned())
        .unwrap();
    // The new pod runs but is not ready yet: both stay.
    let mut new = pod("new", &ds, false, 11);
    new.labels.insert("controller-revision-hash".into(), hash);
    let world = World {
        now: 12,
        objects: vec![ds.clone()],
        pods: vec![old.clone(), new.clone()],
    };
    let actions = decide_all(&world, "node-1");
    assert_eq!(count(&actions, creates), 0, "{actions:?}");
    assert_eq!(count(&actions, deletes("old")), 0, "{actions:?}");
    // Ready: the old pod goes.
    new.ready = true;
    new.ready_since = Some(12);
    new.phase = Phase::Running;
    let world = World {
        now: 13,
        objects: vec![ds.clone()],
        pods: vec![old, new],
    };
    let actions = decide_all(&world, "node-1");
    assert_eq!(count(&actions, deletes("old")), 1, "{actions:?}");
    assert_eq!(count(&actions, deletes("new")), 0, "{actions:?}");
    assert_eq!(count(&actions, creates), 0, "{actions:?}");
}
