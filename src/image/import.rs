//! `image import`: a plain root file system (a directory or a tarball) becomes a
//! one-layer image with an empty config (no Entrypoint, no Cmd).

use super::digest::Digest;
use super::human::{format_rfc3339, now_unix};
use super::image_config::{ContainerConfig, ImageConfigFile, RootFs};
use super::load::{LayerExpectation, LayerStaging};
use super::manifest::{synthesize_manifest, BlobRef};
use super::reference::Reference;
use super::store::{ImageStore, StagedImage};
use anyhow::{bail, Context, Result};
use std::fs::File;
use std::path::Path;

/// Import `source` as the image `name`; returns the normalized name.
pub fn import_rootfs(store: &ImageStore, source: &Path, name: &str) -> Result<String> {
    let reference = Reference::parse(name)?;
    let Some(name_tag) = reference.name_tag().filter(|_| reference.digest.is_none()) else {
        bail!("cannot import as {reference}: the name must be name[:tag], without a digest");
    };
    let lock = store.lock()?;
    let staging = store.staging_dir("import", &lock)?;
    let meta = std::fs::metadata(source).with_context(|| format!("stat {}", source.display()))?;
    let layer_tar = if meta.is_dir() {
        let tar_path = staging.path().join("rootfs.tar");
        build_layer_tar(source, &tar_path)
            .with_context(|| format!("archive directory {}", source.display()))?;
        tar_path
    } else {
        source.to_path_buf()
    };
    let blob = File::open(&layer_tar).with_context(|| format!("open {}", layer_tar.display()))?;
    let mut layers = LayerStaging::new(store, &staging);
    let expected = LayerExpectation {
        blob: None,
        blob_size: None,
        diff_id: None,
        image: &name_tag,
    };
    let layer = layers
        .add(blob, &expected)
        .with_context(|| format!("import {}", source.display()))?;

    let config = ImageConfigFile {
        created: Some(format_rfc3339(now_unix())),
        architecture: oci_architecture().to_string(),
        os: "linux".to_string(),
        config: Some(ContainerConfig::default()),
        rootfs: RootFs {
            kind: "layers".to_string(),
            diff_ids: Some(vec![layer.diff_id.to_string()]),
        },
    };
    let config_data = serde_json::to_vec(&config).context("encode image config")?;
    let config_digest = Digest::of_bytes(&config_data);
    let config_ref = BlobRef {
        digest: config_digest.clone(),
        size: config_data.len() as u64,
    };
    let layer_ref = BlobRef {
        digest: layer.diff_id,
        size: layer.tar_size,
    };
    let manifest = synthesize_manifest(&config_ref, &[layer_ref])?;
    let image = StagedImage {
        names: vec![name_tag.clone()],
        manifest_digest: Digest::of_bytes(&manifest),
        manifest,
        config_digest,
        config: config_data,
    };
    store.commit(&lock, layers.staged, &[image])?;
    Ok(name_tag)
}

/// Archive `dir`'s contents (not following symlinks, keeping owners and modes).
fn build_layer_tar(dir: &Path, tar_path: &Path) -> Result<()> {
    let file = File::create(tar_path).with_context(|| format!("create {}", tar_path.display()))?;
    let mut builder = tar::Builder::new(file);
    builder.follow_symlinks(false);
    builder.append_dir_all("", dir)?;
    builder.into_inner()?.sync_all()?;
    Ok(())
}

/// The OCI name of this machine's architecture (Go's GOARCH names).
fn oci_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}
