//! Which seccomp profile a container runs under, the kubelet's way: the container's
//! `securityContext.seccompProfile`, else the pod's, else the node's default. minipod's
//! node default is `RuntimeDefault` (kubelet with `SeccompDefault`); the environment
//! variable `MINIPOD_SECCOMP_DEFAULT=Unconfined` makes it a stock kubelet's.
//!
//! The choice becomes the OCI spec's `linux.seccomp` (see [`profile`]): the runtime
//! compiles that into the kernel's filter.

pub mod profile;

use super::record::PodRecord;
use crate::state::paths::StateRoot;
use anyhow::{bail, Result};
use k8s_openapi::api::core::v1::{Container, Pod, SeccompProfile};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// The variable that sets the node default (`RuntimeDefault` or `Unconfined`).
pub const DEFAULT_ENV: &str = "MINIPOD_SECCOMP_DEFAULT";

/// The profile for containers whose manifest names none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum NodeDefault {
    #[default]
    RuntimeDefault,
    Unconfined,
}

impl NodeDefault {
    /// From `MINIPOD_SECCOMP_DEFAULT`, read once when a pod is applied.
    pub fn from_env() -> Result<NodeDefault> {
        match std::env::var(DEFAULT_ENV).as_deref() {
            Err(_) | Ok("") | Ok("RuntimeDefault") => Ok(NodeDefault::RuntimeDefault),
            Ok("Unconfined") => Ok(NodeDefault::Unconfined),
            Ok(other) => bail!(
                "{DEFAULT_ENV}={other:?}: supported values: \"RuntimeDefault\", \"Unconfined\""
            ),
        }
    }
}

/// What the node contributes to every container's choice; kept in the pod record so
/// that a restart, `describe` and `explain` see what `apply` decided.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeSeccomp {
    pub default: NodeDefault,
    /// `<state root>/seccomp`, where `Localhost` profiles are read (kubelet's
    /// `<root-dir>/seccomp`).
    pub profiles_dir: PathBuf,
}

impl NodeSeccomp {
    pub fn new(state: &StateRoot) -> Result<NodeSeccomp> {
        Ok(NodeSeccomp {
            default: NodeDefault::from_env()?,
            profiles_dir: profiles_dir(state),
        })
    }
}

pub fn profiles_dir(state: &StateRoot) -> PathBuf {
    state.lib.join("seccomp")
}

/// A container's profile.
#[derive(Debug, Clone, PartialEq)]
pub enum Choice {
    RuntimeDefault,
    Unconfined,
    /// The name as written in the manifest, and the file it names.
    Localhost {
        name: String,
        path: PathBuf,
    },
}

/// Where the choice came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Source {
    Container,
    Pod,
    Node,
}

impl fmt::Display for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Choice::RuntimeDefault => write!(f, "RuntimeDefault"),
            Choice::Unconfined => write!(f, "Unconfined"),
            Choice::Localhost { name, .. } => write!(f, "Localhost ({name})"),
        }
    }
}

/// The container's own profile, else the pod's, else the node's default.
pub fn choose(pod: &Pod, container: &Container, node: &NodeSeccomp) -> (Choice, Source) {
    let own = container
        .security_context
        .as_ref()
        .and_then(|s| s.seccomp_profile.as_ref());
    let of_pod = pod
        .spec
        .as_ref()
        .and_then(|s| s.security_context.as_ref())
        .and_then(|s| s.seccomp_profile.as_ref());
    match (own, of_pod) {
        (Some(p), _) => (from_manifest(p, &node.profiles_dir), Source::Container),
        (None, Some(p)) => (from_manifest(p, &node.profiles_dir), Source::Pod),
        (None, None) => (
            match node.default {
                NodeDefault::RuntimeDefault => Choice::RuntimeDefault,
                NodeDefault::Unconfined => Choice::Unconfined,
            },
            Source::Node,
        ),
    }
}

/// The container's choice as its pod record knows it.
pub fn choose_for(record: &PodRecord, container: &Container) -> Choice {
    choose(&record.pod, container, &record.seccomp).0
}

/// A validated manifest value (the API checks ran before).
fn from_manifest(p: &SeccompProfile, dir: &Path) -> Choice {
    match p.type_.as_str() {
        "Unconfined" => Choice::Unconfined,
        "Localhost" => {
            let name = p.localhost_profile.clone().unwrap_or_default();
            Choice::Localhost {
                path: dir.join(&name),
                name,
            }
        }
        _ => Choice::RuntimeDefault,
    }
}

/// Every `Localhost` profile the pod names must be a readable profile, checked before
/// anything is created. kubelet reports this as the container's
/// `CreateContainerConfigError`.
pub fn check_profiles(pod: &Pod, node: &NodeSeccomp) -> Vec<String> {
    let Some(spec) = pod.spec.as_ref() else {
        return Vec::new();
    };
    let mut errors = Vec::new();
    for c in spec
        .init_containers
        .iter()
        .flatten()
        .chain(&spec.containers)
    {
        if let (Choice::Localhost { path, .. }, _) = choose(pod, c, node) {
            if let Err(err) = profile::read_file(&path) {
                errors.push(format!(
                    "container \"{}\": CreateContainerConfigError: {err:#}",
                    c.name
                ));
            }
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodSecurityContext, PodSpec, SecurityContext};

    fn profile(t: &str, local: Option<&str>) -> SeccompProfile {
        SeccompProfile {
            type_: t.into(),
            localhost_profile: local.map(String::from),
        }
    }

    #[test]
    fn the_container_overrides_the_pod_which_overrides_the_node() {
        let node = NodeSeccomp {
            default: NodeDefault::RuntimeDefault,
            profiles_dir: PathBuf::from("/r/seccomp"),
        };
        let mut pod = Pod {
            spec: Some(PodSpec::default()),
            ..Default::default()
        };
        let mut c = Container::default();
        assert_eq!(
            choose(&pod, &c, &node),
            (Choice::RuntimeDefault, Source::Node)
        );
        pod.spec.as_mut().unwrap().security_context = Some(PodSecurityContext {
            seccomp_profile: Some(profile("Unconfined", None)),
            ..Default::default()
        });
        assert_eq!(choose(&pod, &c, &node), (Choice::Unconfined, Source::Pod));
        c.security_context = Some(SecurityContext {
            seccomp_profile: Some(profile("Localhost", Some("a/b.json"))),
            ..Default::default()
        });
        assert_eq!(
            choose(&pod, &c, &node),
            (
                Choice::Localhost {
                    name: "a/b.json".into(),
                    path: PathBuf::from("/r/seccomp/a/b.json")
                },
                Source::Container
            )
        );
    }
}
