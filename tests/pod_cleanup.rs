//! Leaving nothing behind: apply/delete cycles of the sidecar pod leave no mount,
//! process, directory, namespace or network interface. (One test in this file: it
//! compares the whole host before and after, so nothing else may run beside it.) The
//! pods' network lives in the test's own network namespace (common::netns): its
//! interfaces and NAT rules are compared there, and the host's interfaces must not
//! change either (a veth in the wrong namespace would show there).

mod common;
use common::netns::TestNetns;
use common::pods::{seed, PodEnv};
use std::collections::BTreeSet;

/// Everything of the host a pod could leave behind.
fn host_snapshot(ns: &TestNetns) -> (usize, BTreeSet<String>, usize, Vec<String>) {
    let mounts = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .count();
    // Namespaces in use by any process.
    let mut namespaces = BTreeSet::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        if entry.file_name().to_string_lossy().parse::<i32>().is_err() {
            continue;
        }
        for n in ["net", "ipc", "uts", "mnt", "pid"] {
            if let Ok(l) = std::fs::read_link(entry.path().join("ns").join(n)) {
                namespaces.insert(l.display().to_string());
            }
        }
    }
    // The pod network's bridge `minipod0` is minipod's and stays (as cni0 on a node):
    // the first pod of a fresh host creates it. Every veth must go.
    let links = std::fs::read_dir("/sys/class/net")
        .map(|d| d.flatten().filter(|e| e.file_name() != "minipod0").count())
        .unwrap_or(0);
    // The test's network namespace: its links (minipod0 aside) and pod NAT rules.
    let mut pod_network: Vec<String> = ns.links();
    pod_network.retain(|l| l != "minipod0");
    pod_network.extend(ns.nat_rules_of_pods());
    (mounts, namespaces, links, pod_network)
}

fn minipod_processes() -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        if entry.file_name().to_string_lossy().parse::<i32>().is_err() {
            continue;
        }
        let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let zombie = stat
            .rsplit(')')
            .next()
            .is_some_and(|s| s.trim_start().starts_with('Z'));
        if comm.starts_with("minipod-") && !zombie {
            out.push(format!(
                "{} {}",
                entry.file_name().to_string_lossy(),
                comm.trim()
            ));
        }
    }
    out
}

#[test]
fn fifty_apply_delete_cycles_leave_nothing_behind() {
    let env = PodEnv::new("cycles");
    let ns = env.mp.ns();
    let before = host_snapshot(ns);
    let procs_before = minipod_processes();
    for i in 0..50 {
        env.ok(&["apply", "-f", &seed("sidecar-pod.yaml")]);
        if i == 0 {
            assert_eq!(env.row("sidecar-pod")[1..3], ["2/2", "Running"]);
        }
        env.ok(&[
            "delete",
            "pod",
            "sidecar-pod",
            "--grace-period=0",
            "--force",
        ]);
    }
    let after = host_snapshot(ns);
    assert_eq!(before.0, after.0, "mounts in the host's table");
    let new_ns: Vec<_> = after.1.difference(&before.1).collect();
    assert!(new_ns.is_empty(), "namespaces left: {new_ns:?}");
    assert_eq!(before.2, after.2, "the host's network interfaces");
    assert_eq!(before.3, ["lo"], "the test's network namespace, before");
    assert_eq!(
        after.3, before.3,
        "the test's network namespace: links and NAT rules"
    );
    assert_eq!(minipod_processes(), procs_before, "minipod processes");
    for controller in ["memory", "cpu", "pids", ""] {
        let dir = std::path::Path::new("/sys/fs/cgroup")
            .join(controller)
            .join("minipod");
        assert!(!dir.exists(), "cgroup {} left behind", dir.display());
    }
    for dir in ["run/pods", "pods", "log/pods"] {
        let left: Vec<_> = std::fs::read_dir(env.root().join(dir))
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "{dir} holds {left:?}");
    }
}
