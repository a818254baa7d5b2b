//! `run ID`: create and start in one go. With `--detach` it returns once the program
//! runs; otherwise minipod-runc stays, as runc does: a child subreaper (the init is
//! re-parented to it when the intermediate exits), forwarding the signals it gets to
//! the container's process, and when that exits it deletes the container and exits
//! with the program's status.

use super::create::{self, CreateArgs};
use super::{delete, start, Context};
use anyhow::{Context as _, Result};
use clap::Args;
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::SignalFd;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub create: CreateArgs,
    /// Return once the program runs, leaving the container behind.
    #[arg(long, short = 'd')]
    pub detach: bool,
}

/// The signals passed on to the container's process.
const FORWARDED: [Signal; 6] = [
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
];

pub fn run(ctx: &Context, args: &RunArgs) -> Result<i32> {
    if args.detach {
        let container = create::create(ctx, &args.create)?;
        start::start(&container)?;
        return Ok(0);
    }
    // Before the container exists: no signal and no exit may be missed.
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGCHLD);
    for s in FORWARDED {
        mask.add(s);
    }
    mask.thread_block()
        .context("block the signals minipod-runc run forwards")?;
    crate::runtime::kernel::kernel()
        .prctl(
            crate::runtime::kernel::Prctl::ChildSubreaper,
            "the container's init is re-parented here when the intermediate exits",
        )
        .context("prctl(PR_SET_CHILD_SUBREAPER)")?;
    let signals = SignalFd::new(&mask).context("signalfd")?;
    let container = create::create(ctx, &args.create)?;
    let pid = Pid::from_raw(container.record.pid);
    if let Err(err) = start::start(&container) {
        let _ = delete::delete_forced(container);
        return Err(err);
    }
    let code = loop {
        let Some(info) = signals.read_signal().context("read signalfd")? else {
            continue;
        };
        let signo = info.ssi_signo as i32;
        if signo == Signal::SIGCHLD as i32 {
            if let Some(code) = reap(pid)? {
                break code;
            }
        } else if let Ok(signal) = Signal::try_from(signo) {
            let _ = nix::sys::signal::kill(pid, signal);
        }
    };
    // A failed cleanup is reported; the program's status stays the answer.
    if let Err(err) = delete::delete_forced(container) {
        eprintln!("{}: warning: delete after run: {err:#}", super::NAME);
    }
    Ok(code)
}

/// Reap every exited child; the exit code once the container's process is among them.
fn reap(pid: Pid) -> Result<Option<i32>> {
    let mut code = None;
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(p, c)) if p == pid => code = Some(c),
            Ok(WaitStatus::Signaled(p, s, _)) if p == pid => code = Some(128 + s as i32),
            Ok(WaitStatus::StillAlive) | Err(nix::errno::Errno::ECHILD) => return Ok(code),
            Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
            Err(err) => return Err(err).context("waitpid"),
        }
    }
}
