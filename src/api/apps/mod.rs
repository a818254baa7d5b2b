//! The `apps/v1` controller kinds as the API server takes them: Deployment,
//! ReplicaSet and DaemonSet, decoded strictly, checked (pkg/apis/apps/validation) and
//! defaulted (pkg/apis/apps/v1/defaults.go). Their pod template is checked by the
//! same code as a Pod.

mod defaults;
mod fields;
pub mod selector;
mod template;
mod validate;

use super::strict_decode;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde_json::Value;

/// Which controller kind a document holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AppsKind {
    Deployment,
    ReplicaSet,
    DaemonSet,
}

impl AppsKind {
    pub fn name(self) -> &'static str {
        match self {
            AppsKind::Deployment => "Deployment",
            AppsKind::ReplicaSet => "ReplicaSet",
            AppsKind::DaemonSet => "DaemonSet",
        }
    }
    /// The resource, as in `deployments.apps`.
    pub fn plural(self) -> &'static str {
        match self {
            AppsKind::Deployment => "deployments",
            AppsKind::ReplicaSet => "replicasets",
            AppsKind::DaemonSet => "daemonsets",
        }
    }
    /// kubectl's `deployment.apps` in `deployment.apps/web created`.
    pub fn kubectl(self) -> &'static str {
        match self {
            AppsKind::Deployment => "deployment.apps",
            AppsKind::ReplicaSet => "replicaset.apps",
            AppsKind::DaemonSet => "daemonset.apps",
        }
    }
    pub fn all() -> [AppsKind; 3] {
        [
            AppsKind::Deployment,
            AppsKind::ReplicaSet,
            AppsKind::DaemonSet,
        ]
    }
    /// The kind a resource word names: `deploy`, `deployments`, `rs`, `ds`, ...
    pub fn from_resource(word: &str) -> Option<AppsKind> {
        let word = word.strip_suffix(".apps").unwrap_or(word);
        match word {
            "deploy" | "deployment" | "deployments" => Some(AppsKind::Deployment),
            "rs" | "replicaset" | "replicasets" => Some(AppsKind::ReplicaSet),
            "ds" | "daemonset" | "daemonsets" => Some(AppsKind::DaemonSet),
            _ => None,
        }
    }
}

/// One controller object, as the API server stores it.
#[derive(Debug, Clone, PartialEq)]
pub enum AppsObject {
    Deployment(Deployment),
    ReplicaSet(ReplicaSet),
    DaemonSet(DaemonSet),
}

impl AppsObject {
    pub fn kind(&self) -> AppsKind {
        match self {
            AppsObject::Deployment(_) => AppsKind::Deployment,
            AppsObject::ReplicaSet(_) => AppsKind::ReplicaSet,
            AppsObject::DaemonSet(_) => AppsKind::DaemonSet,
        }
    }
    pub fn metadata(&self) -> &ObjectMeta {
        match self {
            AppsObject::Deployment(o) => &o.metadata,
            AppsObject::ReplicaSet(o) => &o.metadata,
            AppsObject::DaemonSet(o) => &o.metadata,
        }
    }
    pub fn metadata_mut(&mut self) -> &mut ObjectMeta {
        match self {
            AppsObject::Deployment(o) => &mut o.metadata,
            AppsObject::ReplicaSet(o) => &mut o.metadata,
            AppsObject::DaemonSet(o) => &mut o.metadata,
        }
    }
    pub fn name(&self) -> &str {
        self.metadata().name.as_deref().unwrap_or("")
    }
    pub fn namespace(&self) -> &str {
        self.metadata().namespace.as_deref().unwrap_or("default")
    }
    pub fn template(&self) -> Option<&PodTemplateSpec> {
        match self {
            AppsObject::Deployment(o) => o.spec.as_ref().map(|s| &s.template),
            AppsObject::ReplicaSet(o) => o.spec.as_ref().and_then(|s| s.template.as_ref()),
            AppsObject::DaemonSet(o) => o.spec.as_ref().map(|s| &s.template),
        }
    }
    pub fn selector(&self) -> Option<&LabelSelector> {
        match self {
            AppsObject::Deployment(o) => o.spec.as_ref().map(|s| &s.selector),
            AppsObject::ReplicaSet(o) => o.spec.as_ref().map(|s| &s.selector),
            AppsObject::DaemonSet(o) => o.spec.as_ref().map(|s| &s.selector),
        }
    }
    /// The object as JSON with its `apiVersion` and `kind`.
    pub fn to_value(&self) -> Value {
        let mut value = match self {
            AppsObject::Deployment(o) => serde_json::to_value(o),
            AppsObject::ReplicaSet(o) => serde_json::to_value(o),
            AppsObject::DaemonSet(o) => serde_json::to_value(o),
        }
        .unwrap_or_default();
        if let Some(fields) = value.as_object_mut() {
            fields.insert("apiVersion".into(), "apps/v1".into());
            fields.insert("kind".into(), self.kind().name().into());
        }
        value
    }
    /// An object read back from JSON (a stored record).
    pub fn from_value(kind: AppsKind, value: Value) -> serde_json::Result<AppsObject> {
        Ok(match kind {
            AppsKind::Deployment => AppsObject::Deployment(serde_json::from_value(value)?),
            AppsKind::ReplicaSet => AppsObject::ReplicaSet(serde_json::from_value(value)?),
            AppsKind::DaemonSet => AppsObject::DaemonSet(serde_json::from_value(value)?),
        })
    }
}

