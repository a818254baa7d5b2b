//! Namespaces are objects, as on a cluster: `default` is always there, others are
//! created and deleted (with what is in them), and a manifest for a namespace that
//! does not exist is refused with kubectl's words, creating nothing.

mod common;
use common::pods::PodEnv;

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: NAME\n  namespace: NS\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n  - name: main\n    image: busybox:1.36\n    command: [sleep, \"3600\"]\n";

fn pod(name: &str, ns: &str) -> String {
    POD.replace("NAME", name).replace("NS", ns)
}

const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: NS\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      terminationGracePeriodSeconds: 1\n      containers:\n      - name: main\n        image: busybox:1.36\n        command: [sleep, \"3600\"]\n";

/// `get ns` as rows of words, without the AGE column.
fn namespaces(env: &PodEnv) -> Vec<String> {
    env.ok(&["get", "ns"])
        .lines()
        .map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            cols[..2].join(" ")
        })
        .collect()
}

#[test]
fn default_is_there_and_namespaces_are_created_and_listed() {
    let env = PodEnv::new("ns-list");
    // kubectl get ns on a fresh cluster: NAME STATUS AGE, default Active.
    assert_eq!(namespaces(&env), ["NAME STATUS", "default Active"]);
    assert_eq!(
        env.ok(&["create", "namespace", "team-a"]),
        "namespace/team-a created\n"
    );
    let again = env.run(&["create", "namespace", "team-a"]);
    assert_eq!(
        String::from_utf8_lossy(&again.stderr),
        "Error from server (AlreadyExists): namespaces \"team-a\" already exists\n"
    );
    for verb in ["ns", "namespace", "namespaces"] {
        let rows: Vec<String> = env
            .ok(&["get", verb, "--no-headers"])
            .lines()
            .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
            .collect();
        assert_eq!(rows, ["default Active", "team-a Active"], "get {verb}");
    }
    assert_eq!(
        env.ok(&["get", "ns", "team-a", "-o", "name"]),
        "namespace/team-a\n"
    );
    let object: serde_json::Value =
        serde_json::from_str(&env.ok(&["get", "ns", "team-a", "-o", "json"])).unwrap();
    assert_eq!(object["kind"], "Namespace");
    assert_eq!(
        object["metadata"]["labels"]["kubernetes.io/metadata.name"],
        "team-a"
    );
    assert_eq!(object["status"]["phase"], "Active");
    let missing = env.run(&["get", "ns", "nowhere"]);
    assert_eq!(
        String::from_utf8_lossy(&missing.stderr),
        "Error from server (NotFound): namespaces \"nowhere\" not found\n"
    );
    let forbidden = env.run(&["delete", "ns", "default"]);
    assert_eq!(
        String::from_utf8_lossy(&forbidden.stderr),
        "Error from server (Forbidden): namespaces \"default\" is forbidden: this namespace may not be deleted\n"
    );
}

#[test]
fn a_pod_in_a_namespace_that_does_not_exist_is_refused_and_nothing_is_created() {
    let env = PodEnv::new("ns-missing");
    // Two documents: one fine, one in a missing namespace; neither is created.
    let file = env.manifest(
        "two.yaml",
        &format!("{}---\n{}", pod("fine", "default"), pod("lost", "nowhere")),
    );
    let out = env.run(&["apply", "-f", &file]);
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("Error from server (NotFound): error when creating \"{file}\": namespaces \"nowhere\" not found\n")
    );
    assert!(env.pods().is_empty());
    assert_eq!(namespaces(&env), ["NAME STATUS", "default Active"]);
}

#[test]
fn deleting_a_namespace_deletes_its_pods() {
    let env = PodEnv::new("ns-delete");
    // A Deployment into a namespace that does not exist: kubectl's NotFound.
    let web = env.manifest("web.yaml", &DEPLOYMENT.replace("NS", "team-a"));
    let refused = env.run(&["apply", "-f", &web]);
    assert!(!refused.status.success());
    assert_eq!(
        String::from_utf8_lossy(&refused.stderr),
        format!("Error from server (NotFound): error when creating \"{web}\": namespaces \"team-a\" not found\n")
    );
    env.ok(&["create", "namespace", "team-a"]);
    env.ok(&["apply", "-f", &env.manifest("a.yaml", &pod("a", "team-a"))]);
    env.ok(&["apply", "-f", &env.manifest("b.yaml", &pod("b", "default"))]);
    // The Deployment's pod, and the namespace's deletion takes the Deployment too.
    env.ok(&["apply", "-f", &web]);
    env.wait_for(30, "the Deployment's pod Running", || {
        env.ok(&[
            "get",
            "pods",
            "-n",
            "team-a",
            "-l",
            "app=web",
            "--no-headers",
        ])
        .contains("Running")
    });
    assert_eq!(
        env.ok(&["delete", "ns", "team-a"]),
        "namespace \"team-a\" deleted\n"
    );
    assert_eq!(env.pods(), ["b"]);
    assert_eq!(namespaces(&env), ["NAME STATUS", "default Active"]);
    assert!(env
        .ok(&["get", "deploy,rs", "-A", "-o", "name"])
        .trim()
        .is_empty());
    let gone = env.run(&["apply", "-f", &env.manifest("a.yaml", &pod("a", "team-a"))]);
    assert!(String::from_utf8_lossy(&gone.stderr).contains("namespaces \"team-a\" not found"));
}
