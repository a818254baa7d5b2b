//! The infra process: the pod's namespaces are born here, and it holds them.
//!
//! The supervisor forks; the child unshares NET, IPC and UTS (and PID with
//! `shareProcessNamespace`, where one more fork makes the pause program PID 1), names
//! the host after the pod, brings `lo` up and execs the tiny `minipod-pause` program.
//! Containers later join these namespaces through `/proc/<infra pid>/ns/*`.

use crate::narration::{self, step};
use crate::runtime::channel::{self, ChildMessage};
use crate::runtime::{self, namespaces};
use anyhow::{anyhow, Context, Result};
use nix::sched::CloneFlags;
use nix::sys::wait::waitpid;
use nix::unistd::{fork, ForkResult, Pid};
use std::ffi::CString;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

/// The pause program installed next to the minipod binary.
pub fn pause_program() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("find the minipod binary")?;
    let pause = exe.with_file_name("minipod-pause");
    if !pause.is_file() {
        anyhow::bail!(
            "the infra program {} is missing (it is built and installed with minipod)",
            pause.display()
        );
    }
    Ok(pause)
}

pub fn start(hostname: &str, share_pid: bool, pause: &Path) -> Result<Pid> {
    let (parent_end, child_end) = channel::pair()?;
    // SAFETY: the supervisor is single-threaded, so the child may run Rust code.
    match unsafe { fork() }.context("fork the infra process")? {
        ForkResult::Child => {
            drop(parent_end);
            runtime::unblock_signals();
            let forward = child_end.try_clone();
            if let Ok(fwd) = forward {
                narration::set_actor("infra");
                narration::set_sink(narration::Sink::Forward(Box::new(move |s| {
                    channel::send(&fwd, &ChildMessage::Step(s.clone()))
                })));
            }
            if let Err(err) = become_infra(hostname, share_pid, pause, &child_end) {
                channel::send(&child_end, &ChildMessage::Error(err.into()));
            }
            // SAFETY: end the forked child without running the parent's exit handlers.
            unsafe { libc::_exit(1) }
        }
        ForkResult::Parent { child } => {
            drop(child_end);
            let mut pid = Pid::from_raw(child.as_raw());
            let mut error = None;
            while let Some(message) = channel::receive(&parent_end)? {
                match message {
                    ChildMessage::Step(s) => narration::record(s),
                    ChildMessage::Pid(p) => pid = Pid::from_raw(p),
                    ChildMessage::Error(e) => error = Some(e),
                }
            }
            if let Some(err) = error {
                let _ = waitpid(child, None);
                return Err(anyhow!(err)).context("start the infra process");
            }
            if pid != child {
                // With a PID namespace, the first child only forked the pause: reap it.
                let _ = waitpid(child, None);
            }
            Ok(pid)
        }
    }
}

fn become_infra(
    hostname: &str,
    share_pid: bool,
    pause: &Path,
    channel_end: &OwnedFd,
) -> Result<()> {
    runtime::set_process_name("minipod-infra");
    let mut flags = CloneFlags::CLONE_NEWNET | CloneFlags::CLONE_NEWIPC | CloneFlags::CLONE_NEWUTS;
    if share_pid {
        flags |= CloneFlags::CLONE_NEWPID;
    }
    nix::sched::unshare(flags)
        .with_context(|| format!("unshare({})", namespaces::describe(flags)))?;
    step(
        format!("unshare({})", namespaces::describe(flags)),
        "the pod's network, IPC and hostname are born here",
    );
    nix::unistd::sethostname(hostname).with_context(|| format!("sethostname {hostname}"))?;
    crate::net::loopback::bring_up()?;
    step(
        format!("sethostname({hostname:?}); ip link set lo up"),
        "every container of the pod will see this name and this localhost",
    );
    if share_pid {
        // SAFETY: single-threaded child; the grandchild becomes PID 1 of the new namespace.
        match unsafe { fork() }.context("fork the pause process into the pod's PID namespace")? {
            ForkResult::Parent { child } => {
                channel::send(channel_end, &ChildMessage::Pid(child.as_raw()));
                // SAFETY: see above.
                unsafe { libc::_exit(0) }
            }
            ForkResult::Child => narration::set_pid(runtime::host_pid()),
        }
    }
    crate::runtime::process::close_fds_on_exec()?;
    let program = CString::new(pause.as_os_str().as_encoded_bytes()).context("pause path")?;
    step(
        format!("execve({:?})", pause.display().to_string()),
        "pause(): hold the namespaces, reap zombies, exit on SIGTERM",
    );
    // `ps` shows which pod this pause holds.
    let argv = [
        CString::new("minipod-pause").context("argv")?,
        CString::new(hostname).context("argv")?,
    ];
    let env: [CString; 0] = [];
    nix::unistd::execve(&program, &argv, &env)
        .with_context(|| format!("exec {}", pause.display()))?;
    Ok(())
}
