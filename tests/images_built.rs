//! The images scripts/build-images.sh built and loaded: listed with real sizes, the
//! debian layer stored once although two images contain it, and nginx really works
//! from its layers before any pod exists (`nginx -t` under chroot of the overlay).

mod common;
use common::pods::shared_images;
use std::process::Command;

fn minipod(args: &[&str]) -> String {
    let root = shared_images()
        .parent()
        .expect("store parent")
        .to_path_buf();
    let out = Command::new(env!("CARGO_BIN_EXE_minipod"))
        .arg("--root")
        .arg(&root)
        .args(args)
        .output()
        .expect("run minipod");
    assert!(
        out.status.success(),
        "minipod {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn lower_dirs(image: &str) -> Vec<String> {
    let v: serde_json::Value =
        serde_json::from_str(&minipod(&["image", "inspect", image])).expect("inspect JSON");
    v[0]["GraphDriver"]["Data"]["LowerDir"]
        .as_str()
        .expect("LowerDir")
        .split(':')
        .map(String::from)
        .collect()
}

#[test]
fn built_images_are_listed_with_their_sizes() {
    let ls = minipod(&["image", "ls"]);
    for (repo, tag) in [
        ("busybox", "1.36"),
        ("busybox", "latest"),
        ("debian", "12"),
        ("nginx", "1.27"),
        ("nginx", "latest"),
    ] {
        let row = ls
            .lines()
            .find(|l| {
                let c: Vec<&str> = l.split_whitespace().collect();
                c.first() == Some(&repo) && c.get(1) == Some(&tag)
            })
            .unwrap_or_else(|| panic!("{repo}:{tag} missing from image ls:\n{ls}"));
        let size = row.split_whitespace().last().unwrap_or_default();
        assert!(
            size.ends_with("MB") && size != "0B",
            "{repo}:{tag} size {size}"
        );
    }
}

#[test]
fn the_debian_layer_is_stored_once() {
    let debian = lower_dirs("debian:12");
    let nginx = lower_dirs("nginx:1.27");
    assert_eq!(debian.len(), 1);
    assert_eq!(nginx.len(), 2);
    assert!(
        nginx.contains(&debian[0]),
        "nginx {nginx:?} is built on debian {debian:?}"
    );
}

#[test]
fn nginx_config_test_passes_in_its_overlaid_layers() {
    common::require_root();
    let layers = lower_dirs("nginx:1.27");
    let dir = common::TempDir::new("nginx-t");
    let merged = dir.path.join("merged");
    let (upper, work) = (dir.path.join("upper"), dir.path.join("work"));
    for d in [&merged, &upper, &work] {
        std::fs::create_dir_all(d).unwrap();
    }
    // Run in a private mount namespace so the overlay never reaches the host's table.
    let script = format!(
        "mount -t overlay overlay -o lowerdir={},upperdir={},workdir={} {m} && chroot {m} nginx -t",
        layers.join(":"),
        upper.display(),
        work.display(),
        m = merged.display()
    );
    let out = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", &script])
        .output()
        .expect("unshare");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "nginx -t failed: {stderr}");
    assert!(
        stderr.contains("syntax is ok") && stderr.contains("test is successful"),
        "{stderr}"
    );
}
