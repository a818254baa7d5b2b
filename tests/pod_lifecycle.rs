//! A pod's life as kubelet runs it: init containers in order, native sidecars,
//! restartPolicy with back-off, probes, hooks and graceful termination.
//! Back-off is shortened with MINIPOD_BACKOFF_SECONDS=1 (Kubernetes' 10 s otherwise).

mod common;
use common::pods::PodEnv;
use serde_json::Value;
use std::time::{Duration, Instant};

fn short_backoff() {
    std::env::set_var("MINIPOD_BACKOFF_SECONDS", "1");
}

fn status_of<'a>(pod: &'a Value, list: &str, name: &str) -> &'a Value {
    pod["status"][list]
        .as_array()
        .and_then(|l| l.iter().find(|c| c["name"] == name))
        .unwrap_or(&Value::Null)
}

/// Seconds since boot as `/proc/uptime` gives them (busybox's date has no %N).
fn nanos(s: &str) -> f64 {
    s.split_whitespace()
        .next()
        .unwrap_or("")
        .parse()
        .unwrap_or_else(|_| panic!("not a timestamp: {s:?}"))
}

#[test]
fn init_containers_run_one_by_one_before_the_app() {
    let env = PodEnv::new("init-order");
    let yaml = r#"
apiVersion: v1
kind: Pod
metadata: {name: ordered}
spec:
  initContainers:
  - {name: first, image: busybox:1.36, command: ["sh", "-c", "cat /proc/uptime > /w/first; sleep 1; cat /proc/uptime > /w/first-end"], volumeMounts: [{name: w, mountPath: /w}]}
  - {name: second, image: busybox:1.36, command: ["sh", "-c", "cat /proc/uptime > /w/second"], volumeMounts: [{name: w, mountPath: /w}]}
  containers:
  - {name: app, image: busybox:1.36, command: ["sh", "-c", "cat /proc/uptime > /w/app; sleep 3600"], volumeMounts: [{name: w, mountPath: /w}]}
  volumes: [{name: w, emptyDir: {}}]
"#;
    env.ok(&["apply", "-f", &env.manifest("p.yaml", yaml)]);
    // While the first init container sleeps, STATUS is Init:0/2.
    assert_eq!(env.row("ordered")[2], "Init:0/2");
    env.wait_for(15, "the app runs", || {
        env.row("ordered").get(1).map(String::as_str) == Some("1/1")
    });
    let read = |f: &str| {
        nanos(&env.ok(&[
            "exec",
            "ordered",
            "-c",
            "app",
            "--",
            "cat",
            &format!("/w/{f}"),
        ]))
    };
    let (first_end, second, app) = (read("first-end"), read("second"), read("app"));
    assert!(
        read("first") < first_end && first_end <= second && second <= app,
        "order: {first_end} {second} {app}"
    );
    let pod = env.pod_json("ordered");
    assert_eq!(
        status_of(&pod, "initContainerStatuses", "second")["state"]["terminated"]["reason"],
        "Completed"
    );
}

#[test]
fn a_failing_init_container_keeps_the_app_from_starting() {
    short_backoff();
    let env = PodEnv::new("init-fail");
    let yaml = |policy: &str, name: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n  restartPolicy: {policy}\n  initContainers:\n  - {{name: broken, image: busybox:1.36, command: [sh, -c, 'exit 1']}}\n  containers:\n  - {{name: app, image: busybox:1.36, command: [sleep, '3600']}}\n"
        )
    };
    env.ok(&[
        "apply",
        "-f",
        &env.manifest("always.yaml", &yaml("Always", "retry")),
    ]);
    env.ok(&[
        "apply",
        "-f",
        &env.manifest("never.yaml", &yaml("Never", "giveup")),
    ]);
    env.wait_for(15, "Init:CrashLoopBackOff", || {
        env.row("retry").get(2).map(String::as_str) == Some("Init:CrashLoopBackOff")
    });
    let pod = env.pod_json("retry");
    assert!(status_of(&pod, "initContainerStatuses", "broken")["restartCount"].as_u64() >= Some(1));
    assert_eq!(
        status_of(&pod, "containerStatuses", "app")["state"]["waiting"]["reason"],
        "PodInitializing"
    );
    env.wait_for(10, "the Never pod fails", || {
        env.pod_json("giveup")["status"]["phase"] == "Failed"
    });
    assert_eq!(env.row("giveup")[2], "Init:Error");
    let pod = env.pod_json("giveup");
    assert!(
        status_of(&pod, "containerStatuses", "app")["state"]["waiting"].is_object(),
        "the app never started"
    );
}

