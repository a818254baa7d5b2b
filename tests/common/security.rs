//! Helpers of the securityContext tests: a shell `try` that reports each attempt,
//! logs read until a container says `done`, a root-only host directory to attack,
//! and a store of its own with busybox tagged as the documentation's images.

use super::pods::PodEnv;
use std::os::unix::fs::PermissionsExt;

/// `try WHAT CMD...` prints `WHAT allowed` or `WHAT refused: <error>`.
pub const TRY: &str = r#"try() { what=$1; shift; if out=$("$@" 2>&1); then echo "$what allowed: $out"; else echo "$what refused: $out"; fi; }
"#;

pub fn logs_when_done(env: &PodEnv, pod: &str, container: &str) -> String {
    let mut logs = String::new();
    env.wait_for(30, &format!("{pod}/{container} to print done"), || {
        let out = env.run(&["logs", pod, "-c", container]);
        logs = String::from_utf8_lossy(&out.stdout).into_owned();
        logs.lines().any(|l| l == "done")
    });
    logs
}

pub fn line<'a>(logs: &'a str, what: &str) -> &'a str {
    logs.lines()
        .find(|l| l.starts_with(&format!("{what} ")))
        .unwrap_or_default()
}

/// A host directory owned by root (0755) holding a root-only file (0600).
pub fn host_dir(env: &PodEnv) -> std::path::PathBuf {
    let dir = env.root().join("host-data");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(dir.join("secret"), b"host secret\n").unwrap();
    std::fs::set_permissions(dir.join("secret"), std::fs::Permissions::from_mode(0o600)).unwrap();
    dir
}

pub fn script(body: &str) -> String {
    format!("{TRY}{body}\necho done\nsleep 3600\n")
}

/// A pod environment with a store of its own: busybox loaded from the image build
/// cache, tagged as the stand-in for the documentation's images minipod has not got.
pub fn standin_env(label: &str) -> PodEnv {
    let env = PodEnv {
        mp: super::Minipod::new(label),
    };
    let images = super::pods::shared_images();
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

pub fn example(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../shared/k8s-examples/pods/security/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// The web servers' stand-in (busybox) has no server to run: give it `sleep`.
pub fn with_sleep(yaml: &str) -> String {
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

pub fn exec(env: &PodEnv, pod: &str, cmd: &[&str]) -> String {
    let mut args = vec!["exec", pod, "--"];
    args.extend_from_slice(cmd);
    env.ok(&args)
}

/// The host ids a process runs under: the real uid of `/proc/PID/status`.
pub fn host_uid(pid: i32) -> u32 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|v| v.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap()
}
