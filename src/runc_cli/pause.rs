//! `pause ID` / `resume ID`: freeze and thaw every process of a container with the
//! cgroup freezer (`freezer.state` on v1, `cgroup.freeze` on v2). Only a running
//! container can be paused, only a paused one resumed.

use super::container::{Container, Status};
use super::Context;
use crate::runtime::cgroups;
use anyhow::Result;
use clap::Args;

#[derive(Args, Debug)]
pub struct PauseArgs {
    pub id: String,
}

pub fn pause(ctx: &Context, args: &PauseArgs) -> Result<()> {
    let container = Container::open(&ctx.root, &args.id)?;
    if container.status() != Status::Running {
        return Err(container.wrong_status("pause"));
    }
    Ok(cgroups::freeze(&container.record.cgroup, true)?)
}

pub fn resume(ctx: &Context, args: &PauseArgs) -> Result<()> {
    let container = Container::open(&ctx.root, &args.id)?;
    if container.status() != Status::Paused {
        return Err(container.wrong_status("resume"));
    }
    Ok(cgroups::freeze(&container.record.cgroup, false)?)
}
