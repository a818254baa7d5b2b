//! `minipod-runc` against hostile bundles: the attacks behind runc's CVEs, planted in
//! the image's own `/dev` (a spec without a `/dev` tmpfs shows it), each run as a
//! user would run it, with the host checked unchanged afterwards.
//! - CVE-2025-52565: `/dev/console` (the terminal's bind target) or `/dev/pts` (where
//!   the terminal's slave is found) leading to a host file or `/proc/sysrq-trigger`.
//! - CVE-2025-31133: masked paths hidden with a `/dev/null` that is a symlink to a
//!   kernel knob, which would make the knob writable where the mask is.

mod common;

use common::runc::{copy_busybox_rootfs, drop_mounts, host_mounts, Runc};
use std::path::{Path, PathBuf};

/// A bundle over a writable copy of busybox whose `/dev` is the image's own, with
/// `plant` run on that `/dev` first.
fn hostile_bundle(
    r: &Runc,
    name: &str,
    args: &[&str],
    plant: impl FnOnce(&Path),
    edit: impl FnOnce(&mut serde_json::Value),
) -> PathBuf {
    let rootfs = r.dir.path.join(format!("{name}-rootfs"));
    copy_busybox_rootfs(&rootfs);
    std::fs::create_dir_all(rootfs.join("dev/pts")).unwrap();
    plant(&rootfs.join("dev"));
    // Masked paths are hidden with /dev/null: a real one, unless the attack planted its own.
    let null = rootfs.join("dev/null");
    if std::fs::symlink_metadata(&null).is_err() {
        nix::sys::stat::mknod(
            &null,
            nix::sys::stat::SFlag::S_IFCHR,
            nix::sys::stat::Mode::from_bits_truncate(0o666),
            nix::sys::stat::makedev(1, 3),
        )
        .unwrap();
    }
    r.bundle(name, args, |c| {
        c["root"]["path"] = rootfs.to_str().unwrap().into();
        c["root"]["readonly"] = false.into();
        drop_mounts(c, &["/dev"]);
        edit(c);
    })
}

