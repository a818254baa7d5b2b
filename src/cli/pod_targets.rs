//! The pods a pod verb acts on: the names given, or with `--all` / `-l SEL` the pods
//! of the namespace whose labels match (`label`, `annotate`, `wait`, `delete`, `logs`,
//! `top`).

use super::errln;
use super::label_selector::Selector;
use super::Context;
use crate::pod::record;
use anyhow::Result;

/// The pods of `namespace` (every namespace when None) whose labels match
/// `selector` (all of them when None), as (namespace, name).
pub fn selected(
    ctx: &Context,
    namespace: Option<&str>,
    selector: Option<&str>,
) -> Result<std::result::Result<Vec<(String, String)>, String>> {
    let selector = match selector.map(Selector::parse).transpose() {
        Ok(selector) => selector,
        Err(error) => return Ok(Err(error)),
    };
    let mut targets = Vec::new();
    for pod in record::list(&ctx.state)? {
        let in_namespace = namespace.is_none_or(|ns| pod.record.namespace() == ns);
        let labels = pod.record.pod.metadata.labels.clone().unwrap_or_default();
        if in_namespace && selector.as_ref().is_none_or(|s| s.matches(&labels)) {
            targets.push((
                pod.record.namespace().to_string(),
                pod.record.name().to_string(),
            ));
        }
    }
    targets.sort();
    Ok(Ok(targets))
}

/// What a verb asked for by `--all` / `-l`.
pub struct Asked<'a> {
    pub namespace: &'a str,
    pub all: bool,
    pub selector: Option<&'a str>,
    /// A selection that finds no pod is an error (`wait`), not an empty list.
    pub none_is_error: bool,
}

/// The named pods of the namespace, else those `--all` / `-l` select, as
/// (namespace, name). None: kubectl's error line is printed (exit 1).
pub fn named_or_selected(
    ctx: &Context,
    names: Vec<String>,
    asked: &Asked,
) -> Result<Option<Vec<(String, String)>>> {
    if !names.is_empty() {
        return Ok(Some(
            names
                .into_iter()
                .map(|n| (asked.namespace.to_string(), n))
                .collect(),
        ));
    }
    if !asked.all && asked.selector.is_none() {
        errln!("error: resource(s) were provided, but no name was specified");
        return Ok(None);
    }
    match selected(ctx, Some(asked.namespace), asked.selector)? {
        Ok(found) if found.is_empty() && asked.none_is_error => {
            errln!("error: no matching resources found");
            Ok(None)
        }
        Ok(found) => Ok(Some(found)),
        Err(error) => {
            errln!("error: {error}");
            Ok(None)
        }
    }
}