#[test]
fn crash_restarts_are_spaced_by_the_back_off() {
    short_backoff();
    let env = PodEnv::new("backoff");
    let yaml = "apiVersion: v1\nkind: Pod\nmetadata: {name: crashy}\nspec:\n  containers:\n  - {name: c, image: busybox:1.36, command: [sh, -c, 'read up rest < /proc/uptime; echo $up; exit 1']}\n";
    env.ok(&["apply", "-f", &env.manifest("p.yaml", yaml)]);
    env.wait_for(20, "three restarts", || {
        status_of(&env.pod_json("crashy"), "containerStatuses", "c")["restartCount"].as_u64()
            >= Some(3)
    });
    let uid = env.pod_json("crashy")["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let logs = env
        .root()
        .join("log/pods")
        .join(format!("default_crashy_{uid}"))
        .join("c");
    env.wait_for(5, "the fourth run's log", || {
        std::fs::metadata(logs.join("3.log")).is_ok_and(|m| m.len() > 0)
    });
    let start = |n: u32| {
        let text = std::fs::read_to_string(logs.join(format!("{n}.log"))).unwrap_or_default();
        nanos(text.split(' ').nth(3).unwrap_or(""))
    };
    let gaps: Vec<f64> = (0..3).map(|n| start(n + 1) - start(n)).collect();
    // First restart at once, then 1 s, then 2 s (base 1 s here, 10 s by default).
    assert!(gaps[0] < 0.9, "first restart at once: {gaps:?}");
    assert!(
        gaps[1] >= 1.0 && gaps[1] < 2.5,
        "then the base back-off: {gaps:?}"
    );
    assert!(gaps[2] >= 2.0 && gaps[2] < 3.5, "then double: {gaps:?}");
    env.wait_for(5, "CrashLoopBackOff", || {
        env.row("crashy").get(2).map(String::as_str) == Some("CrashLoopBackOff")
    });
    let row = env.row("crashy");
    let restarts = row[3..row.len() - 1].join(" ");
    assert!(
        restarts.contains("ago)"),
        "RESTARTS as kubectl prints it: {restarts}"
    );
}

#[test]
fn restart_policies_on_exit_codes() {
    short_backoff();
    let env = PodEnv::new("policies");
    for policy in ["Always", "OnFailure", "Never"] {
        for code in [0, 1] {
            let name = format!("{}-{code}", policy.to_lowercase());
            let yaml = format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n  restartPolicy: {policy}\n  containers:\n  - {{name: c, image: busybox:1.36, command: [sh, -c, 'exit {code}']}}\n");
            env.ok(&["apply", "-f", &env.manifest(&format!("{name}.yaml"), &yaml)]);
        }
    }
    std::thread::sleep(Duration::from_secs(3));
    let restarts = |name: &str| {
        status_of(&env.pod_json(name), "containerStatuses", "c")["restartCount"]
            .as_u64()
            .unwrap_or(0)
    };
    let phase = |name: &str| {
        env.pod_json(name)["status"]["phase"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert!(restarts("always-0") >= 1 && restarts("always-1") >= 1);
    assert_eq!(
        (restarts("onfailure-0"), phase("onfailure-0").as_str()),
        (0, "Succeeded")
    );
    assert!(restarts("onfailure-1") >= 1);
    assert_eq!(
        (restarts("never-0"), phase("never-0").as_str()),
        (0, "Succeeded")
    );
    assert_eq!(
        (restarts("never-1"), phase("never-1").as_str()),
        (0, "Failed")
    );
    assert_eq!(env.row("never-0")[2], "Completed");
    assert_eq!(env.row("never-1")[2], "Error");
}

#[test]
fn probes_restart_on_liveness_and_drive_readiness() {
    let env = PodEnv::new("probes");
    let yaml = r#"
apiVersion: v1
kind: Pod
metadata: {name: probed}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: live
    image: busybox:1.36
    command: ["sh", "-c", "touch /tmp/healthy; sleep 2; rm /tmp/healthy; sleep 3600"]
    livenessProbe: {exec: {command: [cat, /tmp/healthy]}, periodSeconds: 1, failureThreshold: 2}
  - name: ready
    image: nginx:1.27
    readinessProbe: {httpGet: {path: /, port: 80}, initialDelaySeconds: 1, periodSeconds: 1}
    livenessProbe: {tcpSocket: {port: 80}, periodSeconds: 1}
"#;
    env.ok(&["apply", "-f", &env.manifest("p.yaml", yaml)]);
    let ready =
        |c: &str| status_of(&env.pod_json("probed"), "containerStatuses", c)["ready"] == true;
    assert!(
        !ready("ready"),
        "not ready before its first readiness probe"
    );
    env.wait_for(10, "nginx turns ready", || ready("ready"));
    env.wait_for(15, "the liveness failure restarts the other", || {
        status_of(&env.pod_json("probed"), "containerStatuses", "live")["restartCount"].as_u64()
            >= Some(1)
    });
    let events = std::fs::read_to_string(
        env.root()
            .join("run/pods")
            .join(
                env.pod_json("probed")["metadata"]["uid"]
                    .as_str()
                    .unwrap_or(""),
            )
            .join("events.jsonl"),
    )
    .unwrap_or_default();
    let unhealthy = events
        .find("Liveness probe failed: cat: can't open '/tmp/healthy'")
        .expect("an Unhealthy event");
    let killing = events
        .find("Container live failed liveness probe, will be restarted")
        .expect("a Killing event");
    assert!(unhealthy < killing);
    assert_eq!(
        status_of(&env.pod_json("probed"), "containerStatuses", "ready")["restartCount"],
        0
    );
}

#[test]
fn pre_stop_runs_before_sigterm_and_a_stubborn_process_is_killed_after_the_grace() {
    let env = PodEnv::new("stop");
    let out = env.root().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let yaml = format!(
        r#"
apiVersion: v1
kind: Pod
metadata: {{name: stopping}}
spec:
  terminationGracePeriodSeconds: 3
  containers:
  - name: polite
    image: busybox:1.36
    command: ["sh", "-c", "trap 'cat /proc/uptime > /out/term; exit 0' TERM; while true; do sleep 0.1; done"]
    lifecycle: {{preStop: {{exec: {{command: [sh, -c, "cat /proc/uptime > /out/prestop"]}}}}}}
    volumeMounts: [{{name: out, mountPath: /out}}]
  - name: stubborn
    image: busybox:1.36
    command: ["sleep", "3600"]
  volumes: [{{name: out, hostPath: {{path: {}}}}}]
"#,
        out.display()
    );
    env.ok(&["apply", "-f", &env.manifest("p.yaml", &yaml)]);
    let stubborn = env.container_pid("stopping", "stubborn");
    let t = Instant::now();
    env.ok(&["delete", "pod", "stopping"]);
    let took = t.elapsed();
    let prestop = nanos(&std::fs::read_to_string(out.join("prestop")).expect("preStop ran"));
    let term = nanos(&std::fs::read_to_string(out.join("term")).expect("SIGTERM reached the trap"));
    assert!(prestop < term, "preStop before SIGTERM");
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(10),
        "sleep ignores SIGTERM as PID 1: killed after the 3 s grace, took {took:?}"
    );
    assert!(
        !std::path::Path::new(&format!("/proc/{stubborn}/cmdline")).exists()
            || std::fs::read(format!("/proc/{stubborn}/cmdline"))
                .map(|c| c.is_empty())
                .unwrap_or(true)
    );
}

#[test]
fn a_native_sidecar_outlives_the_init_phase() {
    let env = PodEnv::new("sidecar-native");
    let yaml = r#"
apiVersion: v1
kind: Pod
metadata: {name: with-sidecar}
spec:
  initContainers:
  - {name: shipper, image: busybox:1.36, restartPolicy: Always, command: ["sleep", "3600"]}
  - {name: setup, image: busybox:1.36, command: ["true"]}
  containers:
  - {name: app, image: busybox:1.36, command: ["sleep", "3600"]}
"#;
    env.ok(&["apply", "-f", &env.manifest("p.yaml", yaml)]);
    env.wait_for(10, "app running", || {
        env.row("with-sidecar").get(2).map(String::as_str) == Some("Running")
    });
    let pod = env.pod_json("with-sidecar");
    assert!(status_of(&pod, "initContainerStatuses", "shipper")["state"]["running"].is_object());
    assert_eq!(
        status_of(&pod, "initContainerStatuses", "setup")["state"]["terminated"]["reason"],
        "Completed"
    );
    // READY counts the running sidecar, as kubectl does.
    assert_eq!(env.row("with-sidecar")[1], "2/2");
}

#[test]
fn shared_process_namespace_the_infra_reaps_orphans() {
    let env = PodEnv::new("zombie");
    let yaml = r#"
apiVersion: v1
kind: Pod
metadata: {name: reaper}
spec:
  shareProcessNamespace: true
  containers:
  - {name: a, image: busybox:1.36, command: ["sh", "-c", "(sleep 1 &); sleep 3600"]}
  - {name: b, image: busybox:1.36, command: ["sleep", "3600"]}
"#;
    env.ok(&["apply", "-f", &env.manifest("p.yaml", yaml)]);
    // Both containers see each other's processes, and the pause program as PID 1.
    let ps = env.ok(&[
        "exec",
        "reaper",
        "-c",
        "b",
        "--",
        "ps",
        "-o",
        "pid,ppid,stat,args",
    ]);
    assert!(ps.contains("minipod-pause"), "{ps}");
    let orphan = ps
        .lines()
        .find(|l| l.contains("sleep 1"))
        .expect("the orphaned sleep")
        .to_string();
    assert_eq!(
        orphan.split_whitespace().nth(1),
        Some("1"),
        "orphans go to PID 1: {orphan}"
    );
    std::thread::sleep(Duration::from_millis(1500));
    let ps = env.ok(&[
        "exec",
        "reaper",
        "-c",
        "b",
        "--",
        "ps",
        "-o",
        "pid,stat,args",
    ]);
    assert!(
        !ps.lines().any(|l| l
            .split_whitespace()
            .nth(1)
            .is_some_and(|s| s.starts_with('Z'))),
        "a zombie was left: {ps}"
    );
    assert!(!ps.contains("sleep 1\n"), "{ps}");
}

#[test]
fn downward_api_env_and_termination_message() {
    let env = PodEnv::new("downward");
    let yaml = r#"
apiVersion: v1
kind: Pod
metadata: {name: facts, labels: {app: demo}}
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: busybox:1.36
    command: ["sh", "-c", "echo $MY_POD $MY_NS $MY_APP > /dev/termination-log"]
    env:
    - {name: MY_POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: MY_NS, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
    - {name: MY_APP, valueFrom: {fieldRef: {fieldPath: "metadata.labels['app']"}}}
"#;
    env.ok(&["apply", "-f", &env.manifest("p.yaml", yaml)]);
    env.wait_for(10, "Completed", || {
        env.pod_json("facts")["status"]["phase"] == "Succeeded"
    });
    let pod = env.pod_json("facts");
    assert_eq!(
        status_of(&pod, "containerStatuses", "c")["state"]["terminated"]["message"],
        "facts default demo\n"
    );
    let with_ip = env.manifest(
        "ip.yaml",
        &yaml
            .replace("metadata.namespace", "status.podIP")
            .replace("name: facts", "name: facts2"),
    );
    // status.podIP: the pod's own IP from its CNI network, known before it starts.
    env.ok(&["apply", "-f", &with_ip]);
    env.wait_for(10, "Completed", || {
        env.pod_json("facts2")["status"]["phase"] == "Succeeded"
    });
    let pod = env.pod_json("facts2");
    let ip = pod["status"]["podIP"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(ip.parse::<std::net::Ipv4Addr>().is_ok(), "podIP {ip:?}");
    assert_eq!(
        status_of(&pod, "containerStatuses", "c")["state"]["terminated"]["message"],
        format!("facts2 {ip} demo\n")
    );
}

#[test]
fn the_javaweb_pattern_with_local_images() {
    // The seed's javaweb-init.yaml with local images in the roles of xxx/cpWar:v2 and
    // xxx/tomcat:7.0: an init container copies an artifact into an emptyDir, then the
    // main container serves it.
    let env = PodEnv::new("javaweb");
    let yaml = r#"
apiVersion: v1
kind: Pod
metadata:
  name: javaweb-2
spec:
  initContainers:
  - image: busybox:1.36
    name: war
    command: ["cp", "/etc/passwd", "/app/sample.war"]
    volumeMounts:
    - mountPath: /app
      name: app-volume
  containers:
  - image: nginx:1.27
    name: tomcat
    volumeMounts:
    - mountPath: /usr/share/nginx/html
      name: app-volume
    ports:
    - containerPort: 80
  volumes:
  - name: app-volume
    emptyDir: {}
"#;
    env.ok(&["apply", "-f", &env.manifest("javaweb.yaml", yaml)]);
    env.wait_for(15, "tomcat running", || {
        env.row("javaweb-2").get(2).map(String::as_str) == Some("Running")
    });
    let served = env.ok(&[
        "exec",
        "javaweb-2",
        "-c",
        "tomcat",
        "--",
        "curl",
        "-s",
        "http://localhost/sample.war",
    ]);
    assert!(served.starts_with("root:x:0:0"), "{served}");
}

#[test]
fn a_container_that_cannot_start_says_why_in_kubelets_words() {
    let env = PodEnv::new("start-error");
    // The init container lets the pod start; the app's command does not exist, so
    // the runtime fails to start it (a failure of the first containers is apply's).
    let yaml = "apiVersion: v1\nkind: Pod\nmetadata: {name: nocmd}\nspec:\n  restartPolicy: Never\n  initContainers:\n  - {name: init, image: busybox:1.36, command: ['true']}\n  containers:\n  - {name: app, image: busybox:1.36, command: [/no/such/binary]}\n";
    env.ok(&["apply", "-f", &env.manifest("p.yaml", yaml)]);
    env.wait_for(15, "the pod fails", || {
        env.pod_json("nocmd")["status"]["phase"] == "Failed"
    });
    let pod = env.pod_json("nocmd");
    let app = status_of(&pod, "containerStatuses", "app");
    assert_eq!(
        app["state"]["waiting"]["reason"], "RunContainerError",
        "{app}"
    );
    assert_eq!(app["lastState"]["terminated"]["reason"], "StartError");
    assert_eq!(app["lastState"]["terminated"]["exitCode"], 128);
    assert_eq!(env.row("nocmd")[2], "RunContainerError");
}
