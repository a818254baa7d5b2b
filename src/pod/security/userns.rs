//! `hostUsers: false`: the pod gets a user namespace of its own, with 65536 ids
//! (kubelet's length) mapped to a range of host ids that no other pod has. The
//! infra creates the namespace; containers join it; their root and volumes are
//! idmapped mounts (see `runtime::userns`).
//!
//! Allocation: a block of 65536 host ids per pod, claimed by creating
//! `<run>/userns/<first host id>` (holding the pod's uid) under the directory's lock.
//! Blocks come from `MINIPOD_USERNS_RANGE` (`FIRST-LAST`, default 1048576-2147483647),
//! skipping any range `/etc/subuid` or `/etc/subgid` hands to a host user; a state
//! root of its own (`--root DIR`) starts its search at a point derived from DIR, so
//! separate roots (parallel tests) rarely meet. A block whose pod is gone (no record
//! in the state root) is free again.

use crate::state::paths::StateRoot;
use anyhow::{bail, Context, Result};
use k8s_openapi::api::core::v1::Pod;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Ids per pod, as kubelet gives them.
pub const LENGTH: u32 = 65536;
const DEFAULT_RANGE: (u64, u64) = (1 << 20, (1 << 31) - 1);

pub fn wants_own_users(pod: &Pod) -> bool {
    pod.spec.as_ref().and_then(|s| s.host_users) == Some(false)
}

/// One pod's block of host ids.
#[derive(Debug, Clone, PartialEq)]
pub struct PodRange {
    /// The first host id: uid/gid 0 inside.
    pub host_start: u32,
    claim: PathBuf,
}

impl PodRange {
    /// `0 <host_start> 65536`, the line of `uid_map` and `gid_map`.
    pub fn map_line(&self) -> String {
        format!("0 {} {LENGTH}", self.host_start)
    }

    /// Give the block back (the pod is gone).
    pub fn release(&self) {
        let _ = std::fs::remove_file(&self.claim);
    }
}

struct Pool {
    dir: PathBuf,
    pods_run: PathBuf,
    /// First block index and number of blocks (block b = host ids b*65536..).
    first: u64,
    count: u64,
    seed: u64,
    reserved: Vec<(u64, u64)>,
}

fn range_from_env() -> Result<(u64, u64)> {
    match std::env::var("MINIPOD_USERNS_RANGE") {
        Ok(v) if !v.is_empty() => {
            let parse = |s: &str| s.trim().parse::<u64>().ok();
            match v.split_once('-').and_then(|(a, b)| Some((parse(a)?, parse(b)?))) {
                Some((a, b)) if a < b && b < (1 << 32) => Ok((a, b)),
                _ => bail!("MINIPOD_USERNS_RANGE={v:?}: expected FIRST-LAST host ids, e.g. 1048576-2147483647"),
            }
        }
        _ => Ok(DEFAULT_RANGE),
    }
}

/// `name:start:count` lines of /etc/subuid and /etc/subgid, as host id ranges.
fn subordinate_ranges() -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for file in ["/etc/subuid", "/etc/subgid"] {
        for line in std::fs::read_to_string(file).unwrap_or_default().lines() {
            let f: Vec<&str> = line.split(':').collect();
            if let (Some(Ok(start)), Some(Ok(count))) = (
                f.get(1).map(|s| s.parse::<u64>()),
                f.get(2).map(|s| s.parse::<u64>()),
            ) {
                out.push((start, start.saturating_add(count)));
            }
        }
    }
    out
}

