//! `image load`: OCI layouts and docker archives, whiteouts checked through a real
//! overlayfs mount, corrupt blobs refused, shared layers stored once.

mod common;

use common::*;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Unmounts when dropped, so a failed assertion does not leave a mount behind.
struct MountGuard(PathBuf);

impl Drop for MountGuard {
    fn drop(&mut self) {
        let _ = umount2(&self.0, MntFlags::MNT_DETACH);
    }
}

fn base_layer() -> Vec<u8> {
    LayerBuilder::new()
        .dir("etc", 0o755)
        .file("etc/keep", b"kept", 0o644)
        .file("etc/gone", b"deleted by layer 2", 0o644)
        .dir("opaque", 0o755)
        .file("opaque/old", b"hidden by layer 2", 0o644)
        .dir("bin", 0o755)
        .file_owned("bin/tool", b"#!/bin/sh\n", 0o4755, 1000, 1001)
        .symlink("bin/link", "tool")
        .symlink("bin/abs", "/etc/keep")
        .hardlink("bin/hard", "bin/tool")
        .dir("dev", 0o755)
        .fifo("dev/fifo", 0o600)
        .dir("ro", 0o555)
        .file("ro/inside", b"in a read-only dir", 0o444)
        .dir("sticky", 0o1777)
        .finish()
}

fn upper_layer() -> Vec<u8> {
    LayerBuilder::new()
        .dir("etc", 0o755)
        .file("etc/.wh.gone", b"", 0o644)
        .file("etc/added", b"new in layer 2", 0o600)
        .dir("opaque", 0o755)
        // The opaque marker after an entry of its directory: order must not matter.
        .file("opaque/new", b"only this", 0o644)
        .file("opaque/.wh..wh..opq", b"", 0o644)
        .finish()
}

fn layer_dirs_of(pod: &Minipod, image: &str) -> Vec<PathBuf> {
    let details = pod.inspect(image);
    details["RootFS"]["Layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let hex = d.as_str().unwrap().strip_prefix("sha256:").unwrap();
            pod.store().join("layers").join(hex)
        })
        .collect()
}

#[test]
fn oci_layout_whiteouts_work_under_overlayfs() {
    let pod = Minipod::new("overlay");
    // Layer 1 is gzip, layer 2 plain: compression is detected per blob.
    let image = TestImage::new(
        &["docker.io/library/busybox:1.36"],
        vec![gzip(&base_layer()), upper_layer()],
    );
    let archive = pod.write_file("image.tar", &oci_layout(&[image], None));
    let out = pod.ok(&["image", "load", "-i", &archive]);
    assert_eq!(out, "Loaded image: busybox:1.36\n");

    let layers = layer_dirs_of(&pod, "busybox:1.36");
    assert_eq!(layers.len(), 2);
    // Layer 2 holds overlayfs whiteouts, not `.wh.` files.
    let whiteout = std::fs::symlink_metadata(layers[1].join("etc/gone")).unwrap();
    assert!(whiteout.file_type().is_char_device());
    assert_eq!(whiteout.rdev(), 0);
    assert!(!layers[1].join("etc/.wh.gone").exists());
    assert!(!layers[1].join("opaque/.wh..wh..opq").exists());

    let merged = pod.root().join("merged");
    std::fs::create_dir(&merged).unwrap();
    let lowerdir = format!("lowerdir={}:{}", layers[1].display(), layers[0].display());
    mount(
        Some("overlay"),
        &merged,
        Some("overlay"),
        MsFlags::MS_RDONLY,
        Some(lowerdir.as_str()),
    )
    .expect("mount overlayfs of the two layers");
    let _guard = MountGuard(merged.clone());

    let m = |p: &str| merged.join(p);
    assert!(!m("etc/gone").exists(), "whited-out file is gone");
    assert_eq!(std::fs::read(m("etc/keep")).unwrap(), b"kept");
    assert_eq!(std::fs::read(m("etc/added")).unwrap(), b"new in layer 2");
    assert_eq!(
        list_dir(&m("opaque")),
        ["new"],
        "opaque dir has only layer 2's files"
    );

    let tool = std::fs::symlink_metadata(m("bin/tool")).unwrap();
    assert_eq!(tool.permissions().mode() & 0o7777, 0o4755, "setuid kept");
    assert_eq!((tool.uid(), tool.gid()), (1000, 1001));
    assert_eq!(tool.mtime(), 1_700_000_000);
    assert_eq!(
        std::fs::read_link(m("bin/link")).unwrap(),
        Path::new("tool")
    );
    assert_eq!(
        std::fs::read_link(m("bin/abs")).unwrap(),
        Path::new("/etc/keep")
    );
    let hard = std::fs::symlink_metadata(layers[0].join("bin/hard")).unwrap();
    let tool_in_layer = std::fs::symlink_metadata(layers[0].join("bin/tool")).unwrap();
    assert_eq!(hard.ino(), tool_in_layer.ino(), "hardlink shares the inode");
    assert!(std::fs::symlink_metadata(m("dev/fifo"))
        .unwrap()
        .file_type()
        .is_fifo());
    let ro = std::fs::symlink_metadata(m("ro")).unwrap();
    assert_eq!(ro.permissions().mode() & 0o7777, 0o555);
    assert_eq!(
        ro.mtime(),
        1_700_000_000,
        "dir mtime set after its contents"
    );
    assert_eq!(
        std::fs::read(m("ro/inside")).unwrap(),
        b"in a read-only dir"
    );
    let sticky = std::fs::symlink_metadata(m("sticky")).unwrap();
    assert_eq!(sticky.permissions().mode() & 0o7777, 0o1777);
}

