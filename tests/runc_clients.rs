//! Real clients drive `minipod-runc` as they drive runc: podman (through conmon) and
//! containerd 1.6 (through its runc v2 shim, `ctr run --runc-binary`). Each test has
//! its own storage, runtime root and state in a temp dir, its own network namespace
//! where it needs a network, and leaves nothing behind: no container, cgroup, mount
//! or process of its own.

mod common;

use common::netns::TestNetns;
use common::runc::Runc;
use common::TempDir;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn images() -> PathBuf {
    PathBuf::from(
        std::env::var("MINIPOD_TEST_IMAGES").unwrap_or_else(|_| "/var/lib/minipod".into()),
    )
}

fn require(program: &str) {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "{program} is not installed: scripts/test.sh installs it with apt-get"
    );
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A podman of the test's own: private storage (vfs), run root, tmp dir and events
/// log; cgroupfs (this host has no systemd) and ulimits below the host's hard limits
/// (see PITFALLS). minipod-runc keeps its default root, /run/minipod-runc: podman
/// passes `--runtime-flag` to the runtime calls it makes itself but not to the
/// `podman container cleanup` that deletes an exited container, so a private root
/// would strand every container there. The tests check their own containers' ids.
struct Podman {
    dir: TempDir,
    runc: Runc,
    netns: Option<TestNetns>,
}

impl Podman {
    fn new(label: &str, netns: Option<TestNetns>) -> Podman {
        require("podman");
        require("conmon");
        let runc = Runc::new(label);
        let dir = TempDir::new(&format!("{label}-podman"));
        std::fs::create_dir_all(dir.path.join("tmp")).unwrap();
        std::fs::write(
            dir.path.join("containers.conf"),
            format!(
                "[containers]\ndefault_ulimits = [\"nofile=1024:1024\", \"nproc=1024:1024\"]\n\
                 [engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n\
                 events_logfile_path = \"{0}/events.log\"\ntmp_dir = \"{0}/tmp\"\n\
                 [network]\nnetwork_config_dir = \"{0}/networks\"\n",
                dir.path.display()
            ),
        )
        .unwrap();
        std::fs::write(
            dir.path.join("storage.conf"),
            format!(
                "[storage]\ndriver = \"vfs\"\nrunroot = \"{0}/run\"\ngraphroot = \"{0}/graph\"\n",
                dir.path.display()
            ),
        )
        .unwrap();
        let podman = Podman { dir, runc, netns };
        for (archive, tag) in [("busybox.oci.tar", "1.36"), ("nginx.oci.tar", "1.27")] {
            let source = format!(
                "oci-archive:{}:{tag}",
                images().join("build").join(archive).display()
            );
            podman.ok(&["pull", "-q", &source]);
        }
        podman
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("podman");
        cmd.env("CONTAINERS_CONF", self.dir.path.join("containers.conf"))
            .env(
                "CONTAINERS_STORAGE_CONF",
                self.dir.path.join("storage.conf"),
            )
            .arg("--runtime")
            .arg(self.runc.binary())
            .args(args)
            .stdin(Stdio::null());
        if let Some(ns) = &self.netns {
            ns.enter_before_exec(&mut cmd);
        }
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run podman")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let (stdout, stderr) = text(&out);
        assert!(
            out.status.success(),
            "podman {args:?} failed:\nstdout: {stdout}\nstderr: {stderr}"
        );
        stdout
    }

    /// The ids of every container podman knows (to check the cgroups they leave).
    fn container_ids(&self) -> Vec<String> {
        self.ok(&["ps", "-a", "--no-trunc", "--format", "{{.ID}}"])
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// minipod-runc's containers (in its default root) among `ids`.
    fn runtime_containers(&self, ids: &[String]) -> Vec<String> {
        let out = Command::new(self.runc.binary())
            .args(["list", "-q"])
            .output()
            .expect("run minipod-runc list");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|id| ids.iter().any(|i| i == id))
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = self.run(&["rm", "-a", "-f", "-t", "0"]);
        let _ = self.run(&["pod", "rm", "-a", "-f", "-t", "0"]);
        // vfs keeps no mount; podman's own run directory may hold the shm mounts.
        let _ = self.run(&["system", "reset", "-f"]);
    }
}

/// No cgroup of the containers `ids` is left on any hierarchy.
fn assert_no_cgroups(ids: &[String]) {
    for id in ids {
        let left: Vec<_> = std::fs::read_dir("/sys/fs/cgroup")
            .unwrap()
            .flatten()
            .map(|h| h.path().join("libpod_parent").join(format!("libpod-{id}")))
            .filter(|p| p.exists())
            .collect();
        assert!(left.is_empty(), "cgroups left behind: {left:?}");
    }
}

