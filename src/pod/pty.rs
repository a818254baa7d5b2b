//! The caller's side of `exec -it`: the runtime made a pseudo-terminal inside the
//! container (the command's end, the slave, is its controlling terminal in a new
//! session) and handed us its master, which is copied to and from the caller's
//! terminal, put in raw mode so every key (Ctrl-C too) reaches the pty's line discipline unchanged. There,
//! Ctrl-C becomes SIGINT for the command's foreground process group: the signal is
//! born inside the container, as with kubectl.

use anyhow::{Context, Result};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::termios::{self, SetArg, Termios};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

/// Is standard input a terminal (the only kind `-t` can use)?
pub fn stdin_is_terminal() -> bool {
    nix::unistd::isatty(std::io::stdin()).unwrap_or(false)
}

/// The caller's window size onto the pty (TIOCGWINSZ → TIOCSWINSZ); the kernel then
/// sends SIGWINCH to the command's foreground process group.
fn copy_window_size(master: BorrowedFd) {
    let mut ws: libc::winsize = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one winsize into `ws`; a failure leaves it zeroed.
    let got = unsafe { libc::ioctl(0, libc::TIOCGWINSZ, &mut ws) };
    if got == 0 {
        // SAFETY: TIOCSWINSZ reads one winsize from `ws`; master is an open pty.
        unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
    }
}

/// The caller's terminal in raw mode for as long as this lives; restored on drop,
/// so also when copying fails.
pub struct RawMode {
    saved: Termios,
}

impl RawMode {
    pub fn enter() -> Result<RawMode> {
        let stdin = std::io::stdin();
        let saved = termios::tcgetattr(&stdin).context("read the terminal's settings")?;
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        termios::tcsetattr(&stdin, SetArg::TCSANOW, &raw)
            .context("put the terminal in raw mode")?;
        Ok(RawMode { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(std::io::stdin(), SetArg::TCSANOW, &self.saved);
    }
}

/// Block SIGCHLD and SIGWINCH (to read them from a signalfd); the runtime's stage
/// unblocks every signal for itself and the command, since exec keeps the mask.
pub fn block_signals() -> Result<SignalFd> {
    let mask = signals();
    mask.thread_block().context("block SIGCHLD/SIGWINCH")?;
    SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
        .context("signalfd for SIGCHLD/SIGWINCH")
}

fn signals() -> SigSet {
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGCHLD);
    mask.add(Signal::SIGWINCH);
    mask
}

/// Copy the caller's stdin to the pty (when `forward_stdin`) and the pty to stdout
/// until `child` exits and its output is drained; returns its exit code.
pub fn relay(master: OwnedFd, child: Pid, forward_stdin: bool, sigfd: &SignalFd) -> Result<i32> {
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout();
    let mut stdin_open = forward_stdin;
    let mut exit: Option<i32> = None;
    let mut buf = [0u8; 8192];
    loop {
        let mut fds = vec![
            PollFd::new(master.as_fd(), PollFlags::POLLIN),
            PollFd::new(sigfd.as_fd(), PollFlags::POLLIN),
        ];
        if stdin_open {
            fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
        }
        // Once the command has exited, only drain what it left in the pty.
        let timeout = if exit.is_some() {
            PollTimeout::from(50u8)
        } else {
            PollTimeout::NONE
        };
        match poll(&mut fds, timeout) {
            Ok(0) => return Ok(exit.unwrap_or(0)),
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(e).context("poll the terminal"),
        }
        let ready = |fd: &PollFd| fd.revents().is_some_and(|r| !r.is_empty());
        let (pty_ready, sig_ready) = (ready(&fds[0]), ready(&fds[1]));
        let stdin_ready = fds.get(2).is_some_and(ready);
        drop(fds);
        if pty_ready {
            match nix::unistd::read(&master, &mut buf) {
                Ok(n) if n > 0 => {
                    stdout
                        .write_all(&buf[..n])
                        .context("write to the terminal")?;
                    stdout.flush().context("write to the terminal")?;
                }
                // EIO: every slave end is closed, the command and its children are gone.
                _ => {
                    if let Some(code) = exit {
                        return Ok(code);
                    }
                    return wait_exit(child);
                }
            }
        }
        if stdin_ready {
            match nix::unistd::read(&stdin, &mut buf) {
                Ok(n) if n > 0 => write_all(&master, &buf[..n])?,
                _ => stdin_open = false,
            }
        }
        if sig_ready {
            while let Ok(Some(info)) = sigfd.read_signal() {
                if info.ssi_signo == Signal::SIGWINCH as u32 {
                    copy_window_size(master.as_fd());
                }
            }
            if exit.is_none() {
                match waitpid(child, Some(WaitPidFlag::WNOHANG)) {
                    Ok(WaitStatus::Exited(_, code)) => exit = Some(code),
                    Ok(WaitStatus::Signaled(_, sig, _)) => exit = Some(128 + sig as i32),
                    _ => {}
                }
            }
        }
    }
}

fn write_all(fd: &OwnedFd, mut data: &[u8]) -> Result<()> {
    while !data.is_empty() {
        match nix::unistd::write(fd, data) {
            Ok(n) => data = &data[n..],
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(e).context("write to the pseudo-terminal"),
        }
    }
    Ok(())
}

fn wait_exit(child: Pid) -> Result<i32> {
    loop {
        match waitpid(child, None) {
            Ok(WaitStatus::Exited(_, code)) => return Ok(code),
            Ok(WaitStatus::Signaled(_, sig, _)) => return Ok(128 + sig as i32),
            Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e).context("wait for the exec'd process"),
        }
    }
}
