//! Faults: damaged records, interrupted commands, a supervisor killed at the worst
//! time, records that lie. Each affects only its own pod, and `delete` still leaves
//! nothing behind.

mod common;
use common::pods::{ignores_sigterm, processes_mentioning, PodEnv};
use common::process::alive;
use common::spawned::SpawnGuarded as _;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::path::{Path, PathBuf};
use std::process::Command;

fn uid(env: &PodEnv, name: &str) -> String {
    env.pod_json(name)["metadata"]["uid"]
        .as_str()
        .expect("uid")
        .to_string()
}

/// Every process whose cgroup is the pod's, or that is a child of one of `parents`.
fn pod_processes(uid: &str) -> Vec<i32> {
    let needle = format!("/pod{uid}");
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
                .is_ok_and(|t| t.contains(&needle))
        })
        .collect()
}

fn pod_cgroups(uid: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for base in [
        "/sys/fs/cgroup/minipod",
        "/sys/fs/cgroup/memory/minipod",
        "/sys/fs/cgroup/cpu/minipod",
    ] {
        let dir = Path::new(base).join(format!("pod{uid}"));
        if dir.exists() {
            found.push(dir);
        }
    }
    found
}

/// The bridge plugin's masquerade rules for pod `uid` (they name the pod's id) in
/// the test's network namespace.
fn pod_nat_rules(env: &PodEnv, uid: &str) -> Vec<String> {
    env.mp
        .ns()
        .nat_rules_of_pods()
        .into_iter()
        .filter(|l| l.contains(uid))
        .collect()
}

fn assert_nothing_left(env: &PodEnv, uids: &[String], pids: &[i32]) {
    for uid in uids {
        assert!(pod_processes(uid).is_empty(), "processes of pod {uid} left");
        assert!(pod_cgroups(uid).is_empty(), "cgroups of pod {uid} left");
        let rules = pod_nat_rules(env, uid);
        assert!(rules.is_empty(), "NAT rules of pod {uid} left: {rules:?}");
    }
    for pid in pids {
        assert!(!alive(*pid), "process {pid} survived");
    }
    for dir in ["run/pods", "pods", "log/pods", "run/names/default"] {
        let left = common::list_dir(&env.root().join(dir));
        assert!(left.is_empty(), "{dir} holds {left:?}");
    }
}

#[test]
fn a_damaged_record_affects_only_its_own_pod() {
    let env = PodEnv::new("faults-damaged");
    for name in ["empty-status", "cut-record", "bad-event"] {
        env.ok(&[
            "apply",
            "-f",
            &env.manifest(&format!("{name}.yaml"), &ignores_sigterm(name, 1)),
        ]);
    }
    let uids: Vec<String> = ["empty-status", "cut-record"]
        .iter()
        .map(|n| uid(&env, n))
        .collect();
    let sups: Vec<i32> = ["empty-status", "cut-record"]
        .iter()
        .map(|n| env.status(n)["supervisor"]["pid"].as_i64().unwrap() as i32)
        .collect();
    let run = env.root().join("run/pods");
    // A live supervisor writes its status again at its next change: the status stays
    // damaged once it crashed (a crash mid-write on a file system without rename).
    kill(Pid::from_raw(sups[0]), Signal::SIGKILL).unwrap();
    env.wait_for(5, "the supervisor is gone", || !alive(sups[0]));
    std::fs::write(run.join(&uids[0]).join("status.json"), b"").unwrap();
    let record = std::fs::read(run.join(&uids[1]).join("pod.json")).unwrap();
    std::fs::write(
        run.join(&uids[1]).join("pod.json"),
        &record[..record.len() / 2],
    )
    .unwrap();
    let bad = run.join(uid(&env, "bad-event")).join("events.jsonl");
    let mut events = std::fs::read_to_string(&bad).unwrap();
    events.insert_str(0, "{not json\n");
    std::fs::write(&bad, events).unwrap();

    // Every other pod is unaffected; the damaged ones are listed, Unknown.
    assert_eq!(env.row("bad-event")[1..3], ["1/1", "Running"]);
    assert_eq!(env.row("empty-status")[2], "Unknown");
    assert_eq!(env.row("cut-record")[2], "Unknown");
    let described = env.ok(&["describe", "pod", "bad-event"]);
    assert!(described.contains("Scheduled"), "{described}");
    assert!(env.ok(&["logs", "bad-event"]).contains("tick"));
    let all_events = env.ok(&["get", "events"]);
    assert!(all_events.contains("Scheduled"), "{all_events}");

    // Both damaged pods are deletable, and leave nothing.
    let out = env.ok(&["delete", "pod", "empty-status", "cut-record"]);
    assert_eq!(
        out.trim(),
        "pod \"empty-status\" deleted\npod \"cut-record\" deleted"
    );
    env.ok(&["delete", "pod", "bad-event"]);
    assert_nothing_left(&env, &uids, &sups);
}

