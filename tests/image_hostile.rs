//! Hostile layers: every escape attempt is refused with an error naming the entry, and
//! nothing appears outside the layer directory (a sentinel directory stays empty).

mod common;

use common::*;
use tar::EntryType;

/// Load a one-layer image built by `layer` (given the sentinel's path) and require
/// refusal naming `entry`, an empty sentinel and an empty store.
fn assert_refused(label: &str, entry: &str, layer: impl Fn(&str) -> Vec<u8>) {
    let pod = Minipod::new(label);
    let sentinel = TempDir::new(&format!("{label}-sentinel"));
    let sentinel_path = sentinel.path.display().to_string();
    let image = TestImage::new(&["hostile:1"], vec![layer(&sentinel_path)]);
    let archive = pod.write_file("hostile.tar", &oci_layout(&[image], None));
    let err = pod.fails(&["image", "load", "-i", &archive]);
    assert!(
        err.contains(&format!("layer entry {entry:?}")),
        "{label}: error should name entry {entry:?}: {err}"
    );
    assert!(
        list_dir(&sentinel.path).is_empty(),
        "{label}: wrote outside the layer"
    );
    assert!(pod.layer_dirs().is_empty(), "{label}: left a layer");
    assert!(
        list_dir(&pod.store().join("tmp")).is_empty(),
        "{label}: left staging"
    );
    assert!(!pod.root().join("escape").exists() && !pod.store().join("escape").exists());
    assert_eq!(
        pod.ok(&["image", "ls"]).lines().count(),
        1,
        "{label}: image listed"
    );
}

fn file(name: &str) -> Vec<u8> {
    LayerBuilder::new()
        .raw(EntryType::Regular, name, "", b"pwned")
        .finish()
}

#[test]
fn dotdot_escape() {
    assert_refused("dotdot", "../escape", |_| file("../escape"));
}

#[test]
fn absolute_path() {
    // We refuse absolute names rather than clean them (DESIGN: refuse what is hostile).
    assert_refused("absolute", "/abs/path", |_| file("/abs/path"));
}

#[test]
fn dotdot_inside_path() {
    assert_refused("inner-dotdot", "a/../../escape", |_| {
        LayerBuilder::new()
            .dir("a", 0o755)
            .raw(EntryType::Regular, "a/../../escape", "", b"pwned")
            .finish()
    });
}

#[test]
fn write_through_absolute_symlink() {
    assert_refused("symlink-abs", "evil/file", |sentinel| {
        LayerBuilder::new()
            .symlink("evil", sentinel)
            .raw(EntryType::Regular, "evil/file", "", b"pwned")
            .finish()
    });
}

#[test]
fn write_through_relative_symlink() {
    assert_refused("symlink-rel", "evil/file", |_| {
        LayerBuilder::new()
            .symlink("evil", "../../..")
            .raw(EntryType::Regular, "evil/file", "", b"pwned")
            .finish()
    });
    // A directory made through a symlink is refused the same way.
    assert_refused("symlink-dir", "evil/sub/", |sentinel| {
        LayerBuilder::new()
            .symlink("evil", sentinel)
            .raw(EntryType::Directory, "evil/sub/", "", b"")
            .finish()
    });
}

#[test]
fn hardlink_escapes() {
    assert_refused("hardlink-dotdot", "passwd", |_| {
        LayerBuilder::new()
            .raw(EntryType::Link, "passwd", "../../etc/passwd", b"")
            .finish()
    });
    assert_refused("hardlink-abs", "passwd", |_| {
        LayerBuilder::new()
            .raw(EntryType::Link, "passwd", "/etc/passwd", b"")
            .finish()
    });
    // Through a symlink inside the layer to a host file.
    assert_refused("hardlink-via-symlink", "shadow", |_| {
        LayerBuilder::new()
            .symlink("etc", "/etc")
            .raw(EntryType::Link, "shadow", "etc/passwd", b"")
            .finish()
    });
    // Then writing through the hardlink would modify the host file: make sure the
    // link was never made (the error above) and /etc/passwd is untouched.
    assert!(std::fs::read_to_string("/etc/passwd")
        .unwrap()
        .contains("root"));
}

#[test]
fn whiteout_escapes() {
    assert_refused("whiteout-dotdot", ".wh.../../x", |_| file(".wh.../../x"));
    assert_refused("whiteout-parent", "../.wh.x", |_| file("../.wh.x"));
    assert_refused("whiteout-through-symlink", "evil/.wh.x", |sentinel| {
        LayerBuilder::new()
            .symlink("evil", sentinel)
            .raw(EntryType::Regular, "evil/.wh.x", "", b"")
            .finish()
    });
}
