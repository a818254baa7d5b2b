//! `explain pod` and `top pod` on the seed's sidecar pod: the namespace table shows
//! net/ipc/uts shared and mnt/pid own with the kernel's inodes, the emptyDir's host
//! path, an `exec`'d process; `top` shows the tree; after the infra dies, a new
//! sandbox (or, under `restartPolicy: Never`, `Failed`).

mod common;
use common::pods::{ns, seed, PodEnv};
use common::spawned::SpawnGuarded as _;
use std::process::Command;

/// The two lines of the namespace table for `who`: marks, then inodes.
fn table_rows(out: &str, who: &str) -> (Vec<String>, Vec<String>) {
    let lines: Vec<&str> = out.lines().collect();
    let i = lines
        .iter()
        .position(|l| l.split_whitespace().next() == Some(who))
        .unwrap_or_else(|| panic!("no row for {who} in:\n{out}"));
    let words = |l: &str| l.split_whitespace().map(String::from).collect();
    (words(lines[i]), words(lines[i + 1]))
}

const KINDS: [&str; 8] = ["net", "ipc", "uts", "mnt", "pid", "cgroup", "user", "time"];

#[test]
fn explain_shows_the_pods_namespaces_volumes_and_processes() {
    let env = PodEnv::new("explain-pod");
    env.ok(&["apply", "-f", &seed("sidecar-pod.yaml")]);
    let infra = env.infra_pid("sidecar-pod");

    let out = env.ok(&["explain", "pod", "sidecar-pod"]);
    let (marks, inodes) = table_rows(&out, "infra");
    assert_eq!(marks[1], infra.to_string());
    assert_eq!(marks[2..5], ["own", "own", "own"], "{out}");
    for container in ["nginx", "log-reader"] {
        let pid = env.container_pid("sidecar-pod", container);
        let (marks, inodes_c) = table_rows(&out, container);
        assert_eq!(marks[1], pid.to_string(), "{out}");
        assert_eq!(marks[2..5], ["shared", "shared", "shared"], "{out}");
        assert_eq!(marks[5..7], ["own", "own"], "{out}");
        // The inodes are the kernel's, and the shared ones are the infra's.
        for (i, kind) in KINDS.iter().enumerate() {
            assert_eq!(ns(pid, kind), format!("{kind}:[{}]", inodes_c[i]), "{kind}");
        }
        assert_eq!(inodes_c[..3], inodes[..3]);
        assert!(out.contains(&format!("/proc/{infra}/ns/net /proc/")));
        assert!(out.contains(&format!("/proc/{pid}/ns/mnt")));
    }
    let uid = env.pod_json("sidecar-pod")["metadata"]["uid"]
        .as_str()
        .expect("uid")
        .to_string();
    let host_path = env
        .root()
        .join("pods")
        .join(&uid)
        .join("volumes/kubernetes.io~empty-dir/shared-logs");
    let volume_line = out
        .lines()
        .find(|l| l.starts_with("shared-logs"))
        .unwrap_or_else(|| panic!("no volume row:\n{out}"));
    assert!(volume_line.contains(&host_path.display().to_string()));
    assert!(volume_line.contains("nginx") && volume_line.contains("/var/log/nginx"));

    // An exec'd process shows up in the table and in the tree.
    let mut exec = env
        .mp
        .command(&[])
        .args([
            "exec",
            "sidecar-pod",
            "-c",
            "log-reader",
            "--",
            "sleep",
            "3",
        ])
        .spawn_guarded();
    env.wait_for(10, "the exec'd sleep in explain pod", || {
        env.ok(&["explain", "pod", "sidecar-pod"])
            .contains("exec:sleep@log-reader")
    });
    let top = env.ok(&["top", "pod", "sidecar-pod", "--processes"]);
    assert!(exec.wait().expect("wait for exec").success());

    // top: supervisor → infra → containers (PID 1 inside) → children.
    let supervisor = env.status("sidecar-pod")["supervisor"]["pid"]
        .as_i64()
        .expect("supervisor pid");
    let row = |role: &str| -> Vec<String> {
        top.lines()
            .map(|l| l.split_whitespace().map(String::from).collect::<Vec<_>>())
            .find(|w| w.get(4).map(String::as_str) == Some(role))
            .unwrap_or_else(|| panic!("no {role} in top:\n{top}"))
    };
    assert_eq!(row("supervisor")[0], supervisor.to_string());
    assert_eq!(row("infra")[0], infra.to_string());
    let nginx = row("nginx");
    assert_eq!(
        nginx[0],
        env.container_pid("sidecar-pod", "nginx").to_string()
    );
    assert_eq!(nginx[1], "1", "nginx is PID 1 in its PID namespace:\n{top}");
    assert!(top.contains("└─ nginx: worker process") || top.contains("├─ nginx: worker process"));
    assert!(top.contains("sleep 3"), "the exec'd process:\n{top}");

    // Kill the infra process: the pod gets a new sandbox, and explain shows it.
    kill_9(infra);
    let new_infra = || {
        env.status("sidecar-pod")["infra"]["pid"]
            .as_i64()
            .map(|p| p as i32)
            .filter(|&p| p != infra)
    };
    env.wait_for(20, "the pod runs again in a new sandbox", || {
        new_infra().is_some() && env.row("sidecar-pod")[1..3] == ["2/2", "Running"]
    });
    let reborn = new_infra().expect("the new infra process");
    let out = env.ok(&["explain", "pod", "sidecar-pod"]);
    let (marks, inodes) = table_rows(&out, "infra");
    assert_eq!(marks[1], reborn.to_string(), "{out}");
    assert_eq!(ns(reborn, "net"), format!("net:[{}]", inodes[0]), "{out}");
    assert!(!out.contains(&format!("/proc/{infra}/")), "{out}");
}

fn kill_9(pid: i32) {
    let kill = Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(kill.success());
}

#[test]
fn explain_says_a_never_restarting_pod_died_with_its_infra() {
    let env = PodEnv::new("explain-never");
    let yaml = std::fs::read_to_string(seed("sidecar-pod.yaml"))
        .expect("the seed")
        .replace(
            "spec:\n  containers:",
            "spec:\n  restartPolicy: Never\n  containers:",
        );
    assert!(yaml.contains("restartPolicy: Never"));
    env.ok(&["apply", "-f", &env.manifest("pod.yaml", &yaml)]);
    let infra = env.infra_pid("sidecar-pod");
    // No new sandbox under Never: the pod is Failed, and explain says so.
    kill_9(infra);
    env.wait_for(15, "the pod turns Failed", || {
        env.pod_json("sidecar-pod")["status"]["phase"] == "Failed"
    });
    let out = env.ok(&["explain", "pod", "sidecar-pod"]);
    assert!(out.contains("Pod sidecar-pod is Failed"), "{out}");
    assert!(out.contains(&format!("(PID {infra})")), "{out}");
    assert!(out.contains("infra process is gone"), "{out}");
    assert!(
        !out.contains("readlink /proc"),
        "no dead PIDs to readlink:\n{out}"
    );
}
