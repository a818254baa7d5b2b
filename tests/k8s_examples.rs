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
