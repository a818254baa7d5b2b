//! The result cache, as libcni keeps it in `/var/lib/cni/results`: one file per
//! attachment (`<network>-<container id>-<ifname>`), written before ADD returns and
//! removed after DEL, holding the config ADD ran and its result. DEL needs both: the
//! plugins release what the result names, even when the config on disk has changed
//! since. A cache entry is written *before* the first plugin runs too, so a DEL after
//! a half-finished ADD (a crash) still knows which network to tear down.

use crate::state::atomic::write_atomic;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CacheEntry {
    /// libcni's format marker.
    pub kind: String,
    pub container_id: String,
    pub if_name: String,
    pub network_name: String,
    /// The netns path ADD was given (for the reader).
    pub netns: String,
    pub cni_args: String,
    /// The conflist that ran, whole.
    pub config: Value,
    /// Capability arguments (`portMappings`) handed to plugins that declare them.
    #[serde(default)]
    pub capability_args: Value,
    /// The final result; `null` while ADD has not finished.
    #[serde(default)]
    pub result: Value,
}

pub fn path(dir: &Path, network: &str, container_id: &str, ifname: &str) -> PathBuf {
    dir.join(format!("{network}-{container_id}-{ifname}"))
}

pub fn write(dir: &Path, entry: &CacheEntry) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    let file = path(
        dir,
        &entry.network_name,
        &entry.container_id,
        &entry.if_name,
    );
    let bytes = serde_json::to_vec_pretty(entry).context("encode the CNI cache entry")?;
    write_atomic(&file, &bytes).with_context(|| format!("write {}", file.display()))
}

/// Every entry of `container_id` (any network, any interface).
pub fn entries_of(dir: &Path, container_id: &str) -> Vec<(PathBuf, CacheEntry)> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    read.filter_map(|e| e.ok().map(|e| e.path()))
        .filter_map(|p| {
            let bytes = std::fs::read(&p).ok()?;
            let entry: CacheEntry = serde_json::from_slice(&bytes).ok()?;
            (entry.container_id == container_id).then_some((p, entry))
        })
        .collect()
}

pub fn remove(file: &Path) -> Result<()> {
    match std::fs::remove_file(file) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("remove {}", file.display())),
    }
}
