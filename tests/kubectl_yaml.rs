//! `minipod get pod X -o yaml | minipod apply -f -` says `pod/X unchanged`, as
//! kubectl does, for every pod minipod runs from examples/, docs/lessons/manifests/
//! and the Kubernetes documentation's examples (shared/k8s-examples), with their
//! images played by the local busybox, nginx and debian.

mod common;
use common::pods::PodEnv;
use common::spawned::SpawnGuarded as _;
use std::io::Write as _;
use std::process::Stdio;

/// The local image that plays an example's image, or None (not run here).
fn local_image(image: &str) -> Option<&'static str> {
    let name = image.rsplit('/').next().unwrap_or(image);
    let repo = name.split([':', '@']).next().unwrap_or(name);
    match repo {
        "busybox" | "alpine" => Some("busybox:1.36"),
        "nginx" => Some("nginx:1.27"),
        "debian" => Some("debian:12"),
        _ => None,
    }
}

/// Every `image:` of a manifest replaced by its local player; None when one has none.
fn with_local_images(yaml: &str) -> Option<String> {
    let mut out = String::new();
    for line in yaml.lines() {
        let trimmed = line.trim_start().trim_start_matches("- ");
        if let Some(image) = trimmed.strip_prefix("image:") {
            let image = image.trim().trim_matches(['"', '\'', ',']);
            let local = local_image(image)?;
            out.push_str(&line.replace(image, local));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    Some(out)
}

fn manifests() -> Vec<(String, String)> {
    let repo = env!("CARGO_MANIFEST_DIR");
    let mut files = Vec::new();
    for dir in ["examples", "docs/lessons/manifests"] {
        let mut names: Vec<_> = std::fs::read_dir(format!("{repo}/{dir}"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        files.extend(names);
    }
    let index =
        std::fs::read_to_string(format!("{repo}/../shared/k8s-examples/INDEX.tsv")).unwrap();
    for row in index.lines().skip(1) {
        let cols: Vec<&str> = row.split('\t').collect();
        if cols.get(2) == Some(&"Pod") && cols.get(5) == Some(&"runs") {
            files.push(format!("{repo}/../shared/k8s-examples/{}", cols[0]).into());
        }
    }
    files
        .into_iter()
        .filter_map(|path| {
            let text = std::fs::read_to_string(&path).ok()?;
            let is_pod = text.contains("kind: Pod") || text.contains("kind: \"Pod\"");
            let local = with_local_images(&text)?;
            is_pod.then(|| (path.display().to_string(), local))
        })
        .collect()
}

fn apply_stdin(env: &PodEnv, yaml: &str) -> (bool, String, String) {
    let mut child = env
        .mp
        .command(&[])
        .args(["apply", "-f", "-"])
        .env_remove("MINIPOD_ROOT")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn_guarded();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(yaml.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The namespaces a manifest names (they must exist before its pods).
fn namespaces_of(yaml: &str) -> Vec<String> {
    yaml.lines()
        .filter_map(|l| l.trim().strip_prefix("namespace:"))
        .map(|ns| ns.trim().trim_matches(['"', '\'', ',']).to_string())
        .filter(|ns| ns != "default")
        .collect()
}

/// Every pod, as (namespace, name).
fn pods(env: &PodEnv) -> Vec<(String, String)> {
    let list: serde_json::Value =
        serde_json::from_str(&env.ok(&["get", "pods", "-A", "-o", "json"])).unwrap();
    let items = list["items"].as_array().cloned().unwrap_or_default();
    items
        .iter()
        .map(|p| {
            let meta = &p["metadata"];
            let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
            (text(&meta["namespace"]), text(&meta["name"]))
        })
        .collect()
}

#[test]
fn get_o_yaml_of_every_pod_applies_back_unchanged() {
    let env = PodEnv::new("yaml-back");
    let mut round_tripped = Vec::new();
    let mut not_run = Vec::new();
    for (path, yaml) in manifests() {
        let file = env.manifest("m.yaml", &yaml);
        for ns in namespaces_of(&yaml) {
            let _ = env.run(&["create", "namespace", &ns]);
        }
        let out = env.run(&["apply", "-f", &file]);
        if !out.status.success() {
            not_run.push(format!("{path}: {}", String::from_utf8_lossy(&out.stderr)));
            continue;
        }
        for (ns, pod) in pods(&env) {
            let shown = env.ok(&["get", "pod", &pod, "-n", &ns, "-o", "yaml"]);
            let (ok, stdout, stderr) = apply_stdin(&env, &shown);
            assert!(
                ok && stdout == format!("pod/{pod} unchanged\n"),
                "{path}: get -o yaml | apply -f - gave {stdout:?} {stderr:?}\n{shown}"
            );
            round_tripped.push(pod.clone());
            env.ok(&[
                "delete",
                "pod",
                &pod,
                "-n",
                &ns,
                "--grace-period=0",
                "--force",
            ]);
        }
    }
    eprintln!("round-tripped: {round_tripped:?}\nnot run: {not_run:#?}");
    // The seed's sidecar (a multi-line `sh -c` script) and the documentation's
    // multi-line examples are among them.
    for must in ["sidecar-pod", "two-containers", "counter", "init-demo"] {
        assert!(
            round_tripped.iter().any(|p| p == must),
            "{must} did not round-trip; ran {round_tripped:?}; not run: {not_run:#?}"
        );
    }
    assert!(
        round_tripped.len() >= 15,
        "{round_tripped:?}\nnot run: {not_run:#?}"
    );
}
