//! `run NAME --image=IMAGE [--restart=Never] [-- COMMAND ARGS...]`: one pod with one
//! container, the object kubectl run makes (label `run=NAME`, the arguments after
//! `--` as `args`, or as `command` with `--command`). With `--dry-run=client -o yaml`
//! it prints that object, the usual way to start a first manifest.

use super::apply::{self, ApplyArgs, DryRun};
use super::Context;
use super::{errln, outln};
use crate::api;
use anyhow::{bail, Result};
use clap::Args;
use serde_json::{json, Map, Value};

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The pod's name (and its container's).
    pub name: String,
    /// The container's image.
    #[arg(long, required = true)]
    pub image: String,
    /// The pod's restartPolicy: Always, OnFailure or Never.
    #[arg(long, default_value = "Always", value_name = "Always|OnFailure|Never")]
    pub restart: String,
    /// The words after `--` are the container's command, not its args.
    #[arg(long)]
    pub command: bool,
    /// Environment variables (`NAME=VALUE`, repeatable).
    #[arg(long = "env")]
    pub env: Vec<String>,
    /// The port the container exposes.
    #[arg(long)]
    pub port: Option<u16>,
    /// Labels instead of `run=NAME` (`k=v,k2=v2`).
    #[arg(short = 'l', long)]
    pub labels: Option<String>,
    #[arg(short = 'n', long = "namespace", default_value = "default")]
    pub namespace: String,
    /// `client`: print the object (or its name) and create nothing; `server`: check it too.
    #[arg(
        long,
        value_enum,
        value_name = "none|client|server",
        require_equals = true
    )]
    pub dry_run: Option<DryRun>,
    /// With --dry-run: print the object as json, yaml or name.
    #[arg(short = 'o', long = "output", value_name = "json|yaml|name")]
    pub output: Option<String>,
    /// The container's command or args, after `--`.
    #[arg(last = true)]
    pub words: Vec<String>,
}

pub fn run(ctx: &Context, args: &RunArgs) -> Result<i32> {
    let object = match pod_object(args) {
        Ok(object) => object,
        Err(error) => {
            errln!("error: {error}");
            return Ok(1);
        }
    };
    if args.dry_run == Some(DryRun::Client) {
        match args.output.as_deref() {
            None => outln!("pod/{} created (dry run)", args.name),
            Some("name") => outln!("pod/{}", args.name),
            Some("json") => outln!("{}", serde_json::to_string_pretty(&object)?),
            Some("yaml") => print!("{}", super::yaml_out::to_yaml(&object)),
            Some(other) => bail!("unable to match a printer suitable for the output format \"{other}\", allowed formats are: json,name,yaml"),
        }
        return Ok(0);
    }
    let text = serde_json::to_string(&object)?;
    let docs = match api::parse_manifests(&text, api::files::RUN_ORIGIN) {
        Ok(docs) => docs,
        Err(errors) => {
            for e in &errors.0 {
                errln!("error: {e}");
            }
            return Ok(1);
        }
    };
    let apply_args = ApplyArgs {
        files: Vec::new(),
        explain: None,
        dry_run: args.dry_run,
        output: args.output.clone(),
    };
    apply::apply_docs(ctx, docs, Vec::new(), &apply_args, apply::Verb::Create)
}

/// The Pod kubectl run sends (before the API server's defaults).
fn pod_object(args: &RunArgs) -> Result<Value, String> {
    if !matches!(args.restart.as_str(), "Always" | "OnFailure" | "Never") {
        return Err(format!("invalid restart policy: {}", args.restart));
    }
    let mut labels = Map::new();
    match &args.labels {
        Some(text) => {
            for pair in text.split(',') {
                let Some((k, v)) = pair.split_once('=') else {
                    return Err(format!("invalid label spec: {pair}"));
                };
                labels.insert(k.to_string(), json!(v));
            }
        }
        None => {
            labels.insert("run".into(), json!(args.name));
        }
    }
    let mut container = Map::new();
    if !args.words.is_empty() {
        let key = if args.command { "command" } else { "args" };
        container.insert(key.into(), json!(args.words));
    }
    if !args.env.is_empty() {
        let mut env = Vec::new();
        for pair in &args.env {
            let Some((name, value)) = pair.split_once('=') else {
                return Err(format!("invalid env: {pair}"));
            };
            env.push(json!({"name": name, "value": value}));
        }
        container.insert("env".into(), json!(env));
    }
    container.insert("image".into(), json!(args.image));
    container.insert("name".into(), json!(args.name));
    if let Some(port) = args.port {
        container.insert("ports".into(), json!([{"containerPort": port}]));
    }
    container.insert("resources".into(), json!({}));
    let mut metadata = Map::new();
    metadata.insert("labels".into(), Value::Object(labels));
    metadata.insert("name".into(), json!(args.name));
    if args.namespace != api::namespaces::DEFAULT {
        metadata.insert("namespace".into(), json!(args.namespace));
    }
    Ok(json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": {
            "containers": [container],
            "dnsPolicy": "ClusterFirst",
            "restartPolicy": args.restart,
        },
        "status": {},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        run: RunArgs,
    }

    /// `kubectl run web --image=nginx:1.27 --restart=Never --dry-run=client -o yaml -- sleep 10`
    #[test]
    fn the_object_kubectl_run_makes() {
        let cli = Cli::parse_from([
            "run",
            "web",
            "--image=nginx:1.27",
            "--restart=Never",
            "--dry-run=client",
            "-o",
            "yaml",
            "--",
            "sleep",
            "10",
        ]);
        let yaml = crate::cli::yaml_out::to_yaml(&pod_object(&cli.run).unwrap());
        assert_eq!(
            yaml,
            "apiVersion: v1\nkind: Pod\nmetadata:\n  labels:\n    run: web\n  name: web\nspec:\n  containers:\n  - args:\n    - sleep\n    - \"10\"\n    image: nginx:1.27\n    name: web\n    resources: {}\n  dnsPolicy: ClusterFirst\n  restartPolicy: Never\nstatus: {}\n"
        );
    }
}
