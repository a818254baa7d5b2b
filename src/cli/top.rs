//! `top pod [NAME]`: kubectl's CPU and memory table (`top_metrics`); with
//! `--processes`, minipod's own view: the pod's processes as the host sees them, as a
//! tree: supervisor → infra → each container's PID 1 → its children, then the
//! `exec`'d processes.

use super::explain::find_pod;
use super::get::{print_columns, truthful_status};
use super::Context;
use crate::cli::views::{members, process_tree, procfs};
use anyhow::Result;
use clap::Args;

#[derive(Args, Debug)]
pub struct TopArgs {
    /// `pod` (or `pods`, `po`), optionally followed by pod names; `pod/NAME` works too.
    #[arg(required = true, value_name = "pod [NAME]")]
    pub what: Vec<String>,
    #[arg(short = 'n', long = "namespace", default_value = "default")]
    pub namespace: String,
    /// Pods of every namespace.
    #[arg(short = 'A', long = "all-namespaces")]
    pub all_namespaces: bool,
    /// Only pods whose labels match.
    #[arg(short = 'l', long = "selector")]
    pub selector: Option<String>,
    /// One row per container.
    #[arg(long)]
    pub containers: bool,
    /// Print the table without its header line.
    #[arg(long)]
    pub no_headers: bool,
    /// Instead of CPU and memory: the pod's processes as a tree (supervisor → infra →
    /// containers → children), with their PIDs outside and inside.
    #[arg(long)]
    pub processes: bool,
}

pub fn run(ctx: &Context, args: &TopArgs) -> Result<i32> {
    if !args.processes {
        let (resource, names) = super::get::split_resource(&args.what)?;
        super::apply::ensure_pods(&resource)?;
        return super::top_metrics::run(
            ctx,
            &super::top_metrics::TopOptions {
                names: &names,
                namespace: &args.namespace,
                all_namespaces: args.all_namespaces,
                selector: args.selector.as_deref(),
                containers: args.containers,
                headers: !args.no_headers,
            },
        );
    }
    let pod = find_pod(ctx, &args.what, &args.namespace)?;
    let status = truthful_status(&pod);
    let procs = procfs::all()?;
    let members = members::members(&status, &procs);
    let supervisor = status.supervisor.filter(|p| p.is_alive()).map(|p| p.pid);
    let lines = process_tree::lines(supervisor, &members, &procs);
    if lines.is_empty() {
        println!(
            "Pod {} is {}: none of its processes is running.",
            pod.record.name(),
            status.phase
        );
        return Ok(0);
    }
    let mut rows = vec![["PID", "PID IN NS", "PGID", "USER", "ROLE", "COMMAND"]
        .map(String::from)
        .to_vec()];
    for l in &lines {
        rows.push(vec![
            l.pid.to_string(),
            l.inner_pid.to_string(),
            l.pgid.to_string(),
            l.user.clone(),
            l.role.clone(),
            format!("{}{}", l.prefix, l.command),
        ]);
    }
    print_columns(&rows);
    Ok(0)
}
