//! The image configuration blob (OCI `application/vnd.oci.image.config.v1+json`, which is
//! Docker's image JSON): what a container of this image runs, and its layers' diff_ids.
//!
//! Parsed with our own tolerant structs rather than `oci_spec::image::ImageConfiguration`
//! because `docker save` writes `null` for empty lists and maps (`"Env": null`,
//! `"Volumes": null`), which the strict types refuse.

use super::digest::Digest;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ImageConfigFile {
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub config: Option<ContainerConfig>,
    pub rootfs: RootFs,
}

/// The `config` object: defaults for a container of this image. Field names as Docker's.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct RootFs {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub diff_ids: Option<Vec<String>>,
}

impl ImageConfigFile {
    pub fn parse(data: &[u8]) -> Result<ImageConfigFile> {
        let config: ImageConfigFile =
            serde_json::from_slice(data).context("parse image config JSON")?;
        if config.rootfs.kind != "layers" {
            bail!(
                "image config rootfs.type is {:?}, expected \"layers\"",
                config.rootfs.kind
            );
        }
        Ok(config)
    }

    /// The layers' uncompressed digests, base layer first.
    pub fn diff_ids(&self) -> Result<Vec<Digest>> {
        self.rootfs
            .diff_ids
            .iter()
            .flatten()
            .map(|d| Digest::parse(d).context("image config rootfs.diff_ids"))
            .collect()
    }

    pub fn container_config(&self) -> ContainerConfig {
        self.config.clone().unwrap_or_default()
    }
}

/// What the pod layer needs from an image to build a container's process.
#[allow(dead_code)] // read by the pod layer
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageRuntimeConfig {
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub working_dir: String,
    pub user: String,
    pub stop_signal: Option<String>,
}

impl From<&ImageConfigFile> for ImageRuntimeConfig {
    fn from(file: &ImageConfigFile) -> ImageRuntimeConfig {
        let c = file.container_config();
        ImageRuntimeConfig {
            entrypoint: c.entrypoint.unwrap_or_default(),
            cmd: c.cmd.unwrap_or_default(),
            env: c.env.unwrap_or_default(),
            working_dir: c.working_dir.unwrap_or_default(),
            user: c.user.unwrap_or_default(),
            stop_signal: c.stop_signal.filter(|s| !s.is_empty()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_nulls_are_empty() {
        let json = br#"{"architecture":"amd64","os":"linux","created":"2024-01-02T03:04:05.123Z",
            "config":{"Env":null,"Cmd":["sh"],"Entrypoint":null,"Volumes":null,"WorkingDir":"",
                      "StopSignal":"SIGQUIT","ExposedPorts":{"80/tcp":{}}},
            "rootfs":{"type":"layers","diff_ids":[]},"history":[]}"#;
        let file = ImageConfigFile::parse(json).unwrap();
        let rt = ImageRuntimeConfig::from(&file);
        assert_eq!(rt.cmd, ["sh"]);
        assert!(rt.entrypoint.is_empty() && rt.env.is_empty());
        assert_eq!(rt.stop_signal.as_deref(), Some("SIGQUIT"));
        assert!(file.diff_ids().unwrap().is_empty());
    }
}
