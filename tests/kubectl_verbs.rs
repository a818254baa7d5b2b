//! The everyday kubectl verbs, each compared with kubectl's text for the same
//! command: delete --all/-l/-A, label, annotate, run, wait, version, api-resources,
//! get --sort-by and jsonpath filters.

mod common;
use common::pods::PodEnv;

fn out(o: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn sleeper(env: &PodEnv, name: &str, labels: &str) {
    env.ok(&[
        "run",
        name,
        "--image=busybox:1.36",
        &format!("--labels={labels}"),
        "--",
        "sleep",
        "3600",
    ]);
}

#[test]
fn delete_by_all_by_selector_and_across_namespaces() {
    let env = PodEnv::new("verbs-delete");
    env.ok(&["create", "namespace", "team-a"]);
    sleeper(&env, "web-1", "app=web");
    sleeper(&env, "web-2", "app=web");
    sleeper(&env, "db", "app=db");
    env.ok(&[
        "run",
        "other",
        "--image=busybox:1.36",
        "-n",
        "team-a",
        "-l",
        "app=web",
        "--",
        "sleep",
        "3600",
    ]);
    // kubectl: one line per pod, in name order.
    assert_eq!(
        env.ok(&["delete", "pods", "-l", "app=web", "--now"]),
        "pod \"web-1\" deleted\npod \"web-2\" deleted\n"
    );
    assert_eq!(
        env.ok(&["delete", "pods", "-l", "app=web", "-A", "--now"]),
        "pod \"other\" deleted\n"
    );
    assert_eq!(
        env.ok(&["delete", "pods", "--all", "--now"]),
        "pod \"db\" deleted\n"
    );
    assert_eq!(env.ok(&["delete", "pods", "--all"]), "No resources found\n");
    assert!(env.pods().is_empty());
    let (_, err) = out(&env.run(&["delete", "pods"]));
    assert_eq!(
        err,
        "error: resource(s) were provided, but no name was specified\n"
    );
}

#[test]
fn label_and_annotate() {
    let env = PodEnv::new("verbs-label");
    sleeper(&env, "box", "app=box");
    assert_eq!(
        env.ok(&["label", "pod", "box", "tier=web"]),
        "pod/box labeled\n"
    );
    let (stdout, stderr) = out(&env.run(&["label", "pod", "box", "tier=db"]));
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        "error: 'tier' already has a value (web), and --overwrite is false\n"
    );
    assert_eq!(
        env.ok(&["label", "pod", "box", "tier=db", "--overwrite"]),
        "pod/box labeled\n"
    );
    assert_eq!(
        env.ok(&["get", "pods", "-l", "tier=db", "-o", "name"]),
        "pod/box\n"
    );
    assert_eq!(
        env.ok(&["label", "pod/box", "tier-"]),
        "pod/box unlabeled\n"
    );
    let (stdout, stderr) = out(&env.run(&["label", "pod", "box", "tier-"]));
    assert_eq!(
        (stdout.as_str(), stderr.as_str()),
        ("pod/box not labeled\n", "label \"tier\" not found.\n")
    );
    assert_eq!(
        env.ok(&["annotate", "pod", "box", "note=hello world: yes"]),
        "pod/box annotated\n"
    );
    let (_, stderr) = out(&env.run(&["annotate", "pod", "box", "note=other"]));
    assert_eq!(stderr, "error: --overwrite is false but found the following declared annotation(s): 'note' already has a value (hello world: yes)\n");
    let json = env.pod_json("box");
    assert_eq!(json["metadata"]["annotations"]["note"], "hello world: yes");
    assert_eq!(
        json["metadata"]["labels"],
        serde_json::json!({"app": "box"})
    );
    assert_eq!(
        env.ok(&["annotate", "pod", "box", "note-"]),
        "pod/box annotated\n"
    );
}

#[test]
fn run_creates_the_pod_kubectl_run_makes() {
    let env = PodEnv::new("verbs-run");
    // kubectl run web --image=nginx:1.27 --dry-run=client -o yaml
    assert_eq!(
        env.ok(&["run", "web", "--image=nginx:1.27", "--dry-run=client", "-o", "yaml"]),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  labels:\n    run: web\n  name: web\nspec:\n  containers:\n  - image: nginx:1.27\n    name: web\n    resources: {}\n  dnsPolicy: ClusterFirst\n  restartPolicy: Always\nstatus: {}\n"
    );
    assert!(env.pods().is_empty());
    assert_eq!(
        env.ok(&[
            "run",
            "box",
            "--image=busybox:1.36",
            "--restart=Never",
            "--",
            "sh",
            "-c",
            "echo hi; sleep 3600"
        ]),
        "pod/box created\n"
    );
    let json = env.pod_json("box");
    assert_eq!(json["spec"]["restartPolicy"], "Never");
    assert_eq!(
        json["spec"]["containers"][0]["args"],
        serde_json::json!(["sh", "-c", "echo hi; sleep 3600"])
    );
    assert_eq!(json["metadata"]["labels"]["run"], "box");
    env.wait_for(20, "the container's output", || {
        env.ok(&["logs", "box"]) == "hi\n"
    });
    let (_, stderr) = out(&env.run(&["run", "box", "--image=busybox:1.36"]));
    assert_eq!(
        stderr,
        "Error from server (AlreadyExists): pods \"box\" already exists\n"
    );
}

