//! `set image deploy/X CONTAINER=IMAGE...`: a new pod template, so a rollout.

use super::{apps_edit, outln, Context};
use anyhow::{bail, Result};
use clap::{Args, Subcommand};

#[derive(Subcommand, Debug)]
pub enum SetCommand {
    /// Change the image of containers of a Deployment, ReplicaSet or DaemonSet.
    #[command(
        after_help = "Example:\n  minipod set image deployment/nginx-deployment nginx=nginx:1.17.10"
    )]
    Image(SetImageArgs),
}

#[derive(Args, Debug)]
pub struct SetImageArgs {
    /// `deployment/NAME` (or `deployment NAME`), then `CONTAINER=IMAGE` pairs
    /// (`*=IMAGE` for every container).
    #[arg(required = true, num_args = 2.., value_name = "RESOURCE CONTAINER=IMAGE")]
    pub args: Vec<String>,
    #[arg(short = 'n', long = "namespace", default_value = "default")]
    pub namespace: String,
}

pub fn run(ctx: &Context, command: &SetCommand) -> Result<i32> {
    let SetCommand::Image(args) = command;
    let (targets, pairs): (Vec<String>, Vec<String>) =
        args.args.iter().cloned().partition(|a| !a.contains('='));
    let (kind, name) = apps_edit::target(&targets)?;
    let mut changes = Vec::new();
    for pair in &pairs {
        let Some((container, image)) = pair.split_once('=') else {
            continue;
        };
        if image.is_empty() {
            bail!("invalid image {pair:?}");
        }
        changes.push((container.to_string(), image.to_string()));
    }
    let mut changed = false;
    apps_edit::edit(ctx, kind, &args.namespace, &name, |object| {
        let template = match object {
            crate::api::apps::AppsObject::Deployment(d) => d.spec.as_mut().map(|s| &mut s.template),
            crate::api::apps::AppsObject::ReplicaSet(r) => {
                r.spec.as_mut().and_then(|s| s.template.as_mut())
            }
            crate::api::apps::AppsObject::DaemonSet(d) => d.spec.as_mut().map(|s| &mut s.template),
        };
        let Some(spec) = template.and_then(|t| t.spec.as_mut()) else {
            bail!("{} \"{name}\" has no pod template", kind.name());
        };
        for (container, image) in &changes {
            let mut found = false;
            let all = spec
                .init_containers
                .iter_mut()
                .flatten()
                .chain(spec.containers.iter_mut());
            for c in all {
                if container == "*" || &c.name == container {
                    found = true;
                    if c.image.as_deref() != Some(image) {
                        c.image = Some(image.clone());
                        changed = true;
                    }
                }
            }
            if !found {
                bail!("unable to find container named {container:?}");
            }
        }
        Ok(())
    })?;
    if changed {
        outln!("{}/{name} image updated", kind.kubectl());
    }
    Ok(0)
}
