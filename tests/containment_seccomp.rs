//! seccomp: what a container may ask of the kernel at all. Without a filter a container
//! (root, 14 capabilities) can make a user namespace and, inside it, mount; read the
//! host root's keyring with keyctl. Under RuntimeDefault (minipod's default, like
//! kubelet's SeccompDefault) these fail with EPERM; `Unconfined` lifts the filter;
//! `Localhost` loads a profile from `<root>/seccomp/`.

mod common;
use common::pods::PodEnv;

/// Tries what the default profile forbids; one line per attempt, then `done`.
const ATTACKS: &str = r#"
try() { what=$1; shift; if out=$("$@" 2>&1); then echo "$what allowed"; else echo "$what refused: $out"; fi; }
try userns unshare -U true
try mount unshare -Urm sh -c 'mount -t tmpfs t /tmp'
echo done
sleep 3600
"#;

/// keyctl and clone3 have no command-line tool in the images: Debian's perl calls them
/// by number (x86_64: keyctl 250, clone3 435) and prints the result and errno.
const SYSCALLS: &str = r#"
perl -e '$r = syscall(250, 0, -4, 0); print "keyctl $r $!\n"; $r = syscall(435, 0, 0); print "clone3 $r $!\n"'
echo done
sleep 3600
"#;

fn pod(name: &str, pod_profile: &str, containers: &[(&str, &str, &str, &str)]) -> String {
    let mut yaml = format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n");
    if !pod_profile.is_empty() {
        yaml.push_str(&format!(
            "  securityContext:\n    seccompProfile: {pod_profile}\n"
        ));
    }
    yaml.push_str("  containers:\n");
    for (cname, image, profile, script) in containers {
        yaml.push_str(&format!(
            "  - name: {cname}\n    image: {image}\n    command: [\"sh\", \"-c\", {script:?}]\n"
        ));
        if !profile.is_empty() {
            yaml.push_str(&format!(
                "    securityContext:\n      seccompProfile: {profile}\n"
            ));
        }
    }
    yaml
}

fn logs_when_done(env: &PodEnv, pod: &str, container: &str) -> String {
    let mut logs = String::new();
    env.wait_for(
        20,
        &format!("{pod}/{container} to finish its attempts"),
        || {
            logs = env.ok(&["logs", pod, "-c", container]);
            logs.lines().any(|l| l == "done")
        },
    );
    logs
}

fn line<'a>(logs: &'a str, what: &str) -> &'a str {
    logs.lines()
        .find(|l| l.starts_with(&format!("{what} ")))
        .unwrap_or_default()
}

#[test]
fn runtime_default_refuses_namespaces_mount_and_keyctl() {
    let env = PodEnv::new("seccomp-default");
    let yaml = pod(
        "confined",
        "",
        &[
            ("attacks", "busybox:1.36", "", ATTACKS),
            ("syscalls", "debian:12", "", SYSCALLS),
        ],
    );
    env.ok(&["apply", "-f", &env.manifest("p.yaml", &yaml)]);
    let logs = logs_when_done(&env, "confined", "attacks");
    for what in ["userns", "mount"] {
        let l = line(&logs, what);
        assert!(
            l.contains("refused") && l.contains("Operation not permitted"),
            "{what}: {l:?}\n{logs}"
        );
    }
    // kubectl exec gets the container's filter too.
    let out = env.run(&[
        "exec", "confined", "-c", "attacks", "--", "unshare", "-U", "true",
    ]);
    assert!(!out.status.success(), "unshare -U worked through exec");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Operation not permitted"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let logs = logs_when_done(&env, "confined", "syscalls");
    assert_eq!(line(&logs, "keyctl"), "keyctl -1 Operation not permitted");
    // clone3 answers ENOSYS so that libc falls back to clone (which the filter checks).
    assert_eq!(line(&logs, "clone3"), "clone3 -1 Function not implemented");

    // The narration tells which filter went on.
    let steps = env.ok(&["explain", "pod", "confined", "--steps"]);
    assert!(
        steps.contains("seccomp(SECCOMP_SET_MODE_FILTER): ")
            && steps.contains(" rules, default ERRNO(EPERM)"),
        "{steps}"
    );
    // describe says which profile each container runs under, and why.
    let described = env.ok(&["describe", "pod", "confined"]);
    assert!(
        described.contains("SeccompProfile: RuntimeDefault"),
        "{described}"
    );
    // The filter is in the container's spec, compiled from the default profile.
    let spec = env.bundle_spec("confined", "attacks");
    assert_eq!(spec["linux"]["seccomp"]["defaultAction"], "SCMP_ACT_ERRNO");
}

