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
    /// `[?(@.path OP literal)]`, or `[?(@.path)]` (the path exists).
    Filter(Vec<Step>, Option<(Op, Value)>),
}

#[derive(Debug, PartialEq, Clone, Copy)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// Render `template` against `value` as kubectl does: several matches of one path
/// are separated by spaces; strings print bare, other values as JSON. A path that
/// finds nothing prints nothing (kubectl's `--allow-missing-template-keys`, true by
/// default); with `allow_missing` false it is kubectl's error.
pub fn render(template: &str, value: &Value, allow_missing: bool) -> Result<String> {
    let parts = parse(template)?;
    let mut out = String::new();
    if let Err(missing) = render_parts(&parts, value, &mut out, allow_missing) {
        bail!(
            "error executing jsonpath {template:?}: Error executing template: {missing}. Printing more information for debugging the template:\n\ttemplate was:\n\t\t{template}\n\tobject given to jsonpath engine was:\n\t\t{value}\n"
        );
    }
    Ok(out)
}

/// Err: what was not found, in kubectl's words (`foo is not found`).
fn render_parts(
    parts: &[Part],
    value: &Value,
    out: &mut String,
    allow_missing: bool,
) -> Result<(), String> {
    for part in parts {
        match part {
            Part::Text(t) => out.push_str(t),
            Part::Path(steps) => {
                let found = select(value, steps);
                if found.is_empty() && !allow_missing {
                    if let Some(missing) = first_missing(value, steps) {
                        return Err(missing);
                    }
                }
                let words: Vec<String> = found.iter().map(|v| scalar(v)).collect();
                out.push_str(&words.join(" "));
            }
            Part::Range(steps, body) => {
                for item in select(value, steps) {
                    render_parts(body, item, out, allow_missing)?;
                }
            }
        }
    }
    Ok(())
}

/// The step at which `steps` stop finding anything, as client-go's jsonpath says it.
fn first_missing(value: &Value, steps: &[Step]) -> Option<String> {
    for at in 0..steps.len() {
        let before = select(value, &steps[..at]);
        if select(value, &steps[..=at]).is_empty() && !before.is_empty() {
            return Some(match &steps[at] {
                Step::Key(k) => format!("{k} is not found"),
                Step::Index(i) => {
                    let len = before
                        .first()
                        .and_then(|v| v.as_array())
                        .map_or(0, Vec::len);
                    format!("array index out of bounds: index {i}, length {len}")
                }
                // A wildcard or a filter over nothing is an empty result, not an error.
                _ => return None,
            });
        }
    }
    None
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
                Step::Filter(path, test) => {
                    let items: Vec<&Value> = match v {
                        Value::Array(list) => list.iter().collect(),
                        other => vec![other],
                    };
                    next.extend(items.into_iter().filter(|item| {
                        let found = select(item, path);
                        match test {
                            None => !found.is_empty(),
                            Some((op, literal)) => found.iter().any(|f| compare(f, *op, literal)),
                        }
                    }));
                }
            }
        }
        current = next;
    }
    current
}

/// client-go's filter comparison: equal values, or numbers (and strings) ordered.
fn compare(found: &Value, op: Op, literal: &Value) -> bool {
    let ordering = match (found, literal) {
        (Value::Number(a), Value::Number(b)) => a.as_f64().partial_cmp(&b.as_f64()),
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        (a, b) if a == b => Some(std::cmp::Ordering::Equal),
        _ => None,
    };
    use std::cmp::Ordering::*;
    match (op, ordering) {
        (Op::Eq, Some(Equal)) => true,
        (Op::Ne, Some(Equal)) => false,
        (Op::Ne, _) => true,
        (Op::Lt, Some(Less)) | (Op::Gt, Some(Greater)) => true,
        (Op::Le, Some(Less | Equal)) | (Op::Ge, Some(Greater | Equal)) => true,
        _ => false,
    }
}

