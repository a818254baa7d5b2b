//! The command line: kubectl-shaped verbs. Parses, calls the pod layer or the image
//! store, prints. No kernel calls here.

mod image;

use crate::state::paths::StateRoot;
use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "minipod",
    version,
    about = "A real Kubernetes Pod on one Linux host: an infra process holds the pod's namespaces, containers join it",
    propagate_version = true
)]
pub struct Cli {
    /// Keep every file minipod writes under DIR (DIR/run, DIR/images, DIR/pods, DIR/log).
    #[arg(long, global = true, env = "MINIPOD_ROOT", value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// Say more about what is being done (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Manage the local image store (load, import, ls, inspect, tag, rm).
    #[command(subcommand)]
    Image(image::ImageCommand),
}

/// Global settings every verb needs.
pub struct Context {
    pub state: StateRoot,
    pub verbose: u8,
}

/// Parse the command line and run the verb; the returned number is the exit code.
pub fn run() -> Result<i32> {
    let cli = Cli::parse();
    let ctx = Context {
        state: StateRoot::new(cli.root.as_deref()),
        verbose: cli.verbose,
    };
    match cli.command {
        Command::Image(cmd) => image::run(&ctx, cmd),
    }
}