#[test]
fn podman_runs_a_container_with_minipod_runc() {
    let podman = Podman::new("podman-run", None);
    let out = podman.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "docker.io/library/busybox:1.36",
        "echo",
        "hi",
    ]);
    assert_eq!(out, "hi\n");
    // The exit status of the program is podman's; the container is created first
    // (to know its id), then started attached.
    let id = podman.ok(&[
        "create",
        "--network",
        "none",
        "docker.io/library/busybox:1.36",
        "sh",
        "-c",
        "exit 42",
    ]);
    let ids = vec![id.trim().to_string()];
    let out = podman.run(&["start", "--attach", &ids[0]]);
    assert_eq!(out.status.code(), Some(42), "{:?}", text(&out));
    let status = podman.ok(&[
        "inspect",
        "--format",
        "{{.State.ExitCode}} {{.State.Status}}",
        &ids[0],
    ]);
    assert_eq!(status.trim(), "42 exited");
    podman.ok(&["rm", &ids[0]]);
    assert!(podman.container_ids().is_empty());
    assert!(
        podman.runtime_containers(&ids).is_empty(),
        "minipod-runc state left"
    );
    assert_no_cgroups(&ids);
}

#[test]
fn podman_kube_play_runs_the_sidecar_pod_on_minipod_runc() {
    let manifest =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/manifests/sidecar-pod.yaml");
    let podman = Podman::new("podman-kube", Some(TestNetns::new()));
    podman.ok(&["kube", "play", manifest.to_str().unwrap()]);
    let ids = podman.container_ids();
    assert_eq!(ids.len(), 3, "infra, nginx and log-reader");
    // Every container podman made runs under minipod-runc.
    assert_eq!(podman.runtime_containers(&ids).len(), 3);
    let status = podman.ok(&["ps", "--format", "{{.Names}} {{.Status}}"]);
    assert!(status.contains("sidecar-pod-nginx Up"), "{status}");
    assert!(status.contains("sidecar-pod-log-reader Up"), "{status}");

    // The pod's localhost is shared: the sidecar reaches nginx (exec goes through
    // minipod-runc too), and nginx logs the request. podman copies the image's
    // /var/log/nginx (its access.log -> /dev/stdout link) into the emptyDir's volume
    // on first use, so with podman the line lands in nginx's own log, not the
    // sidecar's (the same with any runtime: the copy-up is podman's).
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut logs = String::new();
    while Instant::now() < deadline {
        let _ = podman.run(&[
            "exec",
            "sidecar-pod-log-reader",
            "wget",
            "-q",
            "-O",
            "/dev/null",
            "http://localhost/",
        ]);
        logs = podman.ok(&["logs", "sidecar-pod-nginx"]);
        if logs.contains("GET / HTTP/1.1") {
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(logs.contains("GET / HTTP/1.1"), "nginx log: {logs}");
    // The emptyDir is one directory for both containers.
    podman.ok(&[
        "exec",
        "sidecar-pod-nginx",
        "sh",
        "-c",
        "echo shared > /var/log/nginx/probe",
    ]);
    let seen = podman.ok(&[
        "exec",
        "sidecar-pod-log-reader",
        "cat",
        "/var/log/nginx/probe",
    ]);
    assert_eq!(seen, "shared\n");

    podman.ok(&["kube", "down", manifest.to_str().unwrap()]);
    assert!(podman.container_ids().is_empty());
    assert!(
        podman.runtime_containers(&ids).is_empty(),
        "minipod-runc state left"
    );
    assert_no_cgroups(&ids);
}

/// containerd 1.6 of the test's own: config, root, state and socket in a temp dir;
/// no CRI plugin. Stopped (and its namespace's cgroups removed) on drop.
struct Containerd {
    dir: TempDir,
    runc: Runc,
    daemon: std::process::Child,
    namespace: String,
}

impl Containerd {
    fn start(label: &str) -> Containerd {
        require("containerd");
        require("ctr");
        require("containerd-shim-runc-v2");
        let runc = Runc::new(label);
        let dir = TempDir::new(&format!("{label}-containerd"));
        let d = dir.path.display();
        std::fs::write(
            dir.path.join("config.toml"),
            format!(
                "version = 2\nroot = \"{d}/root\"\nstate = \"{d}/state\"\n\
                 disabled_plugins = [\"io.containerd.grpc.v1.cri\", \"io.containerd.snapshotter.v1.btrfs\", \
                 \"io.containerd.snapshotter.v1.zfs\", \"io.containerd.snapshotter.v1.devmapper\", \
                 \"io.containerd.snapshotter.v1.aufs\", \"io.containerd.tracing.processor.v1.otlp\", \
                 \"io.containerd.internal.v1.tracing\"]\n\
                 [grpc]\n  address = \"{d}/containerd.sock\"\n\
                 [ttrpc]\n  address = \"{d}/containerd.sock.ttrpc\"\n\
                 [debug]\n  address = \"\"\n[metrics]\n  address = \"\"\n"
            ),
        )
        .unwrap();
        let log = std::fs::File::create(dir.path.join("containerd.log")).unwrap();
        let daemon = Command::new("containerd")
            .arg("--config")
            .arg(dir.path.join("config.toml"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start containerd");
        let namespace = format!("minipod-test-{}", std::process::id());
        let c = Containerd {
            dir,
            runc,
            daemon,
            namespace,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !c.run(&["version"]).status.success() {
            assert!(Instant::now() < deadline, "containerd did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("ctr")
            .arg("--address")
            .arg(self.dir.path.join("containerd.sock"))
            .arg("--namespace")
            .arg(&self.namespace)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run ctr")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let (stdout, stderr) = text(&out);
        assert!(
            out.status.success(),
            "ctr {args:?} failed:\nstdout: {stdout}\nstderr: {stderr}"
        );
        stdout
    }

    /// `ctr run` with minipod-runc as the shim's runtime, its state in our root.
    fn run_args<'a>(&'a self, binary: &'a str, root: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec![
            "run",
            "--runc-binary",
            binary,
            "--runc-root",
            root,
            "--fifo-dir",
            root,
        ];
        args.extend_from_slice(rest);
        args
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
        // containerd puts containers under /<namespace>/<id>; minipod-runc removes
        // each container's, the namespace's own parent is containerd's to leave.
        if let Ok(hierarchies) = std::fs::read_dir("/sys/fs/cgroup") {
            for h in hierarchies.flatten() {
                let _ = std::fs::remove_dir(h.path().join(&self.namespace));
            }
        }
        let _ = std::fs::remove_dir(Path::new("/sys/fs/cgroup").join(&self.namespace));
        // containerd 1.6 puts its shims' sockets in /run/containerd/s whatever its
        // state dir, and ctr makes /run/containerd/fifo even when given --fifo-dir;
        // the sockets go with the shims, the empty directories are removed here.
        let _ = std::fs::remove_dir("/run/containerd/s");
        let _ = std::fs::remove_dir("/run/containerd/fifo");
        let _ = std::fs::remove_dir("/run/containerd");
    }
}

#[test]
fn containerd_runs_a_container_with_minipod_runc() {
    let c = Containerd::start("containerd");
    let archive = images().join("build/busybox.oci.tar");
    c.ok(&[
        "image",
        "import",
        "--all-platforms",
        archive.to_str().unwrap(),
    ]);
    let binary = c.runc.binary();
    let binary = binary.to_str().unwrap();
    let root = c.runc.root();
    let root = root.to_str().unwrap();
    let image = "docker.io/library/busybox:1.36";

    let out = c.ok(&c.run_args(
        binary,
        root,
        &["--rm", image, "once", "echo", "hi from containerd"],
    ));
    assert_eq!(out, "hi from containerd\n");

    // A long-running task: ps, pause/resume, exec, kill, delete, all through the shim.
    c.ok(&c.run_args(binary, root, &["-d", image, "long", "sleep", "1000"]));
    let ps = c.ok(&["task", "ps", "long"]);
    assert!(ps.lines().count() >= 2, "{ps}");
    c.ok(&["task", "pause", "long"]);
    let tasks = c.ok(&["task", "ls"]);
    assert!(tasks.contains("PAUSED"), "{tasks}");
    c.ok(&["task", "resume", "long"]);
    let out = c.ok(&[
        "task",
        "exec",
        "--exec-id",
        "e1",
        "long",
        "sh",
        "-c",
        "echo exec-ok; hostname",
    ]);
    assert!(out.starts_with("exec-ok\n"), "{out}");
    c.ok(&["task", "kill", "--signal", "SIGKILL", "long"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !c.ok(&["task", "ls"]).contains("STOPPED") {
        assert!(Instant::now() < deadline, "the task never stopped");
        std::thread::sleep(Duration::from_millis(100));
    }
    c.ok(&["task", "delete", "long"]);
    c.ok(&["container", "delete", "long"]);
    assert!(
        c.runc.ok(&["list", "-q"]).is_empty(),
        "minipod-runc state left"
    );
    for hierarchy in ["pids", "memory"] {
        let dir = Path::new("/sys/fs/cgroup")
            .join(hierarchy)
            .join(&c.namespace);
        let children: Vec<_> = std::fs::read_dir(&dir)
            .map(|d| d.flatten().filter(|e| e.path().is_dir()).collect())
            .unwrap_or_default();
        assert!(
            children.is_empty(),
            "container cgroups left under {}",
            dir.display()
        );
    }
}
