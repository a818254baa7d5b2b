//! `get -w`: the table once (unless --watch-only), then one line for each object
//! that was added or changed, once per change; a pod being deleted shows
//! `Terminating`, and a deleted object is not printed again. Works for pods and for
//! the controller kinds, with the same columns as `get`, or `-o name|json|yaml`.

use super::get::GetArgs;
use super::Context;
use crate::api::apps::AppsKind;
use anyhow::Result;
use std::collections::BTreeMap;
use std::io::Write;

/// What is watched.
#[derive(Clone, Copy)]
pub enum Watched {
    Pods,
    Apps(AppsKind),
}

/// One object now: its key (kind, namespace, name, uid), its row, what to print
/// for -o name/json/yaml.
struct Seen {
    key: String,
    row: Vec<String>,
    object: serde_json::Value,
    name: String,
}

fn snapshot(ctx: &Context, args: &GetArgs, what: Watched, names: &[String]) -> Result<Vec<Seen>> {
    let mut out = Vec::new();
    match what {
        Watched::Pods => {
            let (pods, _) = super::get::select_pods(ctx, args, names)?;
            for p in &pods {
                let row = super::get::pod_rows(std::slice::from_ref(p), args).remove(0);
                out.push(Seen {
                    key: format!(
                        "pod/{}/{}/{}",
                        p.record.namespace(),
                        p.record.name(),
                        p.record.uid()
                    ),
                    row,
                    object: super::get::pod_object(p),
                    name: format!("pod/{}", p.record.name()),
                });
            }
        }
        Watched::Apps(kind) => {
            let (objects, _) = super::get_apps::select(ctx, args, kind, names)?;
            for o in &objects {
                out.push(Seen {
                    key: format!(
                        "{}/{}/{}/{}",
                        kind.name(),
                        o.namespace(),
                        o.name(),
                        o.metadata().uid.clone().unwrap_or_default()
                    ),
                    row: super::get_apps::row(o, args, ""),
                    object: o.to_value(),
                    name: format!("{}/{}", kind.kubectl(), o.name()),
                });
            }
        }
    }
    Ok(out)
}

pub fn run(ctx: &Context, args: &GetArgs, what: &[Watched], names: &[String]) -> Result<i32> {
    let Some(&what) = what.first() else {
        return Ok(0);
    };
    let header = match what {
        Watched::Pods => super::get::pod_header(args),
        Watched::Apps(kind) => super::get_apps::header(kind, args),
    };
    let age_at = header.iter().position(|h| h == "AGE");
    let mut widths: Vec<usize> = header.iter().map(|c| c.chars().count()).collect();
    let mut last: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut first = true;
    // kubectl's printer puts the header over the first row it prints, whenever
    // that comes (nothing at all while there is nothing to show).
    let mut header_due = !args.no_headers;
    let output = args.output.as_deref().filter(|o| *o != "wide");
    loop {
        let now = snapshot(ctx, args, what, names)?;
        let mut rows: Vec<Vec<String>> = Vec::new();
        let mut others: Vec<String> = Vec::new();
        for seen in &now {
            // AGE changes by itself: a change is a change of anything else.
            let mut cmp = seen.row.clone();
            if let Some(at) = age_at {
                if at < cmp.len() {
                    cmp.remove(at);
                }
            }
            if last.get(&seen.key) == Some(&cmp) {
                continue;
            }
            last.insert(seen.key.clone(), cmp);
            if first && args.watch_only {
                continue;
            }
            match output {
                None => rows.push(seen.row.clone()),
                Some("name") => others.push(seen.name.clone()),
                Some("json") => others.push(serde_json::to_string_pretty(&seen.object)?),
                Some(_) => others.push(format!(
                    "---\n{}",
                    super::yaml_out::to_yaml(&seen.object).trim_end()
                )),
            }
        }
        // Gone: forgotten, never printed again.
        last.retain(|key, _| now.iter().any(|s| &s.key == key));
        if header_due && !rows.is_empty() {
            rows.insert(0, header.clone());
            header_due = false;
        }
        for r in &rows {
            for (i, c) in r.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(c.chars().count());
                }
            }
        }
        let mut stdout = std::io::stdout().lock();
        for r in &rows {
            let mut line = String::new();
            for (i, cell) in r.iter().enumerate() {
                if i + 1 == r.len() {
                    line.push_str(cell);
                } else {
                    line.push_str(&format!(
                        "{cell:<w$}   ",
                        w = widths.get(i).copied().unwrap_or(0)
                    ));
                }
            }
            writeln!(stdout, "{}", line.trim_end())?;
        }
        for o in &others {
            writeln!(stdout, "{o}")?;
        }
        stdout.flush()?;
        drop(stdout);
        first = false;
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}
