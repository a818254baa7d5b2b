//! Labels (and other string maps such as a node selector) as `get` and `describe`
//! print them: `k=v,k=v`, `<none>` when there are none, and the `-L` / `--show-labels`
//! columns of a row.

use super::get::GetArgs;
use std::collections::BTreeMap;

/// `k=v,k=v` in key order.
pub fn joined(map: &BTreeMap<String, String>) -> String {
    map.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// `k=v,k=v`, or `<none>` when the map is absent or empty.
pub fn joined_or_none(map: Option<&BTreeMap<String, String>>) -> String {
    match map.filter(|m| !m.is_empty()) {
        Some(m) => joined(m),
        None => "<none>".into(),
    }
}

/// The cells a row gains from `-L KEY` (one per key, empty when unset) and
/// `--show-labels` (all of them).
pub fn label_cells(labels: &BTreeMap<String, String>, args: &GetArgs) -> Vec<String> {
    let mut cells: Vec<String> = args
        .label_columns
        .iter()
        .map(|l| labels.get(l).cloned().unwrap_or_default())
        .collect();
    if args.show_labels {
        cells.push(joined_or_none(Some(labels)));
    }
    cells
}
