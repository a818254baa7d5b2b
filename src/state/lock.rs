//! Locks, kept short. One lock per pod name (`run/locks/<namespace>/<name>`): two
//! `apply`s of the same name, or an `apply` racing a `delete` of it, take turns while
//! they read and change that pod's records. One lock for the whole root (`run/lock`)
//! guards the name index only, for the milliseconds a link is made or removed.
//!
//! No lock is held while a pod starts (postStart hooks), while it stops (the grace
//! period) or while a command waits on a supervisor: an unrelated pod never waits.

use super::paths::StateRoot;
use anyhow::{Context, Result};
use nix::fcntl::{Flock, FlockArg};
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

pub struct StateLock {
    _lock: Flock<File>,
    path: PathBuf,
}

impl StateLock {
    /// Remove the lock file while it is held: the pod's name is gone. A command that
    /// opened the old file before this sees it unlinked once it gets the lock, and
    /// takes the lock again on a new file (see [`lock_file`]).
    pub fn remove(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The lock of the name index (`run/names`), for milliseconds.
pub fn lock(state: &StateRoot) -> Result<StateLock> {
    std::fs::create_dir_all(&state.run)
        .with_context(|| format!("create {}", state.run.display()))?;
    lock_file(&state.run.join("lock"))
}

/// A lock of its own (`run/locks/<name>`) for one kind of record, held for milliseconds.
pub fn lock_named(state: &StateRoot, name: &str) -> Result<StateLock> {
    let dir = state.run.join("locks");
    std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
    lock_file(&dir.join(name))
}

/// The lock of one pod name, held while a command reads and changes its records.
pub fn lock_pod(state: &StateRoot, namespace: &str, name: &str) -> Result<StateLock> {
    let dir = state.run.join("locks").join(namespace);
    std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
    lock_file(&dir.join(name))
}

/// flock(2) on `path`, retried when the file was removed (or replaced) while we
/// waited: a lock on an unlinked file guards nothing.
fn lock_file(path: &Path) -> Result<StateLock> {
    loop {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .with_context(|| format!("open {}", path.display()))?;
        let lock = Flock::lock(file, FlockArg::LockExclusive)
            .map_err(|(_, e)| e)
            .with_context(|| format!("lock {}", path.display()))?;
        let held = lock
            .metadata()
            .with_context(|| format!("stat {}", path.display()))?;
        match std::fs::metadata(path) {
            Ok(now) if now.ino() == held.ino() && now.dev() == held.dev() => {
                return Ok(StateLock {
                    _lock: lock,
                    path: path.to_path_buf(),
                })
            }
            _ => continue,
        }
    }
}

/// A lock on a directory itself (flock(2) on the directory's own file), for the one
/// job that ends with the directory's removal: a pod's teardown after its supervisor
/// is gone. Whoever gets it after the job is done finds the directory unlinked.
pub struct DirLock {
    _lock: Flock<File>,
}

/// What taking a [`DirLock`] found.
pub enum DirLockTaken {
    Held(DirLock),
    /// Somebody else holds it (only when not waiting).
    Busy,
    /// The directory is gone (removed before or while we waited).
    Gone,
}

/// Lock directory `dir`; `wait`: block until it is free, or else return `Busy`.
pub fn lock_dir(dir: &Path, wait: bool) -> Result<DirLockTaken> {
    let file = match File::open(dir) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(DirLockTaken::Gone),
        Err(e) => return Err(e).with_context(|| format!("open {}", dir.display())),
    };
    let how = if wait {
        FlockArg::LockExclusive
    } else {
        FlockArg::LockExclusiveNonblock
    };
    let lock = match Flock::lock(file, how) {
        Ok(lock) => lock,
        Err((_, nix::errno::Errno::EWOULDBLOCK)) if !wait => return Ok(DirLockTaken::Busy),
        Err((_, e)) => return Err(e).with_context(|| format!("lock {}", dir.display())),
    };
    let held = lock
        .metadata()
        .with_context(|| format!("stat {}", dir.display()))?;
    // rmdir leaves the open directory with no links and its path free: either way
    // the job it guarded is done.
    match std::fs::metadata(dir) {
        Ok(now) if held.nlink() > 0 && now.ino() == held.ino() && now.dev() == held.dev() => {
            Ok(DirLockTaken::Held(DirLock { _lock: lock }))
        }
        _ => Ok(DirLockTaken::Gone),
    }
}
