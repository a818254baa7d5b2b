//! Who a container's process is: kubelet's effective `runAsUser` / `runAsGroup` /
//! `runAsNonRoot` (container over pod), resolved as containerd resolves them against
//! the image's own `/etc/passwd` and `/etc/group` (read inside the rootfs, never
//! through a link out of it: see `image_user`):
//!
//! - the user is `runAsUser`, else the image's `USER`, else 0; a uid missing from the
//!   image's passwd gets gid 0; `runAsGroup` replaces the primary group;
//! - supplementary groups: the primary gid first (containerd's ensureAdditionalGids),
//!   then with `supplementalGroupsPolicy: Merge` (the default) the groups the image's
//!   `/etc/group` lists the user in, then `supplementalGroups`, then `fsGroup`.
//!   `Strict` leaves the image's groups out.

use super::{container_context, pod_context, pod_label};
use crate::pod::container_spec::ResolvedUser;
use crate::pod::image_user;
use anyhow::{Context, Result};
use k8s_openapi::api::core::v1::{Container, Pod};
use std::path::Path;

/// The effective settings of one container (kubelet's DetermineEffectiveSecurityContext).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Effective {
    pub run_as_user: Option<i64>,
    pub run_as_group: Option<i64>,
    pub run_as_non_root: Option<bool>,
    pub supplemental_groups: Vec<i64>,
    pub fs_group: Option<i64>,
    pub strict_groups: bool,
}

pub fn effective(pod: &Pod, c: &Container) -> Effective {
    let p = pod_context(pod);
    let own = container_context(c);
    Effective {
        run_as_user: own
            .and_then(|s| s.run_as_user)
            .or_else(|| p.and_then(|s| s.run_as_user)),
        run_as_group: own
            .and_then(|s| s.run_as_group)
            .or_else(|| p.and_then(|s| s.run_as_group)),
        run_as_non_root: own
            .and_then(|s| s.run_as_non_root)
            .or_else(|| p.and_then(|s| s.run_as_non_root)),
        supplemental_groups: p
            .and_then(|s| s.supplemental_groups.clone())
            .unwrap_or_default(),
        fs_group: p.and_then(|s| s.fs_group),
        strict_groups: p.and_then(|s| s.supplemental_groups_policy.as_deref()) == Some("Strict"),
    }
}

/// kubelet's verifyRunAsNonRoot, with its words: a container that would run as uid 0
/// (or as a user name that cannot be checked) is not started
/// (`CreateContainerConfigError`).
pub fn check_run_as_non_root(pod: &Pod, c: &Container, image_user: &str) -> Result<(), String> {
    let eff = effective(pod, c);
    if eff.run_as_non_root != Some(true) {
        return Ok(());
    }
    let label = pod_label(pod);
    let name = &c.name;
    if let Some(uid) = eff.run_as_user {
        if uid == 0 {
            return Err(format!(
                "container's runAsUser breaks non-root policy (pod: {label:?}, container: {name})"
            ));
        }
        return Ok(());
    }
    // kubelet reads the image's user without its group; an empty one is root.
    let user = image_user.split(':').next().unwrap_or_default();
    match user.parse::<i64>() {
        Ok(0) => Err(format!(
            "container has runAsNonRoot and image will run as root (pod: {label:?}, container: {name})"
        )),
        Ok(_) => Ok(()),
        Err(_) if user.is_empty() => Err(format!(
            "container has runAsNonRoot and image will run as root (pod: {label:?}, container: {name})"
        )),
        Err(_) => Err(format!(
            "container has runAsNonRoot and image has non-numeric user ({user}), cannot verify user is non-root (pod: {label:?}, container: {name})"
        )),
    }
}

/// The user string containerd is given (`uid[:gid]`, or the image's `USER`).
pub fn user_string(eff: &Effective, image_user: &str) -> String {
    let user = match eff.run_as_user {
        Some(uid) => uid.to_string(),
        None if eff.run_as_group.is_some() => {
            let name = image_user.split(':').next().unwrap_or_default();
            if name.is_empty() {
                "0".to_string()
            } else {
                name.to_string()
            }
        }
        None => image_user.to_string(),
    };
    match eff.run_as_group {
        Some(gid) => format!("{user}:{gid}"),
        None => user,
    }
}

/// The container's uid, gid and groups, resolved in its rootfs.
pub fn resolve(
    pod: &Pod,
    c: &Container,
    image_user: &str,
    rootfs: &Path,
    image: &str,
) -> Result<ResolvedUser> {
    let eff = effective(pod, c);
    let user = user_string(&eff, image_user);
    let found = image_user::resolve(&user, rootfs, image)
        .with_context(|| format!("resolve the user {user:?}"))?;
    Ok(combine(&eff, found))
}

