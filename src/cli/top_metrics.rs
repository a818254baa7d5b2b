//! `top pod [NAME]` as kubectl shows it: NAME, CPU(cores), MEMORY(bytes) of each
//! running pod (with `--containers`, of each container), read from the pods'
//! cgroups: CPU is the rate over a short sample, memory the working set.

use super::errln;
use super::Context;
use crate::pod::{metrics, record};
use crate::runtime::cgroup_usage::Usage;
use anyhow::Result;
use std::time::{Duration, Instant};

/// How long CPU use is sampled (metrics-server's window is longer; a CLI waits less).
const SAMPLE: Duration = Duration::from_millis(500);

pub struct TopOptions<'a> {
    pub names: &'a [String],
    pub namespace: &'a str,
    pub all_namespaces: bool,
    pub selector: Option<&'a str>,
    pub containers: bool,
    pub headers: bool,
}

/// One row: namespace, pod, container (when per container), and the cgroup to read.
struct Row {
    namespace: String,
    pod: String,
    container: Option<String>,
    uid: String,
}

impl Row {
    fn read(&self) -> Option<Usage> {
        match &self.container {
            Some(c) => metrics::container_usage(&self.uid, c),
            None => metrics::pod_usage(&self.uid),
        }
    }
}

pub fn run(ctx: &Context, opts: &TopOptions) -> Result<i32> {
    let namespace = (!opts.all_namespaces).then_some(opts.namespace);
    let mut targets = match super::pod_targets::selected(ctx, namespace, opts.selector)? {
        Ok(found) => found,
        Err(error) => {
            errln!("error: {error}");
            return Ok(1);
        }
    };
    if !opts.names.is_empty() {
        for name in opts.names {
            if !targets.iter().any(|(_, n)| n == name) {
                errln!("Error from server (NotFound): pods \"{name}\" not found");
                return Ok(1);
            }
        }
        targets.retain(|(_, n)| opts.names.contains(n));
    }
    let mut rows = Vec::new();
    for (ns, name) in &targets {
        let Some(pod) = record::find(&ctx.state, ns, name)? else {
            continue;
        };
        let uid = pod.record.uid().to_string();
        if opts.containers {
            let spec = pod.record.pod.spec.clone().unwrap_or_default();
            for c in &spec.containers {
                rows.push(Row {
                    namespace: ns.clone(),
                    pod: name.clone(),
                    container: Some(c.name.clone()),
                    uid: uid.clone(),
                });
            }
        } else {
            rows.push(Row {
                namespace: ns.clone(),
                pod: name.clone(),
                container: None,
                uid,
            });
        }
    }
    let first: Vec<Option<Usage>> = rows.iter().map(Row::read).collect();
    let started = Instant::now();
    if first.iter().any(Option::is_some) {
        std::thread::sleep(SAMPLE);
    }
    let elapsed = started.elapsed().as_nanos().max(1) as f64;
    let mut table = Vec::new();
    if opts.headers {
        let mut header = Vec::new();
        if opts.all_namespaces {
            header.push("NAMESPACE");
        }
        if opts.containers {
            header.extend(["POD", "NAME"]);
        } else {
            header.push("NAME");
        }
        header.extend(["CPU(cores)", "MEMORY(bytes)"]);
        table.push(header.into_iter().map(String::from).collect::<Vec<_>>());
    }
    let mut shown = 0;
    for (row, before) in rows.iter().zip(first) {
        let (Some(before), Some(after)) = (before, row.read()) else {
            // Not running: no metrics, as metrics-server has none for it.
            if !opts.names.is_empty() {
                errln!(
                    "error: Metrics not available for pod {}/{}",
                    row.namespace,
                    row.pod
                );
                return Ok(1);
            }
            continue;
        };
        let used = after.cpu_nanos.saturating_sub(before.cpu_nanos) as f64;
        let millicores = (used / elapsed * 1000.0).round() as u64;
        let mut line = Vec::new();
        if opts.all_namespaces {
            line.push(row.namespace.clone());
        }
        line.push(row.pod.clone());
        if let Some(c) = &row.container {
            line.push(c.clone());
        }
        line.push(format!("{millicores}m"));
        line.push(format!("{}Mi", after.working_set_bytes / (1024 * 1024)));
        table.push(line);
        shown += 1;
    }
    if shown == 0 {
        if opts.all_namespaces {
            errln!("No resources found");
        } else {
            errln!("No resources found in {} namespace.", opts.namespace);
        }
        return Ok(0);
    }
    super::get::print_columns(&table);
    Ok(0)
}
