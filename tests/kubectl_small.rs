//! The small differences from kubectl a student trips on, each compared with
//! kubectl's exact text for the same command.

mod common;
use common::pods::{ignores_sigterm, PodEnv};
use std::process::{Command, Stdio};

const SLEEPER: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: sleeper\n  labels: {app: s}\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n  - name: main\n    image: busybox:1.36\n    command: [sleep, \"3600\"]\n";

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn exec_ending_non_zero_says_so_and_keeps_the_code() {
    let env = PodEnv::new("small-exec");
    env.ok(&["apply", "-f", &env.manifest("p.yaml", SLEEPER)]);
    let out = env.run(&["exec", "sleeper", "--", "sh", "-c", "echo out; exit 3"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(stdout(&out), "out\n");
    // kubectl: "command terminated with exit code 3" on stderr.
    assert_eq!(stderr(&out), "command terminated with exit code 3\n");
    let ok = env.run(&["exec", "sleeper", "--", "true"]);
    assert_eq!((ok.status.code(), stderr(&ok)), (Some(0), String::new()));
}

#[test]
fn exec_with_a_tty_passes_the_clients_term() {
    let env = PodEnv::new("small-term");
    env.ok(&["apply", "-f", &env.manifest("p.yaml", SLEEPER)]);
    // Without a terminal the command has the image's environment: busybox sets no TERM.
    let out = env.run(&[
        "exec",
        "sleeper",
        "--",
        "sh",
        "-c",
        "echo TERM=${TERM-unset}",
    ]);
    assert_eq!(stdout(&out), "TERM=unset\n");
    // With -t (the test's stdin is a pseudo-terminal) the client's TERM.
    let pty = nix::pty::openpty(None, None).unwrap();
    let slave = std::fs::File::from(pty.slave);
    let out = env
        .mp
        .command(&[])
        .args(["exec", "-t", "sleeper", "--", "sh", "-c", "echo TERM=$TERM"])
        .env("TERM", "vt220")
        .env_remove("MINIPOD_ROOT")
        .stdin(Stdio::from(slave))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim_end(), "TERM=vt220");
}

#[test]
fn delete_force_without_a_grace_period_kills_at_once() {
    let env = PodEnv::new("small-force");
    env.ok(&[
        "apply",
        "-f",
        &env.manifest("p.yaml", &ignores_sigterm("stubborn", 300)),
    ]);
    let out = env.run(&["delete", "pod", "stubborn", "--force"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // kubectl: --force alone means --grace-period=0, with this warning.
    assert_eq!(
        stderr(&out),
        "Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.\n"
    );
    assert_eq!(stdout(&out), "pod \"stubborn\" force deleted\n");
    assert!(env.pods().is_empty());
}

#[test]
fn apply_dry_run_client_of_an_existing_pod() {
    let env = PodEnv::new("small-dry");
    let file = env.manifest("p.yaml", SLEEPER);
    env.ok(&["apply", "-f", &file]);
    // kubectl: "pod/sleeper unchanged (dry run)".
    assert_eq!(
        env.ok(&["apply", "-f", &file, "--dry-run=client"]),
        "pod/sleeper unchanged (dry run)\n"
    );
    let relabeled = env.manifest("q.yaml", &SLEEPER.replace("app: s", "app: t"));
    assert_eq!(
        env.ok(&["apply", "-f", &relabeled, "--dry-run=client"]),
        "pod/sleeper configured (dry run)\n"
    );
    assert_eq!(env.pod_json("sleeper")["metadata"]["labels"]["app"], "s");
    let other = env.manifest("o.yaml", &SLEEPER.replace("name: sleeper", "name: other"));
    assert_eq!(
        env.ok(&["apply", "-f", &other, "--dry-run=client"]),
        "pod/other created (dry run)\n"
    );
}

#[test]
fn jsonpath_of_a_missing_key_prints_nothing() {
    let env = PodEnv::new("small-jsonpath");
    env.ok(&["apply", "-f", &env.manifest("p.yaml", SLEEPER)]);
    let out = env.run(&["get", "pod", "sleeper", "-o", "jsonpath={.spec.nope}"]);
    assert!(out.status.success());
    assert_eq!((stdout(&out), stderr(&out)), (String::new(), String::new()));
    let out = env.run(&[
        "get",
        "pod",
        "sleeper",
        "-o",
        "jsonpath={.spec.nope}",
        "--allow-missing-template-keys=false",
    ]);
    assert!(!out.status.success());
    // kubectl's first lines.
    assert!(
        stderr(&out).starts_with("error: error executing jsonpath \"{.spec.nope}\": Error executing template: nope is not found. Printing more information for debugging the template:\n\ttemplate was:\n\t\t{.spec.nope}\n\tobject given to jsonpath engine was:\n"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn help_and_usage_do_not_ask_for_root_when_minipod_root_is_set() {
    let out = Command::new(env!("CARGO_BIN_EXE_minipod"))
        .args(["exec", "x"])
        .env("MINIPOD_ROOT", "/tmp/minipod-test-nowhere")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(
        err.contains("Usage: minipod exec <POD> -- <COMMAND>...\n"),
        "{err}"
    );
    assert!(!err.contains("--root"), "{err}");
    let help = Command::new(env!("CARGO_BIN_EXE_minipod"))
        .args(["exec", "--help"])
        .output()
        .unwrap();
    let help = stdout(&help)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    // kubectl exec --help's words for -c.
    assert!(
        help.contains("-c, --container <CONTAINER> Container name. If omitted, use the kubectl.kubernetes.io/default-container annotation for selecting the container to be attached or the first container in the pod will be chosen"),
        "{help}"
    );
}
