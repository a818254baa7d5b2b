//! The API server's checks of the controller kinds (pkg/apis/apps/validation), with
//! its messages; the template is checked as the Pod it becomes.

use super::{selector, template, AppsObject};
use crate::api::validate::FieldError;
use crate::api::validate::{invalid_raw, names};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

pub fn validate(object: &AppsObject) -> Vec<FieldError> {
    let mut errors = Vec::new();
    validate_metadata(object.metadata(), &mut errors);
    let name = object.name();
    let what = match object {
        AppsObject::Deployment(_) => "deployment",
        AppsObject::ReplicaSet(_) => "replicaset",
        AppsObject::DaemonSet(_) => "daemonset",
    };
    match object {
        AppsObject::Deployment(d) => match &d.spec {
            None => errors.push(required("spec.selector")),
            Some(spec) => {
                nonnegative("spec.replicas", spec.replicas, &mut errors);
                check_selector(&spec.selector, what, &mut errors);
                check_template(Some(&spec.template), &spec.selector, name, &mut errors);
                nonnegative("spec.minReadySeconds", spec.min_ready_seconds, &mut errors);
                nonnegative(
                    "spec.revisionHistoryLimit",
                    spec.revision_history_limit,
                    &mut errors,
                );
                if let Some(deadline) = spec.progress_deadline_seconds {
                    nonnegative("spec.progressDeadlineSeconds", Some(deadline), &mut errors);
                    if deadline <= spec.min_ready_seconds.unwrap_or(0) {
                        errors.push(invalid_raw(
                            "spec.progressDeadlineSeconds",
                            &deadline.to_string(),
                            "must be greater than minReadySeconds",
                        ));
                    }
                }
                if let Some(strategy) = &spec.strategy {
                    check_strategy(strategy, &mut errors);
                }
            }
        },
        AppsObject::ReplicaSet(r) => match &r.spec {
            None => errors.push(required("spec.selector")),
            Some(spec) => {
                nonnegative("spec.replicas", spec.replicas, &mut errors);
                check_selector(&spec.selector, what, &mut errors);
                match &spec.template {
                    None => errors.push(required("spec.template")),
                    Some(t) => check_template(Some(t), &spec.selector, name, &mut errors),
                }
                nonnegative("spec.minReadySeconds", spec.min_ready_seconds, &mut errors);
            }
        },
        AppsObject::DaemonSet(d) => match &d.spec {
            None => errors.push(required("spec.selector")),
            Some(spec) => {
                check_selector(&spec.selector, what, &mut errors);
                check_template(Some(&spec.template), &spec.selector, name, &mut errors);
                nonnegative("spec.minReadySeconds", spec.min_ready_seconds, &mut errors);
                if let Some(strategy) = &spec.update_strategy {
                    let kind = strategy.type_.as_deref().unwrap_or("RollingUpdate");
                    if !matches!(kind, "RollingUpdate" | "OnDelete") {
                        errors.push(crate::api::validate::unsupported(
                            "spec.updateStrategy",
                            kind,
                            &["RollingUpdate", "OnDelete"],
                        ));
                    }
                }
            }
        },
    }
    errors
}

fn validate_metadata(metadata: &ObjectMeta, errors: &mut Vec<FieldError>) {
    match metadata.name.as_deref() {
        None | Some("") => errors.push(FieldError {
            path: "metadata.name".into(),
            detail: "Required value: name or generateName is required".into(),
        }),
        Some(name) => {
            for reason in names::dns1123_subdomain(name) {
                errors.push(invalid_raw("metadata.name", &format!("{name:?}"), &reason));
            }
        }
    }
    if let Some(namespace) = metadata.namespace.as_deref() {
        for reason in names::dns1123_label(namespace) {
            errors.push(invalid_raw(
                "metadata.namespace",
                &format!("{namespace:?}"),
                &reason,
            ));
        }
    }
    for (key, value) in metadata.labels.iter().flatten() {
        for reason in names::qualified_name(key) {
            errors.push(invalid_raw("metadata.labels", &format!("{key:?}"), &reason));
        }
        for reason in names::label_value(value) {
            errors.push(invalid_raw(
                &format!("metadata.labels[{key}]"),
                &format!("{value:?}"),
                &reason,
            ));
        }
    }
}

fn required(path: &str) -> FieldError {
    FieldError {
        path: path.into(),
        detail: "Required value".into(),
    }
}

fn nonnegative(path: &str, value: Option<i32>, errors: &mut Vec<FieldError>) {
    if let Some(v) = value.filter(|v| *v < 0) {
        errors.push(invalid_raw(
            path,
            &v.to_string(),
            "must be greater than or equal to 0",
        ));
    }
}

/// Go's `%#v` of a label map, as the API server prints it in this message.
fn go_map(labels: &BTreeMap<String, String>) -> String {
    let pairs: Vec<String> = labels.iter().map(|(k, v)| format!("{k:?}:{v:?}")).collect();
    format!("map[string]string{{{}}}", pairs.join(", "))
}

