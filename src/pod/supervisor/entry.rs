//! The `minipod-shim` program (`src/bin/minipod-shim.rs`): its command line, read by
//! hand so that no argument parser is linked into what stays resident per pod.
//!
//! - `minipod-shim <uid>`: the supervisor of pod `uid`, started by `apply`
//!   (`create::spawn_supervisor`) with the write end of its readiness pipe on
//!   `$MINIPOD_READY_FD` and the state root and CNI directories in the environment
//!   (`MINIPOD_ROOT`, `MINIPOD_CNI_CONF_DIR`, `MINIPOD_CNI_BIN_DIR`);
//! - `minipod-shim host-ports INFRA_PID ADDR:HOSTPORT:REMOTE...`: the pod's hostPorts
//!   forwarder, which the supervisor starts itself (see `net::port_forward`).
//!
//! Errors end as one line on standard error (the supervisor's log) and exit code 1.

use crate::state::paths::StateRoot;
use anyhow::{bail, Context, Result};
use std::ffi::OsString;
use std::os::fd::FromRawFd;
use std::path::PathBuf;

/// The program's name, as `apply` finds it next to `minipod` and `delete` and the
/// views recognize its process.
pub const PROGRAM: &str = "minipod-shim";

/// The first argument that makes `minipod-shim` the hostPorts forwarder.
pub const HOST_PORTS: &str = "host-ports";

/// The supervisor's program, installed next to the running minipod (as `minipod-pause`
/// is), or why it cannot be run.
pub fn program() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("find the minipod binary")?;
    let shim = exe.with_file_name(PROGRAM);
    if !shim.is_file() {
        bail!(
            "the pod supervisor program {} is missing (it is built and installed with minipod)",
            shim.display()
        );
    }
    Ok(shim)
}

/// Does a process's command line (`/proc/PID/cmdline`, split) say it is the supervisor
/// of pod `uid`: `.../minipod-shim <uid>`?
pub fn is_supervisor_cmdline(args: &[String], uid: &str) -> bool {
    match args {
        [program, arg] => {
            std::path::Path::new(program).file_name() == Some(std::ffi::OsStr::new(PROGRAM))
                && arg == uid
        }
        _ => false,
    }
}

/// Run the program with this process's arguments; the exit code.
pub fn main() -> i32 {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    match run(&args) {
        Ok(()) => 0,
        Err(err) => {
            eprintln!("{PROGRAM}: error: {err:#}");
            1
        }
    }
}

fn run(args: &[OsString]) -> Result<()> {
    let words: Vec<&str> = args
        .iter()
        .map(|a| a.to_str().context("an argument is not UTF-8"))
        .collect::<Result<_>>()?;
    match words.as_slice() {
        [verb, infra_pid, forwards @ ..] if *verb == HOST_PORTS => {
            crate::runtime::set_process_name("minipod-hostports");
            let infra_pid: i32 = infra_pid
                .parse()
                .with_context(|| format!("{HOST_PORTS}: infra PID {infra_pid:?}"))?;
            let forwards: Vec<String> = forwards.iter().map(|f| f.to_string()).collect();
            // Bound and reported: from here on only the copy loop runs (see `resident`).
            crate::net::port_forward::run_host_ports(infra_pid, &forwards, || {
                super::resident::shed();
            })
        }
        [uid] if !uid.starts_with('-') && *uid != HOST_PORTS => supervise(uid),
        _ => bail!(
            "usage: {PROGRAM} <pod uid> | {PROGRAM} {HOST_PORTS} INFRA_PID ADDR:HOSTPORT:REMOTE... \
             (started by minipod apply, not by hand)"
        ),
    }
}

/// The supervisor of pod `uid`.
fn supervise(uid: &str) -> Result<()> {
    let ready = std::env::var("MINIPOD_READY_FD")
        .ok()
        .and_then(|v| v.parse::<i32>().ok())
        // SAFETY: apply placed the write end of its pipe on this descriptor for us.
        .map(|fd| unsafe { std::fs::File::from_raw_fd(fd) });
    std::env::remove_var("MINIPOD_READY_FD");
    let state = state_from_env();
    super::run(&state, uid, ready)
}

/// The state root and CNI directories `apply` passed in the environment (empty is unset,
/// as for the CLI).
fn state_from_env() -> StateRoot {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    StateRoot::new(var("MINIPOD_ROOT").map(PathBuf::from).as_deref()).with_cni_dirs(
        var("MINIPOD_CNI_CONF_DIR").map(PathBuf::from),
        var("MINIPOD_CNI_BIN_DIR").and_then(|v| v.into_string().ok()),
    )
}

#[cfg(test)]
mod tests {
    use super::{is_supervisor_cmdline, run};
    use std::ffi::OsString;

    fn error_of(args: &[&str]) -> String {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        format!("{:#}", run(&args).unwrap_err())
    }

    #[test]
    fn a_wrong_command_line_says_how_the_program_is_started() {
        for args in [&[][..], &["--help"], &["u1", "u2"], &["host-ports"]] {
            let err = error_of(args);
            assert!(
                err.starts_with("usage: minipod-shim <pod uid>")
                    && err.contains("started by minipod apply"),
                "{args:?}: {err}"
            );
        }
        assert_eq!(
            error_of(&["host-ports", "x", "127.0.0.1:1:80"]),
            "host-ports: infra PID \"x\": invalid digit found in string"
        );
    }

    fn words(line: &str) -> Vec<String> {
        line.split(' ').map(String::from).collect()
    }

    #[test]
    fn the_supervisor_is_known_by_its_program_and_uid() {
        assert!(is_supervisor_cmdline(
            &words("/usr/local/bin/minipod-shim u1"),
            "u1"
        ));
        assert!(is_supervisor_cmdline(&words("minipod-shim u1"), "u1"));
        assert!(!is_supervisor_cmdline(&words("minipod-shim u2"), "u1"));
        assert!(!is_supervisor_cmdline(
            &words("minipod-shim host-ports 7 a"),
            "u1"
        ));
        assert!(!is_supervisor_cmdline(&words("/bin/minipod shim u1"), "u1"));
        assert!(!is_supervisor_cmdline(
            &words("/bin/not-minipod-shim u1"),
            "u1"
        ));
        assert!(!is_supervisor_cmdline(&[], "u1"));
    }
}
