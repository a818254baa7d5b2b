//! JSON → `k8s_openapi` `Pod`, strictly: every field the Kubernetes API does not
//! know is reported with its full path (`spec.containers[0].imagee`), and a value of
//! the wrong type names its field.
//!
//! `serde_ignored` reports each field the Pod type skipped; `serde_path_to_error`
//! tells where a type error happened.

use super::field_path;
use k8s_openapi::api::core::v1::Pod;
use serde_json::Value;

/// What strict decoding found.
pub struct StrictDecoding {
    /// The Pod, unless a value had the wrong type.
    pub pod: Option<Pod>,
    /// Paths of fields the Kubernetes API does not know.
    pub unknown_fields: Vec<String>,
    /// Path and message of a value of the wrong type.
    pub type_error: Option<(String, String)>,
}

/// Decodes `document` (a Pod as JSON, without its `status`) into a `Pod`.
pub fn decode_pod(document: &Value) -> StrictDecoding {
    let decoded = decode::<Pod>(document);
    StrictDecoding {
        pod: decoded.object,
        unknown_fields: decoded.unknown_fields,
        type_error: decoded.type_error,
    }
}

/// What strict decoding of any kind found.
pub struct Decoded<T> {
    pub object: Option<T>,
    pub unknown_fields: Vec<String>,
    pub type_error: Option<(String, String)>,
}

/// Decodes `document` into any API type `T`, strictly (as [`decode_pod`]).
pub fn decode<T: serde::de::DeserializeOwned>(document: &Value) -> Decoded<T> {
    let mut unknown_fields = Vec::new();
    let result = {
        let mut record_unknown = |path: serde_ignored::Path<'_>| {
            unknown_fields.push(ignored_path_text(&path));
        };
        let ignored = serde_ignored::Deserializer::new(document, &mut record_unknown);
        serde_path_to_error::deserialize::<_, T>(ignored)
    };
    match result {
        Ok(object) => Decoded {
            object: Some(object),
            unknown_fields,
            type_error: None,
        },
        Err(error) => Decoded {
            object: None,
            unknown_fields,
            type_error: Some((error_path_text(error.path()), error.inner().to_string())),
        },
    }
}

/// `serde_ignored`'s path as kubectl prints it.
fn ignored_path_text(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => field_path::index(&ignored_path_text(parent), *index),
        Path::Map { parent, key } => field_path::field(&ignored_path_text(parent), key),
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => ignored_path_text(parent),
    }
}

/// `serde_path_to_error`'s path as kubectl prints it.
fn error_path_text(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut text = String::new();
    for segment in path.iter() {
        text = match segment {
            Segment::Seq { index } => field_path::index(&text, *index),
            Segment::Map { key } => field_path::field(&text, key),
            Segment::Enum { variant } => field_path::field(&text, variant),
            Segment::Unknown => text,
        };
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_fields_with_their_paths() {
        let document = json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x", "restartPolicy": "Never"},
            "spec": {"hostPath": {}, "containers": [{"name": "a", "image": "b"}, {"name": "c", "imagee": "d"}]}
        });
        let decoded = decode_pod(&document);
        assert!(decoded.pod.is_some());
        assert_eq!(
            decoded.unknown_fields,
            [
                "metadata.restartPolicy",
                "spec.containers[1].imagee",
                "spec.hostPath"
            ]
        );
    }

    #[test]
    fn type_errors_name_the_field() {
        let document = json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"},
            "spec": {"containers": [{"name": "a", "image": true}]}
        });
        let decoded = decode_pod(&document);
        let (path, message) = decoded.type_error.unwrap();
        assert_eq!(path, "spec.containers[0].image");
        assert!(message.contains("boolean"), "{message}");
    }
}
