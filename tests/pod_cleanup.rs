//! Leaving nothing behind: apply/delete cycles of the sidecar pod leave no mount,
//! process, directory, namespace, cgroup or network interface. Every check is scoped
//! to this test's own pods (their uids, the namespaces they had, the test's `--root`)
//! and to the test's own network namespace (common::netns), where the pods' bridge,
//! veths and NAT rules live, so other tests' pods running beside it change nothing
//! it compares.

mod common;
use common::pods::{processes_mentioning, seed, PodEnv};
use std::collections::BTreeSet;

const KINDS: [&str; 6] = ["net", "ipc", "uts", "mnt", "pid", "cgroup"];

/// `readlink /proc/PID/ns/KIND` (`net:[4026532281]`), if the process is there.
fn ns_link(pid: &str, kind: &str) -> Option<String> {
    std::fs::read_link(format!("/proc/{pid}/ns/{kind}"))
        .ok()
        .map(|l| l.display().to_string())
}

/// The namespaces the pod's processes (infra and containers) have that are not the
/// test's own (the host's, and the test's network namespace): the pod's.
fn pod_namespaces(env: &PodEnv, pod: &str, not_pods: &BTreeSet<String>) -> BTreeSet<String> {
    let status = env.status(pod);
    let mut pids = vec![status["infra"]["pid"].as_i64()];
    for c in status["containerStatuses"].as_array().into_iter().flatten() {
        pids.push(c["process"]["pid"].as_i64());
    }
    let mut found = BTreeSet::new();
    for pid in pids.into_iter().flatten() {
        for kind in KINDS {
            if let Some(link) = ns_link(&pid.to_string(), kind) {
                if !not_pods.contains(&link) {
                    found.insert(link);
                }
            }
        }
    }
    found
}

/// Processes of this test (in one of its pods' cgroups, or naming its root) that
/// are in one of `namespaces`, with the namespace. (The kernel reuses a freed
/// namespace's inode number, so another test's namespace may carry a number one of
/// ours had: only this test's processes count.)
fn holders(namespaces: &BTreeSet<String>, uids: &[String], root: &str) -> Vec<String> {
    let ours = processes_mentioning(root);
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let pid = entry.file_name().to_string_lossy().into_owned();
        let Ok(n) = pid.parse::<i32>() else { continue };
        if !common::process::alive(&pid) {
            continue;
        }
        let cgroup = std::fs::read_to_string(entry.path().join("cgroup")).unwrap_or_default();
        let mine = ours.contains(&n) || uids.iter().any(|u| cgroup.contains(&format!("/pod{u}")));
        if !mine {
            continue;
        }
        for kind in KINDS {
            if let Some(link) = ns_link(&pid, kind).filter(|l| namespaces.contains(l)) {
                out.push(format!("{pid} holds {link}"));
            }
        }
    }
    out
}

/// Live processes (not zombies) in the cgroup of pod `uid`.
fn pod_processes(uid: &str) -> Vec<String> {
    let needle = format!("/pod{uid}");
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let pid = entry.file_name().to_string_lossy().into_owned();
        if pid.parse::<i32>().is_err() || !common::process::alive(&pid) {
            continue;
        }
        let cgroup = std::fs::read_to_string(entry.path().join("cgroup")).unwrap_or_default();
        if cgroup.contains(&needle) {
            let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
            out.push(format!("{pid} {}", comm.trim()));
        }
    }
    out
}

/// Lines of the host's mount table that name the test's root (volumes, rootfs,
/// network namespace pins all live there).
fn mounts_under(root: &str) -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(root))
        .map(str::to_string)
        .collect()
}

/// The cgroup directories of pod `uid` (v1 controllers, or v2).
fn pod_cgroups(uid: &str) -> Vec<String> {
    ["memory", "cpu", "pids", ""]
        .iter()
        .map(|c| {
            std::path::Path::new("/sys/fs/cgroup")
                .join(c)
                .join("minipod")
                .join(format!("pod{uid}"))
        })
        .filter(|d| d.exists())
        .map(|d| d.display().to_string())
        .collect()
}

#[test]
fn fifty_apply_delete_cycles_leave_nothing_behind() {
    let env = PodEnv::new("cycles");
    let ns = env.mp.ns();
    let root = env.root().display().to_string();
    // The test's own namespaces are not the pods': the host's (this process's) and
    // the test's network namespace.
    let mut not_pods: BTreeSet<String> = KINDS.iter().filter_map(|k| ns_link("self", k)).collect();
    not_pods.insert(ns.in_it(|| {
        std::fs::read_link("/proc/thread-self/ns/net")
            .unwrap()
            .display()
            .to_string()
    }));
    assert_eq!(ns.links(), ["lo"], "the test's network namespace, before");
    assert!(mounts_under(&root).is_empty());

    let mut uids = Vec::new();
    let mut namespaces = BTreeSet::new();
    for i in 0..50 {
        env.ok(&["apply", "-f", &seed("sidecar-pod.yaml")]);
        if i == 0 {
            env.wait_for(30, "sidecar-pod 2/2 Running", || {
                env.row("sidecar-pod").get(1..3)
                    == Some(&["2/2".to_string(), "Running".to_string()][..])
            });
        }
        let pod = env.pod_json("sidecar-pod");
        uids.push(pod["metadata"]["uid"].as_str().unwrap().to_string());
        let of_this_pod = pod_namespaces(&env, "sidecar-pod", &not_pods);
        // Its infra's network, IPC and UTS namespaces at least.
        assert!(of_this_pod.len() >= 3, "cycle {i}: {of_this_pod:?}");
        if i == 0 {
            // Each check below sees a living pod: it would see one left behind.
            let uid = &uids[0];
            assert!(!holders(&of_this_pod, &uids, &root).is_empty());
            assert!(pod_processes(uid).len() >= 3, "{:?}", pod_processes(uid));
            assert!(!mounts_under(&root).is_empty());
            assert!(ns.links().iter().any(|l| l.starts_with("veth")));
            assert!(!ns.nat_rules_of_pods().is_empty());
            assert!(common::list_dir(&env.root().join("run/pods")).contains(uid));
            assert!(!pod_cgroups(uid).is_empty(), "the pod's cgroups");
        }
        namespaces.extend(of_this_pod);
        env.ok(&[
            "delete",
            "pod",
            "sidecar-pod",
            "--grace-period=0",
            "--force",
        ]);
    }

    let mut links = ns.links();
    // The bridge stays, as cni0 does on a node; every veth goes.
    links.retain(|l| l != "minipod0");
    assert_eq!(links, ["lo"], "the test's network namespace: links");
    let rules = ns.nat_rules_of_pods();
    assert!(rules.is_empty(), "NAT rules of pods left: {rules:?}");
    let held = holders(&namespaces, &uids, &root);
    assert!(
        held.is_empty(),
        "the pods' namespaces still in use: {held:?}"
    );
    assert_eq!(mounts_under(&root), Vec::<String>::new(), "mounts left");
    assert_eq!(
        processes_mentioning(&root),
        Vec::<i32>::new(),
        "supervisors left"
    );
    for uid in &uids {
        assert_eq!(
            pod_processes(uid),
            Vec::<String>::new(),
            "processes of pod {uid}"
        );
        assert_eq!(
            pod_cgroups(uid),
            Vec::<String>::new(),
            "cgroups left behind"
        );
    }
    for dir in ["run/pods", "pods", "log/pods"] {
        let left: Vec<_> = std::fs::read_dir(env.root().join(dir))
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "{dir} holds {left:?}");
    }
}
