//! `label` and `annotate`: change a pod's labels or annotations in place, as
//! kubectl does (`KEY=VALUE` sets, `KEY-` removes, an existing key changes only with
//! `--overwrite`). The containers are not touched: only the record changes.

use super::pod_targets;
use super::Context;
use super::{errln, outln};
use crate::api::names;
use crate::pod::record;
use anyhow::Result;
use clap::Args;
use std::collections::BTreeMap;

#[derive(Args, Debug)]
pub struct LabelArgs {
    /// `pod NAME... KEY=VALUE... KEY-...` (or `pod/NAME`).
    #[arg(required = true, value_name = "RESOURCE NAME... KEY=VAL... KEY-...")]
    pub args: Vec<String>,
    /// Allow changing a key that already has a value.
    #[arg(long)]
    pub overwrite: bool,
    /// Every pod of the namespace.
    #[arg(long)]
    pub all: bool,
    /// Only pods whose labels match.
    #[arg(short = 'l', long = "selector")]
    pub selector: Option<String>,
    #[arg(short = 'n', long = "namespace", default_value = "default")]
    pub namespace: String,
}

#[derive(Clone, Copy, PartialEq)]
pub enum Field {
    Labels,
    Annotations,
}

/// One change asked for.
enum Change {
    Set(String, String),
    Remove(String),
}

pub fn run(ctx: &Context, args: &LabelArgs, field: Field) -> Result<i32> {
    let (resource, rest) = super::get::split_resource(&args.args)?;
    super::apply::ensure_pods(&resource)?;
    let mut names = Vec::new();
    let mut changes = Vec::new();
    for arg in rest {
        if let Some((key, value)) = arg.split_once('=') {
            changes.push(Change::Set(key.to_string(), value.to_string()));
        } else if let Some(key) = arg.strip_suffix('-').filter(|k| !k.is_empty()) {
            changes.push(Change::Remove(key.to_string()));
        } else if changes.is_empty() {
            names.push(arg);
        } else {
            errln!(
                "error: all resources must be specified before {} changes: {arg}",
                noun(field)
            );
            return Ok(1);
        }
    }
    if changes.is_empty() {
        errln!("error: at least one {} update is required", noun(field));
        return Ok(1);
    }
    if let Some(error) = invalid(&changes, field) {
        errln!("error: {error}");
        return Ok(1);
    }
    let asked = pod_targets::Asked {
        namespace: &args.namespace,
        all: args.all,
        selector: args.selector.as_deref(),
        none_is_error: false,
    };
    let Some(targets) = pod_targets::named_or_selected(ctx, names, &asked)? else {
        return Ok(1);
    };
    let mut code = 0;
    for (ns, name) in targets {
        let _lock = crate::state::lock::lock_pod(&ctx.state, &ns, &name)?;
        let Some(pod) = record::find(&ctx.state, &ns, &name)? else {
            errln!("Error from server (NotFound): pods \"{name}\" not found");
            code = 1;
            continue;
        };
        let mut updated = pod.record.clone();
        let meta = &mut updated.pod.metadata;
        let map = match field {
            Field::Labels => &mut meta.labels,
            Field::Annotations => &mut meta.annotations,
        };
        let mut values = map.clone().unwrap_or_default();
        match apply_changes(&mut values, &changes, args.overwrite, field) {
            Err(error) => {
                errln!("error: {error}");
                code = 1;
            }
            Ok(outcome) => {
                *map = (!values.is_empty()).then_some(values);
                if outcome != Outcome::Unchanged {
                    record::save(&pod.paths, &updated)?;
                }
                outln!("pod/{name} {}", outcome.word(field));
            }
        }
    }
    Ok(code)
}

fn noun(field: Field) -> &'static str {
    match field {
        Field::Labels => "label",
        Field::Annotations => "annotation",
    }
}

/// kubectl's check of the keys (and, for labels, the values) before anything changes.
fn invalid(changes: &[Change], field: Field) -> Option<String> {
    for change in changes {
        let (key, value) = match change {
            Change::Set(key, value) => (key, Some(value)),
            Change::Remove(key) => (key, None),
        };
        let reasons = names::qualified_name(key);
        if !reasons.is_empty() {
            return Some(format!(
                "invalid {} format: {key}: {}",
                noun(field),
                reasons.join("; ")
            ));
        }
        if let (Field::Labels, Some(value)) = (field, value) {
            let reasons = names::label_value(value);
            if !reasons.is_empty() {
                return Some(format!(
                    "invalid label value: \"{key}={value}\": {}",
                    reasons.join("; ")
                ));
            }
        }
    }
    None
}

#[derive(PartialEq, Debug)]
enum Outcome {
    Changed,
    OnlyRemoved,
    Unchanged,
}

impl Outcome {
    fn word(&self, field: Field) -> &'static str {
        match (field, self) {
            (Field::Labels, Outcome::Changed) => "labeled",
            (Field::Labels, Outcome::OnlyRemoved) => "unlabeled",
            (Field::Labels, Outcome::Unchanged) => "not labeled",
            (Field::Annotations, _) => "annotated",
        }
    }
}

fn apply_changes(
    values: &mut BTreeMap<String, String>,
    changes: &[Change],
    overwrite: bool,
    field: Field,
) -> Result<Outcome, String> {
    let before = values.clone();
    let mut set_any = false;
    for change in changes {
        match change {
            Change::Set(key, value) => {
                if let Some(old) = values.get(key).filter(|old| *old != value && !overwrite) {
                    return Err(match field {
                        Field::Labels => format!("'{key}' already has a value ({old}), and --overwrite is false"),
                        Field::Annotations => format!("--overwrite is false but found the following declared annotation(s): '{key}' already has a value ({old})"),
                    });
                }
                values.insert(key.clone(), value.clone());
                set_any = true;
            }
            Change::Remove(key) => {
                if values.remove(key).is_none() {
                    errln!("{} \"{key}\" not found.", noun(field));
                }
            }
        }
    }
    Ok(if *values == before {
        Outcome::Unchanged
    } else if set_any {
        Outcome::Changed
    } else {
        Outcome::OnlyRemoved
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_rules_for_changes() {
        let mut labels = BTreeMap::from([("app".to_string(), "web".to_string())]);
        let set = |k: &str, v: &str| Change::Set(k.into(), v.into());
        assert_eq!(
            apply_changes(&mut labels, &[set("app", "db")], false, Field::Labels).unwrap_err(),
            "'app' already has a value (web), and --overwrite is false"
        );
        assert_eq!(
            apply_changes(&mut labels, &[set("app", "web")], false, Field::Labels),
            Ok(Outcome::Unchanged)
        );
        assert_eq!(
            apply_changes(&mut labels, &[set("app", "db")], true, Field::Labels),
            Ok(Outcome::Changed)
        );
        assert_eq!(
            apply_changes(
                &mut labels,
                &[Change::Remove("app".into())],
                false,
                Field::Labels
            ),
            Ok(Outcome::OnlyRemoved)
        );
        assert!(labels.is_empty());
        assert!(invalid(&[set("app", "bad value")], Field::Labels)
            .unwrap()
            .starts_with("invalid label value: \"app=bad value\": a valid label must be"));
        assert!(invalid(&[set("note", "any text at all")], Field::Annotations).is_none());
    }
}
