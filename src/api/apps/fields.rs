//! THE list of controller fields minipod implements, per kind; every other field
//! Kubernetes has is refused by name. The pod template is checked against the Pod's
//! own table (see `template`).

use super::{template, AppsKind};
use crate::api::field_path;
use serde_json::Value;

const COMMON: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata.name",
    "metadata.namespace",
    "metadata.labels.*",
    "metadata.annotations.*",
    "spec.selector.matchLabels.*",
    "spec.selector.matchExpressions[].key",
    "spec.selector.matchExpressions[].operator",
    "spec.selector.matchExpressions[].values[]",
    "spec.minReadySeconds",
];

const DEPLOYMENT: &[&str] = &[
    "spec.replicas",
    "spec.strategy.type",
    "spec.strategy.rollingUpdate.maxSurge",
    "spec.strategy.rollingUpdate.maxUnavailable",
    "spec.revisionHistoryLimit",
    "spec.progressDeadlineSeconds",
    "spec.paused",
];

const REPLICA_SET: &[&str] = &["spec.replicas"];

const DAEMON_SET: &[&str] = &[
    "spec.updateStrategy.type",
    "spec.updateStrategy.rollingUpdate.maxSurge",
    "spec.updateStrategy.rollingUpdate.maxUnavailable",
    "spec.revisionHistoryLimit",
];

/// The paths of the fields of `value` (the object as JSON) Kubernetes has and minipod
/// does not implement, its template's included. `already_reported`: unknown fields.
pub fn refused_fields(kind: AppsKind, value: &Value, already_reported: &[String]) -> Vec<String> {
    let own = match kind {
        AppsKind::Deployment => DEPLOYMENT,
        AppsKind::ReplicaSet => REPLICA_SET,
        AppsKind::DaemonSet => DAEMON_SET,
    };
    let supported: Vec<&str> = COMMON.iter().chain(own).copied().collect();
    let mut refused = Vec::new();
    walk(value, "", "", &supported, already_reported, &mut refused);
    refused.extend(template::refused_fields(
        value.pointer("/spec/template"),
        already_reported,
    ));
    refused
}

fn walk(
    value: &Value,
    path: &str,
    pattern: &str,
    supported: &[&str],
    reported: &[String],
    out: &mut Vec<String>,
) {
    match value {
        Value::Object(fields) => {
            for (key, child) in fields {
                let child_path = field_path::map_key(path, key);
                if child_path == "spec.template" || child_path == "status" {
                    continue;
                }
                let named = field_path::field(pattern, key);
                let any_key = field_path::field(pattern, "*");
                if supported.iter().any(|s| covers(s, &named)) {
                    walk(child, &child_path, &named, supported, reported, out);
                } else if supported.contains(&any_key.as_str()) {
                    walk(child, &child_path, &any_key, supported, reported, out);
                } else if !reported.contains(&child_path) && !is_nothing(child) {
                    out.push(child_path);
                }
            }
        }
        Value::Array(items) => {
            let item_pattern = format!("{pattern}[]");
            for (index, item) in items.iter().enumerate() {
                let item_path = field_path::index(path, index);
                walk(item, &item_path, &item_pattern, supported, reported, out);
            }
        }
        _ => {}
    }
}

/// Whether the supported pattern `s` is `pattern` or one of its children.
fn covers(s: &str, pattern: &str) -> bool {
    s == pattern || s.starts_with(&format!("{pattern}.")) || s.starts_with(&format!("{pattern}["))
}

fn is_nothing(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(fields) => fields.is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deployment_fields_minipod_lacks_are_named() {
        let value = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app.kubernetes.io/name": "x"}},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "x"}},
                     "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}},
                     "template": {"metadata": {"labels": {"app": "x"}},
                                  "spec": {"containers": [{"name": "a", "image": "b"}],
                                           "affinity": {"nodeAffinity": {}}}}}
        });
        assert_eq!(
            refused_fields(AppsKind::Deployment, &value, &[]),
            ["spec.template.spec.affinity.nodeAffinity"]
        );
        let ds = json!({"spec": {"replicas": 2, "selector": {}}});
        assert_eq!(
            refused_fields(AppsKind::DaemonSet, &ds, &[]),
            ["spec.replicas"]
        );
    }
}
