//! Volumes as Kubernetes defines them: emptyDir on disk and in memory, hostPath with
//! its type, readOnly, subPath, and a mountPath that is a symlink in the image.

mod common;
use common::pods::PodEnv;

#[test]
fn volume_kinds_readonly_subpath_and_memory_medium() {
    let env = PodEnv::new("volumes");
    let host_dir = env.root().join("host-data");
    std::fs::create_dir_all(&host_dir).unwrap();
    std::fs::write(host_dir.join("greeting"), "hello from the host\n").unwrap();
    let yaml = format!(
        r#"
apiVersion: v1
kind: Pod
metadata:
  name: vols
spec:
  initContainers:
  - name: prepare
    image: busybox:1.36
    command: ["sh", "-c", "echo from-init > /mem/init-note && echo sub > /work/file"]
    volumeMounts:
    - {{name: mem, mountPath: /mem}}
    - {{name: scratch, mountPath: /work, subPath: deep/dir}}
  containers:
  - name: main
    image: busybox:1.36
    command: ["sleep", "3600"]
    volumeMounts:
    - {{name: mem, mountPath: /mem}}
    - {{name: host, mountPath: /host, readOnly: true}}
    - {{name: scratch, mountPath: /scratch}}
    - {{name: scratch, mountPath: /bin/linked-dir}}
  volumes:
  - name: mem
    emptyDir: {{medium: Memory, sizeLimit: 1Mi}}
  - name: host
    hostPath: {{path: {host}, type: Directory}}
  - name: scratch
    emptyDir: {{}}
"#,
        host = host_dir.display()
    );
    let file = env.manifest("vols.yaml", &yaml);
    env.ok(&["apply", "-f", &file]);
    env.wait_for(15, "main running", || {
        env.row("vols").get(2).map(String::as_str) == Some("Running")
    });
    let sh = |cmd: &str| env.run(&["exec", "vols", "-c", "main", "--", "sh", "-c", cmd]);

    // The Memory emptyDir is one tmpfs shared by init and app containers.
    let out = sh("cat /mem/init-note; grep ' /mem ' /proc/mounts");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("from-init\n"), "{text}");
    assert!(
        text.contains("tmpfs") && text.contains("size=1024k"),
        "a 1Mi tmpfs: {text}"
    );
    // sizeLimit is enforced by the tmpfs.
    let out = sh("dd if=/dev/zero of=/mem/big bs=1024 count=2048");
    assert!(
        !out.status.success(),
        "writing 2 MiB into a 1Mi emptyDir must fail"
    );

    // hostPath, read-only.
    assert_eq!(
        String::from_utf8_lossy(&sh("cat /host/greeting").stdout),
        "hello from the host\n"
    );
    let out = sh("touch /host/nope");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Read-only file system"));
    assert!(!host_dir.join("nope").exists());

    // subPath: the init container saw only deep/dir of the volume.
    assert_eq!(
        String::from_utf8_lossy(&sh("cat /scratch/deep/dir/file").stdout),
        "sub\n"
    );

    // A mount target under /bin (busybox's applet dir) lands inside the container.
    assert!(sh("test -d /bin/linked-dir/deep").status.success());
    env.ok(&["delete", "pod", "vols", "--grace-period=0", "--force"]);
    assert!(
        host_dir.join("greeting").exists(),
        "a hostPath survives its pod"
    );
}

#[test]
fn a_symlinked_mount_path_resolves_inside_the_rootfs() {
    let env = PodEnv::new("symlink");
    // In the nginx image /var/log/nginx/access.log -> /dev/stdout; and /var/run -> /run
    // in debian: mounting on /var/run/x must land in the container's /run/x, never
    // on the host's.
    let yaml = r#"
apiVersion: v1
kind: Pod
metadata:
  name: link
spec:
  containers:
  - name: c
    image: debian:12
    command: ["sleep", "3600"]
    volumeMounts:
    - {name: v, mountPath: /var/run/minipod-test-target}
  volumes:
  - name: v
    emptyDir: {}
"#;
    let file = env.manifest("link.yaml", yaml);
    env.ok(&["apply", "-f", &file]);
    let out = env.ok(&[
        "exec",
        "link",
        "--",
        "sh",
        "-c",
        "grep minipod-test-target /proc/mounts | cut -d' ' -f2",
    ]);
    assert_eq!(out.trim(), "/run/minipod-test-target");
    assert!(
        !std::path::Path::new("/run/minipod-test-target").exists(),
        "nothing on the host"
    );
}
