//! `get --sort-by=JSONPATH`: rows ordered by one field of each object, as kubectl
//! orders them (numbers by value, strings by text, objects without the field first).

use super::output::jsonpath;
use crate::pod::record::StoredPod;
use anyhow::Result;
use serde_json::Value;
use std::cmp::Ordering;

/// Sort `pods` by the value `expr` (`.metadata.name` or `{.metadata.name}`) finds.
pub fn sort_pods(pods: &mut Vec<StoredPod>, expr: &str) -> Result<()> {
    let template = if expr.starts_with('{') {
        expr.to_string()
    } else {
        format!("{{{expr}}}")
    };
    // The value of each pod, once.
    let mut keyed = Vec::new();
    for pod in pods.drain(..) {
        let object = super::get::pod_object(&pod);
        let text = jsonpath::render(&template, &object, true)?;
        keyed.push((key(&text), pod));
    }
    keyed.sort_by(|(a, _), (b, _)| compare(a, b));
    pods.extend(keyed.into_iter().map(|(_, pod)| pod));
    Ok(())
}

fn key(text: &str) -> Value {
    if text.is_empty() {
        return Value::Null;
    }
    match serde_json::from_str::<Value>(text) {
        Ok(number @ Value::Number(_)) => number,
        _ => Value::String(text.to_string()),
    }
}

fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Value::Number(_), _) => Ordering::Less,
        (_, Value::Number(_)) => Ordering::Greater,
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (x, y) => x.to_string().cmp(&y.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_by_value_missing_first() {
        let mut keys = vec![key("10"), key("9"), key(""), key("b"), key("a")];
        keys.sort_by(compare);
        assert_eq!(keys, [Value::Null, key("9"), key("10"), key("a"), key("b")]);
    }
}
