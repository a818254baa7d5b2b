//! `cp` to and from a container, as kubectl cp does it (tar in the container, the
//! stream unpacked on the host), and the attack kubectl's CVEs taught
//! (CVE-2019-1002101, CVE-2019-11246, CVE-2019-11249): a container whose `tar`
//! answers with `../` paths, absolute paths, symlinks and hard links must not write
//! anything outside the destination on the host.

mod common;
use common::pods::PodEnv;
use common::spawned::SpawnGuarded as _;
use common::{LayerBuilder, TempDir};
use std::io::Write as _;
use std::process::Stdio;

const BOX: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: box\nspec:\n  terminationGracePeriodSeconds: 0\n  containers:\n  - name: main\n    image: busybox:1.36\n    command: [sleep, \"3600\"]\n";

fn exec_with_stdin(env: &PodEnv, args: &[&str], input: &[u8]) {
    let mut child = env
        .mp
        .command(&[])
        .args(args)
        .env_remove("MINIPOD_ROOT")
        .stdin(Stdio::piped())
        .spawn_guarded();
    child.stdin.take().unwrap().write_all(input).unwrap();
    assert!(child.wait().unwrap().success());
}

#[test]
fn a_hostile_tar_in_the_container_writes_nothing_outside_the_destination() {
    let env = PodEnv::new("cp-hostile");
    env.ok(&["apply", "-f", &env.manifest("box.yaml", BOX)]);
    let host = TempDir::new("cp-host-target");
    let target = host.path.display().to_string();
    let dest_parent = TempDir::new("cp-dest");
    let dest = dest_parent.path.join("out");
    // What the container's "tar" answers, whatever it is asked.
    let evil = LayerBuilder::new()
        .dir("data/", 0o755)
        .raw(
            tar::EntryType::Regular,
            "data/../../escaped",
            "",
            b"escaped\n",
        )
        .raw(
            tar::EntryType::Regular,
            &format!("data/../../..{target}/dotdot"),
            "",
            b"x\n",
        )
        .symlink("data/link", &target)
        .raw(
            tar::EntryType::Regular,
            "data/link/through-link",
            "",
            b"x\n",
        )
        .raw(
            tar::EntryType::Link,
            "data/hard",
            &format!("{target}/victim"),
            b"",
        )
        .file("data/fine.txt", b"fine\n", 0o644)
        .finish();
    std::fs::write(host.path.join("victim"), "victim\n").unwrap();
    exec_with_stdin(
        &env,
        &["exec", "-i", "box", "--", "sh", "-c", "cat > /evil.tar"],
        &evil,
    );
    env.ok(&[
        "exec",
        "box",
        "--",
        "sh",
        "-c",
        "rm /bin/tar && printf '#!/bin/sh\\ncat /evil.tar\\n' > /bin/tar && chmod +x /bin/tar",
    ]);
    let out = env.run(&["cp", "box:/data", &dest.display().to_string()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The host is unchanged outside the destination.
    assert_eq!(common::list_dir(&host.path), ["victim"]);
    assert_eq!(
        std::fs::read_to_string(host.path.join("victim")).unwrap(),
        "victim\n"
    );
    assert!(!dest_parent.path.join("escaped").exists());
    assert!(!std::path::Path::new("/tmp/escaped").exists());
    // kubectl's warnings; the honest file arrives.
    assert!(
        stderr.contains("is outside target destination, skipping"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "warning: skipping symlink: \"{}/link\" -> \"{target}\"",
            dest.display()
        )),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(dest.join("fine.txt")).unwrap(),
        "fine\n"
    );
    assert!(!dest.join("link").is_symlink());
    assert!(!dest.join("hard").exists());
}

#[test]
fn copy_a_file_and_a_directory_to_and_from_a_container() {
    let env = PodEnv::new("cp-both");
    env.ok(&["apply", "-f", &env.manifest("box.yaml", BOX)]);
    let local = TempDir::new("cp-local");
    std::fs::write(local.path.join("hello.txt"), "hello\n").unwrap();
    std::fs::create_dir(local.path.join("tree")).unwrap();
    std::fs::write(local.path.join("tree/a"), "a\n").unwrap();
    std::fs::create_dir(local.path.join("tree/sub")).unwrap();
    std::fs::write(local.path.join("tree/sub/b"), "b\n").unwrap();
    let file = local.path.join("hello.txt").display().to_string();
    let tree = local.path.join("tree").display().to_string();
    // kubectl cp prints nothing when it worked.
    assert_eq!(env.ok(&["cp", &file, "box:/tmp/greeting"]), "");
    assert_eq!(
        env.ok(&["exec", "box", "--", "cat", "/tmp/greeting"]),
        "hello\n"
    );
    assert_eq!(
        env.ok(&["cp", &tree, "default/box:/tmp/tree", "-c", "main"]),
        ""
    );
    assert_eq!(
        env.ok(&["exec", "box", "--", "cat", "/tmp/tree/sub/b"]),
        "b\n"
    );
    let back = local.path.join("back");
    env.ok(&["cp", "box:/tmp/tree", &back.display().to_string()]);
    assert_eq!(std::fs::read_to_string(back.join("a")).unwrap(), "a\n");
    assert_eq!(std::fs::read_to_string(back.join("sub/b")).unwrap(), "b\n");
    let one = local.path.join("one.txt");
    env.ok(&["cp", "box:/tmp/greeting", &one.display().to_string()]);
    assert_eq!(std::fs::read_to_string(&one).unwrap(), "hello\n");
}