/// The Pod a template makes (named `name`).
pub fn template_pod(template: &PodTemplateSpec, name: &str) -> k8s_openapi::api::core::v1::Pod {
    template::as_pod(template, name)
}

/// One problem with a field of a controller object.
pub struct Problem {
    /// The field, for its line.
    pub path: String,
    /// The whole message after `Deployment "name": `.
    pub text: String,
}

/// Reads one controller object: strictly decoded, every field minipod lacks named,
/// validated, then defaulted. The problems otherwise.
pub fn read(kind: AppsKind, value: &Value) -> Result<AppsObject, Vec<Problem>> {
    let mut without_status = value.clone();
    if let Value::Object(fields) = &mut without_status {
        fields.remove("status");
    }
    let mut problems = Vec::new();
    let decoded = match kind {
        AppsKind::Deployment => decode(&without_status, AppsObject::Deployment, &mut problems),
        AppsKind::ReplicaSet => decode(&without_status, AppsObject::ReplicaSet, &mut problems),
        AppsKind::DaemonSet => decode(&without_status, AppsObject::DaemonSet, &mut problems),
    };
    let reported: Vec<String> = problems.iter().map(|p| p.path.clone()).collect();
    for path in fields::refused_fields(kind, &without_status, &reported) {
        let text = format!("{path}: not supported by minipod yet");
        problems.push(Problem { path, text });
    }
    if let Some(object) = &decoded {
        for error in validate::validate(object) {
            problems.push(Problem {
                path: error.path.clone(),
                text: error.to_string(),
            });
        }
    }
    match decoded {
        Some(mut object) if problems.is_empty() => {
            defaults::apply_defaults(&mut object);
            Ok(object)
        }
        _ => Err(problems),
    }
}

fn decode<T: serde::de::DeserializeOwned>(
    value: &Value,
    wrap: fn(T) -> AppsObject,
    problems: &mut Vec<Problem>,
) -> Option<AppsObject> {
    let decoded = strict_decode::decode::<T>(value);
    for path in decoded.unknown_fields {
        let text = format!("strict decoding error: unknown field {path:?}");
        problems.push(Problem { path, text });
    }
    if let Some((path, message)) = decoded.type_error {
        let text = format!("{path}: {message}");
        problems.push(Problem { path, text });
    }
    decoded.object.map(wrap)
}

#[cfg(test)]
mod tests {
    use crate::api::{parse_objects, ApiObject};
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

    const CHAPTER: &str = include_str!("../../../examples/nginx-deployment.yaml");

