//! `minipod-runc` and the container's process: a terminal handed over the console
//! socket, exec into a running container only, ambient capabilities, descriptors
//! passed on with --preserve-fds, and rlimits. Each test has its own `--root` and
//! bundles over the busybox image.

mod common;

use common::process::alive;
use common::runc::Runc;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// Receive the descriptor the runtime sends over the console socket.
fn receive_fd(listener: &std::os::unix::net::UnixListener) -> OwnedFd {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    let (stream, _) = listener.accept().unwrap();
    let mut buf = [0u8; 256];
    let mut iov = [std::io::IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let msg = recvmsg::<()>(
        stream.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::empty(),
    )
    .unwrap();
    for cmsg in msg.cmsgs().unwrap() {
        if let ControlMessageOwned::ScmRights(fds) = cmsg {
            return unsafe { OwnedFd::from_raw_fd(fds[0]) };
        }
    }
    panic!("no descriptor on the console socket");
}

fn read_until(master: &OwnedFd, needle: &str) -> String {
    let mut all = String::new();
    let mut buf = [0u8; 1024];
    for _ in 0..200 {
        match nix::unistd::read(master, &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => all.push_str(&String::from_utf8_lossy(&buf[..n])),
        }
        if all.contains(needle) {
            break;
        }
    }
    all
}

#[test]
fn a_terminal_goes_to_the_console_socket() {
    let r = Runc::new("runc-tty");
    let bundle = r.bundle(
        "b",
        &[
            "sh",
            "-c",
            "tty; stat -c console=%t:%T /dev/console; echo done; sleep 1000",
        ],
        |c| {
            c["process"]["terminal"] = true.into();
        },
    );
    let socket = r.dir.path.join("console.sock");
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let err = r.fails(&["create", "-b", bundle.to_str().unwrap(), "t0"]);
    assert!(err.contains("--console-socket"), "{err}");
    let receiver = std::thread::spawn(move || receive_fd(&listener));
    r.ok(&[
        "create",
        "-b",
        bundle.to_str().unwrap(),
        "--console-socket",
        socket.to_str().unwrap(),
        "t",
    ]);
    let master = receiver.join().unwrap();
    r.ok(&["start", "t"]);
    let out = read_until(&master, "done");
    assert!(
        out.contains("/dev/pts/0"),
        "the program's stdio is the pty: {out:?}"
    );
    // /dev/console is that terminal (136:0, in hex).
    assert!(out.contains("console=88:0"), "{out:?}");

    // exec -t: a second terminal, through the socket again.
    let listener = std::os::unix::net::UnixListener::bind(r.dir.path.join("exec.sock")).unwrap();
    let receiver = std::thread::spawn(move || receive_fd(&listener));
    let exec_socket = r.dir.path.join("exec.sock");
    r.ok(&[
        "exec",
        "--tty",
        "--detach",
        "--console-socket",
        exec_socket.to_str().unwrap(),
        "t",
        "sh",
        "-c",
        "tty; echo exec-done",
    ]);
    let master = receiver.join().unwrap();
    let out = read_until(&master, "exec-done");
    assert!(out.contains("/dev/pts/1"), "{out:?}");
    r.ok(&["delete", "--force", "t"]);
}

#[test]
fn exec_runs_in_a_running_container_only() {
    let r = Runc::new("runc-exec");
    let bundle = r.bundle("b", &["sleep", "1000"], |c| {
        c["process"]["env"] = serde_json::json!(["PATH=/bin:/usr/bin", "FROM_SPEC=yes"]);
    });
    r.ok(&["create", "-b", bundle.to_str().unwrap(), "e"]);
    let err = r.fails(&["exec", "e", "true"]);
    assert!(err.contains("it is created"), "{err}");
    r.ok(&["start", "e"]);

    // Foreground: output, environment, exit status.
    let out = r.run(&[
        "exec",
        "--env",
        "EXTRA=1",
        "e",
        "sh",
        "-c",
        "echo $FROM_SPEC$EXTRA; hostname; exit 7",
    ]);
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "yes1\nminipod\n");

    // --process FILE with --detach and --pid-file: the PID is the command's, in the
    // container's cgroup.
    let process = r.dir.path.join("process.json");
    std::fs::write(
        &process,
        serde_json::to_vec(&serde_json::json!({
            "args": ["sh", "-c", "echo $$ > /tmp/exec.pid; exec sleep 1000"],
            "cwd": "/tmp",
            "env": ["PATH=/bin"],
            "user": {"uid": 0, "gid": 0},
        }))
        .unwrap(),
    )
    .unwrap();
    let pid_file = r.dir.path.join("exec-pid");
    r.ok(&[
        "exec",
        "--process",
        process.to_str().unwrap(),
        "--detach",
        "--pid-file",
        pid_file.to_str().unwrap(),
        "e",
    ]);
    let pid: i64 = std::fs::read_to_string(&pid_file).unwrap().parse().unwrap();
    assert!(alive(pid));
    let pids: Vec<i64> = serde_json::from_str(&r.ok(&["ps", "-f", "json", "e"])).unwrap();
    assert!(pids.contains(&pid), "{pid} not in {pids:?}");
    let table = r.ok(&["ps", "e"]);
    assert!(
        table.contains("sleep 1000") && table.starts_with("UID"),
        "{table}"
    );

    r.ok(&["kill", "e", "KILL"]);
    r.wait_status("e", "stopped");
    let err = r.fails(&["exec", "e", "true"]);
    assert!(err.contains("it is stopped"), "{err}");
    r.ok(&["delete", "e"]);
}

