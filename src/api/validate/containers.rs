//! `spec.containers` and `spec.initContainers`: names, images, ports, mounts,
//! policies.

use super::field_error::{
    duplicate, invalid, not_found, not_supported, required, unsupported, FieldError,
};
use super::names;
use k8s_openapi::api::core::v1::{Container, ContainerPort, PodSpec, VolumeMount};
use std::collections::HashSet;

pub fn validate_containers(
    spec: &PodSpec,
    volume_names: &HashSet<String>,
    errors: &mut Vec<FieldError>,
) {
    if spec.containers.is_empty() {
        errors.push(required("spec.containers", ""));
    }
    // Container names are unique across init and app containers.
    let mut container_names = HashSet::new();
    let groups = crate::apimachinery::container_groups::container_groups(spec);
    for (group_path, containers) in groups {
        // Host ports are unique among the app containers, and among the init ones.
        let mut host_ports = HashSet::new();
        for (index, container) in containers.iter().enumerate() {
            let path = format!("{group_path}[{index}]");
            validate_name(container, &path, &mut container_names, errors);
            validate_image(container, &path, errors);
            validate_policies(
                container,
                &path,
                group_path == "spec.initContainers",
                errors,
            );
            validate_env(container, &path, errors);
            validate_resources(container, &path, errors);
            validate_ports(
                container.ports.as_deref().unwrap_or(&[]),
                &path,
                &mut host_ports,
                errors,
            );
            let mounts = container.volume_mounts.as_deref().unwrap_or(&[]);
            validate_volume_mounts(mounts, &path, volume_names, errors);
        }
    }
}

fn validate_name(
    container: &Container,
    path: &str,
    seen: &mut HashSet<String>,
    errors: &mut Vec<FieldError>,
) {
    let name_path = format!("{path}.name");
    if container.name.is_empty() {
        errors.push(required(&name_path, ""));
        return;
    }
    for reason in names::dns1123_label(&container.name) {
        errors.push(invalid(&name_path, &container.name, &reason));
    }
    if !seen.insert(container.name.clone()) {
        errors.push(duplicate(&name_path, &container.name));
    }
}

fn validate_image(container: &Container, path: &str, errors: &mut Vec<FieldError>) {
    let image_path = format!("{path}.image");
    match container.image.as_deref() {
        None | Some("") => errors.push(required(&image_path, "")),
        Some(image) if image.trim() != image => errors.push(invalid(
            &image_path,
            image,
            "must not have leading or trailing whitespace",
        )),
        // A reference that does not parse is accepted, as the API server accepts it:
        // the kubelet reports InvalidImageName on the pod.
        Some(_) => {}
    }
}

fn validate_policies(
    container: &Container,
    path: &str,
    is_init: bool,
    errors: &mut Vec<FieldError>,
) {
    if let Some(policy) = container.image_pull_policy.as_deref() {
        let supported = ["Always", "IfNotPresent", "Never"];
        if !supported.contains(&policy) {
            errors.push(unsupported(
                &format!("{path}.imagePullPolicy"),
                policy,
                &supported,
            ));
        }
    }
    if let Some(policy) = container.termination_message_policy.as_deref() {
        let supported = ["FallbackToLogsOnError", "File"];
        if !supported.contains(&policy) {
            errors.push(unsupported(
                &format!("{path}.terminationMessagePolicy"),
                policy,
                &supported,
            ));
        }
    }
    // An init container with `restartPolicy: Always` is a sidecar; no other value.
    if let Some(policy) = container.restart_policy.as_deref() {
        if is_init && policy != "Always" {
            errors.push(unsupported(
                &format!("{path}.restartPolicy"),
                policy,
                &["Always"],
            ));
        }
    }
}

