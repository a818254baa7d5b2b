//! JSON values printed as YAML, the way `kubectl get -o yaml` looks (block style,
//! keys in the object's order, strings quoted only when YAML would misread them).

use serde_json::Value;

pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    emit(value, 0, &mut out, false);
    out
}

fn emit(value: &Value, indent: usize, out: &mut String, in_seq: bool) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (i, (k, v)) in map.iter().enumerate() {
                if !(in_seq && i == 0) {
                    out.push_str(&pad);
                }
                out.push_str(&scalar_key(k));
                out.push(':');
                block_child(v, indent, out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for v in items {
                out.push_str(&pad);
                out.push_str("- ");
                match v {
                    Value::Object(m) if !m.is_empty() => emit(v, indent + 2, out, true),
                    Value::Array(a) if !a.is_empty() => {
                        out.push('\n');
                        emit(v, indent + 2, out, false)
                    }
                    _ => {
                        out.push_str(&scalar(v));
                        out.push('\n');
                    }
                }
            }
        }
        other => {
            out.push_str(&pad);
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}

fn block_child(v: &Value, indent: usize, out: &mut String) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            emit(v, indent + 2, out, false);
        }
        // kubectl indents sequences at the key's level.
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            emit(v, indent, out, false);
        }
        Value::String(s) if s.contains('\n') => {
            out.push_str(" |");
            if !s.ends_with('\n') {
                out.push('-');
            }
            out.push('\n');
            for line in s.trim_end_matches('\n').split('\n') {
                if !line.is_empty() {
                    out.push_str(&" ".repeat(indent + 2));
                    out.push_str(line);
                }
                out.push('\n');
            }
        }
        _ => {
            out.push(' ');
            out.push_str(&scalar(v));
            out.push('\n');
        }
    }
}

fn scalar_key(k: &str) -> String {
    scalar(&Value::String(k.to_string()))
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
        Value::String(s) => {
            let plain = !s.is_empty()
                && !s.starts_with(|c: char| " -?:,[]{}#&*!|>'\"%@`~".contains(c))
                && !s.ends_with(' ')
                && !s.contains(": ")
                && !s.contains(" #")
                && !s.contains('\t')
                && !matches!(
                    s.to_ascii_lowercase().as_str(),
                    "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n"
                )
                && s.parse::<f64>().is_err()
                && !s.starts_with("0x")
                && !s.starts_with("0o");
            if plain {
                s.clone()
            } else {
                format!("'{}'", s.replace('\'', "''"))
            }
        }
    }
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
            "metadata:\n  labels:\n    app: x\n  name: p\ns: '01777'\nspec:\n  containers:\n  - args:\n    - '-c'\n    - echo hi\n    name: c\n  e: {}\n  'n': 30\n"
        );
    }
}
