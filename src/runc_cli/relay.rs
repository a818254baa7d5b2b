//! A foreground `run` of a container with `process.terminal` and no `--console-socket`:
//! as runc does, minipod-runc holds the terminal's master itself and relays it — what
//! arrives on our stdin goes to the terminal, what the container writes on it comes
//! out on our stdout. When our stdin is a terminal it is put in raw mode meanwhile
//! (the container's terminal does the line editing and echo) and restored after.

use anyhow::{Context, Result};
use nix::errno::Errno;
use nix::sys::termios::{self, SetArg, Termios};
use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

pub struct Relay {
    master: Option<OwnedFd>,
    stdin_open: bool,
    saved: Option<Termios>,
}

impl Relay {
    pub fn new(master: OwnedFd) -> Result<Relay> {
        let flags = nix::fcntl::fcntl(&master, nix::fcntl::FcntlArg::F_GETFL)
            .context("fcntl(F_GETFL) on the terminal")?;
        let flags = nix::fcntl::OFlag::from_bits_truncate(flags) | nix::fcntl::OFlag::O_NONBLOCK;
        nix::fcntl::fcntl(&master, nix::fcntl::FcntlArg::F_SETFL(flags))
            .context("make the terminal's master non-blocking")?;
        let stdin = std::io::stdin();
        let saved = match termios::tcgetattr(stdin.as_fd()) {
            Ok(saved) => {
                let mut raw = saved.clone();
                termios::cfmakeraw(&mut raw);
                termios::tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw)
                    .context("put our terminal in raw mode")?;
                Some(saved)
            }
            // Not a terminal (a pipe, /dev/null): relayed as it is.
            Err(_) => None,
        };
        Ok(Relay {
            master: Some(master),
            stdin_open: true,
            saved,
        })
    }

    /// The descriptors to wait on: the master (while it is open), our stdin (until
    /// its end).
    pub fn fds(&self) -> (Option<BorrowedFd<'_>>, Option<BorrowedFd<'static>>) {
        // SAFETY: fd 0 (our stdin) stays open for the whole process.
        let stdin = self
            .stdin_open
            .then(|| unsafe { BorrowedFd::borrow_raw(0) });
        (self.master.as_ref().map(|m| m.as_fd()), stdin)
    }

    /// Our terminal was resized (SIGWINCH): the container's terminal takes its size.
    pub fn resize(&self) {
        let Some(master) = &self.master else {
            return;
        };
        crate::runtime::terminal::copy_window_size(std::os::fd::AsRawFd::as_raw_fd(master));
    }

    /// The container's output so far, to our stdout; at its end (EIO once every
    /// holder of the slave has closed it) the master is closed.
    pub fn output(&mut self) -> Result<()> {
        let Some(master) = &self.master else {
            return Ok(());
        };
        let mut buf = [0u8; 8192];
        let mut out = std::io::stdout().lock();
        loop {
            match nix::unistd::read(master, &mut buf) {
                Ok(0) | Err(Errno::EIO) => {
                    self.master = None;
                    break;
                }
                Ok(n) => out
                    .write_all(&buf[..n])
                    .context("relay the terminal to our stdout")?,
                Err(Errno::EAGAIN) => break,
                Err(Errno::EINTR) => continue,
                Err(err) => return Err(err).context("read the container's terminal"),
            }
        }
        out.flush().context("relay the terminal to our stdout")
    }

    /// What is waiting on our stdin, to the terminal; at its end stdin is no longer
    /// watched.
    pub fn input(&mut self) -> Result<()> {
        let mut buf = [0u8; 4096];
        let n = match nix::unistd::read(std::io::stdin().as_fd(), &mut buf) {
            Ok(0) => {
                self.stdin_open = false;
                return Ok(());
            }
            Ok(n) => n,
            Err(Errno::EAGAIN) | Err(Errno::EINTR) => return Ok(()),
            Err(err) => return Err(err).context("read our stdin"),
        };
        let Some(master) = &self.master else {
            return Ok(());
        };
        let mut rest = &buf[..n];
        while !rest.is_empty() {
            match nix::unistd::write(master, rest) {
                Ok(written) => rest = &rest[written..],
                Err(Errno::EAGAIN) | Err(Errno::EINTR) => {
                    std::thread::sleep(std::time::Duration::from_millis(1))
                }
                // The container closed its terminal: the rest has nowhere to go.
                Err(Errno::EIO) => break,
                Err(err) => return Err(err).context("write to the container's terminal"),
            }
        }
        Ok(())
    }
}

