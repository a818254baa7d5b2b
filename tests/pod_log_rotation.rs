//! CRI log rotation as kubelet does it (`containerLogMaxSize`, `containerLogMaxFiles`,
//! here made small through the supervisor's environment): a container that prints
//! as fast as it can keeps its log directory under size × files, and `logs` reads
//! across the rotated files (`--tail`, `--previous`, `--timestamps`, `--since`, `-f`).

mod common;
use common::spawned::SpawnGuarded as _;

use common::pods::PodEnv;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

const MAX_SIZE: u64 = 16 * 1024;
const MAX_FILES: u64 = 3;

fn small_logs() {
    std::env::set_var("MINIPOD_CONTAINER_LOG_MAX_SIZE", "16Ki");
    std::env::set_var("MINIPOD_CONTAINER_LOG_MAX_FILES", MAX_FILES.to_string());
}

/// The pod's log directory for `container`: its files and their total size.
fn log_dir(env: &PodEnv, pod: &str, container: &str) -> (Vec<String>, u64) {
    let dir = std::fs::read_dir(env.root().join("log/pods"))
        .unwrap()
        .flatten()
        .find(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(&format!("default_{pod}_"))
        })
        .expect("the pod's log directory")
        .path()
        .join(container);
    let mut names = Vec::new();
    let mut total = 0;
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        names.push(e.file_name().to_string_lossy().into_owned());
        total += e.metadata().map(|m| m.len()).unwrap_or(0);
    }
    names.sort();
    (names, total)
}

/// "run R line N" → (R, N).
fn numbered(line: &str) -> (u32, u32) {
    let w: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(w.len(), 4, "unexpected log line {line:?}");
    (w[1].parse().unwrap(), w[3].parse().unwrap())
}

#[test]
fn a_chatty_container_stays_within_the_bound_and_logs_reads_across_files() {
    small_logs();
    let env = PodEnv::new("logrot");
    // Run 1 prints 20000 lines and fails; run 2 (restarted at once) prints 20000 more
    // and stays. An emptyDir counts the runs.
    let yaml = r#"apiVersion: v1
kind: Pod
metadata: {name: chatty}
spec:
  containers:
  - name: app
    image: busybox:1.36
    command: [sh, -c, 'n=$(cat /data/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /data/n; i=0; while [ $i -lt 20000 ]; do i=$((i+1)); echo "run $n line $i"; done; [ $n -gt 1 ] && exec sleep 3600; exit 1']
    volumeMounts: [{name: data, mountPath: /data}]
  volumes: [{name: data, emptyDir: {}}]
"#;
    env.ok(&["apply", "-f", &env.manifest("p.yaml", yaml)]);
    let mut worst = 0;
    env.wait_for(60, "run 2 printed its last line", || {
        worst = worst.max(log_dir(&env, "chatty", "app").1);
        env.run(&["logs", "chatty", "--tail", "1"]).stdout == b"run 2 line 20000\n"
    });
    // Two instances (current and previous), each within size x files.
    let (names, total) = log_dir(&env, "chatty", "app");
    assert!(
        total <= 2 * MAX_SIZE * MAX_FILES && worst <= 2 * MAX_SIZE * MAX_FILES,
        "the log directory holds {total} bytes (at worst {worst}): {names:?}"
    );
    assert_eq!(
        names.iter().filter(|n| n.starts_with("1.log")).count(),
        MAX_FILES as usize,
        "{names:?}"
    );
    assert!(names.contains(&"1.log".to_string()), "{names:?}");

    let tail = env.ok(&["logs", "chatty", "--tail", "3"]);
    assert_eq!(
        tail,
        "run 2 line 19998\nrun 2 line 19999\nrun 2 line 20000\n"
    );
    // Everything kept, in order, without a gap across the rotated files; the
    // oldest lines are gone.
    let all = env.ok(&["logs", "chatty"]);
    let nums: Vec<u32> = all.lines().map(|l| numbered(l).1).collect();
    assert!(
        nums[0] > 1 && *nums.last().unwrap() == 20000,
        "first {}",
        nums[0]
    );
    assert!(
        nums.windows(2).all(|w| w[1] == w[0] + 1),
        "a gap in the lines read back"
    );
    // A tail longer than the current file (about 280 lines of 16 KiB) reaches into
    // the rotated ones (two full ones at least).
    let long = env.ok(&["logs", "chatty", "--tail", "500"]);
    assert_eq!(long.lines().count(), 500);
    assert_eq!(long.lines().next(), Some("run 2 line 19501"));

    let previous = env.ok(&["logs", "chatty", "--previous", "--tail", "2"]);
    assert_eq!(previous, "run 1 line 19999\nrun 1 line 20000\n");
    let stamped = env.ok(&[
        "logs",
        "chatty",
        "--timestamps",
        "--since",
        "1h",
        "--tail",
        "1",
    ]);
    let (time, text) = stamped.trim_end().split_once(' ').unwrap();
    assert!(time.len() > 20 && time.ends_with('Z'), "{stamped}");
    assert_eq!(text, "run 2 line 20000");
}

#[test]
fn follow_keeps_following_across_rotations() {
    small_logs();
    let env = PodEnv::new("logfollow");
    let yaml = r#"apiVersion: v1
kind: Pod
metadata: {name: steady}
spec:
  containers:
  - name: app
    image: busybox:1.36
    command: [sh, -c, 'i=0; while [ $i -lt 3000 ]; do i=$((i+1)); echo "run 1 line $i"; [ $((i % 20)) = 0 ] && usleep 10000; done; exec sleep 3600']
"#;
    env.ok(&["apply", "-f", &env.manifest("p.yaml", yaml)]);
    let mut follower = env
        .mp
        .command(&[])
        .args(["logs", "-f", "steady"])
        .env_remove("MINIPOD_ROOT")
        .stdout(Stdio::piped())
        .spawn_guarded();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = follower.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let until = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    while seen.last().map(|l: &String| numbered(l).1) != Some(3000) {
        let left = until.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(_) => break,
        }
    }
    follower.kill().unwrap();
    follower.wait().unwrap();
    let nums: Vec<u32> = seen.iter().map(|l| numbered(l).1).collect();
    assert_eq!(
        nums.last(),
        Some(&3000),
        "the follower stopped at {:?}",
        nums.last()
    );
    assert!(
        nums.windows(2).all(|w| w[1] == w[0] + 1),
        "a gap while following"
    );
    let (names, _) = log_dir(&env, "steady", "app");
    assert!(
        names.len() > 1,
        "the log was rotated while followed: {names:?}"
    );
}
