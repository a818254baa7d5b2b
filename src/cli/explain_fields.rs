//! `explain pod.spec.containers` (a dotted path, no pod name): the field's
//! documentation as kubectl explain prints it. The text is the Kubernetes API's own
//! (`explain_fields.json`, generated from k8s-openapi's v1_34 types by
//! `scripts/gen-explain-fields.py`).

use super::outln;
use anyhow::{bail, Context as _, Result};
use serde::Deserialize;
use std::collections::BTreeMap;

const FIELDS: &str = include_str!("explain_fields.json");
const POD: &str = "crate::api::core::v1::Pod";

#[derive(Deserialize)]
struct Type {
    description: String,
    fields: Vec<Field>,
}

#[derive(Deserialize)]
struct Field {
    name: String,
    #[serde(rename = "type")]
    type_text: String,
    #[serde(rename = "ref")]
    reference: Option<String>,
    required: bool,
    description: String,
    /// The field's allowed values (a Go `+enum` type in k8s.io/api).
    #[serde(default, rename = "enum")]
    values: Vec<String>,
}

/// Does `what` ask for field documentation (`pod`, `pods.spec`, `po.spec.containers`)?
pub fn is_field_path(what: &str) -> bool {
    let resource = what
        .split('.')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    matches!(resource.as_str(), "pod" | "pods" | "po")
}

/// `recursive`: the fields of fields, one line each and no descriptions
/// (`kubectl explain --recursive`).
pub fn run(what: &str, recursive: bool) -> Result<i32> {
    let types: BTreeMap<String, Type> =
        serde_json::from_str(FIELDS).context("read the built-in field documentation")?;
    let mut path = what.split('.');
    let resource = path.next().unwrap_or_default();
    if !is_field_path(resource) {
        bail!("the server doesn't have a resource type \"{resource}\"");
    }
    let mut current = types
        .get(POD)
        .context("no Pod in the field documentation")?;
    let mut field: Option<&Field> = None;
    for name in path.filter(|n| !n.is_empty()) {
        if let Some(f) = field {
            current = match f.reference.as_ref().and_then(|r| types.get(r)) {
                Some(t) => t,
                None => bail!("field \"{name}\" does not exist"),
            };
        }
        field = Some(
            current
                .fields
                .iter()
                .find(|f| f.name == name)
                .with_context(|| format!("field \"{name}\" does not exist"))?,
        );
    }
    let mut out = String::from("KIND:       Pod\nVERSION:    v1\n\n");
    let (description, fields) = match field {
        None => (current.description.clone(), Some(&current.fields)),
        Some(f) => {
            out.push_str(&format!("FIELD: {} <{}>\n", f.name, f.type_text));
            if !f.values.is_empty() {
                out.push_str("ENUM:");
                for value in &f.values {
                    out.push_str(&format!("\n    {}", enum_value(value)));
                }
            }
            out.push_str("\n\n");
            let inner = f.reference.as_ref().and_then(|r| types.get(r));
            let mut description = f.description.clone();
            if let Some(t) = inner.filter(|t| !t.description.is_empty()) {
                description.push('\n');
                description.push_str(&t.description);
            }
            (description, inner.map(|t| &t.fields))
        }
    };
    out.push_str("DESCRIPTION:\n");
    wrap_into(&description, 4, &mut out);
    if let Some(fields) = fields.filter(|f| !f.is_empty()) {
        out.push_str("    \nFIELDS:\n");
        if recursive {
            field_tree(&types, fields, 1, &mut Vec::new(), &mut out);
        } else {
            for (i, f) in fields.iter().enumerate() {
                if i > 0 {
                    out.push('\n');
                }
                field_line(f, 1, &mut out);
                wrap_into(&f.description, 4, &mut out);
            }
        }
    }
    outln!("{}", out.trim_end_matches('\n'));
    Ok(0)
}

/// One field's line as kubectl's explain template prints it: `name\t<type>`,
/// ` -required-`, then its allowed values (at most four, then `, ....`).
fn field_line(f: &Field, level: usize, out: &mut String) {
    let indent = " ".repeat(level * 2);
    let required = if f.required { " -required-" } else { "" };
    out.push_str(&format!(
        "{indent}{}\t<{}>{required}\n",
        f.name, f.type_text
    ));
    if !f.values.is_empty() {
        let mut shown: Vec<&str> = f.values.iter().take(4).map(|v| enum_value(v)).collect();
        if f.values.len() > 4 {
            shown.push("....");
        }
        out.push_str(&format!("{indent}enum: {}\n", shown.join(", ")));
    }
}

/// `--recursive`: every field and, indented beneath it, the fields of its type, down
/// to the leaves; a type is not opened again inside itself (kubectl stops at a cycle
/// the same way, by the types on the path).
fn field_tree<'a>(
    types: &'a BTreeMap<String, Type>,
    fields: &'a [Field],
    level: usize,
    path: &mut Vec<&'a str>,
    out: &mut String,
) {
    for f in fields {
        field_line(f, level, out);
        let Some(reference) = f.reference.as_deref() else {
            continue;
        };
        if path.contains(&reference) {
            continue;
        }
        if let Some(t) = types.get(reference) {
            path.push(reference);
            field_tree(types, &t.fields, level + 1, path, out);
            path.pop();
        }
    }
}

/// An allowed value as kubectl shows it: the empty string as `""`.
fn enum_value(value: &str) -> &str {
    if value.is_empty() {
        "\"\""
    } else {
        value
    }
}

/// `text` wrapped at 80 columns, each line indented by `indent` (a word longer than
/// a line, like a URL, stands alone).
fn wrap_into(text: &str, indent: usize, out: &mut String) {
    let width = 80 - indent;
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            if !line.is_empty() && line.len() + 1 + word.len() > width {
                out.push_str(&" ".repeat(indent));
                out.push_str(&line);
                out.push('\n');
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        out.push_str(&" ".repeat(indent));
        out.push_str(&line);
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_like_kubectl() {
        let mut out = String::new();
        wrap_into("List of containers belonging to the pod. Containers cannot currently be added or removed. There must be at least one container in a Pod. Cannot be updated.", 4, &mut out);
        assert_eq!(
            out,
            "    List of containers belonging to the pod. Containers cannot currently be\n    added or removed. There must be at least one container in a Pod. Cannot be\n    updated.\n"
        );
    }

    #[test]
    fn every_reference_resolves() {
        let types: BTreeMap<String, Type> = serde_json::from_str(FIELDS).unwrap();
        for t in types.values() {
            for f in &t.fields {
                if let Some(r) = &f.reference {
                    assert!(types.contains_key(r), "{r}");
                }
            }
        }
    }
}
