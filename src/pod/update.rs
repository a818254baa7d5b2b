//! Changing a running pod: Kubernetes allows a container's `image` to change (and
//! labels and annotations). The new image is checked like at creation, the record is
//! rewritten, and the supervisor is told (SIGUSR1) to replace the changed containers.

use super::create;
use super::record::{self, StoredPod};
use crate::state::{atomic, paths::StateRoot};
use anyhow::{bail, Context, Result};
use k8s_openapi::api::core::v1::Pod;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// Give the running pod the images of `new`; returns the names of changed containers.
pub fn change_images(
    state: &StateRoot,
    pod: &StoredPod,
    new: &Pod,
    origin: &str,
) -> Result<Vec<String>> {
    let images =
        create::resolve_images(state, new, origin).map_err(|e| anyhow::anyhow!(e.join("\n")))?;
    let mut record = pod.record.clone();
    let mut changed = Vec::new();
    let new_spec = new.spec.clone().unwrap_or_default();
    let spec = record.pod.spec.get_or_insert_with(Default::default);
    let containers = spec
        .init_containers
        .iter_mut()
        .flatten()
        .chain(spec.containers.iter_mut());
    for c in containers {
        let wanted = new_spec
            .init_containers
            .iter()
            .flatten()
            .chain(new_spec.containers.iter())
            .find(|n| n.name == c.name);
        if let Some(wanted) = wanted {
            if wanted.image != c.image {
                c.image = wanted.image.clone();
                c.image_pull_policy = wanted.image_pull_policy.clone();
                changed.push(c.name.clone());
            }
        }
    }
    for name in &changed {
        if let Some(image) = images.get(name) {
            record.images.insert(name.clone(), image.clone());
        }
    }
    record.pod.metadata.labels = new.metadata.labels.clone();
    record.pod.metadata.annotations = new.metadata.annotations.clone();
    let supervisor = pod
        .status
        .as_ref()
        .and_then(|s| s.supervisor)
        .filter(|p| p.is_alive());
    let Some(supervisor) = supervisor else {
        bail!(
            "pod \"{}\" has no running supervisor to restart its containers",
            record.name()
        );
    };
    let ids: Vec<&str> = record.images.values().map(|i| i.id.as_str()).collect();
    atomic::write_json(&pod.paths.images_in_use(), &ids)?;
    record::save(&pod.paths, &record)?;
    kill(Pid::from_raw(supervisor.pid), Signal::SIGUSR1)
        .with_context(|| format!("tell the supervisor of pod \"{}\"", record.name()))?;
    Ok(changed)
}
