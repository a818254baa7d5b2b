//! `delete deploy|rs|ds NAME` and `delete -f` of them, cascading as the garbage
//! collector does: `--cascade=background` (kubectl's default: the object goes now,
//! the controller manager's collector removes its ReplicaSets and pods right after),
//! `foreground` (its pods and ReplicaSets are deleted first, and waited for),
//! `orphan` (they stay, without their owner).

use super::errln;
use super::Context;
use crate::api::apps::{AppsKind, AppsObject};
use crate::controllers::{manager, observed, store};
use crate::pod::{delete, record};
use anyhow::Result;
use clap::ValueEnum;

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum Cascade {
    Background,
    Foreground,
    Orphan,
}

/// The uids of `object` and of every ReplicaSet it controls (a Deployment's).
fn owner_uids(state: &crate::state::paths::StateRoot, object: &AppsObject) -> Result<Vec<String>> {
    let mut uids: Vec<String> = object.metadata().uid.clone().into_iter().collect();
    if object.kind() == AppsKind::Deployment {
        for rs in store::list(state, AppsKind::ReplicaSet)? {
            let owner = observed::controller_of(rs.metadata().owner_references.as_ref());
            if owner.is_some_and(|o| uids.first() == Some(&o.uid)) {
                uids.extend(rs.metadata().uid.clone());
            }
        }
    }
    Ok(uids)
}

/// Delete one controller object; false when there is none of that name.
pub fn delete_one(
    ctx: &Context,
    kind: AppsKind,
    namespace: &str,
    name: &str,
    cascade: Cascade,
) -> Result<bool> {
    let lock = store::lock(&ctx.state)?;
    let Some(object) = store::find(&ctx.state, kind, namespace, name)? else {
        return Ok(false);
    };
    let uids = owner_uids(&ctx.state, &object)?;
    let controls =
        |owners: Option<&Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference>>| {
            observed::controller_of(owners).is_some_and(|o| uids.contains(&o.uid))
        };
    let sets: Vec<AppsObject> = store::list(&ctx.state, AppsKind::ReplicaSet)?
        .into_iter()
        .filter(|rs| controls(rs.metadata().owner_references.as_ref()))
        .collect();
    match cascade {
        Cascade::Orphan => {
            for mut rs in sets {
                rs.metadata_mut().owner_references = None;
                store::save(&ctx.state, &rs)?;
            }
            store::remove(&ctx.state, kind, namespace, name)?;
            drop(lock);
            // Only its own dependents: a Deployment's ReplicaSets keep their pods.
            let own = object.metadata().uid.clone().unwrap_or_default();
            for p in record::list(&ctx.state)? {
                let owner =
                    observed::controller_of(p.record.pod.metadata.owner_references.as_ref());
                if owner.is_some_and(|o| o.uid == own) {
                    let _pod_lock = crate::state::lock::lock_pod(
                        &ctx.state,
                        p.record.namespace(),
                        p.record.name(),
                    )?;
                    let mut updated = p.record.clone();
                    updated.pod.metadata.owner_references = None;
                    record::save(&p.paths, &updated)?;
                }
            }
        }
        Cascade::Background => {
            store::remove(&ctx.state, kind, namespace, name)?;
            drop(lock);
            manager::ensure_running_for_cleanup(&ctx.state)?;
        }
        Cascade::Foreground => {
            // As the API server marks an object in foreground deletion: the
            // controllers leave a marked object's pods alone (no new pod).
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .ok()
                .and_then(|d| i64::try_from(d.as_secs()).ok())
                .and_then(|s| k8s_openapi::jiff::Timestamp::from_second(s).ok())
                .map(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time);
            for mut o in sets.iter().cloned().chain(std::iter::once(object.clone())) {
                o.metadata_mut().deletion_timestamp = now.clone();
                store::save(&ctx.state, &o)?;
            }
            drop(lock);
            // Until none is left twice in a row: a pod the manager was making as the
            // objects were marked is deleted too.
            let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
            let mut empty_once = false;
            loop {
                let mut deleting = Vec::new();
                let mut found = 0;
                for p in record::list(&ctx.state)? {
                    if controls(p.record.pod.metadata.owner_references.as_ref()) {
                        found += 1;
                        let _pod_lock = crate::state::lock::lock_pod(
                            &ctx.state,
                            p.record.namespace(),
                            p.record.name(),
                        )?;
                        // The collector may be deleting it too: whoever is first.
                        if let Ok(d) = delete::begin(&p, None) {
                            deleting.push(d);
                        }
                    }
                }
                if found == 0 && empty_once || std::time::Instant::now() > until {
                    break;
                }
                empty_once = found == 0;
                for d in deleting {
                    if let Err(e) = d.finish(&ctx.state, &mut |_| {}) {
                        errln!("error: {e:#}");
                    }
                }
                std::thread::sleep(std::time::Duration::from_millis(300));
            }
            let _lock = store::lock(&ctx.state)?;
            for rs in &sets {
                store::remove(&ctx.state, AppsKind::ReplicaSet, rs.namespace(), rs.name())?;
            }
            store::remove(&ctx.state, kind, namespace, name)?;
        }
    }
    Ok(true)
}
