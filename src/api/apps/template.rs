//! A controller's pod template seen as the Pod it will become, so the Pod's own
//! checks, field table and defaults apply to it unchanged; their field paths are
//! moved under `spec.template.`.

use crate::api::{defaults, supported_fields, validate};
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use serde_json::{json, Value};

/// `metadata.labels` → `spec.template.metadata.labels`, `spec.x` → `spec.template.spec.x`.
pub fn template_path(pod_path: &str) -> String {
    format!("spec.template.{pod_path}")
}

/// The Pod a template makes, named `name` for the checks (pods get their own names).
pub fn as_pod(template: &PodTemplateSpec, name: &str) -> Pod {
    let mut metadata = template.metadata.clone().unwrap_or_default();
    metadata.name = Some(name.to_string());
    Pod {
        metadata,
        spec: template.spec.clone(),
        status: None,
    }
}

/// Every problem of the template as a Pod, with its path under `spec.template.`.
pub fn validate(template: &PodTemplateSpec, name: &str) -> Vec<validate::FieldError> {
    let pod = as_pod(template, name);
    let mut errors = validate::validate_pod(&pod);
    for error in &mut errors {
        error.path = template_path(&error.path);
    }
    errors
}

/// The fields of the template (as JSON, from the manifest) minipod lacks.
pub fn refused_fields(template: Option<&Value>, already_reported: &[String]) -> Vec<String> {
    let Some(template) = template else {
        return Vec::new();
    };
    let pod = json!({
        "metadata": template.get("metadata").cloned().unwrap_or(Value::Null),
        "spec": template.get("spec").cloned().unwrap_or(Value::Null),
    });
    let reported: Vec<String> = already_reported
        .iter()
        .filter_map(|p| p.strip_prefix("spec.template.").map(String::from))
        .collect();
    supported_fields::refused_fields(&pod, &reported)
        .into_iter()
        .map(|path| template_path(&path))
        .collect()
}

/// The API server's Pod defaults, filled into the template (no namespace: the pods
/// get the controller's).
pub fn apply_defaults(template: &mut PodTemplateSpec) {
    let mut pod = as_pod(template, "");
    defaults::apply_defaults(&mut pod);
    template.spec = pod.spec;
}
