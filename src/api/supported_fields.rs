//! THE list of the Pod fields minipod implements. Every other field Kubernetes has
//! is refused by name ("not supported by minipod yet"), never silently ignored.
//!
//! To support a new field: implement it, then add its path here.
//! Paths use `[]` for any list index and `*` for any key of a free-form map; the
//! parents of a listed field are allowed as containers of it.

use super::field_path;
use serde_json::Value;
use std::collections::HashSet;

/// Supported Pod fields (container fields are in `CONTAINER_FIELDS`).
const POD_FIELDS: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata.name",
    "metadata.namespace",
    "metadata.labels.*",
    "metadata.annotations.*",
    "spec.restartPolicy",
    "spec.terminationGracePeriodSeconds",
    "spec.activeDeadlineSeconds",
    "spec.shareProcessNamespace",
    "spec.hostname",
    "spec.subdomain",
    "spec.dnsPolicy",
    "spec.hostNetwork",
    "spec.hostPID",
    "spec.hostUsers",
    "spec.hostIPC",
    "spec.dnsConfig.nameservers[]",
    "spec.dnsConfig.searches[]",
    "spec.dnsConfig.options[].name",
    "spec.dnsConfig.options[].value",
    "spec.nodeName",
    "spec.hostAliases[].ip",
    "spec.hostAliases[].hostnames[]",
    "spec.enableServiceLinks",
    "spec.automountServiceAccountToken",
    "spec.serviceAccountName",
    "spec.schedulerName",
    "spec.priority",
    "spec.volumes[].name",
    "spec.volumes[].emptyDir.medium",
    "spec.volumes[].emptyDir.sizeLimit",
    "spec.volumes[].hostPath.path",
    "spec.volumes[].hostPath.type",
    "spec.securityContext.seccompProfile.type",
    "spec.securityContext.seccompProfile.localhostProfile",
    "spec.securityContext.runAsUser",
    "spec.securityContext.runAsGroup",
    "spec.securityContext.runAsNonRoot",
    "spec.securityContext.supplementalGroups[]",
    "spec.securityContext.supplementalGroupsPolicy",
    "spec.securityContext.fsGroup",
    "spec.securityContext.fsGroupChangePolicy",
    "spec.securityContext.sysctls[].name",
    "spec.securityContext.sysctls[].value",
    // Read so they can be refused with the host's reason (security::host_modules).
    "spec.securityContext.seLinuxOptions.user",
    "spec.securityContext.seLinuxOptions.role",
    "spec.securityContext.seLinuxOptions.type",
    "spec.securityContext.seLinuxOptions.level",
    "spec.securityContext.seLinuxChangePolicy",
    "spec.securityContext.appArmorProfile.type",
    "spec.securityContext.appArmorProfile.localhostProfile",
    "spec.securityContext.windowsOptions.gmsaCredentialSpecName",
    "spec.securityContext.windowsOptions.gmsaCredentialSpec",
    "spec.securityContext.windowsOptions.runAsUserName",
    "spec.securityContext.windowsOptions.hostProcess",
];

/// Supported fields of every container, under `spec.containers[]` and
/// `spec.initContainers[]`.
const CONTAINER_FIELDS: &[&str] = &[
    "name",
    "image",
    "imagePullPolicy",
    "command[]",
    "args[]",
    "workingDir",
    "env[].name",
    "env[].value",
    "ports[].name",
    "ports[].containerPort",
    "ports[].protocol",
    "ports[].hostPort",
    "ports[].hostIP",
    "volumeMounts[].name",
    "volumeMounts[].mountPath",
    "volumeMounts[].readOnly",
    "volumeMounts[].subPath",
    "stdin",
    "stdinOnce",
    "tty",
    "terminationMessagePath",
    "terminationMessagePolicy",
    "resources.limits.cpu",
    "resources.limits.memory",
    "resources.requests.cpu",
    "resources.requests.memory",
    "env[].valueFrom.fieldRef.fieldPath",
    "env[].valueFrom.fieldRef.apiVersion",
    "env[].valueFrom.resourceFieldRef.resource",
    "env[].valueFrom.resourceFieldRef.containerName",
    "env[].valueFrom.resourceFieldRef.divisor",
    "livenessProbe.*",
    "readinessProbe.*",
    "startupProbe.*",
    "lifecycle.postStart.*",
    "lifecycle.preStop.*",
    "securityContext.seccompProfile.type",
    "securityContext.seccompProfile.localhostProfile",
    "securityContext.runAsUser",
    "securityContext.runAsGroup",
    "securityContext.runAsNonRoot",
    "securityContext.capabilities.add[]",
    "securityContext.capabilities.drop[]",
    "securityContext.allowPrivilegeEscalation",
    "securityContext.privileged",
    "securityContext.readOnlyRootFilesystem",
    "securityContext.procMount",
    "securityContext.seLinuxOptions.user",
    "securityContext.seLinuxOptions.role",
    "securityContext.seLinuxOptions.type",
    "securityContext.seLinuxOptions.level",
    "securityContext.appArmorProfile.type",
    "securityContext.appArmorProfile.localhostProfile",
    "securityContext.windowsOptions.gmsaCredentialSpecName",
    "securityContext.windowsOptions.gmsaCredentialSpec",
    "securityContext.windowsOptions.runAsUserName",
    "securityContext.windowsOptions.hostProcess",
];

