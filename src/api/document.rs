//! One YAML document → the Pods in it (one, or the items of a List), each checked
//! from syntax to semantics, with every problem reported as one line:
//! `pod.yaml: Pod "web": spec.containers[0].livenessProbe: not supported by minipod yet (line 12)`.

use super::kind::{self, DocumentKind};
use super::yaml::{FieldLines, YamlDocument};
use super::{apps, defaults, newer_fields, strict_decode, supported_fields, validate};
use super::{ApiObject, AppsDoc, ManifestDoc};
use serde_json::Value;

/// Reads the objects of `document` into `docs`, or its problems into `errors`.
pub fn read_objects(
    document: &YamlDocument,
    origin: &str,
    docs: &mut Vec<ApiObject>,
    errors: &mut Vec<String>,
) {
    match kind::classify(&document.value) {
        Err(error) => errors.push(format!("{origin}: {error}")),
        Ok(DocumentKind::Apps(kind)) => {
            let place = Place {
                origin: origin.to_string(),
                lines: &document.lines,
                prefix: String::new(),
            };
            read_apps(kind, &document.value, &place, docs, errors);
        }
        Ok(DocumentKind::Pod) => {
            let place = Place {
                origin: origin.to_string(),
                lines: &document.lines,
                prefix: String::new(),
            };
            read_pod(&document.value, &place, docs, errors);
        }
        Ok(DocumentKind::List(items)) => {
            for (index, item) in items.iter().enumerate() {
                let item_origin = format!("{origin} (item {})", index + 1);
                match kind::classify(item) {
                    Ok(DocumentKind::Pod) => {
                        let place = Place {
                            origin: item_origin,
                            lines: &document.lines,
                            prefix: format!("items[{index}]."),
                        };
                        read_pod(item, &place, docs, errors);
                    }
                    Ok(DocumentKind::Apps(kind)) => {
                        let place = Place {
                            origin: item_origin,
                            lines: &document.lines,
                            prefix: format!("items[{index}]."),
                        };
                        read_apps(kind, item, &place, docs, errors);
                    }
                    Ok(DocumentKind::List(_)) => errors.push(format!(
                        "{item_origin}: a List inside a List is not supported"
                    )),
                    Err(error) => errors.push(format!("{item_origin}: {error}")),
                }
            }
        }
    }
}

/// Where a Pod was written, to point at its fields.
struct Place<'a> {
    origin: String,
    lines: &'a FieldLines,
    /// The Pod's own path in the document (`items[2].` in a List).
    prefix: String,
}

/// One problem with a field of a Pod.
struct Problem {
    /// The field, for its line.
    path: String,
    /// The whole message after `Pod "name": `.
    text: String,
}

/// A Deployment, ReplicaSet or DaemonSet: read by `apps`, reported like a Pod.
fn read_apps(
    kind: apps::AppsKind,
    value: &Value,
    place: &Place,
    docs: &mut Vec<ApiObject>,
    errors: &mut Vec<String>,
) {
    match apps::read(kind, value) {
        Ok(object) => docs.push(ApiObject::Apps(AppsDoc {
            origin: place.origin.clone(),
            object,
        })),
        Err(problems) => {
            let problems = problems
                .into_iter()
                .map(|p| Problem {
                    path: p.path,
                    text: p.text,
                })
                .collect();
            report(kind.name(), value, place, problems, errors)
        }
    }
}

fn read_pod(value: &Value, place: &Place, docs: &mut Vec<ApiObject>, errors: &mut Vec<String>) {
    let mut problems = Vec::new();
    let mut without_status = value.clone();
    if let Value::Object(fields) = &mut without_status {
        fields.remove("status");
    }

    let decoded = strict_decode::decode_pod(&without_status);
    for path in &decoded.unknown_fields {
        let text = if newer_fields::is_newer_field(path) {
            format!("{path}: not supported by minipod yet (a field newer than Kubernetes 1.34)")
        } else {
            format!("strict decoding error: unknown field {path:?}")
        };
        problems.push(Problem {
            path: path.clone(),
            text,
        });
    }
    if let Some((path, message)) = &decoded.type_error {
        let text = format!("{path}: {message}");
        problems.push(Problem {
            path: path.clone(),
            text,
        });
    }
    for path in supported_fields::refused_fields(value, &decoded.unknown_fields) {
        let text = format!("{path}: not supported by minipod yet");
        problems.push(Problem { path, text });
    }
    if let Some(pod) = &decoded.pod {
        for error in validate::validate_pod(pod) {
            problems.push(Problem {
                path: error.path.clone(),
                text: error.to_string(),
            });
        }
    }

    match decoded.pod {
        Some(mut pod) if problems.is_empty() => {
            defaults::apply_defaults(&mut pod);
            docs.push(ApiObject::Pod(ManifestDoc {
                origin: place.origin.clone(),
                pod,
            }));
        }
        _ => report("Pod", value, place, problems, errors),
    }
}

/// Adds the problems to `errors` in the order of their lines in the file.
fn report(
    kind: &str,
    value: &Value,
    place: &Place,
    problems: Vec<Problem>,
    errors: &mut Vec<String>,
) {
    let name = value.pointer("/metadata/name").and_then(Value::as_str);
    let object = match name {
        Some(name) => format!("{kind} {name:?}"),
        None => kind.to_string(),
    };
    let mut located: Vec<(Option<usize>, String)> = problems
        .into_iter()
        .map(|problem| {
            let line = place
                .lines
                .line_of(&format!("{}{}", place.prefix, problem.path));
            (line, problem.text)
        })
        .collect();
    located.sort_by_key(|(line, _)| *line);
    for (line, text) in located {
        let at_line = line
            .map(|line| format!(" (line {line})"))
            .unwrap_or_default();
        errors.push(format!("{}: {object}: {text}{at_line}", place.origin));
    }
}
