//! `state ID`: the runtime-spec state of a container as JSON (runtime.md#state):
//! ociVersion, id, status (created, running, stopped; runc's `paused` too), pid while
//! there is a process, bundle, annotations. runc's extra `created` field is kept for
//! the tools that read it.

use super::container::Container;
use super::Context;
use anyhow::{Context as _, Result};
use clap::Args;

#[derive(Args, Debug)]
pub struct StateArgs {
    pub id: String,
}

pub fn run(ctx: &Context, args: &StateArgs) -> Result<()> {
    let container = Container::open(&ctx.root, &args.id)?;
    println!("{}", render(&container)?);
    Ok(())
}

/// The state JSON of one container (also one element of `list --format json`).
pub fn json(container: &Container) -> Result<serde_json::Value> {
    let mut value = serde_json::to_value(container.state()).context("encode the state")?;
    if let Some(object) = value.as_object_mut() {
        object.insert("created".into(), container.record.created.clone().into());
        object.insert("owner".into(), "".into());
    }
    Ok(value)
}

fn render(container: &Container) -> Result<String> {
    serde_json::to_string_pretty(&json(container)?).context("encode the state")
}
