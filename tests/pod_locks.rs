//! Locks are per pod and short: a pod that is slow to start (postStart hooks) or to
//! stop (a grace period) never makes a command about another pod wait, and pods
//! deleted together stop together.

mod common;
use common::pods::{ignores_sigterm, PodEnv};
use common::spawned::{SpawnGuarded as _, Spawned};
use std::process::Stdio;

fn sleeper(name: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox:1.36
    command: [sleep, "1000"]
"#
    )
}

fn spawn(env: &PodEnv, args: &[&str]) -> Spawned {
    env.mp
        .command(&[])
        .args(args)
        .env_remove("MINIPOD_ROOT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn_guarded()
}

fn still_running(child: &mut Spawned) -> bool {
    child.try_wait().expect("try_wait").is_none()
}

fn finish(child: Spawned) -> String {
    let out = child.wait_with_output().expect("wait for minipod");
    assert!(
        out.status.success(),
        "minipod failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn post_start_hooks_hold_no_lock_and_apply_returns_while_they_run() {
    let env = PodEnv::new("locks-hooks");
    env.ok(&[
        "apply",
        "-f",
        &env.manifest("other.yaml", &sleeper("other")),
    ]);
    let hooked = r#"apiVersion: v1
kind: Pod
metadata:
  name: hooked
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: first
    image: busybox:1.36
    command: [sleep, "1000"]
    lifecycle: {postStart: {exec: {command: [sleep, "8"]}}}
  - name: second
    image: busybox:1.36
    command: [sleep, "1000"]
    lifecycle: {postStart: {exec: {command: [sleep, "8"]}}}
"#;
    let out = env.ok(&["apply", "-f", &env.manifest("hooked.yaml", hooked)]);
    assert_eq!(out.trim(), "pod/hooked created");
    // apply answered while the first hook still runs: the container waits, as on a
    // cluster.
    let row = env.row("hooked");
    assert_eq!(row[1..3], ["0/2", "ContainerCreating"], "{row:?}");
    // Meanwhile, another pod is deleted and a third one created, at once.
    assert_eq!(
        env.ok(&["delete", "pod", "other"]).trim(),
        "pod \"other\" deleted"
    );
    env.ok(&[
        "apply",
        "-f",
        &env.manifest("third.yaml", &sleeper("third")),
    ]);
    assert_eq!(env.row("third")[1..3], ["1/1", "Running"]);
    assert_eq!(
        env.row("hooked")[2],
        "ContainerCreating",
        "the hooks were still running"
    );
    env.wait_for(60, "hooked runs once both hooks ended", || {
        env.row("hooked").get(1..3) == Some(&["2/2".to_string(), "Running".to_string()][..])
    });
}

#[test]
fn a_grace_period_holds_no_lock_and_pods_deleted_together_stop_together() {
    let env = PodEnv::new("locks-grace");
    for name in ["slow1", "slow2", "slow3"] {
        let file = env.manifest(&format!("{name}.yaml"), &ignores_sigterm(name, 6));
        env.ok(&["apply", "-f", &file]);
    }
    env.ok(&[
        "apply",
        "-f",
        &env.manifest("other.yaml", &sleeper("other")),
    ]);

    let mut slow = spawn(&env, &["delete", "pod", "slow1"]);
    env.wait_for(10, "slow1 terminating", || {
        env.row("slow1").get(2).map(String::as_str) == Some("Terminating")
    });
    // Another pod comes and goes while slow1's grace period runs.
    env.ok(&["apply", "-f", &env.manifest("new.yaml", &sleeper("new"))]);
    assert_eq!(env.row("new")[1..3], ["1/1", "Running"]);
    assert_eq!(
        env.ok(&["delete", "pod", "other", "new"]).trim(),
        "pod \"other\" deleted\npod \"new\" deleted"
    );
    assert!(still_running(&mut slow), "slow1's delete was still waiting");
    assert_eq!(finish(slow).trim(), "pod \"slow1\" deleted");

    // One command, two pods: both are asked to stop before either is waited for.
    let mut both = spawn(&env, &["delete", "pod", "slow2", "slow3"]);
    env.wait_for(10, "slow2 and slow3 terminating together", || {
        let (a, b) = (env.row("slow2"), env.row("slow3"));
        a.get(2).map(String::as_str) == Some("Terminating")
            && b.get(2).map(String::as_str) == Some("Terminating")
    });
    assert!(still_running(&mut both));
    assert_eq!(
        finish(both).trim(),
        "pod \"slow2\" deleted\npod \"slow3\" deleted"
    );
    assert!(env.pods().is_empty());
    for dir in ["run/pods", "run/locks/default", "pods", "log/pods"] {
        let left = common::list_dir(&env.root().join(dir));
        assert!(left.is_empty(), "{dir} holds {left:?}");
    }
}
