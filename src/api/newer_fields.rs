//! Kubernetes fields newer than the API version minipod's types are generated for
//! (k8s-openapi, Kubernetes 1.34). Strict decoding calls them unknown; they are
//! real, so minipod says "not supported" instead and names them.
//!
//! (Other recent fields such as `restartPolicyRules`, `env[].valueFrom.fileKeyRef`,
//! pod-level `resources` and `image` volumes are in 1.34: the supported-fields table
//! refuses them like any other field minipod does not implement.)

use super::field_path::pattern_of;

/// Path patterns (`[]` = any list index) of fields added after Kubernetes 1.34.
const NEWER_FIELDS: &[&str] = &[
    "spec.volumes[].emptyDir.mode",
    "spec.containers[].volumeMounts[].bindMountOptions",
    "spec.initContainers[].volumeMounts[].bindMountOptions",
    "spec.containers[].securityContext.cgroupOptions",
    "spec.initContainers[].securityContext.cgroupOptions",
    "spec.evictionResponders",
    "spec.schedulingGroup",
    "spec.volumes[].configMap.defaultUser",
    "spec.volumes[].secret.defaultUser",
    "spec.volumes[].projected.defaultUser",
    "spec.volumes[].downwardAPI.defaultUser",
];

/// Whether `path` (like `spec.volumes[0].emptyDir.mode`) is a field newer than 1.34.
pub fn is_newer_field(path: &str) -> bool {
    NEWER_FIELDS.contains(&pattern_of(path).as_str())
}

#[cfg(test)]
mod tests {
    #[test]
    fn knows_emptydir_mode() {
        assert!(super::is_newer_field("spec.volumes[3].emptyDir.mode"));
        assert!(!super::is_newer_field("spec.volumes[3].emptyDir.medium"));
    }
}
