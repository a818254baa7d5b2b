//! `-o custom-columns=NAME:.metadata.name,PHASE:.status.phase`: one column per
//! `HEADER:JSONPATH`, `<none>` where a path finds nothing.

use super::jsonpath;
use anyhow::{bail, Result};
use serde_json::Value;

pub fn rows(spec: &str, objects: &[Value], headers: bool) -> Result<Vec<Vec<String>>> {
    let mut columns = Vec::new();
    for col in spec.split(',') {
        let Some((head, path)) = col.split_once(':') else {
            bail!("custom-columns format specified but no custom columns given");
        };
        let path = path.trim();
        let path = if path.starts_with('{') {
            path.to_string()
        } else {
            format!("{{{path}}}")
        };
        columns.push((head.to_string(), path));
    }
    let mut rows = Vec::new();
    if headers {
        rows.push(columns.iter().map(|(h, _)| h.clone()).collect());
    }
    for obj in objects {
        let row = columns
            .iter()
            .map(|(_, path)| match jsonpath::render(path, obj, true) {
                Ok(s) if !s.is_empty() => s,
                _ => "<none>".to_string(),
            })
            .collect();
        rows.push(row);
    }
    Ok(rows)
}
