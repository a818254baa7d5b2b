//! The pseudo-terminal of `exec -it`, made inside the container: its slave belongs to
//! the container's own `/dev/pts`, so it is a terminal the container can see and
//! name; the master goes back to the caller over the setup channel (SCM_RIGHTS).
//! (minipod-runc's `create` with `process.terminal` makes its terminal here too.)

use anyhow::{Context, Result};
use std::os::fd::{AsRawFd, OwnedFd};

/// Both ends of a new pseudo-terminal, sized like the caller's terminal (our fd 0).
///
/// Nothing is found by a name the image could have planted (CVE-2025-52565): the
/// master is `ptmx` of the container's `/dev/pts`, which must be a devpts mount (not a
/// directory of the image, where `pts/N` could lead to `/proc/sysrq-trigger`); the
/// slave is the master's own peer (`TIOCGPTPEER`), never opened as `/dev/pts/N`.
pub fn open() -> Result<(OwnedFd, OwnedFd)> {
    use nix::fcntl::{openat, OFlag};
    use nix::sys::stat::{fstat, major, Mode, SFlag};
    let pts = nix::fcntl::open(
        "/dev/pts",
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .context("open the container's /dev/pts for its terminal")?;
    let fs = nix::sys::statfs::fstatfs(&pts).context("statfs the container's /dev/pts")?;
    if fs.filesystem_type() != nix::sys::statfs::DEVPTS_SUPER_MAGIC {
        anyhow::bail!("the container's /dev/pts is not a devpts file system: no terminal is made from what the image put there");
    }
    let master = openat(
        &pts,
        "ptmx",
        OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .context("open /dev/pts/ptmx in the container")?;
    let is_char = |st: &nix::sys::stat::FileStat| {
        SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFCHR
    };
    let st = fstat(&master).context("stat /dev/pts/ptmx")?;
    if !is_char(&st) || st.st_rdev != nix::sys::stat::makedev(5, 2) {
        anyhow::bail!("the container's /dev/pts/ptmx is not the pty multiplexer (5:2)");
    }
    let unlock: libc::c_int = 0;
    // SAFETY: TIOCSPTLCK reads one int (0: unlock the slave); master is an open ptmx.
    if unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK, &unlock) } < 0 {
        return Err(std::io::Error::last_os_error()).context("unlock the terminal's slave");
    }
    let flags = libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC;
    // SAFETY: TIOCGPTPEER takes open flags and returns a new descriptor (or -1).
    let raw = unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGPTPEER, flags) };
    if raw < 0 {
        return Err(std::io::Error::last_os_error())
            .context("ioctl(TIOCGPTPEER): open the terminal's slave");
    }
    // SAFETY: the kernel just returned this descriptor; nothing else owns it.
    let slave = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(raw) };
    let st = fstat(&slave).context("stat the terminal's slave")?;
    if !is_char(&st) || !(136..=143).contains(&major(st.st_rdev)) {
        anyhow::bail!("the terminal's slave is not a pseudo-terminal");
    }
    copy_window_size(master.as_raw_fd());
    Ok((master, slave))
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

/// `/dev/console` of a container with `process.terminal` (runtime-spec
/// config.md#process): the pty's slave bound onto it. Run after pivot_root, masked
/// and read-only paths. The target is made in the container's `/dev` without following
/// a symlink at either step (a `/dev/console` that links elsewhere would move the
/// mount there: CVE-2025-52565); an existing one must be a plain file or a device.
pub fn bind_console(slave: &OwnedFd) -> Result<()> {
    use nix::fcntl::{openat, OFlag};
    use nix::sys::stat::{fstat, Mode, SFlag};
    let dev = nix::fcntl::open(
        "/dev",
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .context("open the container's /dev")?;
    let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let target = match openat(
        &dev,
        "console",
        flags | OFlag::O_CREAT | OFlag::O_EXCL,
        Mode::from_bits_truncate(0o600),
    ) {
        Ok(fd) => fd,
        Err(nix::errno::Errno::EEXIST) => {
            let fd = openat(
                &dev,
                "console",
                OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                Mode::empty(),
            )
            .context("open the container's /dev/console")?;
            let kind = SFlag::from_bits_truncate(fstat(&fd).context("stat /dev/console")?.st_mode)
                & SFlag::S_IFMT;
            if kind != SFlag::S_IFREG && kind != SFlag::S_IFCHR {
                anyhow::bail!("the container's /dev/console is neither a file nor a device (a symlink?): the terminal is not bound there");
            }
            fd
        }
        Err(errno) => return Err(errno).context("create the container's /dev/console"),
    };
    let source = format!("/proc/self/fd/{}", slave.as_raw_fd());
    let target = format!("/proc/self/fd/{}", target.as_raw_fd());
    super::kernel::kernel()
        .mount(
            Some(std::path::Path::new(&source)),
            std::path::Path::new(&target),
            None,
            nix::mount::MsFlags::MS_BIND,
            None,
            "/dev/console is the container's terminal",
        )
        .context("bind the terminal onto /dev/console")?;
    Ok(())
}

/// Give the pseudo-terminal `master` our own terminal's size (stdin's), if we have one;
/// the kernel tells the terminal's foreground process group with SIGWINCH.
pub fn copy_window_size(master: std::os::fd::RawFd) {
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one winsize into `ws`; fd 0 is our stdin; a failure
    // leaves it unread.
    if unsafe { libc::ioctl(0, libc::TIOCGWINSZ, &mut ws) } == 0 {
        // SAFETY: TIOCSWINSZ reads one winsize from `ws`; `master` is an open pty
        // master the caller holds.
        unsafe { libc::ioctl(master, libc::TIOCSWINSZ, &ws) };
    }
}
