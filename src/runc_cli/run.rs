//! `run ID`: create and start in one go. With `--detach` it returns once the program
//! runs; otherwise minipod-runc stays, as runc does: a child subreaper (the init is
//! re-parented to it when the intermediate exits), forwarding the signals it gets to
//! the container's process, and when that exits it deletes the container and exits
//! with the program's status. A container with `process.terminal` and no
//! `--console-socket` gets its terminal relayed to our stdio meanwhile (see `relay`);
//! with `--detach` that is refused, as runc refuses it.

use super::create::{self, CreateArgs};
use super::relay::Relay;
use super::{delete, start, Context};
use anyhow::{Context as _, Result};
use clap::Args;
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::SignalFd;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::os::fd::AsFd;

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
        let (container, _) = create::create(ctx, &args.create, false)?;
        start::start(&container)?;
        return Ok(0);
    }
    // Before the container exists: no signal and no exit may be missed.
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGCHLD);
    // Our terminal's size, passed on to a relayed one.
    mask.add(Signal::SIGWINCH);
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
    let (container, master) = create::create(ctx, &args.create, true)?;
    let pid = Pid::from_raw(container.record.pid);
    let mut relay = match master.map(Relay::new).transpose() {
        Ok(relay) => relay,
        Err(err) => {
            let _ = delete::delete_forced(container);
            return Err(err);
        }
    };
    if let Err(err) = start::start(&container) {
        let _ = delete::delete_forced(container);
        return Err(err);
    }
    let code = loop {
        let (master_ready, stdin_ready, signal_ready) = wait(&signals, relay.as_ref())?;
        if let Some(r) = relay.as_mut() {
            let pumped = match (master_ready, stdin_ready) {
                (true, _) => r
                    .output()
                    .and_then(|()| if stdin_ready { r.input() } else { Ok(()) }),
                (false, true) => r.input(),
                (false, false) => Ok(()),
            };
            // A relay that broke (our stdout closed) ends; the container is still
            // waited for and deleted.
            if let Err(err) = pumped {
                eprintln!("{}: warning: terminal relay stopped: {err:#}", super::NAME);
                relay = None;
            }
        }
        if !signal_ready {
            continue;
        }
        let Some(info) = signals.read_signal().context("read signalfd")? else {
            continue;
        };
        let signo = info.ssi_signo as i32;
        if signo == Signal::SIGCHLD as i32 {
            if let Some(code) = reap(pid)? {
                break code;
            }
        } else if signo == Signal::SIGWINCH as i32 {
            if let Some(relay) = &relay {
                relay.resize();
            }
        } else if let Ok(signal) = Signal::try_from(signo) {
            let _ = nix::sys::signal::kill(pid, signal);
        }
    };
    // What the program wrote last is still in the terminal.
    if let Some(relay) = relay.as_mut() {
        if let Err(err) = relay.output() {
            eprintln!("{}: warning: terminal relay: {err:#}", super::NAME);
        }
    }
    drop(relay);
    // A failed cleanup is reported; the program's status stays the answer.
    if let Err(err) = delete::delete_forced(container) {
        eprintln!("{}: warning: delete after run: {err:#}", super::NAME);
    }
    Ok(code)
}

/// Wait until the terminal has output, our stdin has input, or a signal came:
/// (master, stdin, signal) ready.
fn wait(signals: &SignalFd, relay: Option<&Relay>) -> Result<(bool, bool, bool)> {
    super::relay::poll_ready(relay, Some(signals.as_fd()), nix::poll::PollTimeout::NONE)
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
