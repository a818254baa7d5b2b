//! `list`: every container under `--root`, as runc's table (ID PID STATUS BUNDLE
//! CREATED OWNER), `--format json` (their states), or `-q` (ids only).

use super::container::{Container, Status};
use super::Context;
use anyhow::{Context as _, Result};
use clap::{Args, ValueEnum};

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum Format {
    Table,
    Json,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    #[arg(long, short = 'f', value_enum, default_value = "table")]
    pub format: Format,
    /// Only the ids.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

pub fn run(ctx: &Context, args: &ListArgs) -> Result<()> {
    let containers = Container::all(&ctx.root)?;
    if args.quiet {
        for c in &containers {
            println!("{}", c.id());
        }
        return Ok(());
    }
    match args.format {
        Format::Json => {
            let states = containers
                .iter()
                .map(super::state::json)
                .collect::<Result<Vec<_>>>()?;
            println!(
                "{}",
                serde_json::to_string(&states).context("encode the list")?
            );
        }
        Format::Table => {
            println!(
                "{:<20} {:<8} {:<10} {:<40} {:<31} OWNER",
                "ID", "PID", "STATUS", "BUNDLE", "CREATED"
            );
            for c in &containers {
                let status = c.status();
                let pid = if status == Status::Stopped {
                    0
                } else {
                    c.record.pid
                };
                println!(
                    "{:<20} {:<8} {:<10} {:<40} {:<31} root",
                    c.id(),
                    pid,
                    status.as_str(),
                    c.record.bundle.display(),
                    c.record.created
                );
            }
        }
    }
    Ok(())
}
