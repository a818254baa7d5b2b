//! resources.limits and requests become the container's cgroup settings; a container
//! over its memory limit is OOMKilled; `exec` runs inside the container's cgroup; the
//! pod's cgroups go with the pod.

mod common;
use common::pods::PodEnv;
use std::path::Path;

/// The directory of a cgroup for a controller, on a v2 or a v1/hybrid host.
fn cgroup_file(rel: &str, v2: &str, v1: (&str, &str)) -> std::path::PathBuf {
    let unified = Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    if unified {
        Path::new("/sys/fs/cgroup").join(rel).join(v2)
    } else {
        Path::new("/sys/fs/cgroup").join(v1.0).join(rel).join(v1.1)
    }
}

#[test]
fn limits_are_written_and_an_oom_kill_is_reported() {
    let env = PodEnv::new("resources");
    let yaml = r#"
apiVersion: v1
kind: Pod
metadata: {name: limited}
spec:
  restartPolicy: Never
  containers:
  - name: steady
    image: busybox:1.36
    command: ["sleep", "3600"]
    resources:
      requests: {cpu: 250m, memory: 64Mi}
      limits: {cpu: 700m, memory: 200Mi}
  - name: hog
    image: busybox:1.36
    command: ["sh", "-c", "sleep 1; tail /dev/zero"]
    resources:
      limits: {memory: 20Mi}
"#;
    env.ok(&["apply", "-f", &env.manifest("p.yaml", yaml)]);
    let uid = env.pod_json("limited")["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let steady = format!("minipod/pod{uid}/steady");
    let memory = cgroup_file(&steady, "memory.max", ("memory", "memory.limit_in_bytes"));
    assert_eq!(
        std::fs::read_to_string(&memory)
            .expect("memory limit file")
            .trim(),
        "209715200"
    );
    let unified = Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    if unified {
        let cpu = std::fs::read_to_string(cgroup_file(&steady, "cpu.max", ("", ""))).unwrap();
        assert_eq!(cpu.trim(), "70000 100000");
    } else {
        let quota =
            std::fs::read_to_string(cgroup_file(&steady, "", ("cpu", "cpu.cfs_quota_us"))).unwrap();
        assert_eq!(quota.trim(), "70000");
        let shares =
            std::fs::read_to_string(cgroup_file(&steady, "", ("cpu", "cpu.shares"))).unwrap();
        assert_eq!(shares.trim(), "256");
    }
    // The container's process is in that cgroup, and so is an exec'd one.
    let pid = env.container_pid("limited", "steady");
    let own = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    assert!(own.contains(&format!("/minipod/pod{uid}/steady")), "{own}");
    let exec_view = env.ok(&[
        "exec",
        "limited",
        "-c",
        "steady",
        "--",
        "cat",
        "/proc/self/cgroup",
    ]);
    // Its own limit, read from inside as programs do (containerd's /sys/fs/cgroup).
    let inside = if unified {
        "/sys/fs/cgroup/memory.max"
    } else {
        "/sys/fs/cgroup/memory/memory.limit_in_bytes"
    };
    let limit = env.ok(&["exec", "limited", "-c", "steady", "--", "cat", inside]);
    assert_eq!(limit.trim(), "209715200", "{inside}");
    let mem_line = exec_view
        .lines()
        .find(|l| l.contains("memory") || l.starts_with("0::"))
        .unwrap_or("");
    assert!(
        mem_line.ends_with(":/"),
        "exec sees its container's cgroup as its root: {exec_view}"
    );

    env.wait_for(20, "the hog is OOMKilled", || {
        let pod = env.pod_json("limited");
        let hog = pod["status"]["containerStatuses"]
            .as_array()
            .and_then(|l| l.iter().find(|c| c["name"] == "hog").cloned());
        hog.is_some_and(|h| h["state"]["terminated"]["reason"] == "OOMKilled")
    });
    let pod = env.pod_json("limited");
    let hog = pod["status"]["containerStatuses"][1].clone();
    assert_eq!(hog["state"]["terminated"]["exitCode"], 137);
    assert_eq!(pod["status"]["qosClass"], "Burstable");

    env.ok(&["delete", "pod", "limited", "--grace-period=0", "--force"]);
    let pod_dir = cgroup_file(&format!("minipod/pod{uid}"), "", ("memory", ""));
    assert!(
        !pod_dir.exists(),
        "the pod's cgroup is removed: {}",
        pod_dir.display()
    );
}
