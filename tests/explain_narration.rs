//! `apply --explain` tells the truth: the PIDs and `/proc/<pid>/ns/*` paths the
//! narration names are the running pod's, and every mount it names for a container is
//! in that container's mount table. `explain pod --steps` replays the same steps.

mod common;
use common::pods::{seed, PodEnv};
use serde_json::Value;

/// The mount point a narrated mount step names inside the container, if any:
/// `mount --bind SRC DEST`, `mount -t TYPE SRC DEST ...`, `mount -o remount,ro DEST`,
/// `mask PATH`.
fn mount_target(what: &str) -> Option<String> {
    let words: Vec<&str> = what.split_whitespace().collect();
    match words.as_slice() {
        ["mount", "--bind", _, dest, ..] => Some(dest.to_string()),
        ["mount", "-t", _, _, dest, ..] => Some(dest.to_string()),
        ["mount", "-o", _, dest, ..] => Some(dest.to_string()),
        ["mask", path, ..] => Some(path.to_string()),
        _ => None,
    }
}

/// The mount points of a process (column 5 of `/proc/PID/mountinfo`), as it sees them.
fn mount_points(pid: i32) -> Vec<String> {
    std::fs::read_to_string(format!("/proc/{pid}/mountinfo"))
        .expect("read mountinfo")
        .lines()
        .filter_map(|l| l.split(' ').nth(4).map(String::from))
        .collect()
}

#[test]
fn narration_names_the_real_processes_namespaces_and_mounts() {
    let env = PodEnv::new("explain-narration");
    let out = env.ok(&["apply", "-f", &seed("sidecar-pod.yaml"), "--explain=json"]);
    assert!(out.contains("pod/sidecar-pod created"), "{out}");
    let steps: Vec<Value> = out
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("each step is a JSON line"))
        .collect();
    assert!(steps.len() > 20, "a pod takes many steps: {steps:?}");

    let infra = env.infra_pid("sidecar-pod");
    let uid = env.pod_json("sidecar-pod")["metadata"]["uid"]
        .as_str()
        .expect("uid")
        .to_string();
    let supervisor = env.status("sidecar-pod")["supervisor"]["pid"]
        .as_i64()
        .expect("supervisor pid") as i32;
    let of = |who: &str| -> Vec<&Value> { steps.iter().filter(|s| s["who"] == who).collect() };
    let pid = |s: &Value| s["pid"].as_i64().expect("pid") as i32;

    // The infra's steps are made by the infra process.
    let infra_steps = of("infra");
    assert!(infra_steps.iter().any(|s| s["what"]
        .as_str()
        .is_some_and(|w| w.starts_with("unshare(NEWNET|NEWIPC|NEWUTS)"))));
    assert!(
        infra_steps.iter().all(|s| pid(s) == infra),
        "{infra_steps:?}"
    );
    assert!(of("pod").iter().all(|s| pid(s) == supervisor));

    for container in ["nginx", "log-reader"] {
        let pid1 = env.container_pid("sidecar-pod", container);
        let mine = of(container);
        // The container joins the infra's namespaces by their real paths.
        for kind in ["net", "ipc", "uts"] {
            let want = format!("setns(/proc/{infra}/ns/{kind})");
            assert!(
                mine.iter().any(|s| s["what"] == want.as_str()),
                "{container} narrates {want}: {mine:?}"
            );
            assert!(
                std::path::Path::new(&format!("/proc/{infra}/ns/{kind}")).exists(),
                "the path the narration names exists"
            );
        }
        // The process that executes the program is the container's PID 1.
        let exec = mine
            .iter()
            .find(|s| s["what"].as_str().is_some_and(|w| w.starts_with("execve(")))
            .expect("an execve step");
        assert_eq!(pid(exec), pid1, "execve by the container's PID 1");

        // Every mount the container's own process narrates is in its mount table.
        let points = mount_points(pid1);
        // Mounts on the rootfs before pivot_root are named by their host path; after
        // pivot_root the container sees that path as `/`.
        let rootfs = env
            .root()
            .join("run/pods")
            .join(&uid)
            .join("bundles")
            .join(container)
            .join("rootfs")
            .display()
            .to_string();
        let mut checked = 0;
        for s in mine.iter().filter(|s| pid(s) == pid1) {
            let what = s["what"].as_str().unwrap_or_default();
            if let Some(target) = mount_target(what) {
                let target = match target.strip_prefix(&rootfs) {
                    Some("") => "/".to_string(),
                    Some(inside) => inside.to_string(),
                    None => target,
                };
                assert!(
                    points.contains(&target),
                    "{container}: narrated `{what}` but {target} is not a mount point in /proc/{pid1}/mountinfo: {points:?}"
                );
                checked += 1;
            }
        }
        assert!(checked >= 10, "{container}: only {checked} mounts narrated");
        assert!(
            points.contains(&"/var/log/nginx".to_string()),
            "the emptyDir is mounted"
        );
    }

    // The pod keeps its steps: `explain pod --steps -o json` gives the same lines.
    let kept = env.ok(&["explain", "pod", "sidecar-pod", "--steps", "-o", "json"]);
    let kept: Vec<Value> = kept
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(kept, steps);
    let text = env.ok(&["explain", "pod", "sidecar-pod", "--steps"]);
    assert!(text.contains(&format!("setns(/proc/{infra}/ns/net)")));
}

