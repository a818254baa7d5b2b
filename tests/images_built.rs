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

/// The images named as the Kubernetes documentation's examples name them are
/// stand-ins and say so in their labels; the stand-ins of our own program share the
/// busybox layer; the extra tags name the same image as the tag they copy.
#[test]
fn documentation_stand_ins_say_what_they_are() {
    for (image, entry) in [
        ("registry.k8s.io/e2e-test-images/agnhost:2.40", "/agnhost"),
        ("registry.k8s.io/e2e-test-images/agnhost:2.45", "/agnhost"),
        ("registry.k8s.io/goproxy:0.1", "/goproxy"),
        ("hashicorp/http-echo:1.0", "/http-echo"),
        ("gcr.io/google-samples/hello-app:2.0", "/hello-app"),
        ("gcr.io/google-samples/node-hello:1.0", "/node-hello"),
        ("vish/stress", "/stress"),
        ("registry.k8s.io/pause", "/pause"),
        ("docker.io/alpine/socat:1.8.0.3", "socat"),
        ("polinux/stress", ""),
        ("registry.k8s.io/etcd:3.5.1-0", ""),
    ] {
        let v: serde_json::Value =
            serde_json::from_str(&minipod(&["image", "inspect", image])).expect("inspect JSON");
        let config = &v[0]["Config"];
        let note = config["Labels"]["minipod.image.note"]
            .as_str()
            .unwrap_or("");
        assert!(note.contains("stand-in"), "{image}: note {note:?}");
        assert_eq!(config["Labels"]["minipod.image.standin"], "true", "{image}");
        if !entry.is_empty() {
            assert_eq!(config["Entrypoint"][0], entry, "{image}");
        }
    }
    let busybox = lower_dirs("busybox:1.36");
    let agnhost = lower_dirs("registry.k8s.io/e2e-test-images/agnhost:2.40");
    assert!(agnhost.contains(&busybox[0]), "{agnhost:?} {busybox:?}");
    let id = |image: &str| -> String {
        let v: serde_json::Value =
            serde_json::from_str(&minipod(&["image", "inspect", image])).expect("inspect JSON");
        v[0]["Id"].as_str().unwrap_or_default().to_string()
    };
    for (alias, of) in [
        ("busybox:1.28", "busybox:1.36"),
        ("registry.k8s.io/busybox:1.27.2", "busybox:1.36"),
        ("alpine:latest", "busybox:1.36"),
        ("nginx:1.14.2", "nginx:1.27"),
        ("fedora", "debian:12"),
    ] {
        assert_eq!(id(alias), id(of), "{alias} is another name of {of}");
    }
    let redis: serde_json::Value =
        serde_json::from_str(&minipod(&["image", "inspect", "redis"])).expect("inspect JSON");
    assert_eq!(redis[0]["Config"]["WorkingDir"], "/data");
    assert_eq!(redis[0]["Config"]["Cmd"][0], "redis-server");
}
