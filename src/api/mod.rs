//! Pod manifests: the YAML or JSON a user hands to `minipod apply -f`, read the way
//! kubectl reads it and checked the way the API server checks it.
//!
//! The steps, one file each:
//! 1. `files`: which files to read (files, directories, `-` for stdin).
//! 2. `yaml`: text → JSON values, one per YAML document, with YAML 1.1 scalars as
//!    kubectl's YAML reader resolves them, and a line number for every field.
//! 3. `kind`: `v1` `Pod` (or a `List`), and the `apps/v1` controllers (`apps`:
//!    Deployment, ReplicaSet, DaemonSet, read by the same steps below).
//! 4. `strict_decode`: JSON → `k8s_openapi` `Pod`, every unknown field named.
//! 5. `supported_fields`: every field Kubernetes has but minipod does not implement
//!    yet is refused by name (one table of supported field paths).
//! 6. `validate`: the API server's semantic checks (names, volumes, ports, ...).
//! 7. `defaults`: the values the API server fills in.
//!
//! Every error of every document is collected and returned together.

pub mod apps;
mod defaults;
mod document;
mod errors;
mod field_path;
pub mod files;
mod kind;
pub mod namespaces;
mod newer_fields;
mod strict_decode;
mod supported_fields;
mod validate;
mod yaml;

#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
mod k8s_examples_tests;

use std::path::PathBuf;

pub use errors::ManifestErrors;
/// Image reference grammar, for the kubelet's InvalidImageName.
/// Kubernetes name rules (label keys and values), for label selectors.
pub(crate) use validate::names;
/// YAML text → JSON values, as kubectl reads it (for the YAML writer's tests).
#[cfg(test)]
pub(crate) use yaml::read_documents;
/// How kubectl reads an unquoted YAML scalar (YAML 1.1), for the YAML writer.
pub(crate) use yaml::resolve_plain;

/// One Pod read from a manifest, validated and with the API server's defaults filled in.
#[allow(dead_code)] // used by the pod layer
#[derive(Debug, Clone)]
pub struct ManifestDoc {
    /// Where it came from, for messages: `pod.yaml`, `pod.yaml (document 2)`,
    /// `pods.yaml (item 1)`.
    pub origin: String,
    pub pod: k8s_openapi::api::core::v1::Pod,
}

/// One Deployment, ReplicaSet or DaemonSet read from a manifest, validated and with
/// the API server's defaults filled in.
#[derive(Debug, Clone)]
pub struct AppsDoc {
    pub origin: String,
    pub object: apps::AppsObject,
}

/// One object of a manifest, in the order of the file.
#[derive(Debug, Clone)]
pub enum ApiObject {
    Pod(ManifestDoc),
    Apps(AppsDoc),
}

/// Reads every object (Pods and controllers) from `paths`, as [`load_manifests`].
pub fn load_objects(paths: &[PathBuf]) -> Result<Vec<ApiObject>, ManifestErrors> {
    let mut docs = Vec::new();
    let mut errors = Vec::new();
    for source in files::read_sources(paths, &mut errors) {
        match parse_objects(&source.text, &source.origin) {
            Ok(mut parsed) => docs.append(&mut parsed),
            Err(ManifestErrors(mut more)) => errors.append(&mut more),
        }
    }
    ManifestErrors::result(docs, errors)
}

/// Only the Pods of `objects`.
fn pods_of(objects: Vec<ApiObject>) -> Vec<ManifestDoc> {
    objects
        .into_iter()
        .filter_map(|o| match o {
            ApiObject::Pod(doc) => Some(doc),
            ApiObject::Apps(_) => None,
        })
        .collect()
}

/// Reads every Pod from `paths`: files, directories (every `*.yaml`, `*.yml` and
/// `*.json` directly in it, sorted by name) or `-` for standard input.
#[allow(dead_code)] // used by the pod layer
pub fn load_manifests(paths: &[PathBuf]) -> Result<Vec<ManifestDoc>, ManifestErrors> {
    load_objects(paths).map(pods_of)
}

/// Reads every Pod from `text` (YAML with any number of documents, or JSON); the
/// controllers in it are checked too, and left out.
#[allow(dead_code)] // used by tests
pub fn parse_manifests(text: &str, origin: &str) -> Result<Vec<ManifestDoc>, ManifestErrors> {
    parse_objects(text, origin).map(pods_of)
}

/// Reads every object from `text` (YAML with any number of documents, or JSON).
/// `origin` names the text in error messages (a file name, or `-`).
pub fn parse_objects(text: &str, origin: &str) -> Result<Vec<ApiObject>, ManifestErrors> {
    let yaml_documents = match yaml::read_documents(text) {
        Ok(documents) => documents,
        Err(yaml_errors) => {
            let errors = yaml_errors
                .into_iter()
                .map(|message| format!("{origin}: error converting YAML to JSON: {message}"))
                .collect();
            return Err(ManifestErrors(errors));
        }
    };
    let count = yaml_documents.len();
    let mut docs = Vec::new();
    let mut errors = Vec::new();
    for (index, yaml_document) in yaml_documents.iter().enumerate() {
        let document_origin = if count > 1 {
            format!("{origin} (document {})", index + 1)
        } else {
            origin.to_string()
        };
        document::read_objects(yaml_document, &document_origin, &mut docs, &mut errors);
    }
    ManifestErrors::result(docs, errors)
}