fn check_selector(selector: &LabelSelector, what: &str, errors: &mut Vec<FieldError>) {
    let labels = selector.match_labels.as_ref().map_or(0, |m| m.len());
    let expressions = selector.match_expressions.as_ref().map_or(0, |m| m.len());
    if labels + expressions == 0 {
        errors.push(invalid_raw(
            "spec.selector",
            "{}",
            &format!("empty selector is invalid for {what}"),
        ));
    }
    for (key, value) in selector.match_labels.iter().flatten() {
        for reason in names::qualified_name(key) {
            errors.push(invalid_raw(
                "spec.selector.matchLabels",
                &format!("{key:?}"),
                &reason,
            ));
        }
        for reason in names::label_value(value) {
            errors.push(invalid_raw(
                "spec.selector.matchLabels",
                &format!("{value:?}"),
                &reason,
            ));
        }
    }
    for (i, e) in selector.match_expressions.iter().flatten().enumerate() {
        if !selector::valid_operator(&e.operator) {
            errors.push(invalid_raw(
                &format!("spec.selector.matchExpressions[{i}].operator"),
                &format!("{:?}", e.operator),
                "not a valid selector operator",
            ));
        }
    }
}

fn check_template(
    template: Option<&PodTemplateSpec>,
    selector: &LabelSelector,
    name: &str,
    errors: &mut Vec<FieldError>,
) {
    let Some(template) = template else {
        errors.push(required("spec.template"));
        return;
    };
    let labels = template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    let empty = selector.match_labels.as_ref().map_or(0, |m| m.len())
        + selector.match_expressions.as_ref().map_or(0, |m| m.len())
        == 0;
    if !empty && !selector::matches(selector, &labels) {
        errors.push(invalid_raw(
            "spec.template.metadata.labels",
            &go_map(&labels),
            "`selector` does not match template `labels`",
        ));
    }
    errors.extend(template::validate(template, name));
    let restart = template
        .spec
        .as_ref()
        .and_then(|s| s.restart_policy.as_deref())
        .unwrap_or("Always");
    if restart != "Always" {
        errors.push(crate::api::validate::unsupported(
            "spec.template.spec.restartPolicy",
            restart,
            &["Always"],
        ));
    }
    if template
        .spec
        .as_ref()
        .is_some_and(|s| s.active_deadline_seconds.is_some())
    {
        errors.push(FieldError {
            path: "spec.template.spec.activeDeadlineSeconds".into(),
            detail: "Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported".into(),
        });
    }
}

fn check_strategy(
    strategy: &k8s_openapi::api::apps::v1::DeploymentStrategy,
    errors: &mut Vec<FieldError>,
) {
    match strategy.type_.as_deref().unwrap_or("RollingUpdate") {
        "Recreate" => {
            if strategy.rolling_update.is_some() {
                errors.push(FieldError {
                    path: "spec.strategy.rollingUpdate".into(),
                    detail: "Forbidden: may not be specified when strategy `type` is 'Recreate'"
                        .into(),
                });
            }
        }
        "RollingUpdate" => {
            let Some(update) = &strategy.rolling_update else {
                return;
            };
            let surge = update.max_surge.as_ref();
            let unavailable = update.max_unavailable.as_ref();
            let path_u = "spec.strategy.rollingUpdate.maxUnavailable";
            let path_s = "spec.strategy.rollingUpdate.maxSurge";
            check_int_or_percent(path_u, unavailable, errors);
            check_int_or_percent(path_s, surge, errors);
            if value_of(unavailable) == 0 && value_of(surge) == 0 {
                errors.push(invalid_raw(
                    path_u,
                    &show(unavailable),
                    "may not be 0 when `maxSurge` is 0",
                ));
            }
            if let Some(IntOrString::String(s)) = unavailable {
                if percent(s).is_some_and(|p| p > 100) {
                    errors.push(invalid_raw(
                        path_u,
                        &show(unavailable),
                        "must not be greater than 100%",
                    ));
                }
            }
        }
        other => errors.push(crate::api::validate::unsupported(
            "spec.strategy",
            other,
            &["Recreate", "RollingUpdate"],
        )),
    }
}

fn check_int_or_percent(path: &str, value: Option<&IntOrString>, errors: &mut Vec<FieldError>) {
    match value {
        Some(IntOrString::String(s)) if percent(s).is_none() => errors.push(invalid_raw(
            path,
            &format!("{s:?}"),
            "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
        )),
        Some(IntOrString::Int(n)) if *n < 0 => errors.push(invalid_raw(
            path,
            &n.to_string(),
            "must be greater than or equal to 0",
        )),
        _ => {}
    }
}

/// `25%` → 25.
pub fn percent(text: &str) -> Option<i64> {
    let digits = text.strip_suffix('%')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The number in an int-or-percent (a percent's number; unset is 0).
fn value_of(value: Option<&IntOrString>) -> i64 {
    match value {
        None => 0,
        Some(IntOrString::Int(n)) => i64::from(*n),
        Some(IntOrString::String(s)) => percent(s).unwrap_or(0),
    }
}

fn show(value: Option<&IntOrString>) -> String {
    match value {
        None => "0".into(),
        Some(IntOrString::Int(n)) => n.to_string(),
        Some(IntOrString::String(s)) => format!("{s:?}"),
    }
}
