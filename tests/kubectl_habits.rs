//! kubectl habits (issue 4), as a user at a terminal sees them: the seed's sequence,
//! an interactive shell on a real pseudo-terminal (driven in tmux), describe of a
//! failing container, port-forward and hostPort on host loopback, watch, dry-run.

mod common;
use common::pods::{seed, PodEnv};
use common::spawned::SpawnGuarded as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const MINIPOD: &str = env!("CARGO_BIN_EXE_minipod");

/// A tmux server of the test's own (`-L`), started in the test's network namespace,
/// with one session running bash; the server is killed when dropped.
struct Tmux {
    name: String,
}

impl Tmux {
    fn new(env: &PodEnv, label: &str) -> Tmux {
        let name = format!("minipod-{label}-{}", std::process::id());
        let ok = env
            .mp
            .ns()
            .command("tmux")
            .args(["-L", &name])
            .args(["new-session", "-d", "-s", &name, "-x", "150", "-y", "50"])
            .args(["bash", "--norc", "--noprofile"])
            .status()
            .expect("run tmux (apt-get install tmux)")
            .success();
        assert!(ok, "tmux new-session failed");
        Tmux { name }
    }
    fn keys(&self, keys: &[&str]) {
        let ok = Command::new("tmux")
            .args(["-L", &self.name, "send-keys", "-t", &self.name])
            .args(keys)
            .status()
            .expect("tmux send-keys")
            .success();
        assert!(ok, "tmux send-keys {keys:?}");
    }
    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.name, "capture-pane", "-p", "-S", "-200"])
            .args(["-t", &self.name])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
    /// Wait until some line of the screen satisfies `pred` `count` times.
    fn wait_lines(&self, what: &str, count: usize, pred: impl Fn(&str) -> bool) {
        let until = Instant::now() + Duration::from_secs(15);
        while Instant::now() < until {
            if self.screen().lines().filter(|l| pred(l)).count() >= count {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "never saw {what} x{count} on the terminal:\n{}",
            self.screen()
        );
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.name, "kill-server"])
            .status();
    }
}

fn minipod_line(env: &PodEnv, args: &str) -> String {
    format!("{MINIPOD} --root {} {args}", env.root().display())
}

#[test]
fn seed_sequence_script_passes() {
    let env = PodEnv::new("seedseq");
    let script = format!("{}/scripts/seed-sequence.sh", env!("CARGO_MANIFEST_DIR"));
    let out = env
        .mp
        .ns()
        .command("bash")
        .arg(&script)
        .arg("--root")
        .arg(env.root())
        .env("MINIPOD", MINIPOD)
        .env("SEED_MANIFEST", seed("sidecar-pod.yaml"))
        .output()
        .expect("run scripts/seed-sequence.sh");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("seed sequence: all steps passed"),
        "seed-sequence.sh failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn exec_it_passes_ctrl_c_and_returns_the_exit_code() {
    let env = PodEnv::new("execit");
    env.ok(&["apply", "-f", &seed("sidecar-pod.yaml")]);

    // Without a terminal: the exit code is the command's.
    let out = env.run(&[
        "exec",
        "sidecar-pod",
        "-c",
        "nginx",
        "--",
        "sh",
        "-c",
        "exit 7",
    ]);
    assert_eq!(out.status.code(), Some(7));

    let t = Tmux::new(&env, "execit");
    let exec = minipod_line(&env, "exec -it sidecar-pod -c log-reader -- /bin/sh");
    t.keys(&[&format!("{exec}; echo EXITED=$?"), "Enter"]);
    t.wait_lines("the container's prompt", 1, |l| {
        l.starts_with('#') || l.starts_with("/ #")
    });
    t.keys(&["tty", "Enter"]);
    t.wait_lines("a pty", 1, |l| l.starts_with("/dev/pts/"));
    let started = Instant::now();
    t.keys(&["sleep 100", "Enter"]);
    std::thread::sleep(Duration::from_millis(500));
    t.keys(&["C-c"]);
    t.keys(&["echo status=$?", "Enter"]);
    // 130 = 128 + SIGINT: the sleep inside the container got Ctrl-C.
    t.wait_lines("status=130", 1, |l| l == "status=130");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "Ctrl-C did not stop sleep"
    );
    t.keys(&["exit 7", "Enter"]);
    t.wait_lines("EXITED=7", 1, |l| l == "EXITED=7");
    // The caller's terminal is back to normal (cooked: echo on).
    t.keys(&["stty -a | grep -o ' echo ' ; echo done", "Enter"]);
    t.wait_lines("echo back on", 1, |l| l.trim() == "echo");
}

/// A port nobody listens on right now in the test's network namespace.
fn free_port(env: &PodEnv) -> u16 {
    env.mp.ns().in_it(|| {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port")
    })
}

