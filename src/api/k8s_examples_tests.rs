//! The Kubernetes documentation's example Pods (`shared/k8s-examples/INDEX.tsv`):
//! each must read without a YAML error (KYAML, octal, `\'`), and be accepted or
//! refused with errors that name a field. Rows marked `refuse` must be refused
//! naming the field their notes name. Run with `--nocapture` for the summary.

use super::parse_manifests;
use std::path::Path;

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/k8s-examples");

/// One row of INDEX.tsv.
struct Example {
    path: String,
    kind: String,
    expected: String,
    notes: String,
}

fn examples() -> Vec<Example> {
    let index = std::fs::read_to_string(Path::new(EXAMPLES).join("INDEX.tsv")).unwrap();
    index
        .lines()
        .skip(1)
        .filter_map(|line| {
            let columns: Vec<&str> = line.split('\t').collect();
            Some(Example {
                path: columns.first()?.to_string(),
                kind: columns.get(2)?.to_string(),
                expected: columns.get(5)?.to_string(),
                notes: columns.get(6)?.to_string(),
            })
        })
        .collect()
}

/// The field paths a note names (`spec.volumes[1].configMap`).
fn fields_named_in(notes: &str) -> Vec<&str> {
    notes
        .split(|c: char| c.is_whitespace() || c == ',' || c == ';' || c == '(' || c == ')')
        .filter(|word| word.starts_with("spec.") || word.starts_with("metadata."))
        .collect()
}

/// Whether an error line names `field` or a parent or child of it.
fn names_field(error: &str, field: &str) -> bool {
    error.split(": ").any(|part| {
        let part = part
            .trim_start_matches("strict decoding error: unknown field ")
            .trim_matches('"');
        !part.is_empty() && (field.starts_with(part) || part.starts_with(field))
    })
}

fn names_some_field(error: &str) -> bool {
    error.contains(": spec.") || error.contains(": metadata.") || error.contains("\"spec.")
}

#[test]
fn documentation_examples_read_and_are_judged_by_field() {
    let mut failures = Vec::new();
    let mut summary = Vec::new();
    for example in examples().iter().filter(|example| example.kind == "Pod") {
        let text = std::fs::read_to_string(Path::new(EXAMPLES).join(&example.path)).unwrap();
        match parse_manifests(&text, &example.path) {
            Ok(_) => {
                summary.push(format!("accepted  {}", example.path));
                if example.expected == "refuse" {
                    failures.push(format!(
                        "{}: accepted, but INDEX.tsv says refuse",
                        example.path
                    ));
                }
            }
            Err(errors) => {
                let first = errors.0.first().cloned().unwrap_or_default();
                let reason = first
                    .split_once(": ")
                    .map_or(first.as_str(), |(_, rest)| rest);
                summary.push(format!("refused   {}: {reason}", example.path));
                if errors
                    .0
                    .iter()
                    .any(|error| error.contains("error converting YAML to JSON"))
                {
                    failures.push(format!("{}: YAML error:\n{errors}", example.path));
                }
                if let Some(error) = errors.0.iter().find(|error| !names_some_field(error)) {
                    failures.push(format!("{}: error names no field: {error}", example.path));
                }
                if example.expected == "refuse" {
                    for field in fields_named_in(&example.notes) {
                        if !errors.0.iter().any(|error| names_field(error, field)) {
                            failures.push(format!(
                                "{}: does not name {field}:\n{errors}",
                                example.path
                            ));
                        }
                    }
                }
            }
        }
    }
    println!("{}", summary.join("\n"));
    assert!(summary.len() >= 50, "only {} Pod examples", summary.len());
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}
