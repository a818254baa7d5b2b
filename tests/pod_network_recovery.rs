//! The pod network after crashes and churn (issue 16): a dead infra process gets a new
//! sandbox and IP, a pod whose supervisor and infra were both killed is deleted
//! without a trace, and fifty apply/delete cycles leave no lease, rule, link or pin.
//! Each test runs minipod in a network namespace of its own (common::netns).

mod common;
use common::pod_network::{leftovers, net_env, pod_ip, wait_running};
use common::pods::seed;

#[test]
fn fifty_apply_delete_cycles_and_a_crash_leave_no_network_trace() {
    let (env, ns) = net_env("net-cycles");
    let yaml = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  terminationGracePeriodSeconds: 0\n  containers:\n  - name: c\n    image: busybox:1.36\n    command: [sleep, \"3600\"]\n";
    let file = env.manifest("p.yaml", yaml);
    let mut ips = std::collections::BTreeSet::new();
    // The 50 cycles (about 0.7 s each on a 2-core VM).
    for _ in 0..50 {
        env.ok(&["apply", "-f", &file]);
        wait_running(&env, "p", "1/1");
        ips.insert(pod_ip(&env, "p"));
        assert!(
            !leftovers(&env, &ns).is_empty(),
            "a running pod holds a lease"
        );
        env.ok(&["delete", "-f", &file]);
        assert_eq!(leftovers(&env, &ns), Vec::<String>::new());
    }
    assert!(ips.iter().all(|ip| ip.starts_with("10.244.")), "{ips:?}");

    // The supervisor dies (SIGKILL): `delete` runs the CNI DEL itself.
    env.ok(&["apply", "-f", &file]);
    wait_running(&env, "p", "1/1");
    common::process::kill9(env.supervisor_pid("p"));
    env.ok(&["delete", "-f", &file]);
    assert_eq!(leftovers(&env, &ns), Vec::<String>::new());
    // The bridge is minipod's and stays, as cni0 does on a node.
    assert!(ns.links().contains(&"minipod0".to_string()));
}

#[test]
fn a_dead_infra_gives_the_pod_a_new_sandbox_and_ip_and_keeps_its_emptydir() {
    let (env, ns) = net_env("net-sandbox");
    env.ok(&["apply", "-f", &seed("sidecar-pod.yaml")]);
    wait_running(&env, "sidecar-pod", "2/2");
    let old_ip = pod_ip(&env, "sidecar-pod");
    let old_infra = env.infra_pid("sidecar-pod");
    let old_net = common::pods::ns(old_infra, "net");
    // Held open, the old namespace keeps its inode number: the kernel hands a freed
    // number to the next namespace, so without this a new one could show the same.
    let old_ns_held = std::fs::File::open(format!("/proc/{old_infra}/ns/net")).expect("old netns");
    // Something the pod wrote into its emptyDir (it belongs to the pod, not to the
    // sandbox).
    env.ok(&[
        "exec",
        "sidecar-pod",
        "-c",
        "log-reader",
        "--",
        "sh",
        "-c",
        "echo kept > /var/log/nginx/kept.txt",
    ]);
    // ... and something in its /dev/shm, which belongs to the sandbox.
    env.ok(&[
        "exec",
        "sidecar-pod",
        "-c",
        "log-reader",
        "--",
        "sh",
        "-c",
        "echo old > /dev/shm/old-sandbox",
    ]);

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(old_infra),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill the infra process");

    // A new infra process (so a new sandbox), and both containers running again.
    let new_infra = || {
        env.status("sidecar-pod")["infra"]["pid"]
            .as_i64()
            .map(|p| p as i32)
            .filter(|&p| p != old_infra)
    };
    // Restarted in it: the new infra can be recorded while the old containers are
    // still shown running, a moment before the supervisor stops them.
    env.wait_for(20, "a new sandbox with both containers running", || {
        let row = env.row("sidecar-pod");
        new_infra().is_some()
            && row.get(1).map(String::as_str) == Some("2/2")
            && row.get(2).map(String::as_str) == Some("Running")
            && row
                .get(3)
                .and_then(|r| r.parse::<u32>().ok())
                .is_some_and(|n| n >= 1)
    });
    let infra = new_infra().expect("the new infra process");
    let new_net = common::pods::ns(infra, "net");
    assert_ne!(new_net, old_net, "a new network namespace");
    let new_ip = pod_ip(&env, "sidecar-pod");
    assert!(
        new_ip.starts_with("10.244.") && new_ip != old_ip,
        "new IP {new_ip:?}, old {old_ip:?}"
    );
    let wide = env.ok(&["get", "pods", "-o", "wide"]);
    let row: Vec<&str> = wide
        .lines()
        .find(|l| l.starts_with("sidecar-pod"))
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert!(row.contains(&new_ip.as_str()), "{wide}");
    // RESTARTS counts the containers' restarts in the new sandbox.
    let restarts: u32 = row
        .get(3)
        .and_then(|r| r.parse().ok())
        .unwrap_or_else(|| panic!("RESTARTS in {wide}"));
    assert!(restarts >= 1, "{wide}");
    let kept = env.ok(&[
        "exec",
        "sidecar-pod",
        "-c",
        "nginx",
        "--",
        "cat",
        "/var/log/nginx/kept.txt",
    ]);
    assert_eq!(kept.trim(), "kept");
    // The new sandbox has a new, empty /dev/shm (containerd's sandbox shm), still one
    // for both containers.
    let shm = env.ok(&[
        "exec",
        "sidecar-pod",
        "-c",
        "nginx",
        "--",
        "ls",
        "-A",
        "/dev/shm",
    ]);
    assert_eq!(shm, "", "the old sandbox's shared memory is gone");
    env.ok(&[
        "exec",
        "sidecar-pod",
        "-c",
        "nginx",
        "--",
        "sh",
        "-c",
        "echo new > /dev/shm/new-sandbox",
    ]);
    let seen = env.ok(&[
        "exec",
        "sidecar-pod",
        "-c",
        "log-reader",
        "--",
        "cat",
        "/dev/shm/new-sandbox",
    ]);
    assert_eq!(seen.trim(), "new");
    // The containers live in the new namespace and the hosts file names the new IP.
    let inside = env.ok(&[
        "exec",
        "sidecar-pod",
        "-c",
        "log-reader",
        "--",
        "readlink",
        "/proc/self/ns/net",
    ]);
    assert_eq!(inside.trim(), new_net);
    let hosts = env.ok(&[
        "exec",
        "sidecar-pod",
        "-c",
        "log-reader",
        "--",
        "cat",
        "/etc/hosts",
    ]);
    assert!(
        hosts.contains(&format!("{new_ip}\tsidecar-pod\n")) && !hosts.contains(&old_ip),
        "{hosts}"
    );
    let events = env.ok(&["describe", "pod", "sidecar-pod"]);
    assert!(
        events.contains("SandboxChanged")
            && events.contains("Pod sandbox changed, it will be killed and re-created."),
        "{events}"
    );
    drop(old_ns_held);
    // The old sandbox's lease and veth went with its CNI DEL: one of each is left.
    let left = leftovers(&env, &ns);
    assert_eq!(
        left.iter().filter(|l| l.starts_with("lease ")).count(),
        1,
        "{left:?}"
    );
    assert_eq!(
        left.iter().filter(|l| l.starts_with("link ")).count(),
        1,
        "{left:?}"
    );
    env.ok(&["delete", "pod", "sidecar-pod"]);
    assert_eq!(leftovers(&env, &ns), Vec::<String>::new());
}

#[test]
fn delete_after_supervisor_and_infra_were_both_killed_leaves_no_network_trace() {
    // kill -9 of both (or a crash of the host's processes): nothing is left holding the
    // network namespace but minipod's pin of it, so CNI DEL still finds eth0 and the
    // bridge plugin removes the pod's NAT rule.
    let (env, ns) = net_env("net-both-dead");
    let yaml = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  terminationGracePeriodSeconds: 0\n  containers:\n  - name: c\n    image: busybox:1.36\n    command: [sleep, \"3600\"]\n";
    let file = env.manifest("p.yaml", yaml);
    env.ok(&["apply", "-f", &file]);
    wait_running(&env, "p", "1/1");
    let left = leftovers(&env, &ns);
    assert!(
        left.iter().any(|l| l.starts_with("rule ")),
        "a running pod has a NAT rule: {left:?}"
    );
    assert!(
        left.iter().any(|l| l.starts_with("netns pin ")),
        "a running pod's namespace is pinned: {left:?}"
    );
    // A pod started later: its supervisor's own mount namespace, copied from the
    // host's, must not keep p's pin (it would hold p's namespace for as long as q runs).
    let q = env.manifest("q.yaml", &yaml.replace("{name: p}", "{name: q}"));
    env.ok(&["apply", "-f", &q]);
    wait_running(&env, "q", "1/1");
    let p_uid = env.pod_json("p")["metadata"]["uid"]
        .as_str()
        .expect("uid")
        .to_string();
    let q_sup = env.supervisor_pid("q");
    let q_mounts = std::fs::read_to_string(format!("/proc/{q_sup}/mountinfo")).unwrap();
    assert!(
        !q_mounts.contains(&format!("netns/cni-{p_uid}")),
        "{q_mounts}"
    );
    for pid in [env.supervisor_pid("p"), env.infra_pid("p")] {
        common::process::kill9(pid);
    }
    env.ok(&["delete", "-f", &file]);
    let left = leftovers(&env, &ns);
    assert!(left.iter().all(|l| !l.contains(&p_uid)), "{left:?}");
    assert_eq!(
        left.iter().filter(|l| l.starts_with("link ")).count(),
        1,
        "only q's veth: {left:?}"
    );
    env.ok(&["delete", "-f", &q]);
    assert_eq!(leftovers(&env, &ns), Vec::<String>::new());
    assert!(env.pods().is_empty());
}

#[test]
fn a_delete_raced_by_other_commands_leaves_no_network_trace() {
    // While `delete` tears down a pod whose supervisor died, every other command that
    // lists pods (a `get`, the controller manager) sees a deletion with no supervisor
    // and would finish it too. Two teardowns at once let one unpin the network
    // namespace under the other's CNI DEL, and the pod's NAT rule stayed on the host.
    let (env, ns) = net_env("net-delete-race");
    let yaml = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  terminationGracePeriodSeconds: 0\n  containers:\n  - name: c\n    image: busybox:1.36\n    command: [sleep, \"3600\"]\n";
    let file = env.manifest("p.yaml", yaml);
    for round in 0..10 {
        env.ok(&["apply", "-f", &file]);
        wait_running(&env, "p", "1/1");
        // Odd rounds: the supervisor died first, `delete` finishes the pod alone.
        if round % 2 == 1 {
            common::process::kill9(env.supervisor_pid("p"));
        }
        let deleted = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    // Bounded: a delete takes well under a second here.
                    for _ in 0..400 {
                        if deleted.load(std::sync::atomic::Ordering::SeqCst) {
                            break;
                        }
                        env.run(&["get", "pods"]);
                    }
                });
            }
            let out = env.run(&["delete", "-f", &file]);
            deleted.store(true, std::sync::atomic::Ordering::SeqCst);
            assert!(
                out.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        });
        assert_eq!(leftovers(&env, &ns), Vec::<String>::new(), "round {round}");
        assert!(env.pods().is_empty(), "round {round}");
    }
}
