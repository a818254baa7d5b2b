//! securityContext: who a container runs as and what it may do. Each attack runs from
//! inside a container and the host is checked unchanged afterwards.

mod common;
use common::pods::PodEnv;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

/// `try WHAT CMD...` prints `WHAT allowed` or `WHAT refused: <error>`.
const TRY: &str = r#"try() { what=$1; shift; if out=$("$@" 2>&1); then echo "$what allowed: $out"; else echo "$what refused: $out"; fi; }
"#;

fn logs_when_done(env: &PodEnv, pod: &str, container: &str) -> String {
    let mut logs = String::new();
    env.wait_for(30, &format!("{pod}/{container} to print done"), || {
        let out = env.run(&["logs", pod, "-c", container]);
        logs = String::from_utf8_lossy(&out.stdout).into_owned();
        logs.lines().any(|l| l == "done")
    });
    logs
}

fn line<'a>(logs: &'a str, what: &str) -> &'a str {
    logs.lines()
        .find(|l| l.starts_with(&format!("{what} ")))
        .unwrap_or_default()
}

/// A host directory owned by root (0755) holding a root-only file (0600).
fn host_dir(env: &PodEnv) -> std::path::PathBuf {
    let dir = env.root().join("host-data");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(dir.join("secret"), b"host secret\n").unwrap();
    std::fs::set_permissions(dir.join("secret"), std::fs::Permissions::from_mode(0o600)).unwrap();
    dir
}

fn script(body: &str) -> String {
    format!("{TRY}{body}\necho done\nsleep 3600\n")
}

#[test]
fn run_as_user_group_and_groups_with_fs_group_on_the_volume() {
    let env = PodEnv::new("sc-identity");
    let host = host_dir(&env);
    let body = script(
        r#"id
try write-host sh -c 'echo owned > /host/secret'
try read-host cat /host/secret
try chown chown 1000 /host
ls -ldn /data
touch /data/made-here
ls -ln /data/made-here"#,
    );
    let yaml = format!(
        r#"apiVersion: v1
kind: Pod
metadata: {{name: who}}
spec:
  securityContext: {{runAsUser: 1000, runAsGroup: 3000, supplementalGroups: [4000], fsGroup: 2000}}
  volumes:
  - {{name: data, emptyDir: {{}}}}
  - {{name: host, hostPath: {{path: {host}}}}}
  containers:
  - name: pod-level
    image: busybox:1.36
    command: ["sh", "-c", {body:?}]
    volumeMounts: [{{name: data, mountPath: /data}}, {{name: host, mountPath: /host}}]
  - name: own
    image: busybox:1.36
    command: ["sh", "-c", "id; echo done; sleep 3600"]
    securityContext: {{runAsUser: 2000}}
"#,
        host = host.display()
    );
    env.ok(&["apply", "-f", &env.manifest("p.yaml", &yaml)]);
    let logs = logs_when_done(&env, "who", "pod-level");
    assert!(
        logs.contains("uid=1000 gid=3000 groups=2000,3000,4000"),
        "{logs}"
    );
    assert!(
        line(&logs, "write-host")
            .contains("refused: sh: can't create /host/secret: Permission denied"),
        "{logs}"
    );
    assert!(line(&logs, "read-host").contains("refused"), "{logs}");
    assert!(line(&logs, "chown").contains("refused"), "{logs}");
    // kubelet's SetVolumeOwnership: group 2000, rwxrwsrwx; new files inherit the group.
    assert!(logs.contains("drwxrwsrwx"), "{logs}");
    assert!(
        logs.lines()
            .any(|l| l.contains("made-here") && l.contains(" 1000 ") && l.contains(" 2000 ")),
        "{logs}"
    );
    // The container's own runAsUser wins; the pod's group stays.
    let own = logs_when_done(&env, "who", "own");
    assert!(
        own.contains("uid=2000 gid=3000 groups=2000,3000,4000"),
        "{own}"
    );

    // The host is unchanged: the file, its owner, the hostPath directory (fsGroup does
    // not touch hostPath, as in Kubernetes).
    assert_eq!(
        std::fs::read(host.join("secret")).unwrap(),
        b"host secret\n"
    );
    let meta = std::fs::metadata(&host).unwrap();
    assert_eq!(
        (meta.uid(), meta.gid(), meta.mode() & 0o7777),
        (0, 0, 0o755)
    );
    // The host sees the processes under uid 1000 and 2000.
    let pid = env.container_pid("who", "pod-level");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(status.contains("Uid:\t1000\t1000\t1000\t1000"), "{status}");
    assert!(status.contains("Groups:\t2000 3000 4000"), "{status}");
    // The spec the runtime got says it too.
    let spec = env.bundle_spec("who", "pod-level");
    assert_eq!(spec["process"]["user"]["uid"], 1000);
    assert_eq!(
        spec["process"]["user"]["additionalGids"],
        serde_json::json!([3000, 4000, 2000])
    );
}

