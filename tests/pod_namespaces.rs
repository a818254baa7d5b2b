//! A pod is a group of processes sharing namespaces around an infra process: the
//! kernel's own view (`/proc/PID/ns/*`) must say so.

mod common;
use common::pods::{ns, PodEnv};

const POD: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: shared-ns
spec:
  containers:
  - name: one
    image: busybox:1.36
    command: ["sh", "-c", "echo written-by-one > /dev/shm/note; touch /dev/mqueue/pod-queue; sleep 3600"]
  - name: two
    image: busybox:1.36
    command: ["sleep", "3600"]
"#;

#[test]
fn containers_share_net_ipc_uts_with_the_infra_and_own_mnt_and_pid() {
    let env = PodEnv::new("ns");
    let file = env.manifest("pod.yaml", POD);
    env.ok(&["apply", "-f", &file]);
    let infra = env.infra_pid("shared-ns");
    let one = env.container_pid("shared-ns", "one");
    let two = env.container_pid("shared-ns", "two");
    // The test itself runs in the host's namespaces.
    let host = std::process::id() as i32;
    for name in ["net", "ipc", "uts"] {
        assert_eq!(
            ns(one, name),
            ns(infra, name),
            "{name} of container one is the infra's"
        );
        assert_eq!(
            ns(two, name),
            ns(infra, name),
            "{name} of container two is the infra's"
        );
        assert_ne!(
            ns(infra, name),
            ns(host, name),
            "{name} of the pod is not the host's"
        );
    }
    for name in ["mnt", "pid"] {
        assert_ne!(
            ns(one, name),
            ns(two, name),
            "each container has its own {name}"
        );
        assert_ne!(ns(one, name), ns(host, name));
    }

    // Both report the pod's name as their hostname.
    for c in ["one", "two"] {
        assert_eq!(
            env.ok(&["exec", "shared-ns", "-c", c, "--", "hostname"])
                .trim(),
            "shared-ns"
        );
    }

    // POSIX shm (/dev/shm) made in one container is seen in the other.
    env.wait_for(10, "container one wrote its note", || {
        env.run(&[
            "exec",
            "shared-ns",
            "-c",
            "two",
            "--",
            "cat",
            "/dev/shm/note",
        ])
        .stdout
            == b"written-by-one\n"
    });
    // A POSIX message queue lives in the IPC namespace: one made in container one is
    // in container two's /dev/mqueue, and not in the host's.
    let queues = env.ok(&["exec", "shared-ns", "-c", "two", "--", "ls", "/dev/mqueue"]);
    assert_eq!(queues.trim(), "pod-queue");
    assert!(!std::path::Path::new("/dev/mqueue/pod-queue").exists());

    // Each container is PID 1 of its own PID namespace.
    let ps = env.ok(&[
        "exec",
        "shared-ns",
        "-c",
        "two",
        "--",
        "cat",
        "/proc/1/cmdline",
    ]);
    assert!(ps.starts_with("sleep"), "PID 1 of two: {ps:?}");
}

fn kill_infra(infra: i32) {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(infra),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill the infra process");
}

#[test]
fn killing_the_infra_process_gives_the_pod_a_new_sandbox() {
    let env = PodEnv::new("infra-kill");
    let file = env.manifest("pod.yaml", &POD.replace("shared-ns", "reborn"));
    env.ok(&["apply", "-f", &file]);
    let infra = env.infra_pid("reborn");
    let old_net = ns(infra, "net");
    // Held open, the old namespace keeps its inode number (the kernel hands a freed
    // number to the next namespace).
    let _old_ns_held = std::fs::File::open(format!("/proc/{infra}/ns/net")).expect("old netns");
    let one = env.container_pid("reborn", "one");
    let two = env.container_pid("reborn", "two");
    kill_infra(infra);
    // The old containers die with the namespaces they shared.
    for pid in [one, two] {
        env.wait_for(10, "the old containers are gone", || {
            !std::path::Path::new(&format!("/proc/{pid}")).exists()
        });
    }
    // A new infra process, and both containers started again in its namespaces,
    // one restart each (restartPolicy Always).
    let new_infra = || {
        env.status("reborn")["infra"]["pid"]
            .as_i64()
            .map(|p| p as i32)
            .filter(|&p| p != infra)
    };
    env.wait_for(20, "the pod runs again in a new sandbox", || {
        new_infra().is_some() && env.row("reborn")[1..3] == ["2/2", "Running"]
    });
    let infra = new_infra().expect("the new infra process");
    assert_ne!(ns(infra, "net"), old_net);
    for c in ["one", "two"] {
        let pid = env.container_pid("reborn", c);
        for n in ["net", "ipc", "uts"] {
            assert_eq!(ns(pid, n), ns(infra, n), "{c} joins the new {n} namespace");
        }
    }
    assert_eq!(env.row("reborn")[3], "2", "RESTARTS: one per container");
    assert_eq!(env.pod_json("reborn")["status"]["phase"], "Running");
}

#[test]
fn killing_the_infra_process_of_a_never_restarting_pod_ends_it() {
    let env = PodEnv::new("infra-kill-never");
    let yaml = POD
        .replace("shared-ns", "doomed")
        .replace("spec:\n", "spec:\n  restartPolicy: Never\n");
    let file = env.manifest("pod.yaml", &yaml);
    env.ok(&["apply", "-f", &file]);
    let infra = env.infra_pid("doomed");
    let one = env.container_pid("doomed", "one");
    let two = env.container_pid("doomed", "two");
    kill_infra(infra);
    env.wait_for(10, "the pod's phase turns Failed", || {
        env.pod_json("doomed")["status"]["phase"] == "Failed"
    });
    for pid in [one, two] {
        env.wait_for(5, "the containers are gone", || {
            !std::path::Path::new(&format!("/proc/{pid}")).exists()
        });
    }
    // No new sandbox (as on a cluster): STATUS reads Error, as kubectl derives it,
    // once the supervisor has recorded the containers' ends (their processes may be
    // gone a moment before, on a busy machine).
    env.wait_for(10, "0/2 Error 0", || {
        env.row("doomed").get(1..4) == Some(&["0/2".into(), "Error".into(), "0".into()][..])
    });
}
