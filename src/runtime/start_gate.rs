//! runc's `create` / `start` split: the container's init does everything up to its
//! program, then waits at a gate until `start` opens it. The gate is a FIFO in the
//! container's state directory (runc's `exec.fifo`):
//!
//! ```text
//! create:  init opens the FIFO O_PATH while the host is still in view, mounts, asks
//!          the caller for its prestart/createRuntime hooks, runs createContainer
//!          hooks, pivot_root, then reopens the FIFO for writing through
//!          /proc/self/fd: the open blocks — the container is `created`
//! start:   opens the FIFO for reading, which unblocks the init's open; the init
//!          writes one byte, runs startContainer hooks, execs the program; `start`
//!          reads the byte and removes the FIFO — the container is `running`
//! ```
//! The init holds no path into the host once it has pivoted: only the O_PATH
//! descriptor, close-on-exec, which cannot read or write anything by itself.

use super::channel::{self, ChildMessage, HOOKS_DONE};
use super::error::Error;
use super::oci_hooks::{self, State};
use super::procfs;
use anyhow::{bail, Context, Result};
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use oci_spec::runtime::Spec;
use serde::{Deserialize, Serialize};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What the init of a runc-style `create` needs to wait for `start`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Gate {
    /// The FIFO `start` opens (in the container's state directory).
    pub fifo: PathBuf,
    /// The container's id and bundle, for the state the hooks read.
    pub id: String,
    pub bundle: PathBuf,
}

impl Gate {
    /// The state of this container as its hooks see it.
    pub fn state(&self, spec: &Spec, status: &str, pid: i32) -> State {
        State {
            oci_version: oci_hooks::OCI_VERSION.to_string(),
            id: self.id.clone(),
            status: status.to_string(),
            pid: Some(pid),
            bundle: self.bundle.clone(),
            annotations: spec.annotations().clone().unwrap_or_default(),
        }
    }
}

/// Make the FIFO (mode 0622 like runc's: only root may read it, i.e. start).
pub fn make_fifo(path: &Path) -> Result<()> {
    nix::unistd::mkfifo(path, Mode::from_bits_truncate(0o622))
        .with_context(|| format!("mkfifo {}", path.display()))?;
    // mkfifo obeys the umask; the mode is what we say.
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o622))
        .with_context(|| format!("chmod {}", path.display()))
}

/// In the init, while host paths are in view: the FIFO, as an O_PATH descriptor.
pub(super) fn open_early(gate: &Gate) -> Result<OwnedFd, Error> {
    nix::fcntl::open(&gate.fifo, OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty()).map_err(|errno| {
        Error::Other(format!(
            "open the start FIFO {}: {errno}",
            gate.fifo.display()
        ))
    })
}

/// In the init, before pivot_root: the caller's hooks, then createContainer's here.
pub(super) fn hooks_before_pivot(
    gate: &Gate,
    spec: &Spec,
    channel_end: &OwnedFd,
) -> Result<(), Error> {
    channel::send(channel_end, &ChildMessage::HooksDue);
    let mut answer = [0u8; 64];
    let n = loop {
        match nix::unistd::read(channel_end, &mut answer) {
            Err(nix::errno::Errno::EINTR) => continue,
            other => break other.unwrap_or(0),
        }
    };
    if &answer[..n] != HOOKS_DONE {
        return Err(Error::Other(
            "the runtime stopped the container while its hooks ran".into(),
        ));
    }
    if let Some(hooks) = spec
        .hooks()
        .as_ref()
        .and_then(|h| h.create_container().clone())
    {
        let state = gate.state(spec, "created", super::host_pid());
        oci_hooks::run("createContainer", &hooks, &state)?;
    }
    Ok(())
}

/// In the init, after pivot_root: tell the caller we wait, wait for `start`, run
/// startContainer hooks. `host_pid`: this process as the host sees it.
pub(super) fn wait_for_start(
    gate: &Gate,
    spec: &Spec,
    fifo: OwnedFd,
    host_pid: i32,
    channel_end: &OwnedFd,
) -> Result<(), Error> {
    channel::send(channel_end, &ChildMessage::WaitingForStart);
    let path = format!("/proc/self/fd/{}", fifo.as_raw_fd());
    // Blocks until `start` opens the other end.
    let writer = loop {
        match nix::fcntl::open(
            path.as_str(),
            OFlag::O_WRONLY | OFlag::O_CLOEXEC,
            Mode::empty(),
        ) {
            Err(nix::errno::Errno::EINTR) => continue,
            other => break other,
        }
    }
    .map_err(|errno| Error::Other(format!("open the start FIFO through {path}: {errno}")))?;
    drop(fifo);
    nix::unistd::write(&writer, b"0")
        .map_err(|errno| Error::Other(format!("write the start FIFO: {errno}")))?;
    drop(writer);
    if let Some(hooks) = spec
        .hooks()
        .as_ref()
        .and_then(|h| h.start_container().clone())
    {
        let state = gate.state(spec, "created", host_pid);
        oci_hooks::run("startContainer", &hooks, &state)?;
    }
    Ok(())
}

/// `start`'s side: open the gate of the init `pid` (started at `start_time`) and wait
/// for its byte; an init that died meanwhile is an error, never a hang.
pub fn open(fifo: &Path, pid: i32, start_time: u64) -> Result<()> {
    // O_NONBLOCK: the open returns at once (a reader need not wait for a writer), and
    // still counts as the reader the init's blocked open waits for.
    let reader = nix::fcntl::open(
        fifo,
        OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .with_context(|| format!("open {}", fifo.display()))?;
    loop {
        let mut byte = [0u8; 1];
        match nix::unistd::read(&reader, &mut byte) {
            Ok(1) => break,
            // No writer yet, or the init has opened but not written yet.
            Ok(_) | Err(nix::errno::Errno::EAGAIN) | Err(nix::errno::Errno::EINTR) => {}
            Err(err) => return Err(err).with_context(|| format!("read {}", fifo.display())),
        }
        if !procfs::is_running(pid, start_time) {
            bail!("the container's process (PID {pid}) exited before it was started");
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let _ = std::fs::remove_file(fifo);
    Ok(())
}