#[test]
fn run_as_non_root_refuses_an_image_that_runs_as_root() {
    let env = PodEnv::new("sc-nonroot");
    let yaml = r#"apiVersion: v1
kind: Pod
metadata: {name: nonroot}
spec:
  securityContext: {runAsNonRoot: true}
  containers:
  - name: as-root
    image: busybox:1.36
    command: ["sleep", "3600"]
  - name: as-1000
    image: busybox:1.36
    command: ["sleep", "3600"]
    securityContext: {runAsUser: 1000}
"#;
    env.ok(&["apply", "-f", &env.manifest("p.yaml", yaml)]);
    let pod = env.pod_json("nonroot");
    let uid = pod["metadata"]["uid"].as_str().unwrap().to_string();
    let statuses = pod["status"]["containerStatuses"]
        .as_array()
        .unwrap()
        .clone();
    let of = |n: &str| statuses.iter().find(|s| s["name"] == n).unwrap().clone();
    let waiting = &of("as-root")["state"]["waiting"];
    assert_eq!(waiting["reason"], "CreateContainerConfigError");
    assert_eq!(
        waiting["message"].as_str().unwrap(),
        format!("container has runAsNonRoot and image will run as root (pod: \"nonroot_default({uid})\", container: as-root)")
    );
    assert!(of("as-1000")["state"]["running"].is_object(), "{pod}");
    assert_eq!(env.row("nonroot")[2], "CreateContainerConfigError");
}

#[test]
fn dropped_capabilities_leave_root_unable_to_touch_the_host() {
    let env = PodEnv::new("sc-caps");
    let host = host_dir(&env);
    // Someone else's directory and file: root without DAC_OVERRIDE/FOWNER/CHOWN may
    // neither read, write, nor take them.
    std::os::unix::fs::chown(host.join("secret"), Some(1234), Some(1234)).unwrap();
    std::os::unix::fs::chown(&host, Some(1234), Some(1234)).unwrap();
    let body = script(
        r#"grep -E '^Cap(Prm|Eff|Bnd)' /proc/1/status
try read-host cat /host/secret
try chown chown 0 /host/secret
try write-dir touch /host/planted
try mknod mknod /tmp/sda b 8 0"#,
    );
    let yaml = format!(
        r#"apiVersion: v1
kind: Pod
metadata: {{name: caps}}
spec:
  volumes: [{{name: host, hostPath: {{path: {host}}}}}]
  containers:
  - name: none
    image: busybox:1.36
    command: ["sh", "-c", {body:?}]
    volumeMounts: [{{name: host, mountPath: /host}}]
    securityContext: {{capabilities: {{drop: [ALL], add: [NET_BIND_SERVICE]}}}}
  - name: added
    image: busybox:1.36
    command: ["sh", "-c", "grep -E '^CapEff' /proc/1/status; echo done; sleep 3600"]
    securityContext: {{capabilities: {{add: [NET_ADMIN, CAP_SYS_TIME], drop: [kill]}}}}
"#,
        host = host.display()
    );
    env.ok(&["apply", "-f", &env.manifest("p.yaml", &yaml)]);
    let logs = logs_when_done(&env, "caps", "none");
    // NET_BIND_SERVICE is bit 10 only.
    assert!(logs.contains("CapEff:\t0000000000000400"), "{logs}");
    assert!(logs.contains("CapBnd:\t0000000000000400"), "{logs}");
    for what in ["read-host", "chown", "write-dir", "mknod"] {
        assert!(line(&logs, what).contains("refused"), "{what}: {logs}");
    }
    let meta = std::fs::metadata(host.join("secret")).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (1234, 1234));
    assert!(!host.join("planted").exists());
    // The defaults + NET_ADMIN (12) + SYS_TIME (25) - KILL (5): the documentation's
    // 00000000aa0435fb minus bit 5.
    let added = logs_when_done(&env, "caps", "added");
    assert!(added.contains("CapEff:\t00000000aa0435db"), "{added}");
}

