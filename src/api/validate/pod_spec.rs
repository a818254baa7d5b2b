//! Pod-wide fields of `spec`: restart policy, grace period, DNS, host names.

use super::field_error::{invalid, not_supported, required, unsupported, FieldError};
use super::names;
use k8s_openapi::api::core::v1::PodSpec;

pub fn validate_pod_fields(spec: &PodSpec, errors: &mut Vec<FieldError>) {
    if let Some(policy) = spec.restart_policy.as_deref() {
        let supported = ["Always", "OnFailure", "Never"];
        if !supported.contains(&policy) {
            errors.push(unsupported("spec.restartPolicy", policy, &supported));
        }
    }
    if let Some(seconds) = spec.termination_grace_period_seconds {
        if seconds < 0 {
            errors.push(invalid(
                "spec.terminationGracePeriodSeconds",
                seconds,
                "must be greater than or equal to 0",
            ));
        }
    }
    if let Some(seconds) = spec.active_deadline_seconds {
        // The API server stores it as an int64 but allows an int32's range.
        if !(1..=i64::from(i32::MAX)).contains(&seconds) {
            errors.push(invalid(
                "spec.activeDeadlineSeconds",
                seconds,
                "must be between 1 and 2147483647, inclusive",
            ));
        }
    }
    if let Some(policy) = spec.dns_policy.as_deref() {
        let supported = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"];
        if !supported.contains(&policy) {
            errors.push(unsupported("spec.dnsPolicy", policy, &supported));
        } else if policy == "None" && spec.dns_config.is_none() {
            errors.push(required(
                "spec.dnsConfig",
                "must provide `dnsConfig` when `dnsPolicy` is None",
            ));
        }
    }
    for (path, value) in [
        ("spec.hostname", &spec.hostname),
        ("spec.subdomain", &spec.subdomain),
    ] {
        if let Some(value) = value.as_deref() {
            for reason in names::dns1123_label(value) {
                errors.push(invalid(path, value, &reason));
            }
        }
    }
    if let Some(node_name) = spec.node_name.as_deref() {
        for reason in names::dns1123_subdomain(node_name) {
            errors.push(invalid("spec.nodeName", node_name, &reason));
        }
    }
    for (index, alias) in spec.host_aliases.iter().flatten().enumerate() {
        let path = format!("spec.hostAliases[{index}]");
        if alias.ip.parse::<std::net::IpAddr>().is_err() {
            errors.push(invalid(
                &format!("{path}.ip"),
                &alias.ip,
                "must be a valid IP address",
            ));
        }
        for (host_index, hostname) in alias.hostnames.iter().flatten().enumerate() {
            for reason in names::dns1123_subdomain(hostname) {
                errors.push(invalid(
                    &format!("{path}.hostnames[{host_index}]"),
                    hostname,
                    &reason,
                ));
            }
        }
    }
    if let Some(priority) = spec.priority {
        if priority != 0 {
            errors.push(not_supported(
                "spec.priority",
                "only priority 0 (one host, no preemption)",
            ));
        }
    }
}
