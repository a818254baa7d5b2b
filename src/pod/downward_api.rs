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

/// Every known field is given: the IP fields too, since a container's environment is
/// built after the pod network's CNI ADD.
pub fn is_supported(path: &str) -> bool {
    is_known(path)
}

/// The value of a supported fieldPath for this pod.
pub fn value(pod: &Pod, path: &str) -> String {
    let meta = &pod.metadata;
    let spec = pod.spec.as_ref();
    let status = pod.status.as_ref();
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
        // Set by the supervisor from the CNI result (empty: the pod has loopback only).
        "status.podIP" => status.and_then(|s| s.pod_ip.clone()),
        "status.hostIP" => status.and_then(|s| s.host_ip.clone()),
        // Kubernetes joins the list with commas.
        "status.podIPs" => status
            .and_then(|s| s.pod_ips.as_ref())
            .map(|l| l.iter().map(|p| p.ip.clone()).collect::<Vec<_>>().join(",")),
        "status.hostIPs" => status
            .and_then(|s| s.host_ips.as_ref())
            .map(|l| l.iter().map(|p| p.ip.clone()).collect::<Vec<_>>().join(",")),
        _ => None,
    }
    .unwrap_or_default()
}

/// Resources a `resourceFieldRef` may name.
pub const RESOURCES: &[&str] = &[
    "limits.cpu",
    "limits.memory",
    "requests.cpu",
    "requests.memory",
];

/// The value of a `resourceFieldRef` for `container`, divided by `divisor` and
/// rounded up, as kubelet computes it. A limit that is not set is the node's
/// allocatable amount (this host's CPUs and memory).
pub fn resource_value(
    container: &k8s_openapi::api::core::v1::Container,
    resource: &str,
    divisor: Option<&str>,
) -> String {
    use crate::apimachinery::quantity::parse_quantity;
    let (which, name) = resource.split_once('.').unwrap_or(("", ""));
    let set = container.resources.as_ref().and_then(|r| {
        let map = if which == "limits" {
            r.limits.as_ref()
        } else {
            r.requests.as_ref()
        };
        map.and_then(|m| m.get(name))
            .and_then(|q| parse_quantity(&q.0).ok())
            .map(|q| q.value)
    });
    let value = set.unwrap_or_else(|| match (which, name) {
        ("limits", "cpu") => std::thread::available_parallelism()
            .map(|n| n.get() as f64)
            .unwrap_or(1.0),
        ("limits", "memory") => host_memory_bytes(),
        _ => 0.0,
    });
    let divisor = divisor
        .and_then(|d| parse_quantity(d).ok())
        .map(|q| q.value)
        .filter(|d| *d > 0.0)
        .unwrap_or(1.0);
    ((value / divisor) - 1e-9).ceil().max(0.0).to_string()
}

fn host_memory_bytes() -> f64 {
    std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb * 1024.0)
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_values_round_up_by_divisor() {
        use k8s_openapi::api::core::v1::{Container, ResourceRequirements};
        use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
        let q = |kv: &[(&str, &str)]| {
            Some(
                kv.iter()
                    .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
                    .collect(),
            )
        };
        let c = Container {
            resources: Some(ResourceRequirements {
                requests: q(&[("cpu", "125m"), ("memory", "32Mi")]),
                limits: q(&[("cpu", "250m"), ("memory", "64Mi")]),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(resource_value(&c, "requests.cpu", None), "1");
        assert_eq!(resource_value(&c, "limits.cpu", Some("1m")), "250");
        assert_eq!(resource_value(&c, "limits.memory", None), "67108864");
        assert_eq!(resource_value(&c, "requests.memory", Some("1Mi")), "32");
    }

    #[test]
    fn known_and_supported_paths() {
        assert!(is_known("metadata.labels['app']") && is_supported("metadata.labels['app']"));
        assert!(is_known("status.podIP") && is_supported("status.podIP"));
        assert!(!is_known("spec.containers"));
    }

    #[test]
    fn ip_fields_come_from_the_pods_status() {
        use k8s_openapi::api::core::v1::{PodIP, PodStatus};
        let pod = Pod {
            status: Some(PodStatus {
                pod_ip: Some("10.244.0.9".into()),
                pod_ips: Some(vec![PodIP {
                    ip: "10.244.0.9".into(),
                }]),
                host_ip: Some("192.168.1.5".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(value(&pod, "status.podIP"), "10.244.0.9");
        assert_eq!(value(&pod, "status.podIPs"), "10.244.0.9");
        assert_eq!(value(&pod, "status.hostIP"), "192.168.1.5");
        assert_eq!(value(&Pod::default(), "status.podIP"), "");
    }
}