/// A probe runs every second for the pod's whole life: its first run is narrated (how
/// it gets into the container), the later ones do not grow the pod's steps.
#[test]
fn a_recurring_exec_probe_does_not_grow_the_steps() {
    let env = PodEnv::new("explain-probe");
    let manifest = env.manifest(
        "probed.yaml",
        r#"
apiVersion: v1
kind: Pod
metadata: {name: probed}
spec:
  containers:
  - name: app
    image: busybox:1.36
    command: [sh, -c, "sleep 3600"]
    livenessProbe:
      exec: {command: [sh, -c, "echo run >> /tmp/probe-runs"]}
      periodSeconds: 1
"#,
    );
    env.ok(&["apply", "-f", &manifest]);
    let runs = || -> usize {
        let out = env.run(&[
            "exec",
            "probed",
            "--",
            "sh",
            "-c",
            "cat /tmp/probe-runs 2>/dev/null; true",
        ]);
        String::from_utf8_lossy(&out.stdout).lines().count()
    };
    let steps = || -> Vec<Value> {
        env.ok(&["explain", "pod", "probed", "--steps", "-o", "json"])
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON line"))
            .collect()
    };
    env.wait_for(60, "the probe ran twice", || runs() >= 2);
    let before = steps();
    let probe_steps = |steps: &[Value]| {
        steps
            .iter()
            .filter(|s| s["what"].as_str().is_some_and(|w| w.contains("echo run")))
            .count()
    };
    assert_eq!(
        probe_steps(&before),
        1,
        "the probe's first run is narrated, once: {before:?}"
    );
    let seen = runs();
    env.wait_for(60, "the probe ran four more times", || runs() >= seen + 4);
    let after = steps();
    assert_eq!(
        after.len(),
        before.len(),
        "probe runs added steps: {:?}",
        &after[before.len().min(after.len())..]
    );
    assert_eq!(env.row("probed")[2], "Running");
}

/// The infra's unshare step of `apply --explain=json` for a one-container pod with
/// `extra` in its spec: (what, why), and the infra's PID.
fn infra_unshare(env: &PodEnv, name: &str, extra: &str) -> (String, String, i32) {
    let (what, why) = unshare_of(env, name, extra, "infra");
    (what, why, env.infra_pid(name))
}

/// The unshare step of `who` (the infra, or container `c`) in `apply --explain=json`
/// of a one-container pod with `extra` in its spec: (what, why).
fn unshare_of(env: &PodEnv, name: &str, extra: &str, who: &str) -> (String, String) {
    let yaml = format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n  {extra}\n  terminationGracePeriodSeconds: 0\n  containers:\n  - name: c\n    image: busybox:1.36\n    command: [sleep, \"3600\"]\n"
    );
    let out = env.ok(&[
        "apply",
        "-f",
        &env.manifest(&format!("{name}.yaml"), &yaml),
        "--explain=json",
    ]);
    let step = out
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str::<Value>(l).expect("each step is a JSON line"))
        .find(|s| {
            s["who"] == who
                && s["what"]
                    .as_str()
                    .is_some_and(|w| w.starts_with("unshare("))
        })
        .unwrap_or_else(|| panic!("no unshare step of {who}:\n{out}"));
    (
        step["what"].as_str().unwrap_or_default().to_string(),
        step["why"].as_str().unwrap_or_default().to_string(),
    )
}

