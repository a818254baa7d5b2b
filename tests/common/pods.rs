//! Test helpers for pods: a private `--root` whose image store is the one the image
//! scripts built (`scripts/build-images.sh`), shared read-only by every test, and a
//! teardown that deletes every pod and checks nothing of it is left running.

use super::Minipod;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The store the image scripts loaded busybox, debian and nginx into.
pub fn shared_images() -> PathBuf {
    let root = std::env::var("MINIPOD_TEST_IMAGES").unwrap_or_else(|_| "/var/lib/minipod".into());
    PathBuf::from(root).join("images")
}

/// The seed manifests users start from, in `shared/manifests` beside the repository.
pub fn seed(name: &str) -> String {
    format!("{}/../shared/manifests/{name}", env!("CARGO_MANIFEST_DIR"))
}

pub struct PodEnv {
    pub mp: Minipod,
}

impl PodEnv {
    pub fn new(label: &str) -> PodEnv {
        let mp = Minipod::new(label);
        let images = shared_images();
        assert!(
            images.join("repositories.json").is_file(),
            "no images in {}: run scripts/build-images.sh first (scripts/test.sh does)",
            images.display()
        );
        std::os::unix::fs::symlink(&images, mp.root().join("images"))
            .expect("link the shared image store");
        PodEnv { mp }
    }

    pub fn root(&self) -> &Path {
        self.mp.root()
    }

    pub fn ok(&self, args: &[&str]) -> String {
        self.mp.ok(args)
    }

    pub fn run(&self, args: &[&str]) -> std::process::Output {
        self.mp.run(args)
    }

    /// Write a manifest into the test's directory; returns its path.
    pub fn manifest(&self, name: &str, yaml: &str) -> String {
        self.mp.write_file(name, yaml.as_bytes())
    }

    pub fn pod_json(&self, name: &str) -> Value {
        let out = self.ok(&["get", "pod", name, "-o", "json"]);
        serde_json::from_str(&out).expect("get -o json prints JSON")
    }

    /// The line of `get pods` for one pod, split into columns.
    pub fn row(&self, name: &str) -> Vec<String> {
        let out = self.ok(&["get", "pods", "--no-headers"]);
        out.lines()
            .map(|l| l.split_whitespace().map(String::from).collect::<Vec<_>>())
            .find(|cols| cols.first().map(String::as_str) == Some(name))
            .unwrap_or_default()
    }

    /// The supervisor's status record (with PIDs), as `explain` will read it.
    pub fn status(&self, name: &str) -> Value {
        let uid = self.pod_json(name)["metadata"]["uid"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let path = self.root().join("run/pods").join(uid).join("status.json");
        serde_json::from_slice(&std::fs::read(&path).expect("read status.json"))
            .expect("status.json is JSON")
    }

    pub fn container_pid(&self, pod: &str, container: &str) -> i32 {
        let st = self.status(pod);
        let all = st["containerStatuses"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let c = all
            .iter()
            .find(|c| c["name"] == container)
            .expect("container in status");
        c["process"]["pid"].as_i64().expect("container has a pid") as i32
    }

    /// The OCI spec (`config.json`) the runtime was given for `container` of `pod`.
    pub fn bundle_spec(&self, pod: &str, container: &str) -> Value {
        let uid = self.pod_json(pod)["metadata"]["uid"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let config = self
            .root()
            .join("run/pods")
            .join(uid)
            .join("bundles")
            .join(container)
            .join("config.json");
        serde_json::from_slice(&std::fs::read(&config).expect("read config.json"))
            .expect("config.json is JSON")
    }

    pub fn supervisor_pid(&self, pod: &str) -> i32 {
        self.status(pod)["supervisor"]["pid"]
            .as_i64()
            .expect("supervisor pid") as i32
    }

    pub fn infra_pid(&self, pod: &str) -> i32 {
        self.status(pod)["infra"]["pid"]
            .as_i64()
            .expect("infra pid") as i32
    }

    /// Wait up to `secs` for `cond`; panics with `what` when it never holds.
    pub fn wait_for(&self, secs: u64, what: &str, mut cond: impl FnMut() -> bool) {
        let until = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < until {
            if cond() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("timed out after {secs}s waiting for: {what}");
    }

    pub fn pods(&self) -> Vec<String> {
        self.ok(&["get", "pods", "-A", "-o", "name"])
            .lines()
            .map(|l| l.trim_start_matches("pod/").to_string())
            .collect()
    }
}

impl Drop for PodEnv {
    fn drop(&mut self) {
        // The controller manager first (it would make the pods again), and the
        // controller objects (any command would start it again).
        let apps = self.root().join("run/apps");
        let root = self.root().display().to_string();
        for pid in processes_mentioning(&root) {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            if String::from_utf8_lossy(&cmdline).contains("controller-manager") {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        let _ = std::fs::remove_dir_all(&apps);
        // Every namespace's pods: delete them at once, then nothing may remain.
        let out = self.mp.run(&["get", "pods", "-A", "-o", "json"]);
        if let Ok(v) = serde_json::from_slice::<Value>(&out.stdout) {
            for p in v["items"].as_array().cloned().unwrap_or_default() {
                let ns = p["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or("default")
                    .to_string();
                let name = p["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let _ = self.mp.run(&[
                    "delete",
                    "pod",
                    &name,
                    "-n",
                    &ns,
                    "--grace-period=0",
                    "--force",
                ]);
            }
        }
        let root = self.root().display().to_string();
        let left = processes_mentioning(&root);
        if !std::thread::panicking() {
            assert!(
                left.is_empty(),
                "processes of this test left behind: {left:?}"
            );
        }
    }
}

/// Host processes whose environment or command line names `needle` (our supervisors
/// carry MINIPOD_ROOT in their environment).
pub fn processes_mentioning(needle: &str) -> Vec<i32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if pid == std::process::id() as i32 {
            continue;
        }
        let env = std::fs::read(entry.path().join("environ")).unwrap_or_default();
        let cmd = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let hay = [env, cmd].concat();
        if hay.windows(needle.len()).any(|w| w == needle.as_bytes()) {
            pids.push(pid);
        }
    }
    pids
}

/// The inode of `/proc/PID/ns/NAME`, as `readlink` shows it: `net:[4026532281]`.
pub fn ns(pid: i32, name: &str) -> String {
    std::fs::read_link(format!("/proc/{pid}/ns/{name}"))
        .map(|p| p.display().to_string())
        .unwrap_or_else(|e| panic!("readlink /proc/{pid}/ns/{name}: {e}"))
}

/// A one-container pod whose PID 1 ignores SIGTERM (and prints a tick a second): only
/// the grace period's SIGKILL stops it.
pub fn ignores_sigterm(name: &str, grace: u32) -> String {
    format!(
        r#"apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  terminationGracePeriodSeconds: {grace}
  containers:
  - name: main
    image: busybox:1.36
    command: [sh, -c, "trap '' TERM; while true; do echo tick; sleep 1; done"]
"#
    )
}
