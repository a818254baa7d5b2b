//! Namespaces as kubectl shows them: `create namespace X`, `get ns [X]` (NAME
//! STATUS AGE, or the objects), `delete ns X` (its pods first, as the namespace
//! controller does). The records are the API's (`api::namespaces`).

use super::delete_pods::{self, Deletion};
use super::Context;
use super::{errln, outln};
use crate::api::namespaces::{self, Namespace, DEFAULT};
use crate::state::time;
use anyhow::{bail, Result};

/// `ns`, `namespace`, `namespaces`.
pub fn is_namespace(resource: &str) -> bool {
    matches!(resource, "ns" | "namespace" | "namespaces")
}

/// `create namespace NAME`: `namespace/NAME created`.
pub fn create(ctx: &Context, name: &str, dry_run: bool) -> Result<i32> {
    if dry_run {
        outln!("namespace/{name} created (dry run)");
        return Ok(0);
    }
    match namespaces::create(&ctx.state, name)? {
        Ok(_) => {
            outln!("namespace/{name} created");
            Ok(0)
        }
        Err(refused) => {
            errln!("{refused}");
            Ok(1)
        }
    }
}

/// `get ns [NAME...] [-o yaml|json|name|wide] [--no-headers]`.
pub fn get(ctx: &Context, names: &[String], output: Option<&str>, headers: bool) -> Result<i32> {
    let all = namespaces::list(&ctx.state)?;
    let mut code = 0;
    let shown: Vec<&Namespace> = if names.is_empty() {
        all.iter().collect()
    } else {
        let mut shown = Vec::new();
        for name in names {
            match all.iter().find(|ns| &ns.name == name) {
                Some(ns) => shown.push(ns),
                None => {
                    errln!("Error from server (NotFound): namespaces \"{name}\" not found");
                    code = 1;
                }
            }
        }
        shown
    };
    match output {
        None | Some("wide") => {
            let mut rows = Vec::new();
            if headers && !shown.is_empty() {
                rows.push(vec!["NAME".into(), "STATUS".into(), "AGE".into()]);
            }
            for ns in &shown {
                let age = time::parse(&ns.creation_timestamp)
                    .map(time::age)
                    .unwrap_or_else(|| "<unknown>".into());
                rows.push(vec![ns.name.clone(), ns.phase.word().into(), age]);
            }
            super::get::print_columns(&rows);
        }
        Some("name") => shown.iter().for_each(|ns| outln!("namespace/{}", ns.name)),
        Some(format @ ("json" | "yaml")) => {
            let objects: Vec<serde_json::Value> = shown.iter().map(|ns| ns.to_object()).collect();
            let value = if names.len() == 1 && objects.len() == 1 {
                objects.into_iter().next().unwrap_or_default()
            } else {
                serde_json::json!({"apiVersion": "v1", "kind": "List", "items": objects, "metadata": {"resourceVersion": ""}})
            };
            if format == "json" {
                outln!("{}", serde_json::to_string_pretty(&value)?);
            } else {
                print!("{}", super::yaml_out::to_yaml(&value));
            }
        }
        Some(other) => bail!("unable to match a printer suitable for the output format \"{other}\", allowed formats are: json,name,wide,yaml"),
    }
    Ok(code)
}

/// `delete namespace NAME...`: the namespace stops taking pods, its pods are
/// deleted (each with its grace period unless `grace` says otherwise), then it goes.
pub fn delete(ctx: &Context, names: &[String], grace: Option<i64>) -> Result<i32> {
    if names.is_empty() {
        errln!("error: resource(s) were provided, but no name was specified");
        return Ok(1);
    }
    let mut code = 0;
    for name in names {
        if name == DEFAULT {
            errln!("Error from server (Forbidden): namespaces \"{DEFAULT}\" is forbidden: this namespace may not be deleted");
            code = 1;
            continue;
        }
        let Some(ns) = namespaces::get(&ctx.state, name)? else {
            errln!("Error from server (NotFound): namespaces \"{name}\" not found");
            code = 1;
            continue;
        };
        namespaces::mark_terminating(&ctx.state, &ns)?;
        // Its controllers first (Deployments before the ReplicaSets they own), so no
        // ReplicaSet makes a new pod while the pods go; kubectl prints only the
        // namespace's line.
        let mut controllers = crate::controllers::store::list_all(&ctx.state)?;
        controllers.retain(|o| o.namespace() == name.as_str());
        controllers.sort_by_key(|o| o.kind() != crate::api::apps::AppsKind::Deployment);
        for object in controllers {
            super::delete_apps::delete_one(
                ctx,
                object.kind(),
                name,
                object.name(),
                super::delete_apps::Cascade::Background,
            )?;
        }
        let pods = match super::pod_targets::selected(ctx, Some(name), None)? {
            Ok(pods) => pods,
            Err(error) => bail!(error),
        };
        let how = Deletion {
            grace,
            ignore_not_found: true,
            explain: false,
            // The namespace controller deletes its content; kubectl prints only the
            // namespace's line.
            quiet: true,
        };
        let pods_code = delete_pods::delete_pods(ctx, pods, &how)?;
        if pods_code != 0 {
            code = pods_code;
            continue;
        }
        namespaces::remove(&ctx.state, name)?;
        outln!("namespace \"{name}\" deleted");
    }
    Ok(code)
}
