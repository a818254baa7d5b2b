//! The values the API server fills in when a Pod is created, so that
//! `minipod get pod -o yaml` shows what `kubectl get pod -o yaml` shows.
//! (pkg/apis/core/v1/defaults.go, plus the namespace kubectl applies to.)

use crate::image::reference_syntax as image_ref;
use k8s_openapi::api::core::v1::{Container, Pod, PodSecurityContext, PodSpec};

pub fn apply_defaults(pod: &mut Pod) {
    // kubectl sends the pod to its current namespace, `default` here.
    pod.metadata
        .namespace
        .get_or_insert_with(|| "default".to_string());
    // A manifest's `status` is not the pod's status.
    pod.status = None;
    let spec = pod.spec.get_or_insert_with(PodSpec::default);
    spec.restart_policy
        .get_or_insert_with(|| "Always".to_string());
    spec.termination_grace_period_seconds.get_or_insert(30);
    spec.dns_policy
        .get_or_insert_with(|| "ClusterFirst".to_string());
    spec.scheduler_name
        .get_or_insert_with(|| "default-scheduler".to_string());
    spec.security_context
        .get_or_insert_with(PodSecurityContext::default);
    spec.enable_service_links.get_or_insert(true);
    // `serviceAccountName: default` is set by an API server's admission plugin
    // together with a token volume; minipod has neither, so it stays unset.
    for container in spec.init_containers.iter_mut().flatten() {
        default_container(container);
    }
    for container in &mut spec.containers {
        default_container(container);
    }
    for volume in spec.volumes.iter_mut().flatten() {
        if let Some(host_path) = &mut volume.host_path {
            // `""`: no check of what is at the path.
            host_path.type_.get_or_insert_with(String::new);
        }
    }
}

fn default_container(container: &mut Container) {
    // `Always` for `:latest` or no tag (which means latest), else `IfNotPresent`.
    let image = container.image.as_deref().unwrap_or("");
    let tag = image_ref::tag_of(image);
    let means_latest = tag == Some("latest") || (tag.is_none() && !image_ref::has_digest(image));
    let pull_policy = if means_latest {
        "Always"
    } else {
        "IfNotPresent"
    };
    container
        .image_pull_policy
        .get_or_insert_with(|| pull_policy.to_string());
    container
        .termination_message_path
        .get_or_insert_with(|| "/dev/termination-log".to_string());
    container
        .termination_message_policy
        .get_or_insert_with(|| "File".to_string());
    for port in container.ports.iter_mut().flatten() {
        port.protocol.get_or_insert_with(|| "TCP".to_string());
    }
    // A limit without a request requests the limit (the API server's defaulting).
    if let Some(resources) = container.resources.as_mut() {
        if let Some(limits) = resources.limits.clone() {
            let requests = resources.requests.get_or_insert_with(Default::default);
            for (name, value) in limits {
                requests.entry(name).or_insert(value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{ContainerPort, HostPathVolumeSource, Volume};

    fn container(image: &str) -> Container {
        Container {
            name: "c".to_string(),
            image: Some(image.to_string()),
            ports: Some(vec![ContainerPort {
                container_port: 80,
                ..Default::default()
            }]),
            ..Default::default()
        }
    }

    #[test]
    fn fills_in_what_the_api_server_fills_in() {
        let mut pod = Pod {
            spec: Some(PodSpec {
                containers: vec![
                    container("nginx"),
                    container("nginx:1.27"),
                    container("nginx:latest"),
                ],
                volumes: Some(vec![Volume {
                    name: "h".to_string(),
                    host_path: Some(HostPathVolumeSource {
                        path: "/h".to_string(),
                        type_: None,
                    }),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        };
        apply_defaults(&mut pod);
        assert_eq!(pod.metadata.namespace.as_deref(), Some("default"));
        let spec = pod.spec.unwrap();
        assert_eq!(spec.restart_policy.as_deref(), Some("Always"));
        assert_eq!(spec.termination_grace_period_seconds, Some(30));
        assert_eq!(spec.dns_policy.as_deref(), Some("ClusterFirst"));
        assert_eq!(spec.scheduler_name.as_deref(), Some("default-scheduler"));
        assert_eq!(spec.enable_service_links, Some(true));
        assert!(spec.security_context.is_some());
        let policies: Vec<_> = spec
            .containers
            .iter()
            .map(|c| c.image_pull_policy.clone().unwrap())
            .collect();
        assert_eq!(policies, ["Always", "IfNotPresent", "Always"]);
        let first = &spec.containers[0];
        assert_eq!(
            first.termination_message_path.as_deref(),
            Some("/dev/termination-log")
        );
        assert_eq!(first.termination_message_policy.as_deref(), Some("File"));
        assert_eq!(
            first.ports.as_ref().unwrap()[0].protocol.as_deref(),
            Some("TCP")
        );
        let volume = &spec.volumes.unwrap()[0];
        assert_eq!(
            volume.host_path.as_ref().unwrap().type_.as_deref(),
            Some("")
        );
    }
}
