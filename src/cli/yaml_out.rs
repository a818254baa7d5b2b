//! JSON values printed as YAML, the way `kubectl get -o yaml` lays them out (block
//! style, keys in the object's order, a list at the level of its key); each string
//! is written in the style kubectl's writer picks (`yaml_scalar`), so the text reads
//! back as the same value.

use super::yaml_scalar::{block_lines, write_scalar, Place, Written};
use serde_json::Value;

pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => mapping(map, 0, &mut out, false),
        Value::Array(items) if !items.is_empty() => sequence(items, 0, &mut out),
        other => {
            // A lone scalar is a document of its own (never folded).
            value_after_indicator(other, 0, None, &mut out);
        }
    }
    out
}

/// The fields of `map`, each `key: value` at `indent` (the first one right after a
/// `- ` already written when `after_dash`).
fn mapping(
    map: &serde_json::Map<String, Value>,
    indent: usize,
    out: &mut String,
    after_dash: bool,
) {
    for (i, (key, value)) in map.iter().enumerate() {
        if !(after_dash && i == 0) {
            pad(indent, out);
        }
        let key_text = match write_scalar(key, Place::Key) {
            Written::Inline(text) => text,
            // A key is never a block (write_scalar quotes it instead).
            Written::Block { .. } => format!("{key:?}"),
        };
        out.push_str(&key_text);
        out.push(':');
        // Where a scalar value starts: after `key: `.
        let column = indent + key_text.chars().count() + 2;
        match value {
            Value::Object(m) if !m.is_empty() => {
                out.push('\n');
                mapping(m, indent + 2, out, false);
            }
            // kubectl writes a list at the level of its key.
            Value::Array(items) if !items.is_empty() => {
                out.push('\n');
                sequence(items, indent, out);
            }
            other => {
                out.push(' ');
                value_after_indicator(other, indent + 2, Some(column), out);
            }
        }
    }
}

fn sequence(items: &[Value], indent: usize, out: &mut String) {
    for item in items {
        pad(indent, out);
        out.push('-');
        match item {
            Value::Object(m) if !m.is_empty() => {
                out.push(' ');
                mapping(m, indent + 2, out, true);
            }
            Value::Array(inner) if !inner.is_empty() => {
                out.push(' ');
                // A list in a list starts on the dash's line, as go-yaml writes it.
                let mut nested = String::new();
                sequence(inner, indent + 2, &mut nested);
                out.push_str(nested.trim_start_matches(' '));
            }
            other => {
                out.push(' ');
                value_after_indicator(other, indent + 2, Some(indent + 2), out);
            }
        }
    }
}

/// A scalar (or an empty map/list) written after `key: ` or `- `, starting at
/// `column` (None: never folded); a block's lines, and folded lines, are indented by
/// `block_indent`.
fn value_after_indicator(
    value: &Value,
    block_indent: usize,
    column: Option<usize>,
    out: &mut String,
) {
    let place = match column {
        Some(column) => Place::Value {
            column,
            indent: block_indent,
        },
        None => Place::Key,
    };
    match value {
        Value::String(text) => match write_scalar(text, place) {
            Written::Inline(inline) => {
                out.push_str(&inline);
                out.push('\n');
            }
            Written::Block { header } => {
                out.push_str(&header);
                out.push('\n');
                block_lines(text, block_indent, out);
            }
        },
        Value::Null => out.push_str("null\n"),
        Value::Bool(b) => {
            out.push_str(if *b { "true" } else { "false" });
            out.push('\n');
        }
        Value::Number(n) => {
            out.push_str(&n.to_string());
            out.push('\n');
        }
        Value::Object(_) => out.push_str("{}\n"),
        Value::Array(_) => out.push_str("[]\n"),
    }
}

fn pad(indent: usize, out: &mut String) {
    out.extend(std::iter::repeat_n(' ', indent));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_objects_and_lists() {
        let v = serde_json::json!({
            "metadata": {"name": "p", "labels": {"app": "x"}},
            "spec": {"containers": [{"name": "c", "args": ["-c", "echo hi"]}], "n": 30, "e": {}},
            "s": "01777"
        });
        let y = to_yaml(&v);
        assert_eq!(
            y,
            "metadata:\n  labels:\n    app: x\n  name: p\ns: \"01777\"\nspec:\n  containers:\n  - args:\n    - -c\n    - echo hi\n    name: c\n  e: {}\n  \"n\": 30\n"
        );
    }

    /// The sidecar's script as kubectl prints it: a literal block under its dash.
    #[test]
    fn a_multi_line_argument_is_a_literal_block() {
        let v = serde_json::json!({"spec": {"containers": [{
            "args": ["-c", "while true; do\n  sleep 1\ndone"], "name": "c"}]}});
        assert_eq!(
            to_yaml(&v),
            "spec:\n  containers:\n  - args:\n    - -c\n    - |-\n      while true; do\n        sleep 1\n      done\n    name: c\n"
        );
    }

    /// kubectl (go-yaml v2, width 80) folds a long string at a space past column 80.
    #[test]
    fn long_strings_fold_as_kubectl_prints_them() {
        let v = serde_json::json!({"status": {"conditions": [{
            "lastProbeTime": null,
            "message": "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."}]}});
        assert_eq!(
            to_yaml(&v),
            "status:\n  conditions:\n  - lastProbeTime: null\n    message: '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are\n      available: 3 No preemption victims found for incoming pod.'\n"
        );
    }

    #[test]
    fn lists_of_lists() {
        let v = serde_json::json!({"a": [["x", "y"], []]});
        assert_eq!(to_yaml(&v), "a:\n- - x\n  - \"y\"\n- []\n");
    }
}
