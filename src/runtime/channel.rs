//! The channel between a runtime parent and the child processes that become a
//! container: a `SOCK_SEQPACKET` socketpair (one message per `send`, never merged),
//! both ends close-on-exec. The child sends narrated steps, the container's host PID,
//! or the typed [`super::Error`] that stopped it; a successful `execve` closes the
//! child's end, which the parent reads as end-of-file: "the container runs".

use crate::narration::Step;
use anyhow::{Context, Result};
use nix::sys::socket::{
    recvmsg, sendmsg, socketpair, AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags,
    SockFlag, SockType,
};
use serde::{Deserialize, Serialize};
use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

#[derive(Debug, Serialize, Deserialize)]
pub enum ChildMessage {
    Step(Step),
    /// The host PID of the container's first process (sent by the intermediate).
    Pid(i32),
    /// What stopped the child, as a typed value.
    Error(super::Error),
    /// runc's create (see `start_gate`): the init has mounted everything and waits,
    /// before `pivot_root`, for the caller's prestart and createRuntime hooks; the
    /// caller answers [`HOOKS_DONE`].
    HooksDue,
    /// The master of the container's terminal rides along (SCM_RIGHTS).
    Terminal,
    /// runc's create: the init is ready and blocks on its FIFO until `start`.
    WaitingForStart,
}

/// The caller's answer to [`ChildMessage::HooksDue`]: carry on.
pub const HOOKS_DONE: &[u8] = b"hooks done";

/// Largest message; steps and errors are short lines.
const MAX_MESSAGE: usize = 64 * 1024;

pub fn pair() -> Result<(OwnedFd, OwnedFd)> {
    socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .context("socketpair(AF_UNIX, SOCK_SEQPACKET) for the container's setup channel")
}

/// Send one message; used in the child, where a failure has nowhere else to go.
pub fn send(fd: impl std::os::fd::AsFd, message: &ChildMessage) {
    let bytes = match (serde_json::to_vec(message), message) {
        (Ok(bytes), _) => Ok(bytes),
        // A path that is not UTF-8 cannot be serialized: the error still gets through,
        // as its message.
        (Err(_), ChildMessage::Error(err)) => {
            serde_json::to_vec(&ChildMessage::Error(super::Error::Other(err.to_string())))
        }
        (Err(err), _) => Err(err),
    };
    if let Ok(bytes) = bytes {
        // SAFETY: write(2) on a valid fd from a valid buffer of the given length.
        unsafe {
            libc::write(
                fd.as_fd().as_raw_fd(),
                bytes.as_ptr() as *const libc::c_void,
                bytes.len(),
            );
        }
    }
}

/// One message, and the descriptor that may come with it (a pty's master);
/// `None` at end-of-file.
pub fn receive_with_fd(channel_end: &OwnedFd) -> Result<Option<(ChildMessage, Option<OwnedFd>)>> {
    let mut buf = vec![0u8; MAX_MESSAGE];
    loop {
        let mut iov = [IoSliceMut::new(&mut buf)];
        let mut space = nix::cmsg_space!([RawFd; 1]);
        let msg = match recvmsg::<()>(
            channel_end.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC,
        ) {
            Ok(msg) => msg,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(err) => return Err(err).context("read the container's setup channel"),
        };
        let mut fd = None;
        for cmsg in msg.cmsgs().context("read the container's setup channel")? {
            if let ControlMessageOwned::ScmRights(fds) = cmsg {
                for raw in fds {
                    // SAFETY: the kernel just installed this descriptor for us.
                    fd = Some(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(raw) });
                }
            }
        }
        let n = msg.bytes;
        if n == 0 {
            return Ok(None);
        }
        let message = serde_json::from_slice(&buf[..n])
            .context("decode a message from the container's setup channel")?;
        return Ok(Some((message, fd)));
    }
}

/// Send one message with a descriptor attached (SCM_RIGHTS).
pub fn send_with_fd(channel_end: &OwnedFd, message: &ChildMessage, fd: RawFd) -> Result<()> {
    let bytes = serde_json::to_vec(message).context("encode a message for the caller")?;
    let fds = [fd];
    sendmsg::<()>(
        channel_end.as_raw_fd(),
        &[IoSlice::new(&bytes)],
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::MSG_NOSIGNAL,
        None,
    )
    .context("send a descriptor to the caller")?;
    Ok(())
}

/// Receive one message; `None` at end-of-file (every child end closed).
#[cfg(test)]
pub fn receive(fd: &OwnedFd) -> Result<Option<ChildMessage>> {
    let mut buf = vec![0u8; MAX_MESSAGE];
    loop {
        match nix::unistd::read(fd, &mut buf) {
            Ok(0) => return Ok(None),
            Ok(n) => {
                let message = serde_json::from_slice(&buf[..n])
                    .context("decode a message from the container's setup channel")?;
                return Ok(Some(message));
            }
            Err(nix::errno::Errno::EINTR) => continue,
            Err(err) => return Err(err).context("read the container's setup channel"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::error::{Error, Kind, NamespaceError};
    use std::os::unix::ffi::OsStrExt;

    #[test]
    fn a_typed_error_arrives_as_itself() {
        let (parent, child) = pair().unwrap();
        let err = Error::from(NamespaceError::Setns {
            path: "/proc/4711/ns/net".into(),
            errno: nix::errno::Errno::EPERM.into(),
        });
        send(&child, &ChildMessage::Error(err.clone()));
        drop(child);
        let Some(ChildMessage::Error(got)) = receive(&parent).unwrap() else {
            panic!("no error message");
        };
        assert_eq!(got, err);
        assert_eq!(got.kind(), Kind::Run);
        assert!(
            receive(&parent).unwrap().is_none(),
            "end of file after the child"
        );
    }

    #[test]
    fn an_error_naming_a_non_utf8_path_still_arrives_as_its_message() {
        let (parent, child) = pair().unwrap();
        let path = std::path::PathBuf::from(std::ffi::OsStr::from_bytes(b"/data/\xff"));
        let err = Error::from(NamespaceError::Open {
            path,
            errno: nix::errno::Errno::ENOENT.into(),
        });
        send(&child, &ChildMessage::Error(err.clone()));
        let Some(ChildMessage::Error(got)) = receive(&parent).unwrap() else {
            panic!("no error message");
        };
        assert_eq!(got, Error::Other(err.to_string()));
    }
}