#[test]
fn no_new_privs_stops_a_setuid_binary() {
    let env = PodEnv::new("sc-nnp");
    // A root init container plants a setuid-root copy of `id` in a shared volume; the
    // app containers run as uid 1000 and execute it.
    let run = "/vol/id -u; echo done; sleep 3600";
    let yaml = format!(
        r#"apiVersion: v1
kind: Pod
metadata: {{name: nnp}}
spec:
  volumes: [{{name: vol, emptyDir: {{}}}}]
  initContainers:
  - name: plant
    image: debian:12
    command: ["sh", "-c", "cp /usr/bin/id /vol/id && chmod 4755 /vol/id"]
    volumeMounts: [{{name: vol, mountPath: /vol}}]
  containers:
  - name: escalates
    image: debian:12
    command: ["sh", "-c", {run:?}]
    volumeMounts: [{{name: vol, mountPath: /vol}}]
    securityContext: {{runAsUser: 1000}}
  - name: held
    image: debian:12
    command: ["sh", "-c", {run:?}]
    volumeMounts: [{{name: vol, mountPath: /vol}}]
    securityContext: {{runAsUser: 1000, allowPrivilegeEscalation: false}}
"#
    );
    env.ok(&["apply", "-f", &env.manifest("p.yaml", &yaml)]);
    // Without no_new_privs the setuid bit makes it root; with it, it stays 1000.
    let escalates = logs_when_done(&env, "nnp", "escalates");
    assert_eq!(escalates.lines().next(), Some("0"), "{escalates}");
    let held = logs_when_done(&env, "nnp", "held");
    assert_eq!(held.lines().next(), Some("1000"), "{held}");
    let pid = env.container_pid("nnp", "held");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(status.contains("NoNewPrivs:\t1"), "{status}");
    assert!(status.contains("CapEff:\t0000000000000000"), "{status}");
}

#[test]
fn privileged_and_read_only_root() {
    let env = PodEnv::new("sc-priv");
    let probe = script(
        r#"grep -E '^(CapEff|Seccomp|NoNewPrivs):' /proc/self/status
try sys-write touch /sys/kernel/minipod-probe
grep ' /sys ' /proc/mounts
stat -c 'keys %F' /proc/keys
try kmsg sh -c 'test -c /dev/kmsg && echo present'"#,
    );
    let ro = script("try root-write touch /made\ntry tmp-write touch /data/x");
    let yaml = format!(
        r#"apiVersion: v1
kind: Pod
metadata: {{name: priv}}
spec:
  volumes: [{{name: data, emptyDir: {{}}}}]
  containers:
  - name: privileged
    image: busybox:1.36
    command: ["sh", "-c", {probe:?}]
    securityContext: {{privileged: true}}
  - name: plain
    image: busybox:1.36
    command: ["sh", "-c", {probe:?}]
  - name: readonly
    image: busybox:1.36
    command: ["sh", "-c", {ro:?}]
    volumeMounts: [{{name: data, mountPath: /data}}]
    securityContext: {{readOnlyRootFilesystem: true}}
"#
    );
    env.ok(&["apply", "-f", &env.manifest("p.yaml", &yaml)]);
    // Every capability minipod itself holds (containerd gives its own set).
    let own = std::fs::read_to_string("/proc/self/status").unwrap();
    let all = own
        .lines()
        .find_map(|l| l.strip_prefix("CapPrm:\t"))
        .unwrap()
        .to_string();
    let p = logs_when_done(&env, "priv", "privileged");
    assert!(p.contains(&format!("CapEff:\t{all}")), "{p}");
    assert!(p.contains("Seccomp:\t0"), "{p}");
    assert!(p.contains("NoNewPrivs:\t0"), "{p}");
    let described = env.ok(&["describe", "pod", "priv"]);
    assert!(
        described.contains("SeccompProfile: Unconfined (privileged)"),
        "{described}"
    );
    assert!(p.lines().any(|l| l.contains(" /sys sysfs rw,")), "{p}");
    assert!(line(&p, "kmsg").contains("allowed: present"), "{p}");
    // Not masked: the real /proc/keys, not /dev/null bound over it.
    assert!(
        p.contains("keys regular empty file") || p.contains("keys regular file"),
        "{p}"
    );
    // (A file cannot be made in sysfs even by root; what matters is that it was not
    // refused as a read-only file system.)
    assert!(
        !line(&p, "sys-write").contains("Read-only file system"),
        "{p}"
    );

    let plain = logs_when_done(&env, "priv", "plain");
    assert!(plain.contains("Seccomp:\t2"), "{plain}");
    assert!(
        plain.contains("keys character special file"),
        "masked: {plain}"
    );
    assert!(plain.contains("CapEff:\t00000000a80425fb"), "{plain}");
    assert!(
        line(&plain, "sys-write").contains("Read-only file system"),
        "{plain}"
    );
    assert!(line(&plain, "kmsg").contains("refused"), "{plain}");

    let r = logs_when_done(&env, "priv", "readonly");
    assert!(
        line(&r, "root-write").contains("Read-only file system"),
        "{r}"
    );
    assert!(line(&r, "tmp-write").contains("allowed"), "{r}");
    assert!(!std::path::Path::new("/sys/kernel/minipod-probe").exists());
}

