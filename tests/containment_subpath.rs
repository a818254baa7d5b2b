//! A container must not reach the host through a volume. The attacks of
//! CVE-2017-1002101 / CVE-2021-25741: one container (or an earlier pod) turns a part of
//! a volume into a symlink, and a later container mounts it as its `subPath`. Kubelet
//! refuses such a container (`CreateContainerConfigError`, "failed to prepare subPath
//! for volumeMount ...") and the pod's other containers run on. Also: no volume may
//! cover the container's /proc or /sys, and the kernel's sensitive files stay masked.

mod common;
use common::pods::PodEnv;
use common::TempDir;
use serde_json::Value;
use std::path::Path;

/// A host directory outside every volume, with a marker file in it (and in `b/`).
fn outside_dir(label: &str) -> TempDir {
    let dir = TempDir::new(label);
    std::fs::write(dir.path.join("marker"), "host secret\n").unwrap();
    std::fs::create_dir_all(dir.path.join("b")).unwrap();
    std::fs::write(dir.path.join("b/marker"), "host secret\n").unwrap();
    dir
}

fn container_state(env: &PodEnv, pod: &str, container: &str) -> Value {
    let p = env.pod_json(pod);
    for list in ["initContainerStatuses", "containerStatuses"] {
        for c in p["status"][list].as_array().cloned().unwrap_or_default() {
            if c["name"] == container {
                return c["state"].clone();
            }
        }
    }
    Value::Null
}

