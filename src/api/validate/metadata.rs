//! `metadata`: name, namespace, labels, annotations.

use super::field_error::{invalid, required, FieldError};
use super::names;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// The API server's limit on all annotations of an object together.
const ANNOTATIONS_MAX_BYTES: usize = 256 * 1024;

pub fn validate_metadata(metadata: &ObjectMeta, errors: &mut Vec<FieldError>) {
    match metadata.name.as_deref() {
        None | Some("") => errors.push(required(
            "metadata.name",
            "name or generateName is required",
        )),
        Some(name) => {
            for reason in names::dns1123_subdomain(name) {
                errors.push(invalid("metadata.name", name, &reason));
            }
        }
    }
    if let Some(namespace) = metadata.namespace.as_deref() {
        for reason in names::dns1123_label(namespace) {
            errors.push(invalid("metadata.namespace", namespace, &reason));
        }
    }
    for (key, value) in metadata.labels.iter().flatten() {
        for reason in names::qualified_name(key) {
            errors.push(invalid("metadata.labels", key, &reason));
        }
        for reason in names::label_value(value) {
            errors.push(invalid(&format!("metadata.labels[{key}]"), value, &reason));
        }
    }
    let mut annotation_bytes = 0;
    for (key, value) in metadata.annotations.iter().flatten() {
        for reason in names::qualified_name(key) {
            errors.push(invalid("metadata.annotations", key, &reason));
        }
        annotation_bytes += key.len() + value.len();
    }
    if annotation_bytes > ANNOTATIONS_MAX_BYTES {
        errors.push(FieldError {
            path: "metadata.annotations".to_string(),
            detail: format!("Too long: must have at most {ANNOTATIONS_MAX_BYTES} bytes"),
        });
    }
}