#[test]
fn unconfined_allows_what_the_default_forbids_and_containers_override_the_pod() {
    let env = PodEnv::new("seccomp-unconfined");
    let yaml = pod(
        "mixed",
        "{type: Unconfined}",
        &[
            ("free", "busybox:1.36", "", ATTACKS),
            ("held", "busybox:1.36", "{type: RuntimeDefault}", ATTACKS),
        ],
    );
    env.ok(&["apply", "-f", &env.manifest("p.yaml", &yaml)]);
    let free = logs_when_done(&env, "mixed", "free");
    assert_eq!(line(&free, "userns"), "userns allowed", "{free}");
    assert_eq!(line(&free, "mount"), "mount allowed", "{free}");
    let held = logs_when_done(&env, "mixed", "held");
    assert!(
        line(&held, "userns").contains("Operation not permitted"),
        "{held}"
    );

    let described = env.ok(&["describe", "pod", "mixed"]);
    assert!(
        described.contains("SeccompProfile: Unconfined"),
        "{described}"
    );
    assert!(
        described.contains("SeccompProfile: RuntimeDefault"),
        "{described}"
    );
    let explained = env.ok(&["explain", "pod", "mixed"]);
    // explain reads the kernel's view: no filter on one, a filter on the other.
    let security = explained
        .split("What each container may ask of the kernel")
        .nth(1)
        .unwrap_or_default();
    let row = |name: &str| {
        security
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{name} ")))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        row("free").contains("Unconfined") && row("free").contains("disabled"),
        "{explained}"
    );
    assert!(
        row("held").contains("RuntimeDefault") && row("held").contains("filter"),
        "{explained}"
    );
    assert!(row("held").contains("NET_BIND_SERVICE"), "{explained}");
    assert!(!row("held").contains("SYS_ADMIN"), "{explained}");
}

#[test]
fn a_localhost_profile_is_loaded_from_the_state_root() {
    let env = PodEnv::new("seccomp-localhost");
    let dir = env.root().join("seccomp/profiles");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("deny-mkdir.json"),
        r#"{
  "defaultAction": "SCMP_ACT_ALLOW",
  "syscalls": [
    {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}
  ]
}"#,
    )
    .unwrap();
    let script = r#"
try() { what=$1; shift; if out=$("$@" 2>&1); then echo "$what allowed"; else echo "$what refused: $out"; fi; }
try mkdir mkdir /tmp/x
try touch touch /tmp/y
echo done
sleep 3600
"#;
    let yaml = pod(
        "local",
        "",
        &[(
            "c",
            "busybox:1.36",
            "{type: Localhost, localhostProfile: profiles/deny-mkdir.json}",
            script,
        )],
    );
    env.ok(&["apply", "-f", &env.manifest("p.yaml", &yaml)]);
    let logs = logs_when_done(&env, "local", "c");
    let l = line(&logs, "mkdir");
    assert!(l.contains("Operation not permitted"), "{logs}");
    assert_eq!(line(&logs, "touch"), "touch allowed", "{logs}");
    let described = env.ok(&["describe", "pod", "local"]);
    assert!(
        described.contains("SeccompProfile: Localhost (profiles/deny-mkdir.json)"),
        "{described}"
    );

    // A profile that is not there: nothing is created, the error names the file.
    let yaml = pod(
        "missing",
        "{type: Localhost, localhostProfile: nowhere.json}",
        &[("c", "busybox:1.36", "", "sleep 3600")],
    );
    let out = env.run(&["apply", "-f", &env.manifest("m.yaml", &yaml)]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let path = env.root().join("seccomp/nowhere.json");
    assert!(err.contains(&path.display().to_string()), "{err}");
    assert!(err.contains("CreateContainerConfigError"), "{err}");
    assert!(!env.pods().contains(&"missing".to_string()));
}

