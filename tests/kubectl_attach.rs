//! `stdin: true` / `tty: true` containers and `attach`: the documentation's
//! share-process-namespace example runs, a shell on a terminal answers what is typed
//! through `attach -i`, a `stdin` pipe reaches the container, and `stdinOnce` closes
//! it when the first client leaves.

mod common;
use common::pods::PodEnv;
use common::spawned::SpawnGuarded as _;
use std::io::Write as _;
use std::process::Stdio;

/// `attach` with `input` on its stdin (each chunk after a pause); its stdout.
fn attach(env: &PodEnv, args: &[&str], input: &[&str]) -> String {
    let mut child = env
        .mp
        .command(&[])
        .arg("attach")
        .args(args)
        .env_remove("MINIPOD_ROOT")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn_guarded();
    let mut stdin = child.stdin.take().unwrap();
    for chunk in input {
        stdin.write_all(chunk.as_bytes()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_share_process_namespace_example_runs_with_its_tty_container() {
    let env = PodEnv::new("attach-spn");
    let yaml = std::fs::read_to_string(format!(
        "{}/../shared/k8s-examples/pods/share-process-namespace.yaml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
    .replace("busybox:1.28", "busybox:1.36")
    .replace("image: nginx\n", "image: nginx:1.27\n");
    assert_eq!(
        env.ok(&["apply", "-f", &env.manifest("spn.yaml", &yaml)]),
        "pod/nginx created\n"
    );
    env.wait_for(20, "2/2 Running", || {
        env.row("nginx")[1..3] == ["2/2", "Running"]
    });
    // The documentation's step: from the shell container, nginx's processes are seen
    // (nginx names its master process a moment after it starts running).
    env.wait_for(
        20,
        "nginx's master process seen from the shell container",
        || {
            env.ok(&["exec", "nginx", "-c", "shell", "--", "ps", "ax"])
                .contains("nginx: master process")
        },
    );
}

#[test]
fn a_shell_on_a_terminal_answers_through_attach() {
    let env = PodEnv::new("attach-tty");
    let yaml = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: term\nspec:\n  terminationGracePeriodSeconds: 0\n  containers:\n  - name: sh\n    image: busybox:1.36\n    command: [sh]\n    stdin: true\n    tty: true\n";
    env.ok(&["apply", "-f", &env.manifest("t.yaml", yaml)]);
    env.wait_for(20, "1/1 Running", || {
        env.row("term")[1..3] == ["1/1", "Running"]
    });
    // Only the shell can compute 42: the terminal's echo alone would not.
    let shown = attach(&env, &["term", "-i"], &["echo attached-$((40+2))\n"]);
    assert!(shown.contains("attached-42"), "{shown:?}");
    // It is the container's controlling terminal.
    let shown = attach(
        &env,
        &["term", "-i"],
        &["[ -t 0 ] && echo is-a-tty-$((1+1))\n"],
    );
    assert!(shown.contains("is-a-tty-2"), "{shown:?}");
    // The log has what the terminal showed.
    assert!(env.ok(&["logs", "term"]).contains("attached-42"));
}

#[test]
fn stdin_reaches_the_container_and_stdin_once_closes_it() {
    let env = PodEnv::new("attach-stdin");
    let yaml = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: reader\nspec:\n  terminationGracePeriodSeconds: 0\n  restartPolicy: Never\n  containers:\n  - name: cat\n    image: busybox:1.36\n    command: [sh, -c, 'cat; echo stdin-closed']\n    stdin: true\n    stdinOnce: true\n";
    env.ok(&["apply", "-f", &env.manifest("r.yaml", yaml)]);
    env.wait_for(20, "1/1 Running", || {
        env.row("reader")[1..3] == ["1/1", "Running"]
    });
    // Without stdinOnce a pipe nobody writes to keeps the container waiting: it runs.
    let shown = attach(&env, &["reader", "-i"], &["line one\n"]);
    assert!(shown.contains("line one"), "{shown:?}");
    env.wait_for(20, "the container ends once its stdin closes", || {
        env.ok(&["logs", "reader"]) == "line one\nstdin-closed\n"
    });
    let (_, err) = {
        let out = env.run(&["attach", "reader", "-i"]);
        (
            out.status,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert!(err.contains("is not running"), "{err}");
}

#[test]
fn attach_to_a_container_without_stdin_shows_its_output_from_now_on() {
    let env = PodEnv::new("attach-out");
    env.ok(&[
        "run",
        "ticker",
        "--image=busybox:1.36",
        "--",
        "sh",
        "-c",
        "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done",
    ]);
    env.wait_for(20, "the first ticks in the log", || {
        env.ok(&["logs", "ticker"]).contains("tick 1\n")
    });
    let mut child = env
        .mp
        .command(&[])
        .args(["attach", "ticker"])
        .env_remove("MINIPOD_ROOT")
        .stdout(Stdio::piped())
        .spawn_guarded();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    let ticks: Vec<&str> = shown.lines().collect();
    assert!(ticks.len() >= 2, "{shown:?}");
    assert!(ticks.iter().all(|l| l.starts_with("tick ")), "{shown:?}");
    // From now on: not the first lines the container printed.
    assert_ne!(ticks[0], "tick 0", "{shown:?}");
}
