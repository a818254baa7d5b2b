//! securityContext, what a container may do: capabilities, allowPrivilegeEscalation
//! (no_new_privs), privileged, readOnlyRootFilesystem, and the fields the host cannot
//! honour. Each attack runs from inside a container; the host is checked unchanged.

mod common;
use common::pods::PodEnv;
use common::security::*;
use std::os::unix::fs::MetadataExt;

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
try kmsg sh -c 'test -c /dev/kmsg && echo present'
try tun sh -c 'test -c /dev/net/tun && echo present'"#,
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
    // A host device in a subdirectory of /dev too.
    if std::path::Path::new("/dev/net/tun").exists() {
        assert!(line(&p, "tun").contains("allowed: present"), "{p}");
    }
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
    // The older annotation asks for the same, and is refused the same way.
    let annotated = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: annotated\n  annotations:\n    container.apparmor.security.beta.kubernetes.io/c: localhost/k8s-apparmor-example-deny-write\nspec:\n  containers: [{name: c, image: busybox:1.36}]\n";
    let err = env
        .mp
        .fails(&["apply", "-f", &env.manifest("a.yaml", annotated)]);
    assert!(
        err.contains("metadata.annotations[container.apparmor.security.beta.kubernetes.io/c]: Cannot enforce AppArmor: AppArmor is not enabled on the host"),
        "{err}"
    );
    assert!(env.pods().is_empty(), "nothing was created");
}

/// A stand-in for `hashicorp/http-echo:1.0`: busybox, and an entrypoint that reads
/// http-echo's `-text=` and `-listen=:PORT` and serves the text with busybox httpd.
fn http_echo_standin(env: &PodEnv) -> String {
    let lower = env.mp.inspect("busybox:1.36")["GraphDriver"]["Data"]["LowerDir"]
        .as_str()
        .unwrap()
        .to_string();
    let busybox = std::fs::read(std::path::Path::new(&lower).join("bin/busybox")).unwrap();
    let entrypoint = br#"#!/bin/sh
text=hello-world; port=5678
for a; do case $a in -text=*) text=${a#-text=};; -listen=:*) port=${a#-listen=:};; esac; done
mkdir -p /tmp/www && echo "$text" > /tmp/www/index.html
exec httpd -f -p "$port" -h /tmp/www
"#;
    let mut layer = common::LayerBuilder::new()
        .dir("bin", 0o755)
        .file("bin/busybox", &busybox, 0o755)
        .dir("tmp", 0o1777)
        .file("http-echo", entrypoint, 0o755);
    for applet in ["sh", "mkdir", "httpd", "wget", "cat", "grep"] {
        layer = layer.symlink(&format!("bin/{applet}"), "busybox");
    }
    let mut image = common::TestImage::new(&["hashicorp/http-echo:1.0"], vec![layer.finish()]);
    image.config = serde_json::json!({
        "Entrypoint": ["/http-echo"],
        "Env": ["PATH=/bin"]
    });
    env.mp
        .write_file("http-echo.tar", &common::oci_layout(&[image], None))
}

#[test]
fn the_seccomp_documentation_example_runs_under_runtime_default() {
    let env = standin_env("sc-seccomp-doc");
    let tar = http_echo_standin(&env);
    env.ok(&["image", "load", "-i", &tar]);
    let yaml = std::fs::read_to_string(format!(
        "{}/../shared/k8s-examples/pods/security/seccomp/ga/default-pod.yaml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    env.ok(&["apply", "-f", &env.manifest("default-pod.yaml", &yaml)]);
    let mut answer = String::new();
    env.wait_for(20, "http-echo to answer on :5678", || {
        let out = env.run(&[
            "exec",
            "default-pod",
            "--",
            "wget",
            "-qO-",
            "http://127.0.0.1:5678/",
        ]);
        answer = String::from_utf8_lossy(&out.stdout).into_owned();
        out.status.success()
    });
    assert_eq!(answer, "just made some more syscalls!\n");
    let status = exec(&env, "default-pod", &["cat", "/proc/1/status"]);
    assert!(status.contains("Seccomp:\t2"), "{status}");
    assert!(status.contains("NoNewPrivs:\t1"), "{status}");
}
