//! ADD, CHECK and DEL over a network configuration list, as libcni runs them:
//! - ADD runs the plugins in order, each given the result of the one before as
//!   `prevResult`; the last result is the attachment's, cached on disk;
//! - CHECK runs them in order with the cached result;
//! - DEL runs them in reverse with the cached result and config, goes on past a
//!   failing plugin (so the others still release what they hold) and may run twice,
//!   or after an ADD that stopped half-way: the spec asks every plugin to tolerate it.

use super::cache::{self, CacheEntry};
use super::conflist::ConfList;
use super::plugin::{self, PluginEnv};
use super::result::CniResult;
use crate::narration::step;
use anyhow::{Context, Result};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;

/// A `portMappings` capability argument (a container's `hostPort`), as containerd
/// builds it from the pod's ports.
#[derive(Debug, Clone, PartialEq)]
pub struct PortMapping {
    pub host_port: u16,
    pub container_port: u16,
    /// `tcp`, `udp` or `sctp`, in lower case as portmap wants it.
    pub protocol: String,
    /// Empty: every address of the host.
    pub host_ip: String,
}

/// Everything a run needs beside the conflist: libcni's RuntimeConf and CNIConfig.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub container_id: String,
    pub netns: String,
    pub ifname: String,
    /// `K=V` pairs joined with `;` into `CNI_ARGS`.
    pub args: Vec<(String, String)>,
    pub port_mappings: Vec<PortMapping>,
    pub bin_dirs: Vec<PathBuf>,
    pub cache_dir: PathBuf,
    pub timeout: Duration,
}

/// One network attached: its name and the last plugin's result.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub network: String,
    pub result: CniResult,
}

impl Invocation {
    fn cni_args(&self) -> String {
        self.args
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(";")
    }

    fn capability_args(&self) -> Value {
        if self.port_mappings.is_empty() {
            return json!({});
        }
        let maps: Vec<Value> = self
            .port_mappings
            .iter()
            .map(|p| {
                let mut m = json!({
                    "hostPort": p.host_port,
                    "containerPort": p.container_port,
                    "protocol": p.protocol,
                });
                if !p.host_ip.is_empty() {
                    m["hostIP"] = json!(p.host_ip);
                }
                m
            })
            .collect();
        json!({ "portMappings": maps })
    }
}

/// The config one plugin reads on stdin: its own keys, plus `cniVersion`, `name`,
/// `runtimeConfig` (only the capabilities it declares) and `prevResult`.
pub fn plugin_config(
    list: &Value,
    plugin: &Value,
    capability_args: &Value,
    prev: Option<&Value>,
) -> Value {
    let mut conf = plugin.clone();
    let Some(obj) = conf.as_object_mut() else {
        return conf;
    };
    obj.insert("cniVersion".into(), list["cniVersion"].clone());
    obj.insert("name".into(), list["name"].clone());
    let declared = plugin.get("capabilities").and_then(Value::as_object);
    let mut runtime = serde_json::Map::new();
    for (cap, on) in declared.into_iter().flatten() {
        if on.as_bool() == Some(true) {
            if let Some(arg) = capability_args.get(cap) {
                runtime.insert(cap.clone(), arg.clone());
            }
        }
    }
    if !runtime.is_empty() {
        obj.insert("runtimeConfig".into(), Value::Object(runtime));
    }
    if let Some(prev) = prev.filter(|p| !p.is_null()) {
        obj.insert("prevResult".into(), prev.clone());
    }
    conf
}

fn run_one(
    command: &str,
    inv: &Invocation,
    netns: &str,
    list: &Value,
    plugin_conf: &Value,
    capability_args: &Value,
    prev: Option<&Value>,
) -> Result<Value> {
    let kind = plugin_conf
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("");
    let program = plugin::find(kind, &inv.bin_dirs)?;
    let config = plugin_config(list, plugin_conf, capability_args, prev);
    let args = inv.cni_args();
    let env = PluginEnv {
        command,
        container_id: &inv.container_id,
        netns,
        ifname: &inv.ifname,
        args: &args,
        path: &inv.bin_dirs,
    };
    step(
        format!(
            "{} CNI_COMMAND={command} CNI_NETNS={} CNI_IFNAME={}",
            program.display(),
            if netns.is_empty() { "\"\"" } else { netns },
            inv.ifname
        ),
        match command {
            "ADD" => "a CNI plugin wires the pod's network namespace",
            "DEL" => "a CNI plugin releases what it gave the pod",
            _ => "a CNI plugin checks the pod's network",
        },
    );
    plugin::run(&program, &env, &config, inv.timeout)
}

