//! `update ID`: new resource limits for a created or running container, from
//! `--resources FILE` (runtime-spec `linux.resources` JSON; `-` reads stdin, as
//! containerd sends it) or runc's single-value flags. The saved config is updated too.

use super::container::{Container, Status};
use super::Context;
use crate::runtime::cgroups;
use anyhow::{Context as _, Result};
use clap::Args;
use oci_spec::runtime::{LinuxPids, LinuxResources};
use std::io::Read;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct UpdateArgs {
    /// The resources as JSON (`-`: standard input).
    #[arg(long, short = 'r')]
    pub resources: Option<PathBuf>,
    /// Memory limit in bytes.
    #[arg(long)]
    pub memory: Option<i64>,
    /// CPU CFS quota in microseconds per period.
    #[arg(long)]
    pub cpu_quota: Option<i64>,
    /// CPU CFS period in microseconds.
    #[arg(long)]
    pub cpu_period: Option<u64>,
    /// CPU shares (relative weight).
    #[arg(long)]
    pub cpu_share: Option<u64>,
    /// Maximum number of processes.
    #[arg(long)]
    pub pids_limit: Option<i64>,
    pub id: String,
}

pub fn run(ctx: &Context, args: &UpdateArgs) -> Result<()> {
    let container = Container::open(&ctx.root, &args.id)?;
    if container.status() == Status::Stopped {
        return Err(container.wrong_status("update"));
    }
    let resources = resources(args)?;
    cgroups::update(&container.record.cgroup, &resources)?;
    let mut spec = container.spec()?;
    if let Some(mut linux) = spec.linux().clone() {
        linux.set_resources(Some(resources));
        spec.set_linux(Some(linux));
        spec.save(container.dir.join("config.json"))
            .context("save the updated config.json")?;
    }
    Ok(())
}

fn resources(args: &UpdateArgs) -> Result<LinuxResources> {
    let mut r = match &args.resources {
        Some(path) => {
            let mut text = String::new();
            if path.as_os_str() == "-" {
                std::io::stdin()
                    .read_to_string(&mut text)
                    .context("read the resources from stdin")?;
            } else {
                text = std::fs::read_to_string(path)
                    .with_context(|| format!("read {}", path.display()))?;
            }
            serde_json::from_str(&text).context("decode the resources JSON")?
        }
        None => LinuxResources::default(),
    };
    if let Some(limit) = args.memory {
        let mut m = r.memory().unwrap_or_default();
        m.set_limit(Some(limit));
        r.set_memory(Some(m));
    }
    if args.cpu_quota.is_some() || args.cpu_period.is_some() || args.cpu_share.is_some() {
        let mut c = r.cpu().clone().unwrap_or_default();
        if args.cpu_quota.is_some() {
            c.set_quota(args.cpu_quota);
        }
        if args.cpu_period.is_some() {
            c.set_period(args.cpu_period);
        }
        if args.cpu_share.is_some() {
            c.set_shares(args.cpu_share);
        }
        r.set_cpu(Some(c));
    }
    if let Some(limit) = args.pids_limit {
        let mut p = LinuxPids::default();
        p.set_limit(limit);
        r.set_pids(Some(p));
    }
    Ok(r)
}
