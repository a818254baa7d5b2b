//! The tests' own harness keeps its promises: a test's minipod runs in a network
//! namespace of the test's own, a long-running child is killed and reaped even when
//! the test fails, and what a pod's network would leave in the namespace is seen.

mod common;
use common::pods::PodEnv;

#[test]
fn a_tests_minipod_runs_in_the_tests_own_network_namespace() {
    let env = PodEnv::new("harness-netns");
    let mine = std::fs::read_link("/proc/self/ns/net").unwrap();
    // `get pods -w` stays: read its network namespace while it runs (spawn returns
    // once it has entered the namespace and exec'd).
    let watch = env.mp.spawn(&["get", "pods", "-w"]);
    let its = std::fs::read_link(format!("/proc/{}/ns/net", watch.id())).unwrap();
    let test_ns = env
        .mp
        .ns()
        .in_it(|| std::fs::read_link("/proc/thread-self/ns/net").unwrap());
    assert_ne!(its, mine, "minipod ran in the host's network namespace");
    assert_eq!(its, test_ns);
}

#[test]
fn a_failing_test_leaves_no_long_running_child_behind() {
    let env = PodEnv::new("harness-guard");
    let mut pid = 0;
    let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let watch = env.mp.spawn(&["get", "pods", "-w"]);
        pid = watch.id();
        assert!(common::process::alive(pid));
        panic!("an assertion fails while `get pods -w` runs");
    }));
    assert!(failed.is_err());
    // Killed and reaped: not even a zombie is left.
    assert!(pid > 0);
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "`get pods -w` ({pid}) outlived the failed test"
    );
}

#[test]
fn what_a_pods_network_would_leave_in_the_namespace_is_seen() {
    let env = PodEnv::new("harness-left");
    let ns = env.mp.ns();
    assert!(ns.pod_network_left().is_empty());
    // A masquerade rule as the bridge plugin writes one for a pod, left behind.
    let add = |verb: &str| {
        let out = ns
            .command("iptables")
            .args(["-t", "nat", verb, "POSTROUTING", "-s", "10.88.0.9/32"])
            .args([
                "-m",
                "comment",
                "--comment",
                r#"name: "minipod" id: "left""#,
            ])
            .args(["-j", "RETURN"])
            .output()
            .expect("run iptables");
        assert!(out.status.success(), "{out:?}");
    };
    add("-A");
    let left = ns.pod_network_left();
    assert!(
        left.len() == 1 && left[0].starts_with("rule ") && left[0].contains("id: \\\"left\\\""),
        "{left:?}"
    );
    add("-D");
    assert!(ns.pod_network_left().is_empty());
    // The host's nat table never saw it.
    let host = std::process::Command::new("iptables")
        .args(["-t", "nat", "-S"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&host.stdout).contains("id: \\\"left\\\""));
}
