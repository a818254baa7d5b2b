//! After a crash of the supervisor, `get` shows the truth and `delete` still cleans
//! everything.

mod common;
use common::pods::{seed, PodEnv};

#[test]
fn after_a_supervisor_crash_get_tells_the_truth_and_delete_cleans_up() {
    let env = PodEnv::new("crash");
    env.ok(&["apply", "-f", &seed("sidecar-pod.yaml")]);
    let status = env.status("sidecar-pod");
    let shim = status["supervisor"]["pid"]
        .as_i64()
        .expect("supervisor pid") as i32;
    let infra = env.infra_pid("sidecar-pod");
    let nginx = env.container_pid("sidecar-pod", "nginx");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(shim),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill the supervisor");
    env.wait_for(5, "get shows the pod Unknown", || {
        env.row("sidecar-pod").get(2).map(String::as_str) == Some("Unknown")
    });
    env.ok(&["delete", "pod", "sidecar-pod"]);
    for pid in [infra, nginx] {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let alive = !stat.is_empty()
            && !stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z');
        assert!(!alive, "process {pid} survived the delete");
    }
    assert!(env.pods().is_empty());
    let left: Vec<_> = std::fs::read_dir(env.root().join("pods"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "pods/ holds {left:?}");
}
