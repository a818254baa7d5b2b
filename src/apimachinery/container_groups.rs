//! A pod's containers grouped by the field they sit under, as the API server's errors
//! name them: `spec.initContainers` first, then `spec.containers`.

use k8s_openapi::api::core::v1::{Container, PodSpec};

/// (field path, containers) for the init containers, then the app containers.
pub fn container_groups(spec: &PodSpec) -> [(&'static str, &[Container]); 2] {
    [
        (
            "spec.initContainers",
            spec.init_containers.as_deref().unwrap_or(&[]),
        ),
        ("spec.containers", spec.containers.as_slice()),
    ]
}
