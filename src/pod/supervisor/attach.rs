//! `attach`: a container with `stdin: true` gets a pipe as its standard input (with
//! `tty: true`, a pseudo-terminal as all three streams) whose other end the
//! supervisor holds, as kubelet's runtime holds it. `minipod attach` connects to the
//! container's socket (`<pod run dir>/attach/<container>`, root only): what it sends
//! goes to the container's stdin, and the container's output goes to every attached
//! client besides its log. With `stdinOnce`, the first client to leave closes stdin.

use anyhow::{Context, Result};
use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

/// The socket path of `container`'s attach, through a descriptor of `dir` so that a
/// long state root never exceeds the 108 bytes of a socket address.
pub fn socket_path(dir_fd: &OwnedFd, container: &str) -> PathBuf {
    use std::os::fd::AsRawFd;
    PathBuf::from(format!("/proc/self/fd/{}/{container}", dir_fd.as_raw_fd()))
}

/// The attach directory of a pod, opened (for [`socket_path`]).
pub fn open_dir(dir: &Path) -> Result<OwnedFd> {
    let file = std::fs::File::open(dir).with_context(|| format!("open {}", dir.display()))?;
    Ok(file.into())
}

pub struct Attach {
    listener: UnixListener,
    socket: PathBuf,
    clients: Vec<UnixStream>,
    /// Where clients' input goes: the write end of the stdin pipe, or the pty's master.
    stdin: Option<OwnedFd>,
    stdin_once: bool,
}

impl Attach {
    /// Listen for `container`'s clients in `dir`; `stdin` is where their input goes.
    pub fn listen(dir: &Path, container: &str, stdin: OwnedFd, stdin_once: bool) -> Result<Attach> {
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("chmod 0700 {}", dir.display()))?;
        let socket = dir.join(container);
        let _ = std::fs::remove_file(&socket);
        let dir_fd = open_dir(dir)?;
        let listener = UnixListener::bind(socket_path(&dir_fd, container))
            .with_context(|| format!("listen on {}", socket.display()))?;
        listener
            .set_nonblocking(true)
            .context("make the attach socket non-blocking")?;
        nix::fcntl::fcntl(
            &stdin,
            nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
        )
        .context("make the container's stdin non-blocking")?;
        Ok(Attach {
            listener,
            socket,
            clients: Vec::new(),
            stdin: Some(stdin),
            stdin_once,
        })
    }

    /// What to poll: the listener first, then each client.
    pub fn fds(&self) -> Vec<BorrowedFd<'_>> {
        std::iter::once(self.listener.as_fd())
            .chain(self.clients.iter().map(|c| c.as_fd()))
            .collect()
    }

    /// Poll said `fds()[k]` is ready.
    pub fn ready(&mut self, k: usize) {
        if k == 0 {
            while let Ok((client, _)) = self.listener.accept() {
                if client.set_nonblocking(true).is_ok() {
                    self.clients.push(client);
                }
            }
            return;
        }
        let Some(client) = self.clients.get_mut(k - 1) else {
            return;
        };
        let mut buf = [0u8; 4096];
        match client.read(&mut buf) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Ok(0) | Err(_) => {
                self.clients.remove(k - 1);
                if self.stdin_once {
                    // stdinOnce: the container sees the end of its input.
                    self.stdin = None;
                }
            }
            Ok(n) => {
                if let Some(stdin) = &self.stdin {
                    // A container that does not read loses what does not fit: the
                    // supervisor never blocks on one container.
                    let _ = nix::unistd::write(stdin, &buf[..n]);
                }
            }
        }
    }

    /// The container's output, to every client (one that cannot keep up is dropped).
    pub fn broadcast(&mut self, bytes: &[u8]) {
        self.clients.retain_mut(|c| c.write_all(bytes).is_ok());
    }
}

impl Drop for Attach {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.socket);
    }
}
