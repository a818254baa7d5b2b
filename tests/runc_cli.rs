//! `minipod-runc`: every verb of runc's command line, checked against what the OCI
//! runtime specification requires (runtime.md: state, create, start, kill, delete,
//! hooks) and runc's behaviour for the rest, including the error for each verb in a
//! wrong state. Each test has its own `--root` and bundles over the busybox image.

mod common;

use common::process::alive;
use common::runc::Runc;
use serde_json::Value;
use std::path::Path;

/// The state as runtime-spec's state-schema.json requires it.
fn assert_valid_state(state: &Value, id: &str, bundle: &Path) {
    let obj = state.as_object().expect("state is an object");
    assert!(obj["ociVersion"].as_str().unwrap().starts_with("1."));
    assert_eq!(obj["id"], id);
    let status = obj["status"].as_str().unwrap();
    assert!(
        ["creating", "created", "running", "stopped", "paused"].contains(&status),
        "{status}"
    );
    if status == "created" || status == "running" {
        assert!(
            obj["pid"].as_i64().unwrap() > 0,
            "a live container has a pid"
        );
    }
    assert_eq!(
        obj["bundle"],
        bundle.to_str().unwrap(),
        "bundle is the absolute path"
    );
    if let Some(a) = obj.get("annotations") {
        assert!(a.is_object());
    }
}

