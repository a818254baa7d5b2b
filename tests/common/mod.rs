//! Test helpers for the image store: a private `--root` per test, the built binary, and
//! builders for layer tars, OCI image layouts and docker-archive tarballs.
#![allow(dead_code)] // each test file uses a different part of this module

pub mod netns;
pub mod outcome;
pub mod pod_network;
pub mod process;
pub mod runc;
pub mod security;
pub mod spawned;

use serde_json::json;
use sha2::{Digest as _, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

/// These tests create device nodes, chown files and mount overlayfs: they need root, and
/// fail loudly rather than pass by skipping.
pub fn require_root() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "this test needs root (mknod, chown, trusted.* xattrs, mount); run it as root"
    );
}

/// A fresh directory under /tmp, removed (whole) when dropped.
pub struct TempDir {
    pub path: PathBuf,
}

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let path = PathBuf::from(format!(
            "/tmp/minipod-test-{label}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create test temp dir");
        TempDir { path }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// One test's minipod: its own `--root` and its own network namespace, so its pods'
/// bridge, veths, NAT rules and IPs never touch the host's and tests run in parallel.
pub struct Minipod {
    pub dir: TempDir,
    /// The network namespace every run enters (None: the host's, see `in_host_netns`).
    pub netns: Option<std::sync::Arc<netns::TestNetns>>,
}

impl Minipod {
    pub fn new(label: &str) -> Minipod {
        require_root();
        Minipod {
            dir: TempDir::new(label),
            netns: Some(std::sync::Arc::new(netns::TestNetns::new())),
        }
    }

    /// A minipod on the host's network namespace. Only for a test that must see the
    /// host's own network (say why where it is used).
    pub fn in_host_netns(label: &str) -> Minipod {
        require_root();
        Minipod {
            dir: TempDir::new(label),
            netns: None,
        }
    }

    /// The test's network namespace (panics for an `in_host_netns` minipod).
    pub fn ns(&self) -> &netns::TestNetns {
        self.netns
            .as_deref()
            .expect("this minipod runs in the host's network namespace")
    }

    /// `minipod --root ROOT ARGS`, entering the test's network namespace; for the
    /// commands a test spawns (wrap long-running ones in `spawned::Spawned`).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_minipod"));
        cmd.arg("--root")
            .arg(self.root())
            .args(args)
            .env_remove("MINIPOD_ROOT");
        if let Some(ns) = &self.netns {
            ns.enter_before_exec(&mut cmd);
        }
        cmd
    }

    /// Start a long-running `minipod ARGS` (port-forward, logs -f, get -w, attach):
    /// stdin, stdout and stderr piped; killed and reaped when the guard drops.
    pub fn spawn(&self, args: &[&str]) -> spawned::Spawned {
        let mut cmd = self.command(args);
        cmd.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        spawned::Spawned::start(&mut cmd)
    }

    pub fn root(&self) -> &Path {
        &self.dir.path
    }

    pub fn store(&self) -> PathBuf {
        self.root().join("images")
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run minipod")
    }

    /// Run and require success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        outcome::succeeded("minipod", args, &self.run(args))
    }

    /// Run and require failure; returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        outcome::failed("minipod", args, &self.run(args))
    }

    /// Write `data` to a file in the test dir and `image load` it.
    pub fn write_file(&self, name: &str, data: &[u8]) -> String {
        let path = self.root().join(name);
        std::fs::write(&path, data).expect("write test file");
        path.display().to_string()
    }

    pub fn inspect(&self, image: &str) -> serde_json::Value {
        let out = self.ok(&["image", "inspect", image]);
        let all: serde_json::Value = serde_json::from_str(&out).expect("inspect prints JSON");
        all[0].clone()
    }

    /// Names of the unpacked layer directories in the store.
    pub fn layer_dirs(&self) -> Vec<String> {
        list_dir(&self.store().join("layers"))
    }
}

