//! Numbers the API server refuses, and numbers it accepts but the node must handle
//! without overflow: huge grace periods, a CPU limit past what a quota can hold, a
//! memory limit too small to start in, a Memory emptyDir larger than the host.

mod common;
use common::pods::PodEnv;
use std::path::Path;

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn pod(name: &str, grace: &str, resources: &str, volumes: &str) -> String {
    format!(
        "apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: {grace}
  containers:
  - name: c
    image: busybox:1.36
    command: [sh, -c, 'trap \"exit 0\" TERM; while true; do sleep 1; done']
{resources}{volumes}"
    )
}

#[test]
fn huge_grace_periods_end_in_a_delete_not_a_panic() {
    let env = PodEnv::new("huge-grace");
    let forever = env.manifest(
        "forever.yaml",
        &pod("forever", "9223372036854775807", "", ""),
    );
    let plain = env.manifest("plain.yaml", &pod("plain", "30", "", ""));
    env.ok(&["apply", "-f", &forever]);
    env.ok(&["apply", "-f", &plain]);
    for name in ["forever", "plain"] {
        env.wait_for(20, "running", || {
            env.row(name).get(2).map(String::as_str) == Some("Running")
        });
    }
    // The pod's own grace period: the container stops on SIGTERM at once.
    let out = env.run(&["delete", "pod", "forever"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "pod \"forever\" deleted\n"
    );
    // A grace period from the command line.
    let out = env.run(&["delete", "pod", "plain", "--grace-period=99999999999999"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    assert_eq!(env.ok(&["get", "pods", "-o", "name"]), "");
}

#[test]
fn a_huge_cpu_limit_is_capped_not_wrapped() {
    let env = PodEnv::new("huge-cpu");
    let resources = "    resources:\n      limits: {cpu: 184467440737096m}\n";
    let file = env.manifest("cpu.yaml", &pod("cpu", "1", resources, ""));
    env.ok(&["apply", "-f", &file]);
    env.wait_for(20, "running", || {
        env.row("cpu").get(2).map(String::as_str) == Some("Running")
    });
    let uid = env.pod_json("cpu")["metadata"]["uid"]
        .as_str()
        .unwrap()
        .to_string();
    let unified = Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    let (file, want) = if unified {
        (
            format!("/sys/fs/cgroup/minipod/pod{uid}/c/cpu.max"),
            "17592186044415 100000",
        )
    } else {
        (
            format!("/sys/fs/cgroup/cpu/minipod/pod{uid}/c/cpu.cfs_quota_us"),
            "17592186044415",
        )
    };
    // The kernel's largest quota: as good as no limit, never a tiny one.
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), want);
}

#[test]
fn a_memory_limit_too_small_to_start_says_so() {
    let env = PodEnv::new("tiny-memory");
    let resources = "    resources:\n      limits: {memory: \"1\"}\n";
    let file = env.manifest("tiny.yaml", &pod("tiny", "1", resources, ""));
    // The first start fails, so the apply does, as kubectl reports a pod that
    // cannot start: with the reason, and the limit that caused it.
    let out = env.run(&["apply", "-f", &file]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(
            "container c: the setup process was OOM-killed in the container's cgroup \
             (memory limit too low?): resources.limits.memory is 1 bytes"
        ),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_memory_volume_is_bounded_by_the_hosts_memory() {
    let env = PodEnv::new("huge-tmpfs");
    let volumes = "    volumeMounts: [{name: mem, mountPath: /mem}]\n  volumes:\n  - name: mem\n    emptyDir: {medium: Memory, sizeLimit: 1e100}\n";
    let file = env.manifest("mem.yaml", &pod("mem", "1", "", volumes));
    env.ok(&["apply", "-f", &file]);
    env.wait_for(20, "running", || {
        env.row("mem").get(2).map(String::as_str) == Some("Running")
    });
    let out = env.ok(&[
        "exec",
        "mem",
        "--",
        "sh",
        "-c",
        "grep ' /mem ' /proc/mounts",
    ]);
    let size_kib: u64 = out
        .split(',')
        .find_map(|option| option.strip_prefix("size="))
        .and_then(|size| size.split('k').next()?.parse().ok())
        .unwrap_or_else(|| panic!("a sized tmpfs: {out}"));
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let total_kib: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    assert!(
        size_kib > 0 && size_kib <= total_kib,
        "{size_kib} KiB of {total_kib} KiB: {out}"
    );
}
