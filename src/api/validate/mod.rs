//! The API server's semantic checks of a Pod (pkg/apis/core/validation), for the
//! fields minipod supports, with the API server's messages.

mod containers;
mod field_error;
mod metadata;
pub(crate) mod names;
mod pod_spec;
mod seccomp;
mod security_context;
mod volumes;

pub use field_error::{invalid_raw, unsupported, FieldError};
use k8s_openapi::api::core::v1::Pod;

/// Every problem with `pod`, in no particular order.
pub fn validate_pod(pod: &Pod) -> Vec<FieldError> {
    let mut errors = Vec::new();
    metadata::validate_metadata(&pod.metadata, &mut errors);
    match &pod.spec {
        Some(spec) => {
            let volume_names =
                volumes::validate_volumes(spec.volumes.as_deref().unwrap_or(&[]), &mut errors);
            containers::validate_containers(spec, &volume_names, &mut errors);
            pod_spec::validate_pod_fields(spec, &mut errors);
            seccomp::validate_seccomp(spec, &mut errors);
            security_context::validate_security_contexts(spec, &mut errors);
        }
        None => errors.push(field_error::required("spec", "")),
    }
    errors
}