/// The handlers probes and hooks share: a command, an HTTP GET.
const HANDLER_FIELDS: &[&str] = &[
    "exec.command[]",
    "httpGet.path",
    "httpGet.port",
    "httpGet.host",
    "httpGet.scheme",
    "httpGet.httpHeaders[].name",
    "httpGet.httpHeaders[].value",
];

/// What only a probe (`livenessProbe`, `readinessProbe`, `startupProbe`) may hold
/// beside a handler; `grpc` is refused.
const PROBE_FIELDS: &[&str] = &[
    "tcpSocket.port",
    "tcpSocket.host",
    "initialDelaySeconds",
    "periodSeconds",
    "timeoutSeconds",
    "successThreshold",
    "failureThreshold",
];

/// What only a lifecycle hook (`postStart`, `preStop`) may hold beside a handler.
const HOOK_FIELDS: &[&str] = &["sleep.seconds"];

/// Supported fields of init containers only: `restartPolicy: Always` makes a
/// native sidecar.
const INIT_CONTAINER_ONLY_FIELDS: &[&str] = &["restartPolicy"];

/// Fields read from a manifest but ignored, as kubectl ignores them.
const IGNORED_TOP_LEVEL_FIELDS: &[&str] = &["status"];

/// Metadata the API server sets itself: a manifest may carry them (`get -o yaml`
/// output applied again) and the server replaces them on create, as minipod does.
const SERVER_SET_METADATA: &[&str] = &[
    "metadata.creationTimestamp",
    "metadata.uid",
    "metadata.resourceVersion",
    "metadata.generation",
    "metadata.managedFields",
    "metadata.selfLink",
];

/// The paths of every field in `pod` (a Pod as JSON) that Kubernetes has but minipod
/// does not implement. Fields in `already_reported` (unknown to Kubernetes) are
/// skipped. A field set to nothing (`null`, `{}`, `[]`) asks for nothing and
/// passes, except a volume source, whose presence alone chooses the volume type.
pub fn refused_fields(pod: &Value, already_reported: &[String]) -> Vec<String> {
    let walker = Walker {
        supported: supported_patterns(),
        already_reported,
    };
    let mut refused = Vec::new();
    walker.walk(pod, "", "", &mut refused);
    refused
}

/// Every supported pattern and all its parents (`spec.containers[].name` gives
/// `spec`, `spec.containers`, `spec.containers[]` and itself).
fn supported_patterns() -> HashSet<String> {
    let mut full_paths: Vec<String> = POD_FIELDS.iter().map(|path| path.to_string()).collect();
    for containers in ["spec.containers[]", "spec.initContainers[]"] {
        for field in CONTAINER_FIELDS {
            // `x.*` entries stand for a probe or hook: expand them to their fields.
            match field.strip_suffix(".*") {
                Some(probe) if probe.ends_with("Probe") => {
                    for sub in HANDLER_FIELDS.iter().chain(PROBE_FIELDS) {
                        full_paths.push(format!("{containers}.{probe}.{sub}"));
                    }
                }
                Some(hook) => {
                    for sub in HANDLER_FIELDS.iter().chain(HOOK_FIELDS) {
                        full_paths.push(format!("{containers}.{hook}.{sub}"));
                    }
                }
                None => full_paths.push(format!("{containers}.{field}")),
            }
        }
    }
    for field in INIT_CONTAINER_ONLY_FIELDS {
        full_paths.push(format!("spec.initContainers[].{field}"));
    }
    let mut patterns = HashSet::new();
    for path in full_paths {
        for (at, c) in path.char_indices() {
            if c == '.' || c == '[' {
                patterns.insert(path[..at].to_string());
            }
        }
        patterns.insert(path);
    }
    patterns
}

struct Walker<'a> {
    supported: HashSet<String>,
    already_reported: &'a [String],
}

