//! CVE-2019-5736, the class of attack: a process in the container watches `/proc` for
//! a runtime process that has joined it, opens that process's `/proc/PID/exe` (the
//! runtime's own binary on the host) and, once the runtime is gone, reopens it for
//! writing through `/proc/self/fd` and overwrites the host's binary.
//!
//! Here a container runs exactly that watcher (in busybox sh) while the test runs 100
//! `minipod exec` calls, an exec probe fires every second and a postStart exec hook
//! runs. minipod must never let
//! a process of its own be opened from inside: the process that joins a container runs
//! from a sealed, read-only copy of the binary and is non-dumpable before it joins.
//! The binary under test is a copy in a temporary directory, so a successful attack
//! damages nothing but the copy, and the test sees it.

mod common;
use common::pods::PodEnv;
use common::{sha256_hex, TempDir};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The watcher, in busybox sh: every process it can see, every round. It opens each
/// `/proc/PID/exe` (the open keeps the file, as O_PATH would), ignores the
/// container's own programs, and for anything else notes OPENED and tries to write
/// through `/proc/self/fd/3`: the reopen the attack needs. (No `$$` in it: Kubernetes
/// reads `$$` in a command as an escaped `$`.) The exec'd commands run with a very
/// long PATH, so the runtime's process searches it for a while before its `execve`:
/// the window the attack needs is wide open if the runtime leaves one.
const WATCHER: &str = r#"
rounds=0
while :; do
  for e in /proc/[0-9]*/exe; do
    p=${e%/exe}; p=${p#/proc/}
    command exec 2>/dev/null 3< "$e" || continue
    t=$(readlink /proc/self/fd/3)
    case "$t" in /bin/*|/sbin/*|/usr/*) exec 3<&-; continue;; esac
    echo "OPENED pid $p exe $t" >> /tmp/report
    ( echo pwned >> /proc/self/fd/3 ) 2>> /tmp/report && echo "WROTE pid $p" >> /tmp/report
    exec 3<&-
  done
  rounds=$((rounds+1))
  echo $rounds > /tmp/rounds.new && mv /tmp/rounds.new /tmp/rounds
done
"#;

fn long_path() -> String {
    let mut dirs: Vec<String> = (0..3000).map(|i| format!("/nonexistent/{i}")).collect();
    dirs.push("/bin".into());
    dirs.join(":")
}

/// A copy of minipod and the programs it starts (the supervisor, whose sealed copy
/// builds and enters the pod's containers, and the pause) in a directory of its own.
struct BinaryCopy {
    _dir: TempDir,
    exe: PathBuf,
    shim: PathBuf,
}

impl BinaryCopy {
    fn new() -> BinaryCopy {
        let dir = TempDir::new("binary-copy");
        let exe = dir.path.join("minipod");
        let shim = dir.path.join("minipod-shim");
        let built = Path::new(env!("CARGO_BIN_EXE_minipod"));
        std::fs::copy(built, &exe).expect("copy minipod");
        std::fs::copy(env!("CARGO_BIN_EXE_minipod-shim"), &shim).expect("copy minipod-shim");
        std::fs::copy(
            built.with_file_name("minipod-pause"),
            dir.path.join("minipod-pause"),
        )
        .expect("copy minipod-pause");
        BinaryCopy {
            _dir: dir,
            exe,
            shim,
        }
    }

    /// Both binaries the pod's processes run from (exec from minipod, the containers'
    /// stages, probes and hooks from minipod-shim).
    fn sha256(&self) -> String {
        let read = |p: &Path| std::fs::read(p).expect("read the copy");
        format!(
            "minipod {} minipod-shim {}",
            sha256_hex(&read(&self.exe)),
            sha256_hex(&read(&self.shim))
        )
    }

    fn run(&self, env: &PodEnv, args: &[&str]) -> Output {
        let mut cmd = Command::new(&self.exe);
        env.mp.ns().enter_before_exec(&mut cmd);
        cmd.arg("--root")
            .arg(env.root())
            .args(args)
            .env_remove("MINIPOD_ROOT")
            .output()
            .expect("run the copy of minipod")
    }

    fn ok(&self, env: &PodEnv, args: &[&str]) -> String {
        let out = self.run(env, args);
        assert!(
            out.status.success(),
            "minipod {args:?} failed:\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

#[test]
fn a_container_watching_proc_cannot_reach_minipods_binary() {
    let env = PodEnv::new("containment");
    let copy = BinaryCopy::new();
    let before = copy.sha256();
    let script = serde_json::to_string(WATCHER).unwrap();
    let manifest = format!(
        r#"
apiVersion: v1
kind: Pod
metadata:
  name: watched
spec:
  containers:
  - name: watcher
    image: busybox:1.36
    command: ["sh", "-c", {script}]
    env: [{{name: PATH, value: "{}"}}]
    livenessProbe: {{exec: {{command: [sh, -c, "exit 0"]}}, periodSeconds: 1}}
    lifecycle: {{postStart: {{exec: {{command: [sh, -c, "exit 0"]}}}}}}
"#,
        long_path()
    );
    let file = env.manifest("watched.yaml", &manifest);
    copy.ok(&env, &["apply", "-f", &file]);
    let rounds = || {
        copy.run(&env, &["exec", "watched", "--", "cat", "/tmp/rounds"])
            .stdout
    };
    env.wait_for(20, "the watcher scans /proc", || !rounds().is_empty());

    for i in 0..100 {
        let out = copy.run(&env, &["exec", "watched", "--", "sh", "-c", "exit 0"]);
        assert!(
            out.status.success(),
            "exec {i} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The probe fired meanwhile (once a second) and the watcher kept scanning.
    let described = copy.ok(&env, &["describe", "pod", "watched"]);
    assert!(
        !described.contains("Unhealthy"),
        "the exec probe failed:\n{described}"
    );
    let scanned: u64 = String::from_utf8_lossy(&rounds())
        .trim()
        .parse()
        .expect("the watcher counts its rounds");
    assert!(scanned > 0);

    let report = copy
        .run(&env, &["exec", "watched", "--", "cat", "/tmp/report"])
        .stdout;
    let report = String::from_utf8_lossy(&report);
    assert!(
        !report.contains("OPENED") && !report.contains("WROTE"),
        "a process of minipod was opened from inside the container:\n{report}"
    );
    copy.ok(
        &env,
        &["delete", "pod", "watched", "--grace-period=0", "--force"],
    );
    assert_eq!(copy.sha256(), before, "a minipod binary was overwritten");
}

/// With `shareProcessNamespace` a container sees the infra process; what the infra's
/// mount table shows is its own small root, not the supervisor's mounts (every other
/// pod's rootfs, the state directory) nor paths of the host.
#[test]
fn the_infra_shows_only_its_own_root() {
    let env = PodEnv::new("infra-root");
    let file = env.manifest(
        "shared.yaml",
        r#"
apiVersion: v1
kind: Pod
metadata:
  name: shared-pid
spec:
  shareProcessNamespace: true
  containers:
  - name: look
    image: busybox:1.36
    command: ["sleep", "3600"]
"#,
    );
    env.ok(&["apply", "-f", &file]);
    // The pause program is PID 1 of the pod's PID namespace.
    let comm = env.ok(&["exec", "shared-pid", "--", "cat", "/proc/1/comm"]);
    assert!(comm.contains("pause"), "PID 1 is {comm:?}");
    let mountinfo = env.ok(&["exec", "shared-pid", "--", "cat", "/proc/1/mountinfo"]);
    let root = env.root().display().to_string();
    assert!(
        !mountinfo.contains(&root) && !mountinfo.contains("overlay"),
        "the infra's mount table shows the supervisor's mounts:\n{mountinfo}"
    );
    // Its root, and the pause program and the libraries it loads, bound read-only.
    let mut lines = mountinfo.lines();
    let root = lines.next().unwrap_or_default();
    assert!(root.contains(" / / ro,"), "{mountinfo}");
    for line in lines {
        let point = line.split(' ').nth(4).unwrap_or_default();
        assert!(
            point == "/minipod-pause" || point.contains(".so"),
            "the infra's mount table is more than its own root:\n{mountinfo}"
        );
        assert!(line.contains(" ro,"), "{line}");
    }
    // Its exe cannot be written from inside (ETXTBSY or EROFS, never success).
    let write = env.run(&[
        "exec",
        "shared-pid",
        "--",
        "sh",
        "-c",
        "echo pwned >> /proc/1/exe",
    ]);
    assert!(!write.status.success(), "the pause program was writable");
}
