//! OCI image manifests: read the config and layer descriptors of one, or write one for an
//! image that arrived without (a `docker save` archive, an imported root file system).

use super::digest::Digest;
use anyhow::{Context, Result};
use oci_spec::image::{Descriptor, ImageManifest, ImageManifestBuilder, MediaType};
use std::str::FromStr;

/// A content descriptor, reduced to what minipod checks: digest and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobRef {
    pub digest: Digest,
    pub size: u64,
}

/// The blobs an image manifest points to.
#[derive(Debug, Clone)]
pub struct ManifestBlobs {
    pub config: BlobRef,
    /// Compressed (or plain) layer blobs, base layer first.
    pub layers: Vec<BlobRef>,
}

/// The blobs of an OCI (or Docker schema 2, which has the same shape) image manifest.
pub fn parse_manifest(data: &[u8]) -> Result<ManifestBlobs> {
    let manifest = ImageManifest::from_reader(data).context("parse image manifest JSON")?;
    let config = blob_ref(manifest.config()).context("manifest config descriptor")?;
    let layers = manifest
        .layers()
        .iter()
        .enumerate()
        .map(|(i, d)| blob_ref(d).with_context(|| format!("manifest layer descriptor {i}")))
        .collect::<Result<_>>()?;
    Ok(ManifestBlobs { config, layers })
}

pub fn blob_ref(descriptor: &Descriptor) -> Result<BlobRef> {
    Ok(BlobRef {
        digest: Digest::parse(descriptor.digest().as_ref())?,
        size: descriptor.size(),
    })
}

/// An OCI manifest for an image stored unpacked: the layers are described by their
/// uncompressed digests (diff_ids) and sizes, as plain `tar` layers.
pub fn synthesize_manifest(config: &BlobRef, layers: &[BlobRef]) -> Result<Vec<u8>> {
    let descriptor = |media_type: MediaType, blob: &BlobRef| -> Result<Descriptor> {
        let digest = oci_spec::image::Digest::from_str(&blob.digest.to_string())
            .with_context(|| format!("digest {}", blob.digest))?;
        Ok(Descriptor::new(media_type, blob.size, digest))
    };
    let layers = layers
        .iter()
        .map(|layer| descriptor(MediaType::ImageLayer, layer))
        .collect::<Result<Vec<_>>>()?;
    let manifest = ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageManifest)
        .config(descriptor(MediaType::ImageConfig, config)?)
        .layers(layers)
        .build()
        .context("build image manifest")?;
    Ok(manifest
        .to_string_pretty()
        .context("encode image manifest")?
        .into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthesized_manifest_parses_back() {
        let config = BlobRef {
            digest: Digest::of_bytes(b"{}"),
            size: 2,
        };
        let layer = BlobRef {
            digest: Digest::of_bytes(b"layer"),
            size: 5,
        };
        let data = synthesize_manifest(&config, std::slice::from_ref(&layer)).unwrap();
        let blobs = parse_manifest(&data).unwrap();
        assert_eq!(blobs.config, config);
        assert_eq!(blobs.layers, vec![layer]);
    }
}