impl Walker<'_> {
    fn walk(&self, value: &Value, path: &str, pattern: &str, refused: &mut Vec<String>) {
        match value {
            Value::Object(fields) => {
                for (key, child) in fields {
                    let child_path = field_path::map_key(path, key);
                    let named_pattern = field_path::field(pattern, key);
                    let any_key_pattern = field_path::field(pattern, "*");
                    if path.is_empty() && IGNORED_TOP_LEVEL_FIELDS.contains(&key.as_str())
                        || SERVER_SET_METADATA.contains(&child_path.as_str())
                    {
                        continue;
                    } else if self.supported.contains(&named_pattern) {
                        self.walk(child, &child_path, &named_pattern, refused);
                    } else if self.supported.contains(&any_key_pattern) {
                        self.walk(child, &child_path, &any_key_pattern, refused);
                    } else if self.already_reported.contains(&child_path)
                        || (is_set_to_nothing(child) && !is_volume_source(&named_pattern))
                    {
                        continue;
                    } else {
                        refused.push(name_the_refused_field(&child_path, child));
                    }
                }
            }
            Value::Array(items) => {
                let item_pattern = format!("{pattern}[]");
                for (index, item) in items.iter().enumerate() {
                    self.walk(
                        item,
                        &field_path::index(path, index),
                        &item_pattern,
                        refused,
                    );
                }
            }
            _ => {}
        }
    }
}

fn is_set_to_nothing(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(fields) => fields.is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

/// `spec.volumes[].configMap` and its siblings: the key chooses the volume type.
fn is_volume_source(pattern: &str) -> bool {
    pattern
        .strip_prefix("spec.volumes[].")
        .is_some_and(|rest| !rest.contains('.'))
}

/// The path that says best what was asked for: a refused field that holds a single
/// sub-object is named down to it (`env[0].valueFrom.secretKeyRef`,
/// `envFrom[0].configMapRef`), which tells more than `valueFrom` alone.
fn name_the_refused_field(path: &str, value: &Value) -> String {
    match value {
        Value::Object(fields) if fields.len() == 1 => match fields.iter().next() {
            Some((key, child)) if child.is_object() || child.is_array() => {
                name_the_refused_field(&field_path::field(path, key), child)
            }
            _ => path.to_string(),
        },
        Value::Array(items) if items.len() == 1 => {
            name_the_refused_field(&field_path::index(path, 0), &items[0])
        }
        _ => path.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refused(pod: Value) -> Vec<String> {
        refused_fields(&pod, &[])
    }

    #[test]
    fn supported_fields_pass() {
        let pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "x", "labels": {"app": "y"}},
            "spec": {
                "containers": [{"name": "a", "image": "b", "command": ["sh"],
                                "volumeMounts": [{"name": "v", "mountPath": "/v", "subPath": "s"}]}],
                "initContainers": [{"name": "i", "image": "b", "restartPolicy": "Always"}],
                "volumes": [{"name": "v", "emptyDir": {}}, {"name": "h", "hostPath": {"path": "/h"}}]
            },
            "status": {"phase": "Running"}
        });
        assert!(refused(pod).is_empty());
    }

    #[test]
    fn unsupported_fields_are_named() {
        let pod = json!({
            "metadata": {"generateName": "x-"},
            "spec": {
                "nodeSelector": {"disktype": "ssd"},
                "containers": [{"name": "a", "livenessProbe": {"grpc": {"port": 2379}, "periodSeconds": 5},
                                "restartPolicy": "Always",
                                "env": [{"name": "A", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]}],
                "volumes": [{"name": "c", "configMap": {}}]
            }
        });
        assert_eq!(
            refused(pod),
            [
                "metadata.generateName",
                "spec.containers[0].env[0].valueFrom.secretKeyRef",
                "spec.containers[0].livenessProbe.grpc",
                "spec.containers[0].restartPolicy",
                "spec.nodeSelector",
                "spec.volumes[0].configMap",
            ]
        );
    }

    #[test]
    fn fields_set_to_nothing_pass() {
        let pod = json!({"metadata": {"creationTimestamp": null},
                         "spec": {"securityContext": {}, "containers": [{"resources": {}}]}});
        assert!(refused(pod).is_empty());
    }

    #[test]
    fn server_set_metadata_passes() {
        let pod = json!({"metadata": {"creationTimestamp": "2026-11-29T18:21:38Z",
                                      "uid": "70afa4c3-4968-478e-8838-6d5214dab92b",
                                      "resourceVersion": "1", "generation": 1}});
        assert!(refused(pod).is_empty());
    }

    #[test]
    fn already_reported_fields_are_skipped() {
        let pod = json!({"spec": {"hostPath": {"path": "/x"}}});
        assert!(refused_fields(&pod, &["spec.hostPath".to_string()]).is_empty());
    }
}
