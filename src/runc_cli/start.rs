//! `start ID`: open the start gate of a created container, so its init runs the
//! startContainer hooks and execs the program; then the poststart hooks
//! (runtime-spec runtime.md#start). Only a `created` container can be started.

use super::container::{Container, Status};
use super::Context;
use crate::runtime::{oci_hooks, start_gate};
use anyhow::Result;
use clap::Args;

#[derive(Args, Debug)]
pub struct StartArgs {
    pub id: String,
}

pub fn run(ctx: &Context, args: &StartArgs) -> Result<()> {
    let container = Container::open(&ctx.root, &args.id)?;
    start(&container)
}

pub fn start(container: &Container) -> Result<()> {
    if container.status() != Status::Created {
        return Err(container.wrong_status("start"));
    }
    start_gate::open(
        &container.fifo(),
        container.record.pid,
        container.record.start_time,
    )?;
    let spec = container.spec()?;
    if let Some(hooks) = spec.hooks().as_ref().and_then(|h| h.poststart().clone()) {
        // A failing poststart hook is reported; the container keeps running (spec).
        let mut state = container.state();
        state.status = "running".into();
        if let Err(err) = oci_hooks::run("poststart", &hooks, &state) {
            eprintln!("{}: warning: {err:#}", super::NAME);
        }
    }
    Ok(())
}
