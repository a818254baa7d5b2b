//! OCI image layout tarballs (`oci-layout`, `index.json`, `blobs/sha256/<hex>`), as written
//! by `podman save --format oci-archive`, `skopeo copy oci-archive:` and our image scripts.

use super::archive_file::ArchiveFile;
use super::digest::Digest;
use super::image_source::{read_verified_blob, ImageSource, LayerSource};
use super::manifest::parse_manifest;
use super::reference::Reference;
use anyhow::{bail, Context, Result};
use oci_spec::image::{Descriptor, ImageIndex, MediaType};

/// containerd's annotation: the full image reference (`docker.io/library/busybox:1.36`).
const CONTAINERD_NAME: &str = "io.containerd.image.name";
/// The OCI annotation: usually only a tag (`1.36`), sometimes a full reference.
const OCI_REF_NAME: &str = "org.opencontainers.image.ref.name";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

pub fn blob_member(digest: &Digest) -> String {
    format!("blobs/sha256/{}", digest.hex())
}

/// The images of an OCI layout: one per distinct manifest in `index.json`, with every
/// name the index gives it (one descriptor per tag).
pub fn read_oci_layout(archive: &ArchiveFile) -> Result<Vec<ImageSource>> {
    if archive.contains("oci-layout") {
        let layout: serde_json::Value = serde_json::from_slice(&archive.read_small("oci-layout")?)
            .context("parse oci-layout")?;
        let version = layout["imageLayoutVersion"].as_str().unwrap_or_default();
        if version != "1.0.0" {
            bail!(
                "oci-layout: imageLayoutVersion {version:?} is not supported (expected \"1.0.0\")"
            );
        }
    }
    let index = ImageIndex::from_reader(&archive.read_small("index.json")?[..])
        .context("parse index.json")?;

    let mut images: Vec<(Digest, u64, Vec<String>)> = Vec::new();
    for descriptor in index.manifests() {
        let digest = Digest::parse(descriptor.digest().as_ref()).context("index.json entry")?;
        check_is_manifest(descriptor, &digest)?;
        let name = image_name(descriptor)
            .with_context(|| format!("index.json entry {digest}"))?
            .with_context(|| {
                format!(
                    "index.json entry {digest} has no image name (annotation {CONTAINERD_NAME} \
                     or {OCI_REF_NAME}); minipod keeps images by name:tag"
                )
            })?;
        match images.iter_mut().find(|(d, _, _)| *d == digest) {
            Some((_, _, names)) if !names.contains(&name) => names.push(name),
            Some(_) => {}
            None => images.push((digest, descriptor.size(), vec![name])),
        }
    }
    if images.is_empty() {
        bail!("index.json lists no image manifests");
    }

    images
        .into_iter()
        .map(|(digest, size, names)| {
            let label = names[0].clone();
            let data =
                read_verified_blob(archive, &blob_member(&digest), &digest, Some(size), &label)?;
            let blobs = parse_manifest(&data)
                .with_context(|| format!("manifest {digest} of image {label}"))?;
            Ok(ImageSource {
                names,
                manifest: Some((digest, data)),
                config_member: blob_member(&blobs.config.digest),
                config_digest: Some(blobs.config.digest),
                config_size: Some(blobs.config.size),
                layers: blobs
                    .layers
                    .into_iter()
                    .map(|layer| LayerSource {
                        member: blob_member(&layer.digest),
                        digest: Some(layer.digest),
                        size: Some(layer.size),
                    })
                    .collect(),
            })
        })
        .collect()
}

fn check_is_manifest(descriptor: &Descriptor, digest: &Digest) -> Result<()> {
    match descriptor.media_type() {
        MediaType::ImageManifest => Ok(()),
        MediaType::Other(t) if t == DOCKER_MANIFEST => Ok(()),
        MediaType::ImageIndex => bail!(
            "index.json entry {digest} is a nested image index (e.g. a multi-platform image); \
             minipod loads image manifests only: save a single platform"
        ),
        MediaType::Other(t) if t == DOCKER_MANIFEST_LIST => bail!(
            "index.json entry {digest} is a Docker manifest list (a multi-platform image); \
             minipod loads image manifests only: save a single platform"
        ),
        other => bail!("index.json entry {digest} has media type {other}, not an image manifest"),
    }
}

/// The normalized name of the image a manifest descriptor names, if any.
fn image_name(descriptor: &Descriptor) -> Result<Option<String>> {
    let Some(annotations) = descriptor.annotations() else {
        return Ok(None);
    };
    if let Some(name) = annotations.get(CONTAINERD_NAME) {
        return Ok(Some(name_tag(name)?));
    }
    match annotations.get(OCI_REF_NAME) {
        None => Ok(None),
        // `busybox:1.36` or `registry.k8s.io/pause:3.9`: a full reference.
        Some(name) if name.contains([':', '/']) => Ok(Some(name_tag(name)?)),
        Some(tag) => bail!(
            "annotation {OCI_REF_NAME} is only the tag {tag:?} and no image name is known \
             (set {CONTAINERD_NAME} to the full reference, e.g. busybox:{tag})"
        ),
    }
}

fn name_tag(name: &str) -> Result<String> {
    let reference = Reference::parse(name)?;
    reference
        .name_tag()
        .with_context(|| format!("image name {name:?} has a digest but no tag"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn descriptor(annotations: &[(&str, &str)]) -> Descriptor {
        let digest =
            oci_spec::image::Digest::from_str(&Digest::of_bytes(b"x").to_string()).unwrap();
        let mut d = Descriptor::new(MediaType::ImageManifest, 1, digest);
        let map: HashMap<String, String> = annotations
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        d.set_annotations(Some(map));
        d
    }
    use std::str::FromStr;

    #[test]
    fn names_from_annotations() {
        let d = descriptor(&[
            (CONTAINERD_NAME, "docker.io/library/busybox:1.36"),
            (OCI_REF_NAME, "1.36"),
        ]);
        assert_eq!(image_name(&d).unwrap().as_deref(), Some("busybox:1.36"));
        let d = descriptor(&[(OCI_REF_NAME, "registry.k8s.io/pause:3.9")]);
        assert_eq!(
            image_name(&d).unwrap().as_deref(),
            Some("registry.k8s.io/pause:3.9")
        );
        let d = descriptor(&[(OCI_REF_NAME, "1.36")]);
        assert!(format!("{:#}", image_name(&d).unwrap_err()).contains("only the tag \"1.36\""));
        assert_eq!(image_name(&descriptor(&[])).unwrap(), None);
    }
}
