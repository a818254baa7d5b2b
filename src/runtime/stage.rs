//! Every process that builds or enters a container starts as a *stage*: minipod
//! forks, and the child re-executes itself from the sealed copy of the binary
//! ([`super::sealed`]) with a job to do, received over the setup channel:
//!
//! ```text
//! caller (minipod-shim, or the `exec` CLI / minipod-runc: minipod)
//!  └─ fork → execveat(its sealed copy)   "minipod-inter" (create) / "minipod-exec" (exec)
//!       PR_SET_DUMPABLE 0, then joins the container's namespaces …
//! ```
//!
//! The channel is the caller's `SOCK_SEQPACKET` socketpair, handed over as fd 3; the
//! job (a container to create, a command to run in one) is its first message. The
//! stage has no environment and no other descriptor than 0, 1, 2 and the channel.

use super::channel::{self, ChildMessage};
use super::{exec, sealed};
use crate::narration;
use anyhow::{bail, Context, Result};
use nix::unistd::{fork, ForkResult, Pid};
use oci_spec::runtime::Spec;
use serde::{Deserialize, Serialize};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::PathBuf;

/// argv[1] of a re-executed stage (no user types it: it is not a verb).
const MARKER: &str = "__minipod_runtime_stage";
/// Where the stage finds its end of the channel.
const CHANNEL_FD: RawFd = 3;
/// A job carries a whole spec; far below the socket's buffer.
const MAX_JOB: usize = 1024 * 1024;

#[derive(Serialize, Deserialize)]
pub enum Job {
    /// Build a container: join and create namespaces, mounts, pivot_root, exec.
    Create {
        name: String,
        bundle: PathBuf,
        spec: Box<Spec>,
        /// The spec's `linux.seccomp`, compiled by the caller: the init only loads it.
        seccomp: Option<super::seccomp::Program>,
        /// runc's `create`: wait before the program until `start` (see `start_gate`).
        #[serde(default)]
        gate: Option<super::start_gate::Gate>,
        /// runc's `--preserve-fds`: the caller's descriptors 3.. go to the program.
        #[serde(default)]
        preserve_fds: u32,
    },
    /// Run a command in a running container.
    Exec(Box<exec::ExecJob>),
}

/// Called first by `main`: when this process is a re-executed stage, do its job and
/// return the exit code; `None` for every ordinary start of minipod.
pub fn run_if_stage() -> Option<i32> {
    if std::env::args_os().nth(1).as_deref() != Some(std::ffi::OsStr::new(MARKER)) {
        return None;
    }
    // Above the descriptors passed on to the program, when there are any (argv[2]).
    let channel_fd = std::env::args()
        .nth(2)
        .and_then(|a| a.parse::<RawFd>().ok())
        .filter(|fd| *fd >= CHANNEL_FD)
        .unwrap_or(CHANNEL_FD);
    // SAFETY: the caller placed our end of the channel on this fd for us; no one else
    // in this fresh process owns it.
    let channel_end = unsafe { OwnedFd::from_raw_fd(channel_fd) };
    // Before anything else: nothing of a container may open this process.
    if let Err(err) = sealed::make_non_dumpable() {
        channel::send(&channel_end, &ChildMessage::Error(super::Error::from(err)));
        return Some(1);
    }
    super::unblock_signals();
    // Keep it out of the container's program.
    let _ = nix::fcntl::fcntl(
        &channel_end,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
    );
    let job = match receive_job(&channel_end) {
        Ok(job) => job,
        Err(err) => {
            channel::send(&channel_end, &ChildMessage::Error(super::Error::from(err)));
            return Some(1);
        }
    };
    Some(match job {
        Job::Create {
            name,
            bundle,
            spec,
            seccomp,
            gate,
            preserve_fds,
        } => {
            forward_steps_to(&channel_end, &name);
            let setup = super::Setup {
                spec: &spec,
                seccomp: seccomp.as_ref(),
                gate: gate.as_ref(),
                preserve_fds,
                channel_end: &channel_end,
            };
            if let Err(err) = super::create_stage(&setup, &bundle) {
                channel::send(&channel_end, &ChildMessage::Error(err));
            }
            1
        }
        Job::Exec(job) => {
            forward_steps_to(&channel_end, &job.who);
            exec::stage(*job, &channel_end)
        }
    })
}