/// `curl` of the test's network namespace's loopback, as a user on the node would.
fn http_get(env: &PodEnv, port: u16) -> String {
    let out = env
        .mp
        .ns()
        .command("curl")
        .args([
            "-s",
            "--max-time",
            "5",
            &format!("http://127.0.0.1:{port}/"),
        ])
        .output()
        .expect("run curl");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn port_forward_and_host_port_serve_nginx_on_host_loopback() {
    let env = PodEnv::new("ports");
    let host_port = free_port(&env);
    let yaml = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: nginx\n    image: nginx:1.27\n    ports:\n    - containerPort: 80\n      hostPort: {host_port}\n      hostIP: 127.0.0.1\n"
    );
    let file = env.manifest("web.yaml", &yaml);
    env.ok(&["apply", "-f", &file]);
    let mut page = String::new();
    for _ in 0..50 {
        page = http_get(&env, host_port);
        if page.contains("Welcome to nginx!") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        page.contains("Welcome to nginx!"),
        "hostPort page: {page:?}"
    );

    // The same hostPort again: refused at apply time, nothing created.
    let again = env.manifest("web2.yaml", &yaml.replace("name: web\n", "name: web2\n"));
    let err = env.mp.fails(&["apply", "-f", &again]);
    assert!(
        err.contains(&format!("hostPort {host_port}")) && err.contains("in use"),
        "apply of a taken hostPort: {err}"
    );
    assert_eq!(env.pods(), ["web"]);

    // port-forward, in the foreground as a user runs it.
    let local = free_port(&env);
    let mut pf = env
        .mp
        .command(&[])
        .args(["port-forward", "pod/web", &format!("{local}:80")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn_guarded();
    let mut page = String::new();
    for _ in 0..50 {
        page = http_get(&env, local);
        if page.contains("Welcome to nginx!") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = pf.kill();
    let out = pf.wait_with_output().expect("port-forward output");
    assert!(
        page.contains("Welcome to nginx!"),
        "port-forward page: {page:?}"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("Forwarding from 127.0.0.1:{local} -> 80"))
            && text.contains(&format!("Handling connection for {local}")),
        "port-forward said: {text}"
    );

    // The hostPort goes with the pod.
    env.ok(&["delete", "pod", "web"]);
    assert!(
        env.mp
            .ns()
            .in_it(|| std::net::TcpListener::bind(("127.0.0.1", host_port)).is_ok()),
        "hostPort {host_port} still bound after delete"
    );
}

#[test]
fn describe_shows_a_failing_container_in_state_last_state_and_events() {
    let env = PodEnv::new("descfail");
    let file = env.manifest(
        "crash.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: crash\n  labels:\n    app: crash\nspec:\n  restartPolicy: OnFailure\n  containers:\n  - name: main\n    image: busybox:1.36\n    command: [\"sh\", \"-c\", \"echo boom; exit 3\"]\n    env:\n    - name: GREETING\n      value: hello\n",
    );
    env.ok(&["apply", "-f", &file]);
    // First exit: restarted at once; second: back-off (10 s) in CrashLoopBackOff.
    env.wait_for(20, "waiting in CrashLoopBackOff after a restart", || {
        let c = &env.status("crash")["containerStatuses"][0];
        c["restartCount"].as_u64() >= Some(1)
            && c["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    });
    let d = env.ok(&["describe", "pod", "crash"]);
    for want in [
        "Name:             crash",
        "Labels:           app=crash",
        "    State:          Waiting\n      Reason:       CrashLoopBackOff",
        "    Last State:     Terminated\n      Reason:       Error\n      Exit Code:    3",
        "    Ready:          False",
        "    Environment:\n      GREETING:  hello",
        "  Ready                      False",
        "Warning  BackOff",
        "Back-off restarting failed container main in pod crash_default(",
        "Normal   Pulled",
        "Container image \"busybox:1.36\" already present on machine",
    ] {
        assert!(d.contains(want), "describe lacks {want:?}:\n{d}");
    }
    let ev = env.ok(&["get", "events"]);
    assert!(
        ev.contains("BackOff") && ev.contains("pod/crash"),
        "get events:\n{ev}"
    );
    // describe -f names the same pod.
    let d2 = env.ok(&["describe", "-f", &file]);
    assert!(
        d2.starts_with("Name:             crash"),
        "describe -f:\n{d2}"
    );
    let err = env.mp.fails(&["describe", "pod", "nope"]);
    assert!(err.contains("Error from server (NotFound): pods \"nope\" not found"));
}

#[test]
fn get_watch_prints_a_row_when_the_pod_changes() {
    let env = PodEnv::new("watch");
    let mut w = env
        .mp
        .command(&[])
        .args(["get", "pods", "-w"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn_guarded();
    env.ok(&["apply", "-f", &seed("sidecar-pod.yaml")]);
    std::thread::sleep(Duration::from_millis(800));
    let _ = w.kill();
    let out = w.wait_with_output().expect("get -w output");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("NAME"), "get -w header:\n{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("sidecar-pod") && l.contains("2/2") && l.contains("Running")),
        "get -w shows the running pod:\n{text}"
    );
}

#[test]
fn dry_run_prints_the_object_and_creates_nothing() {
    let env = PodEnv::new("dryrun");
    let yaml = env.ok(&[
        "apply",
        "-f",
        &seed("sidecar-pod.yaml"),
        "--dry-run=client",
        "-o",
        "yaml",
    ]);
    for want in [
        "kind: Pod",
        "name: sidecar-pod",
        "restartPolicy: Always",
        "imagePullPolicy: IfNotPresent",
    ] {
        assert!(yaml.contains(want), "dry-run yaml lacks {want:?}:\n{yaml}");
    }
    let out = env.ok(&[
        "create",
        "-f",
        &seed("sidecar-pod.yaml"),
        "--dry-run=server",
    ]);
    assert_eq!(out.trim(), "pod/sidecar-pod created (server dry run)");
    assert!(env.pods().is_empty(), "dry runs created a pod");

    // Server dry-run runs apply's checks: a hostPath that is not there is an error.
    let file = env.manifest(
        "missing.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: missing\nspec:\n  containers:\n  - name: c\n    image: busybox:1.36\n    volumeMounts: [{name: v, mountPath: /v}]\n  volumes: [{name: v, hostPath: {path: /no-such-dir-for-minipod, type: Directory}}]\n",
    );
    let err = env.mp.fails(&["apply", "-f", &file, "--dry-run=server"]);
    assert!(
        err.contains("/no-such-dir-for-minipod"),
        "server dry-run error: {err}"
    );
    // A missing image is not the API server's business (the kubelet reports it).
    let no_image = env.manifest(
        "noimage.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: noimage\nspec:\n  containers:\n  - name: c\n    image: nosuchimage:9\n",
    );
    assert_eq!(
        env.ok(&["apply", "-f", &no_image, "--dry-run=server"])
            .trim(),
        "pod/noimage created (server dry run)"
    );
    // The client only parses and defaults.
    env.ok(&["apply", "-f", &file, "--dry-run=client"]);
    assert!(env.pods().is_empty());
}

#[test]
fn logs_since_prefix_all_containers_and_output_formats() {
    let env = PodEnv::new("logsfmt");
    env.ok(&["apply", "-f", &seed("sidecar-pod.yaml")]);
    env.ok(&[
        "exec",
        "sidecar-pod",
        "-c",
        "nginx",
        "--",
        "curl",
        "-s",
        "-o",
        "/dev/null",
        "localhost",
    ]);
    env.wait_for(10, "the sidecar logs the request", || {
        env.ok(&["logs", "sidecar-pod", "-c", "log-reader"])
            .contains("GET / HTTP/1.1")
    });
    let all = env.ok(&["logs", "sidecar-pod", "--all-containers", "--prefix"]);
    assert!(
        all.lines()
            .any(|l| l.starts_with("[pod/sidecar-pod/log-reader] ") && l.contains("GET / HTTP/1.1")),
        "logs --all-containers --prefix:\n{all}"
    );
    let recent = env.ok(&["logs", "sidecar-pod", "-c", "log-reader", "--since", "5m"]);
    assert!(recent.contains("GET / HTTP/1.1"), "--since 5m: {recent}");
    std::thread::sleep(Duration::from_millis(2100));
    let none = env.ok(&["logs", "sidecar-pod", "-c", "log-reader", "--since", "2s"]);
    assert_eq!(none, "", "--since 2s shows old lines");

    let uid = env.ok(&[
        "get",
        "pod",
        "sidecar-pod",
        "-o",
        "jsonpath={.metadata.uid}",
    ]);
    assert_eq!(
        uid,
        env.pod_json("sidecar-pod")["metadata"]["uid"]
            .as_str()
            .unwrap_or("-")
    );
    let names = env.ok(&["get", "pods", "-o", "jsonpath={.items[*].metadata.name}"]);
    assert_eq!(names, "sidecar-pod");
    let cols = env.ok(&[
        "get",
        "pods",
        "-o",
        "custom-columns=NAME:.metadata.name,PHASE:.status.phase",
    ]);
    assert_eq!(
        cols.lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .collect::<Vec<_>>(),
        [vec!["NAME", "PHASE"], vec!["sidecar-pod", "Running"]]
    );
    let labels = env.ok(&["get", "pods", "--show-labels", "-L", "app"]);
    assert!(
        labels.contains("APP") && labels.contains("LABELS") && labels.contains("app=sidecar-demo"),
        "{labels}"
    );
}

#[test]
fn completion_and_examples_in_every_help() {
    let mp = common::Minipod::new("help");
    let bash = mp.ok(&["completion", "bash"]);
    assert!(
        bash.contains("_minipod") && bash.contains("port-forward"),
        "bash completion"
    );
    for shell in ["zsh", "fish"] {
        assert!(mp.ok(&["completion", shell]).contains("minipod"));
    }
    for verb in [
        "apply",
        "create",
        "replace",
        "get",
        "describe",
        "delete",
        "logs",
        "exec",
        "port-forward",
        "completion",
    ] {
        let help = mp.ok(&[verb, "--help"]);
        assert!(
            help.contains("Example:"),
            "`minipod {verb} --help` has no example"
        );
    }
}
