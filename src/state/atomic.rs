//! Atomic writes: a reader sees the old file or the new one, never half of one.

use anyhow::{Context, Result};
use std::io::Write;
use std::path::Path;

/// Write `data` to `path` through a temporary file in the same directory and a rename.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .with_context(|| format!("write {}: path has no parent directory", path.display()))?;
    let file_name = path
        .file_name()
        .with_context(|| format!("write {}: path has no file name", path.display()))?;
    let tmp = dir.join(format!(
        ".{}.tmp.{}",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    let written = std::fs::File::create(&tmp)
        .with_context(|| format!("create {}", tmp.display()))
        .and_then(|mut file| {
            file.write_all(data)
                .and_then(|_| file.sync_data())
                .with_context(|| format!("write {}", tmp.display()))
        })
        .and_then(|_| {
            std::fs::rename(&tmp, path)
                .with_context(|| format!("rename {} to {}", tmp.display(), path.display()))
        });
    // A write that failed (a full disk) leaves no temporary file behind.
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Serialize `value` as pretty JSON and write it atomically.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let data =
        serde_json::to_vec_pretty(value).with_context(|| format!("encode {}", path.display()))?;
    write_atomic(path, &data)
}