/// `exec -t` without a console socket: relay the command's terminal until the stage
/// `pid` (which exits with the command's status) has exited; returns that status.
pub fn exec_until_exit(master: OwnedFd, pid: nix::unistd::Pid) -> Result<i32> {
    use nix::poll::PollTimeout;
    use nix::sys::signal::{SigSet, Signal};
    use nix::sys::signalfd::SignalFd;
    use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
    let mut relay = Relay::new(master)?;
    // Our terminal's resizes (SIGWINCH) arrive as a descriptor, so the command's
    // terminal follows them (the stage was forked before: its mask is untouched).
    let mut winch_mask = SigSet::empty();
    winch_mask.add(Signal::SIGWINCH);
    winch_mask.thread_block().context("block SIGWINCH")?;
    let winch = SignalFd::new(&winch_mask).context("signalfd for SIGWINCH")?;
    loop {
        // The stage's exit is looked at between waits (it is not a descriptor).
        let (master_ready, stdin_ready, resized) =
            poll_ready(Some(&relay), Some(winch.as_fd()), PollTimeout::from(50u8))?;
        if resized {
            let _ = winch.read_signal();
            relay.resize();
        }
        let pumped = if master_ready { relay.output() } else { Ok(()) }.and_then(|()| {
            if stdin_ready {
                relay.input()
            } else {
                Ok(())
            }
        });
        if let Err(err) = pumped {
            // The relay broke (our stdout closed): the command is still waited for.
            eprintln!("{}: warning: terminal relay stopped: {err:#}", super::NAME);
            drop(relay);
            return crate::runtime::exec::wait_exit_code(pid);
        }
        let code = match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(_, code)) => code,
            Ok(WaitStatus::Signaled(_, sig, _)) => 128 + sig as i32,
            Ok(_) | Err(Errno::EINTR) => continue,
            Err(err) => return Err(err).context("wait for the command in the container"),
        };
        // What the command wrote last is still in the terminal.
        relay.output()?;
        return Ok(code);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        if let Some(saved) = &self.saved {
            let _ = termios::tcsetattr(std::io::stdin().as_fd(), SetArg::TCSANOW, saved);
        }
    }
}

/// Wait (up to `timeout`) until the relay's terminal has output, our stdin has input,
/// or `other` is readable: which of (master, stdin, other) are ready.
pub fn poll_ready<'a>(
    relay: Option<&'a Relay>,
    other: Option<BorrowedFd<'a>>,
    timeout: nix::poll::PollTimeout,
) -> Result<(bool, bool, bool)> {
    use nix::poll::{poll, PollFd, PollFlags};
    let (master, stdin) = relay.map(Relay::fds).unwrap_or((None, None));
    let mut fds: Vec<PollFd<'a>> = Vec::new();
    let mut add = |fd: Option<BorrowedFd<'a>>| {
        fd.map(|fd| {
            fds.push(PollFd::new(fd, PollFlags::POLLIN));
            fds.len() - 1
        })
    };
    let (master_at, stdin_at, other_at) = (add(master), add(stdin), add(other));
    match poll(&mut fds, timeout) {
        Ok(_) | Err(nix::errno::Errno::EINTR) => {}
        Err(err) => return Err(err).context("poll"),
    }
    let ready = |at: Option<usize>| {
        at.and_then(|i| fds.get(i).and_then(|f| f.revents()))
            .is_some_and(|r| !r.is_empty())
    };
    Ok((ready(master_at), ready(stdin_at), ready(other_at)))
}