/// The groups in containerd's order, each once: primary, the image's (Merge),
/// supplementalGroups, fsGroup. Ids were validated (0..=2^31-1) by the API checks.
pub fn combine(eff: &Effective, found: ResolvedUser) -> ResolvedUser {
    let mut groups = vec![found.gid];
    if !eff.strict_groups {
        groups.extend(found.additional_gids.iter().copied());
    }
    let extra = eff.supplemental_groups.iter().chain(eff.fs_group.iter());
    groups.extend(extra.filter_map(|g| u32::try_from(*g).ok()));
    let mut seen = std::collections::HashSet::new();
    groups.retain(|g| seen.insert(*g));
    ResolvedUser {
        uid: found.uid,
        gid: found.gid,
        additional_gids: groups,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodSecurityContext, PodSpec, SecurityContext};

    fn pod(psc: PodSecurityContext, csc: Option<SecurityContext>) -> (Pod, Container) {
        let c = Container {
            name: "app".into(),
            security_context: csc,
            ..Default::default()
        };
        let mut pod = Pod::default();
        pod.metadata.name = Some("p".into());
        pod.metadata.namespace = Some("default".into());
        pod.metadata.uid = Some("u-1".into());
        pod.spec = Some(PodSpec {
            security_context: Some(psc),
            containers: vec![c.clone()],
            ..Default::default()
        });
        (pod, c)
    }

    #[test]
    fn the_container_wins_over_the_pod() {
        let (p, c) = pod(
            PodSecurityContext {
                run_as_user: Some(1000),
                run_as_group: Some(3000),
                ..Default::default()
            },
            Some(SecurityContext {
                run_as_user: Some(2000),
                ..Default::default()
            }),
        );
        let eff = effective(&p, &c);
        assert_eq!(
            (eff.run_as_user, eff.run_as_group),
            (Some(2000), Some(3000))
        );
        assert_eq!(user_string(&eff, "nginx"), "2000:3000");
    }

    #[test]
    fn user_string_falls_back_to_the_image() {
        let eff = Effective::default();
        assert_eq!(user_string(&eff, "nginx:www"), "nginx:www");
        let eff = Effective {
            run_as_group: Some(5),
            ..Default::default()
        };
        assert_eq!(user_string(&eff, ""), "0:5");
        assert_eq!(user_string(&eff, "nginx:www"), "nginx:5");
    }

    #[test]
    fn run_as_non_root_uses_kubelets_words() {
        let (p, c) = pod(
            PodSecurityContext {
                run_as_non_root: Some(true),
                ..Default::default()
            },
            None,
        );
        assert_eq!(
            check_run_as_non_root(&p, &c, "").unwrap_err(),
            "container has runAsNonRoot and image will run as root (pod: \"p_default(u-1)\", container: app)"
        );
        assert_eq!(check_run_as_non_root(&p, &c, "0:0").unwrap_err(),
            "container has runAsNonRoot and image will run as root (pod: \"p_default(u-1)\", container: app)");
        assert!(check_run_as_non_root(&p, &c, "101").is_ok());
        assert_eq!(
            check_run_as_non_root(&p, &c, "nginx").unwrap_err(),
            "container has runAsNonRoot and image has non-numeric user (nginx), cannot verify user is non-root (pod: \"p_default(u-1)\", container: app)"
        );
        let (p, c) = pod(
            PodSecurityContext {
                run_as_non_root: Some(true),
                run_as_user: Some(0),
                ..Default::default()
            },
            None,
        );
        assert_eq!(
            check_run_as_non_root(&p, &c, "101").unwrap_err(),
            "container's runAsUser breaks non-root policy (pod: \"p_default(u-1)\", container: app)"
        );
        // runAsNonRoot: false at the container lifts the pod's.
        let (p, c) = pod(
            PodSecurityContext {
                run_as_non_root: Some(true),
                ..Default::default()
            },
            Some(SecurityContext {
                run_as_non_root: Some(false),
                ..Default::default()
            }),
        );
        assert!(check_run_as_non_root(&p, &c, "").is_ok());
    }

    #[test]
    fn groups_merge_or_stay_strict() {
        let found = ResolvedUser {
            uid: 1000,
            gid: 3000,
            additional_gids: vec![27, 3000],
        };
        let mut eff = Effective {
            supplemental_groups: vec![4000, 27],
            fs_group: Some(2000),
            ..Default::default()
        };
        assert_eq!(
            combine(&eff, found.clone()).additional_gids,
            [3000, 27, 4000, 2000]
        );
        eff.strict_groups = true;
        assert_eq!(combine(&eff, found).additional_gids, [3000, 4000, 27, 2000]);
    }
}
