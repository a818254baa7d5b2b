//! The local image store, content-addressed, under `StateRoot::images()`:
//!
//! ```text
//! images/
//!   blobs/sha256/<hex>     manifests and configs, named by their sha256
//!   layers/<diff_id hex>/  one unpacked layer (an overlayfs lower directory), shared by
//!                          every image that contains it
//!   repositories.json      name:tag → image (manifest + config digest); layer sizes
//!   lock                   flock held by every command that changes the store
//!   tmp/                   staging: content is unpacked here, then renamed into place
//! ```
//! The image ID is the config digest, as Docker's.

use super::digest::Digest;
use super::human::parse_rfc3339;
use super::image_config::{ContainerConfig, ImageConfigFile, ImageRuntimeConfig};
use super::reference::Reference;
use super::staging::{remove_path, StagingDir, StoreLock};
use crate::state::atomic::{write_atomic, write_json};
use crate::state::paths::StateRoot;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const REPOSITORIES_FILE: &str = "repositories.json";

pub struct ImageStore {
    dir: PathBuf,
    /// `<run>/pods`: running pods record the image IDs they use in `<uid>/images.json`.
    pods_run: PathBuf,
}

/// An image ready to run: what the pod layer needs.
#[derive(Debug, Clone)]
#[allow(dead_code)] // `config` is read by the pod layer
pub struct ResolvedImage {
    /// Normalized, e.g. `busybox:1.36`.
    pub reference: String,
    /// `sha256:<config hex>`.
    pub id: String,
    /// Unpacked layer directories, bottom (base) first: overlayfs lowerdirs in reverse.
    pub layers: Vec<PathBuf>,
    pub config: ImageRuntimeConfig,
}

/// What a tag points to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagRecord {
    pub manifest: Digest,
    pub config: Digest,
}

/// The store's table of contents (`repositories.json`).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Repositories {
    /// Normalized `name:tag` → image.
    pub tags: BTreeMap<String, TagRecord>,
    /// diff_id → bytes of file content in the unpacked layer.
    pub layer_sizes: BTreeMap<Digest, u64>,
}

/// One row of `image ls`.
#[derive(Debug, Clone)]
pub struct ImageSummary {
    pub repository: String,
    pub tag: String,
    pub id: Digest,
    /// Unix seconds, from the config's `created`.
    pub created: Option<i64>,
    pub size: u64,
}

/// Everything `image inspect` shows.
#[derive(Debug, Clone)]
pub struct ImageDetails {
    pub id: Digest,
    pub manifest: Digest,
    pub repo_tags: Vec<String>,
    pub created: Option<String>,
    pub architecture: String,
    pub os: String,
    pub config: ContainerConfig,
    pub diff_ids: Vec<Digest>,
    pub size: u64,
}

/// A layer unpacked into a staging directory, waiting to be renamed into `layers/`.
pub struct StagedLayer {
    pub diff_id: Digest,
    pub dir: PathBuf,
    pub size: u64,
}

/// An image whose blobs are verified, waiting to be written and tagged.
pub struct StagedImage {
    pub names: Vec<String>,
    pub manifest_digest: Digest,
    pub manifest: Vec<u8>,
    pub config_digest: Digest,
    pub config: Vec<u8>,
}

/// The images a reference matched.
struct Lookup {
    /// What to call it in messages: the normalized reference.
    shown: String,
    record: TagRecord,
    /// The tags the reference names (one for `name:tag`; all of the image's for an ID).
    tags: Vec<String>,
}

