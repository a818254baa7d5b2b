//! `version` and `api-resources`: what this minipod is and which kinds it serves,
//! in kubectl's layout.

use super::outln;
use anyhow::{bail, Result};
use clap::Args;

/// The Kubernetes API minipod's types come from (k8s-openapi's `v1_34`).
const API_VERSION: &str = "v1.34.0";

#[derive(Args, Debug)]
pub struct VersionArgs {
    /// Only the client's version.
    #[arg(long)]
    pub client: bool,
    /// json or yaml.
    #[arg(short = 'o', long = "output")]
    pub output: Option<String>,
}

pub fn version(args: &VersionArgs) -> Result<i32> {
    let client = format!("v{}-minipod", env!("CARGO_PKG_VERSION"));
    let server = format!("{API_VERSION}-minipod.{}", env!("CARGO_PKG_VERSION"));
    match args.output.as_deref() {
        None => {
            outln!("Client Version: {client}");
            if !args.client {
                outln!("Server Version: {server}");
            }
        }
        Some(format @ ("json" | "yaml")) => {
            let mut value = serde_json::json!({"clientVersion": {"gitVersion": client}});
            if !args.client {
                value["serverVersion"] = serde_json::json!({"gitVersion": server});
            }
            if format == "json" {
                outln!("{}", serde_json::to_string_pretty(&value)?);
            } else {
                print!("{}", super::yaml_out::to_yaml(&value));
            }
        }
        Some(other) => bail!("--output must be 'yaml' or 'json', not {other:?}"),
    }
    Ok(0)
}

#[derive(Args, Debug)]
pub struct ApiResourcesArgs {
    /// Print the table without its header line.
    #[arg(long)]
    pub no_headers: bool,
    /// `name`: only the resource names.
    #[arg(short = 'o', long = "output")]
    pub output: Option<String>,
}

/// The kinds this minipod serves: NAME, SHORTNAMES, APIVERSION, NAMESPACED, KIND.
const RESOURCES: &[[&str; 5]] = &[
    ["events", "ev", "v1", "true", "Event"],
    ["namespaces", "ns", "v1", "false", "Namespace"],
    ["pods", "po", "v1", "true", "Pod"],
    ["daemonsets", "ds", "apps/v1", "true", "DaemonSet"],
    ["deployments", "deploy", "apps/v1", "true", "Deployment"],
    ["replicasets", "rs", "apps/v1", "true", "ReplicaSet"],
];

pub fn api_resources(args: &ApiResourcesArgs) -> Result<i32> {
    if args.output.as_deref() == Some("name") {
        RESOURCES.iter().for_each(|r| outln!("{}", r[0]));
        return Ok(0);
    }
    let mut rows: Vec<Vec<String>> = Vec::new();
    if !args.no_headers {
        rows.push(
            ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
                .map(String::from)
                .to_vec(),
        );
    }
    rows.extend(RESOURCES.iter().map(|r| r.map(String::from).to_vec()));
    super::get::print_columns(&rows);
    Ok(0)
}
