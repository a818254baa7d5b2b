//! The Kubernetes documentation's examples that need the stand-in images
//! (`scripts/k8s-examples.sh --subset`): each runs as its page shows or is refused
//! naming a field. The liveness page's container is restarted after /healthz turns
//! 500, with kubelet's event; the memory-limit page's over-limit pod is OOMKilled.
//! The whole corpus is `scripts/k8s-examples.sh` without `--subset` (a few minutes).

mod common;
use common::netns::TestNetns;

#[test]
fn documentation_examples_with_stand_in_images_run_as_their_pages_show() {
    let repo = env!("CARGO_MANIFEST_DIR");
    let images = std::env::var("MINIPOD_TEST_IMAGES").unwrap_or_else(|_| "/var/lib/minipod".into());
    // The examples' pods live in a network namespace of the test's own.
    let ns = TestNetns::new();
    let out = ns
        .command(&format!("{repo}/scripts/k8s-examples.sh"))
        .args(["--subset", "--wait", "30"])
        .env("MINIPOD", env!("CARGO_BIN_EXE_minipod"))
        .env("MINIPOD_TEST_IMAGES", &images)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let left = ns.pod_network_left();
    assert!(left.is_empty(), "pod networking left: {left:?}");

    let line = |path: &str| -> String {
        stdout
            .lines()
            .find(|line| line.split_whitespace().nth(1) == Some(path))
            .unwrap_or_else(|| panic!("no line for {path}:\n{stdout}"))
            .to_string()
    };
    for row in stdout.lines().filter(|l| l.contains(".yaml")) {
        assert!(
            row.starts_with("ok ") || row.starts_with("refused "),
            "{row}\n{stdout}"
        );
        if row.starts_with("refused ") {
            assert!(row.contains("spec."), "refused naming no field: {row}");
        }
    }
    let liveness = line("pods/probe/http-liveness.yaml");
    assert!(
        liveness.starts_with("ok ")
            && liveness.contains("Liveness probe failed: HTTP probe failed with statuscode: 500"),
        "{liveness}"
    );
    let oom = line("pods/resource/memory-request-limit-2.yaml");
    assert!(oom.starts_with("ok ") && oom.contains("OOMKilled"), "{oom}");
    for path in [
        "pods/inject/envars.yaml",
        "pods/security/seccomp/ga/default-pod.yaml",
        "pods/storage/redis.yaml",
        "pods/probe/tcp-liveness-readiness.yaml",
        "pods/multi-container/ambassador.yaml",
        "pods/resource/cpu-request-limit.yaml",
        "pods/security/security-context.yaml",
    ] {
        assert!(line(path).starts_with("ok "), "{}", line(path));
    }
    let grpc = line("pods/probe/grpc-liveness.yaml");
    assert!(
        grpc.contains("spec.containers[0].livenessProbe.grpc"),
        "{grpc}"
    );
    assert!(
        stdout.contains("15 files: ") && stdout.contains(" 0 failed"),
        "{stdout}"
    );
}

/// Is this host's `/sys/fs/cgroup` the unified (v2) hierarchy? (On a hybrid host it is
/// a tmpfs of v1 hierarchies and the memory controller is v1.)
fn cgroup_v2_host() -> bool {
    std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").is_file()
}

/// The memory-limit page's over-limit pod, `stress --vm 1 --vm-bytes 250M` under
/// 100Mi: the kernel OOM-kills the worker. On cgroup v2 kubelet sets
/// `memory.oom.group=1`, so the whole container goes and it exits 137 (SIGKILL). On
/// cgroup v1 there is no group kill: only the worker dies, stress's main process
/// reports it and exits 1; containerd takes the reason (OOMKilled) from the cgroup's
/// OOM event and the exit code from the main process, so kubectl shows OOMKilled with
/// exit code 1 there.
#[test]
fn the_memory_limit_pages_pod_is_oom_killed_as_kubectl_shows_it() {
    let env = common::pods::PodEnv::new("oom-example");
    env.ok(&["create", "namespace", "mem-example"]);
    let file = format!(
        "{}/../shared/k8s-examples/pods/resource/memory-request-limit-2.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    env.ok(&["apply", "-f", &file]);
    let terminated = || -> serde_json::Value {
        let out = env.ok(&[
            "get",
            "pod",
            "memory-demo-2",
            "-n",
            "mem-example",
            "-o",
            "json",
        ]);
        let pod: serde_json::Value = serde_json::from_str(&out).unwrap();
        let status = &pod["status"]["containerStatuses"][0];
        if status["state"]["terminated"].is_object() {
            status["state"]["terminated"].clone()
        } else {
            status["lastState"]["terminated"].clone()
        }
    };
    env.wait_for(60, "the container terminated", || terminated().is_object());
    let t = terminated();
    let code = if cgroup_v2_host() { 137 } else { 1 };
    assert_eq!(t["reason"], "OOMKilled", "{t}");
    assert_eq!(t["exitCode"], code, "{t}");
    let described = env.ok(&["describe", "pod", "memory-demo-2", "-n", "mem-example"]);
    let words = |l: &str| l.split_whitespace().collect::<Vec<_>>().join(" ");
    let lines: Vec<String> = described.lines().map(words).collect();
    assert!(
        lines.iter().any(|l| l == "Reason: OOMKilled"),
        "{described}"
    );
    assert!(
        lines.iter().any(|l| *l == format!("Exit Code: {code}")),
        "{described}"
    );
}
