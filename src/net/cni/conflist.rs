//! A network configuration list, as libcni reads `*.conflist` files: `cniVersion`,
//! `name`, and the `plugins` run in order. Each plugin's config is kept as JSON: the
//! plugin reads its own keys, the runtime adds `cniVersion`, `name`, `runtimeConfig`
//! and `prevResult`.

use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The CNI spec versions the caller speaks (Debian bookworm's plugins: up to 1.0.0).
pub const VERSIONS: &[&str] = &["0.3.0", "0.3.1", "0.4.0", "1.0.0"];

#[derive(Debug, Clone, PartialEq)]
pub struct ConfList {
    pub cni_version: String,
    pub name: String,
    pub plugins: Vec<Value>,
    /// Where it was read from (empty when built in memory).
    pub source: PathBuf,
}

impl ConfList {
    /// Parse a conflist's bytes; `source` names the file in errors.
    pub fn parse(bytes: &[u8], source: &Path) -> Result<ConfList> {
        let where_ = source.display();
        let v: Value = serde_json::from_slice(bytes)
            .with_context(|| format!("CNI config {where_}: not JSON"))?;
        let text = |key: &str| -> Result<String> {
            match v.get(key).and_then(Value::as_str) {
                Some(s) if !s.is_empty() => Ok(s.to_string()),
                _ => bail!("CNI config {where_}: \"{key}\" is missing or not a string"),
            }
        };
        let cni_version = text("cniVersion")?;
        if !VERSIONS.contains(&cni_version.as_str()) {
            bail!(
                "CNI config {where_}: cniVersion {cni_version:?} is not one minipod speaks ({})",
                VERSIONS.join(", ")
            );
        }
        let name = text("name")?;
        let plugins = match v.get("plugins").and_then(Value::as_array) {
            Some(p) if !p.is_empty() => p.clone(),
            _ => bail!("CNI config {where_}: \"plugins\" must be a non-empty list"),
        };
        for (i, p) in plugins.iter().enumerate() {
            match p.get("type").and_then(Value::as_str) {
                Some(t) if valid_type(t) => {}
                _ => bail!(
                    "CNI config {where_}: plugins[{i}].type is missing or not a plain program name"
                ),
            }
        }
        Ok(ConfList {
            cni_version,
            name,
            plugins,
            source: source.to_path_buf(),
        })
    }

    /// The whole list as JSON (what the cache keeps, so DEL runs what ADD ran).
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "cniVersion": self.cni_version,
            "name": self.name,
            "plugins": self.plugins,
        })
    }

    /// Read one file.
    pub fn load(path: &Path) -> Result<ConfList> {
        let bytes = std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
        Self::parse(&bytes, path)
    }

    /// The network of a directory, as libcni picks it: the first `*.conflist` in
    /// name order. None when the directory has none.
    pub fn first_in(dir: &Path) -> Result<Option<ConfList>> {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("read {}", dir.display())),
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "conflist"))
            .collect();
        files.sort();
        files.first().map(|p| Self::load(p)).transpose()
    }
}

/// A plugin type names a program in the plugin directory: no path, no dots.
pub fn valid_type(t: &str) -> bool {
    !t.is_empty()
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conflist_is_read_like_libcni() {
        let ok = br#"{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"bridge"},{"type":"portmap"}]}"#;
        let c = ConfList::parse(ok, Path::new("x.conflist")).unwrap();
        assert_eq!((c.name.as_str(), c.plugins.len()), ("n", 2));
        let newer = br#"{"cniVersion":"1.1.0","name":"n","plugins":[{"type":"bridge"}]}"#;
        let err = ConfList::parse(newer, Path::new("x.conflist")).unwrap_err();
        assert!(format!("{err:#}").contains("1.1.0"), "{err:#}");
        let path = br#"{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"../../bin/sh"}]}"#;
        assert!(ConfList::parse(path, Path::new("x")).is_err());
        let empty = br#"{"cniVersion":"1.0.0","name":"n","plugins":[]}"#;
        assert!(ConfList::parse(empty, Path::new("x")).is_err());
    }
}