/// cpu and memory quantities, each request at most its limit (Kubernetes' messages).
fn validate_resources(container: &Container, path: &str, errors: &mut Vec<FieldError>) {
    let Some(r) = &container.resources else {
        return;
    };
    let parse = |which: &str,
                 map: &Option<
        std::collections::BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>,
    >,
                 errors: &mut Vec<FieldError>| {
        let mut out = std::collections::BTreeMap::new();
        for (name, q) in map.iter().flatten() {
            let p = format!("{path}.resources.{which}[{name}]");
            match crate::apimachinery::quantity::parse_quantity(&q.0) {
                Ok(v) if v.value >= 0.0 => {
                    out.insert(name.clone(), v.value);
                }
                Ok(_) => errors.push(invalid(&p, &q.0, "must be greater than or equal to 0")),
                Err(_) => errors.push(invalid(
                    &p,
                    &q.0,
                    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
                )),
            }
        }
        out
    };
    let limits = parse("limits", &r.limits, errors);
    let requests = parse("requests", &r.requests, errors);
    for (name, request) in &requests {
        if let Some(limit) = limits.get(name) {
            if request > limit {
                let q = r
                    .requests
                    .as_ref()
                    .and_then(|m| m.get(name))
                    .map(|q| q.0.clone())
                    .unwrap_or_default();
                errors.push(invalid(
                    &format!("{path}.resources.requests"),
                    &q,
                    &format!(
                        "must be less than or equal to {name} limit of {}",
                        r.limits
                            .as_ref()
                            .and_then(|m| m.get(name))
                            .map(|q| q.0.clone())
                            .unwrap_or_default()
                    ),
                ));
            }
        }
    }
}

fn validate_env(container: &Container, path: &str, errors: &mut Vec<FieldError>) {
    for (index, variable) in container.env.iter().flatten().enumerate() {
        let name_path = format!("{path}.env[{index}].name");
        if variable.name.is_empty() {
            errors.push(required(&name_path, ""));
        } else if variable.name.contains('=')
            || !variable
                .name
                .chars()
                .all(|c| c.is_ascii_graphic() || c == ' ')
        {
            errors.push(invalid(
                &name_path,
                &variable.name,
                "a valid environment variable name must consist only of printable ASCII characters other than '='",
            ));
        }
        let resource_ref = variable
            .value_from
            .as_ref()
            .and_then(|v| v.resource_field_ref.as_ref());
        if let Some(r) = resource_ref {
            if !crate::pod::downward_api::RESOURCES.contains(&r.resource.as_str()) {
                errors.push(unsupported(
                    &format!("{path}.env[{index}].valueFrom.resourceFieldRef.resource"),
                    &r.resource,
                    crate::pod::downward_api::RESOURCES,
                ));
            }
        }
        let field_ref = variable
            .value_from
            .as_ref()
            .and_then(|v| v.field_ref.as_ref());
        if let Some(field_ref) = field_ref {
            let fp_path = format!("{path}.env[{index}].valueFrom.fieldRef.fieldPath");
            if !crate::pod::downward_api::is_known(&field_ref.field_path) {
                errors.push(unsupported(
                    &fp_path,
                    &field_ref.field_path,
                    crate::pod::downward_api::KUBERNETES_FIELDS,
                ));
            } else if !crate::pod::downward_api::is_supported(&field_ref.field_path) {
                errors.push(not_supported(
                    &fp_path,
                    &format!(
                        "{} needs a pod network (an IP), which minipod does not give pods yet",
                        field_ref.field_path
                    ),
                ));
            }
            if variable.value.as_deref().is_some_and(|v| !v.is_empty()) {
                errors.push(invalid(
                    &format!("{path}.env[{index}].valueFrom"),
                    "",
                    "may not be specified when `value` is not empty",
                ));
            }
        }
    }
}

fn validate_ports(
    ports: &[ContainerPort],
    path: &str,
    host_ports: &mut HashSet<String>,
    errors: &mut Vec<FieldError>,
) {
    let mut port_names = HashSet::new();
    for (index, port) in ports.iter().enumerate() {
        let port_path = format!("{path}.ports[{index}]");
        if !(1..=65535).contains(&port.container_port) {
            errors.push(invalid(
                &format!("{port_path}.containerPort"),
                port.container_port,
                "must be between 1 and 65535, inclusive",
            ));
        }
        let protocol = port.protocol.as_deref().unwrap_or("TCP");
        let protocols = ["SCTP", "TCP", "UDP"];
        if !protocols.contains(&protocol) {
            errors.push(unsupported(
                &format!("{port_path}.protocol"),
                protocol,
                &protocols,
            ));
        }
        if let Some(host_port) = port.host_port.filter(|port| *port != 0) {
            let host_port_path = format!("{port_path}.hostPort");
            if !(1..=65535).contains(&host_port) {
                errors.push(invalid(
                    &host_port_path,
                    host_port,
                    "must be between 1 and 65535, inclusive",
                ));
            } else if !host_ports.insert(format!("{host_port}/{protocol}")) {
                errors.push(duplicate(
                    &host_port_path,
                    &format!("{host_port}/{protocol}"),
                ));
            }
        }
        if let Some(host_ip) = port.host_ip.as_deref().filter(|ip| !ip.is_empty()) {
            if host_ip.parse::<std::net::IpAddr>().is_err() {
                errors.push(invalid(
                    &format!("{port_path}.hostIP"),
                    host_ip,
                    "must be a valid IP address",
                ));
            }
        }
        if let Some(name) = port.name.as_deref() {
            let name_path = format!("{port_path}.name");
            for reason in port_name_problems(name) {
                errors.push(invalid(&name_path, name, reason));
            }
            if !port_names.insert(name.to_string()) {
                errors.push(duplicate(&name_path, name));
            }
        }
    }
}