#[test]
fn wait_for_ready_delete_and_a_timeout() {
    let env = PodEnv::new("verbs-wait");
    sleeper(&env, "box", "app=box");
    assert_eq!(
        env.ok(&["wait", "--for=condition=Ready", "pod/box", "--timeout=30s"]),
        "pod/box condition met\n"
    );
    assert_eq!(
        env.ok(&[
            "wait",
            "--for=jsonpath={.status.phase}=Running",
            "pods",
            "box"
        ]),
        "pod/box condition met\n"
    );
    let (stdout, stderr) = out(&env.run(&["wait", "--for=delete", "pod/box", "--timeout=1s"]));
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        "error: timed out waiting for the condition on pods/box\n"
    );
    let mut delete = env.mp.command(&["delete", "pod", "box", "--now"]);
    let deleter = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        delete.output().unwrap()
    });
    assert_eq!(
        env.ok(&["wait", "--for=delete", "pod/box", "--timeout=60s"]),
        "pod/box condition met\n"
    );
    assert!(deleter.join().unwrap().status.success());
}

#[test]
fn sort_by_and_jsonpath_filters() {
    let env = PodEnv::new("verbs-sort");
    sleeper(&env, "zeta", "app=z");
    sleeper(&env, "alpha", "app=a");
    let names: Vec<String> = env
        .ok(&["get", "pods", "--sort-by=.metadata.name", "--no-headers"])
        .lines()
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    assert_eq!(names, ["alpha", "zeta"]);
    // Numbers sort by value: 900 before 3600 (as text, "3600" < "900").
    env.ok(&["run", "short", "--image=busybox:1.36", "--", "sleep", "900"]);
    let names: Vec<String> = env
        .ok(&[
            "get",
            "pods",
            "--sort-by=.spec.containers[0].args[1]",
            "-o",
            "name",
        ])
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(names[0], "pod/short", "{names:?}");
    assert_eq!(
        env.ok(&[
            "get",
            "pods",
            "-o",
            "jsonpath={.items[?(@.metadata.labels.app==\"a\")].metadata.name}"
        ]),
        "alpha"
    );
}

#[test]
fn version_and_api_resources() {
    let env = PodEnv::new("verbs-version");
    let version = env.ok(&["version"]);
    let lines: Vec<&str> = version.lines().collect();
    assert!(lines[0].starts_with("Client Version: v"), "{version}");
    assert!(lines[1].starts_with("Server Version: v1.34"), "{version}");
    let table = env.ok(&["api-resources"]);
    let rows: Vec<Vec<&str>> = table
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows[0],
        ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    );
    assert!(rows.contains(&vec!["pods", "po", "v1", "true", "Pod"]));
    assert!(rows.contains(&vec!["namespaces", "ns", "v1", "false", "Namespace"]));
    assert!(rows.contains(&vec![
        "deployments",
        "deploy",
        "apps/v1",
        "true",
        "Deployment"
    ]));
    // Every resource listed is one `get` knows.
    for row in &rows[1..] {
        let out = env.run(&["get", row[0]]);
        assert!(out.status.success(), "get {}: {:?}", row[0], out);
    }
}

#[test]
fn logs_by_selector() {
    let env = PodEnv::new("verbs-logs");
    for name in ["count-a", "count-b"] {
        env.ok(&[
            "run",
            name,
            "--image=busybox:1.36",
            "-l",
            "app=counter",
            "--",
            "sh",
            "-c",
            "seq 1 15; sleep 3600",
        ]);
    }
    let tail: String = (6..=15).map(|i| format!("{i}\n")).collect();
    // kubectl logs -l: the last 10 lines of each pod.
    env.wait_for(20, "both pods' logs", || {
        env.ok(&["logs", "-l", "app=counter"]) == format!("{tail}{tail}")
    });
    assert_eq!(
        env.ok(&["logs", "-l", "app=counter", "--tail=1", "--prefix"]),
        "[pod/count-a/count-a] 15\n[pod/count-b/count-b] 15\n"
    );
    let (_, stderr) = out(&env.run(&["logs", "-l", "app=counter", "-f", "--max-log-requests=1"]));
    assert_eq!(stderr, "error: you are attempting to follow 2 log streams, but maximum allowed concurrency is 1, use --max-log-requests to increase the limit\n");
}

