//! The Kubernetes documentation's controller examples, as they are: each is read and
//! its pods run from the local store's stand-in tags (`nginx:1.14.2`, `alpine:latest`,
//! made by `scripts/build-images.sh`); where an image is not in the store, apply says
//! which one and `describe` shows the controller's FailedCreate event naming it. A
//! DaemonSet whose image exists runs its one pod on this node, and `scale`, `set
//! image` and `rollout status|history|undo|pause|resume` work on a Deployment.
//! (application/basic-daemonset.yaml writes the host's /var/log through a hostPath:
//! scripts/k8s-examples.sh runs it only with --host-writes.)

mod common;
use common::pods::PodEnv;

fn example(path: &str) -> String {
    format!(
        "{}/../shared/k8s-examples/{path}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn documentation_examples_run_their_replicas() {
    let env = PodEnv::new("deploy-examples");
    for (file, line, replicas) in [
        (
            "controllers/nginx-deployment.yaml",
            "deployment.apps/nginx-deployment created",
            3,
        ),
        (
            "application/deployment.yaml",
            "deployment.apps/nginx-deployment created",
            2,
        ),
        (
            "application/deployment-sidecar.yaml",
            "deployment.apps/myapp created",
            1,
        ),
    ] {
        let out = env.run(&["apply", "-f", &example(file)]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{file}: {stderr}");
        assert_eq!(stdout.trim(), line, "{file}");
        assert!(!stderr.contains("Warning"), "{file}: {stderr}");
        env.wait_for(60, &format!("{file}: {replicas} pods Running"), || {
            let rows = env.ok(&["get", "pods", "--no-headers"]);
            rows.lines().filter(|row| row.contains("Running")).count() == replicas
        });
        let out = env.ok(&["delete", "-f", &example(file)]);
        assert!(out.contains("deleted"), "{out}");
        env.wait_for(60, &format!("{file}: its pods gone"), || {
            env.pods().is_empty()
        });
    }
}

const ABSENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: absent
spec:
  replicas: 2
  selector:
    matchLabels:
      app: absent
  template:
    metadata:
      labels:
        app: absent
    spec:
      containers:
      - name: c
        image: example.com/not-built-here:1.0
";

#[test]
fn a_controllers_pods_wait_in_image_pull_back_off_for_a_missing_image() {
    let env = PodEnv::new("deploy-absent");
    let file = env.manifest("absent.yaml", ABSENT);
    let out = env.run(&["apply", "-f", &file]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("Warning") && stderr.contains("example.com/not-built-here:1.0"),
        "no warning naming the image: {stderr}"
    );
    // As on a cluster: the ReplicaSet creates its pods, and they fail to pull.
    env.wait_for(30, "two pods in ErrImagePull or ImagePullBackOff", || {
        let rows = env.ok(&["get", "pods", "--no-headers"]);
        rows.lines()
            .filter(|r| r.contains("ErrImagePull") || r.contains("ImagePullBackOff"))
            .count()
            == 2
    });
    let pod = env.pods().remove(0);
    let page = env.ok(&["describe", "pod", &pod]);
    assert!(
        page.contains("Failed to pull image \"example.com/not-built-here:1.0\""),
        "{page}"
    );
    assert!(env.ok(&["describe", "rs"]).contains("SuccessfulCreate"));
    let out = env.ok(&["delete", "-f", &file]);
    assert!(out.contains("deleted"), "{out}");
    env.wait_for(20, "no ReplicaSet left", || {
        env.ok(&["get", "rs", "-o", "name"]).trim().is_empty()
    });
}

const DAEMON: &str = "apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: node-agent
spec:
  selector:
    matchLabels:
      app: node-agent
  template:
    metadata:
      labels:
        app: node-agent
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: agent
        image: busybox:1.36
        command: [sleep, '3600']
";

const WEB: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: nginx:1.17.8
---
apiVersion: v1
kind: Pod
metadata:
  name: loner
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: c
    image: busybox:1.36
    command: [sleep, '3600']
";

#[test]
fn a_daemon_set_on_this_node_and_the_rollout_verbs() {
    let env = PodEnv::new("deploy-verbs");
    let ds = env.manifest("ds.yaml", DAEMON);
    assert_eq!(
        env.ok(&["apply", "-f", &ds]).trim(),
        "daemonset.apps/node-agent created"
    );
    env.wait_for(30, "the DaemonSet's pod Running", || {
        env.ok(&["get", "pods", "-l", "app=node-agent", "--no-headers"])
            .contains("Running")
    });
    let pod = env.pods().remove(0);
    assert!(
        pod.starts_with("node-agent-") && pod.len() == "node-agent-".len() + 5,
        "{pod}"
    );
    let json = env.pod_json(&pod);
    assert_eq!(json["metadata"]["ownerReferences"][0]["kind"], "DaemonSet");
    let table = env.ok(&["get", "ds"]);
    assert!(
        table.starts_with(
            "NAME         DESIRED   CURRENT   READY   UP-TO-DATE   AVAILABLE   NODE SELECTOR   AGE"
        ),
        "{table}"
    );

    // maxSurge 1, maxUnavailable 0: the new pod starts beside the old one, and the
    // old one goes only once the new one is available (ready for minReadySeconds):
    // the node always has a daemon.
    let surge = env.manifest(
        "ds-surge.yaml",
        &DAEMON
            .replace(
                "spec:\n  selector:",
                "spec:\n  minReadySeconds: 2\n  updateStrategy:\n    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}\n  selector:",
            )
            .replace("'3600'", "'3601'"),
    );
    env.ok(&["apply", "-f", &surge]);
    let mut seen_both = false;
    env.wait_for(60, "the new daemon pod alone", || {
        let rows = env.ok(&["get", "pods", "-l", "app=node-agent", "--no-headers"]);
        let running = rows.lines().filter(|l| l.contains(" Running ")).count();
        assert!(running >= 1, "no daemon running during the update:\n{rows}");
        seen_both |= running == 2;
        let args = env.ok(&[
            "get",
            "pods",
            "-l",
            "app=node-agent",
            "-o",
            "jsonpath={.items[*].spec.containers[0].command[1]}",
        ]);
        args.trim() == "3601"
    });
    assert!(seen_both, "the new pod never ran beside the old one");
    env.ok(&["delete", "ds", "node-agent"]);
    env.wait_for(30, "the DaemonSet's pod gone", || env.pods().is_empty());

    // A file mixing a Deployment and a Pod: a Pod refused (a container name the API
    // server rejects) refuses the whole file, the Deployment included.
    let bad = env.manifest(
        "bad.yaml",
        &WEB.replace("  - name: c\n", "  - name: C_bad\n"),
    );
    let out = env.run(&["apply", "-f", &bad]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("C_bad"));
    assert!(env.ok(&["get", "deploy", "-o", "name"]).trim().is_empty());

    // A file mixing a Deployment and a Pod.
    let web = env.manifest("web.yaml", WEB);
    let out = env.ok(&["apply", "-f", &web]);
    assert!(
        out.contains("deployment.apps/web created") && out.contains("pod/loner created"),
        "{out}"
    );
    let status = env.ok(&["rollout", "status", "deploy/web"]);
    assert!(
        status
            .trim_end()
            .ends_with("deployment \"web\" successfully rolled out"),
        "{status}"
    );
    assert_eq!(
        env.ok(&["scale", "deploy/web", "--replicas=2"]).trim(),
        "deployment.apps/web scaled"
    );
    env.ok(&["rollout", "status", "deploy/web"]);
    assert_eq!(
        env.ok(&["set", "image", "deploy/web", "nginx=nginx:1.17.10"])
            .trim(),
        "deployment.apps/web image updated"
    );
    let status = env.ok(&["rollout", "status", "deploy/web"]);
    assert!(status.contains("successfully rolled out"), "{status}");
    let history = env.ok(&["rollout", "history", "deploy/web"]);
    assert!(
        history.contains("REVISION  CHANGE-CAUSE\n1         <none>\n2         <none>"),
        "{history}"
    );
    assert_eq!(
        env.ok(&["rollout", "undo", "deploy/web"]).trim(),
        "deployment.apps/web rolled back"
    );
    env.ok(&["rollout", "status", "deploy/web"]);
    // Rolled out; the last old pod may still be terminating a moment.
    env.wait_for(30, "two nginx:1.17.8 pods only", || {
        let images = env.ok(&[
            "get",
            "pods",
            "-l",
            "app=web",
            "-o",
            "jsonpath={.items[*].spec.containers[0].image}",
        ]);
        images.trim() == "nginx:1.17.8 nginx:1.17.8"
    });
    assert_eq!(
        env.ok(&["rollout", "pause", "deploy/web"]).trim(),
        "deployment.apps/web paused"
    );
    let again = env.run(&["rollout", "pause", "deploy/web"]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("is already paused"));
    assert_eq!(
        env.ok(&["rollout", "resume", "deploy/web"]).trim(),
        "deployment.apps/web resumed"
    );
    let wide = env.ok(&["get", "deploy", "-o", "wide"]);
    assert!(
        wide.contains("CONTAINERS   IMAGES         SELECTOR")
            && wide.contains("nginx:1.17.8   app=web"),
        "{wide}"
    );
    let events = env.ok(&["get", "events"]);
    assert!(
        events
            .lines()
            .any(|l| l.contains("ScalingReplicaSet") && l.contains("deployment/web ")),
        "{events}"
    );
    assert!(
        events
            .lines()
            .any(|l| l.contains("SuccessfulCreate") && l.contains("replicaset/web-")),
        "{events}"
    );
    let both = env.ok(&["get", "deploy,rs"]);
    assert!(
        both.starts_with("NAME ")
            && both.contains("\ndeployment.apps/web ")
            && both.contains("\n\nNAME ")
            && both.contains("\nreplicaset.apps/web-"),
        "{both}"
    );
    let all = env.ok(&["get", "all"]);
    assert!(
        all.contains("pod/loner")
            && all.contains("deployment.apps/web")
            && all.contains("replicaset.apps/web-"),
        "{all}"
    );
    // --cascade=orphan: the ReplicaSet and its pods stay, without an owner.
    env.ok(&["delete", "deploy", "web", "--cascade=orphan"]);
    let rs = env.ok(&["get", "rs", "-o", "json"]);
    let v: serde_json::Value = serde_json::from_str(&rs).unwrap();
    let live: Vec<&serde_json::Value> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["spec"]["replicas"] != 0)
        .collect();
    assert_eq!(live.len(), 1, "{rs}");
    assert!(live[0]["metadata"]["ownerReferences"].is_null(), "{rs}");
    // kubectl delete rs --all: every ReplicaSet of the namespace (the orphaned one
    // and the old, scaled-down ones), each with its line.
    let names: Vec<String> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    let out = env.ok(&["delete", "rs", "--all", "--cascade=foreground"]);
    for name in &names {
        assert!(
            out.contains(&format!("replicaset.apps \"{name}\" deleted")),
            "{out}"
        );
    }
    env.wait_for(30, "only the loner left", || env.pods() == ["loner"]);
    assert!(env.ok(&["get", "rs", "-o", "name"]).trim().is_empty());
}