    #[test]
    fn the_chapter_deployment_gets_the_api_server_defaults() {
        let objects = parse_objects(CHAPTER, "nginx-deployment.yaml").unwrap();
        let [ApiObject::Apps(doc)] = objects.as_slice() else {
            panic!("one Deployment expected");
        };
        let super::AppsObject::Deployment(d) = &doc.object else {
            panic!("a Deployment");
        };
        let spec = d.spec.as_ref().unwrap();
        assert_eq!(d.metadata.namespace.as_deref(), Some("default"));
        assert_eq!(spec.replicas, Some(2));
        assert_eq!(spec.revision_history_limit, Some(10));
        assert_eq!(spec.progress_deadline_seconds, Some(600));
        assert_eq!(spec.min_ready_seconds, None);
        let strategy = spec.strategy.as_ref().unwrap();
        assert_eq!(strategy.type_.as_deref(), Some("RollingUpdate"));
        let update = strategy.rolling_update.as_ref().unwrap();
        assert_eq!(update.max_surge, Some(IntOrString::String("25%".into())));
        assert_eq!(
            update.max_unavailable,
            Some(IntOrString::String("25%".into()))
        );
        let pod = spec.template.spec.as_ref().unwrap();
        assert_eq!(pod.restart_policy.as_deref(), Some("Always"));
        assert_eq!(pod.termination_grace_period_seconds, Some(30));
        assert_eq!(spec.template.metadata.as_ref().unwrap().namespace, None);
    }

    fn errors_of(text: &str) -> String {
        parse_objects(text, "d.yaml").unwrap_err().to_string()
    }

    #[test]
    fn the_template_is_checked_as_a_pod_and_its_paths_say_so() {
        let text = CHAPTER
            .replace(
                "image: nginx:1.17.10",
                "image: nginx:1.17.10\n        imagee: x",
            )
            .replace("containerPort: 80", "containerPort: 0");
        let errors = errors_of(&text);
        assert!(
            errors.contains("Deployment \"nginx-deployment\": strict decoding error: unknown field \"spec.template.spec.containers[0].imagee\""),
            "{errors}"
        );
        assert!(
            errors.contains(
                "spec.template.spec.containers[0].ports[0].containerPort: Invalid value: 0"
            ),
            "{errors}"
        );
    }

    #[test]
    fn restart_policy_must_be_always_and_fields_minipod_lacks_are_named() {
        let text = CHAPTER.replace(
            "    spec:\n      containers:",
            "    spec:\n      restartPolicy: Never\n      containers:",
        );
        let errors = errors_of(&text);
        assert!(
            errors.contains("spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\""),
            "{errors}"
        );
        let text = CHAPTER.replace("  replicas: 2", "  replicas: 2\n  paused: true\n  strategy:\n    type: Recreate\n    rollingUpdate:\n      maxSurge: 1");
        assert!(
            errors_of(&text).contains("spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"),
        );
    }

    #[test]
    fn a_daemonset_and_a_replicaset_are_read() {
        let ds = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/k8s-examples/application/basic-daemonset.yaml"
        ))
        .unwrap();
        let objects = parse_objects(&ds, "basic-daemonset.yaml").unwrap();
        let [ApiObject::Apps(doc)] = objects.as_slice() else {
            panic!("one DaemonSet");
        };
        assert_eq!(doc.object.kind(), super::AppsKind::DaemonSet);
        let rs = CHAPTER.replace("kind: Deployment", "kind: ReplicaSet");
        let objects = parse_objects(&rs, "rs.yaml").unwrap();
        assert!(
            matches!(&objects[0], ApiObject::Apps(d) if d.object.kind() == super::AppsKind::ReplicaSet)
        );
        let bad = CHAPTER
            .replace("kind: Deployment", "kind: ReplicaSet")
            .replace("  replicas: 2", "  replicas: 2\n  paused: true");
        assert!(errors_of(&bad).contains("strict decoding error: unknown field \"spec.paused\""));
    }
}
