//! `image import`, `inspect`, `tag`, `rm` (refused while a pod uses the image) and
//! reference normalization seen from the command line.

mod common;

use common::*;
use serde_json::json;
use std::os::unix::fs::PermissionsExt;

#[test]
fn inspect_shows_the_config() {
    let pod = Minipod::new("inspect");
    let mut image = TestImage::new(
        &["docker.io/library/nginx:1.25"],
        vec![LayerBuilder::new()
            .file("index.html", b"hello", 0o644)
            .finish()],
    );
    image.config = json!({
        "Entrypoint": ["/docker-entrypoint.sh"], "Cmd": ["nginx", "-g", "daemon off;"],
        "Env": ["PATH=/usr/bin"], "WorkingDir": "/srv", "User": "101:101",
        "ExposedPorts": {"80/tcp": {}}, "StopSignal": "SIGQUIT",
        "Labels": {"maintainer": "me"}, "Volumes": null,
    });
    let archive = pod.write_file("nginx.tar", &oci_layout(&[image], None));
    pod.ok(&["image", "load", "-i", &archive]);

    let d = pod.inspect("nginx:1.25");
    assert!(d["Id"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(d["RepoTags"], json!(["nginx:1.25"]));
    assert_eq!(d["Created"], "2024-01-02T03:04:05Z");
    assert_eq!(
        (d["Architecture"].as_str(), d["Os"].as_str()),
        (Some("amd64"), Some("linux"))
    );
    let c = &d["Config"];
    assert_eq!(c["Entrypoint"], json!(["/docker-entrypoint.sh"]));
    assert_eq!(c["Cmd"], json!(["nginx", "-g", "daemon off;"]));
    assert_eq!(c["Env"], json!(["PATH=/usr/bin"]));
    assert_eq!(
        (c["WorkingDir"].as_str(), c["User"].as_str()),
        (Some("/srv"), Some("101:101"))
    );
    assert_eq!(c["ExposedPorts"], json!({"80/tcp": {}}));
    assert_eq!(c["StopSignal"], "SIGQUIT");
    assert_eq!(c["Labels"], json!({"maintainer": "me"}));
    assert_eq!(d["RootFS"]["Layers"].as_array().unwrap().len(), 1);
    assert_eq!(d["Size"], 5);

    // The same image by its other spellings, by manifest digest and by ID.
    let digest = d["Digest"].as_str().unwrap();
    let id = d["Id"].as_str().unwrap();
    for alias in [
        "docker.io/library/nginx:1.25".to_string(),
        "library/nginx:1.25".to_string(),
        format!("nginx@{digest}"),
        id.to_string(),
        id["sha256:".len()..][..12].to_string(),
    ] {
        assert_eq!(pod.inspect(&alias)["Id"], d["Id"], "{alias}");
    }
    let err = pod.fails(&["image", "inspect", "nginx"]);
    assert!(
        err.contains("image \"nginx:latest\" not found in the local store (load it with: minipod image load -i FILE)"),
        "{err}"
    );
    let err = pod.fails(&["image", "inspect", "<your-private-image>"]);
    assert!(
        err.contains("invalid image reference \"<your-private-image>\""),
        "{err}"
    );
    let err = pod.fails(&["image", "inspect", "Nginx:1.25"]);
    assert!(err.contains("\"Nginx:1.25\""), "{err}");
}

#[test]
fn import_tag_and_rm() {
    let pod = Minipod::new("import");
    let rootfs = TempDir::new("rootfs");
    let r = &rootfs.path;
    std::fs::create_dir_all(r.join("bin")).unwrap();
    std::fs::write(r.join("bin/hello"), b"#!/bin/sh\necho hi\n").unwrap();
    std::fs::set_permissions(r.join("bin/hello"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::symlink("hello", r.join("bin/hi")).unwrap();
    std::fs::create_dir(r.join("empty")).unwrap();

    let out = pod.ok(&["image", "import", r.to_str().unwrap(), "myroot:1.0"]);
    assert!(
        out.starts_with("Imported image: myroot:1.0 (sha256:"),
        "{out}"
    );
    let d = pod.inspect("myroot:1.0");
    assert_eq!(d["Config"]["Entrypoint"], json!(null));
    assert_eq!(d["Config"]["Cmd"], json!(null));
    assert_eq!(d["RootFS"]["Layers"].as_array().unwrap().len(), 1);
    // `inspect` resolves the image as the pod layer will: the layer dir is ready.
    let lower = std::path::PathBuf::from(d["GraphDriver"]["Data"]["LowerDir"].as_str().unwrap());
    assert_eq!(
        std::fs::read(lower.join("bin/hello")).unwrap(),
        b"#!/bin/sh\necho hi\n"
    );
    let mode = std::fs::metadata(lower.join("bin/hello"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755);
    assert_eq!(
        std::fs::read_link(lower.join("bin/hi")).unwrap().to_str(),
        Some("hello")
    );
    assert!(lower.join("empty").is_dir());

    // A tarball imports too, to the same layer (same content, same diff_id) when equal.
    let tarball = pod.write_file(
        "rootfs.tar",
        &LayerBuilder::new().file("x", b"x", 0o644).finish(),
    );
    pod.ok(&["image", "import", &tarball, "fromtar"]);
    assert_eq!(
        pod.inspect("fromtar:latest")["RootFS"]["Layers"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // tag: same image, both names.
    pod.ok(&["image", "tag", "myroot:1.0", "docker.io/library/other:2"]);
    let tagged = pod.inspect("other:2");
    assert_eq!(tagged["Id"], d["Id"]);
    assert_eq!(tagged["RepoTags"], json!(["myroot:1.0", "other:2"]));
    let err = pod.fails(&["image", "tag", "missing:1", "x:1"]);
    assert!(err.contains("\"missing:1\" not found"), "{err}");

    // rm of one of two tags only untags.
    let out = pod.ok(&["image", "rm", "other:2"]);
    assert_eq!(out, "Untagged: other:2\n");
    assert_eq!(pod.layer_dirs().len(), 2);

    // A running pod records the image ID it uses: rm of the last tag is refused.
    let id = d["Id"].as_str().unwrap();
    let pod_dir = pod.root().join("run/pods/uid-123");
    std::fs::create_dir_all(&pod_dir).unwrap();
    std::fs::write(
        pod_dir.join("images.json"),
        serde_json::to_vec(&json!([id])).unwrap(),
    )
    .unwrap();
    let err = pod.fails(&["image", "rm", "myroot:1.0"]);
    assert!(
        err.contains("image \"myroot:1.0\" is in use by pod uid-123"),
        "{err}"
    );
    assert_eq!(pod.inspect("myroot:1.0")["Id"], d["Id"]);

    std::fs::remove_file(pod_dir.join("images.json")).unwrap();
    let out = pod.ok(&["image", "rm", "myroot:1.0", "fromtar"]);
    assert!(
        out.contains("Untagged: myroot:1.0\nDeleted: sha256:"),
        "{out}"
    );
    assert!(out.contains("Untagged: fromtar:latest"), "{out}");
    assert_eq!(pod.ok(&["image", "ls"]).lines().count(), 1);
    assert!(pod.layer_dirs().is_empty());
    assert!(list_dir(&pod.store().join("blobs/sha256")).is_empty());
    let err = pod.fails(&["image", "rm", "myroot:1.0"]);
    assert!(err.contains("not found"), "{err}");
}

#[test]
fn loading_a_tag_again_replaces_the_old_image() {
    let pod = Minipod::new("retag");
    let v1 = TestImage::new(
        &["app:1"],
        vec![LayerBuilder::new().file("v", b"1", 0o644).finish()],
    );
    let v2 = TestImage::new(
        &["app:1"],
        vec![LayerBuilder::new().file("v", b"2", 0o644).finish()],
    );
    pod.ok(&[
        "image",
        "load",
        "-i",
        &pod.write_file("v1.tar", &oci_layout(&[v1], None)),
    ]);
    pod.ok(&[
        "image",
        "load",
        "-i",
        &pod.write_file("v2.tar", &docker_archive(&[v2])),
    ]);
    // The old image lost its last tag: its layer is gone, only v2's remains.
    assert_eq!(pod.layer_dirs().len(), 1);
    let lower = pod.inspect("app:1")["GraphDriver"]["Data"]["LowerDir"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(std::fs::read(format!("{lower}/v")).unwrap(), b"2");
}
