//! The volume table: each volume of the pod, its type and host directory, and where
//! each container has it mounted, read from the container's OCI spec (`config.json`,
//! the very spec the runtime mounted from), read-only or not.

use crate::pod::record::StoredPod;
use oci_spec::runtime::Spec;
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize)]
pub struct VolumeMount {
    pub container: String,
    pub path: String,
    pub read_only: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Volume {
    pub name: String,
    /// `emptyDir`, `emptyDir (Memory)` or `hostPath`.
    pub kind: String,
    pub host_path: PathBuf,
    pub mounts: Vec<VolumeMount>,
}

/// The pod's volumes with their mounts, in the manifest's order.
pub fn volumes(pod: &StoredPod) -> Vec<Volume> {
    let spec = pod.record.pod.spec.clone().unwrap_or_default();
    let containers: Vec<String> = spec
        .init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter())
        .map(|c| c.name.clone())
        .collect();
    let specs: Vec<(String, Option<Spec>)> = containers
        .into_iter()
        .map(|c| {
            let config = pod.paths.bundle(&c).join("config.json");
            (c, Spec::load(config).ok())
        })
        .collect();
    spec.volumes
        .iter()
        .flatten()
        .map(|v| {
            let (kind, host_path) = if let Some(ed) = &v.empty_dir {
                let kind = match ed.medium.as_deref() {
                    Some("Memory") => "emptyDir (Memory)",
                    _ => "emptyDir",
                };
                (kind.to_string(), pod.paths.empty_dir(&v.name))
            } else if let Some(hp) = &v.host_path {
                ("hostPath".to_string(), PathBuf::from(&hp.path))
            } else {
                ("other".to_string(), PathBuf::new())
            };
            let mounts = specs
                .iter()
                .filter_map(|(c, s)| s.as_ref().map(|s| (c, s)))
                .flat_map(|(c, s)| mounts_of(c, s, &host_path))
                .collect();
            Volume {
                name: v.name.clone(),
                kind,
                host_path,
                mounts,
            }
        })
        .collect()
}

/// The bind mounts in `spec` whose source is `host_path` or inside it (a `subPath`).
fn mounts_of(container: &str, spec: &Spec, host_path: &Path) -> Vec<VolumeMount> {
    if host_path.as_os_str().is_empty() {
        return Vec::new();
    }
    spec.mounts()
        .iter()
        .flatten()
        .filter(|m| m.typ().as_deref() == Some("bind"))
        .filter(|m| {
            m.source()
                .as_ref()
                .is_some_and(|s| s.starts_with(host_path))
        })
        .map(|m| VolumeMount {
            container: container.to_string(),
            path: m.destination().display().to_string(),
            read_only: m.options().iter().flatten().any(|o| o == "ro"),
        })
        .collect()
}
