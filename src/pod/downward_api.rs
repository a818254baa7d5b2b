//! The downward API for environment variables (`env[].valueFrom.fieldRef`): facts
//! about the pod handed to its containers.

use k8s_openapi::api::core::v1::Pod;

/// Every fieldPath Kubernetes accepts in an env `fieldRef`.
pub const KUBERNETES_FIELDS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "metadata.labels['<KEY>']",
    "metadata.annotations['<KEY>']",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];

fn key_of<'a>(path: &'a str, prefix: &str) -> Option<&'a str> {
    path.strip_prefix(prefix)?
        .strip_prefix("['")?
        .strip_suffix("']")
}

pub fn is_known(path: &str) -> bool {
    KUBERNETES_FIELDS.contains(&path)
        || key_of(path, "metadata.labels").is_some()
        || key_of(path, "metadata.annotations").is_some()
}

/// The pod has no IP (no pod network yet), so the IP fields cannot be given.
pub fn is_supported(path: &str) -> bool {
    is_known(path) && !path.starts_with("status.")
}

/// The value of a supported fieldPath for this pod.
pub fn value(pod: &Pod, path: &str) -> String {
    let meta = &pod.metadata;
    let spec = pod.spec.as_ref();
    if let Some(key) = key_of(path, "metadata.labels") {
        return meta
            .labels
            .as_ref()
            .and_then(|l| l.get(key))
            .cloned()
            .unwrap_or_default();
    }
    if let Some(key) = key_of(path, "metadata.annotations") {
        return meta
            .annotations
            .as_ref()
            .and_then(|a| a.get(key))
            .cloned()
            .unwrap_or_default();
    }
    match path {
        "metadata.name" => meta.name.clone(),
        "metadata.namespace" => meta.namespace.clone(),
        "metadata.uid" => meta.uid.clone(),
        "spec.nodeName" => spec.and_then(|s| s.node_name.clone()),
        "spec.serviceAccountName" => spec.and_then(|s| s.service_account_name.clone()),
        _ => None,
    }
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_supported_paths() {
        assert!(is_known("metadata.labels['app']") && is_supported("metadata.labels['app']"));
        assert!(is_known("status.podIP") && !is_supported("status.podIP"));
        assert!(!is_known("spec.containers"));
    }
}