#[test]
fn docker_archive_loads_and_lists() {
    let pod = Minipod::new("docker-archive");
    let layer1 = LayerBuilder::new().file("hello", b"hi", 0o644).finish();
    let layer2 = gzip(&LayerBuilder::new().file("world", b"there", 0o644).finish());
    let image = TestImage::new(
        &["registry.k8s.io/busybox:1.27.2", "busybox:old"],
        vec![layer1, layer2],
    );
    let archive = pod.write_file("docker.tar", &docker_archive(&[image]));
    let out = pod.ok(&["image", "load", "-i", &archive]);
    assert_eq!(
        out,
        "Loaded image: registry.k8s.io/busybox:1.27.2\nLoaded image: busybox:old\n"
    );
    let ls = pod.ok(&["image", "ls"]);
    let lines: Vec<&str> = ls.lines().collect();
    assert_eq!(lines.len(), 3, "{ls}");
    assert!(lines[0].starts_with("REPOSITORY"), "{ls}");
    for col in ["TAG", "IMAGE ID", "CREATED", "SIZE"] {
        assert!(lines[0].contains(col), "{ls}");
    }
    assert!(
        ls.contains("registry.k8s.io/busybox") && ls.contains("1.27.2"),
        "{ls}"
    );
    assert!(
        lines[1].starts_with("busybox") && lines[1].contains("old"),
        "{ls}"
    );
    assert!(ls.contains("ago"), "{ls}");
    assert!(ls.contains("7B"), "size is the layers' content: {ls}");
    let details = pod.inspect("busybox:old");
    let id = details["Id"].as_str().unwrap();
    assert!(ls.contains(&id["sha256:".len()..][..12]), "{ls}");
    // gzip'd outer tarball (`docker save | gzip`) loads too.
    let pod2 = Minipod::new("docker-archive-gz");
    let archive = pod2.write_file("docker.tar.gz", &gzip(&std::fs::read(&archive).unwrap()));
    pod2.ok(&["image", "load", "-i", &archive]);
    assert_eq!(pod2.inspect("busybox:old")["Id"], details["Id"]);
}

fn flip_first_content_byte(blob: &mut [u8]) {
    // Byte 512 is the first byte of the first file's content in a plain tar; in a gzip
    // stream any byte past the header breaks it.
    let at = 512.min(blob.len() - 1);
    blob[at] ^= 0x55;
}

#[test]
fn corrupt_blob_is_refused_and_nothing_is_written() {
    for compressed in [false, true] {
        let pod = Minipod::new("corrupt");
        let mut layer = LayerBuilder::new().file("a", &[b'x'; 2048], 0o644).finish();
        if compressed {
            layer = gzip(&layer);
        }
        let layer_digest = format!("sha256:{}", sha256_hex(&layer));
        let image = TestImage::new(&["busybox:1.36"], vec![layer]);
        let archive = pod.write_file(
            "image.tar",
            &oci_layout(&[image], Some(flip_first_content_byte)),
        );
        let err = pod.fails(&["image", "load", "-i", &archive]);
        assert!(
            err.contains(&format!("blob {layer_digest} of image busybox:1.36 is corrupt: its content hashes to sha256:")),
            "{err}"
        );
        assert_eq!(
            pod.ok(&["image", "ls"]).lines().count(),
            1,
            "only the header"
        );
        assert!(pod.layer_dirs().is_empty());
        assert!(
            list_dir(&pod.store().join("tmp")).is_empty(),
            "no staging leftovers"
        );
        assert!(list_dir(&pod.store().join("blobs/sha256")).is_empty());
    }
}

