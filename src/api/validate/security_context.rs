//! `securityContext` at pod and container level, checked as the API server checks it
//! (ValidatePodSecurityContext, ValidateSecurityContext), with its messages. Seccomp
//! profiles are checked in `seccomp`.

use super::field_error::{invalid, unsupported, FieldError};
use k8s_openapi::api::core::v1::{PodSecurityContext, PodSpec, SecurityContext};
use serde_json::{json, Value};

const ID_RANGE: &str = "must be between 0 and 2147483647, inclusive";

pub fn validate_security_contexts(spec: &PodSpec, errors: &mut Vec<FieldError>) {
    if let Some(p) = spec.security_context.as_ref() {
        validate_pod_level(p, errors);
        validate_sysctls(spec, p, errors);
    }
    if spec.share_process_namespace == Some(true) && spec.host_pid == Some(true) {
        errors.push(invalid(
            "spec.shareProcessNamespace",
            true,
            "ShareProcessNamespace and HostPID cannot both be enabled",
        ));
    }
    let host_users = spec.host_users.unwrap_or(true);
    if !host_users {
        // validateHostUsers: a pod in its own user namespace uses no host namespace.
        for (field, set) in [
            ("spec.hostNetwork", spec.host_network),
            ("spec.HostPID", spec.host_pid),
            ("spec.HostIPC", spec.host_ipc),
        ] {
            if set == Some(true) {
                errors.push(super::field_error::forbidden(
                    field,
                    "when `pod.Spec.HostUsers` is false",
                ));
            }
        }
    }
    let groups = crate::apimachinery::container_groups::container_groups(spec);
    for (group, containers) in groups {
        for (i, c) in containers.iter().enumerate() {
            if let Some(sc) = c.security_context.as_ref() {
                validate_container_level(
                    sc,
                    &format!("{group}[{i}].securityContext"),
                    host_users,
                    errors,
                );
            }
        }
    }
}

fn id(path: &str, value: Option<i64>, errors: &mut Vec<FieldError>) {
    if let Some(v) = value {
        if !(0..=i64::from(i32::MAX)).contains(&v) {
            errors.push(invalid(path, v, ID_RANGE));
        }
    }
}

fn validate_pod_level(p: &PodSecurityContext, errors: &mut Vec<FieldError>) {
    let path = "spec.securityContext";
    id(&format!("{path}.runAsUser"), p.run_as_user, errors);
    id(&format!("{path}.runAsGroup"), p.run_as_group, errors);
    id(&format!("{path}.fsGroup"), p.fs_group, errors);
    for (i, g) in p.supplemental_groups.iter().flatten().enumerate() {
        id(&format!("{path}.supplementalGroups[{i}]"), Some(*g), errors);
    }
    if let Some(policy) = p.supplemental_groups_policy.as_deref() {
        let supported = ["Merge", "Strict"];
        if !supported.contains(&policy) {
            errors.push(unsupported(
                &format!("{path}.supplementalGroupsPolicy"),
                policy,
                &supported,
            ));
        }
    }
    if let Some(policy) = p.fs_group_change_policy.as_deref() {
        let supported = ["Always", "OnRootMismatch"];
        if !supported.contains(&policy) {
            errors.push(unsupported(
                &format!("{path}.fsGroupChangePolicy"),
                policy,
                &supported,
            ));
        }
    }
}

fn validate_container_level(
    sc: &SecurityContext,
    path: &str,
    host_users: bool,
    errors: &mut Vec<FieldError>,
) {
    id(&format!("{path}.runAsUser"), sc.run_as_user, errors);
    id(&format!("{path}.runAsGroup"), sc.run_as_group, errors);
    if let Some(pm) = sc.proc_mount.as_deref() {
        let pm_path = format!("{path}.procMount");
        let supported = ["Default", "Unmasked"];
        if !supported.contains(&pm) {
            errors.push(unsupported(&pm_path, pm, &supported));
        } else if pm == "Unmasked" && host_users {
            errors.push(invalid(
                &pm_path,
                pm,
                "`hostUsers` must be false to use `Unmasked`",
            ));
        }
    }
    if let Some(caps) = sc.capabilities.as_ref() {
        for (list, names) in [("add", &caps.add), ("drop", &caps.drop)] {
            for (i, name) in names.iter().flatten().enumerate() {
                let known = name.eq_ignore_ascii_case("ALL")
                    || crate::pod::security::privileges::parse_capability(name).is_some();
                if !known {
                    errors.push(unsupported_capability(
                        &format!("{path}.capabilities.{list}[{i}]"),
                        name,
                    ));
                }
            }
        }
    }
    if sc.privileged == Some(true) && !host_users {
        errors.push(super::field_error::not_supported(
            &format!("{path}.privileged"),
            "a privileged container with hostUsers: false (the host's devices in a user namespace)",
        ));
    }
    if sc.allow_privilege_escalation == Some(false) {
        if sc.privileged == Some(true) {
            errors.push(conflict(
                path,
                sc,
                "cannot set `allowPrivilegeEscalation` to false and `privileged` to true",
            ));
        }
        // The API server compares the name exactly as written.
        let adds = sc.capabilities.as_ref().and_then(|c| c.add.as_ref());
        for name in adds.into_iter().flatten() {
            if name == "CAP_SYS_ADMIN" {
                errors.push(conflict(
                    path,
                    sc,
                    "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN",
                ));
            }
        }
    }
}

