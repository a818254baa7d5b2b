//! `terminationMessagePath`: a file the container may write its last words to
//! (default `/dev/termination-log`). kubelet bind-mounts a host file there and reads
//! it when the container ends; with `FallbackToLogsOnError`, an empty message on a
//! failure is taken from the end of the container's log.

use super::paths::PodPaths;
use anyhow::{Context, Result};
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// kubelet's limits: 4096 bytes of message, or the last 80 lines / 2048 bytes of log.
const MAX_MESSAGE: u64 = 4096;
const FALLBACK_LINES: usize = 80;
const FALLBACK_BYTES: usize = 2048;

pub fn host_file(paths: &PodPaths, container: &str) -> PathBuf {
    paths.run.join("termination").join(container)
}

/// An empty, world-writable file for this start of the container.
pub fn prepare(paths: &PodPaths, container: &str) -> Result<()> {
    let file = host_file(paths, container);
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    }
    std::fs::write(&file, b"").with_context(|| format!("create {}", file.display()))?;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666))
        .with_context(|| format!("chmod {}", file.display()))
}

pub fn read(
    paths: &PodPaths,
    container: &str,
    policy: Option<&str>,
    exit_code: i32,
    log: &Path,
) -> String {
    let mut message = String::new();
    if let Ok(f) = std::fs::File::open(host_file(paths, container)) {
        let _ = f.take(MAX_MESSAGE).read_to_string(&mut message);
    }
    if message.is_empty() && exit_code != 0 && policy == Some("FallbackToLogsOnError") {
        message = log_tail(log);
    }
    message
}

fn log_tail(log: &Path) -> String {
    let mut text = std::fs::read(log).unwrap_or_default();
    // Just rotated: the lines before are in the newest rotated file.
    if text.iter().filter(|b| **b == b'\n').count() < FALLBACK_LINES {
        if let Some(newest) = super::log_files::rotated(log).last() {
            let mut older = std::fs::read(newest).unwrap_or_default();
            older.append(&mut text);
            text = older;
        }
    }
    let lines: Vec<String> = text
        .split(|b| *b == b'\n')
        .filter_map(super::cri_log::parse_line)
        .map(|r| String::from_utf8_lossy(r.text).into_owned())
        .collect();
    let tail = lines[lines.len().saturating_sub(FALLBACK_LINES)..].join("\n");
    let start = tail.len().saturating_sub(FALLBACK_BYTES);
    let start = (start..tail.len())
        .find(|i| tail.is_char_boundary(*i))
        .unwrap_or(tail.len());
    tail[start..].to_string()
}
