//! `logs POD [-c C]`: a container's output, decoded from its CRI log.

use super::Context;
use crate::pod::logs::{self, LogRequest};
use crate::pod::record;
use anyhow::{bail, Result};
use clap::Args;

#[derive(Args, Debug)]
pub struct LogsArgs {
    /// The pod (or `pod/NAME`).
    pub pod: String,
    /// The container; default: the `kubectl.kubernetes.io/default-container`
    /// annotation, else the first container.
    #[arg(short = 'c', long = "container")]
    pub container: Option<String>,
    /// Follow the log until the container ends.
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// The previous (terminated) instance of the container.
    #[arg(short = 'p', long)]
    pub previous: bool,
    /// Prefix each line with its RFC 3339 timestamp.
    #[arg(long)]
    pub timestamps: bool,
    /// Only the last N lines.
    #[arg(long)]
    pub tail: Option<i64>,
    #[arg(short = 'n', long = "namespace", default_value = "default")]
    pub namespace: String,
}

pub fn run(ctx: &Context, args: &LogsArgs) -> Result<i32> {
    let name = args.pod.strip_prefix("pod/").unwrap_or(&args.pod);
    let Some(pod) = record::find(&ctx.state, &args.namespace, name)? else {
        bail!("pods \"{name}\" not found");
    };
    let container = pick_container(&pod, args.container.as_deref(), "logs")?;
    let req = LogRequest {
        container,
        previous: args.previous,
        follow: args.follow,
        timestamps: args.timestamps,
        tail: args.tail.filter(|t| *t >= 0).map(|t| t as usize),
    };
    logs::print(&pod, &req, &mut std::io::stdout().lock())?;
    Ok(0)
}

/// `-c` as kubectl resolves it, with its notice when it picks a default.
pub fn pick_container(pod: &record::StoredPod, asked: Option<&str>, _verb: &str) -> Result<String> {
    let spec = pod.record.pod.spec.clone().unwrap_or_default();
    let apps: Vec<String> = spec.containers.iter().map(|c| c.name.clone()).collect();
    let inits: Vec<String> = spec
        .init_containers
        .iter()
        .flatten()
        .map(|c| c.name.clone())
        .collect();
    if let Some(c) = asked {
        if apps.iter().chain(inits.iter()).any(|n| n == c) {
            return Ok(c.to_string());
        }
        let mut valid = apps.join(" ");
        if !inits.is_empty() {
            valid = format!(
                "[{valid}] or one of the init containers: [{}]",
                inits.join(" ")
            );
        } else {
            valid = format!("[{valid}]");
        }
        bail!(
            "container {c} is not valid for pod {}, choose one of: {valid}",
            pod.record.name()
        );
    }
    let annotated = pod
        .record
        .pod
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("kubectl.kubernetes.io/default-container"))
        .filter(|c| apps.contains(c))
        .cloned();
    let chosen = annotated
        .clone()
        .or_else(|| apps.first().cloned())
        .unwrap_or_default();
    if annotated.is_none() && apps.len() > 1 {
        eprintln!(
            "Defaulted container \"{chosen}\" out of: {}",
            apps.join(", ")
        );
    }
    Ok(chosen)
}
