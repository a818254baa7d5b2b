//! Pods in a network namespace of the test's own (so the bridge, NAT rules and pod
//! IPs never touch the host's), and what a pod's network leaves while it lives.

use super::netns::TestNetns;
use super::pods::PodEnv;
use std::sync::Arc;

/// A pod environment and its network namespace (every `PodEnv` has one; this hands
/// the test a handle to reach pods from inside it).
pub fn net_env(label: &str) -> (PodEnv, Arc<TestNetns>) {
    let env = PodEnv::new(label);
    let ns = env
        .mp
        .netns
        .clone()
        .expect("PodEnv::new makes a network namespace");
    (env, ns)
}

pub fn wait_running(env: &PodEnv, name: &str, ready: &str) {
    env.wait_for(30, &format!("{name} {ready} Running"), || {
        let row = env.row(name);
        row.get(1).map(String::as_str) == Some(ready)
            && row.get(2).map(String::as_str) == Some("Running")
    });
}

pub fn pod_ip(env: &PodEnv, name: &str) -> String {
    env.pod_json(name)["status"]["podIP"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The files and rules a pod's network leaves while it lives.
pub fn leftovers(env: &PodEnv, ns: &TestNetns) -> Vec<String> {
    let mut left = Vec::new();
    let cni = env.root().join("cni");
    for e in std::fs::read_dir(cni.join("results"))
        .into_iter()
        .flatten()
        .flatten()
    {
        left.push(format!("cache {}", e.path().display()));
    }
    for e in std::fs::read_dir(cni.join("networks/minipod"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.parse::<std::net::IpAddr>().is_ok() {
            left.push(format!("lease {name}"));
        }
    }
    // The pinned network namespaces (containerd's /var/run/netns/cni-*): the file
    // and its bind mount.
    let pins = env.root().join("run/netns");
    for e in std::fs::read_dir(&pins).into_iter().flatten().flatten() {
        left.push(format!("netns pin {}", e.path().display()));
    }
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let pins = pins.to_string_lossy().into_owned();
    for line in mounts.lines() {
        if line.split(' ').nth(4).is_some_and(|m| m.starts_with(&pins)) {
            left.push(format!("mount {line}"));
        }
    }
    left.extend(ns.pod_network_left());
    left
}