impl Drop for Minipod {
    /// The test's network namespace must be empty of pods when the test ends: no veth
    /// and no NAT rule of a pod left (the namespace itself goes with its holder).
    fn drop(&mut self) {
        let Some(ns) = &self.netns else { return };
        if std::thread::panicking() || !self.root().join("cni").exists() {
            return;
        }
        let left = ns.pod_network_left();
        assert!(
            left.is_empty(),
            "the test's network namespace still holds pod networking: {left:?}"
        );
    }
}

pub fn list_dir(dir: &Path) -> Vec<String> {
    match std::fs::read_dir(dir) {
        Err(_) => Vec::new(),
        Ok(entries) => {
            let mut names: Vec<String> = entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        }
    }
}

pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

fn gunzip_if_needed(blob: &[u8]) -> Vec<u8> {
    if blob.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(blob)
            .read_to_end(&mut out)
            .unwrap();
        out
    } else {
        blob.to_vec()
    }
}

/// Builds a layer tar entry by entry; `raw` writes names the tar crate would refuse.
pub struct LayerBuilder {
    builder: tar::Builder<Vec<u8>>,
}

impl Default for LayerBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl LayerBuilder {
    pub fn new() -> LayerBuilder {
        LayerBuilder {
            builder: tar::Builder::new(Vec::new()),
        }
    }

    fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_size(size);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(1_700_000_000);
        h
    }

    pub fn dir(mut self, path: &str, mode: u32) -> Self {
        let mut h = Self::header(tar::EntryType::Directory, mode, 0);
        self.builder
            .append_data(&mut h, path, std::io::empty())
            .unwrap();
        self
    }

    pub fn file(self, path: &str, content: &[u8], mode: u32) -> Self {
        self.file_owned(path, content, mode, 0, 0)
    }

    pub fn file_owned(mut self, path: &str, content: &[u8], mode: u32, uid: u64, gid: u64) -> Self {
        let mut h = Self::header(tar::EntryType::Regular, mode, content.len() as u64);
        h.set_uid(uid);
        h.set_gid(gid);
        self.builder.append_data(&mut h, path, content).unwrap();
        self
    }

    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        let mut h = Self::header(tar::EntryType::Symlink, 0o777, 0);
        self.builder.append_link(&mut h, path, target).unwrap();
        self
    }

    pub fn hardlink(mut self, path: &str, target: &str) -> Self {
        let mut h = Self::header(tar::EntryType::Link, 0o644, 0);
        self.builder.append_link(&mut h, path, target).unwrap();
        self
    }

    pub fn fifo(mut self, path: &str, mode: u32) -> Self {
        let mut h = Self::header(tar::EntryType::Fifo, mode, 0);
        self.builder
            .append_data(&mut h, path, std::io::empty())
            .unwrap();
        self
    }

    /// An entry with exactly these name and link bytes (no checks: hostile names).
    pub fn raw(mut self, kind: tar::EntryType, name: &str, link: &str, content: &[u8]) -> Self {
        let mut h = Self::header(kind, 0o644, content.len() as u64);
        let old = h.as_old_mut();
        old.name[..name.len()].copy_from_slice(name.as_bytes());
        old.linkname[..link.len()].copy_from_slice(link.as_bytes());
        h.set_cksum();
        self.builder.append(&h, content).unwrap();
        self
    }

    pub fn finish(self) -> Vec<u8> {
        self.builder.into_inner().unwrap()
    }
}

/// An image to put in a test archive.
pub struct TestImage {
    pub names: Vec<String>,
    /// Layer blobs as stored in the archive (plain tar or gzip).
    pub layers: Vec<Vec<u8>>,
    /// The `config` object of the image config.
    pub config: serde_json::Value,
}

impl TestImage {
    pub fn new(names: &[&str], layers: Vec<Vec<u8>>) -> TestImage {
        TestImage {
            names: names.iter().map(|s| s.to_string()).collect(),
            layers,
            config: json!({"Cmd": ["sh"]}),
        }
    }

    /// The image config JSON.
    pub fn config_json(&self) -> Vec<u8> {
        let diff_ids: Vec<String> = self
            .layers
            .iter()
            .map(|blob| format!("sha256:{}", sha256_hex(&gunzip_if_needed(blob))))
            .collect();
        serde_json::to_vec(&json!({
            "created": "2024-01-02T03:04:05Z",
            "architecture": "amd64",
            "os": "linux",
            "config": self.config,
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        }))
        .unwrap()
    }
}

