//! The `docker save` / `podman save` archive: `manifest.json` lists each image's config
//! file, tags and layer tars (`<id>/layer.tar`, or `blobs/sha256/<hex>` since Docker 25).

use super::archive_file::ArchiveFile;
use super::digest::Digest;
use super::image_source::{ImageSource, LayerSource};
use super::reference::Reference;
use anyhow::{bail, Context, Result};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ManifestEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

pub fn read_docker_archive(archive: &ArchiveFile) -> Result<Vec<ImageSource>> {
    let entries: Vec<ManifestEntry> = serde_json::from_slice(&archive.read_small("manifest.json")?)
        .context("parse manifest.json")?;
    if entries.is_empty() {
        bail!("manifest.json lists no images");
    }
    entries
        .into_iter()
        .enumerate()
        .map(|(i, entry)| {
            let names = entry
                .repo_tags
                .unwrap_or_default()
                .iter()
                .map(|tag| {
                    Reference::parse(tag)?
                        .name_tag()
                        .with_context(|| format!("RepoTags entry {tag:?} has no tag"))
                })
                .collect::<Result<Vec<_>>>()
                .with_context(|| format!("manifest.json entry {i}"))?;
            if names.is_empty() {
                bail!(
                    "manifest.json entry {i} (config {}) has no RepoTags; minipod keeps images \
                     by name:tag (save it by name: docker save NAME:TAG)",
                    entry.config
                );
            }
            Ok(ImageSource {
                names,
                manifest: None,
                config_digest: digest_in_member_name(&entry.config),
                config_size: None,
                config_member: entry.config,
                layers: entry
                    .layers
                    .into_iter()
                    .map(|member| LayerSource {
                        digest: digest_in_member_name(&member),
                        size: None,
                        member,
                    })
                    .collect(),
            })
        })
        .collect()
}

/// `<hex>.json` and `blobs/sha256/<hex>` name their content's digest; `<id>/layer.tar` does not.
fn digest_in_member_name(member: &str) -> Option<Digest> {
    let file_name = member.rsplit('/').next().unwrap_or(member);
    let hex = file_name.strip_suffix(".json").unwrap_or(file_name);
    Digest::from_hex(hex).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_from_member_names() {
        let hex = "ab".repeat(32);
        assert_eq!(
            digest_in_member_name(&format!("{hex}.json")).unwrap().hex(),
            hex
        );
        assert_eq!(
            digest_in_member_name(&format!("blobs/sha256/{hex}"))
                .unwrap()
                .hex(),
            hex
        );
        assert!(digest_in_member_name(&format!("{hex}/layer.tar")).is_none());
    }
}
