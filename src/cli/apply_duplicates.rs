//! The same Pod twice in the manifests of one command (two documents, or two files,
//! with one namespace and name).
//!
//! kubectl sends the objects one by one, so a cluster sees the second as a second
//! request for the same name: `create` is refused by the API server
//! (`AlreadyExists`); `apply` and `replace` send it as a change to the first, which
//! is "unchanged" when the two are the same. minipod decides everything before it
//! creates anything, so the duplicate is found first, and never becomes a second pod
//! with the same name:
//! - `create`: the API server's refusal, before anything is created;
//! - `apply`/`replace` of an identical copy: the copy is reported as kubectl
//!   reports it (`unchanged` / `replaced`), and done once;
//! - `apply`/`replace` of a different copy: refused before anything is created
//!   (kubectl would apply the second over the first just created; minipod will not
//!   guess which of the two the user meant).

use super::apply::Verb;
use crate::api::ManifestDoc;

/// The documents with each Pod once, and the line to print for each identical
/// copy dropped; or the errors that refuse the command.
pub struct Deduplicated {
    pub docs: Vec<ManifestDoc>,
    pub copies: Vec<String>,
}

pub fn deduplicate(all: Vec<ManifestDoc>, verb: Verb) -> Result<Deduplicated, Vec<String>> {
    let mut docs: Vec<ManifestDoc> = Vec::new();
    let mut copies = Vec::new();
    let mut errors = Vec::new();
    for doc in all {
        let key = identity(&doc);
        let Some(first) = docs.iter().find(|seen| identity(seen) == key) else {
            docs.push(doc);
            continue;
        };
        let (namespace, name) = key;
        let same = serde_json::to_value(&first.pod).ok() == serde_json::to_value(&doc.pod).ok();
        match verb {
            Verb::Create => errors.push(format!(
                "Error from server (AlreadyExists): {}pods {name:?} already exists",
                crate::api::files::error_when("creating", &doc.origin)
            )),
            Verb::Apply if same => copies.push(format!("pod/{name} unchanged")),
            Verb::Replace { .. } if same => copies.push(format!("pod/{name} replaced")),
            Verb::Apply | Verb::Replace { .. } => errors.push(format!(
                "{}: pods {name:?} (namespace {namespace:?}) is also in {}, with different \
                 contents: kubectl would apply this one over the first; minipod refuses \
                 rather than guess which one is meant",
                doc.origin, first.origin
            )),
        }
    }
    if errors.is_empty() {
        Ok(Deduplicated { docs, copies })
    } else {
        Err(errors)
    }
}

fn identity(doc: &ManifestDoc) -> (String, String) {
    let meta = &doc.pod.metadata;
    (
        meta.namespace.clone().unwrap_or_else(|| "default".into()),
        meta.name.clone().unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::parse_manifests;

    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: busybox:1.36\n";

    fn twice(second: &str) -> Vec<ManifestDoc> {
        parse_manifests(&format!("{POD}---\n{second}"), "x.yaml").unwrap()
    }

    #[test]
    fn create_refuses_the_second_as_the_api_server_does() {
        let errors = deduplicate(twice(POD), Verb::Create).err().unwrap();
        assert_eq!(
            errors,
            ["Error from server (AlreadyExists): error when creating \"x.yaml\": pods \"p\" already exists"]
        );
    }

    #[test]
    fn apply_of_an_identical_copy_is_unchanged() {
        let result = deduplicate(twice(POD), Verb::Apply).ok().unwrap();
        assert_eq!(result.docs.len(), 1);
        assert_eq!(result.copies, ["pod/p unchanged"]);
    }

    #[test]
    fn apply_of_a_different_copy_is_refused() {
        let other = POD.replace("busybox:1.36", "debian:12");
        let errors = deduplicate(twice(&other), Verb::Apply).err().unwrap();
        assert!(
            errors[0].starts_with("x.yaml (document 2): pods \"p\""),
            "{errors:?}"
        );
    }

    #[test]
    fn same_name_in_another_namespace_is_another_pod() {
        let other = POD.replace("name: p\n", "name: p\n  namespace: other\n");
        let result = deduplicate(twice(&other), Verb::Create).ok().unwrap();
        assert_eq!(result.docs.len(), 2);
    }
}