#[test]
fn records_that_lie_are_checked_against_proc() {
    let env = PodEnv::new("faults-lies");
    env.ok(&[
        "apply",
        "-f",
        &env.manifest("lost.yaml", &ignores_sigterm("lost", 1)),
    ]);
    env.ok(&[
        "apply",
        "-f",
        &env.manifest("unnamed.yaml", &ignores_sigterm("unnamed", 1)),
    ]);
    env.ok(&[
        "apply",
        "-f",
        &env.manifest("forged.yaml", &ignores_sigterm("forged", 1)),
    ]);
    let uids: Vec<String> = ["lost", "unnamed", "forged"]
        .iter()
        .map(|n| uid(&env, n))
        .collect();
    let run = env.root().join("run/pods");

    // The status lost the supervisor's PID: delete still stops the pod.
    let lost_sup = env.status("lost")["supervisor"]["pid"].as_i64().unwrap() as i32;
    let mut st = env.status("lost");
    st.as_object_mut().unwrap().remove("supervisor");
    std::fs::write(run.join(&uids[0]).join("status.json"), st.to_string()).unwrap();
    env.ok(&["delete", "pod", "lost"]);
    assert!(!alive(lost_sup), "the supervisor of a deleted pod runs on");

    // The name link is gone: the pod is still found (and named again), never twice.
    std::fs::remove_file(env.root().join("run/names/default/unnamed")).unwrap();
    assert_eq!(env.pods(), ["forged", "unnamed"]);
    let again = env.ok(&[
        "apply",
        "-f",
        &env.root().join("unnamed.yaml").display().to_string(),
    ]);
    assert_eq!(again.trim(), "pod/unnamed unchanged");
    assert_eq!(common::list_dir(&run).len(), 2, "one record per pod");

    // A forged PID with the right start time: an unrelated process is never signalled.
    let mut bystander = Command::new("sleep").arg("1000").spawn_guarded();
    let bystander_pid = bystander.id() as i32;
    let start: u64 = std::fs::read_to_string(format!("/proc/{bystander_pid}/stat"))
        .unwrap()
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .nth(19)
        .unwrap()
        .parse()
        .unwrap();
    let forged_sup = env.status("forged")["supervisor"]["pid"].as_i64().unwrap() as i32;
    kill(Pid::from_raw(forged_sup), Signal::SIGKILL).unwrap();
    env.wait_for(5, "the supervisor is gone", || !alive(forged_sup));
    let mut st = env.status("forged");
    let fake = serde_json::json!({"pid": bystander_pid, "startTime": start});
    st["supervisor"] = fake.clone();
    st["infra"] = fake.clone();
    st["containerStatuses"][0]["process"] = fake;
    std::fs::write(run.join(&uids[2]).join("status.json"), st.to_string()).unwrap();
    env.ok(&["delete", "pod", "forged", "unnamed"]);
    assert!(alive(bystander_pid), "delete killed an unrelated process");
    bystander.kill().unwrap();
    bystander.wait().unwrap();
    assert_nothing_left(&env, &uids, &[]);
}

#[test]
fn a_supervisor_killed_while_apply_waits_leaves_no_orphan() {
    let env = PodEnv::new("faults-orphan");
    let manifest = env.manifest("orphan.yaml", &ignores_sigterm("orphan", 1));
    let mut apply = env
        .mp
        .command(&[])
        .args(["apply", "-f", &manifest])
        .env_remove("MINIPOD_ROOT")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn_guarded();
    // The supervisor, as soon as its infra process runs: kill -9 it.
    let root = env.root().display().to_string();
    let mut shim = 0;
    let mut infra = 0;
    env.wait_for(20, "the pod's infra process", || {
        for pid in processes_mentioning(&root) {
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let argv0 = cmd.split(|b| *b == 0).next().unwrap_or_default();
            if argv0.ends_with(b"/minipod-shim") {
                shim = pid;
            }
        }
        infra = children(shim)
            .into_iter()
            .find(|c| {
                std::fs::read(format!("/proc/{c}/cmdline"))
                    .unwrap_or_default()
                    .starts_with(b"minipod-pause")
            })
            .unwrap_or(0);
        infra != 0
    });
    let uid = common::list_dir(&env.root().join("run/pods")).remove(0);
    kill(Pid::from_raw(shim), Signal::SIGKILL).unwrap();
    let _ = apply.wait();
    // Whether apply saw its pod start or not: delete finds all that is left.
    if env.pods().contains(&"orphan".to_string()) {
        env.ok(&["delete", "pod", "orphan"]);
    }
    assert_nothing_left(&env, &[uid], &[shim, infra]);
}