#[test]
fn fields_the_host_cannot_honour_are_refused_by_name() {
    let env = PodEnv::new("sc-refused");
    let yaml = r#"apiVersion: v1
kind: Pod
metadata: {name: labels}
spec:
  securityContext:
    seLinuxOptions: {level: "s0:c123,c456"}
  containers:
  - name: c
    image: busybox:1.36
    securityContext:
      appArmorProfile: {type: RuntimeDefault}
      windowsOptions: {runAsUserName: "ContainerUser"}
      allowPrivilegeEscalation: false
      capabilities: {add: [CAP_SYS_ADMIN]}
"#;
    let err = env
        .mp
        .fails(&["apply", "-f", &env.manifest("p.yaml", yaml)]);
    assert!(err.contains("spec.containers[0].securityContext: Invalid value: {\"Capabilities\":{\"Add\":[\"CAP_SYS_ADMIN\"],\"Drop\":null},"), "{err}");
    assert!(
        err.contains(
            ": cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"
        ),
        "{err}"
    );
    // The API checks passed for these; the host lacks what they need.
    let yaml = yaml.replace("      allowPrivilegeEscalation: false\n", "");
    let err = env
        .mp
        .fails(&["apply", "-f", &env.manifest("p.yaml", &yaml)]);
    assert!(
        err.contains("spec.securityContext.seLinuxOptions: this host has no SELinux"),
        "{err}"
    );
    assert!(err.contains("spec.containers[0].securityContext.appArmorProfile: Cannot enforce AppArmor: AppArmor is not enabled on the host"), "{err}");
    assert!(
        err.contains(
            "spec.containers[0].securityContext.windowsOptions: applies to Windows hosts only"
        ),
        "{err}"
    );
    assert!(env.pods().is_empty(), "nothing was created");
}