/// `?(@.name=="nginx")` (without the brackets) → a filter step.
fn parse_filter(inside: &str, template: &str) -> Result<Step> {
    let bad =
        || anyhow::anyhow!("error parsing jsonpath {template}: unsupported filter {inside:?}");
    let body = inside
        .strip_prefix("?(")
        .and_then(|b| b.strip_suffix(')'))
        .ok_or_else(bad)?
        .trim();
    let ops = [
        ("==", Op::Eq),
        ("!=", Op::Ne),
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("<", Op::Lt),
        (">", Op::Gt),
    ];
    let found = ops
        .iter()
        .filter_map(|(text, op)| body.find(text).map(|at| (at, *text, *op)))
        .min_by_key(|(at, text, _)| (*at, std::cmp::Reverse(text.len())));
    let (path, test) = match found {
        Some((at, text, op)) => {
            let right = body[at + text.len()..].trim();
            let literal = match quoted(right) {
                Some(s) => Value::String(s),
                None => serde_json::from_str(right).map_err(|_| bad())?,
            };
            (body[..at].trim(), Some((op, literal)))
        }
        None => (body, None),
    };
    let path = path.strip_prefix('@').ok_or_else(bad)?;
    Ok(Step::Filter(parse_path(path, template)?, test))
}

/// The index of the `]` closing the bracket opened just before `text`, past
/// quotes and nested brackets.
fn closing_bracket(text: &str) -> Option<usize> {
    let mut depth = 0;
    let mut quote: Option<char> = None;
    for (at, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[') => depth += 1,
            (None, ']') if depth == 0 => return Some(at),
            (None, ']') => depth -= 1,
            _ => {}
        }
    }
    None
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
            let close = closing_bracket(r).ok_or_else(bad)?;
            let inside = r[..close].trim();
            if inside == "*" {
                steps.push(Step::All);
            } else if inside.starts_with('?') {
                steps.push(parse_filter(inside, template)?);
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
        assert_eq!(render("{.metadata.uid}", &pod, true).unwrap(), "u-1");
        assert_eq!(
            render("phase={.status.phase}{\"\\n\"}", &pod, true).unwrap(),
            "phase=Running\n"
        );
        assert_eq!(
            render("{.metadata.labels['app.k8s/x']}", &pod, true).unwrap(),
            "y"
        );
        let list = json!({"items": [{"metadata": {"name": "a"}}, {"metadata": {"name": "b"}}]});
        assert_eq!(
            render("{.items[*].metadata.name}", &list, true).unwrap(),
            "a b"
        );
        assert_eq!(
            render("{.items[-1].metadata.name}", &list, true).unwrap(),
            "b"
        );
        assert_eq!(
            render(
                "{range .items[*]}{.metadata.name}{\"\\n\"}{end}",
                &list,
                true
            )
            .unwrap(),
            "a\nb\n"
        );
        let pod = json!({"spec": {"containers": [
            {"name": "nginx", "image": "nginx:1.27", "ports": [{"containerPort": 80}]},
            {"name": "reader", "image": "busybox:1.36"}]}});
        assert_eq!(
            render(
                "{.spec.containers[?(@.name==\"reader\")].image}",
                &pod,
                true
            )
            .unwrap(),
            "busybox:1.36"
        );
        assert_eq!(
            render(
                "{.spec.containers[?(@.ports[0].containerPort>=80)].name}",
                &pod,
                true
            )
            .unwrap(),
            "nginx"
        );
        assert_eq!(
            render("{.spec.containers[?(@.ports)].name}", &pod, true).unwrap(),
            "nginx"
        );
        assert_eq!(
            render("{.spec.containers[?(@.name!='nginx')].name}", &pod, true).unwrap(),
            "reader"
        );
        let pod = json!({"metadata": {"uid": "u-1", "labels": {"app.k8s/x": "y"}}, "status": {"phase": "Running"}});
        // kubectl get prints nothing for a missing key, unless
        // --allow-missing-template-keys=false.
        assert_eq!(render("{.nope}", &pod, true).unwrap(), "");
        let err = render("{.status.nope}", &pod, false)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("error executing jsonpath \"{.status.nope}\": Error executing template: nope is not found. Printing more information for debugging the template:\n\ttemplate was:\n\t\t{.status.nope}\n"),
            "{err}"
        );
    }
}