fn children(parent: i32) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| {
                    s.rsplit(')')
                        .next()
                        .and_then(|r| r.split_whitespace().nth(1))
                        .and_then(|p| p.parse::<i32>().ok())
                })
                == Some(parent)
        })
        .collect()
}

#[test]
fn interrupted_commands_are_carried_through_or_cleaned_up() {
    let env = PodEnv::new("faults-interrupt");
    let manifest = env.manifest("x.yaml", &ignores_sigterm("x", 2));
    for (signal, delay) in [
        ("INT", "0.003"),
        ("TERM", "0.005"),
        ("KILL", "0.004"),
        ("INT", "0.007"),
        ("KILL", "0.002"),
        ("TERM", "0.02"),
    ] {
        let _ = env
            .mp
            .ns()
            .command("timeout")
            .args(["-s", signal, delay, env!("CARGO_BIN_EXE_minipod"), "--root"])
            .arg(env.root())
            .args(["apply", "-f", &manifest])
            .env_remove("MINIPOD_ROOT")
            .output()
            .unwrap();
        // An accepted pod starts; a half-made one is cleaned by the next command.
        std::thread::sleep(std::time::Duration::from_secs(4));
        let pods = env.pods();
        if pods.contains(&"x".to_string()) {
            env.wait_for(
                30,
                &format!("x runs after apply got SIG{signal} at {delay}s"),
                || env.row("x").get(1..3) == Some(&["1/1".to_string(), "Running".to_string()][..]),
            );
            let uid = uid(&env, "x");
            env.ok(&["delete", "pod", "x", "--grace-period=0", "--force"]);
            assert_nothing_left(&env, &[uid], &[]);
        } else {
            assert!(pods.is_empty(), "{pods:?}");
            assert_nothing_left(&env, &[], &[]);
        }
    }

    // A delete interrupted once it asked: the deletion still finishes.
    env.ok(&["apply", "-f", &manifest]);
    let uid = uid(&env, "x");
    let _ = env
        .mp
        .ns()
        .command("timeout")
        .args(["-s", "INT", "0.3", env!("CARGO_BIN_EXE_minipod"), "--root"])
        .arg(env.root())
        .args(["delete", "pod", "x"])
        .env_remove("MINIPOD_ROOT")
        .output()
        .unwrap();
    env.wait_for(20, "the interrupted deletion finishes", || {
        env.pods().is_empty()
    });
    assert_nothing_left(&env, &[uid], &[]);
}

/// Unmounts the test's tmpfs however the test ends, once its pods are deleted (their
/// records are on it).
struct Mounted<'a>(&'a PodEnv, PathBuf);

impl Drop for Mounted<'_> {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.1.join("filler"));
        for name in self.0.pods() {
            let _ = self
                .0
                .run(&["delete", "pod", &name, "--grace-period=0", "--force"]);
        }
        let _ = nix::mount::umount2(&self.1, nix::mount::MntFlags::MNT_DETACH);
    }
}

#[test]
fn a_full_disk_stops_status_writes_not_the_pod() {
    let env = PodEnv::new("faults-full");
    // The records' directory on a small tmpfs of its own, which the test fills.
    let run = env.root().join("run");
    std::fs::create_dir_all(&run).unwrap();
    nix::mount::mount(
        Some("tmpfs"),
        &run,
        Some("tmpfs"),
        nix::mount::MsFlags::empty(),
        Some("size=4m"),
    )
    .unwrap();
    let _mounted = Mounted(&env, run.clone());
    env.ok(&[
        "apply",
        "-f",
        &env.manifest("full.yaml", &ignores_sigterm("full", 1)),
    ]);
    let uid = uid(&env, "full");
    let sup = env.status("full")["supervisor"]["pid"].as_i64().unwrap() as i32;
    let main = env.container_pid("full", "main");

    // Fill the disk: the supervisor writes its status every second (the container
    // ticks) and fails.
    let filler = run.join("filler");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        while f.write_all(&chunk).is_ok() {}
    }
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert!(alive(sup), "the supervisor exited on a full disk");
    assert!(alive(main), "the container died with the disk full");
    let pod_dir = run.join("pods").join(&uid);
    let temps: Vec<String> = common::list_dir(&pod_dir)
        .into_iter()
        .filter(|f| f.contains(".tmp."))
        .collect();
    assert!(temps.is_empty(), "temporary files left: {temps:?}");
    assert_eq!(env.row("full")[1..3], ["1/1", "Running"]);

    // Space again: the status is written again, and the pod says what happened.
    std::fs::remove_file(&filler).unwrap();
    env.wait_for(20, "the status written again", || {
        env.ok(&["describe", "pod", "full"])
            .contains("StatusWritten")
    });
    env.ok(&["delete", "pod", "full"]);
    assert!(!alive(sup) && !alive(main));
    assert!(pod_processes(&uid).is_empty() && pod_cgroups(&uid).is_empty());
}

