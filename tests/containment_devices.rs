//! Device nodes: a container holds CAP_MKNOD, so it can *make* any node; what must stop
//! it is the device rules of its cgroup (runc's and containerd's defaults): only null,
//! zero, full, random, urandom, tty, console, ptmx and the pts may be opened.
//!
//! The attacks, as a user inside a container would try them: `mknod /tmp/kmsg c 1 11`
//! then write into the host's kernel log; open the host's console (tty0), a tun device,
//! /dev/fuse. Each must fail with EPERM, while the harmless devices keep working.

mod common;
use common::pods::PodEnv;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;

/// Opens each path read-write and reports `NAME opened` or `NAME refused: <error>`.
const PROBE: &str = r#"
probe() { if out=$(sh -c "exec 3<>$1" 2>&1); then echo "$2 opened"; else echo "$2 refused: $out"; fi; }
mknod /tmp/kmsg c 1 11 && echo "mknod kmsg made"
mknod /tmp/tty0 c 4 0 && mknod /tmp/tun c 10 200 && mknod /tmp/fuse c 10 229 && echo "mknod others made"
mknod /tmp/null2 c 1 3 && echo "mknod null2 made"
probe /tmp/kmsg kmsg; probe /tmp/tty0 tty0; probe /tmp/tun tun; probe /tmp/fuse fuse
probe /dev/null null; probe /dev/zero zero; probe /dev/full full
probe /dev/random random; probe /dev/urandom urandom; probe /dev/ptmx ptmx; probe /tmp/null2 null2
echo "MARKER" > /tmp/kmsg 2>/dev/null
echo "urandom bytes: $(head -c 8 /dev/urandom | wc -c)"
echo probes-done
sleep 3600
"#;

/// Every record in the host's kernel log, read without blocking (as `dmesg` does).
fn host_kernel_log() -> String {
    let mut kmsg = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open("/dev/kmsg")
        .expect("open the host's /dev/kmsg");
    let mut all = String::new();
    let mut buf = vec![0u8; 8192];
    loop {
        match kmsg.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => all.push_str(&String::from_utf8_lossy(&buf[..n])),
            // EPIPE: a record was overwritten while reading; go on with the next.
            Err(e) if e.raw_os_error() == Some(libc::EPIPE) => continue,
            Err(_) => break, // EAGAIN: the end of the buffer
        }
    }
    all
}

#[test]
fn device_nodes_outside_the_allow_list_cannot_be_opened() {
    let env = PodEnv::new("devices");
    let marker = format!("minipod-kmsg-escape-{}", std::process::id());
    let probe = PROBE.replace("MARKER", &marker);
    let yaml = format!(
        r#"
apiVersion: v1
kind: Pod
metadata: {{name: devices}}
spec:
  containers:
  - name: probe
    image: busybox:1.36
    command: ["sh", "-c", {probe:?}]
"#
    );
    env.ok(&["apply", "-f", &env.manifest("p.yaml", &yaml)]);
    let mut logs = String::new();
    env.wait_for(20, "the probes to finish", || {
        logs = env.ok(&["logs", "devices", "-c", "probe"]);
        logs.contains("probes-done")
    });

    // CAP_MKNOD is still granted: making nodes is allowed (`c *:* m`).
    for made in ["mknod kmsg made", "mknod others made", "mknod null2 made"] {
        assert!(logs.contains(made), "{made:?} missing in:\n{logs}");
    }
    // Opening anything outside the list fails with EPERM, from the cgroup.
    for dev in ["kmsg", "tty0", "tun", "fuse"] {
        let line = logs
            .lines()
            .find(|l| l.starts_with(&format!("{dev} ")))
            .unwrap_or_default();
        assert!(
            line.contains("refused") && line.contains("Operation not permitted"),
            "{dev} must be refused with EPERM, got {line:?} in:\n{logs}"
        );
    }
    // The harmless devices still work, whatever node they are opened through.
    for dev in ["null", "zero", "full", "random", "urandom", "ptmx", "null2"] {
        assert!(
            logs.lines().any(|l| l == format!("{dev} opened")),
            "{dev} must open, logs:\n{logs}"
        );
    }
    assert!(logs.contains("urandom bytes: 8"), "{logs}");
    // And nothing reached the host's kernel log.
    assert!(
        !host_kernel_log().contains(&marker),
        "the container wrote into the host's kernel log"
    );

    // A process exec'd into the container is held by the same rules.
    let out = env.run(&[
        "exec",
        "devices",
        "-c",
        "probe",
        "--",
        "sh",
        "-c",
        &format!("echo {marker}-exec > /tmp/kmsg"),
    ]);
    assert!(!out.status.success(), "exec wrote to /tmp/kmsg");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Operation not permitted"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!host_kernel_log().contains(&format!("{marker}-exec")));

    // The narration tells how the rules were put in place.
    let steps = env.ok(&["explain", "pod", "devices", "--steps"]);
    assert!(
        steps.contains("devices.deny") || steps.contains("BPF_PROG_ATTACH"),
        "{steps}"
    );
    // The rules are in the container's spec, as runc reads them.
    let spec = env.bundle_spec("devices", "probe");
    let rules = spec["linux"]["resources"]["devices"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(rules[0]["allow"], false, "{rules:?}");
    assert_eq!(rules[0]["access"], "rwm", "{rules:?}");
    assert!(rules.iter().any(|r| r["allow"] == true
        && r["type"] == "c"
        && r["major"] == 1
        && r["minor"] == 3
        && r["access"] == "rwm"));
}

/// On a cgroup v1 (or hybrid) host the devices controller holds the list; on a pure
/// v2 host a device program is attached to the container's cgroup.
#[test]
fn the_container_cgroup_holds_exactly_the_default_rules() {
    let env = PodEnv::new("devlist");
    let yaml = r#"
apiVersion: v1
kind: Pod
metadata: {name: devlist}
spec:
  containers:
  - name: c
    image: busybox:1.36
    command: ["sleep", "3600"]
"#;
    env.ok(&["apply", "-f", &env.manifest("p.yaml", yaml)]);
    let uid = env.pod_json("devlist")["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        let steps = env.ok(&["explain", "pod", "devlist", "--steps"]);
        let attach = format!("BPF_PROG_ATTACH, /sys/fs/cgroup/minipod/pod{uid}/c)");
        assert!(steps.contains(&attach), "{steps}");
        return;
    }
    let list = std::fs::read_to_string(format!(
        "/sys/fs/cgroup/devices/minipod/pod{uid}/c/devices.list"
    ))
    .expect("the container's devices cgroup");
    let mut lines: Vec<&str> = list.lines().collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            "b *:* m",
            "c *:* m",
            "c 136:* rwm",
            "c 1:3 rwm",
            "c 1:5 rwm",
            "c 1:7 rwm",
            "c 1:8 rwm",
            "c 1:9 rwm",
            "c 5:0 rwm",
            "c 5:1 rwm",
            "c 5:2 rwm",
        ]
    );
    let pid = env.container_pid("devlist", "c");
    let own = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    assert!(
        own.lines()
            .any(|l| l.contains(":devices:") && l.ends_with(&format!("/minipod/pod{uid}/c"))),
        "{own}"
    );
}