/// ADD: attach the network to the namespace; the result is cached.
pub fn add(list: &ConfList, inv: &Invocation) -> Result<Attachment> {
    let config = list.to_json();
    let capability_args = inv.capability_args();
    let mut entry = CacheEntry {
        kind: "cniCacheV1".into(),
        container_id: inv.container_id.clone(),
        if_name: inv.ifname.clone(),
        network_name: list.name.clone(),
        netns: inv.netns.clone(),
        cni_args: inv.cni_args(),
        config: config.clone(),
        capability_args: capability_args.clone(),
        result: Value::Null,
    };
    // Written first: a crash in the middle still leaves DEL something to undo.
    cache::write(&inv.cache_dir, &entry)?;
    let mut prev: Option<Value> = None;
    for p in &list.plugins {
        let out = run_one(
            "ADD",
            inv,
            &inv.netns,
            &config,
            p,
            &capability_args,
            prev.as_ref(),
        )
        .with_context(|| format!("network {:?}", list.name))?;
        prev = Some(out);
    }
    let result = prev.unwrap_or(Value::Null);
    entry.result = result.clone();
    cache::write(&inv.cache_dir, &entry)?;
    Ok(Attachment {
        network: list.name.clone(),
        result: CniResult::new(result),
    })
}

/// CHECK (spec 0.4.0 and later): every plugin, in order, confirms the cached
/// attachment is still as ADD made it. Returns the networks checked.
pub fn check(inv: &Invocation) -> Result<Vec<String>> {
    let mut checked = Vec::new();
    for (_, entry) in cache::entries_of(&inv.cache_dir, &inv.container_id) {
        let version = entry.config["cniVersion"].as_str().unwrap_or("");
        if !matches!(version, "0.4.0" | "1.0.0") || entry.result.is_null() {
            continue;
        }
        let inv = Invocation {
            ifname: entry.if_name.clone(),
            ..inv.clone()
        };
        for p in entry.config["plugins"].as_array().into_iter().flatten() {
            run_one(
                "CHECK",
                &inv,
                &inv.netns,
                &entry.config,
                p,
                &entry.capability_args,
                Some(&entry.result),
            )
            .with_context(|| format!("network {:?}", entry.network_name))?;
        }
        checked.push(entry.network_name.clone());
    }
    Ok(checked)
}

/// DEL every network the cache says `inv.container_id` has, plugins in reverse. The
/// cache entry goes once every plugin has answered. Nothing cached: nothing to do.
pub fn del(inv: &Invocation) -> Result<()> {
    let mut first_error = None;
    for (file, entry) in cache::entries_of(&inv.cache_dir, &inv.container_id) {
        let plugins = entry.config["plugins"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let inv = Invocation {
            ifname: entry.if_name.clone(),
            ..inv.clone()
        };
        let mut failed = false;
        for p in plugins.iter().rev() {
            let prev = (!entry.result.is_null()).then_some(&entry.result);
            if let Err(e) = run_one(
                "DEL",
                &inv,
                &inv.netns,
                &entry.config,
                p,
                &entry.capability_args,
                prev,
            ) {
                failed = true;
                first_error.get_or_insert(e.context(format!("network {:?}", entry.network_name)));
            }
        }
        if !failed {
            cache::remove(&file)?;
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_config_carries_only_declared_capabilities() {
        let list = json!({"cniVersion": "1.0.0", "name": "n", "plugins": []});
        let caps =
            json!({"portMappings": [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}]});
        let bridge = plugin_config(&list, &json!({"type": "bridge"}), &caps, None);
        assert!(bridge.get("runtimeConfig").is_none());
        assert_eq!(bridge["cniVersion"], "1.0.0");
        assert_eq!(bridge["name"], "n");
        let prev = json!({"ips": []});
        let portmap = plugin_config(
            &list,
            &json!({"type": "portmap", "capabilities": {"portMappings": true}}),
            &caps,
            Some(&prev),
        );
        assert_eq!(
            portmap["runtimeConfig"]["portMappings"][0]["hostPort"],
            8080
        );
        assert_eq!(portmap["prevResult"], prev);
    }
}