/// A tar of named files.
pub struct OuterTar {
    builder: tar::Builder<Vec<u8>>,
}

impl Default for OuterTar {
    fn default() -> Self {
        Self::new()
    }
}

impl OuterTar {
    pub fn new() -> OuterTar {
        OuterTar {
            builder: tar::Builder::new(Vec::new()),
        }
    }

    pub fn add(&mut self, path: &str, data: &[u8]) {
        let mut h = tar::Header::new_ustar();
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        self.builder.append_data(&mut h, path, data).unwrap();
    }

    pub fn finish(self) -> Vec<u8> {
        self.builder.into_inner().unwrap()
    }
}

/// An OCI image layout tarball with one index.json entry per image name (containerd's
/// annotation). `tamper` changes the archive's bytes of each layer blob after its digest
/// was computed.
pub fn oci_layout(images: &[TestImage], tamper: Option<fn(&mut [u8])>) -> Vec<u8> {
    let mut tar = OuterTar::new();
    tar.add("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#);
    let mut index_entries = Vec::new();
    let mut written = std::collections::HashSet::new();
    for image in images {
        let config = image.config_json();
        let config_hex = add_blob(&mut tar, &mut written, &config);
        let mut layer_descriptors = Vec::new();
        for blob in &image.layers {
            let hex = sha256_hex(blob);
            let mut stored = blob.clone();
            if let Some(tamper) = tamper {
                tamper(&mut stored);
            }
            if written.insert(hex.clone()) {
                tar.add(&format!("blobs/sha256/{hex}"), &stored);
            }
            let media_type = if blob.starts_with(&[0x1f, 0x8b]) {
                "application/vnd.oci.image.layer.v1.tar+gzip"
            } else {
                "application/vnd.oci.image.layer.v1.tar"
            };
            layer_descriptors.push(json!({
                "mediaType": media_type,
                "digest": format!("sha256:{hex}"),
                "size": blob.len(),
            }));
        }
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": format!("sha256:{config_hex}"),
                "size": config.len(),
            },
            "layers": layer_descriptors,
        }))
        .unwrap();
        let manifest_hex = add_blob(&mut tar, &mut written, &manifest);
        for name in &image.names {
            let tag = name.rsplit_once(':').map_or("latest", |(_, t)| t);
            index_entries.push(json!({
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": format!("sha256:{manifest_hex}"),
                "size": manifest.len(),
                "annotations": {
                    "io.containerd.image.name": name,
                    "org.opencontainers.image.ref.name": tag,
                },
            }));
        }
    }
    let index = json!({"schemaVersion": 2, "manifests": index_entries});
    tar.add("index.json", &serde_json::to_vec(&index).unwrap());
    tar.finish()
}

fn add_blob(
    tar: &mut OuterTar,
    written: &mut std::collections::HashSet<String>,
    data: &[u8],
) -> String {
    let hex = sha256_hex(data);
    if written.insert(hex.clone()) {
        tar.add(&format!("blobs/sha256/{hex}"), data);
    }
    hex
}

/// A `docker save`-style archive: `<config hex>.json`, `<n>/layer.tar`, `manifest.json`.
pub fn docker_archive(images: &[TestImage]) -> Vec<u8> {
    let mut tar = OuterTar::new();
    let mut manifest = Vec::new();
    for (i, image) in images.iter().enumerate() {
        let config = image.config_json();
        let config_name = format!("{}.json", sha256_hex(&config));
        tar.add(&config_name, &config);
        let mut layers = Vec::new();
        for (j, blob) in image.layers.iter().enumerate() {
            let name = format!("layer{i}-{j}/layer.tar");
            tar.add(&name, blob);
            layers.push(name);
        }
        manifest.push(json!({"Config": config_name, "RepoTags": image.names, "Layers": layers}));
    }
    tar.add("manifest.json", &serde_json::to_vec(&manifest).unwrap());
    tar.finish()
}
pub mod pods;