/// Fork, and in the child re-execute the sealed copy of minipod as a stage named
/// `name` (what `ps` shows) with the given standard streams; send it `job`. Returns
/// the stage's PID and the caller's end of the channel, to read what the stage says.
/// `preserve`: our descriptors 3, 4, … that stay where they are for the program (the
/// channel then goes above them).
pub fn start(
    name: &str,
    job: &Job,
    stdio: [Option<BorrowedFd>; 3],
    preserve: u32,
) -> Result<(Pid, OwnedFd)> {
    let sealed = sealed::binary()?;
    let (parent_end, child_end) = channel::pair()?;
    // SAFETY: our callers (the supervisor, the CLI) are single-threaded, so the child
    // may run ordinary Rust code until it execs.
    match unsafe { fork() }.context("fork a runtime stage")? {
        ForkResult::Child => {
            drop(parent_end);
            // The re-exec is narrated as this process's own step, named as `ps` names it.
            crate::narration::set_actor(name);
            let channel_fd = (CHANNEL_FD + preserve as RawFd).to_string();
            let argv: &[&str] = if preserve == 0 {
                &[name, MARKER]
            } else {
                &[name, MARKER, &channel_fd]
            };
            let err = match place_fds(&child_end, stdio, preserve) {
                Ok(()) => match sealed::reexec(sealed, argv) {
                    Ok(never) => match never {},
                    Err(err) => err,
                },
                Err(err) => err,
            };
            channel::send(&child_end, &ChildMessage::Error(super::Error::from(err)));
            // SAFETY: _exit ends the forked child without the parent's exit handlers.
            unsafe { libc::_exit(1) }
        }
        ForkResult::Parent { child } => {
            drop(child_end);
            send_job(&parent_end, job)?;
            Ok((child, parent_end))
        }
    }
}

/// In the forked child: stdio onto 0, 1, 2, the preserved descriptors kept at 3..
/// (close-on-exec cleared), and the channel right above them, all inherited across
/// the exec (dup2 clears close-on-exec on the copy).
fn place_fds(channel_end: &OwnedFd, stdio: [Option<BorrowedFd>; 3], preserve: u32) -> Result<()> {
    let channel_fd = CHANNEL_FD + preserve as RawFd;
    // The channel first goes above them all, so nothing can be in its way.
    let high = nix::fcntl::fcntl(
        channel_end,
        nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(channel_fd.max(9) + 1),
    )
    .context("dup the channel")?;
    for (target, fd) in stdio.iter().enumerate() {
        if let Some(fd) = fd {
            // SAFETY: dup2 of a valid descriptor onto a standard stream.
            if unsafe { libc::dup2(fd.as_raw_fd(), target as RawFd) } < 0 {
                return Err(std::io::Error::last_os_error()).context("dup2 the stdio");
            }
        }
    }
    for fd in CHANNEL_FD..channel_fd {
        // SAFETY: F_SETFD on a descriptor number; a closed one fails with EBADF.
        if unsafe { libc::fcntl(fd, libc::F_SETFD, 0) } < 0 {
            return Err(std::io::Error::last_os_error())
                .with_context(|| format!("--preserve-fds: descriptor {fd} is not open"));
        }
    }
    // SAFETY: dup2 of a valid descriptor onto the channel's number, ours from here.
    if unsafe { libc::dup2(high.as_raw_fd(), channel_fd) } < 0 {
        return Err(std::io::Error::last_os_error())
            .with_context(|| format!("dup2 the channel onto fd {channel_fd}"));
    }
    Ok(())
}

fn send_job(fd: &OwnedFd, job: &Job) -> Result<()> {
    let bytes = serde_json::to_vec(job).context("encode the stage's job")?;
    let written = nix::unistd::write(fd, &bytes).context("send the stage its job")?;
    if written != bytes.len() {
        bail!("send the stage its job: short write");
    }
    Ok(())
}

fn receive_job(fd: &OwnedFd) -> Result<Job> {
    let mut buf = vec![0u8; MAX_JOB];
    loop {
        match nix::unistd::read(fd, &mut buf) {
            Ok(0) => bail!("the caller closed the channel before sending a job"),
            Ok(n) => return serde_json::from_slice(&buf[..n]).context("decode the stage's job"),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(err) => return Err(err).context("read the stage's job"),
        }
    }
}

/// From now on this process's narrated steps travel to the caller over the channel.
/// `MSG_NOSIGNAL`: a caller that stopped listening (a probe has what it needs once
/// the command runs) costs a step, never a SIGPIPE.
pub fn forward_steps_to(channel_end: &OwnedFd, actor: &str) {
    let fd: RawFd = channel_end.as_raw_fd();
    narration::set_actor(actor);
    narration::set_sink(narration::Sink::Forward(Box::new(move |s| {
        if let Ok(bytes) = serde_json::to_vec(&ChildMessage::Step(s.clone())) {
            // SAFETY: send(2) on the channel's fd (open until this process execs or
            // exits) from a valid buffer of the given length.
            unsafe {
                libc::send(
                    fd,
                    bytes.as_ptr() as *const libc::c_void,
                    bytes.len(),
                    libc::MSG_NOSIGNAL,
                )
            };
        }
    })));
}
