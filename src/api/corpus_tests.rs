//! The manifest corpus: every file in `tests/manifests/bad/` must fail with the
//! error its first line announces (`# expect: <part of the error>`); every file in
//! `tests/manifests/good/`, and the shared demo manifests, must be accepted.

use super::{load_manifests, parse_manifests};
use std::path::{Path, PathBuf};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/manifests");
const SHARED_MANIFESTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/manifests");

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    files
}

#[test]
fn every_bad_manifest_fails_with_its_expected_error() {
    let bad = files_in(&Path::new(CORPUS).join("bad"));
    assert!(bad.len() >= 24, "only {} bad manifests", bad.len());
    let mut failures = Vec::new();
    for file in bad {
        let text = std::fs::read_to_string(&file).unwrap();
        let expected = text
            .lines()
            .next()
            .and_then(|line| line.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{}: first line must be `# expect: ...`", file.display()));
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        match parse_manifests(&text, &name) {
            Ok(_) => failures.push(format!("{name}: accepted, expected {expected:?}")),
            Err(errors) if !errors.to_string().contains(expected) => {
                failures.push(format!("{name}: expected {expected:?}, got:\n{errors}"))
            }
            Err(_) => {}
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

#[test]
fn every_good_manifest_is_accepted() {
    let good = load_manifests(&[Path::new(CORPUS).join("good")])
        .unwrap_or_else(|errors| panic!("{errors}"));
    let names: Vec<&str> = good
        .iter()
        .filter_map(|doc| doc.pod.metadata.name.as_deref())
        .collect();
    assert!(
        names.contains(&"three") && names.contains(&"json-pod"),
        "{names:?}"
    );
}

#[test]
fn the_shared_demo_manifests_are_accepted() {
    for name in ["sidecar-pod.yaml", "two-containers.yaml"] {
        let path = Path::new(SHARED_MANIFESTS).join(name);
        let docs = load_manifests(&[path]).unwrap_or_else(|errors| panic!("{errors}"));
        assert_eq!(docs.len(), 1);
    }
}

#[test]
fn documents_and_list_items_are_named() {
    let text =
        std::fs::read_to_string(Path::new(CORPUS).join("good/list-and-documents.yaml")).unwrap();
    let docs = parse_manifests(&text, "pods.yaml").unwrap();
    let origins: Vec<&str> = docs.iter().map(|doc| doc.origin.as_str()).collect();
    assert_eq!(
        origins,
        [
            "pods.yaml (document 1) (item 1)",
            "pods.yaml (document 1) (item 2)",
            "pods.yaml (document 2)"
        ]
    );
}

#[test]
fn defaults_are_filled_in() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  containers: [{name: a, image: nginx}]\n";
    let pod = &parse_manifests(text, "x.yaml").unwrap()[0].pod;
    let spec = pod.spec.as_ref().unwrap();
    assert_eq!(pod.metadata.namespace.as_deref(), Some("default"));
    assert_eq!(spec.restart_policy.as_deref(), Some("Always"));
    assert_eq!(
        spec.containers[0].image_pull_policy.as_deref(),
        Some("Always")
    );
}

#[test]
fn all_errors_of_all_documents_come_together() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: Bad_Name}\nspec:\n  restartPolicy: Sometimes\n  \
                containers: [{name: a}]\n---\napiVersion: apps/v1\nkind: Deployment\n";
    let errors = parse_manifests(text, "pod.yaml").unwrap_err();
    assert_eq!(errors.0.len(), 5, "{errors}");
    assert!(errors.0[4].contains("Deployment: spec.selector: Required value"));
    assert!(errors.0[0]
        .starts_with("pod.yaml (document 1): Pod \"Bad_Name\": metadata.name: Invalid value"));
    assert!(errors.0[0].ends_with("(line 3)"), "{}", errors.0[0]);
}

#[test]
fn octal_mode_is_read_as_kubectl_reads_it() {
    // `mode: 01777` is 1023 for kubectl; minipod refuses the field (newer than 1.34)
    // but must read the file.
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  containers: [{name: a, image: nginx}]\n  \
                volumes: [{name: t, emptyDir: {mode: 01777}}]\n";
    let errors = parse_manifests(text, "x.yaml").unwrap_err();
    assert!(
        errors
            .to_string()
            .contains("spec.volumes[0].emptyDir.mode: not supported"),
        "{errors}"
    );
}
