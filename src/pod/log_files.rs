//! The files of one container instance's log under rotation, kept as kubelet's
//! container log manager keeps them: when `0.log` would grow past
//! `containerLogMaxSize` (10 MiB) it is renamed `0.log.<timestamp>` and a new `0.log`
//! begins; at most `containerLogMaxFiles` (5) files are kept, the current one
//! included, so one instance never holds more than size × files on disk.
//!
//! Unlike kubelet, rotated files are not gzip-compressed (so `logs` reads them as
//! they are), and the writer rotates as it writes rather than every 10 s, so the
//! bound holds at every moment. Of a container's earlier instances the last
//! [`KEPT_INSTANCES`] - 1 are kept (kubelet keeps the previous one, for
//! `logs --previous`, until its garbage collection; a few more here let a student
//! compare restarts), so a crash-looping container is bounded too.
//!
//! Settings (environment of `apply`, inherited by the supervisor):
//! `MINIPOD_CONTAINER_LOG_MAX_SIZE` (`10Mi`, `64Ki`, or bytes) and
//! `MINIPOD_CONTAINER_LOG_MAX_FILES` (at least 2).

use crate::state::time::rfc3339_nanos;
use anyhow::{anyhow, bail, Context, Result};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

pub const MAX_SIZE_VAR: &str = "MINIPOD_CONTAINER_LOG_MAX_SIZE";
pub const MAX_FILES_VAR: &str = "MINIPOD_CONTAINER_LOG_MAX_FILES";

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogLimits {
    /// Largest size of one file, in bytes.
    pub max_size: u64,
    /// Most files of one instance, the current one included.
    pub max_files: usize,
}

impl Default for LogLimits {
    /// kubelet's defaults.
    fn default() -> Self {
        LogLimits {
            max_size: 10 * 1024 * 1024,
            max_files: 5,
        }
    }
}

impl LogLimits {
    pub fn from_env() -> Result<LogLimits> {
        let mut limits = LogLimits::default();
        if let Ok(v) = std::env::var(MAX_SIZE_VAR) {
            limits.max_size = parse_size(&v).with_context(|| format!("{MAX_SIZE_VAR}={v:?}"))?;
        }
        if let Ok(v) = std::env::var(MAX_FILES_VAR) {
            limits.max_files =
                v.trim().parse().ok().filter(|n| *n >= 2).with_context(|| {
                    format!("{MAX_FILES_VAR}={v:?}: a whole number, at least 2")
                })?;
        }
        Ok(limits)
    }
}

/// A size as kubelet's configuration writes it (`containerLogMaxSize` is a resource
/// quantity): `10Mi`, `512Ki`, `1Gi`, or bytes; read by the API's quantity parser.
pub fn parse_size(text: &str) -> Result<u64> {
    let q =
        crate::apimachinery::quantity::parse_quantity(text.trim()).map_err(|e| anyhow!("{e}"))?;
    // At least one byte, and a whole number of them that fits in 64 bits.
    if !(q.value >= 1.0 && q.value < u64::MAX as f64) {
        bail!("the size must be above 0 and fit in 64 bits");
    }
    Ok(q.ceil_units())
}

/// The name the current file takes when rotated: `0.log.20261129T154501.123456789Z`
/// (fixed width, so names sort in time order).
pub fn rotated_name(current: &Path, now: SystemTime) -> PathBuf {
    let stamp: String = rfc3339_nanos(now)
        .chars()
        .filter(|c| *c != '-' && *c != ':')
        .collect();
    let mut name = current.as_os_str().to_owned();
    name.push(format!(".{stamp}"));
    PathBuf::from(name)
}

/// The instance's rotated files, oldest first.
pub fn rotated(current: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(name)) = (current.parent(), current.file_name()) else {
        return Vec::new();
    };
    let prefix = format!("{}.", name.to_string_lossy());
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
        .collect();
    files.sort();
    files
}

/// Remove the oldest rotated files beyond `keep`.
pub fn prune(current: &Path, keep: usize) {
    let files = rotated(current);
    let excess = files.len().saturating_sub(keep);
    for old in &files[..excess] {
        let _ = std::fs::remove_file(old);
    }
}

/// Instances whose logs are kept, the current one included.
pub const KEPT_INSTANCES: u32 = 5;

/// Remove the logs of instances older than the last [`KEPT_INSTANCES`] of the
/// container whose logs are in `dir`, when instance `restart` begins (instance `k`
/// writes `k.log` and its rotated `k.log.*`).
pub fn prune_instances(dir: &Path, restart: u32) {
    let Some(oldest_kept) = restart.checked_sub(KEPT_INSTANCES - 1) else {
        return;
    };
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let instance = name.split('.').next().and_then(|n| n.parse::<u32>().ok());
        if instance.is_some_and(|k| k < oldest_kept) && name.contains(".log") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_as_kubelet_writes_them() {
        assert_eq!(parse_size("10Mi").unwrap(), 10 * 1024 * 1024);
        assert_eq!(parse_size("64Ki").unwrap(), 65536);
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert!(parse_size("0").is_err());
        assert!(parse_size("10MB").is_err());
        assert!(parse_size("99999999999999999999Gi").is_err());
    }

    #[test]
    fn rotated_files_sort_in_time_order_and_are_pruned_oldest_first() {
        let dir = std::env::temp_dir().join(format!("minipod-logfiles-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let current = dir.join("1.log");
        let t0 = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
        for s in [5u64, 1, 3] {
            let t = t0 + std::time::Duration::from_millis(s);
            std::fs::write(rotated_name(&current, t), b"x").unwrap();
        }
        std::fs::write(&current, b"x").unwrap();
        std::fs::write(dir.join("0.log"), b"previous").unwrap();
        let mut files = rotated(&current);
        files.push(current.clone());
        let names: Vec<_> = files
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 4);
        assert!(names[0] < names[1] && names[1] < names[2], "{names:?}");
        assert_eq!(names[3], "1.log");
        prune(&current, 1);
        assert_eq!(rotated(&current).len(), 1);
        assert!(rotated(&current)[0].to_string_lossy().ends_with(&names[2]));
        // Instance 6 keeps instances 2 to 5; 0 and 1 go.
        prune_instances(&dir, 6);
        assert!(!current.exists() && !dir.join("0.log").exists());
        assert!(rotated(&current).is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
