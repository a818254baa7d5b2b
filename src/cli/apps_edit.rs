//! Changing a recorded controller object in place (`scale`, `set image`, `rollout
//! undo|restart|pause|resume`): read, change, bump `metadata.generation` when the
//! spec changed, write, all under the records' lock; then the controller manager
//! (started if need be) acts on it.

use super::Context;
use crate::api::apps::{AppsKind, AppsObject};
use crate::controllers::store;
use anyhow::{bail, Result};

/// `deploy/web` or `deployment web`: the kind and the name.
pub fn target(what: &[String]) -> Result<(AppsKind, String)> {
    let (resource, names) = super::get::split_resource(what)?;
    let Some(kind) = AppsKind::from_resource(&resource) else {
        bail!("the server doesn't have a resource type \"{resource}\" (minipod knows deployments, replicasets, daemonsets)");
    };
    match names.as_slice() {
        [name] => Ok((kind, name.clone())),
        [] => bail!("resource(s) were provided, but no name was specified"),
        _ => bail!("only one {} at a time", kind.name()),
    }
}

/// Apply `change` to the object; it returns an error to refuse (nothing written).
pub fn edit(
    ctx: &Context,
    kind: AppsKind,
    namespace: &str,
    name: &str,
    change: impl FnOnce(&mut AppsObject) -> Result<()>,
) -> Result<AppsObject> {
    let lock = store::lock(&ctx.state)?;
    let Some(mut object) = store::find(&ctx.state, kind, namespace, name)? else {
        bail!(
            "Error from server (NotFound): {}.apps \"{name}\" not found",
            kind.plural()
        );
    };
    let before = object.to_value().get("spec").cloned();
    change(&mut object)?;
    if object.to_value().get("spec").cloned() != before {
        let generation = object.metadata().generation.unwrap_or(1);
        object.metadata_mut().generation = Some(generation.saturating_add(1));
    }
    store::save(&ctx.state, &object)?;
    drop(lock);
    super::apply_apps::start_manager(ctx, false)?;
    Ok(object)
}
