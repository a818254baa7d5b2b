//! Hostile containers and images against the supervisor: a probe's server that
//! answers with /dev/zero or never answers, an exec probe that prints without end,
//! image account files that are a FIFO or a character device. What a user notices:
//! the supervisor stays small and responsive, the events say what went wrong, and
//! `delete --grace-period=0 --force` finishes promptly.

mod common;
use common::spawned::SpawnGuarded as _;

use common::pods::{processes_mentioning, PodEnv};
use common::*;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};
use tar::EntryType;

/// Run minipod with a hang guard: a command still running after `secs` is killed and
/// the test fails (the user would have been left waiting).
fn run_within(mp: &Minipod, secs: u64, args: &[&str]) -> Output {
    let mut child = mp
        .command(args)
        .env_remove("MINIPOD_ROOT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn_guarded();
    let until = Instant::now() + Duration::from_secs(secs);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > until {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!(
                "minipod {args:?} still running after {secs}s; stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// Resident memory of the pod's supervisor (`minipod-shim`), in KiB.
fn shim_rss_kib(env: &PodEnv, pod: &str) -> u64 {
    let pid = env.status(pod)["supervisor"]["pid"]
        .as_i64()
        .expect("the supervisor's pid");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap();
    assert!(
        exe.ends_with("minipod-shim"),
        "pid {pid} is the supervisor, {exe:?}"
    );
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS in /proc/PID/status")
}

fn events(env: &PodEnv, pod: &str) -> String {
    env.ok(&["describe", "pod", pod])
}

#[test]
fn probes_against_a_server_of_zeros_and_an_endless_command_stay_bounded() {
    let env = PodEnv::new("zeros");
    let yaml = r#"apiVersion: v1
kind: Pod
metadata: {name: zeros}
spec:
  containers:
  - name: app
    image: busybox:1.36
    command: [sh, -c, 'while true; do nc -l -p 8080 < /dev/zero; done']
    readinessProbe:
      httpGet: {path: /, port: 8080}
      periodSeconds: 1
      timeoutSeconds: 2
    livenessProbe:
      exec: {command: [cat, /dev/zero]}
      periodSeconds: 1
      timeoutSeconds: 1
      failureThreshold: 1000
"#;
    env.ok(&["apply", "-f", &env.manifest("p.yaml", yaml)]);
    env.wait_for(30, "both probes failed with a clear message", || {
        let ev = events(&env, "zeros");
        ev.contains(
            "Readiness probe failed: Get \"http://localhost:8080/\": malformed HTTP response",
        ) && ev.contains("Liveness probe failed: command timed out")
    });
    // Several rounds of both probes: memory stays small, the supervisor answers.
    let mut peak = 0;
    for _ in 0..10 {
        peak = peak.max(shim_rss_kib(&env, "zeros"));
        assert_eq!(env.row("zeros")[1], "0/1", "never ready");
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(peak < 64 * 1024, "the supervisor grew to {peak} KiB");
    let out = run_within(
        &env.mp,
        15,
        &["delete", "pod", "zeros", "--grace-period=0", "--force"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(env.pods().is_empty());
}

#[test]
fn a_silent_server_does_not_hold_up_a_forced_delete() {
    let env = PodEnv::new("silent");
    // nc accepts and then neither answers nor closes: the probe waits its 30 s timeout.
    let yaml = r#"apiVersion: v1
kind: Pod
metadata: {name: silent}
spec:
  containers:
  - name: app
    image: busybox:1.36
    command: [sh, -c, 'sleep 3600 | nc -l -p 8080']
    readinessProbe:
      httpGet: {path: /, port: 8080}
      periodSeconds: 1
      timeoutSeconds: 30
"#;
    env.ok(&["apply", "-f", &env.manifest("p.yaml", yaml)]);
    env.wait_for(15, "the container runs", || {
        env.row("silent").get(2).map(String::as_str) == Some("Running")
    });
    // Let the probe connect and start waiting for an answer.
    std::thread::sleep(Duration::from_secs(2));
    let out = run_within(
        &env.mp,
        10,
        &["delete", "pod", "silent", "--grace-period=0", "--force"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(env.pods().is_empty());
}

/// An image whose account file at `path` is made by `entry`, with a `User` that
/// makes the supervisor read it; a pod of it must fail to start, saying why.
fn hostile_account_file(label: &str, bad: &str, layer: Vec<u8>, expect: &str) {
    let mp = Minipod::new(label);
    let mut image = TestImage::new(&["hostile:1"], vec![layer]);
    image.config = serde_json::json!({"Cmd": ["/bin/sh"], "User": "nobody"});
    let archive = mp.write_file("hostile.tar", &oci_layout(&[image], None));
    mp.ok(&["image", "load", "-i", &archive]);
    let yaml = "apiVersion: v1\nkind: Pod\nmetadata: {name: evil}\nspec:\n  containers:\n  - {name: app, image: hostile:1}\n";
    let manifest = mp.write_file("p.yaml", yaml.as_bytes());
    let root = mp.root().to_path_buf();
    let _ = run_within(&mp, 20, &["apply", "-f", &manifest]);
    let until = Instant::now() + Duration::from_secs(15);
    let message = loop {
        let out = mp.ok(&["get", "pod", "evil", "-o", "json"]);
        let pod: serde_json::Value = serde_json::from_str(&out).unwrap();
        let waiting = &pod["status"]["containerStatuses"][0]["state"]["waiting"];
        if waiting["reason"] == "CreateContainerConfigError" {
            break waiting["message"].as_str().unwrap_or_default().to_string();
        }
        assert!(
            Instant::now() < until,
            "the container never said why: {pod}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        message.contains(&format!(
            "image hostile:1: {bad} is {expect}, not a regular file"
        )),
        "{message}"
    );
    let out = run_within(
        &mp,
        10,
        &["delete", "pod", "evil", "--grace-period=0", "--force"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(processes_mentioning(&root.display().to_string()).is_empty());
}

#[test]
fn an_image_whose_group_file_is_a_fifo() {
    let layer = LayerBuilder::new()
        .dir("etc", 0o755)
        .file("etc/passwd", b"nobody:x:65534:65534::/:/bin/false\n", 0o644)
        .fifo("etc/group", 0o644)
        .finish();
    hostile_account_file("fifo-group", "/etc/group", layer, "a FIFO");
}

#[test]
fn an_image_whose_passwd_file_is_dev_zero() {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(EntryType::Char);
    h.set_mode(0o644);
    h.set_size(0);
    h.set_device_major(1).unwrap();
    h.set_device_minor(5).unwrap();
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(1_700_000_000);
    let mut b = tar::Builder::new(Vec::new());
    let mut dir = tar::Header::new_gnu();
    dir.set_entry_type(EntryType::Directory);
    dir.set_mode(0o755);
    dir.set_size(0);
    dir.set_uid(0);
    dir.set_gid(0);
    dir.set_mtime(1_700_000_000);
    b.append_data(&mut dir, "etc", std::io::empty()).unwrap();
    b.append_data(&mut h, "etc/passwd", std::io::empty())
        .unwrap();
    hostile_account_file(
        "zero-passwd",
        "/etc/passwd",
        b.into_inner().unwrap(),
        "a character device",
    );
}

#[test]
fn a_post_start_http_hook_against_a_server_of_zeros_fails_clearly() {
    let env = PodEnv::new("hookzeros");
    // The server is a native sidecar: the app starts once its startup probe connects,
    // so the app's postStart hook meets the zeros, not a refused connection.
    let yaml = r#"apiVersion: v1
kind: Pod
metadata: {name: hookzeros}
spec:
  restartPolicy: Never
  initContainers:
  - name: zeros
    image: busybox:1.36
    restartPolicy: Always
    command: [sh, -c, 'while true; do nc -l -p 8080 < /dev/zero; done']
    startupProbe:
      tcpSocket: {port: 8080}
      periodSeconds: 1
  containers:
  - name: app
    image: busybox:1.36
    command: [sleep, '3600']
    lifecycle:
      postStart:
        httpGet: {path: /hook, port: 8080}
"#;
    env.ok(&["apply", "-f", &env.manifest("p.yaml", yaml)]);
    env.wait_for(30, "the postStart hook failed with a clear message", || {
        events(&env, "hookzeros").contains(
            "PostStartHook failed: Get \"http://localhost:8080/hook\": malformed HTTP response",
        )
    });
    assert!(shim_rss_kib(&env, "hookzeros") < 64 * 1024);
    let out = run_within(
        &env.mp,
        15,
        &["delete", "pod", "hookzeros", "--grace-period=0", "--force"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(env.pods().is_empty());
}

/// Host processes whose command line is exactly `argv`.
fn processes_running(argv: &[&str]) -> usize {
    let want: Vec<u8> = argv
        .iter()
        .flat_map(|a| [a.as_bytes(), b"\0"].concat())
        .collect();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| std::fs::read(e.path().join("cmdline")).is_ok_and(|c| c == want))
        .count()
}

#[test]
fn an_exec_probe_past_its_timeout_is_killed_not_left_running() {
    let env = PodEnv::new("slowexec");
    let yaml = r#"apiVersion: v1
kind: Pod
metadata: {name: slowexec}
spec:
  containers:
  - name: app
    image: busybox:1.36
    command: [sleep, '3600']
    livenessProbe:
      exec: {command: [sleep, '1237']}
      periodSeconds: 1
      timeoutSeconds: 1
      failureThreshold: 100
"#;
    env.ok(&["apply", "-f", &env.manifest("p.yaml", yaml)]);
    env.wait_for(30, "three timed-out attempts", || {
        let ev = events(&env, "slowexec");
        ev.contains("Liveness probe failed: command timed out after 1s")
            && ev
                .lines()
                .any(|l| l.contains("(x3 over") || l.contains("(x4 over"))
    });
    // One attempt at a time: the timed-out ones were killed.
    for _ in 0..5 {
        let n = processes_running(&["sleep", "1237"]);
        assert!(n <= 1, "{n} probe commands running at once");
        std::thread::sleep(Duration::from_millis(300));
    }
    let out = run_within(
        &env.mp,
        15,
        &["delete", "pod", "slowexec", "--grace-period=0", "--force"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