#[test]
fn top_pod_shows_cpu_and_memory_from_the_cgroups() {
    let env = PodEnv::new("verbs-top");
    env.ok(&[
        "run",
        "burn",
        "--image=busybox:1.36",
        "--",
        "sh",
        "-c",
        "while :; do :; done",
    ]);
    sleeper(&env, "idle", "app=idle");
    let table = env.ok(&["top", "pod"]);
    let rows: Vec<Vec<&str>> = table
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    // kubectl top pod: NAME CPU(cores) MEMORY(bytes), one row per running pod.
    assert_eq!(rows[0], ["NAME", "CPU(cores)", "MEMORY(bytes)"], "{table}");
    assert_eq!(rows.len(), 3, "{table}");
    let burn = rows.iter().find(|r| r[0] == "burn").unwrap();
    let millicores: u64 = burn[1].strip_suffix('m').unwrap().parse().unwrap();
    assert!(millicores >= 50, "a busy loop uses CPU: {table}");
    assert!(burn[2].ends_with("Mi"), "{table}");
    let one = env.ok(&["top", "pod", "idle", "--containers", "--no-headers"]);
    let cols: Vec<&str> = one.split_whitespace().collect();
    assert_eq!(cols[..2], ["idle", "idle"], "{one}");
    // minipod's process tree is under --processes.
    let tree = env.ok(&["top", "pod", "idle", "--processes"]);
    assert!(tree.starts_with("PID"), "{tree}");
    assert!(tree.contains("infra"), "{tree}");
}

#[test]
fn explain_a_field_path_prints_its_documentation() {
    let env = PodEnv::new("verbs-explain");
    let doc = env.ok(&["explain", "pod.spec.containers"]);
    // The start of `kubectl explain pod.spec.containers` (Kubernetes 1.34).
    assert!(
        doc.starts_with("KIND:       Pod\nVERSION:    v1\n\nFIELD: containers <[]Container>\n\n\nDESCRIPTION:\n    List of containers belonging to the pod. Containers cannot currently be\n    added or removed. There must be at least one container in a Pod. Cannot be\n    updated.\n    A single application container that you want to run within a pod.\n    \nFIELDS:\n  args\t<[]string>\n    Arguments to the entrypoint. The container image's CMD is used if this is\n    not provided."),
        "{doc}"
    );
    assert!(doc.contains("\n  name\t<string> -required-\n"), "{doc}");
    let top = env.ok(&["explain", "pod"]);
    assert!(top.contains("\n  spec\t<PodSpec>\n"), "{top}");
    assert!(
        !top.contains("-required-\n    Standard object's metadata"),
        "{top}"
    );
    let (_, err) = out(&env.run(&["explain", "pod.spec.nope"]));
    assert_eq!(err, "error: field \"nope\" does not exist\n");

    // A field with allowed values lists them, as the API's schema does (at most four
    // in a list of fields; all of them for the one field).
    assert!(
        doc.contains("\n  imagePullPolicy\t<string>\n  enum: Always, IfNotPresent, Never\n    Image pull policy."),
        "{doc}"
    );
    let host_path = env.ok(&["explain", "pod.spec.volumes.hostPath"]);
    assert!(
        host_path.contains(
            "\n  type\t<string>\n  enum: \"\", BlockDevice, CharDevice, Directory, ....\n"
        ),
        "{host_path}"
    );
    let policy = env.ok(&["explain", "pod.spec.containers.imagePullPolicy"]);
    assert!(
        policy.starts_with("KIND:       Pod\nVERSION:    v1\n\nFIELD: imagePullPolicy <string>\nENUM:\n    Always\n    IfNotPresent\n    Never\n\nDESCRIPTION:\n    Image pull policy."),
        "{policy}"
    );

    // --recursive: the fields of fields, indented, without descriptions.
    let tree = env.ok(&["explain", "pod", "--recursive"]);
    assert!(
        tree.contains("\n  metadata\t<ObjectMeta>\n    annotations\t<map[string]string>\n"),
        "{tree}"
    );
    assert!(
        tree.contains("\n      image\t<ImageVolumeSource>\n        pullPolicy\t<string>\n        enum: Always, IfNotPresent, Never\n        reference\t<string>\n"),
        "{tree}"
    );
    assert_eq!(tree.matches("Image pull policy").count(), 0, "{tree}");
}

#[test]
fn an_installed_demo_finds_and_lists_its_lessons() {
    let env = PodEnv::new("verbs-demo");
    // Run from a directory that is no checkout: the lessons are built in.
    let elsewhere = common::TempDir::new("demo-cwd");
    let run = |args: &[&str]| {
        env.mp
            .command(&[])
            .args(args)
            .env_remove("MINIPOD_ROOT")
            .current_dir(&elsewhere.path)
            .output()
            .unwrap()
    };
    let (list, _) = out(&run(&["demo"]));
    let names: Vec<&str> = list
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    // One line per page in docs/lessons (a, b, ...), in order.
    let pages = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/lessons"))
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            let name = name.to_string_lossy();
            name.ends_with(".md") && name != "README.md"
        })
        .count();
    assert_eq!(names.len(), pages, "{list}");
    assert_eq!(names[0], "a-shared-network", "{list}");
    assert!(
        list.contains("(c) An emptyDir is a host directory"),
        "{list}"
    );
    let page = run(&["demo", "c", "--no-pause", "--check"]);
    let (shown, err) = out(&page);
    assert!(page.status.success(), "{shown}\n{err}");
    assert!(
        shown.contains("$ minipod apply -f examples/sidecar-pod.yaml"),
        "{shown}"
    );
}
