//! One container's state under `--root`: the directory `<root>/<id>` holds
//!
//! ```text
//! state.json    what create recorded: bundle, init PID and start time, cgroup, created
//! config.json   the spec as create read it (exec, update and the hooks use this copy)
//! exec.fifo     the start gate, present from create until start (runc's name)
//! seccomp.json  the compiled seccomp program, for exec
//! ```
//! Every verb that reads or changes a container holds a flock on its directory; the
//! status is always read from the kernel (is the init alive, is the FIFO there, is the
//! cgroup frozen), never stored.

use crate::runtime::oci_hooks::{self, State};
use crate::runtime::{cgroups, procfs};
use anyhow::{bail, Context, Result};
use nix::fcntl::{Flock, FlockArg};
use oci_spec::runtime::Spec;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::path::{Path, PathBuf};

/// What `create` recorded.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub bundle: PathBuf,
    pub pid: i32,
    /// The init's start time (clock ticks since boot): a reused PID is not ours.
    pub start_time: u64,
    /// `linux.cgroupsPath`, as the container got it.
    pub cgroup: PathBuf,
    /// RFC 3339, when create finished.
    pub created: String,
}

/// The status a container is in, read from the kernel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Status {
    Created,
    Running,
    Paused,
    Stopped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        }
    }
}

/// A container's directory, locked for as long as this lives.
pub struct Container {
    pub dir: PathBuf,
    pub record: Record,
    _lock: Flock<File>,
}

/// Check an id as runc does: letters, digits and `_+-.`, not `.` or `..`.
pub fn check_id(id: &str) -> Result<()> {
    let valid = !id.is_empty()
        && id != "."
        && id != ".."
        && id.len() <= 1024
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+-.".contains(c));
    if !valid {
        bail!("invalid container id {id:?}: use letters, digits and _+-. only");
    }
    Ok(())
}

/// The lock of a container directory (flock on the directory itself).
pub fn lock_dir(dir: &Path) -> Result<Flock<File>> {
    let file = File::open(dir).with_context(|| format!("open {}", dir.display()))?;
    Flock::lock(file, FlockArg::LockExclusive)
        .map_err(|(_, errno)| errno)
        .with_context(|| format!("lock {}", dir.display()))
}

impl Container {
    /// A container `create` just made, with the lock it holds.
    pub fn new(dir: PathBuf, record: Record, lock: Flock<File>) -> Container {
        Container {
            dir,
            record,
            _lock: lock,
        }
    }

    /// Open and lock the container `id` under `root`.
    pub fn open(root: &Path, id: &str) -> Result<Container> {
        check_id(id)?;
        let dir = root.join(id);
        let missing = || anyhow::anyhow!("container {id:?} does not exist");
        if !dir.is_dir() {
            return Err(missing());
        }
        let lock = lock_dir(&dir).map_err(|_| missing())?;
        // A delete that held the lock before us removed the directory.
        let bytes = std::fs::read(dir.join("state.json")).map_err(|_| missing())?;
        let record = serde_json::from_slice(&bytes)
            .with_context(|| format!("read {}", dir.join("state.json").display()))?;
        Ok(Container {
            dir,
            record,
            _lock: lock,
        })
    }

    /// Every container under `root`, each locked in turn (listing skips the ones that
    /// vanish meanwhile).
    pub fn all(root: &Path) -> Result<Vec<Container>> {
        let entries = match std::fs::read_dir(root) {
            Ok(e) => e,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(err).with_context(|| format!("read {}", root.display())),
        };
        let mut ids: Vec<String> = entries
            .flatten()
            .filter(|e| e.path().join("state.json").is_file())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        ids.sort();
        Ok(ids
            .iter()
            .filter_map(|id| Container::open(root, id).ok())
            .collect())
    }

    pub fn id(&self) -> &str {
        &self.record.id
    }

    pub fn fifo(&self) -> PathBuf {
        self.dir.join("exec.fifo")
    }

    pub fn is_alive(&self) -> bool {
        procfs::is_running(self.record.pid, self.record.start_time)
    }

    pub fn status(&self) -> Status {
        if !self.is_alive() {
            Status::Stopped
        } else if self.fifo().exists() {
            Status::Created
        } else if cgroups::is_frozen(&self.record.cgroup) {
            Status::Paused
        } else {
            Status::Running
        }
    }

    /// The spec create saved.
    pub fn spec(&self) -> Result<Spec> {
        let path = self.dir.join("config.json");
        Spec::load(&path).with_context(|| format!("read {}", path.display()))
    }

    /// The runtime-spec state.
    pub fn state(&self) -> State {
        let status = self.status();
        State {
            oci_version: oci_hooks::OCI_VERSION.to_string(),
            id: self.record.id.clone(),
            status: status.as_str().to_string(),
            pid: (status != Status::Stopped).then_some(self.record.pid),
            bundle: self.record.bundle.clone(),
            annotations: self
                .spec()
                .ok()
                .and_then(|s| s.annotations().clone())
                .unwrap_or_default(),
        }
    }

    /// The error of a verb that needs another status.
    pub fn wrong_status(&self, verb: &str) -> anyhow::Error {
        anyhow::anyhow!(
            "cannot {verb} container {:?}: it is {}",
            self.record.id,
            self.status().as_str()
        )
    }
}

/// `--pid-file`: the PID, written atomically (podman and containerd read it as soon
/// as the command returns).
pub fn write_pid_file(path: &Path, pid: i32) -> Result<()> {
    crate::state::atomic::write_atomic(path, pid.to_string().as_bytes())
        .with_context(|| format!("write the pid file {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked_as_runc_checks_them() {
        for ok in ["a", "abc-123_x.y+z", "0"] {
            assert!(check_id(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".", "..", "a/b", "../x", "a b", "é"] {
            assert!(check_id(bad).is_err(), "{bad:?}");
        }
    }
}
