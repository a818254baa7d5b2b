//! The pseudo-terminal of `exec -it`, made inside the container: its slave belongs to
//! the container's own `/dev/pts`, so it is a terminal the container can see and
//! name; the master goes back to the caller over the setup channel (SCM_RIGHTS).

use anyhow::{Context, Result};
use std::os::fd::{AsRawFd, OwnedFd};

/// Both ends of a new pseudo-terminal, sized like the caller's terminal (our fd 0).
pub fn open() -> Result<(OwnedFd, OwnedFd)> {
    let pty = nix::pty::openpty(None, None).context("openpty in the container's /dev/pts")?;
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one winsize into `ws`; a failure leaves it zeroed.
    if unsafe { libc::ioctl(0, libc::TIOCGWINSZ, &mut ws) } == 0 {
        // SAFETY: TIOCSWINSZ reads one winsize from `ws`; master is an open pty.
        unsafe { libc::ioctl(pty.master.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
    }
    Ok((pty.master, pty.slave))
}

/// In the command's process, before exec: a new session whose controlling terminal
/// is the pty's slave, which becomes stdin, stdout and stderr.
pub fn become_controlling_terminal(slave: &OwnedFd) -> Result<()> {
    nix::unistd::setsid().context("setsid: a new session for the terminal")?;
    make_controlling(slave)
}

/// In a session leader without a terminal: the pty's slave becomes its controlling
/// terminal and its stdin, stdout and stderr.
pub fn make_controlling(slave: &OwnedFd) -> Result<()> {
    // SAFETY: TIOCSCTTY takes an integer argument (0: do not steal from another session).
    if unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCSCTTY as _, 0) } < 0 {
        return Err(std::io::Error::last_os_error())
            .context("ioctl(TIOCSCTTY): make the pty the controlling terminal");
    }
    for target in 0..=2 {
        // SAFETY: dup2 of an open fd onto the standard descriptors.
        if unsafe { libc::dup2(slave.as_raw_fd(), target) } < 0 {
            return Err(std::io::Error::last_os_error()).context("dup2 the pty onto stdio");
        }
    }
    Ok(())
}