/// An IANA service name (`http`, `metrics-1`), as port names must be.
fn port_name_problems(name: &str) -> Vec<&'static str> {
    let mut problems = Vec::new();
    if name.len() > 15 {
        problems.push("must be no more than 15 characters");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        problems.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
    }
    if name.contains("--") {
        problems.push("must not contain consecutive hyphens");
    }
    if !name.chars().any(|c| c.is_ascii_lowercase()) {
        problems.push("must contain at least one letter (a-z)");
    }
    if name.starts_with('-') || name.ends_with('-') {
        problems.push("must not start or end with a hyphen");
    }
    problems
}

fn validate_volume_mounts(
    mounts: &[VolumeMount],
    path: &str,
    volume_names: &HashSet<String>,
    errors: &mut Vec<FieldError>,
) {
    let mut mount_paths = HashSet::new();
    for (index, mount) in mounts.iter().enumerate() {
        let mount_path = format!("{path}.volumeMounts[{index}]");
        let name_path = format!("{mount_path}.name");
        if mount.name.is_empty() {
            errors.push(required(&name_path, ""));
        } else if !volume_names.contains(&mount.name) {
            errors.push(not_found(&name_path, &mount.name));
        }
        let target_path = format!("{mount_path}.mountPath");
        if mount.mount_path.is_empty() {
            errors.push(required(&target_path, ""));
        } else if !mount.mount_path.starts_with('/') {
            errors.push(invalid(
                &target_path,
                &mount.mount_path,
                "must be an absolute path",
            ));
        } else if !mount_paths.insert(mount.mount_path.trim_end_matches('/').to_string()) {
            errors.push(invalid(&target_path, &mount.mount_path, "must be unique"));
        } else if let Some(why) = covers_kernel_files(&mount.mount_path) {
            errors.push(invalid(&target_path, &mount.mount_path, &why));
        }
        if let Some(sub_path) = mount.sub_path.as_deref() {
            let sub_path_path = format!("{mount_path}.subPath");
            if sub_path.starts_with('/') {
                errors.push(invalid(&sub_path_path, sub_path, "must be a relative path"));
            } else if sub_path.split('/').any(|part| part == "..") {
                errors.push(invalid(&sub_path_path, sub_path, "must not contain '..'"));
            }
        }
    }
}

/// A volume on or inside /proc or /sys would replace the container's procfs or sysfs
/// (and the masked paths with it); runc refuses such a mount ("cannot be mounted
/// because it is inside /proc"), so minipod refuses the manifest before creating
/// anything. Kubernetes itself accepts it and lets the runtime fail.
fn covers_kernel_files(mount_path: &str) -> Option<String> {
    let clean = clean_path(mount_path);
    if clean == "/" {
        return Some(format!(
            "{clean:?} covers /proc and /sys: a volume may not replace the container's root"
        ));
    }
    ["/proc", "/sys"]
        .into_iter()
        .find(|dir| clean == *dir || clean.starts_with(&format!("{dir}/")))
        .map(|dir| {
            format!(
                "{clean:?} is inside {dir}: a volume may not cover the kernel's files there (runc: cannot be mounted because it is inside {dir})"
            )
        })
}

/// An absolute path cleaned as Go's `path.Clean` does: no `.`, `..` or empty parts.
fn clean_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod kernel_file_tests {
    use super::*;

    #[test]
    fn proc_and_sys_are_refused_after_cleaning() {
        for (path, refused) in [
            ("/proc", true),
            ("/proc/", true),
            ("//proc/sys", true),
            ("/tmp/../sys/fs", true),
            ("/./sys", true),
            ("/", true),
            ("/a/..", true),
            ("/procfs", false),
            ("/system", false),
            ("/data/proc", false),
            ("/var/log/nginx", false),
        ] {
            assert_eq!(covers_kernel_files(path).is_some(), refused, "{path}");
        }
        assert_eq!(clean_path("//tmp/../sys/./fs/"), "/sys/fs");
    }
}
