//! `seLinuxOptions`, `appArmorProfile` and `windowsOptions` need something of the
//! host: a Linux security module, or Windows. minipod applies none of them; a pod
//! that asks for one is refused by the field's name with the reason, before
//! anything is created (a cluster's kubelet would refuse an AppArmor profile on a
//! host without AppArmor the same way: "Cannot enforce AppArmor: AppArmor is not
//! enabled on the host").

use k8s_openapi::api::core::v1::{Pod, PodSecurityContext, SecurityContext};
use std::path::Path;

/// `container.apparmor.security.beta.kubernetes.io/<container>: runtime/default`.
const APPARMOR_ANNOTATION: &str = "container.apparmor.security.beta.kubernetes.io/";

/// What the host has.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HostModules {
    pub selinux: bool,
    pub apparmor: bool,
}

impl HostModules {
    /// Read from the kernel: selinuxfs mounted with an `enforce` file; AppArmor's
    /// module parameter `enabled` is `Y`.
    pub fn detect() -> HostModules {
        let apparmor = std::fs::read_to_string("/sys/module/apparmor/parameters/enabled")
            .map(|s| s.trim() == "Y")
            .unwrap_or(false);
        HostModules {
            selinux: Path::new("/sys/fs/selinux/enforce").exists(),
            apparmor,
        }
    }
}

/// One message per field the pod sets that needs a module (or an OS) it cannot have.
pub fn check(pod: &Pod, host: HostModules) -> Vec<String> {
    let Some(spec) = pod.spec.as_ref() else {
        return Vec::new();
    };
    let mut errors = Vec::new();
    if let Some(p) = spec.security_context.as_ref() {
        check_pod_level(p, host, &mut errors);
    }
    // The annotation older manifests use for the same thing.
    for (key, value) in pod.metadata.annotations.iter().flatten() {
        if key.starts_with(APPARMOR_ANNOTATION) && value != "unconfined" && !host.apparmor {
            errors.push(format!(
                "metadata.annotations[{key}]: Cannot enforce AppArmor: AppArmor is not enabled on the host"
            ));
        }
    }
    let groups = crate::apimachinery::container_groups::container_groups(spec);
    for (group, containers) in groups {
        for (i, c) in containers.iter().enumerate() {
            if let Some(sc) = c.security_context.as_ref() {
                let path = format!("{group}[{i}].securityContext");
                check_container(sc, &path, host, &mut errors);
            }
        }
    }
    errors
}

fn check_pod_level(p: &PodSecurityContext, host: HostModules, errors: &mut Vec<String>) {
    let path = "spec.securityContext";
    fields(
        path,
        p.se_linux_options.is_some() || p.se_linux_change_policy.is_some(),
        p.app_armor_profile.as_ref().map(|a| a.type_.as_str()),
        p.windows_options.is_some(),
        host,
        errors,
    );
}

fn check_container(sc: &SecurityContext, path: &str, host: HostModules, errors: &mut Vec<String>) {
    fields(
        path,
        sc.se_linux_options.is_some(),
        sc.app_armor_profile.as_ref().map(|a| a.type_.as_str()),
        sc.windows_options.is_some(),
        host,
        errors,
    );
}

fn fields(
    path: &str,
    selinux: bool,
    apparmor: Option<&str>,
    windows: bool,
    host: HostModules,
    errors: &mut Vec<String>,
) {
    if selinux {
        errors.push(if host.selinux {
            format!("{path}.seLinuxOptions: not supported by minipod yet: SELinux labels are not applied")
        } else {
            format!("{path}.seLinuxOptions: this host has no SELinux (no /sys/fs/selinux): the labels cannot be applied")
        });
    }
    // Unconfined asks for nothing; kubelet checks only a profile to enforce.
    if let Some(typ) = apparmor.filter(|t| *t != "Unconfined") {
        errors.push(if host.apparmor {
            format!("{path}.appArmorProfile: not supported by minipod yet: AppArmor profile {typ} is not applied")
        } else {
            format!("{path}.appArmorProfile: Cannot enforce AppArmor: AppArmor is not enabled on the host")
        });
    }
    if windows {
        errors.push(format!(
            "{path}.windowsOptions: applies to Windows hosts only; this is a Linux host"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{AppArmorProfile, Container, PodSpec, SELinuxOptions};

    #[test]
    fn each_field_is_refused_by_name() {
        let pod = Pod {
            spec: Some(PodSpec {
                security_context: Some(PodSecurityContext {
                    app_armor_profile: Some(AppArmorProfile {
                        type_: "Localhost".into(),
                        localhost_profile: Some("k8s-deny".into()),
                    }),
                    ..Default::default()
                }),
                containers: vec![Container {
                    name: "c".into(),
                    security_context: Some(SecurityContext {
                        se_linux_options: Some(SELinuxOptions {
                            level: Some("s0:c123,c456".into()),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        let none = HostModules {
            selinux: false,
            apparmor: false,
        };
        assert_eq!(
            check(&pod, none),
            [
                "spec.securityContext.appArmorProfile: Cannot enforce AppArmor: AppArmor is not enabled on the host",
                "spec.containers[0].securityContext.seLinuxOptions: this host has no SELinux (no /sys/fs/selinux): the labels cannot be applied",
            ]
        );
    }
}
