//! `image load`: read an archive, verify every blob, unpack new layers into staging, then
//! commit everything to the store at once. A failure anywhere leaves the store unchanged.

use super::archive_file::ArchiveFile;
use super::compression;
use super::digest::{Digest, HashingReader};
use super::docker_archive::read_docker_archive;
use super::image_config::ImageConfigFile;
use super::image_source::check_blob;
use super::image_source::{read_verified_blob, ImageSource};
use super::layer_extract::extract_layer;
use super::manifest::{synthesize_manifest, BlobRef};
use super::oci_layout::read_oci_layout;
use super::staging::StagingDir;
use super::store::{ImageStore, StagedImage, StagedLayer};
use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use std::io::{BufReader, Read};
use std::path::Path;

/// Load every image of an OCI layout or docker-archive tarball; returns the names loaded.
pub fn load_archive(store: &ImageStore, input: &Path) -> Result<Vec<String>> {
    let lock = store.lock()?;
    let staging = store.staging_dir("load", &lock)?;
    let archive = ArchiveFile::open(input, staging.path())?;
    let sources = if archive.contains("manifest.json") {
        read_docker_archive(&archive)
    } else if archive.contains("index.json") {
        read_oci_layout(&archive)
    } else {
        bail!("neither an OCI image layout (no index.json) nor a docker-archive (no manifest.json)")
    }
    .with_context(|| format!("load {}", input.display()))?;

    let mut layers = LayerStaging::new(store, &staging);
    let mut images = Vec::new();
    for source in &sources {
        let label = &source.names[0];
        let image = stage_image(&archive, source, &mut layers)
            .with_context(|| format!("load image {label} from {}", input.display()))?;
        images.push(image);
    }
    archive.progress.finish();
    store.commit(&lock, layers.staged, &images)?;
    Ok(images.into_iter().flat_map(|image| image.names).collect())
}

fn stage_image(
    archive: &ArchiveFile,
    source: &ImageSource,
    layers: &mut LayerStaging<'_>,
) -> Result<StagedImage> {
    let label = &source.names[0];
    let config_data = match &source.config_digest {
        Some(digest) => read_verified_blob(
            archive,
            &source.config_member,
            digest,
            source.config_size,
            label,
        )?,
        None => archive.read_small(&source.config_member)?,
    };
    let config_digest = Digest::of_bytes(&config_data);
    let config = ImageConfigFile::parse(&config_data)
        .with_context(|| format!("config {}", source.config_member))?;
    let diff_ids = config.diff_ids()?;
    if diff_ids.len() != source.layers.len() {
        bail!(
            "the image has {} layers but its config lists {} diff_ids",
            source.layers.len(),
            diff_ids.len()
        );
    }
    let mut layer_refs = Vec::new();
    for (layer, diff_id) in source.layers.iter().zip(&diff_ids) {
        let (size, reader) = archive.open_member(&layer.member)?;
        let expected = LayerExpectation {
            blob: layer.digest.as_ref(),
            blob_size: layer.size,
            diff_id: Some(diff_id),
            image: label,
        };
        let checked = layers
            .add(reader, &expected)
            .with_context(|| format!("layer {} ({size} bytes)", layer.member))?;
        layer_refs.push(BlobRef {
            digest: checked.diff_id,
            size: checked.tar_size,
        });
    }
    let (manifest_digest, manifest) = match &source.manifest {
        Some((digest, data)) => (digest.clone(), data.clone()),
        None => {
            let config_ref = BlobRef {
                digest: config_digest.clone(),
                size: config_data.len() as u64,
            };
            let data = synthesize_manifest(&config_ref, &layer_refs)?;
            (Digest::of_bytes(&data), data)
        }
    };
    Ok(StagedImage {
        names: source.names.clone(),
        manifest_digest,
        manifest,
        config_digest,
        config: config_data,
    })
}

/// What a layer blob must match.
pub struct LayerExpectation<'a> {
    pub blob: Option<&'a Digest>,
    pub blob_size: Option<u64>,
    pub diff_id: Option<&'a Digest>,
    pub image: &'a str,
}

/// A layer blob's digests as computed while reading it.
pub struct CheckedLayer {
    pub diff_id: Digest,
    /// Size of the uncompressed tar stream.
    pub tar_size: u64,
}

/// The layers of one load: unpacked once each into staging, checked against what the
/// archive says, and deduplicated against the store and each other.
pub struct LayerStaging<'a> {
    store: &'a ImageStore,
    staging: &'a StagingDir,
    pub staged: Vec<StagedLayer>,
    tar_sizes: HashMap<Digest, u64>,
}

impl<'a> LayerStaging<'a> {
    pub fn new(store: &'a ImageStore, staging: &'a StagingDir) -> Self {
        LayerStaging {
            store,
            staging,
            staged: Vec::new(),
            tar_sizes: HashMap::new(),
        }
    }

    /// Verify a layer blob and unpack it unless the store (or this load) already has it.
    pub fn add<R: Read>(
        &mut self,
        blob: R,
        expected: &LayerExpectation<'_>,
    ) -> Result<CheckedLayer> {
        let known = expected
            .diff_id
            .is_some_and(|d| self.tar_sizes.contains_key(d) || self.store.layer_path(d).is_dir());
        if known {
            // Already unpacked: still verify the blob, but only hash it.
            let (diff_id, tar_size, _) = read_layer(blob, None, expected)?;
            return Ok(CheckedLayer { diff_id, tar_size });
        }
        let dir = self
            .staging
            .new_subdir(&format!("layer-{}", self.staged.len()))?;
        let (diff_id, tar_size, content_size) = read_layer(blob, Some(&dir), expected)?;
        if self.tar_sizes.insert(diff_id.clone(), tar_size).is_none()
            && !self.store.layer_path(&diff_id).is_dir()
        {
            self.staged.push(StagedLayer {
                diff_id: diff_id.clone(),
                dir,
                size: content_size,
            });
        }
        Ok(CheckedLayer { diff_id, tar_size })
    }
}

/// Read a layer blob to its end: hash it, decompress it, hash the tar, and unpack it into
/// `dest` if given. Returns (diff_id, tar size, bytes of file content).
fn read_layer<R: Read>(
    blob: R,
    dest: Option<&Path>,
    expected: &LayerExpectation<'_>,
) -> Result<(Digest, u64, u64)> {
    let mut raw = HashingReader::new(blob);
    let unpacked = (|| -> Result<(Digest, u64, u64)> {
        let mut tar = HashingReader::new(compression::decompressed(BufReader::new(&mut raw))?);
        let content_size = match dest {
            Some(dest) => extract_layer(&mut tar, dest)?,
            None => 0,
        };
        let (diff_id, tar_size) = tar.finish().context("read layer")?;
        Ok((diff_id, tar_size, content_size))
    })();
    // A corrupt blob explains any failure above best, so check it first.
    let (blob_digest, blob_size) = raw.finish().context("read layer blob")?;
    if let Some(digest) = expected.blob {
        check_blob(
            digest,
            &blob_digest,
            expected.blob_size,
            blob_size,
            expected.image,
        )?;
    }
    let (diff_id, tar_size, content_size) = unpacked?;
    if let Some(expected_diff_id) = expected.diff_id {
        if diff_id != *expected_diff_id {
            bail!(
                "layer of image {} is corrupt: its uncompressed content hashes to {diff_id}, \
                 but the image config says its diff_id is {expected_diff_id}",
                expected.image
            );
        }
    }
    Ok((diff_id, tar_size, content_size))
}