#[test]
fn ambient_capabilities_without_inheritable_are_skipped_as_runc_does() {
    let r = Runc::new("runc-ambient");
    // What `runc spec` writes: ambient capabilities, no inheritable set.
    let bundle = r.bundle(
        "b",
        &["sh", "-c", "grep -E 'CapEff|CapAmb' /proc/self/status"],
        |c| {
            let three = serde_json::json!(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]);
            c["process"]["capabilities"] = serde_json::json!({
                "bounding": three, "effective": three, "permitted": three, "ambient": three,
            });
        },
    );
    let out = r.run(&["run", "-b", bundle.to_str().unwrap(), "amb"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    // AUDIT_WRITE (29), KILL (5), NET_BIND_SERVICE (10).
    assert!(text.contains("CapEff:\t0000000020000420"), "{text}");
    assert!(text.contains("CapAmb:\t0000000000000000"), "{text}");
}

#[test]
fn preserve_fds_passes_the_callers_descriptors_on() {
    use std::io::Read;
    use std::os::unix::process::CommandExt;
    let r = Runc::new("runc-fds");
    // fd 3 is a pipe the program writes to; fd 5 is open too, but not passed on.
    let bundle = r.bundle(
        "b",
        &[
            "sh",
            "-c",
            "echo through-fd-3 >&3; ls /proc/self/fd | tr '\\n' ' ' >&3",
        ],
        |_| {},
    );
    let (mut reader, writer) = std::io::pipe().unwrap();
    // Out of the way of 3 and 5 first (dup2 onto itself would keep close-on-exec).
    let writer_fd = unsafe { libc::fcntl(writer.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 50) };
    assert!(writer_fd >= 50);
    let mut cmd = r.command(&[
        "run",
        "--preserve-fds",
        "1",
        "-b",
        bundle.to_str().unwrap(),
        "fds",
    ]);
    unsafe {
        cmd.pre_exec(move || {
            if libc::dup2(writer_fd, 3) < 0 || libc::dup2(writer_fd, 5) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let status = cmd.stdin(std::process::Stdio::null()).status().unwrap();
    drop(writer);
    unsafe { libc::close(writer_fd) };
    assert!(status.success());
    let mut got = String::new();
    reader.read_to_string(&mut got).unwrap();
    let mut lines = got.lines();
    assert_eq!(lines.next(), Some("through-fd-3"));
    // 0-3, and the directory ls itself opens (4); never the caller's 5.
    let fds: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert!(fds.contains(&"3"), "{fds:?}");
    assert!(!fds.contains(&"5"), "fd 5 was not to be passed on: {fds:?}");
}

#[test]
fn process_rlimits_are_applied() {
    let r = Runc::new("runc-rlimits");
    let bundle = r.bundle("b", &["sh", "-c", "ulimit -n; ulimit -Hn"], |c| {
        c["process"]["rlimits"] = serde_json::json!([
            {"type": "RLIMIT_NOFILE", "soft": 512, "hard": 600}
        ]);
    });
    let out = r.run(&["run", "-b", bundle.to_str().unwrap(), "rl"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "512\n600\n");
    assert!(out.status.success());
}

#[test]
fn exec_preserve_fds_passes_the_callers_descriptors_on() {
    use std::os::unix::process::CommandExt;
    let r = Runc::new("runc-exec-fds");
    let bundle = r.bundle("b", &["sleep", "1000"], |_| {});
    r.ok(&["run", "-d", "-b", bundle.to_str().unwrap(), "x"]);
    // fd 3 and 4 are files the command writes through; fd 5 is open but not passed.
    let three = r.dir.path.join("three");
    let four = r.dir.path.join("four");
    let f3 = std::fs::File::create(&three).unwrap();
    let f4 = std::fs::File::create(&four).unwrap();
    // Out of the way of 3..5 first, so no dup2 below overwrites another's source.
    let high = |f: &std::fs::File| unsafe { libc::fcntl(f.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 50) };
    let (raw3, raw4) = (high(&f3), high(&f4));
    assert!(raw3 >= 50 && raw4 >= 50);
    for detach in [false, true] {
        let mut args = vec!["exec", "--preserve-fds", "2"];
        if detach {
            args.push("--detach");
        }
        args.extend([
            "x",
            "sh",
            "-c",
            "echo via-3 >&3; echo via-4 >> /proc/self/fd/4; for n in 3 4 5; do [ -e /proc/$$/fd/$n ] && printf \"$n \" >&3; done; echo >&3",
        ]);
        let mut cmd = r.command(&args);
        unsafe {
            cmd.pre_exec(move || {
                for (from, to) in [(raw3, 3), (raw4, 4), (raw3, 5)] {
                    if libc::dup2(from, to) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
        let status = cmd.stdin(std::process::Stdio::null()).status().unwrap();
        assert!(status.success());
    }
    // The detached one may still be writing: wait for its two lines.
    let mut text = String::new();
    for _ in 0..500 {
        text = std::fs::read_to_string(&three).unwrap();
        if text.lines().count() == 4 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text:?}");
    for pair in lines.chunks(2) {
        assert_eq!(pair[0], "via-3");
        let fds: Vec<&str> = pair[1].split_whitespace().collect();
        assert!(fds.contains(&"3") && fds.contains(&"4"), "{fds:?}");
        assert!(!fds.contains(&"5"), "fd 5 was not to be passed on: {fds:?}");
    }
    assert_eq!(std::fs::read_to_string(&four).unwrap(), "via-4\nvia-4\n");
    unsafe {
        libc::close(raw3);
        libc::close(raw4);
    }
    r.ok(&["delete", "--force", "x"]);
}

#[test]
fn socket_activation_fds_go_first_with_listen_fds() {
    use std::io::Read;
    use std::os::unix::process::CommandExt;
    let r = Runc::new("runc-listen-fds");
    // systemd hands runc LISTEN_FDS=1 (fd 3) for its own PID; with --preserve-fds 1
    // the caller's fd 4 follows. The program sees LISTEN_FDS=1, LISTEN_PID=1.
    let bundle = r.bundle(
        "b",
        &[
            "sh",
            "-c",
            "echo activated $LISTEN_FDS $LISTEN_PID >&3; echo preserved >&4",
        ],
        |_| {},
    );
    let (mut reader, writer) = std::io::pipe().unwrap();
    // Out of the way of 3 and 4 first (dup2 onto itself would keep close-on-exec).
    let writer_fd = unsafe { libc::fcntl(writer.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 50) };
    assert!(writer_fd >= 50);
    let mut cmd = std::process::Command::new("/bin/sh");
    // `exec` keeps the shell's PID, which LISTEN_PID names.
    cmd.args([
        "-c",
        "LISTEN_PID=$$ LISTEN_FDS=1 exec \"$@\"",
        "sh",
        r.binary().to_str().unwrap(),
        "--root",
        r.root().to_str().unwrap(),
        "run",
        "--preserve-fds",
        "1",
        "-b",
        bundle.to_str().unwrap(),
        "act",
    ]);
    unsafe {
        cmd.pre_exec(move || {
            if libc::dup2(writer_fd, 3) < 0 || libc::dup2(writer_fd, 4) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let status = cmd.stdin(std::process::Stdio::null()).status().unwrap();
    drop(writer);
    unsafe { libc::close(writer_fd) };
    assert!(status.success());
    let mut got = String::new();
    reader.read_to_string(&mut got).unwrap();
    assert_eq!(got, "activated 1 1\npreserved\n");
}

#[test]
fn a_terminal_without_console_socket_is_relayed_by_a_foreground_run_or_exec_only() {
    use std::io::Write;
    let r = Runc::new("runc-tty-relay");
    let bundle = r.bundle(
        "b",
        &[
            "sh",
            "-c",
            "tty; test -t 0 && echo stdin-is-a-tty; read line; echo got:$line; exit 3",
        ],
        |c| c["process"]["terminal"] = true.into(),
    );
    // create and run --detach would leave nobody holding the terminal: runc's error.
    for args in [
        vec!["create", "-b", bundle.to_str().unwrap(), "t1"],
        vec!["run", "--detach", "-b", bundle.to_str().unwrap(), "t2"],
    ] {
        let err = r.fails(&args);
        assert!(
            err.contains(
                "cannot allocate tty if minipod-runc will detach without setting console socket"
            ),
            "{err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    assert!(r.ok(&["list", "-q"]).trim().is_empty());

    // A foreground run relays: our stdin (a pipe) to the terminal, the terminal to
    // our stdout; the exit status is the program's.
    let mut child = r
        .command(&["run", "-b", bundle.to_str().unwrap(), "t3"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"hello\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("/dev/pts/0"),
        "the program's stdio is a pty: {text:?}"
    );
    assert!(text.contains("stdin-is-a-tty"), "{text:?}");
    assert!(text.contains("got:hello"), "our stdin reached it: {text:?}");
    assert!(r.ok(&["list", "-q"]).trim().is_empty(), "run deleted it");

    // exec -t without a console socket: relayed the same way; with --detach refused.
    let bundle = r.bundle("e", &["sleep", "1000"], |_| {});
    r.ok(&["run", "-d", "-b", bundle.to_str().unwrap(), "t4"]);
    let script = "tty; read line; echo got:$line; exit 4";
    let err = r.fails(&["exec", "-t", "-d", "t4", "sh", "-c", script]);
    assert!(err.contains("cannot allocate tty"), "{err}");
    let mut child = r
        .command(&["exec", "-t", "t4", "sh", "-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"again\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(4), "{text}");
    assert!(text.contains("/dev/pts/"), "{text:?}");
    assert!(text.contains("got:again"), "{text:?}");
    r.ok(&["delete", "--force", "t4"]);
}

#[test]
fn a_relayed_terminal_takes_our_size_and_follows_sigwinch() {
    let r = Runc::new("runc-tty-size");
    // The program prints its size, then waits (10 s at most) until it changes and
    // prints it again.
    let script = "stty size; i=0; while [ \"$(stty size)\" = '33 77' ] && [ $i -lt 200 ]; do i=$((i+1)); sleep 0.05; done; stty size";
    let bundle = r.bundle("b", &["sh", "-c", script], |c| {
        c["process"]["terminal"] = true.into()
    });
    follows_our_terminal(&r, &["run", "-b", bundle.to_str().unwrap(), "sz"]);
    // exec -t relays the same way.
    let bundle = r.bundle("e", &["sleep", "1000"], |_| {});
    r.ok(&["run", "-d", "-b", bundle.to_str().unwrap(), "sz2"]);
    follows_our_terminal(&r, &["exec", "-t", "sz2", "sh", "-c", script]);
    r.ok(&["delete", "--force", "sz2"]);
}

/// Run `args` (a program printing its terminal's size before and after a change) with
/// a pty of 33x77 as stdin, resize it to 40x100 once the first size is printed, and
/// check the program saw both.
fn follows_our_terminal(r: &Runc, args: &[&str]) {
    use std::io::Read;
    let size = |rows, cols| libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // Our stdin is a terminal of 33 rows, 77 columns.
    let ours = nix::pty::openpty(Some(&size(33, 77)), None).unwrap();
    let mut child = r
        .command(args)
        .stdin(std::process::Stdio::from(ours.slave.try_clone().unwrap()))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut seen = String::new();
    let mut buf = [0u8; 256];
    while !seen.contains("33 77") {
        let n = stdout.read(&mut buf).unwrap();
        assert!(n > 0, "{args:?} ended before its size: {seen:?}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    // Resized: the kernel would tell our process group; minipod-runc gets SIGWINCH.
    unsafe { libc::ioctl(ours.master.as_raw_fd(), libc::TIOCSWINSZ, &size(40, 100)) };
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGWINCH,
    )
    .unwrap();
    stdout.read_to_string(&mut seen).unwrap();
    assert!(child.wait().unwrap().success(), "{args:?}");
    assert!(seen.contains("40 100"), "{args:?}: {seen:?}");
}
