//! `minipod image ...`: the local image store's verbs.

use super::Context;
use anyhow::{bail, Result};
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum ImageCommand {
    /// Load an OCI image layout tarball or a docker-archive (`docker save`) tarball.
    Load {
        /// The tarball to load.
        #[arg(short = 'i', long = "input", value_name = "FILE")]
        input: PathBuf,
    },
}

pub fn run(_ctx: &Context, cmd: ImageCommand) -> Result<i32> {
    match cmd {
        ImageCommand::Load { input } => bail!("image load {}: not built yet", input.display()),
    }
}