impl ImageStore {
    /// Open the store, creating its directories if missing.
    pub fn open(state: &StateRoot) -> Result<ImageStore> {
        let store = ImageStore {
            dir: state.images(),
            pods_run: state.pods_run(),
        };
        for dir in [
            store.dir.join("blobs/sha256"),
            store.layers_dir(),
            store.tmp_dir(),
        ] {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("create image store directory {}", dir.display()))?;
        }
        Ok(store)
    }

    /// Resolve an image reference to its unpacked layers and runtime config.
    pub fn resolve(&self, reference: &str) -> Result<ResolvedImage> {
        let repos = self.read_repositories()?;
        let found = self.lookup(&repos, reference)?;
        let config = self.read_config(&found.record.config)?;
        let layers = config
            .diff_ids()
            .with_context(|| format!("config of image {}", found.shown))?
            .iter()
            .map(|diff_id| {
                let dir = self.layer_path(diff_id);
                if !dir.is_dir() {
                    bail!(
                        "layer {diff_id} of image {:?} is missing from {} (load the image again)",
                        found.shown,
                        self.layers_dir().display()
                    );
                }
                Ok(dir)
            })
            .collect::<Result<_>>()?;
        Ok(ResolvedImage {
            reference: found.shown,
            id: found.record.config.to_string(),
            layers,
            config: ImageRuntimeConfig::from(&config),
        })
    }

    /// Every tag, sorted by name, with its image's ID, age and size.
    pub fn list(&self) -> Result<Vec<ImageSummary>> {
        let repos = self.read_repositories()?;
        let mut rows = Vec::new();
        for (name_tag, record) in &repos.tags {
            let config = self.read_config(&record.config)?;
            let (repository, tag) = split_name_tag(name_tag);
            rows.push(ImageSummary {
                repository: repository.to_string(),
                tag: tag.to_string(),
                id: record.config.clone(),
                created: config.created.as_deref().and_then(parse_rfc3339),
                size: image_size(&repos, &config)?,
            });
        }
        Ok(rows)
    }

    pub fn inspect(&self, reference: &str) -> Result<ImageDetails> {
        let repos = self.read_repositories()?;
        let found = self.lookup(&repos, reference)?;
        let config = self.read_config(&found.record.config)?;
        Ok(ImageDetails {
            id: found.record.config.clone(),
            manifest: found.record.manifest.clone(),
            repo_tags: tags_of(&repos, &found.record.config),
            created: config.created.clone(),
            architecture: config.architecture.clone(),
            os: config.os.clone(),
            config: config.container_config(),
            diff_ids: config.diff_ids()?,
            size: image_size(&repos, &config)?,
        })
    }

    /// Give the image `source` names the additional name `target`; returns it normalized.
    pub fn tag(&self, source: &str, target: &str) -> Result<String> {
        let lock = self.lock()?;
        let mut repos = self.read_repositories()?;
        let found = self.lookup(&repos, source)?;
        let target = Reference::parse(target)?;
        let Some(name_tag) = target.name_tag().filter(|_| target.digest.is_none()) else {
            bail!("cannot tag with {target}: a tag must be name:tag, without a digest");
        };
        let previous = repos.tags.insert(name_tag.clone(), found.record);
        self.write_repositories(&repos)?;
        if previous.is_some() {
            // The tag may have been the last one of another image.
            self.collect_garbage(&lock, &mut repos)?;
        }
        Ok(name_tag)
    }

    /// Remove the tags `reference` names; an image left without tags is deleted with
    /// its blobs and every layer no other image uses. Refused while a pod uses it.
    pub fn remove(&self, reference: &str) -> Result<Removal> {
        let lock = self.lock()?;
        let mut repos = self.read_repositories()?;
        let found = self.lookup(&repos, reference)?;
        let image_stays = repos
            .tags
            .iter()
            .any(|(tag, record)| record.config == found.record.config && !found.tags.contains(tag));
        if !image_stays {
            if let Some(pod) = self.images_in_use()?.get(&found.record.config) {
                bail!("image {:?} is in use by pod {pod}", found.shown);
            }
        }
        for tag in &found.tags {
            repos.tags.remove(tag);
        }
        self.write_repositories(&repos)?;
        let deleted = self.collect_garbage(&lock, &mut repos)?;
        Ok(Removal {
            untagged: found.tags,
            deleted,
        })
    }

    /// Take the store's write lock (and clear stale staging directories).
    pub(super) fn lock(&self) -> Result<StoreLock> {
        StoreLock::acquire(&self.dir.join("lock"), &self.tmp_dir())
    }

    pub(super) fn staging_dir(&self, purpose: &str, lock: &StoreLock) -> Result<StagingDir> {
        StagingDir::create(&self.tmp_dir(), purpose, lock)
    }

    pub(super) fn layer_path(&self, diff_id: &Digest) -> PathBuf {
        self.layers_dir().join(diff_id.hex())
    }

    /// Move staged layers into place, write blobs, then tag: the tags are written last,
    /// so an image is never visible before all its content is.
    pub(super) fn commit(
        &self,
        lock: &StoreLock,
        layers: Vec<StagedLayer>,
        images: &[StagedImage],
    ) -> Result<()> {
        let mut repos = self.read_repositories()?;
        for layer in layers {
            let dest = self.layer_path(&layer.diff_id);
            if !dest.exists() {
                std::fs::rename(&layer.dir, &dest).with_context(|| {
                    format!("rename {} to {}", layer.dir.display(), dest.display())
                })?;
            }
            repos.layer_sizes.insert(layer.diff_id, layer.size);
        }
        let mut replaced_tag = false;
        for image in images {
            self.write_blob(&image.config_digest, &image.config)?;
            self.write_blob(&image.manifest_digest, &image.manifest)?;
            let record = TagRecord {
                manifest: image.manifest_digest.clone(),
                config: image.config_digest.clone(),
            };
            for name in &image.names {
                replaced_tag |= repos
                    .tags
                    .insert(name.clone(), record.clone())
                    .is_some_and(|old| old != record);
            }
        }
        self.write_repositories(&repos)?;
        if replaced_tag {
            self.collect_garbage(lock, &mut repos)?;
        }
        Ok(())
    }

    /// Delete every blob and layer no tag and no running pod refers to. Returns the IDs
    /// of the images deleted.
    fn collect_garbage(&self, _lock: &StoreLock, repos: &mut Repositories) -> Result<Vec<Digest>> {
        let mut keep_blobs = BTreeSet::new();
        let mut keep_layers = BTreeSet::new();
        let in_use: Vec<Digest> = self.images_in_use()?.into_keys().collect();
        let tagged = repos
            .tags
            .values()
            .flat_map(|r| [r.manifest.clone(), r.config.clone()]);
        for digest in tagged.chain(in_use) {
            keep_blobs.insert(digest);
        }
        for digest in keep_blobs.clone() {
            // Manifests are blobs too; only configs have diff_ids.
            if let Ok(config) = self.read_config(&digest) {
                keep_layers.extend(config.diff_ids().unwrap_or_default());
            }
        }

        let mut deleted = Vec::new();
        for digest in self.list_digests(&self.dir.join("blobs/sha256"))? {
            if !keep_blobs.contains(&digest) {
                if self.read_config(&digest).is_ok() {
                    deleted.push(digest.clone());
                }
                remove_path(&self.blob_path(&digest))?;
            }
        }
        for diff_id in self.list_digests(&self.layers_dir())? {
            if !keep_layers.contains(&diff_id) {
                // Rename first, so a half-removed layer is never visible under layers/.
                let doomed = self.tmp_dir().join(format!("rm-{}", diff_id.hex()));
                std::fs::rename(self.layer_path(&diff_id), &doomed)
                    .with_context(|| format!("move layer {diff_id} out of the store"))?;
                remove_path(&doomed)?;
            }
        }
        let before = repos.layer_sizes.len();
        repos
            .layer_sizes
            .retain(|diff_id, _| keep_layers.contains(diff_id));
        if repos.layer_sizes.len() != before {
            self.write_repositories(repos)?;
        }
        Ok(deleted)
    }

    /// Image IDs recorded by running pods in `<run>/pods/<uid>/images.json` → pod uid.
    fn images_in_use(&self) -> Result<BTreeMap<Digest, String>> {
        let mut in_use = BTreeMap::new();
        let pods = match std::fs::read_dir(&self.pods_run) {
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(in_use),
            other => other.with_context(|| format!("list {}", self.pods_run.display()))?,
        };
        for pod in pods {
            let pod = pod.with_context(|| format!("list {}", self.pods_run.display()))?;
            let path = pod.path().join("images.json");
            let data = match std::fs::read(&path) {
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
                other => other.with_context(|| format!("read {}", path.display()))?,
            };
            let ids: Vec<Digest> = serde_json::from_slice(&data).with_context(|| {
                format!(
                    "parse {} (expected [\"sha256:<hex>\", ...])",
                    path.display()
                )
            })?;
            let uid = pod.file_name().to_string_lossy().into_owned();
            for id in ids {
                in_use.entry(id).or_insert_with(|| uid.clone());
            }
        }
        Ok(in_use)
    }

    /// Find what `input` names: an image ID (`sha256:<hex>` or 12+ hex digits), a
    /// `name@digest` (by manifest digest), or a `name[:tag]`.
    fn lookup(&self, repos: &Repositories, input: &str) -> Result<Lookup> {
        if let Some(found) = lookup_by_id(repos, input)? {
            return Ok(found);
        }
        let reference = Reference::parse(input)?;
        let shown = reference.to_string();
        let tags: Vec<String> = match (&reference.digest, reference.name_tag()) {
            (Some(digest), _) => repos
                .tags
                .iter()
                .filter(|(tag, r)| split_name_tag(tag).0 == reference.name && r.manifest == *digest)
                .map(|(tag, _)| tag.clone())
                .collect(),
            (None, Some(name_tag)) if repos.tags.contains_key(&name_tag) => vec![name_tag],
            _ => Vec::new(),
        };
        let Some(first) = tags.first() else {
            bail!(
                "image {shown:?} not found in the local store (load it with: minipod image load -i FILE)"
            );
        };
        Ok(Lookup {
            record: repos.tags[first].clone(),
            shown,
            tags,
        })
    }

    fn read_config(&self, digest: &Digest) -> Result<ImageConfigFile> {
        let path = self.blob_path(digest);
        let data = std::fs::read(&path)
            .with_context(|| format!("read image config {}", path.display()))?;
        ImageConfigFile::parse(&data).with_context(|| format!("image config {digest}"))
    }

    fn write_blob(&self, digest: &Digest, data: &[u8]) -> Result<()> {
        let path = self.blob_path(digest);
        if path.exists() {
            return Ok(());
        }
        write_atomic(&path, data)
    }

    fn read_repositories(&self) -> Result<Repositories> {
        let path = self.dir.join(REPOSITORIES_FILE);
        match std::fs::read(&path) {
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Repositories::default()),
            other => {
                let data = other.with_context(|| format!("read {}", path.display()))?;
                serde_json::from_slice(&data).with_context(|| format!("parse {}", path.display()))
            }
        }
    }

    fn write_repositories(&self, repos: &Repositories) -> Result<()> {
        write_json(&self.dir.join(REPOSITORIES_FILE), repos)
    }

    /// The digests named by the entries of a directory (other names are not ours).
    fn list_digests(&self, dir: &Path) -> Result<Vec<Digest>> {
        let mut digests = Vec::new();
        for entry in std::fs::read_dir(dir).with_context(|| format!("list {}", dir.display()))? {
            let entry = entry.with_context(|| format!("list {}", dir.display()))?;
            if let Ok(digest) = Digest::from_hex(&entry.file_name().to_string_lossy()) {
                digests.push(digest);
            }
        }
        Ok(digests)
    }

    fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.dir.join("blobs/sha256").join(digest.hex())
    }

    fn layers_dir(&self) -> PathBuf {
        self.dir.join("layers")
    }

    fn tmp_dir(&self) -> PathBuf {
        self.dir.join("tmp")
    }
}

