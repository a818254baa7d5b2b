//! `create -f FILE` (pods from manifests, an existing one is an error) and
//! `create namespace NAME`.

use super::apply::{self, ApplyArgs};
use super::Context;
use anyhow::Result;
use clap::{Args, Subcommand};

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct CreateArgs {
    #[command(subcommand)]
    pub object: Option<CreateObject>,
    #[command(flatten)]
    pub apply: ApplyArgs,
}

#[derive(Subcommand, Debug)]
pub enum CreateObject {
    /// Create a namespace with the specified name.
    #[command(
        visible_alias = "ns",
        after_help = "Example:\n  minipod create namespace my-namespace"
    )]
    Namespace {
        name: String,
        /// `client`: print what would be created, create nothing.
        #[arg(long, value_name = "none|client|server", require_equals = true)]
        dry_run: Option<String>,
    },
}

pub fn run(ctx: &Context, args: &CreateArgs) -> Result<i32> {
    match &args.object {
        Some(CreateObject::Namespace { name, dry_run }) => {
            let dry = dry_run.as_deref().is_some_and(|mode| mode != "none");
            super::namespaces::create(ctx, name, dry)
        }
        None => apply::run(ctx, &args.apply, apply::Verb::Create),
    }
}