/// The API server's validateSysctls: a sysctl name's shape, no duplicates, and no
/// namespaced sysctl when the pod keeps the host's namespace for it.
fn validate_sysctls(spec: &PodSpec, p: &PodSecurityContext, errors: &mut Vec<FieldError>) {
    let mut seen = std::collections::HashSet::new();
    for (i, s) in p.sysctls.iter().flatten().enumerate() {
        let path = format!("spec.securityContext.sysctls[{i}].name");
        if s.name.is_empty() {
            errors.push(super::field_error::required(&path, ""));
        } else if !sysctl_name_ok(&s.name) {
            errors.push(invalid(
                &path,
                &s.name,
                "must have at most 253 characters and match regex ^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$",
            ));
        } else if !seen.insert(s.name.as_str()) {
            errors.push(super::field_error::duplicate(&path, &s.name));
        }
        let name = crate::runtime::sysctl::normalize(&s.name);
        match crate::runtime::sysctl::namespace_of(&name) {
            Some(oci_spec::runtime::LinuxNamespaceType::Network)
                if spec.host_network == Some(true) =>
            {
                errors.push(invalid(
                    &path,
                    &s.name,
                    "may not be specified when 'hostNetwork' is true",
                ))
            }
            Some(oci_spec::runtime::LinuxNamespaceType::Ipc) if spec.host_ipc == Some(true) => {
                errors.push(invalid(
                    &path,
                    &s.name,
                    "may not be specified when 'hostIPC' is true",
                ))
            }
            _ => {}
        }
    }
}

/// `^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$`, 253 at most.
fn sysctl_name_ok(name: &str) -> bool {
    let segment_ok = |seg: &str| {
        let b = seg.as_bytes();
        let edge = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
        !b.is_empty()
            && edge(b[0])
            && edge(b[b.len() - 1])
            && b.iter().all(|c| edge(*c) || *c == b'-' || *c == b'_')
    };
    name.len() <= 253 && name.split(['.', '/']).all(segment_ok)
}

/// A capability name the kernel does not have. The API server lets any string pass
/// and the runtime fails the container; minipod says so before creating anything.
fn unsupported_capability(path: &str, name: &str) -> FieldError {
    FieldError {
        path: path.to_string(),
        detail: format!("Unsupported value: {name:?}: not a Linux capability (write NET_ADMIN or CAP_NET_ADMIN, or ALL)"),
    }
}

/// `Invalid value: {...}: why`, the whole securityContext printed as the API server
/// prints its internal struct (JSON with the Go field names).
fn conflict(path: &str, sc: &SecurityContext, why: &str) -> FieldError {
    FieldError {
        path: path.to_string(),
        detail: format!("Invalid value: {}: {why}", go_dump(sc)),
    }
}

