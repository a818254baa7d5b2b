//! `securityContext.seccompProfile` at pod and container level, checked as the API
//! server checks it (validateSeccompProfileField).

use super::field_error::{invalid, required, unsupported, FieldError};
use k8s_openapi::api::core::v1::{PodSpec, SeccompProfile};

const TYPES: [&str; 3] = ["Localhost", "RuntimeDefault", "Unconfined"];

pub fn validate_seccomp(spec: &PodSpec, errors: &mut Vec<FieldError>) {
    if let Some(p) = spec
        .security_context
        .as_ref()
        .and_then(|s| s.seccomp_profile.as_ref())
    {
        validate_profile(p, "spec.securityContext.seccompProfile", errors);
    }
    for (group, containers) in crate::apimachinery::container_groups::container_groups(spec) {
        for (i, c) in containers.iter().enumerate() {
            if let Some(p) = c
                .security_context
                .as_ref()
                .and_then(|s| s.seccomp_profile.as_ref())
            {
                let path = format!("{group}[{i}].securityContext.seccompProfile");
                validate_profile(p, &path, errors);
            }
        }
    }
}

fn validate_profile(p: &SeccompProfile, path: &str, errors: &mut Vec<FieldError>) {
    let type_path = format!("{path}.type");
    match p.type_.as_str() {
        "" => errors.push(required(
            &type_path,
            "type is required when seccompProfile is set",
        )),
        t if !TYPES.contains(&t) => errors.push(unsupported(&type_path, t, &TYPES)),
        _ => {}
    }
    let local_path = format!("{path}.localhostProfile");
    match (p.type_.as_str(), p.localhost_profile.as_deref()) {
        ("Localhost", None) => errors.push(required(
            &local_path,
            "must be set when seccomp type is Localhost",
        )),
        ("Localhost", Some(name)) => {
            // A path below the profile directory, never out of it.
            if name.starts_with('/') {
                errors.push(invalid(&local_path, name, "must be a relative path"));
            }
            if name.split('/').any(|part| part == "..") {
                errors.push(invalid(&local_path, name, "must not contain '..'"));
            }
        }
        (_, Some(name)) => errors.push(invalid(
            &local_path,
            name,
            "can only be set when seccomp type is Localhost",
        )),
        (_, None) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, PodSecurityContext, SecurityContext};

    fn profile(t: &str, local: Option<&str>) -> Option<SeccompProfile> {
        Some(SeccompProfile {
            type_: t.into(),
            localhost_profile: local.map(String::from),
        })
    }

    fn errors_of(pod_level: Option<SeccompProfile>, c: Option<SeccompProfile>) -> Vec<String> {
        let spec = PodSpec {
            security_context: Some(PodSecurityContext {
                seccomp_profile: pod_level,
                ..Default::default()
            }),
            containers: vec![Container {
                security_context: Some(SecurityContext {
                    seccomp_profile: c,
                    ..Default::default()
                }),
                ..Default::default()
            }],
            ..Default::default()
        };
        let mut errors = Vec::new();
        validate_seccomp(&spec, &mut errors);
        errors.iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn valid_profiles_pass() {
        assert!(errors_of(profile("RuntimeDefault", None), profile("Unconfined", None)).is_empty());
        assert!(errors_of(None, profile("Localhost", Some("a/b.json"))).is_empty());
    }

    #[test]
    fn the_api_servers_messages() {
        assert_eq!(
            errors_of(None, profile("Localhost", Some("../../etc/x"))),
            ["spec.containers[0].securityContext.seccompProfile.localhostProfile: Invalid value: \"../../etc/x\": must not contain '..'"]
        );
        assert_eq!(
            errors_of(profile("Other", None), None),
            ["spec.securityContext.seccompProfile.type: Unsupported value: \"Other\": supported values: \"Localhost\", \"RuntimeDefault\", \"Unconfined\""]
        );
    }
}
