//! `scale deploy/X --replicas=N` (and ReplicaSets).

use super::{apps_edit, outln, Context};
use crate::api::apps::AppsObject;
use anyhow::{bail, Result};
use clap::Args;

#[derive(Args, Debug)]
pub struct ScaleArgs {
    /// `deployment NAME`, `deploy/NAME`, `rs/NAME`.
    #[arg(required = true, value_name = "RESOURCE [NAME]")]
    pub what: Vec<String>,
    /// The new number of replicas.
    #[arg(long, required = true)]
    pub replicas: i32,
    #[arg(short = 'n', long = "namespace", default_value = "default")]
    pub namespace: String,
}

pub fn run(ctx: &Context, args: &ScaleArgs) -> Result<i32> {
    let (kind, name) = apps_edit::target(&args.what)?;
    if args.replicas < 0 {
        bail!("The {} \"{name}\" is invalid: spec.replicas: Invalid value: {}: must be greater than or equal to 0", kind.name(), args.replicas);
    }
    apps_edit::edit(ctx, kind, &args.namespace, &name, |object| {
        match object {
            AppsObject::Deployment(d) => {
                d.spec.get_or_insert_with(Default::default).replicas = Some(args.replicas)
            }
            AppsObject::ReplicaSet(r) => {
                r.spec.get_or_insert_with(Default::default).replicas = Some(args.replicas)
            }
            AppsObject::DaemonSet(_) => bail!("cannot scale a DaemonSet: it runs one pod per node"),
        }
        Ok(())
    })?;
    outln!("{}/{name} scaled", kind.kubectl());
    Ok(0)
}