fn go_dump(sc: &SecurityContext) -> String {
    let caps = sc
        .capabilities
        .as_ref()
        .map(|c| json!({"Add": c.add, "Drop": c.drop}));
    let selinux = sc.se_linux_options.as_ref().map(|s| {
        json!({"User": s.user.clone().unwrap_or_default(), "Role": s.role.clone().unwrap_or_default(),
               "Type": s.type_.clone().unwrap_or_default(), "Level": s.level.clone().unwrap_or_default()})
    });
    let windows = sc.windows_options.as_ref().map(|w| {
        json!({"GMSACredentialSpecName": w.gmsa_credential_spec_name, "GMSACredentialSpec": w.gmsa_credential_spec,
               "RunAsUserName": w.run_as_user_name, "HostProcess": w.host_process})
    });
    let seccomp = sc
        .seccomp_profile
        .as_ref()
        .map(|s| json!({"Type": s.type_, "LocalhostProfile": s.localhost_profile}));
    let apparmor = sc
        .app_armor_profile
        .as_ref()
        .map(|s| json!({"Type": s.type_, "LocalhostProfile": s.localhost_profile}));
    // serde_json keeps insertion order only with preserve_order; build it by hand.
    let fields: [(&str, Value); 12] = [
        ("Capabilities", json!(caps)),
        ("Privileged", json!(sc.privileged)),
        ("SELinuxOptions", json!(selinux)),
        ("WindowsOptions", json!(windows)),
        ("RunAsUser", json!(sc.run_as_user)),
        ("RunAsGroup", json!(sc.run_as_group)),
        ("RunAsNonRoot", json!(sc.run_as_non_root)),
        (
            "ReadOnlyRootFilesystem",
            json!(sc.read_only_root_filesystem),
        ),
        (
            "AllowPrivilegeEscalation",
            json!(sc.allow_privilege_escalation),
        ),
        ("ProcMount", json!(sc.proc_mount)),
        ("SeccompProfile", json!(seccomp)),
        ("AppArmorProfile", json!(apparmor)),
    ];
    let body: Vec<String> = fields.iter().map(|(k, v)| format!("{k:?}:{v}")).collect();
    format!("{{{}}}", body.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Capabilities, Container};

    fn errors_of(sc: SecurityContext, psc: Option<PodSecurityContext>) -> Vec<String> {
        let spec = PodSpec {
            security_context: psc,
            containers: vec![Container {
                name: "c".into(),
                security_context: Some(sc),
                ..Default::default()
            }],
            ..Default::default()
        };
        let mut errors = Vec::new();
        validate_security_contexts(&spec, &mut errors);
        errors.iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn escalation_conflicts_use_the_api_servers_words() {
        let errs = errors_of(
            SecurityContext {
                privileged: Some(true),
                allow_privilege_escalation: Some(false),
                ..Default::default()
            },
            None,
        );
        assert_eq!(errs.len(), 1);
        assert!(errs[0].starts_with("spec.containers[0].securityContext: Invalid value: {\"Capabilities\":null,\"Privileged\":true,"), "{}", errs[0]);
        assert!(errs[0].ends_with("\"AllowPrivilegeEscalation\":false,\"ProcMount\":null,\"SeccompProfile\":null,\"AppArmorProfile\":null}: cannot set `allowPrivilegeEscalation` to false and `privileged` to true"), "{}", errs[0]);
        let errs = errors_of(
            SecurityContext {
                capabilities: Some(Capabilities {
                    add: Some(vec!["CAP_SYS_ADMIN".into()]),
                    drop: None,
                }),
                allow_privilege_escalation: Some(false),
                ..Default::default()
            },
            None,
        );
        assert!(
            errs[0].contains("{\"Capabilities\":{\"Add\":[\"CAP_SYS_ADMIN\"],\"Drop\":null},"),
            "{}",
            errs[0]
        );
        assert!(errs[0].ends_with(
            ": cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"
        ));
    }

    #[test]
    fn sysctl_names_duplicates_and_host_namespaces() {
        use k8s_openapi::api::core::v1::Sysctl;
        let sysctl = |n: &str| Sysctl {
            name: n.into(),
            value: "1".into(),
        };
        let spec = PodSpec {
            host_network: Some(true),
            security_context: Some(PodSecurityContext {
                sysctls: Some(vec![
                    sysctl("net.core.somaxconn"),
                    sysctl("kernel.msgmax"),
                    sysctl("kernel.msgmax"),
                    sysctl("Bad..name"),
                ]),
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut errors = Vec::new();
        validate_security_contexts(&spec, &mut errors);
        let errs: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(errs[0], "spec.securityContext.sysctls[0].name: Invalid value: \"net.core.somaxconn\": may not be specified when 'hostNetwork' is true");
        assert_eq!(
            errs[1],
            "spec.securityContext.sysctls[2].name: Duplicate value: \"kernel.msgmax\""
        );
        assert!(errs[2].starts_with("spec.securityContext.sysctls[3].name: Invalid value: \"Bad..name\": must have at most 253 characters"), "{}", errs[2]);
        assert_eq!(errs.len(), 3);
    }

    #[test]
    fn ids_policies_proc_mount_and_capability_names() {
        let errs = errors_of(
            SecurityContext {
                run_as_user: Some(-1),
                proc_mount: Some("Unmasked".into()),
                capabilities: Some(Capabilities {
                    add: Some(vec!["NET_ADMIN".into(), "CAP_NOPE".into()]),
                    drop: Some(vec!["all".into()]),
                }),
                ..Default::default()
            },
            Some(PodSecurityContext {
                fs_group: Some(1 << 31),
                supplemental_groups: Some(vec![4000, -5]),
                supplemental_groups_policy: Some("Loose".into()),
                fs_group_change_policy: Some("Sometimes".into()),
                ..Default::default()
            }),
        );
        assert_eq!(
            errs,
            [
                "spec.securityContext.fsGroup: Invalid value: 2147483648: must be between 0 and 2147483647, inclusive",
                "spec.securityContext.supplementalGroups[1]: Invalid value: -5: must be between 0 and 2147483647, inclusive",
                "spec.securityContext.supplementalGroupsPolicy: Unsupported value: \"Loose\": supported values: \"Merge\", \"Strict\"",
                "spec.securityContext.fsGroupChangePolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnRootMismatch\"",
                "spec.containers[0].securityContext.runAsUser: Invalid value: -1: must be between 0 and 2147483647, inclusive",
                "spec.containers[0].securityContext.procMount: Invalid value: \"Unmasked\": `hostUsers` must be false to use `Unmasked`",
                "spec.containers[0].securityContext.capabilities.add[1]: Unsupported value: \"CAP_NOPE\": not a Linux capability (write NET_ADMIN or CAP_NET_ADMIN, or ALL)",
            ]
        );
    }
}