impl Pool {
    fn new(state: &StateRoot) -> Result<Pool> {
        let (lo, hi) = range_from_env()?;
        let len = u64::from(LENGTH);
        let first = lo.div_ceil(len);
        let end = (hi + 1) / len;
        if end <= first {
            bail!("the user namespace range {lo}-{hi} holds no block of {LENGTH} ids");
        }
        let seed = state
            .root
            .as_ref()
            .map(|r| {
                // FNV-1a of the root's path.
                r.as_os_str()
                    .as_encoded_bytes()
                    .iter()
                    .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
                    })
            })
            .unwrap_or(0);
        Ok(Pool {
            dir: state.run.join("userns"),
            pods_run: state.pods_run(),
            first,
            count: end - first,
            seed,
            reserved: subordinate_ranges(),
        })
    }

    fn blocks(&self) -> impl Iterator<Item = u64> + '_ {
        let start = self.seed % self.count;
        (0..self.count).map(move |i| self.first + (start + i) % self.count)
    }

    fn overlaps_reserved(&self, block: u64) -> bool {
        let (a, b) = (block * u64::from(LENGTH), (block + 1) * u64::from(LENGTH));
        self.reserved.iter().any(|(s, e)| a < *e && *s < b)
    }
}

/// The pod's block: the one it already holds, else a free one, claimed.
pub fn allocate(state: &StateRoot, pod_uid: &str) -> Result<PodRange> {
    let pool = Pool::new(state)?;
    std::fs::create_dir_all(&pool.dir).with_context(|| format!("create {}", pool.dir.display()))?;
    let lock = std::fs::File::create(pool.dir.join(".lock"))
        .with_context(|| format!("create {}", pool.dir.join(".lock").display()))?;
    let _held = nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| e)
        .context("lock the user namespace ranges")?;
    // Already ours (a new sandbox for the same pod keeps its ids)?
    for entry in std::fs::read_dir(&pool.dir).into_iter().flatten().flatten() {
        if std::fs::read_to_string(entry.path()).ok().as_deref() == Some(pod_uid) {
            if let Some(range) = range_of(&entry.path()) {
                return Ok(range);
            }
        }
    }
    for block in pool.blocks() {
        if pool.overlaps_reserved(block) {
            continue;
        }
        let Ok(host_start) = u32::try_from(block * u64::from(LENGTH)) else {
            continue;
        };
        let claim = pool.dir.join(host_start.to_string());
        if let Ok(owner) = std::fs::read_to_string(&claim) {
            if owner.is_empty() || pool.pods_run.join(owner.trim()).exists() {
                continue;
            }
            // Its pod is gone: the block is free again.
            let _ = std::fs::remove_file(&claim);
        }
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&claim)
            .with_context(|| format!("claim {}", claim.display()))?;
        file.write_all(pod_uid.as_bytes())
            .with_context(|| format!("write {}", claim.display()))?;
        return Ok(PodRange { host_start, claim });
    }
    bail!("no free block of {LENGTH} host ids for the pod's user namespace (MINIPOD_USERNS_RANGE)")
}

fn range_of(claim: &Path) -> Option<PodRange> {
    let host_start = claim.file_name()?.to_str()?.parse().ok()?;
    Some(PodRange {
        host_start,
        claim: claim.to_path_buf(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pods_get_disjoint_blocks_and_keep_theirs() {
        let dir = std::env::temp_dir().join(format!("minipod-userns-{}", std::process::id()));
        let state = StateRoot::new(Some(&dir));
        std::fs::create_dir_all(state.pod_run("a")).unwrap();
        std::fs::create_dir_all(state.pod_run("b")).unwrap();
        let a = allocate(&state, "a").unwrap();
        let b = allocate(&state, "b").unwrap();
        assert_ne!(a.host_start, b.host_start);
        assert!(a.host_start.abs_diff(b.host_start) >= LENGTH, "{a:?} {b:?}");
        assert_eq!(a.host_start % LENGTH, 0);
        assert!(u64::from(a.host_start) >= DEFAULT_RANGE.0);
        assert_eq!(allocate(&state, "a").unwrap(), a, "a pod keeps its block");
        // A pod whose record is gone frees its block for the next one.
        std::fs::remove_dir_all(state.pod_run("a")).unwrap();
        std::fs::create_dir_all(state.pod_run("c")).unwrap();
        let c = allocate(&state, "c").unwrap();
        assert_ne!(c.host_start, b.host_start);
        assert_eq!(c.map_line(), format!("0 {} 65536", c.host_start));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
