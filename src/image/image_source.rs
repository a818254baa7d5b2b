//! What an archive holds, as its format reader (`oci_layout`, `docker_archive`)
//! found it, before `load` verifies and stages it; and the check of a blob against its
//! digest, which both the readers and `load` make.

use super::archive_file::ArchiveFile;
use super::digest::Digest;
use anyhow::{bail, Result};

/// One image found in an archive, before anything is verified.
pub struct ImageSource {
    /// Normalized `name:tag`s.
    pub names: Vec<String>,
    /// The manifest as found in the archive, already verified (OCI layouts only).
    pub manifest: Option<(Digest, Vec<u8>)>,
    /// Path of the config JSON inside the archive, and what it must hash to.
    pub config_member: String,
    pub config_digest: Option<Digest>,
    pub config_size: Option<u64>,
    /// Layer blobs, base first.
    pub layers: Vec<LayerSource>,
}

pub struct LayerSource {
    /// Path inside the archive.
    pub member: String,
    /// The blob's (compressed) digest and size when the archive states them.
    pub digest: Option<Digest>,
    pub size: Option<u64>,
}

/// Read a small blob (manifest, config) and check it hashes to its digest.
pub fn read_verified_blob(
    archive: &ArchiveFile,
    member: &str,
    digest: &Digest,
    size: Option<u64>,
    image: &str,
) -> Result<Vec<u8>> {
    let data = archive.read_small(member)?;
    check_blob(
        digest,
        &Digest::of_bytes(&data),
        size,
        data.len() as u64,
        image,
    )?;
    Ok(data)
}

pub fn check_blob(
    expected: &Digest,
    actual: &Digest,
    size: Option<u64>,
    actual_size: u64,
    image: &str,
) -> Result<()> {
    if actual != expected {
        bail!("blob {expected} of image {image} is corrupt: its content hashes to {actual}");
    }
    if let Some(size) = size.filter(|s| *s != actual_size) {
        bail!("blob {expected} of image {image} is corrupt: it has {actual_size} bytes, its descriptor says {size}");
    }
    Ok(())
}