#[test]
fn wrong_diff_id_is_refused() {
    let pod = Minipod::new("diffid");
    let layer = LayerBuilder::new().file("a", b"a", 0o644).finish();
    let mut image = TestImage::new(&["busybox:1.36"], vec![layer]);
    // A config that lies about the layer: diff_id of other content.
    image.layers = vec![LayerBuilder::new().file("b", b"b", 0o644).finish()];
    let config_lies = image.config_json();
    let mut archive = OuterTar::new();
    let real_layer = LayerBuilder::new().file("a", b"a", 0o644).finish();
    let layer_hex = sha256_hex(&real_layer);
    let config_hex = sha256_hex(&config_lies);
    archive.add(&format!("{config_hex}.json"), &config_lies);
    archive.add("l/layer.tar", &real_layer);
    let manifest = serde_json::json!([{"Config": format!("{config_hex}.json"), "RepoTags": ["busybox:1.36"], "Layers": ["l/layer.tar"]}]);
    archive.add("manifest.json", &serde_json::to_vec(&manifest).unwrap());
    let path = pod.write_file("lies.tar", &archive.finish());
    let err = pod.fails(&["image", "load", "-i", &path]);
    assert!(
        err.contains(&format!("hashes to sha256:{layer_hex}")),
        "{err}"
    );
    assert!(err.contains("diff_id"), "{err}");
    assert!(pod.layer_dirs().is_empty());
}

#[test]
fn shared_layer_is_stored_once() {
    let pod = Minipod::new("shared");
    let base = LayerBuilder::new().file("base", b"shared", 0o644).finish();
    let a = TestImage::new(
        &["app-a:1"],
        vec![
            base.clone(),
            LayerBuilder::new().file("a", b"a", 0o644).finish(),
        ],
    );
    let b = TestImage::new(
        &["app-b:1"],
        vec![
            base.clone(),
            LayerBuilder::new().file("b", b"b", 0o644).finish(),
        ],
    );
    let archive_a = pod.write_file("a.tar", &oci_layout(&[a], None));
    let archive_b = pod.write_file("b.tar", &docker_archive(&[b]));
    pod.ok(&["image", "load", "-i", &archive_a]);
    pod.ok(&["image", "load", "-i", &archive_b]);
    assert_eq!(pod.layer_dirs().len(), 3, "base, a, b");
    let base_hex = sha256_hex(&base);
    assert!(pod.layer_dirs().contains(&base_hex));
    assert_eq!(
        layer_dirs_of(&pod, "app-a:1")[0],
        layer_dirs_of(&pod, "app-b:1")[0]
    );

    // Loading again changes nothing.
    pod.ok(&["image", "load", "-i", &archive_a]);
    assert_eq!(pod.layer_dirs().len(), 3);

    // Removing one image keeps the shared base for the other.
    pod.ok(&["image", "rm", "app-a:1"]);
    assert_eq!(pod.layer_dirs().len(), 2);
    assert!(pod.layer_dirs().contains(&base_hex));
    pod.ok(&["image", "rm", "app-b:1"]);
    assert!(pod.layer_dirs().is_empty());
    assert!(list_dir(&pod.store().join("blobs/sha256")).is_empty());
}

#[test]
fn oci_index_entries_one_per_tag_and_refusals() {
    let pod = Minipod::new("oci-index");
    let layer = LayerBuilder::new().file("x", b"x", 0o644).finish();
    let image = TestImage::new(&["busybox:1.36", "busybox:latest"], vec![layer.clone()]);
    let archive = pod.write_file("two-tags.tar", &oci_layout(&[image], None));
    let out = pod.ok(&["image", "load", "-i", &archive]);
    assert_eq!(
        out,
        "Loaded image: busybox:1.36\nLoaded image: busybox:latest\n"
    );
    assert_eq!(
        pod.inspect("busybox")["Id"],
        pod.inspect("docker.io/library/busybox:1.36")["Id"]
    );

    // A nested index (multi-platform image) is refused by name.
    let mut tar = OuterTar::new();
    tar.add("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#);
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "digest": format!("sha256:{}", "a".repeat(64)), "size": 10}]});
    tar.add("index.json", &serde_json::to_vec(&index).unwrap());
    let path = pod.write_file("nested.tar", &tar.finish());
    let err = pod.fails(&["image", "load", "-i", &path]);
    assert!(err.contains("nested image index"), "{err}");

    // Only a tag and no name: refused clearly.
    let mut tar = OuterTar::new();
    tar.add("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#);
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": format!("sha256:{}", "b".repeat(64)), "size": 10,
        "annotations": {"org.opencontainers.image.ref.name": "1.36"}}]});
    tar.add("index.json", &serde_json::to_vec(&index).unwrap());
    let path = pod.write_file("tag-only.tar", &tar.finish());
    let err = pod.fails(&["image", "load", "-i", &path]);
    assert!(err.contains("only the tag \"1.36\""), "{err}");
}