fn waiting_reason(env: &PodEnv, pod: &str, container: &str) -> String {
    container_state(env, pod, container)["waiting"]["reason"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn running(env: &PodEnv, pod: &str, container: &str) -> bool {
    container_state(env, pod, container)["running"].is_object()
}

/// What kubelet says when it refuses a subPath, plus the subPath itself.
fn assert_refusal_event(env: &PodEnv, pod: &str, volume: &str, container: &str, sub: &str) {
    let describe = env.ok(&["describe", "pod", pod]);
    let kubelet = format!(
        "Error: failed to prepare subPath for volumeMount \"{volume}\" of container \"{container}\""
    );
    let line = describe
        .lines()
        .find(|l| l.contains(&kubelet))
        .unwrap_or_else(|| panic!("no event {kubelet:?} in:\n{describe}"));
    assert!(line.contains("Warning"), "a Warning event: {line}");
    assert!(
        line.contains(&format!("subPath \"{sub}\"")),
        "the event names the subPath {sub:?}: {line}"
    );
    // The container's waiting message says the same.
    let message = container_state(env, pod, container)["waiting"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(message.contains(&kubelet[7..]), "{message}");
}

fn apply(env: &PodEnv, name: &str, yaml: &str) {
    let file = env.manifest(&format!("{name}.yaml"), yaml);
    env.ok(&["apply", "-f", &file]);
}

#[test]
fn an_empty_dir_sub_path_swapped_for_a_symlink_to_the_host_root_is_refused() {
    let env = PodEnv::new("sub-emptydir");
    let outside = outside_dir("sub-outside");
    let o = outside.path.display();
    // The manifest of the report, with a second container that must run on, and an
    // emptyDir `out` through which the user would see what the first one saw.
    apply(
        &env,
        "sub1",
        &format!(
            r#"
apiVersion: v1
kind: Pod
metadata: {{name: sub1}}
spec:
  initContainers:
  - {{name: prep, image: busybox:1.36, command: [sh, -c, "rmdir /data/esc; ln -s / /data/esc"],
     volumeMounts: [{{name: data, mountPath: /data}}]}}
  containers:
  - name: main
    image: busybox:1.36
    command: [sh, -c, "cat /hostroot{o}/marker > /out/seen 2>&1; echo pwned > /hostroot{o}/written; sleep 3600"]
    volumeMounts: [{{name: data, mountPath: /hostroot, subPath: esc}}, {{name: out, mountPath: /out}}]
  - name: side
    image: busybox:1.36
    command: [sleep, "3600"]
    volumeMounts: [{{name: out, mountPath: /out}}]
  volumes: [{{name: data, emptyDir: {{}}}}, {{name: out, emptyDir: {{}}}}]
"#
        ),
    );
    env.wait_for(30, "main refused, side running", || {
        waiting_reason(&env, "sub1", "main") == "CreateContainerConfigError"
            && running(&env, "sub1", "side")
    });
    let row = env.row("sub1");
    assert_eq!(row.get(1).map(String::as_str), Some("1/2"), "{row:?}");
    assert_eq!(
        row.get(2).map(String::as_str),
        Some("CreateContainerConfigError"),
        "{row:?}"
    );
    assert_refusal_event(&env, "sub1", "data", "main", "esc");

    // Nothing of the host was read or written through the volume.
    let seen = env.run(&["exec", "sub1", "-c", "side", "--", "ls", "-A", "/out"]);
    assert!(seen.status.success());
    assert_eq!(String::from_utf8_lossy(&seen.stdout), "", "main never ran");
    assert!(
        !outside.path.join("written").exists(),
        "a write reached the host"
    );
    // The refused container is not running: exec into it fails.
    assert!(!env
        .run(&["exec", "sub1", "-c", "main", "--", "ls", "/hostroot"])
        .status
        .success());

    // Deleting the pod removes its emptyDir, not what the symlink points to.
    env.ok(&["delete", "pod", "sub1", "--grace-period=0", "--force"]);
    assert_eq!(
        std::fs::read_to_string(outside.path.join("marker")).unwrap(),
        "host secret\n"
    );
}

#[test]
fn host_path_sub_paths_replaced_by_symlinks_by_an_earlier_pod_are_refused() {
    let env = PodEnv::new("sub-hostpath");
    let outside = outside_dir("sub-outside");
    let o = outside.path.display().to_string();
    // The hostPath lives at ROOT/hp: three levels below `/`, so `../../..` is `/`.
    let hp = env.root().join("hp");
    for d in ["to-root", "to-outside", "relative"] {
        std::fs::create_dir_all(hp.join(d)).unwrap();
    }
    std::fs::write(hp.join("settings.conf"), "a file subPath\n").unwrap();
    assert_eq!(hp.components().count(), 4, "{}", hp.display());

    // A first pod replaces the directories with symlinks out of the volume.
    apply(
        &env,
        "attacker",
        &format!(
            r#"
apiVersion: v1
kind: Pod
metadata: {{name: attacker}}
spec:
  restartPolicy: Never
  containers:
  - name: swap
    image: busybox:1.36
    command: [sh, -c, "set -e; cd /h; rmdir to-root to-outside relative; ln -s / to-root; ln -s {o} to-outside; ln -s ../../.. relative; ln -s {o} a"]
    volumeMounts: [{{name: h, mountPath: /h}}]
  volumes: [{{name: h, hostPath: {{path: {hp}, type: Directory}}}}]
"#,
            hp = hp.display()
        ),
    );
    env.wait_for(30, "the attacker pod is done", || {
        env.pod_json("attacker")["status"]["phase"] == "Succeeded"
    });
    assert!(hp.join("relative").is_symlink() && hp.join("a").is_symlink());

    // The second pod mounts them as subPaths; `ok` shows an honest subPath still works.
    let main = |name: &str, sub: &str, seen: &str, write: &str| {
        format!(
            r#"
  - name: {name}
    image: busybox:1.36
    command: [sh, -c, "cat {seen} > /out/{name} 2>&1; echo pwned > {write}; sleep 3600"]
    volumeMounts: [{{name: h, mountPath: /x, subPath: {sub}}}, {{name: out, mountPath: /out}}]"#
        )
    };
    let containers = [
        main(
            "root",
            "to-root",
            &format!("/x{o}/marker"),
            &format!("/x{o}/written"),
        ),
        main("abs", "to-outside", "/x/marker", "/x/written"),
        main(
            "rel",
            "relative",
            &format!("/x{o}/marker"),
            &format!("/x{o}/written-rel"),
        ),
        main("mid", "a/b", "/x/marker", "/x/written"),
    ]
    .concat();
    apply(
        &env,
        "victim",
        &format!(
            r#"
apiVersion: v1
kind: Pod
metadata: {{name: victim}}
spec:
  containers:{containers}
  - name: side
    image: busybox:1.36
    command: [sh, -c, "echo fine > /ok/file; sleep 3600"]
    volumeMounts:
    - {{name: h, mountPath: /ok, subPath: ok/dir}}
    - {{name: h, mountPath: /etc/app.conf, subPath: settings.conf, readOnly: true}}
    - {{name: out, mountPath: /out}}
  volumes:
  - {{name: h, hostPath: {{path: {hp}, type: Directory}}}}
  - {{name: out, emptyDir: {{}}}}
"#,
            hp = hp.display()
        ),
    );
    let bad = [
        ("root", "to-root"),
        ("abs", "to-outside"),
        ("rel", "relative"),
        ("mid", "a/b"),
    ];
    env.wait_for(30, "every escaping container refused, side running", || {
        bad.iter()
            .all(|(c, _)| waiting_reason(&env, "victim", c) == "CreateContainerConfigError")
            && running(&env, "victim", "side")
    });
    let row = env.row("victim");
    assert_eq!(row.get(1).map(String::as_str), Some("1/5"), "{row:?}");
    assert_eq!(
        row.get(2).map(String::as_str),
        Some("CreateContainerConfigError"),
        "{row:?}"
    );
    for (c, sub) in bad {
        assert_refusal_event(&env, "victim", "h", c, sub);
    }

    // The honest subPath was created inside the volume and works.
    env.wait_for(10, "side wrote through its subPath", || {
        std::fs::read_to_string(hp.join("ok/dir/file"))
            .ok()
            .as_deref()
            == Some("fine\n")
    });
    // A file subPath is mounted as a file.
    let conf = env.run(&["exec", "victim", "-c", "side", "--", "cat", "/etc/app.conf"]);
    assert_eq!(String::from_utf8_lossy(&conf.stdout), "a file subPath\n");
    // Nothing of the host was read or written.
    let seen = env.run(&["exec", "victim", "-c", "side", "--", "ls", "-A", "/out"]);
    assert!(seen.status.success());
    assert_eq!(String::from_utf8_lossy(&seen.stdout), "", "no main ran");
    for f in ["written", "written-rel", "b/written"] {
        assert!(!outside.path.join(f).exists(), "{f} reached the host");
    }
    assert!(!Path::new(&format!("{o}/written")).exists());
}

#[test]
fn an_init_container_with_an_escaping_sub_path_holds_the_pod_in_init() {
    let env = PodEnv::new("sub-init");
    let outside = outside_dir("sub-outside");
    // The host directory already holds the symlink (left by an earlier pod).
    let hp = env.root().join("hp");
    std::fs::create_dir_all(&hp).unwrap();
    std::os::unix::fs::symlink(&outside.path, hp.join("sub")).unwrap();
    apply(
        &env,
        "held",
        &format!(
            r#"
apiVersion: v1
kind: Pod
metadata: {{name: held}}
spec:
  initContainers:
  - name: setup
    image: busybox:1.36
    command: [sh, -c, "echo pwned > /x/written"]
    volumeMounts: [{{name: h, mountPath: /x, subPath: sub}}]
  containers:
  - {{name: app, image: busybox:1.36, command: [sleep, "3600"]}}
  volumes: [{{name: h, hostPath: {{path: {hp}}}}}]
"#,
            hp = hp.display()
        ),
    );
    env.wait_for(30, "the init container refused", || {
        waiting_reason(&env, "held", "setup") == "CreateContainerConfigError"
    });
    let row = env.row("held");
    assert_eq!(
        row.get(2).map(String::as_str),
        Some("Init:CreateContainerConfigError"),
        "{row:?}"
    );
    assert_eq!(env.pod_json("held")["status"]["phase"], "Pending");
    assert!(!running(&env, "held", "app"), "the app waits for its init");
    assert_refusal_event(&env, "held", "h", "setup", "sub");
    assert!(!outside.path.join("written").exists());
}

#[test]
fn a_sub_path_swapped_back_and_forth_never_lets_a_restart_through() {
    // CVE-2021-25741 is a race: the subPath is a directory when checked and a symlink
    // when mounted. A container swaps it without pause (renaming the directory away and
    // back, a symlink to / in between) while another restarts.
    std::env::set_var("MINIPOD_BACKOFF_SECONDS", "1");
    // A start the race makes fail (the subPath refused) counts no restart but doubles
    // the back-off: capped at 2 s, a few restarts come within the wait below whatever
    // the swapper's timing.
    std::env::set_var("MINIPOD_BACKOFF_MAX_SECONDS", "2");
    let env = PodEnv::new("sub-race");
    let outside = outside_dir("sub-outside");
    let o = outside.path.display();
    apply(
        &env,
        "race",
        &format!(
            r#"
apiVersion: v1
kind: Pod
metadata: {{name: race}}
spec:
  # Past the init stage, a start that fails is the container's StartError, not the
  # apply's.
  initContainers:
  - {{name: init, image: busybox:1.36, command: ["true"]}}
  containers:
  - name: swapper
    image: busybox:1.36
    command: [sh, -c, "cd /data; mkdir -p keep/real; while true; do mv keep/real sub; mv sub keep/real; ln -s / sub; rm sub; done"]
    volumeMounts: [{{name: data, mountPath: /data}}, {{name: out, mountPath: /out}}]
  - name: victim
    image: busybox:1.36
    command: [sh, -c, "cat /x{o}/marker >> /out/leak 2>/dev/null; echo pwned > /x{o}/written 2>/dev/null; exit 1"]
    volumeMounts: [{{name: data, mountPath: /x, subPath: sub}}, {{name: out, mountPath: /out}}]
  volumes: [{{name: data, emptyDir: {{}}}}, {{name: out, emptyDir: {{}}}}]
"#
        ),
    );
    env.wait_for(60, "the victim restarted a few times", || {
        let st = env.pod_json("race");
        st["status"]["containerStatuses"]
            .as_array()
            .and_then(|a| a.iter().find(|c| c["name"] == "victim").cloned())
            .and_then(|c| c["restartCount"].as_u64())
            >= Some(3)
    });
    let leak = env.run(&[
        "exec",
        "race",
        "-c",
        "swapper",
        "--",
        "sh",
        "-c",
        "cat /out/leak 2>/dev/null; true",
    ]);
    assert_eq!(String::from_utf8_lossy(&leak.stdout), "");
    assert!(
        !outside.path.join("written").exists(),
        "a restart reached the host"
    );
}

/// The message of the last time `container` failed to start.
fn start_error(env: &PodEnv, pod: &str, container: &str) -> String {
    let p = env.pod_json(pod);
    let c = p["status"]["containerStatuses"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == container).cloned())
        .unwrap_or_default();
    let t = if c["state"]["terminated"].is_object() {
        &c["state"]["terminated"]
    } else {
        &c["lastState"]["terminated"]
    };
    t["message"].as_str().unwrap_or_default().to_string()
}

#[test]
fn a_volume_that_resolves_onto_proc_is_refused_by_the_runtime() {
    let env = PodEnv::new("sub-procfs");
    // `/x/p` passes validation, but an init container made `p` a symlink to /proc:
    // resolved inside the rootfs, the second volume would cover the container's procfs.
    // Likewise `/y/r`, with `r` a symlink to `/`: it would cover the whole container.
    apply(
        &env,
        "cover",
        r#"
apiVersion: v1
kind: Pod
metadata: {name: cover}
spec:
  initContainers:
  - {name: prep, image: busybox:1.36, command: [sh, -c, "ln -s /proc /data/p && ln -s / /data/r"],
     volumeMounts: [{name: data, mountPath: /data}]}
  containers:
  - name: main
    image: busybox:1.36
    command: [sleep, "3600"]
    volumeMounts: [{name: data, mountPath: /x}, {name: fake, mountPath: /x/p}]
  - name: root
    image: busybox:1.36
    command: [sleep, "3600"]
    volumeMounts: [{name: data, mountPath: /y}, {name: fake, mountPath: /y/r}]
  - name: side
    image: busybox:1.36
    command: [sleep, "3600"]
  volumes: [{name: data, emptyDir: {}}, {name: fake, emptyDir: {}}]
"#,
    );
    env.wait_for(30, "main and root failed to start, side running", || {
        start_error(&env, "cover", "main")
            .contains("/x/p cannot be mounted because it is inside /proc")
            && start_error(&env, "cover", "root")
                .contains("/y/r cannot be mounted because it is the container's /")
            && running(&env, "cover", "side")
    });
    assert!(!running(&env, "cover", "main"));
    assert!(!running(&env, "cover", "root"));
}

#[test]
fn a_volume_on_proc_or_sys_is_refused_at_apply() {
    let env = PodEnv::new("sub-procpath");
    for (mount_path, why) in [
        ("/proc", r#""/proc" is inside /proc"#),
        ("/proc/sys/kernel", r#""/proc/sys/kernel" is inside /proc"#),
        ("/sys/", r#""/sys" is inside /sys"#),
        ("//tmp/../sys/fs", r#""/sys/fs" is inside /sys"#),
        ("/./proc/.", r#""/proc" is inside /proc"#),
        ("/", r#""/" covers /proc and /sys"#),
    ] {
        let yaml = format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: onproc}}\nspec:\n  containers:\n  - name: c\n    image: busybox:1.36\n    volumeMounts: [{{name: v, mountPath: \"{mount_path}\"}}]\n  volumes: [{{name: v, emptyDir: {{}}}}]\n"
        );
        let file = env.manifest("onproc.yaml", &yaml);
        let err = env.mp.fails(&["apply", "-f", &file]);
        assert!(
            err.contains("spec.containers[0].volumeMounts[0].mountPath") && err.contains(why),
            "{mount_path}: {err}"
        );
        assert!(env.pods().is_empty(), "apply created nothing");
    }
}

#[test]
fn masked_and_read_only_kernel_files_stay_hidden() {
    let env = PodEnv::new("sub-masked");
    apply(
        &env,
        "masked",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: masked}\nspec:\n  containers:\n  - {name: c, image: busybox:1.36, command: [sleep, \"3600\"]}\n",
    );
    env.wait_for(20, "running", || running(&env, "masked", "c"));
    let sh = |cmd: &str| env.run(&["exec", "masked", "--", "sh", "-c", cmd]);
    let mounts = String::from_utf8_lossy(&sh("cat /proc/mounts").stdout).into_owned();
    let covered = |path: &str| mounts.lines().any(|l| l.split(' ').nth(1) == Some(path));

    // Every masked path this kernel has reads as nothing inside the container (this
    // kernel has no /proc/kcore; /proc/keys and /sys/firmware it has).
    assert!(Path::new("/proc/keys").exists() && Path::new("/sys/firmware").exists());
    for path in [
        "/proc/acpi",
        "/proc/asound",
        "/proc/kcore",
        "/proc/keys",
        "/proc/latency_stats",
        "/proc/timer_list",
        "/proc/timer_stats",
        "/proc/sched_debug",
        "/proc/scsi",
        "/sys/firmware",
        "/sys/devices/virtual/powercap",
    ] {
        let host = Path::new(path);
        if !host.exists() {
            continue;
        }
        let cmd = if host.is_dir() {
            format!("ls -A {path} | wc -l")
        } else {
            format!("cat {path} | wc -c")
        };
        let out = sh(&cmd);
        assert!(out.status.success(), "{cmd}: {out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0", "{path}");
        assert!(covered(path), "{path} not masked:\n{mounts}");
    }

    // Read-only: the magic SysRq key (where the kernel has it) and the sysctls.
    let out = sh("echo h > /proc/sysrq-trigger");
    assert!(!out.status.success(), "wrote /proc/sysrq-trigger");
    if Path::new("/proc/sysrq-trigger").exists() {
        assert!(covered("/proc/sysrq-trigger"), "{mounts}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("Read-only file system"),
            "{out:?}"
        );
    }
    // Writing a sysctl back to its own value: harmless, and refused.
    let out = sh("v=$(cat /proc/sys/vm/swappiness) && echo $v > /proc/sys/vm/swappiness");
    assert!(!out.status.success(), "wrote /proc/sys");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Read-only file system"),
        "{out:?}"
    );
    assert!(covered("/proc/sys"), "{mounts}");
}
