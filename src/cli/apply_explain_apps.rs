//! `apply --explain` of a controller object: the chain as it happens. The
//! Deployment's controller makes a ReplicaSet, the ReplicaSet's controller makes the
//! pods, and each pod's supervisor builds its infra and containers, whose kernel
//! steps (the same recorded steps `apply --explain` of a Pod prints) follow.

use super::outln;
use super::Context;
use crate::api::apps::{AppsKind, AppsObject};
use crate::controllers::observed::controller_of;
use crate::controllers::store;
use crate::pod::create::StepFollower;
use crate::pod::record;
use crate::pod::status::Phase;
use anyhow::Result;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// How long the chain is followed at most (a missing image never makes a pod).
const FOLLOW_FOR: Duration = Duration::from_secs(60);

/// Follow what the controllers make for `objects` until each one's pods run.
pub fn follow(ctx: &Context, objects: &[(AppsKind, String, String)]) -> Result<()> {
    let until = Instant::now() + FOLLOW_FOR;
    // Owners whose dependents we narrate: uid -> "Kind/name".
    let mut owners: BTreeMap<String, String> = BTreeMap::new();
    let mut told: BTreeSet<String> = BTreeSet::new();
    let mut followers: BTreeMap<String, (String, StepFollower)> = BTreeMap::new();
    let mut running: BTreeSet<String> = BTreeSet::new();
    for (kind, ns, name) in objects {
        if let Some(o) = store::find(&ctx.state, *kind, ns, name)? {
            if let Some(uid) = o.metadata().uid.clone() {
                owners.insert(uid, format!("{}/{}", kind.name(), name));
            }
        }
    }
    // Pods that existed before this apply are not news.
    let old_pods: BTreeSet<String> = record::list(&ctx.state)?
        .iter()
        .map(|p| p.record.uid().to_string())
        .collect();
    let mut quiet_since = Instant::now();
    while Instant::now() < until {
        for rs in store::list(&ctx.state, AppsKind::ReplicaSet)? {
            let owner = controller_of(rs.metadata().owner_references.as_ref());
            let Some(owner) = owner.filter(|o| owners.contains_key(&o.uid)) else {
                continue;
            };
            let uid = rs.metadata().uid.clone().unwrap_or_default();
            if told.insert(uid.clone()) {
                let AppsObject::ReplicaSet(r) = &rs else {
                    continue;
                };
                let replicas = r.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0);
                outln!(
                    "{}: the deployment controller owns ReplicaSet/{} (pod-template-hash {}, {replicas} replicas)",
                    owners[&owner.uid],
                    rs.name(),
                    rs.name().rsplit('-').next().unwrap_or("")
                );
                owners.insert(uid, format!("ReplicaSet/{}", rs.name()));
                quiet_since = Instant::now();
            }
        }
        for p in record::list(&ctx.state)? {
            let uid = p.record.uid().to_string();
            if old_pods.contains(&uid) {
                continue;
            }
            let owner = controller_of(p.record.pod.metadata.owner_references.as_ref());
            let Some(owner) = owner.filter(|o| owners.contains_key(&o.uid)) else {
                continue;
            };
            if told.insert(uid.clone()) {
                let kind = owners[&owner.uid]
                    .split('/')
                    .next()
                    .unwrap_or("")
                    .to_lowercase();
                outln!(
                    "{}: the {kind} controller creates Pod/{} (its supervisor builds the infra, then the containers)",
                    owners[&owner.uid],
                    p.record.name()
                );
                followers.insert(
                    uid.clone(),
                    (
                        p.record.name().to_string(),
                        StepFollower::new(&p.paths.steps()),
                    ),
                );
                quiet_since = Instant::now();
            }
            if let Some((name, follower)) = followers.get_mut(&uid) {
                let mut printed = false;
                follower.follow(&mut |s| {
                    outln!("  {name}: {}", s.to_line());
                    printed = true;
                });
                if printed {
                    quiet_since = Instant::now();
                }
            }
            let is_running = p.status.as_ref().is_some_and(|s| s.phase == Phase::Running);
            if is_running && running.insert(uid.clone()) {
                outln!("Pod/{}: Running", p.record.name());
            }
        }
        // Done when every pod told of runs and nothing new came for a moment.
        let all_run = !followers.is_empty() && followers.keys().all(|u| running.contains(u));
        if all_run && quiet_since.elapsed() > Duration::from_millis(700) {
            break;
        }
        if followers.is_empty() && told.is_empty() && quiet_since.elapsed() > Duration::from_secs(3)
        {
            outln!("(no new pod: the controllers had nothing to change)");
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}
