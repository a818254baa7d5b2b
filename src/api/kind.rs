//! `apiVersion` and `kind`: minipod runs `v1` `Pod`s, alone or in a `v1` `List`, and
//! the `apps/v1` controllers that make Pods (Deployment, ReplicaSet, DaemonSet).

use serde_json::Value;

/// What a manifest document holds.
pub enum DocumentKind<'a> {
    Pod,
    /// `apps/v1` `Deployment`, `ReplicaSet` or `DaemonSet`.
    Apps(super::apps::AppsKind),
    /// A `kind: List`: its `items`, each to be read as its own document.
    List(&'a [Value]),
}

/// The kind of `document`, or the error kubectl (or minipod) gives for it.
pub fn classify(document: &Value) -> Result<DocumentKind<'_>, String> {
    let Value::Object(fields) = document else {
        return Err(format!(
            "error validating data: a manifest must be a map of fields, not {}",
            json_type_name(document)
        ));
    };
    let api_version = fields
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let kind = fields.get("kind").and_then(Value::as_str).unwrap_or("");
    let mut not_set = Vec::new();
    if api_version.is_empty() {
        not_set.push("apiVersion not set");
    }
    if kind.is_empty() {
        not_set.push("kind not set");
    }
    match not_set.as_slice() {
        [] => {}
        [one] => return Err(format!("error validating data: {one}")),
        many => return Err(format!("error validating data: [{}]", many.join(", "))),
    }
    match (kind, api_version) {
        ("Pod", "v1") => Ok(DocumentKind::Pod),
        ("List", "v1") => match fields.get("items") {
            Some(Value::Array(items)) => Ok(DocumentKind::List(items)),
            None | Some(Value::Null) => Ok(DocumentKind::List(&[])),
            Some(other) => Err(format!(
                "List: items: expected a list, got {}",
                json_type_name(other)
            )),
        },
        ("Deployment", "apps/v1") => Ok(DocumentKind::Apps(super::apps::AppsKind::Deployment)),
        ("ReplicaSet", "apps/v1") => Ok(DocumentKind::Apps(super::apps::AppsKind::ReplicaSet)),
        ("DaemonSet", "apps/v1") => Ok(DocumentKind::Apps(super::apps::AppsKind::DaemonSet)),
        ("Pod" | "List" | "Deployment" | "ReplicaSet" | "DaemonSet", _) => Err(format!(
            "no matches for kind {kind:?} in version {api_version:?}"
        )),
        _ => Err(format!(
            "kind {kind:?} ({api_version}) is not supported by minipod yet: only Pod, Deployment, ReplicaSet and DaemonSet"
        )),
    }
}

fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn error_of(document: Value) -> String {
        classify(&document).err().unwrap()
    }

    #[test]
    fn pods_and_lists_are_accepted() {
        assert!(matches!(
            classify(&json!({"apiVersion": "v1", "kind": "Pod"})),
            Ok(DocumentKind::Pod)
        ));
        let list = json!({"apiVersion": "v1", "kind": "List", "items": [{}]});
        assert!(matches!(classify(&list), Ok(DocumentKind::List(items)) if items.len() == 1));
    }

    #[test]
    fn other_kinds_are_refused_by_name() {
        let error = error_of(json!({"apiVersion": "apps/v1", "kind": "StatefulSet"}));
        assert_eq!(
            error,
            "kind \"StatefulSet\" (apps/v1) is not supported by minipod yet: only Pod, Deployment, ReplicaSet and DaemonSet"
        );
        assert_eq!(
            error_of(json!({"apiVersion": "extensions/v1beta1", "kind": "Deployment"})),
            "no matches for kind \"Deployment\" in version \"extensions/v1beta1\""
        );
        assert!(matches!(
            classify(&json!({"apiVersion": "apps/v1", "kind": "Deployment"})),
            Ok(DocumentKind::Apps(crate::api::apps::AppsKind::Deployment))
        ));
        assert_eq!(
            error_of(json!({"apiVersion": "v2", "kind": "Pod"})),
            "no matches for kind \"Pod\" in version \"v2\""
        );
    }

    #[test]
    fn missing_kind_and_version() {
        assert_eq!(
            error_of(json!({"metadata": {}})),
            "error validating data: [apiVersion not set, kind not set]"
        );
        assert_eq!(
            error_of(json!({"apiVersion": "v1"})),
            "error validating data: kind not set"
        );
    }
}
