//! The console socket protocol (runc's `--console-socket`): the runtime connects to
//! the caller's unix socket and sends the master of the container's pseudo-terminal
//! as SCM_RIGHTS, with the terminal's name as the message (conmon and containerd
//! read the descriptor; the name is informative).

use anyhow::{Context, Result};
use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
use std::io::IoSlice;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::path::Path;

pub fn send(socket: &Path, master: BorrowedFd) -> Result<()> {
    let stream = UnixStream::connect(socket)
        .with_context(|| format!("connect to the console socket {}", socket.display()))?;
    let fds = [master.as_raw_fd()];
    sendmsg::<()>(
        stream.as_raw_fd(),
        &[IoSlice::new(b"/dev/ptmx")],
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::empty(),
        None,
    )
    .with_context(|| {
        format!(
            "send the terminal to the console socket {}",
            socket.display()
        )
    })?;
    Ok(())
}
