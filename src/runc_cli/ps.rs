//! `ps ID`: the processes of a container, read from its cgroup. `--format json` is
//! the list of host PIDs containerd reads; the table names each process.

use super::container::Container;
use super::Context;
use crate::runtime::{cgroups, procfs};
use anyhow::{Context as _, Result};
use clap::{Args, ValueEnum};

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum Format {
    Table,
    Json,
}

#[derive(Args, Debug)]
pub struct PsArgs {
    #[arg(long, short = 'f', value_enum, default_value = "table")]
    pub format: Format,
    pub id: String,
    /// runc passes these to ps(1); minipod-runc reads /proc itself and refuses them.
    #[arg(trailing_var_arg = true)]
    pub ps_args: Vec<String>,
}

pub fn run(ctx: &Context, args: &PsArgs) -> Result<()> {
    if !args.ps_args.is_empty() {
        anyhow::bail!(
            "ps: options for ps(1) are not supported (got {:?})",
            args.ps_args
        );
    }
    let container = Container::open(&ctx.root, &args.id)?;
    let mut pids = cgroups::procs(&container.record.cgroup);
    pids.sort_unstable();
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string(&pids).context("encode the PIDs")?
        ),
        Format::Table => {
            println!("{:<8} {:>8} {:>8}  CMD", "UID", "PID", "PPID");
            for proc in pids.iter().filter_map(|p| procfs::read(*p)) {
                println!(
                    "{:<8} {:>8} {:>8}  {}",
                    procfs::user_name(proc.uid),
                    proc.pid,
                    proc.ppid,
                    proc.command()
                );
            }
        }
    }
    Ok(())
}