/// A terminal's console socket that accepts whatever comes (the attack fails before).
fn console_socket(r: &Runc) -> (PathBuf, std::thread::JoinHandle<()>) {
    let path = r.dir.path.join(format!(
        "console-{}.sock",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    listener.set_nonblocking(true).unwrap();
    let handle = std::thread::spawn(move || {
        for _ in 0..200 {
            if listener.accept().is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    });
    (path, handle)
}

/// The create that must be refused, naming `what`; nothing of it is left.
fn refused_with_terminal(r: &Runc, bundle: &Path, id: &str, what: &str) {
    let (socket, accepter) = console_socket(r);
    let err = r.fails(&[
        "create",
        "-b",
        bundle.to_str().unwrap(),
        "--console-socket",
        socket.to_str().unwrap(),
        id,
    ]);
    assert!(err.contains(what), "the error names {what}: {err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    accepter.join().unwrap();
    assert!(r.ok(&["list", "-q"]).trim().is_empty());
    assert!(!r.root().join(id).exists());
}

#[test]
fn a_console_leading_out_of_the_container_is_refused() {
    let r = Runc::new("runc-attack-console");
    let host_file = r.dir.path.join("host-file");
    std::fs::write(&host_file, "host\n").unwrap();
    let program = ["sh", "-c", "echo pwned > /dev/console; echo ran > /tmp/ran"];
    let relative = format!("../../../../../../..{}", host_file.display());
    for (n, target) in [
        "/proc/sysrq-trigger",
        host_file.to_str().unwrap(),
        relative.as_str(),
    ]
    .into_iter()
    .enumerate()
    {
        let name = format!("b{n}");
        let bundle = hostile_bundle(
            &r,
            &name,
            &program,
            |dev| {
                std::os::unix::fs::symlink("pts/ptmx", dev.join("ptmx")).unwrap();
                std::os::unix::fs::symlink(target, dev.join("console")).unwrap();
            },
            |c| c["process"]["terminal"] = true.into(),
        );
        refused_with_terminal(&r, &bundle, &format!("console{n}"), "/dev/console");
        assert!(!bundle.join("out/ran").exists(), "the program never ran");
    }
    assert_eq!(std::fs::read_to_string(&host_file).unwrap(), "host\n");
    let mounts = host_mounts();
    assert!(
        !mounts.contains("sysrq-trigger") && !mounts.contains("host-file"),
        "nothing bound on the host: {mounts}"
    );
}

#[test]
fn a_terminal_found_through_a_planted_dev_pts_is_refused() {
    let r = Runc::new("runc-attack-pts");
    // /dev/ptmx is a real ptmx, but /dev/pts is a plain directory of the image whose
    // entries lead to /proc/sysrq-trigger: a terminal's slave found there by name
    // would be the host's sysrq trigger, bound on /dev/console and the program's stdio.
    let program = [
        "sh",
        "-c",
        "readlink /proc/self/fd/1 > /tmp/stdout; echo ran > /tmp/ran",
    ];
    let bundle = hostile_bundle(
        &r,
        "b",
        &program,
        |dev| {
            nix::sys::stat::mknod(
                &dev.join("ptmx"),
                nix::sys::stat::SFlag::S_IFCHR,
                nix::sys::stat::Mode::from_bits_truncate(0o666),
                nix::sys::stat::makedev(5, 2),
            )
            .unwrap();
            for n in 0..1024 {
                std::os::unix::fs::symlink("/proc/sysrq-trigger", dev.join(format!("pts/{n}")))
                    .unwrap();
            }
        },
        |c| {
            c["process"]["terminal"] = true.into();
            // Without a devpts of its own, and sysrq-trigger left writable.
            drop_mounts(c, &["/dev/pts"]);
            c["linux"]["readonlyPaths"] = serde_json::json!([]);
        },
    );
    refused_with_terminal(&r, &bundle, "pts", "/dev/pts");
    assert!(!bundle.join("out/ran").exists(), "the program never ran");
    assert!(!host_mounts().contains("sysrq-trigger"));
}

#[test]
fn masked_paths_are_not_hidden_with_a_planted_dev_null() {
    let r = Runc::new("runc-attack-null");
    let core_pattern = std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap();
    // Were /dev/null followed, /proc/timer_list would be the host's core_pattern,
    // writable (readonlyPaths make /proc/sys read-only, not the mask). The program
    // only reads it: a test must not write the host's core_pattern.
    let program = [
        "sh",
        "-c",
        "cat /proc/timer_list > /tmp/timer_list; echo ran > /tmp/ran",
    ];
    for (n, target) in [
        "/proc/sys/kernel/core_pattern",
        "../proc/sys/kernel/core_pattern",
    ]
    .into_iter()
    .enumerate()
    {
        let bundle = hostile_bundle(
            &r,
            &format!("b{n}"),
            &program,
            |dev| std::os::unix::fs::symlink(target, dev.join("null")).unwrap(),
            |c| {
                let masked = c["linux"]["maskedPaths"].as_array().unwrap();
                assert!(masked.contains(&"/proc/timer_list".into()));
            },
        );
        let out = r.run(&["run", "-b", bundle.to_str().unwrap(), &format!("null{n}")]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "the run is refused");
        assert!(
            err.contains("/dev/null"),
            "the error names /dev/null: {err}"
        );
        assert!(!bundle.join("out/ran").exists(), "the program never ran");
        assert!(r.ok(&["list", "-q"]).trim().is_empty());
    }
    assert_eq!(
        std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap(),
        core_pattern
    );
    assert!(!host_mounts().contains("core_pattern"));
}

#[test]
fn masked_and_read_only_paths_through_symlinks_stay_inside() {
    // A masked or read-only path that is a symlink in the image is resolved after
    // pivot_root, inside the container: at worst it hides or freezes the container's
    // own files. The host's file it names stays writable and unmounted.
    let r = Runc::new("runc-attack-ro");
    let host_file = r.dir.path.join("host-ro");
    std::fs::write(&host_file, "host\n").unwrap();
    let rootfs = r.dir.path.join("ro-rootfs");
    copy_busybox_rootfs(&rootfs);
    std::os::unix::fs::symlink(&host_file, rootfs.join("etc/ro-link")).unwrap();
    std::os::unix::fs::symlink(&host_file, rootfs.join("etc/masked-link")).unwrap();
    let bundle = r.bundle("b", &["sh", "-c", "echo ran > /tmp/ran"], |c| {
        c["root"]["path"] = rootfs.to_str().unwrap().into();
        c["root"]["readonly"] = false.into();
        c["linux"]["readonlyPaths"]
            .as_array_mut()
            .unwrap()
            .push("/etc/ro-link".into());
        c["linux"]["maskedPaths"]
            .as_array_mut()
            .unwrap()
            .push("/etc/masked-link".into());
    });
    r.ok(&["run", "-b", bundle.to_str().unwrap(), "ro"]);
    assert!(bundle.join("out/ran").exists());
    std::fs::write(&host_file, "still writable\n").unwrap();
    assert!(!host_mounts().contains("host-ro"));
}
