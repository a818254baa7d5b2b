//! kubectl's JSONPath templates, for the common cases: text and `{expr}` parts, where
//! expr is a path like `.metadata.uid`, `.items[*].metadata.name`, `.items[0]`,
//! `['key.with.dots']`, plus `{range EXPR}…{end}` and quoted literals `{"\n"}`.

use anyhow::{bail, Result};
use serde_json::Value;

#[derive(Debug, PartialEq)]
enum Part {
    Text(String),
    Path(Vec<Step>),
    Range(Vec<Step>, Vec<Part>),
}

#[derive(Debug, PartialEq, Clone)]
enum Step {
    Key(String),
    Index(i64),
    All,
}

/// Render `template` against `value` as kubectl does: several matches of one path
/// are separated by spaces; strings print bare, other values as JSON.
pub fn render(template: &str, value: &Value) -> Result<String> {
    let parts = parse(template)?;
    let mut out = String::new();
    render_parts(&parts, value, &mut out)?;
    Ok(out)
}

fn render_parts(parts: &[Part], value: &Value, out: &mut String) -> Result<()> {
    for part in parts {
        match part {
            Part::Text(t) => out.push_str(t),
            Part::Path(steps) => {
                let found = select(value, steps);
                if found.is_empty() && !steps.contains(&Step::All) {
                    bail!(
                        "error executing jsonpath {:?}: {} is not found",
                        show(steps),
                        show(steps)
                    );
                }
                let words: Vec<String> = found.iter().map(|v| scalar(v)).collect();
                out.push_str(&words.join(" "));
            }
            Part::Range(steps, body) => {
                for item in select(value, steps) {
                    render_parts(body, item, out)?;
                }
            }
        }
    }
    Ok(())
}

fn show(steps: &[Step]) -> String {
    steps
        .iter()
        .map(|s| match s {
            Step::Key(k) => format!(".{k}"),
            Step::Index(i) => format!("[{i}]"),
            Step::All => "[*]".into(),
        })
        .collect()
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn select<'a>(value: &'a Value, steps: &[Step]) -> Vec<&'a Value> {
    let mut current = vec![value];
    for step in steps {
        let mut next = Vec::new();
        for v in current {
            match step {
                Step::Key(k) => next.extend(v.get(k.as_str())),
                Step::Index(i) => {
                    if let Some(list) = v.as_array() {
                        let idx = if *i < 0 { list.len() as i64 + i } else { *i };
                        next.extend(usize::try_from(idx).ok().and_then(|i| list.get(i)));
                    }
                }
                Step::All => match v {
                    Value::Array(list) => next.extend(list.iter()),
                    Value::Object(map) => next.extend(map.values()),
                    _ => {}
                },
            }
        }
        current = next;
    }
    current
}

fn parse(template: &str) -> Result<Vec<Part>> {
    let mut tokens = Vec::new(); // (is_expr, text)
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            tokens.push((false, rest[..open].to_string()));
        }
        let Some(close) = rest[open..].find('}') else {
            bail!("error parsing jsonpath {template}: unclosed action");
        };
        tokens.push((true, rest[open + 1..open + close].trim().to_string()));
        rest = &rest[open + close + 1..];
    }
    if !rest.is_empty() {
        tokens.push((false, rest.to_string()));
    }
    let mut iter = tokens.into_iter();
    let parts = parse_tokens(&mut iter, template, false)?;
    Ok(parts)
}

fn parse_tokens(
    tokens: &mut impl Iterator<Item = (bool, String)>,
    template: &str,
    in_range: bool,
) -> Result<Vec<Part>> {
    let mut parts = Vec::new();
    while let Some((is_expr, text)) = tokens.next() {
        if !is_expr {
            parts.push(Part::Text(text));
        } else if text == "end" {
            if !in_range {
                bail!("error parsing jsonpath {template}: not in range, nothing to end");
            }
            return Ok(parts);
        } else if let Some(expr) = text.strip_prefix("range ") {
            let steps = parse_path(expr.trim(), template)?;
            let body = parse_tokens(tokens, template, true)?;
            parts.push(Part::Range(steps, body));
        } else if let Some(lit) = quoted(&text) {
            parts.push(Part::Text(lit));
        } else {
            parts.push(Part::Path(parse_path(&text, template)?));
        }
    }
    if in_range {
        bail!("error parsing jsonpath {template}: range without end");
    }
    Ok(parts)
}

/// `"\n"` or `'\t'` → the text, with kubectl's escapes.
fn quoted(text: &str) -> Option<String> {
    let inner = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .or_else(|| text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')))?;
    Some(inner.replace("\\n", "\n").replace("\\t", "\t"))
}

fn parse_path(expr: &str, template: &str) -> Result<Vec<Step>> {
    let expr = expr.strip_prefix('$').unwrap_or(expr);
    let mut steps = Vec::new();
    let mut rest = expr;
    let bad =
        || anyhow::anyhow!("error parsing jsonpath {template}: unsupported expression {expr:?}");
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            if end > 0 {
                steps.push(Step::Key(r[..end].to_string()));
            }
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let close = r.find(']').ok_or_else(bad)?;
            let inside = r[..close].trim();
            if inside == "*" {
                steps.push(Step::All);
            } else if let Some(key) = quoted(inside) {
                steps.push(Step::Key(key));
            } else {
                steps.push(Step::Index(inside.parse().map_err(|_| bad())?));
            }
            rest = &r[close + 1..];
        } else {
            return Err(bad());
        }
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn common_templates() {
        let pod = json!({"metadata": {"uid": "u-1", "labels": {"app.k8s/x": "y"}}, "status": {"phase": "Running"}});
        assert_eq!(render("{.metadata.uid}", &pod).unwrap(), "u-1");
        assert_eq!(
            render("phase={.status.phase}{\"\\n\"}", &pod).unwrap(),
            "phase=Running\n"
        );
        assert_eq!(
            render("{.metadata.labels['app.k8s/x']}", &pod).unwrap(),
            "y"
        );
        let list = json!({"items": [{"metadata": {"name": "a"}}, {"metadata": {"name": "b"}}]});
        assert_eq!(render("{.items[*].metadata.name}", &list).unwrap(), "a b");
        assert_eq!(render("{.items[-1].metadata.name}", &list).unwrap(), "b");
        assert_eq!(
            render("{range .items[*]}{.metadata.name}{\"\\n\"}{end}", &list).unwrap(),
            "a\nb\n"
        );
        assert!(render("{.nope}", &pod).is_err());
    }
}
