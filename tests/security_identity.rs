//! securityContext, who a container runs as: runAsUser, runAsGroup,
//! supplementalGroups (Merge/Strict), fsGroup, runAsNonRoot, the documentation's
//! examples, and the views that read the identity back from the kernel. Each attack
//! runs from inside a container; the host is checked unchanged afterwards.

mod common;
use common::pods::PodEnv;
use common::security::*;
use common::spawned::SpawnGuarded as _;
use std::os::unix::fs::MetadataExt;

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
        env.ok(&["top", "pod", "views", "--processes"])
            .contains("nginx: worker process")
    });
    let top = env.ok(&["top", "pod", "views", "--processes"]);
    let worker = top
        .lines()
        .find(|l| l.contains("nginx: worker process"))
        .unwrap();
    assert!(worker.contains(" nginx(host=101) "), "{top}");
    let sleeper = top.lines().find(|l| l.contains("sleep 3600")).unwrap();
    assert!(sleeper.contains(" 1000(host=1000) "), "{top}");
}

#[test]
fn top_reads_a_hostile_containers_passwd_without_trusting_it() {
    let env = PodEnv::new("sc-top-hostile");
    // The container swaps its /etc/passwd for a FIFO: a plain open would block `top`
    // forever. `top` looks at it without opening it, and names the uid without it.
    let yaml = r#"apiVersion: v1
kind: Pod
metadata: {name: hostile}
spec:
  containers:
  - name: fifo
    image: busybox:1.36
    command: ["sh", "-c", "rm /etc/passwd && mkfifo /etc/passwd && echo done && exec sleep 3600"]
"#;
    env.ok(&["apply", "-f", &env.manifest("p.yaml", yaml)]);
    logs_when_done(&env, "hostile", "fifo");
    // A hang is the failure: run it aside, and give up on it (killed) if it never ends.
    let mut child = env
        .mp
        .command(&[])
        .args(["top", "pod", "hostile", "--processes"])
        .env_remove("MINIPOD_ROOT")
        .stdout(std::process::Stdio::piped())
        .spawn_guarded();
    env.wait_for(30, "top to end (it must not open the FIFO)", || {
        child.try_wait().unwrap().is_some()
    });
    let out = child.wait_with_output().unwrap();
    let top = String::from_utf8_lossy(&out.stdout).into_owned();
    let sleeper = top.lines().find(|l| l.contains("sleep 3600")).unwrap();
    assert!(sleeper.contains(" root(host=0) "), "{top}");
}
