//! securityContext and the pod's namespaces: hostPID and hostIPC, pod sysctls, and
//! user namespaces (hostUsers: false). Each attack runs from inside a container; the
//! host is checked unchanged.

mod common;
use common::pods::PodEnv;
use common::security::*;
use std::os::unix::fs::MetadataExt;

/// The words of the first line of a printed table that starts with `start`.
fn row_words<'a>(table: &'a str, start: &str) -> Vec<&'a str> {
    table
        .lines()
        .find(|l| l.starts_with(start))
        .unwrap()
        .split_whitespace()
        .collect()
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
    let header = row_words(&explained, "PROCESS");
    let row = row_words(&explained, "c ");
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
    let row = row_words(&explained, "shell ");
    let header = row_words(&explained, "PROCESS");
    let user_col = header.iter().position(|h| *h == "USER").unwrap();
    assert_eq!(row[user_col], "shared", "{explained}");
    // top: the uid inside, named by the container's passwd, and the host's uid.
    let top = env.ok(&["top", "pod", "userns", "--processes"]);
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
