//! kubectl's verbs and their messages: create, apply (unchanged / configured /
//! forbidden), replace --force, get's output formats and selectors, logs --previous.

mod common;
use common::pods::PodEnv;

const POD: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web, tier: front}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    image: busybox:1.36
    command: ["sh", "-c", "echo started; sleep 3600"]
"#;

#[test]
fn create_apply_replace_and_get_speak_kubectl() {
    let env = PodEnv::new("verbs");
    let file = env.manifest("web.yaml", POD);
    assert_eq!(env.ok(&["create", "-f", &file]).trim(), "pod/web created");
    let out = env.run(&["create", "-f", &file]);
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("Error from server (AlreadyExists): error when creating \"{file}\": pods \"web\" already exists\n")
    );
    let nope = env.manifest("nope.yaml", &POD.replace("name: web", "name: nope"));
    let out = env.run(&["replace", "-f", &nope]);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("Error from server (NotFound): error when replacing \"{nope}\": pods \"nope\" not found\n")
    );
    assert_eq!(env.ok(&["apply", "-f", &file]).trim(), "pod/web unchanged");

    // Labels may change on a running pod; the spec may not.
    let relabeled = env.manifest("web2.yaml", &POD.replace("tier: front", "tier: back"));
    assert_eq!(
        env.ok(&["apply", "-f", &relabeled]).trim(),
        "pod/web configured"
    );
    let changed = env.manifest("web3.yaml", &POD.replace("sleep 3600", "sleep 7200"));
    let out = env.run(&["apply", "-f", &changed]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains(
        "The Pod \"web\" is invalid: spec: Forbidden: pod updates may not change fields"
    ));

    // get: selectors and formats.
    assert_eq!(
        env.ok(&["get", "pods", "-l", "tier=back", "-o", "name"])
            .trim(),
        "pod/web"
    );
    assert_eq!(
        env.ok(&["get", "pods", "-l", "tier=front", "-o", "name"])
            .trim(),
        ""
    );
    let wide = env.ok(&["get", "pods", "-o", "wide"]);
    assert!(
        wide.lines()
            .next()
            .unwrap_or("")
            .starts_with("NAME   READY   STATUS    RESTARTS   AGE   IP"),
        "{wide}"
    );
    // The IP column holds the pod's own IP (from its CNI network).
    let ip = env.pod_json("web")["status"]["podIP"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let row: Vec<&str> = wide
        .lines()
        .nth(1)
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(row.get(5).copied(), Some(ip.as_str()), "{wide}");
    // kubectl's columns: the IP column as wide as the IP plus three spaces.
    let header = wide.lines().next().unwrap_or("");
    let at = header.find(" IP ").map(|i| i + 1).unwrap_or(0);
    assert_eq!(
        &header[at..],
        format!(
            "{:<w$}NODE   NOMINATED NODE   READINESS GATES",
            "IP",
            w = ip.len() + 3
        ),
        "{wide}"
    );
    let yaml = env.ok(&["get", "pod", "web", "-o", "yaml"]);
    assert!(
        yaml.contains("kind: Pod")
            && yaml.contains("restartPolicy: Always")
            && yaml.contains("dnsPolicy: ClusterFirst"),
        "defaults shown: {yaml}"
    );
    assert!(yaml.contains("  phase: Running"));
    let missing = env.run(&["get", "pod", "nope"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr)
        .contains("Error from server (NotFound): pods \"nope\" not found"));

    // replace --force: delete and create again, with a new uid.
    let uid = env.pod_json("web")["metadata"]["uid"].clone();
    let out = env.ok(&["replace", "--force", "-f", &changed]);
    assert!(
        out.contains("pod \"web\" deleted") && out.contains("pod/web replaced"),
        "{out}"
    );
    assert_ne!(env.pod_json("web")["metadata"]["uid"], uid);

    // delete by file.
    assert_eq!(
        env.ok(&["delete", "-f", &changed, "--grace-period=0", "--force"])
            .trim(),
        "pod \"web\" force deleted"
    );
    let out = env.run(&["delete", "pod", "web"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("pods \"web\" not found"));
}

#[test]
fn a_crashing_container_restarts_and_logs_previous_shows_the_last_run() {
    let env = PodEnv::new("restart");
    let yaml = r#"
apiVersion: v1
kind: Pod
metadata: {name: crash}
spec:
  containers:
  - name: c
    image: busybox:1.36
    command: ["sh", "-c", "echo run at $(date +%s%N); exit 3"]
"#;
    let file = env.manifest("crash.yaml", yaml);
    env.ok(&["apply", "-f", &file]);
    // The first restart comes at once, then the back-off grows (kubelet's rule).
    env.wait_for(10, "a restart", || {
        env.pod_json("crash")["status"]["containerStatuses"][0]["restartCount"].as_u64() >= Some(1)
    });
    let pod = env.pod_json("crash");
    let c = &pod["status"]["containerStatuses"][0];
    let last = &c["lastState"]["terminated"];
    assert_eq!(last["exitCode"], 3);
    assert_eq!(last["reason"], "Error");
    let previous = env.ok(&["logs", "crash", "--previous"]);
    assert!(previous.starts_with("run at "), "{previous}");
    env.wait_for(15, "CrashLoopBackOff", || {
        env.row("crash").get(2).map(String::as_str) == Some("CrashLoopBackOff")
    });
}

#[test]
fn an_image_change_replaces_that_container_only() {
    let env = PodEnv::new("image-change");
    let yaml = r#"
apiVersion: v1
kind: Pod
metadata: {name: swap}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: a, image: busybox:1.36, command: ["sleep", "3600"]}
  - {name: b, image: busybox:1.36, command: ["sleep", "3600"]}
"#;
    env.ok(&["apply", "-f", &env.manifest("v1.yaml", yaml)]);
    let b_before = env.container_pid("swap", "b");
    let v2 = env.manifest(
        "v2.yaml",
        &yaml.replacen("image: busybox:1.36", "image: debian:12", 1),
    );
    assert_eq!(env.ok(&["apply", "-f", &v2]).trim(), "pod/swap configured");
    env.wait_for(10, "container a runs debian", || {
        env.run(&[
            "exec",
            "swap",
            "-c",
            "a",
            "--",
            "cat",
            "/etc/debian_version",
        ])
        .status
        .success()
    });
    let pod = env.pod_json("swap");
    let a = &pod["status"]["containerStatuses"][0];
    assert_eq!(a["image"], "debian:12");
    assert_eq!(a["restartCount"], 1);
    assert_eq!(
        env.container_pid("swap", "b"),
        b_before,
        "the other container is untouched"
    );
    assert_eq!(env.ok(&["apply", "-f", &v2]).trim(), "pod/swap unchanged");
}
