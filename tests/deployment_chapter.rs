//! The Pods chapter's Deployment, end to end, as a user types it: create, the two
//! pods `nginx-deployment-<hash>-<5>`, `Controlled By`, a rolling update from
//! nginx:1.17.8 to nginx:1.17.10 that never runs more than three pods, another one
//! when a volume is added, and `delete -f` removing the Deployment, its ReplicaSets
//! and pods (and the controller manager, once nothing is left to control).

mod common;
use common::pods::{seed, PodEnv};
use common::spawned::SpawnGuarded as _;
use serde_json::Value;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

const ALPHABET: &str = "bcdfghjklmnpqrstvwxz2456789";

/// The seed's Deployment as the chapter starts it: nginx:1.17.8, no volume yet.
fn chapter_start() -> String {
    let seed = std::fs::read_to_string(seed("nginx-deployment.yaml")).unwrap();
    let without_volume: String = seed
        .split("        volumeMounts:")
        .next()
        .unwrap()
        .to_string();
    without_volume.replace("nginx:1.17.10", "nginx:1.17.8")
}

fn pods_json(env: &PodEnv, selector: &str) -> Vec<Value> {
    let out = env.ok(&["get", "pods", "-l", selector, "-o", "json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    v["items"].as_array().cloned().unwrap_or_default()
}

fn running_with_image(env: &PodEnv, image: &str) -> usize {
    pods_json(env, "app=nginx")
        .iter()
        .filter(|p| {
            p["status"]["phase"] == "Running" && p["metadata"]["deletionTimestamp"].is_null()
        })
        .filter(|p| p["spec"]["containers"][0]["image"] == image)
        .count()
}

fn is_generated(name: &str, rs: &str) -> bool {
    name.strip_prefix(&format!("{rs}-"))
        .is_some_and(|s| s.len() == 5 && s.chars().all(|c| ALPHABET.contains(c)))
}

/// Counts, while a rollout runs, the pods that are not being deleted.
struct Sampler {
    stop: Arc<AtomicBool>,
    max: Arc<AtomicUsize>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sampler {
    fn start(root: std::path::PathBuf, netns: Arc<common::netns::TestNetns>) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let max = Arc::new(AtomicUsize::new(0));
        let (s, m) = (stop.clone(), max.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_minipod"));
                netns.enter_before_exec(&mut cmd);
                let out = cmd
                    .arg("--root")
                    .arg(&root)
                    .args(["get", "pods", "--no-headers"])
                    .env_remove("MINIPOD_ROOT")
                    .output()
                    .unwrap();
                let active = String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .filter(|l| !l.contains("Terminating"))
                    .count();
                m.fetch_max(active, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(150));
            }
        });
        Sampler {
            stop,
            max,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> usize {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
        self.max.load(Ordering::SeqCst)
    }
}

#[test]
fn the_chapter_sequence() {
    let env = PodEnv::new("deploy-chapter");
    let file = env.manifest("nginx-deployment.yaml", &chapter_start());

    // kubectl create -f nginx-deployment.yaml
    assert_eq!(
        env.ok(&["create", "-f", &file]).trim(),
        "deployment.apps/nginx-deployment created"
    );
    env.wait_for(60, "two nginx:1.17.8 pods Running", || {
        running_with_image(&env, "nginx:1.17.8") == 2
    });

    // kubectl get pods -l app=nginx: two pods nginx-deployment-<hash>-<5>.
    let rs: Value = serde_json::from_str(&env.ok(&["get", "rs", "-o", "json"])).unwrap();
    let rs_name = rs["items"][0]["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let hash = rs_name
        .strip_prefix("nginx-deployment-")
        .unwrap()
        .to_string();
    assert!(
        !hash.is_empty() && hash.chars().all(|c| ALPHABET.contains(c)),
        "{rs_name}"
    );
    let table = env.ok(&["get", "pods", "-l", "app=nginx"]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("NAME"), "{table}");
    assert_eq!(lines.len(), 3, "{table}");
    for line in &lines[1..] {
        let name = line.split_whitespace().next().unwrap();
        assert!(
            is_generated(name, &rs_name),
            "{name} is not {rs_name}-<5 chars>"
        );
        assert!(line.contains("1/1") && line.contains("Running"), "{line}");
    }

    // kubectl describe po: Labels with pod-template-hash, Controlled By.
    let pod = lines[1].split_whitespace().next().unwrap();
    let page = env.ok(&["describe", "po", pod]);
    assert!(
        page.contains(&format!("pod-template-hash={hash}")),
        "{page}"
    );
    assert!(
        page.lines()
            .any(|l| l.starts_with("Controlled By:")
                && l.ends_with(&format!("ReplicaSet/{rs_name}"))),
        "{page}"
    );
    // The Deployment's status follows its pods (the controller writes it a moment
    // after they turn Running, as on a cluster).
    let deploy_ready = || {
        env.ok(&["get", "deploy"]).lines().nth(1).is_some_and(|l| {
            let c: Vec<&str> = l.split_whitespace().collect();
            c[..4] == ["nginx-deployment", "2/2", "2", "2"]
        })
    };
    env.wait_for(10, "get deploy: nginx-deployment 2/2 2 2", deploy_ready);

    // Edit the tag 1.17.8 -> 1.17.10, kubectl replace: pods rolled one at a time.
    std::fs::write(
        &file,
        chapter_start().replace("nginx:1.17.8", "nginx:1.17.10"),
    )
    .unwrap();
    let sampler = Sampler::start(env.root().to_path_buf(), env.mp.netns.clone().unwrap());
    assert_eq!(
        env.ok(&["replace", "-f", &file]).trim(),
        "deployment.apps/nginx-deployment replaced"
    );
    env.wait_for(90, "two nginx:1.17.10 pods and no other", || {
        running_with_image(&env, "nginx:1.17.10") == 2 && pods_json(&env, "app=nginx").len() == 2
    });
    let most = sampler.finish();
    assert!(
        most <= 3,
        "{most} pods at once during the rolling update (at most 3)"
    );
    let page = env.ok(&["describe", "deploy", "nginx-deployment"]);
    for wanted in [
        "Replicas:               2 desired | 2 updated | 2 total | 2 available | 0 unavailable",
        "StrategyType:           RollingUpdate",
        "RollingUpdateStrategy:  25% max unavailable, 25% max surge",
        "Image:        nginx:1.17.10",
        &format!("Scaled down replica set {rs_name} from 2 to 1"),
        &format!("Scaled down replica set {rs_name} from 1 to 0"),
    ] {
        assert!(page.contains(wanted), "no {wanted:?} in:\n{page}");
    }
    assert!(
        page.contains("deployment.kubernetes.io/revision: 2"),
        "{page}"
    );
    // The new pods run the other image: another image ID, its own welcome page.
    let new_pod = pods_json(&env, "app=nginx")[0]["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let page = env.ok(&["exec", &new_pod, "--", "curl", "-s", "http://localhost/"]);
    assert!(page.contains("(tag 1.17.10)"), "{page}");
    let described = env.ok(&["describe", "pod", &new_pod]);
    let id_of = |image: &str| {
        let out = env.ok(&["image", "inspect", image]);
        let v: Value = serde_json::from_str(&out).unwrap();
        v[0]["Id"].as_str().unwrap_or_default().to_string()
    };
    let (old_id, new_id) = (id_of("nginx:1.17.8"), id_of("nginx:1.17.10"));
    assert_ne!(old_id, new_id);
    assert!(described.contains(&new_id), "{described}");

    // The seed itself (an emptyDir added): kubectl apply, another rolling update.
    let out = env.ok(&["apply", "-f", &seed("nginx-deployment.yaml")]);
    assert_eq!(out.trim(), "deployment.apps/nginx-deployment configured");
    env.wait_for(90, "two pods of the third template", || {
        let pods = pods_json(&env, "app=nginx");
        pods.len() == 2
            && pods.iter().all(|p| {
                p["status"]["phase"] == "Running" && p["spec"]["volumes"][0]["name"] == "nginx-vol"
            })
    });
    let rs_table = env.ok(&["get", "rs"]);
    assert_eq!(
        rs_table.lines().count(),
        4,
        "three ReplicaSets kept:\n{rs_table}"
    );
    let again = env.ok(&["apply", "-f", &seed("nginx-deployment.yaml")]);
    assert_eq!(again.trim(), "deployment.apps/nginx-deployment unchanged");

    // kubectl delete -f: the Deployment, its ReplicaSets and pods go.
    let out = env.ok(&["delete", "-f", &seed("nginx-deployment.yaml")]);
    assert_eq!(out.trim(), "deployment.apps \"nginx-deployment\" deleted");
    env.wait_for(60, "no pod, no ReplicaSet left", || {
        env.pods().is_empty() && env.ok(&["get", "rs", "-o", "name"]).trim().is_empty()
    });
    env.wait_for(10, "the controller manager gone", || {
        !env.root().join("run/apps/controller-manager.pid").exists()
    });
}

#[test]
fn a_deleted_pod_is_replaced_and_the_controller_manager_survives_kill_9() {
    let env = PodEnv::new("deploy-heal");
    let file = env.manifest(
        "d.yaml",
        &chapter_start().replace("nginx:1.17.8", "nginx:1.17.10"),
    );
    env.ok(&["apply", "-f", &file]);
    env.wait_for(60, "two pods Running", || {
        running_with_image(&env, "nginx:1.17.10") == 2
    });

    // kubectl delete pod <name> --grace-period=0 --force: a new one Running soon.
    let first: Vec<String> = env.pods();
    // `get pods -w` meanwhile: one line per change.
    let mut watcher = env
        .mp
        .command(&[])
        .args(["get", "pods", "-w"])
        .env_remove("MINIPOD_ROOT")
        .stdout(std::process::Stdio::piped())
        .spawn_guarded();
    std::thread::sleep(std::time::Duration::from_millis(500));
    env.ok(&[
        "delete",
        "pod",
        &first[0],
        "--grace-period=0",
        "--force",
        "-n",
        "default",
    ]);
    env.wait_for(15, "a replacement Running", || {
        let now = env.pods();
        running_with_image(&env, "nginx:1.17.10") == 2 && !now.contains(&first[0])
    });
    // The watch polls every 200 ms; on a loaded machine one poll can take longer:
    // give it time to print the replacement's Running line before it is stopped.
    std::thread::sleep(std::time::Duration::from_millis(2000));
    watcher.kill().unwrap();
    let out = watcher.wait_with_output().unwrap();
    let watched = String::from_utf8_lossy(&out.stdout).to_string();
    let lines: Vec<&str> = watched.lines().collect();
    assert!(
        lines[0].starts_with("NAME") && lines.len() >= 5,
        "{watched}"
    );
    let of_first: Vec<&&str> = lines[1..]
        .iter()
        .filter(|l| l.starts_with(&first[0]))
        .collect();
    // Listed once, then (if the watch saw it go) Terminating, then never again.
    assert!(
        !of_first.is_empty() && of_first[1..].iter().all(|l| l.contains("Terminating")),
        "{watched}"
    );
    let replacement = env.pods().into_iter().find(|p| !first.contains(p)).unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&replacement) && l.contains("Running")),
        "{watched}"
    );

    // kill -9 of the controller manager: nothing is lost, the next command starts it.
    let pid_file = env.root().join("run/apps/controller-manager.pid");
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    env.wait_for(5, "the manager dead", || {
        !std::path::Path::new(&format!("/proc/{pid}")).exists()
    });
    let before = env.pods();
    let table = env.ok(&["get", "deploy"]);
    assert!(table.contains("nginx-deployment"), "{table}");
    env.wait_for(5, "a new controller manager", || {
        std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|p| p.trim().parse::<i32>().ok())
            .is_some_and(|p| p != pid && std::path::Path::new(&format!("/proc/{p}")).exists())
    });
    assert_eq!(env.pods(), before, "the pods are the same after the crash");
    env.wait_for(10, "the Deployment 2/2 again", || {
        env.ok(&["get", "deploy"])
            .contains("nginx-deployment   2/2")
    });
    // And it controls: another deleted pod is replaced.
    env.ok(&["delete", "pod", &before[0], "--grace-period=0", "--force"]);
    env.wait_for(15, "a replacement after the restart", || {
        running_with_image(&env, "nginx:1.17.10") == 2 && !env.pods().contains(&before[0])
    });
    // kill -9 of a pod's supervisor and every process of it: a lost pod, replaced.
    let lost = env.pods().remove(0);
    let st = env.status(&lost);
    let mut pids = vec![
        st["supervisor"]["pid"].as_i64().unwrap() as i32,
        env.infra_pid(&lost),
    ];
    pids.push(env.container_pid(&lost, "nginx"));
    for pid in pids {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    env.wait_for(15, "a replacement of the lost pod", || {
        running_with_image(&env, "nginx:1.17.10") == 2 && !env.pods().contains(&lost)
    });
    let events = env.ok(&["describe", "rs"]);
    assert!(events.contains("SuccessfulCreate"), "{events}");
    env.ok(&[
        "delete",
        "deploy",
        "nginx-deployment",
        "--cascade=foreground",
    ]);
    assert!(env.pods().is_empty());
}