#[test]
fn with_its_supervisor_gone_describe_reads_the_containers_from_proc() {
    let env = PodEnv::new("faults-proc");
    env.ok(&[
        "apply",
        "-f",
        &env.manifest("gone.yaml", &ignores_sigterm("gone", 1)),
    ]);
    let uid = uid(&env, "gone");
    let sup = env.status("gone")["supervisor"]["pid"].as_i64().unwrap() as i32;
    let main = env.container_pid("gone", "main");
    kill(Pid::from_raw(sup), Signal::SIGKILL).unwrap();
    env.wait_for(5, "the supervisor is gone", || !alive(sup));
    kill(Pid::from_raw(main), Signal::SIGKILL).unwrap();
    env.wait_for(5, "the container is gone", || !alive(main));
    let described = env.ok(&["describe", "pod", "gone"]);
    assert!(
        described.contains("ContainerStatusUnknown")
            && !described
                .lines()
                .any(|l| l.trim_start().starts_with("State:") && l.contains("Running")),
        "{described}"
    );
    // kubectl's STATUS shows the container's reason, as for a pod whose node is lost.
    assert_eq!(env.row("gone")[1..3], ["0/1", "ContainerStatusUnknown"]);
    env.ok(&["delete", "pod", "gone"]);
    assert_nothing_left(&env, &[uid], &[sup, main]);
}

/// What an `apply` killed (SIGKILL cannot be held back) at each point leaves, made by
/// hand so every point is tested: the next command carries it on or cleans it.
#[test]
fn what_a_killed_apply_left_is_carried_on_or_cleaned() {
    let env = PodEnv::new("faults-killed");
    let manifest = env.manifest("x.yaml", &ignores_sigterm("x", 1));
    env.ok(&["apply", "-f", &manifest]);
    let uid = uid(&env, "x");
    let run = env.root().join("run");
    let record = std::fs::read(run.join("pods").join(&uid).join("pod.json")).unwrap();
    env.ok(&["delete", "pod", "x", "--grace-period=0", "--force"]);
    let make = |files: &[(&str, &[u8])], link: bool| {
        let dir = run.join("pods").join(&uid);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, data) in files {
            std::fs::write(dir.join(name), data).unwrap();
        }
        if link {
            std::fs::create_dir_all(run.join("names/default")).unwrap();
            std::os::unix::fs::symlink(&dir, run.join("names/default/x")).unwrap();
        }
        // As old as a creation that will not go on by itself.
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(10);
        for f in common::list_dir(&dir)
            .iter()
            .map(|f| dir.join(f))
            .chain([dir.clone()])
        {
            std::fs::File::open(&f)
                .unwrap()
                .set_times(std::fs::FileTimes::new().set_modified(old))
                .unwrap();
        }
    };
    // An empty directory; a name linked to a directory holding only images.json.
    make(&[], false);
    assert!(env.pods().is_empty());
    assert_nothing_left(&env, &[], &[]);
    make(&[("images.json", b"[]")], true);
    let out = env.run(&["get", "pod", "x"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("NotFound"));
    assert_nothing_left(&env, &[], &[]);
    // Recorded, but the supervisor never started: it starts now, and the pod runs.
    make(&[("images.json", b"[]"), ("pod.json", &record)], true);
    env.wait_for(30, "the recorded pod runs", || {
        env.row("x").get(1..3) == Some(&["1/1".to_string(), "Running".to_string()][..])
    });
    // A second apply finds it, never makes a second one.
    assert_eq!(
        env.ok(&["apply", "-f", &manifest]).trim(),
        "pod/x unchanged"
    );
    env.ok(&["delete", "pod", "x"]);
    assert_nothing_left(&env, &[uid], &[]);
}
