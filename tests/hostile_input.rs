//! Hostile input to the command line: alias bombs, huge and empty manifests, one Pod
//! twice in a file, malformed label selectors, and readers that go away. Each is
//! refused (or ended) the way kubectl and the API server do, quickly, with nothing
//! half-made left behind.

mod common;
use common::pods::PodEnv;
use common::spawned::SpawnGuarded as _;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;

const POD: &str = "apiVersion: v1
kind: Pod
metadata:
  name: p
  labels: {app: web, tier: front}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.36
    command: [sleep, \"3600\"]
";

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn no_pods(env: &PodEnv) -> bool {
    env.ok(&["get", "pods", "-A", "-o", "name"])
        .trim()
        .is_empty()
}

/// Ten levels of ten aliases: 10^10 nodes if anyone expanded them.
fn alias_bomb_pod() -> String {
    let mut text = String::from(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bomb\n  annotations:\n    \
         a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n",
    );
    for level in 1..10 {
        let items = vec![format!("*a{}", level - 1); 10].join(", ");
        text.push_str(&format!("    a{level}: &a{level} [{items}]\n"));
    }
    text.push_str("spec:\n  containers:\n  - name: c\n    image: busybox:1.36\n");
    text
}

#[test]
fn an_alias_bomb_is_refused_at_once() {
    let env = PodEnv::new("alias-bomb");
    let file = env.manifest("bomb.yaml", &alias_bomb_pod());
    let out = env.run(&["apply", "-f", &file]);
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    assert_eq!(
        stderr(&out).trim(),
        format!("error: {file}: error converting YAML to JSON: yaml: document contains excessive aliasing")
    );
    assert!(no_pods(&env));
}

#[test]
fn a_manifest_over_three_mebibytes_is_refused_unread() {
    let env = PodEnv::new("huge");
    let mut child = env
        .mp
        .command(&[])
        .args(["apply", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn_guarded();
    let mut input = child.stdin.take().unwrap();
    // 4 MiB of comments: minipod stops reading at the limit, so the write may fail.
    let _ = input.write_all(&b"#\n".repeat(2 * 1024 * 1024));
    drop(input);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("error: -: Request entity too large: limit is 3145728"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn empty_manifests_pass_no_objects() {
    let env = PodEnv::new("empty");
    let empty = env.manifest("empty.yaml", "");
    let comments = env.manifest("comments.yaml", "# only a comment\n");
    let separators = env.manifest("separators.yaml", "---\n---\n");
    for file in [&empty, &comments, &separators] {
        for verb in ["apply", "create", "replace"] {
            let out = env.run(&[verb, "-f", file]);
            assert_eq!(out.status.code(), Some(1), "{verb} -f {file}");
            assert_eq!(
                stderr(&out).trim(),
                format!("error: no objects passed to {verb}"),
                "{verb} -f {file}"
            );
        }
        let out = env.run(&["delete", "-f", file]);
        assert_eq!(out.status.code(), Some(0), "delete -f {file}");
        assert_eq!(stdout(&out).trim(), "No resources found");
    }
}

#[test]
fn the_same_pod_twice_in_a_file_is_one_pod_at_most() {
    let env = PodEnv::new("twice");
    let twice = env.manifest("twice.yaml", &format!("{POD}---\n{POD}"));

    // create: refused as the API server refuses a second create, before anything.
    let out = env.run(&["create", "-f", &twice]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim(),
        format!("Error from server (AlreadyExists): error when creating \"{twice}\": pods \"p\" already exists")
    );
    assert!(no_pods(&env));

    // apply of two different copies: refused before anything is created.
    let different = env.manifest(
        "different.yaml",
        &format!("{POD}---\n{}", POD.replace("3600", "7200")),
    );
    let out = env.run(&["apply", "-f", &different]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("pods \"p\""), "{}", stderr(&out));
    assert!(no_pods(&env));

    // apply of two identical copies: created once, the copy unchanged.
    let out = env.run(&["apply", "-f", &twice]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "pod/p created\npod/p unchanged\n");
    assert_eq!(env.ok(&["get", "pods", "-o", "name"]), "pod/p\n");
}

#[test]
fn label_selectors_are_parsed_as_kubectl_parses_them() {
    let env = PodEnv::new("selectors");
    let file = env.manifest("p.yaml", POD);
    env.ok(&["apply", "-f", &file]);

    let refused = [
        (
            "!",
            "error: unable to parse requirement: found '', expected: identifier",
        ),
        (
            ",",
            "error: found ',', expected: !, identifier, or 'end of string'",
        ),
        (
            "a in (b",
            "error: unable to parse requirement: found '', expected: ',' or ')'",
        ),
        (
            "a=b=c",
            "error: found '=', expected: ',' or 'end of string'",
        ),
        (
            "app=web,",
            "error: found '', expected: identifier after ','",
        ),
    ];
    for (selector, message) in refused {
        let out = env.run(&["get", "pods", "-l", selector]);
        assert_eq!(out.status.code(), Some(1), "-l {selector:?}");
        assert_eq!(stderr(&out).trim(), message, "-l {selector:?}");
        assert_eq!(stdout(&out), "", "-l {selector:?}");
    }

    let selected = |selector: &str| env.ok(&["get", "pods", "-l", selector, "-o", "name"]);
    assert_eq!(selected("app=web"), "pod/p\n");
    assert_eq!(selected("app==web,tier"), "pod/p\n");
    assert_eq!(selected("app in (db, web)"), "pod/p\n");
    assert_eq!(selected("!legacy,tier!=back"), "pod/p\n");
    assert_eq!(selected("app notin (web)"), "");
    assert_eq!(selected("!app"), "");
    // `a!=` is valid for kubectl: a is not the empty value.
    assert_eq!(selected("app!="), "pod/p\n");
}

/// Runs minipod with its standard output a pipe whose reader is already gone.
fn run_into_closed_pipe(env: &PodEnv, args: &[&str]) -> std::process::Output {
    let (reader, writer) = nix::unistd::pipe().unwrap();
    drop(reader);
    env.mp
        .command(&[])
        .args(args)
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

#[test]
fn a_reader_that_goes_away_ends_output_quietly() {
    let env = PodEnv::new("pipes");
    // Readers end like kubectl: SIGPIPE, no word on stderr.
    for args in [
        &["image", "ls"][..],
        &["image", "inspect", "busybox:1.36"],
        &["get", "pods", "-A", "-o", "json"],
        &["completion", "bash"],
    ] {
        let out = run_into_closed_pipe(&env, args);
        assert_eq!(
            out.status.signal(),
            Some(libc::SIGPIPE),
            "{args:?}: {}",
            stderr(&out)
        );
        assert_eq!(stderr(&out), "", "{args:?}");
    }
    // A verb that changes state finishes its work and says nothing of the pipe.
    let file = env.manifest("p.yaml", POD);
    let out = run_into_closed_pipe(&env, &["apply", "-f", &file]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    assert_eq!(env.ok(&["get", "pods", "-o", "name"]), "pod/p\n");
    let out = run_into_closed_pipe(&env, &["delete", "pod", "p"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    assert!(no_pods(&env));
}
