//! The store's write lock and its staging directories.
//!
//! Every command that changes the store holds `images/lock` (flock) for its whole run.
//! New content is first written under `images/tmp/`, then renamed into place; a failed
//! load removes its staging directory, and the next writer clears what a crash left.

use anyhow::{Context, Result};
use nix::fcntl::{Flock, FlockArg};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// Held while the store is being changed; released when dropped.
pub struct StoreLock {
    _lock: Flock<File>,
}

impl StoreLock {
    /// Wait for the exclusive lock on `lock_path`, then clear stale staging directories
    /// under `tmp_dir` (no other writer can be using them while we hold the lock).
    pub fn acquire(lock_path: &Path, tmp_dir: &Path) -> Result<StoreLock> {
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(lock_path)
            .with_context(|| format!("open lock file {}", lock_path.display()))?;
        let lock = Flock::lock(file, FlockArg::LockExclusive)
            .map_err(|(_, errno)| errno)
            .with_context(|| format!("lock {}", lock_path.display()))?;
        for entry in
            std::fs::read_dir(tmp_dir).with_context(|| format!("list {}", tmp_dir.display()))?
        {
            let path = entry
                .with_context(|| format!("list {}", tmp_dir.display()))?
                .path();
            remove_path(&path)?;
        }
        Ok(StoreLock { _lock: lock })
    }
}

/// A directory under `images/tmp/` removed (with whatever is left in it) when dropped.
pub struct StagingDir {
    path: PathBuf,
}

impl StagingDir {
    /// Requires the lock: staging directories are only created by a writer.
    pub fn create(tmp_dir: &Path, purpose: &str, _lock: &StoreLock) -> Result<StagingDir> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let path = tmp_dir.join(format!(
            "{purpose}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir(&path).with_context(|| format!("create {}", path.display()))?;
        Ok(StagingDir { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A new empty directory inside this staging directory (mode 0755: a layer root).
    pub fn new_subdir(&self, name: &str) -> Result<PathBuf> {
        use std::os::unix::fs::DirBuilderExt;
        let path = self.path.join(name);
        std::fs::DirBuilder::new()
            .mode(0o755)
            .create(&path)
            .with_context(|| format!("create {}", path.display()))?;
        Ok(path)
    }
}

impl Drop for StagingDir {
    fn drop(&mut self) {
        if let Err(err) = remove_path(&self.path) {
            eprintln!("warning: {err:#}");
        }
    }
}

/// Remove a file or a whole directory tree; a missing path is fine.
pub fn remove_path(path: &Path) -> Result<()> {
    let result = match std::fs::symlink_metadata(path) {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(err) => Err(err),
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
    };
    result.with_context(|| format!("remove {}", path.display()))
}
