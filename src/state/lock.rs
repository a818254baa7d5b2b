//! One lock for the commands that change pods: two `apply`s of the same name, or an
//! `apply` racing a `delete`, take turns.

use super::paths::StateRoot;
use anyhow::{Context, Result};
use nix::fcntl::{Flock, FlockArg};
use std::fs::File;

pub struct StateLock {
    _lock: Flock<File>,
}

pub fn lock(state: &StateRoot) -> Result<StateLock> {
    std::fs::create_dir_all(&state.run)
        .with_context(|| format!("create {}", state.run.display()))?;
    let path = state.run.join("lock");
    let file = File::create(&path).with_context(|| format!("open {}", path.display()))?;
    let lock = Flock::lock(file, FlockArg::LockExclusive)
        .map_err(|(_, e)| e)
        .with_context(|| format!("lock {}", path.display()))?;
    Ok(StateLock { _lock: lock })
}