#[test]
fn create_waits_before_the_program_until_start() {
    let r = Runc::new("runc-lifecycle");
    let bundle = r.bundle(
        "b",
        &["sh", "-c", "echo started > /tmp/started; exec sleep 1000"],
        |c| {
            c["annotations"] = serde_json::json!({"org.example/key": "value"});
        },
    );
    let pid_file = r.dir.path.join("pid");
    r.ok(&[
        "create",
        "--bundle",
        bundle.to_str().unwrap(),
        "--pid-file",
        pid_file.to_str().unwrap(),
        "c1",
    ]);
    let state = r.state("c1");
    assert_valid_state(&state, "c1", &bundle);
    assert_eq!(state["status"], "created");
    assert_eq!(state["annotations"]["org.example/key"], "value");
    let pid: i64 = std::fs::read_to_string(&pid_file).unwrap().parse().unwrap();
    assert_eq!(state["pid"], pid);
    assert!(alive(pid));
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(
        !bundle.join("out/started").exists(),
        "the program ran before start"
    );
    // The same id again is an error.
    let err = r.fails(&["create", "--bundle", bundle.to_str().unwrap(), "c1"]);
    assert!(err.contains("already exists"), "{err}");

    r.ok(&["start", "c1"]);
    assert_eq!(r.status("c1"), "running");
    for _ in 0..500 {
        if bundle.join("out/started").exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(bundle.join("out/started").exists(), "start ran the program");
    let err = r.fails(&["start", "c1"]);
    assert!(err.contains("it is running"), "{err}");

    // delete of a running container fails and changes nothing.
    let err = r.fails(&["delete", "c1"]);
    assert!(err.contains("it is running"), "{err}");
    assert_eq!(r.status("c1"), "running");
    assert!(alive(pid));

    r.ok(&["kill", "c1", "KILL"]);
    r.wait_status("c1", "stopped");
    let state = r.state("c1");
    assert_valid_state(&state, "c1", &bundle);
    assert!(state.get("pid").is_none(), "a stopped container has no pid");
    let err = r.fails(&["kill", "c1", "TERM"]);
    assert!(err.contains("it is stopped"), "{err}");
    let err = r.fails(&["start", "c1"]);
    assert!(err.contains("it is stopped"), "{err}");

    r.ok(&["delete", "c1"]);
    assert!(!r.root().join("c1").exists(), "state directory removed");
    assert!(
        !Path::new("/sys/fs/cgroup/pids/c1").exists() && !Path::new("/sys/fs/cgroup/c1").exists(),
        "cgroup removed"
    );
    let err = r.fails(&["state", "c1"]);
    assert!(err.contains("does not exist"), "{err}");
    let err = r.fails(&["delete", "c1"]);
    assert!(err.contains("does not exist"), "{err}");
    r.ok(&["delete", "--force", "c1"]);
}

#[test]
fn state_is_stopped_after_the_program_exits_and_delete_force_kills() {
    let r = Runc::new("runc-stopped");
    let bundle = r.bundle("b", &["true"], |_| {});
    r.ok(&[
        "run",
        "--detach",
        "--bundle",
        bundle.to_str().unwrap(),
        "quick",
    ]);
    r.wait_status("quick", "stopped");
    r.ok(&["delete", "quick"]);

    let bundle = r.bundle("b2", &["sleep", "1000"], |_| {});
    r.ok(&["run", "-d", "-b", bundle.to_str().unwrap(), "slow"]);
    let pid = r.state("slow")["pid"].as_i64().unwrap();
    r.ok(&["delete", "--force", "slow"]);
    assert!(!alive(pid), "delete --force killed the process");
    assert!(r.ok(&["list", "-q"]).trim().is_empty());
}

#[test]
fn kill_sends_the_signal_and_all_reaches_every_process() {
    let r = Runc::new("runc-kill");
    // The shell traps TERM and writes that it got it.
    let bundle = r.bundle(
        "b",
        &[
            "sh",
            "-c",
            "trap 'echo term > /tmp/got; exit 0' TERM; sleep 1000 & sleep 1000 & while true; do sleep 0.05; done",
        ],
        |_| {},
    );
    r.ok(&["run", "-d", "-b", bundle.to_str().unwrap(), "k"]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    r.ok(&["kill", "k", "15"]);
    r.wait_status("k", "stopped");
    assert_eq!(
        std::fs::read_to_string(bundle.join("out/got"))
            .unwrap()
            .trim(),
        "term"
    );
    r.ok(&["delete", "k"]);

    let bundle = r.bundle("b2", &["sh", "-c", "sleep 1000 & sleep 1000"], |_| {});
    r.ok(&["run", "-d", "-b", bundle.to_str().unwrap(), "k2"]);
    // The shell forks its background sleep a moment after the container starts.
    let mut pids: Vec<i64> = Vec::new();
    for _ in 0..100 {
        pids = serde_json::from_str(&r.ok(&["ps", "--format", "json", "k2"])).unwrap();
        if pids.len() >= 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(pids.len() >= 2, "{pids:?}");
    r.ok(&["kill", "--all", "k2", "SIGKILL"]);
    r.wait_status("k2", "stopped");
    for pid in pids {
        for _ in 0..200 {
            if !alive(pid) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(!alive(pid), "kill --all missed {pid}");
    }
    let err = r.fails(&["kill", "k2", "NOSUCHSIGNAL"]);
    assert!(err.contains("unknown signal"), "{err}");
    r.ok(&["delete", "k2"]);
}

#[test]
fn hooks_run_in_order_with_the_state_on_stdin() {
    let r = Runc::new("runc-hooks");
    let log = r.dir.path.join("hooks.log");
    // Host-side hooks append their name and stdin to a host file.
    let host_hook = |name: &str| {
        serde_json::json!({
            "path": "/bin/sh",
            "args": ["sh", "-c", format!("printf '{name} ' >> {0}; cat >> {0}; echo >> {0}", log.display())],
        })
    };
    let bundle = r.bundle("b", &["sh", "-c", "echo program >> /tmp/container.log"], |c| {
        c["hooks"] = serde_json::json!({
            "prestart": [host_hook("prestart")],
            "createRuntime": [host_hook("createRuntime")],
            "createContainer": [host_hook("createContainer")],
            // Resolved in the container: busybox's sh, writing to its /tmp.
            "startContainer": [{
                "path": "/bin/sh",
                "args": ["sh", "-c", "printf 'startContainer ' >> /tmp/container.log; cat >> /tmp/container.log; echo >> /tmp/container.log"],
            }],
            "poststart": [host_hook("poststart")],
            "poststop": [host_hook("poststop")],
        });
    });
    r.ok(&["create", "-b", bundle.to_str().unwrap(), "h"]);
    let text = std::fs::read_to_string(&log).unwrap();
    let names: Vec<&str> = text.lines().map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(names, ["prestart", "createRuntime", "createContainer"]);
    for line in text.lines() {
        let state: Value = serde_json::from_str(line.split_once(' ').unwrap().1).unwrap();
        assert_eq!(state["id"], "h");
        assert_eq!(state["bundle"], bundle.to_str().unwrap());
        assert!(state["pid"].as_i64().unwrap() > 0);
    }
    r.ok(&["start", "h"]);
    r.wait_status("h", "stopped");
    let inside = std::fs::read_to_string(bundle.join("out/container.log")).unwrap();
    let lines: Vec<&str> = inside.lines().collect();
    assert!(lines[0].starts_with("startContainer {"), "{inside}");
    assert_eq!(
        lines[1], "program",
        "startContainer runs before the program"
    );
    r.ok(&["delete", "h"]);
    let text = std::fs::read_to_string(&log).unwrap();
    let names: Vec<&str> = text.lines().map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(
        names,
        [
            "prestart",
            "createRuntime",
            "createContainer",
            "poststart",
            "poststop"
        ]
    );
    let poststop: Value =
        serde_json::from_str(text.lines().last().unwrap().split_once(' ').unwrap().1).unwrap();
    assert_eq!(poststop["status"], "stopped");
}

#[test]
fn a_failing_create_hook_stops_the_container_and_leaves_nothing() {
    let r = Runc::new("runc-hookfail");
    let bundle = r.bundle("b", &["sleep", "1000"], |c| {
        c["hooks"] = serde_json::json!({"createRuntime": [{"path": "/bin/false"}]});
    });
    let err = r.fails(&["create", "-b", bundle.to_str().unwrap(), "bad"]);
    assert!(err.contains("createRuntime hook /bin/false"), "{err}");
    assert!(!r.root().join("bad").exists());
    assert!(!Path::new("/sys/fs/cgroup/pids/bad").exists());
    // A hook that outlives its timeout is killed, and create fails.
    let bundle = r.bundle("b3", &["sleep", "1000"], |c| {
        c["hooks"] = serde_json::json!({"prestart": [
            {"path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1}
        ]});
    });
    let err = r.fails(&["create", "-b", bundle.to_str().unwrap(), "slow"]);
    assert!(err.contains("within its timeout of 1 s"), "{err}");
    assert!(!r.root().join("slow").exists());
    // A program that does not exist fails create, not start.
    let bundle = r.bundle("b2", &["no-such-program"], |_| {});
    let err = r.fails(&["create", "-b", bundle.to_str().unwrap(), "missing"]);
    assert!(err.contains("no-such-program"), "{err}");
    assert!(!r.root().join("missing").exists());
}

#[test]
fn pause_freezes_and_resume_thaws() {
    let r = Runc::new("runc-pause");
    let bundle = r.bundle(
        "b",
        &[
            "sh",
            "-c",
            // Each tick written whole (a rename), so a reader never sees half of one.
            "i=0; while true; do i=$((i+1)); echo $i > /tmp/t.new; mv /tmp/t.new /tmp/tick; sleep 0.02; done",
        ],
        |_| {},
    );
    r.ok(&["run", "-d", "-b", bundle.to_str().unwrap(), "p"]);
    // The program has begun ticking (bounded wait) before it is paused.
    let tick = bundle.join("out/tick");
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !tick.exists() && std::time::Instant::now() < until {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let err = r.fails(&["resume", "p"]);
    assert!(err.contains("it is running"), "{err}");
    r.ok(&["pause", "p"]);
    assert_eq!(r.status("p"), "paused");
    let err = r.fails(&["pause", "p"]);
    assert!(err.contains("it is paused"), "{err}");
    let err = r.fails(&["delete", "p"]);
    assert!(err.contains("it is paused"), "{err}");
    let before = std::fs::read_to_string(bundle.join("out/tick")).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(
        std::fs::read_to_string(bundle.join("out/tick")).unwrap(),
        before,
        "a paused container does nothing"
    );
    r.ok(&["resume", "p"]);
    assert_eq!(r.status("p"), "running");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_ne!(
        std::fs::read_to_string(bundle.join("out/tick")).unwrap(),
        before
    );
    r.ok(&["pause", "p"]);
    r.ok(&["delete", "--force", "p"]);
}

#[test]
fn update_writes_new_limits_into_the_cgroup() {
    let r = Runc::new("runc-update");
    let bundle = r.bundle("b", &["sleep", "1000"], |c| {
        c["linux"]["cgroupsPath"] = "/minipod-test-update".into();
    });
    r.ok(&["run", "-d", "-b", bundle.to_str().unwrap(), "u"]);
    let resources = r.dir.path.join("resources.json");
    std::fs::write(
        &resources,
        br#"{"memory": {"limit": 67108864}, "pids": {"limit": 42}}"#,
    )
    .unwrap();
    r.ok(&["update", "--resources", resources.to_str().unwrap(), "u"]);
    let read = |v1: &str, v2: &str| {
        std::fs::read_to_string(v1)
            .or_else(|_| std::fs::read_to_string(v2))
            .unwrap()
            .trim()
            .to_string()
    };
    assert_eq!(
        read(
            "/sys/fs/cgroup/memory/minipod-test-update/memory.limit_in_bytes",
            "/sys/fs/cgroup/minipod-test-update/memory.max"
        ),
        "67108864"
    );
    assert_eq!(
        read(
            "/sys/fs/cgroup/pids/minipod-test-update/pids.max",
            "/sys/fs/cgroup/minipod-test-update/pids.max"
        ),
        "42"
    );
    r.ok(&["update", "--pids-limit", "50", "u"]);
    assert_eq!(
        read(
            "/sys/fs/cgroup/pids/minipod-test-update/pids.max",
            "/sys/fs/cgroup/minipod-test-update/pids.max"
        ),
        "50"
    );
    r.ok(&["delete", "--force", "u"]);
    assert!(!Path::new("/sys/fs/cgroup/pids/minipod-test-update").exists());
    let err = r.fails(&["update", "--pids-limit", "5", "u"]);
    assert!(err.contains("does not exist"), "{err}");
}

#[test]
fn run_waits_and_exits_with_the_program_status() {
    let r = Runc::new("runc-run");
    let bundle = r.bundle("b", &["sh", "-c", "echo out; echo err >&2; exit 3"], |_| {});
    let out = r.run(&["run", "-b", bundle.to_str().unwrap(), "fg"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "out\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "err\n");
    assert!(!r.root().join("fg").exists(), "run deletes its container");
}

#[test]
fn list_spec_and_features() {
    let r = Runc::new("runc-list");
    assert_eq!(r.ok(&["list", "--format", "json"]).trim(), "[]");
    let bundle = r.bundle("b", &["sleep", "1000"], |_| {});
    r.ok(&["create", "-b", bundle.to_str().unwrap(), "l1"]);
    r.ok(&["run", "-d", "-b", bundle.to_str().unwrap(), "l2"]);
    let table = r.ok(&["list"]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("ID") && lines[0].contains("STATUS"),
        "{table}"
    );
    assert!(
        lines[1].starts_with("l1") && lines[1].contains("created"),
        "{table}"
    );
    assert!(
        lines[2].starts_with("l2") && lines[2].contains("running"),
        "{table}"
    );
    let list: Vec<Value> = serde_json::from_str(&r.ok(&["list", "-f", "json"])).unwrap();
    assert_eq!(list.len(), 2);
    assert_valid_state(&list[0], "l1", &bundle);
    assert_eq!(r.ok(&["list", "-q"]), "l1\nl2\n");
    r.ok(&["delete", "l1"]);
    r.ok(&["delete", "-f", "l2"]);

    // spec: runc's default, never over an existing file.
    let dir = r.dir.path.join("fresh");
    std::fs::create_dir_all(&dir).unwrap();
    r.ok(&["spec", "-b", dir.to_str().unwrap()]);
    let config: Value =
        serde_json::from_slice(&std::fs::read(dir.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["process"]["terminal"], true);
    assert_eq!(config["root"]["path"], "rootfs");
    let err = r.fails(&["spec", "-b", dir.to_str().unwrap()]);
    assert!(err.contains("already exists"), "{err}");

    let features: Value = serde_json::from_str(&r.ok(&["features"])).unwrap();
    assert_eq!(features["ociVersionMin"], "1.0.0");
    assert_eq!(features["hooks"].as_array().unwrap().len(), 6);
    let namespaces = features["linux"]["namespaces"].as_array().unwrap();
    // The runtime layer creates (or joins) a user namespace since securityContext's
    // hostUsers: false, so `user` is listed with the others.
    assert!(namespaces.contains(&"network".into()) && namespaces.contains(&"user".into()));
    assert!(features["mountOptions"]
        .as_array()
        .unwrap()
        .contains(&"rbind".into()));
    assert!(features["linux"]["seccomp"]["actions"]
        .as_array()
        .unwrap()
        .contains(&"SCMP_ACT_ERRNO".into()));
    assert_eq!(features["linux"]["cgroup"]["systemd"], false);
}

#[test]
fn global_flags_as_containerd_and_podman_pass_them() {
    let r = Runc::new("runc-globals");
    let log = r.dir.path.join("runc.log");
    let out = r.run(&[
        "--log",
        log.to_str().unwrap(),
        "--log-format",
        "json",
        "state",
        "nope",
    ]);
    assert!(!out.status.success());
    let line: Value = serde_json::from_str(
        std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .last()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(line["level"], "error");
    assert_eq!(line["msg"], "container \"nope\" does not exist");
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));

    // No systemd on the host: refused, in one line that says why, before anything.
    assert!(
        !Path::new("/run/systemd/system").exists(),
        "this test expects a host without systemd"
    );
    let bundle = r.bundle("sd", &["true"], |_| {});
    for flags in [
        &["--systemd-cgroup"][..],
        &["--cgroup-manager", "systemd"][..],
    ] {
        let mut args = flags.to_vec();
        args.extend(["run", "-b", bundle.to_str().unwrap(), "sd"]);
        let out = r.run(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        assert!(
            err.contains("--systemd-cgroup: this host does not run systemd"),
            "{err}"
        );
        assert!(!r.root().join("sd").exists(), "nothing created");
    }
    r.ok(&["--cgroup-manager", "cgroupfs", "list"]);
    let err = r.fails(&["state", "../escape"]);
    assert!(err.contains("invalid container id"), "{err}");

    // --debug: the runtime's kernel steps, in the log.
    let bundle = r.bundle("b", &["true"], |_| {});
    let debug_log = r.dir.path.join("debug.log");
    r.ok(&[
        "--debug",
        "--log",
        debug_log.to_str().unwrap(),
        "run",
        "-b",
        bundle.to_str().unwrap(),
        "d",
    ]);
    let text = std::fs::read_to_string(&debug_log).unwrap();
    assert!(text.contains("pivot_root"), "{text}");
}

#[test]
fn the_cgroup_mount_shows_the_container_its_own_cgroups_only() {
    let r = Runc::new("runc-cgroupfs");
    let v1 = !Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    let limit = 48 * 1024 * 1024;
    let script = if v1 {
        "ls /sys/fs/cgroup | tr '\\n' ' '; echo; \
         cat /sys/fs/cgroup/memory/memory.limit_in_bytes; \
         cat /sys/fs/cgroup/pids/cgroup.procs | tr '\\n' ' '; echo; \
         ls /sys/fs/cgroup/memory/ | grep -c '^memory.limit_in_bytes$'; \
         echo 1 > /sys/fs/cgroup/memory/memory.limit_in_bytes && echo wrote; \
         mkdir /sys/fs/cgroup/memory/escape && echo made; \
         grep -c ' /sys/fs/cgroup/' /proc/self/mountinfo; true"
    } else {
        "ls /sys/fs/cgroup | grep -c .; cat /sys/fs/cgroup/memory.max; \
         cat /sys/fs/cgroup/cgroup.procs | tr '\\n' ' '; echo; true"
    };
    for (n, cgroupns) in [true, false].into_iter().enumerate() {
        let bundle = r.bundle(&format!("b{n}"), &["sh", "-c", script], |c| {
            c["linux"]["resources"]["memory"] = serde_json::json!({"limit": limit});
            if !cgroupns {
                c["linux"]["namespaces"]
                    .as_array_mut()
                    .unwrap()
                    .retain(|ns| ns["type"] != "cgroup");
            }
        });
        let id = format!("cg{n}");
        let host_limit_before =
            std::fs::read_to_string("/sys/fs/cgroup/memory/memory.limit_in_bytes").ok();
        let out = r.run(&["run", "-b", bundle.to_str().unwrap(), &id]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{text}{err}");
        let lines: Vec<&str> = text.lines().collect();
        if v1 {
            // Each hierarchy it has a cgroup in; not cpuset/blkio/systemd/unified,
            // whose root would be the host's.
            let names: Vec<&str> = lines[0].split_whitespace().collect();
            for name in ["memory", "pids", "devices", "freezer"] {
                assert!(names.contains(&name), "{name} in {names:?}");
            }
            for name in ["cpuset", "blkio", "systemd", "unified"] {
                assert!(!names.contains(&name), "{name} in {names:?}");
            }
            assert_eq!(lines[1], limit.to_string(), "its own limit: {text}");
            // Its own cgroup's processes (sh, cat, tr as the container sees them).
            let pids: Vec<&str> = lines[2].split_whitespace().collect();
            assert!(pids.contains(&"1"), "the container's PID 1: {text}");
            assert_eq!(lines[3], "1");
            assert!(!text.contains("wrote") && !text.contains("made"), "{text}");
            assert!(err.contains("Read-only file system"), "{err}");
        } else {
            assert_eq!(lines[1], limit.to_string(), "{text}");
        }
        // The host's hierarchy root was not changed through it.
        assert_eq!(
            std::fs::read_to_string("/sys/fs/cgroup/memory/memory.limit_in_bytes").ok(),
            host_limit_before
        );
        assert!(!Path::new("/sys/fs/cgroup/memory/escape").exists());
    }
}