#[test]
fn the_infra_narrates_the_namespaces_it_really_makes_with_host_ipc_or_host_network() {
    let env = PodEnv::new("explain-host-ns");
    let test_ns = |kind: &str| common::pods::ns(std::process::id() as i32, kind);
    let test_net = env.mp.ns().in_it(|| {
        std::fs::read_link("/proc/thread-self/ns/net")
            .unwrap()
            .display()
            .to_string()
    });

    // hostIPC: the infra makes the network and hostname only; IPC stays the host's.
    let (what, why, infra) = infra_unshare(&env, "ipc", "hostIPC: true");
    assert!(what.starts_with("unshare(NEWNET|NEWUTS"), "{what}");
    assert_eq!(
        why,
        "the pod's network and hostname are born here; IPC stays the host's"
    );
    assert_eq!(common::pods::ns(infra, "ipc"), test_ns("ipc"));
    assert_ne!(common::pods::ns(infra, "uts"), test_ns("uts"));
    assert_ne!(common::pods::ns(infra, "net"), test_net);

    // hostNetwork: the network (and, as containerd does it, the hostname) stay the
    // host's; only IPC is born.
    let (what, why, infra) = infra_unshare(&env, "net", "hostNetwork: true");
    assert!(what.starts_with("unshare(NEWIPC"), "{what}");
    assert_eq!(
        why,
        "the pod's IPC is born here; network and hostname stay the host's"
    );
    assert_eq!(common::pods::ns(infra, "net"), test_net);
    assert_eq!(common::pods::ns(infra, "uts"), test_ns("uts"));
    assert_ne!(common::pods::ns(infra, "ipc"), test_ns("ipc"));

    // The usual pod: all three.
    let (what, why, _) = infra_unshare(&env, "plain", "hostPID: false");
    assert!(what.starts_with("unshare(NEWNET|NEWIPC|NEWUTS"), "{what}");
    assert_eq!(why, "the pod's network, IPC and hostname are born here");

    // hostPID: the container makes no PID namespace, and does not say it gets its own
    // PID 1.
    let (what, why) = unshare_of(&env, "pids", "hostPID: true", "c");
    assert!(
        what.starts_with("unshare(NEWNS") && !what.contains("NEWPID"),
        "{what}"
    );
    assert!(
        why.starts_with("a filesystem view of its own") && !why.contains("PID"),
        "{why}"
    );
    // Without it the container's own PID 1 is told.
    let (what, why) = unshare_of(&env, "ownpid", "hostPID: false", "c");
    assert!(what.contains("NEWPID"), "{what}");
    assert!(
        why.contains("its own PID 1")
            && why.ends_with("(a new PID namespace takes effect for children)"),
        "{why}"
    );

    // Once a hostIPC pod has ended, explain names the namespaces that went with it.
    let yaml = "apiVersion: v1\nkind: Pod\nmetadata: {name: done}\nspec:\n  hostIPC: true\n  restartPolicy: Never\n  containers:\n  - {name: c, image: busybox:1.36, command: [\"true\"]}\n";
    env.ok(&["apply", "-f", &env.manifest("done.yaml", yaml)]);
    env.wait_for(30, "done Completed", || {
        env.row("done").get(2).map(String::as_str) == Some("Completed")
    });
    // Its supervisor and then its infra die (SIGKILL): the namespaces are gone.
    let supervisor = env.status("done")["supervisor"]["pid"].as_i64().unwrap() as i32;
    let infra = env.infra_pid("done");
    for pid in [supervisor, infra] {
        let pid = nix::unistd::Pid::from_raw(pid);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL).unwrap();
    }
    env.wait_for(10, "the infra is gone", || !common::process::alive(infra));
    let explained = env.ok(&["explain", "pod", "done"]);
    assert!(
        explained.contains("is gone, and with it the pod's network and UTS namespaces:"),
        "{explained}"
    );
}