#[test]
fn seccomp_profiles_are_validated_like_the_api_server() {
    let env = PodEnv::new("seccomp-validate");
    let cases = [
        (
            "{type: Localhost}",
            "spec.securityContext.seccompProfile.localhostProfile: Required value: must be set when seccomp type is Localhost",
        ),
        (
            "{type: Sometimes}",
            "spec.securityContext.seccompProfile.type: Unsupported value: \"Sometimes\": supported values: \"Localhost\", \"RuntimeDefault\", \"Unconfined\"",
        ),
        (
            "{type: Unconfined, localhostProfile: x.json}",
            "spec.securityContext.seccompProfile.localhostProfile: Invalid value: \"x.json\": can only be set when seccomp type is Localhost",
        ),
        (
            "{type: Localhost, localhostProfile: ../x.json}",
            "spec.securityContext.seccompProfile.localhostProfile: Invalid value: \"../x.json\": must not contain '..'",
        ),
        (
            "{type: Localhost, localhostProfile: /etc/x.json}",
            "spec.securityContext.seccompProfile.localhostProfile: Invalid value: \"/etc/x.json\": must be a relative path",
        ),
    ];
    for (profile, message) in cases {
        let yaml = pod("v", profile, &[("c", "busybox:1.36", "", "true")]);
        let out = env.run(&["apply", "-f", &env.manifest("v.yaml", &yaml)]);
        assert!(!out.status.success(), "{profile} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(message), "{profile}: {err}");
    }
    // The container level is checked too, under its own path.
    let yaml = pod(
        "v",
        "",
        &[("c", "busybox:1.36", "{type: Localhost}", "true")],
    );
    let out = env.run(&["apply", "-f", &env.manifest("v.yaml", &yaml)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "spec.containers[0].securityContext.seccompProfile.localhostProfile: Required value"
        ),
        "{err}"
    );
    // A securityContext field this host cannot honour is refused by name.
    let yaml = "apiVersion: v1\nkind: Pod\nmetadata: {name: v}\nspec:\n  securityContext: {seLinuxOptions: {level: s0}}\n  containers: [{name: c, image: busybox:1.36}]\n";
    let out = env.run(&["apply", "-f", &env.manifest("v.yaml", yaml)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("spec.securityContext.seLinuxOptions"), "{err}");
}

#[test]
fn the_node_default_can_be_unconfined_like_a_stock_kubelet() {
    let env = PodEnv::new("seccomp-node-default");
    let yaml = pod("plain", "", &[("c", "busybox:1.36", "", ATTACKS)]);
    let out = env
        .mp
        .command(&[])
        .args(["apply", "-f", &env.manifest("p.yaml", &yaml)])
        .env_remove("MINIPOD_ROOT")
        .env("MINIPOD_SECCOMP_DEFAULT", "Unconfined")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let logs = logs_when_done(&env, "plain", "c");
    assert_eq!(line(&logs, "userns"), "userns allowed", "{logs}");
    // describe runs without the variable and still tells what the pod got.
    let described = env.ok(&["describe", "pod", "plain"]);
    assert!(
        described.contains("SeccompProfile: Unconfined"),
        "{described}"
    );

    let out = env
        .mp
        .command(&[])
        .args([
            "apply",
            "-f",
            &env.manifest("q.yaml", &yaml.replace("plain", "other")),
        ])
        .env_remove("MINIPOD_ROOT")
        .env("MINIPOD_SECCOMP_DEFAULT", "Sometimes")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("MINIPOD_SECCOMP_DEFAULT"));
}