/// A pod environment with a store of its own: busybox loaded from the image build
/// cache, tagged as the stand-in for the documentation's images minipod has not got.
fn standin_env(label: &str) -> PodEnv {
    let env = PodEnv {
        mp: common::Minipod::new(label),
    };
    let images = common::pods::shared_images();
    let cache = std::env::var("MINIPOD_BUILD_CACHE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| images.parent().unwrap().join("build"));
    let tar = cache.join("busybox.oci.tar");
    assert!(
        tar.is_file(),
        "no {}: run scripts/build-images.sh first",
        tar.display()
    );
    env.ok(&["image", "load", "-i", tar.to_str().unwrap()]);
    for name in [
        "gcr.io/google-samples/hello-app:2.0",
        "gcr.io/google-samples/node-hello:1.0",
        "registry.k8s.io/e2e-test-images/agnhost:2.45",
    ] {
        env.ok(&["image", "tag", "busybox:1.36", name]);
    }
    env
}

fn example(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../shared/k8s-examples/pods/security/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// The web servers' stand-in (busybox) has no server to run: give it `sleep`.
fn with_sleep(yaml: &str) -> String {
    let mut out = String::new();
    for l in yaml.lines() {
        out.push_str(l);
        out.push('\n');
        let t = l.trim_start();
        if t.starts_with("image: ") {
            let indent = &l[..l.len() - t.len()];
            if t.ends_with(',') {
                out.push_str(&format!(
                    "{indent}command: [\"sh\", \"-c\", \"sleep 1h\"],\n"
                ));
            } else {
                out.push_str(&format!(
                    "{indent}command: [\"sh\", \"-c\", \"sleep 1h\"]\n"
                ));
            }
        }
    }
    out
}

fn exec(env: &PodEnv, pod: &str, cmd: &[&str]) -> String {
    let mut args = vec!["exec", pod, "--"];
    args.extend_from_slice(cmd);
    env.ok(&args)
}

#[test]
fn the_documentation_examples_show_what_their_page_shows() {
    let env = standin_env("sc-docs");
    let dir = env.root().to_path_buf();
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    // security-context-5.yaml runs unchanged (agnhost runs `sleep 1h` itself).
    env.ok(&[
        "apply",
        "-f",
        &write("5.yaml", &example("security-context-5.yaml")),
    ]);
    assert_eq!(
        exec(&env, "security-context-demo", &["id"]).trim(),
        "uid=1000 gid=3000 groups=3000,4000"
    );
    let ps = exec(&env, "security-context-demo", &["ps"]);
    assert!(
        ps.lines()
            .any(|l| l.contains("1 1000") && l.contains("sleep 1h")),
        "{ps}"
    );
    let status = exec(&env, "security-context-demo", &["cat", "/proc/1/status"]);
    assert!(status.contains("NoNewPrivs:\t1"), "{status}");
    // kubectl get pod -o yaml shows the identity kubelet reports (the page's
    // supplementalGroupsPolicy section).
    let pod = env.pod_json("security-context-demo");
    assert_eq!(
        pod["status"]["containerStatuses"][0]["user"],
        serde_json::json!({"linux": {"uid": 1000, "gid": 3000, "supplementalGroups": [3000, 4000]}})
    );
    env.ok(&[
        "delete",
        "pod",
        "security-context-demo",
        "--grace-period=0",
        "--force",
    ]);

    // security-context.yaml: runAsUser 1000, fsGroup 2000 on the emptyDir.
    env.ok(&[
        "apply",
        "-f",
        &write("1.yaml", &with_sleep(&example("security-context.yaml"))),
    ]);
    assert_eq!(
        exec(&env, "security-context-demo", &["id"]).trim(),
        "uid=1000 gid=0(root) groups=0(root),2000"
    );
    let ls = exec(
        &env,
        "security-context-demo",
        &[
            "sh",
            "-c",
            "ls -ld /data/demo; echo hello > /data/demo/testfile; ls -l /data/demo/testfile",
        ],
    );
    assert!(ls.lines().next().unwrap().starts_with("drwxrwsrwx"), "{ls}");
    assert!(
        ls.lines().next().unwrap().contains(" root     2000 "),
        "{ls}"
    );
    assert!(
        ls.lines().nth(1).unwrap().contains(" 1000     2000 "),
        "{ls}"
    );

    // security-context-2.yaml: the container's 2000 wins over the pod's 1000.
    env.ok(&[
        "apply",
        "-f",
        &write("2.yaml", &with_sleep(&example("security-context-2.yaml"))),
    ]);
    let ps = exec(&env, "security-context-demo-2", &["ps", "aux"]);
    assert!(
        ps.lines()
            .any(|l| l.contains("1 2000") && l.contains("sleep 1h")),
        "{ps}"
    );

    // security-context-4.yaml (KYAML): NET_ADMIN and SYS_TIME added to the defaults,
    // the documentation's capability sets exactly.
    env.ok(&[
        "apply",
        "-f",
        &write("4.yaml", &with_sleep(&example("security-context-4.yaml"))),
    ]);
    let status = exec(&env, "security-context-demo-4", &["cat", "/proc/1/status"]);
    assert!(status.contains("CapPrm:\t00000000aa0435fb"), "{status}");
    assert!(status.contains("CapEff:\t00000000aa0435fb"), "{status}");

    // The rest are refused naming the field and the reason.
    let err = env.mp.fails(&[
        "apply",
        "-f",
        &write("7.yaml", &example("security-context-7.yaml")),
    ]);
    assert!(err.contains("spec.containers[0].securityContext.cgroupOptions: not supported by minipod yet (a field newer than Kubernetes 1.34)"), "{err}");
    let apparmor = example("apparmor/hello-apparmor.yaml").replace("busybox:1.28", "busybox:1.36");
    let err = env.mp.fails(&["apply", "-f", &write("aa.yaml", &apparmor)]);
    assert!(err.contains("spec.securityContext.appArmorProfile: Cannot enforce AppArmor: AppArmor is not enabled on the host"), "{err}");
}

#[test]
fn merge_adds_the_images_groups_and_strict_does_not() {
    let env = standin_env("sc-merge");
    // An image whose /etc/group lists its user `app` (1000) in two groups.
    let lower = env.mp.inspect("busybox:1.36")["GraphDriver"]["Data"]["LowerDir"]
        .as_str()
        .unwrap()
        .to_string();
    let rootfs = env.root().join("app-rootfs");
    let cp = std::process::Command::new("cp")
        .args(["-a", &lower, rootfs.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(cp.success());
    std::fs::write(
        rootfs.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n",
    )
    .unwrap();
    std::fs::write(
        rootfs.join("etc/group"),
        "root:x:0:\napp:x:1000:\nwheel:x:10:app\nvideo:x:44:root,app\n",
    )
    .unwrap();
    env.ok(&["image", "import", rootfs.to_str().unwrap(), "app-groups:1"]);
    let yaml = |policy: &str| {
        format!(
            r#"apiVersion: v1
kind: Pod
metadata: {{name: {}}}
spec:
  securityContext: {{runAsUser: 1000, supplementalGroups: [4000], supplementalGroupsPolicy: {policy}}}
  containers:
  - name: c
    image: app-groups:1
    command: ["sh", "-c", "id; echo done; sleep 3600"]
"#,
            policy.to_lowercase()
        )
    };
    env.ok(&["apply", "-f", &env.manifest("m.yaml", &yaml("Merge"))]);
    env.ok(&["apply", "-f", &env.manifest("s.yaml", &yaml("Strict"))]);
    let merged = logs_when_done(&env, "merge", "c");
    assert!(
        merged.contains("uid=1000(app) gid=1000(app) groups=10(wheel),44(video),1000(app),4000"),
        "{merged}"
    );
    let strict = logs_when_done(&env, "strict", "c");
    assert!(
        strict.contains("uid=1000(app) gid=1000(app) groups=1000(app),4000"),
        "{strict}"
    );
}

#[test]
fn host_pid_and_host_ipc_join_the_hosts_namespaces() {
    let env = PodEnv::new("sc-hostns");
    let yaml = r#"apiVersion: v1
kind: Pod
metadata: {name: hostns}
spec:
  hostPID: true
  hostIPC: true
  containers:
  - name: c
    image: busybox:1.36
    command: ["sleep", "3600"]
---
apiVersion: v1
kind: Pod
metadata: {name: ownns}
spec:
  containers:
  - name: c
    image: busybox:1.36
    command: ["sleep", "3600"]
"#;
    env.ok(&["apply", "-f", &env.manifest("p.yaml", yaml)]);
    let me = std::process::id().to_string();
    let sees = |pod: &str| {
        exec(&env, pod, &["ps", "-o", "pid"])
            .lines()
            .any(|l| l.trim() == me)
    };
    assert!(
        sees("hostns"),
        "a hostPID container sees the host's processes"
    );
    assert!(!sees("ownns"), "a pod's own PID namespace hides them");
    let pid = env.container_pid("hostns", "c");
    for kind in ["pid", "ipc"] {
        assert_eq!(
            common::pods::ns(pid, kind),
            common::pods::ns(std::process::id() as i32, kind),
            "{kind}"
        );
    }
    // explain pod reads the same from the kernel: `host` in the PID and IPC columns.
    let explained = env.ok(&["explain", "pod", "hostns"]);
    let header: Vec<&str> = explained
        .lines()
        .find(|l| l.starts_with("PROCESS"))
        .unwrap()
        .split_whitespace()
        .collect();
    let row: Vec<&str> = explained
        .lines()
        .find(|l| l.starts_with("c "))
        .unwrap()
        .split_whitespace()
        .collect();
    for kind in ["PID", "IPC"] {
        // (the first PID column is the process's PID; the namespace is the last)
        let col = header.iter().rposition(|h| *h == kind).unwrap();
        assert_eq!(row[col], "host", "{kind}\n{explained}");
    }
    let err = env.mp.fails(&[
        "apply",
        "-f",
        &env.manifest(
            "bad.yaml",
            &yaml.replace("hostIPC: true", "shareProcessNamespace: true"),
        ),
    ]);
    assert!(
        err.contains("spec.shareProcessNamespace: Invalid value: true: ShareProcessNamespace and HostPID cannot both be enabled"),
        "{err}"
    );
}

#[test]
fn sysctls_go_into_the_pods_namespaces_only() {
    let env = PodEnv::new("sc-sysctl");
    let host_before = |p: &str| std::fs::read_to_string(p).unwrap();
    let somaxconn = host_before("/proc/sys/net/core/somaxconn");
    let msgmax = host_before("/proc/sys/kernel/msgmax");
    let yaml = r#"apiVersion: v1
kind: Pod
metadata: {name: tuned}
spec:
  securityContext:
    sysctls:
    - {name: kernel.shm_rmid_forced, value: "1"}
    - {name: net.core.somaxconn, value: "1031"}
    - {name: kernel.msgmax, value: "65531"}
  containers:
  - name: c
    image: busybox:1.36
    command: ["sleep", "3600"]
"#;
    env.ok(&["apply", "-f", &env.manifest("p.yaml", yaml)]);
    let inside = exec(
        &env,
        "tuned",
        &[
            "cat",
            "/proc/sys/kernel/shm_rmid_forced",
            "/proc/sys/net/core/somaxconn",
            "/proc/sys/kernel/msgmax",
        ],
    );
    assert_eq!(inside, "1\n1031\n65531\n");
    // A container cannot change them again: /proc/sys is read-only for it.
    let out = env.run(&[
        "exec",
        "tuned",
        "--",
        "sh",
        "-c",
        "echo 5 > /proc/sys/net/core/somaxconn",
    ]);
    assert!(!out.status.success());
    assert_eq!(host_before("/proc/sys/net/core/somaxconn"), somaxconn);
    assert_eq!(host_before("/proc/sys/kernel/msgmax"), msgmax);
    // The infra wrote them, and the narration says so.
    let steps = env.ok(&["explain", "pod", "tuned", "--steps"]);
    assert!(
        steps
            .lines()
            .any(|l| l.contains("[infra")
                && l.contains("write(/proc/sys/net/core/somaxconn, \"1031\")")),
        "{steps}"
    );
    // A sysctl that is not namespaced would change the host: refused by name.
    let swappiness = host_before("/proc/sys/vm/swappiness");
    let bad = yaml.replace("name: tuned", "name: host-knob").replace(
        "kernel.msgmax, value: \"65531\"",
        "vm.swappiness, value: \"1\"",
    );
    let err = env
        .mp
        .fails(&["apply", "-f", &env.manifest("bad.yaml", &bad)]);
    assert!(
        err.contains("spec.securityContext.sysctls[2]: SysctlForbidden: forbidden sysctl: \"vm.swappiness\" not allowlisted"),
        "{err}"
    );
    assert_eq!(host_before("/proc/sys/vm/swappiness"), swappiness);
}

#[test]
fn describe_explain_and_top_read_who_each_process_is_from_the_kernel() {
    let env = PodEnv::new("sc-views");
    let yaml = r#"apiVersion: v1
kind: Pod
metadata: {name: views}
spec:
  securityContext: {runAsUser: 1000, runAsGroup: 3000, supplementalGroups: [4000]}
  containers:
  - name: web
    image: nginx:1.27
    securityContext: {runAsUser: 0, runAsGroup: 0}
  - name: app
    image: busybox:1.36
    command: ["sleep", "3600"]
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}
"#;
    env.ok(&["apply", "-f", &env.manifest("p.yaml", yaml)]);
    // describe: the process's own ids and sets, per container.
    let described = env.ok(&["describe", "pod", "views"]);
    let app = described.split("  app:").nth(1).unwrap();
    assert!(
        app.contains("Process:        uid=1000 gid=3000 groups=3000,4000"),
        "{described}"
    );
    assert!(app.contains("Capabilities:   <none>"), "{described}");
    assert!(app.contains("NoNewPrivs:     true"), "{described}");
    assert!(app.contains("Seccomp:        filter"), "{described}");
    // explain: the same in the security table.
    let explained = env.ok(&["explain", "pod", "views"]);
    let row = explained
        .split("What each container may ask of the kernel")
        .nth(1)
        .unwrap()
        .lines()
        .find(|l| l.trim_start().starts_with("app "))
        .unwrap();
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        &cols[2..6],
        ["1000", "3000", "3000,4000", "yes"],
        "{explained}"
    );
    // top: nginx's workers are named by the container's /etc/passwd (uid 101 is
    // `nginx` there, whatever the host calls it), with the host uid beside.
    env.wait_for(10, "nginx workers", || {
        env.ok(&["top", "pod", "views"])
            .contains("nginx: worker process")
    });
    let top = env.ok(&["top", "pod", "views"]);
    let worker = top
        .lines()
        .find(|l| l.contains("nginx: worker process"))
        .unwrap();
    assert!(worker.contains(" nginx(host=101) "), "{top}");
    let sleeper = top.lines().find(|l| l.contains("sleep 3600")).unwrap();
    assert!(sleeper.contains(" 1000(host=1000) "), "{top}");
}

/// The host ids a process runs under: the real uid of `/proc/PID/status`.
fn host_uid(pid: i32) -> u32 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|v| v.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn user_namespaces_make_root_inside_nobody_on_the_host() {
    let env = PodEnv::new("sc-userns");
    let host = host_dir(&env);
    // The documentation's example, unchanged (image `debian`).
    let example = std::fs::read_to_string(format!(
        "{}/../shared/k8s-examples/pods/user-namespaces-stateless.yaml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    env.ok(&["apply", "-f", &env.manifest("userns.yaml", &example)]);
    assert_eq!(exec(&env, "userns", &["id", "-u"]).trim(), "0");
    let map = exec(&env, "userns", &["cat", "/proc/self/uid_map"]);
    let fields: Vec<u64> = map.split_whitespace().map(|f| f.parse().unwrap()).collect();
    assert_eq!(fields[0], 0);
    assert_ne!(fields[1], 0, "uid 0 inside is not uid 0 on the host: {map}");
    assert_eq!(fields[2], 65536);
    let start = fields[1];
    // On the host the container's process runs under the pod's range.
    let pid = env.container_pid("userns", "shell");
    assert_eq!(u64::from(host_uid(pid)), start);
    // The image's files are root's inside (idmapped layers), and root may write its
    // own writable layer.
    let ls = exec(
        &env,
        "userns",
        &[
            "sh",
            "-c",
            "stat -c '%u %g' /etc/passwd; touch /made && echo made",
        ],
    );
    assert_eq!(ls, "0 0\nmade\n");

    // A second pod, with a hostPath: root inside is nobody to the host's files.
    let second = format!(
        r#"apiVersion: v1
kind: Pod
metadata: {{name: userns-2}}
spec:
  hostUsers: false
  volumes:
  - {{name: host, hostPath: {{path: {host}}}}}
  - {{name: scratch, emptyDir: {{}}}}
  containers:
  - name: c
    image: busybox:1.36
    command: ["sh", "-c", {body:?}]
    volumeMounts: [{{name: host, mountPath: /host}}, {{name: scratch, mountPath: /scratch}}]
  - name: unmasked
    image: busybox:1.36
    command: ["sh", "-c", {unmasked:?}]
    securityContext: {{procMount: Unmasked}}
"#,
        host = host.display(),
        unmasked = script(
            r#"stat -c 'keys %F' /proc/keys
try panic sh -c 'echo 7 > /proc/sys/kernel/panic'"#
        ),
        body = script(
            r#"id -u
try read-host cat /host/secret
try write-host touch /host/planted
try chown-host chown 0 /host
try scratch touch /scratch/mine
stat -c 'scratch %u' /scratch/mine
try mknod mknod /tmp/sda b 8 0"#
        )
    );
    env.ok(&["apply", "-f", &env.manifest("second.yaml", &second)]);
    let logs = logs_when_done(&env, "userns-2", "c");
    assert!(logs.starts_with("0\n"), "{logs}");
    for what in ["read-host", "write-host", "chown-host", "mknod"] {
        assert!(line(&logs, what).contains("refused"), "{what}: {logs}");
    }
    assert!(line(&logs, "scratch").contains("allowed"), "{logs}");
    assert!(
        logs.contains("scratch 0"),
        "an emptyDir is idmapped: {logs}"
    );
    assert_eq!(
        std::fs::read(host.join("secret")).unwrap(),
        b"host secret\n"
    );
    assert!(!host.join("planted").exists());
    // procMount: Unmasked (allowed with hostUsers: false): /proc/keys is not masked,
    // and root in the pod still cannot set a host-wide kernel knob.
    let panic_before = std::fs::read_to_string("/proc/sys/kernel/panic").unwrap();
    let unmasked = logs_when_done(&env, "userns-2", "unmasked");
    assert!(unmasked.contains("keys regular"), "{unmasked}");
    assert!(line(&unmasked, "panic").contains("refused"), "{unmasked}");
    assert_eq!(
        std::fs::read_to_string("/proc/sys/kernel/panic").unwrap(),
        panic_before
    );
    let meta = std::fs::metadata(&host).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (0, 0));

    // Two hostUsers: false pods never share host ids.
    let pid2 = env.container_pid("userns-2", "c");
    let start2 = u64::from(host_uid(pid2));
    assert!(
        start2 >= start + 65536 || start >= start2 + 65536,
        "ranges overlap: {start} and {start2}"
    );
    let claims = common::list_dir(&env.root().join("run/userns"));
    assert!(
        claims.contains(&start.to_string()) && claims.contains(&start2.to_string()),
        "{claims:?}"
    );

    // explain shows the pod's own user namespace: shared by the containers, with its map.
    let explained = env.ok(&["explain", "pod", "userns"]);
    assert!(
        explained.contains(&format!("uid_map \"0 {start} 65536\"")),
        "{explained}"
    );
    let row: Vec<&str> = explained
        .lines()
        .find(|l| l.starts_with("shell "))
        .unwrap()
        .split_whitespace()
        .collect();
    let header: Vec<&str> = explained
        .lines()
        .find(|l| l.starts_with("PROCESS"))
        .unwrap()
        .split_whitespace()
        .collect();
    let user_col = header.iter().position(|h| *h == "USER").unwrap();
    assert_eq!(row[user_col], "shared", "{explained}");
    // top: the uid inside, named by the container's passwd, and the host's uid.
    let top = env.ok(&["top", "pod", "userns"]);
    assert!(top.contains(&format!("root(host={start})")), "{top}");

    // Deleting the pods gives their ids back.
    env.ok(&[
        "delete",
        "pod",
        "userns",
        "userns-2",
        "--grace-period=0",
        "--force",
    ]);
    assert!(common::list_dir(&env.root().join("run/userns"))
        .iter()
        .all(|c| c.starts_with('.')));

    // The API server's rules: no host namespace with hostUsers: false.
    let bad = example.replace(
        "hostUsers: false,",
        "hostUsers: false, hostNetwork: true, hostPID: true,",
    );
    let err = env
        .mp
        .fails(&["apply", "-f", &env.manifest("bad.yaml", &bad)]);
    assert!(
        err.contains("spec.hostNetwork: Forbidden: when `pod.Spec.HostUsers` is false"),
        "{err}"
    );
    assert!(
        err.contains("spec.HostPID: Forbidden: when `pod.Spec.HostUsers` is false"),
        "{err}"
    );
}