/// What `image rm` did.
#[derive(Debug)]
pub struct Removal {
    pub untagged: Vec<String>,
    pub deleted: Vec<Digest>,
}

fn lookup_by_id(repos: &Repositories, input: &str) -> Result<Option<Lookup>> {
    let hex = input.strip_prefix("sha256:").unwrap_or(input);
    let looks_like_id = (12..=64).contains(&hex.len())
        && hex
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
    if !looks_like_id {
        return Ok(None);
    }
    let ids: BTreeSet<&Digest> = repos
        .tags
        .values()
        .map(|r| &r.config)
        .filter(|id| id.hex().starts_with(hex))
        .collect();
    let mut ids = ids.into_iter();
    let (Some(id), None) = (ids.next(), ids.next()) else {
        return Ok(None);
    };
    let tags = tags_of(repos, id);
    let record = repos.tags[&tags[0]].clone();
    Ok(Some(Lookup {
        shown: tags[0].clone(),
        record,
        tags,
    }))
}

fn tags_of(repos: &Repositories, id: &Digest) -> Vec<String> {
    repos
        .tags
        .iter()
        .filter(|(_, r)| r.config == *id)
        .map(|(tag, _)| tag.clone())
        .collect()
}

fn image_size(repos: &Repositories, config: &ImageConfigFile) -> Result<u64> {
    Ok(config
        .diff_ids()?
        .iter()
        .filter_map(|d| repos.layer_sizes.get(d))
        .sum())
}

/// `registry:5000/app:v1` → (`registry:5000/app`, `v1`): the tag follows the last ':'.
fn split_name_tag(name_tag: &str) -> (&str, &str) {
    name_tag.rsplit_once(':').unwrap_or((name_tag, ""))
}
