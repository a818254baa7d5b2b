//! `minipod-runc` with a bundle that asks for a user namespace of its own
//! (`linux.namespaces` type `user`, `uidMappings`/`gidMappings`): root inside is an
//! unprivileged uid on the host, files it writes belong to the mapped ids, and what
//! the host's root owns stays out of its reach. Own `--root`, busybox bundle.

mod common;

use common::runc::Runc;
use std::os::unix::fs::MetadataExt;

const HOST_ID: u32 = 100000;

#[test]
fn a_user_namespace_maps_root_inside_to_an_unprivileged_host_uid() {
    let r = Runc::new("runc-userns");
    // A host directory of the host's root (0755) on /root (the image has it; the
    // rootfs is the host root's, so its root inside could not make a mount point):
    // readable, not writable, inside.
    let host_dir = r.dir.path.join("host-owned");
    std::fs::create_dir(&host_dir).unwrap();
    std::fs::write(host_dir.join("file"), "host\n").unwrap();
    let bundle = r.bundle(
        "b",
        &[
            "sh",
            "-c",
            "id -u > /tmp/id; id -g >> /tmp/id; touch /tmp/made; \
             stat -c %u /root/file >> /tmp/id; \
             echo pwned > /root/file || echo refused >> /tmp/id; \
             cat /proc/self/uid_map > /tmp/map; exec sleep 1000",
        ],
        |c| {
            c["linux"]["namespaces"]
                .as_array_mut()
                .unwrap()
                .push(serde_json::json!({"type": "user"}));
            let map = serde_json::json!([{"containerID": 0, "hostID": HOST_ID, "size": 65536}]);
            c["linux"]["uidMappings"] = map.clone();
            c["linux"]["gidMappings"] = map;
            c["mounts"].as_array_mut().unwrap().push(serde_json::json!({
                "destination": "/root", "type": "bind",
                "source": host_dir, "options": ["rbind", "rw"],
            }));
        },
    );
    // The bundle's out directory is the container's /tmp: its root's, on the host.
    std::os::unix::fs::chown(bundle.join("out"), Some(HOST_ID), Some(HOST_ID)).unwrap();
    r.ok(&["run", "-d", "-b", bundle.to_str().unwrap(), "u"]);
    let map = bundle.join("out/map");
    for _ in 0..500 {
        if std::fs::read_to_string(&map).is_ok_and(|m| !m.is_empty()) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(
        std::fs::read_to_string(&map)
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["0", "100000", "65536"]
    );
    // Inside: uid and gid 0; the host root's file is owned by nobody (65534) and not
    // writable.
    assert_eq!(
        std::fs::read_to_string(bundle.join("out/id")).unwrap(),
        "0\n0\n65534\nrefused\n"
    );
    assert_eq!(
        std::fs::read_to_string(host_dir.join("file")).unwrap(),
        "host\n"
    );
    // On the host: the process runs as the mapped uid, its file belongs to it.
    let pid = r.state("u")["pid"].as_i64().unwrap();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    for key in ["Uid:", "Gid:"] {
        let line = status.lines().find(|l| l.starts_with(key)).unwrap();
        let ids: Vec<&str> = line.split_whitespace().skip(1).collect();
        assert_eq!(ids, ["100000"; 4], "{line}");
    }
    let made = std::fs::metadata(bundle.join("out/made")).unwrap();
    assert_eq!((made.uid(), made.gid()), (HOST_ID, HOST_ID));

    // exec joins the same namespace: root inside again.
    let out = r.ok(&["exec", "u", "sh", "-c", "id -u; cat /proc/self/uid_map"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "0", "{out}");
    assert_eq!(
        lines[1].split_whitespace().collect::<Vec<_>>(),
        ["0", "100000", "65536"]
    );
    r.ok(&["delete", "--force", "u"]);
}

/// Every entry under `dir` (and `dir`) owned by `id`:`id`, symlinks themselves.
fn chown_tree(dir: &std::path::Path, id: u32) {
    std::os::unix::fs::lchown(dir, Some(id), Some(id)).unwrap();
    if std::fs::symlink_metadata(dir).unwrap().is_dir() {
        for entry in std::fs::read_dir(dir).unwrap() {
            chown_tree(&entry.unwrap().path(), id);
        }
    }
}

#[test]
fn a_rootfs_owned_by_the_mapped_ids_is_root_s_inside() {
    let r = Runc::new("runc-userns-rootfs");
    let rootfs = r.dir.path.join("rootfs");
    common::runc::copy_busybox_rootfs(&rootfs);
    chown_tree(&rootfs, HOST_ID);
    let userns = |c: &mut serde_json::Value| {
        c["root"]["path"] = rootfs.to_str().unwrap().into();
        c["root"]["readonly"] = false.into();
        c["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({"type": "user"}));
        let map = serde_json::json!([{"containerID": 0, "hostID": HOST_ID, "size": 65536}]);
        c["linux"]["uidMappings"] = map.clone();
        c["linux"]["gidMappings"] = map;
    };
    // Its own files: owned by root inside, written as the mapped ids; a mount point
    // the image lacks is made by root inside.
    let bundle = r.bundle(
        "b",
        &[
            "sh",
            "-c",
            "stat -c %u:%g /bin/busybox; echo inside > /etc/made; ls -d /mnt/extra",
        ],
        |c| {
            userns(c);
            c["mounts"].as_array_mut().unwrap().push(serde_json::json!({
                "destination": "/mnt/extra", "type": "tmpfs", "source": "tmpfs",
                "options": ["nosuid", "nodev"],
            }));
        },
    );
    std::os::unix::fs::chown(bundle.join("out"), Some(HOST_ID), Some(HOST_ID)).unwrap();
    let out = r.ok(&["run", "-b", bundle.to_str().unwrap(), "own"]);
    assert_eq!(out, "0:0\n/mnt/extra\n");
    let made = std::fs::metadata(rootfs.join("etc/made")).unwrap();
    assert_eq!((made.uid(), made.gid()), (HOST_ID, HOST_ID));
    assert_eq!(
        std::fs::read_to_string(rootfs.join("etc/made")).unwrap(),
        "inside\n"
    );

    // An idmapped bind is made only when joining a user namespace: with one made for
    // the container it is refused, never done as a plain bind.
    let bundle = r.bundle("i", &["true"], |c| {
        userns(c);
        c["mounts"].as_array_mut().unwrap().push(serde_json::json!({
            "destination": "/mnt", "type": "bind", "source": "/etc",
            "options": ["rbind", "ro", "idmap"],
        }));
    });
    let err = r.fails(&["run", "-b", bundle.to_str().unwrap(), "idmap"]);
    assert!(err.contains("idmap"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(r.ok(&["list", "-q"]).trim().is_empty());
}
