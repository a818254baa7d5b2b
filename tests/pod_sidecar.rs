//! The seed's sidecar pod, unchanged: nginx writes its access log into an emptyDir, a
//! busybox sidecar tails it. What a user of kubectl checks, checked here.

mod common;
use common::pods::{seed, PodEnv};

#[test]
fn sidecar_pod_serves_and_the_sidecar_reads_the_shared_log() {
    let env = PodEnv::new("sidecar");
    let out = env.ok(&["apply", "-f", &seed("sidecar-pod.yaml")]);
    assert_eq!(out.trim(), "pod/sidecar-pod created");

    let row = env.row("sidecar-pod");
    assert_eq!(row[1..3], ["2/2", "Running"], "get pods row: {row:?}");

    // Three requests from inside the pod, over the pod's shared localhost.
    for _ in 0..3 {
        let page = env.ok(&[
            "exec",
            "sidecar-pod",
            "-c",
            "log-reader",
            "--",
            "wget",
            "-qO-",
            "http://localhost/",
        ]);
        assert!(page.contains("Welcome to nginx!"), "nginx's page: {page}");
    }

    // The sidecar waits for access.log, then tails it: three lines.
    env.wait_for(
        15,
        "three access-log lines in the log-reader's logs",
        || {
            let logs = env.ok(&["logs", "sidecar-pod", "-c", "log-reader"]);
            logs.lines()
                .filter(|l| l.contains("\"GET / HTTP/1.1\" 200"))
                .count()
                == 3
        },
    );

    // The emptyDir is a host directory in the kubelet-shaped place, holding access.log.
    let pod = env.pod_json("sidecar-pod");
    let uid = pod["metadata"]["uid"].as_str().expect("uid");
    let dir = env
        .root()
        .join("pods")
        .join(uid)
        .join("volumes/kubernetes.io~empty-dir/shared-logs");
    let log = std::fs::read_to_string(dir.join("access.log")).expect("access.log on the host");
    assert_eq!(log.lines().count(), 3);

    // Without -c, kubectl's notice names the default container.
    let out = env.run(&["logs", "sidecar-pod"]);
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("Defaulted container \"nginx\" out of: nginx, log-reader"));

    let out = env.ok(&["apply", "-f", &seed("sidecar-pod.yaml")]);
    assert_eq!(out.trim(), "pod/sidecar-pod unchanged");

    let out = env.ok(&[
        "delete",
        "pod",
        "sidecar-pod",
        "--grace-period=0",
        "--force",
    ]);
    assert_eq!(out, "pod \"sidecar-pod\" force deleted\n");
    assert!(!dir.exists(), "the emptyDir goes with the pod");
    assert!(env.pods().is_empty());
}
