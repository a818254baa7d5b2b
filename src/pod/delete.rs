//! Deleting a pod: ask its supervisor to stop every container within the grace period
//! (SIGTERM, then SIGKILL), then remove every file of the pod. If the supervisor is
//! gone (it crashed), kill what it left running ourselves: the processes its status
//! names (each checked by start time and command line) and whatever the pod's cgroups
//! still hold.
//!
//! In two halves, so that a command deleting many pods asks every supervisor first
//! and then waits for all of them (one grace period, not one per pod), and holds no
//! lock while it waits.

use super::create::remove_files;
use super::record;
use super::record::StoredPod;
use super::status::ProcessId;
use crate::narration::Step;
use crate::state::lock::{lock_dir, DirLockTaken};
use crate::state::{atomic, paths::StateRoot};
use anyhow::{bail, Result};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::time::Duration;

/// `grace`: seconds (None = the pod's terminationGracePeriodSeconds).
pub fn delete(
    state: &StateRoot,
    pod: &StoredPod,
    grace: Option<i64>,
    on_step: &mut dyn FnMut(&Step),
) -> Result<()> {
    begin(pod, grace)?.finish(state, on_step)
}

/// A deletion asked for: the supervisor (if alive) has the request.
pub struct Deleting {
    pod: StoredPod,
    supervisor: Option<ProcessId>,
    grace: i64,
    steps: super::create::StepFollower,
}

/// Ask the pod's supervisor to stop the pod (quick: no waiting).
pub fn begin(pod: &StoredPod, grace: Option<i64>) -> Result<Deleting> {
    let paths = &pod.paths;
    // Without --grace-period the supervisor uses its pod's (it holds the record, even
    // when our copy of it is damaged).
    let asked = grace.map(|g| g.max(0));
    let grace = asked.unwrap_or_else(|| pod.record.grace_period()).max(0);
    let mut steps = super::create::StepFollower::new(&paths.steps());
    // Skip the steps of the pod's creation: only the delete's are news.
    steps.follow(&mut |_| {});
    let supervisor = find_supervisor(pod);
    if let Some(sup) = supervisor {
        // Once the request is written, the supervisor is told: Ctrl-C waits.
        let _deferred = super::create::DeferSignals::new();
        atomic::write_json(
            &paths.delete_request(),
            &serde_json::json!({ "gracePeriodSeconds": asked }),
        )?;
        kill(Pid::from_raw(sup.pid), Signal::SIGTERM).ok();
    }
    Ok(Deleting {
        pod: StoredPod {
            record: pod.record.clone(),
            status: pod.status.clone(),
            paths: pod.paths.clone(),
        },
        supervisor,
        grace,
        steps,
    })
}

impl Deleting {
    pub fn name(&self) -> &str {
        self.pod.record.name()
    }

    pub fn namespace(&self) -> &str {
        self.pod.record.namespace()
    }

    /// Wait for the supervisor to stop the pod, kill what is left, remove the files.
    /// Under the pod's finishing lock, so that no other command (a `get` finishing an
    /// interrupted deletion, the controller manager) tears the pod down at the same
    /// time: two teardowns at once could unpin the network namespace under the
    /// other's CNI DEL, and the NAT rule would stay. Whoever comes second finds the
    /// pod's directory gone and has nothing left to do.
    pub fn finish(self, state: &StateRoot, on_step: &mut dyn FnMut(&Step)) -> Result<()> {
        match lock_dir(&self.pod.paths.run, true)? {
            DirLockTaken::Held(_finishing) => self.finish_locked(state, on_step),
            DirLockTaken::Busy | DirLockTaken::Gone => Ok(()),
        }
    }

    fn finish_locked(mut self, state: &StateRoot, on_step: &mut dyn FnMut(&Step)) -> Result<()> {
        let pod = &self.pod;
        if let Some(sup) = self.supervisor {
            // The supervisor's own wait plus time to tear down; a huge grace period
            // saturates instead of wrapping.
            let limit =
                crate::state::deadline::seconds(self.grace).saturating_add(Duration::from_secs(30));
            let steps = &mut self.steps;
            let gone = sup.wait_exit(limit, &mut || steps.follow(on_step));
            steps.follow(on_step);
            if !gone {
                bail!(
                    "pod \"{}\": its supervisor (PID {}) did not stop within {}s",
                    pod.record.name(),
                    sup.pid,
                    limit.as_secs()
                );
            }
        }
        if self.supervisor.is_none() {
            release_network(state, pod);
        }
        kill_leftovers(pod);
        super::resources::remove_pod_cgroup(pod.record.uid());
        if let Ok(_index) = crate::state::lock::lock(state) {
            record::unlink_name(state, &pod.record);
        }
        remove_files(&pod.paths);
        Ok(())
    }
}

/// Finish the deletion of a pod whose supervisor is gone (its deleting command was
/// interrupted, or the supervisor died), unless another command is finishing it right
/// now. `Some(true)`: the pod is no more; `Some(false)`: it could not be finished;
/// None: another command is finishing it (it still shows, Terminating).
pub fn finish_abandoned(state: &StateRoot, pod: &StoredPod) -> Option<bool> {
    match lock_dir(&pod.paths.run, false) {
        Ok(DirLockTaken::Held(_finishing)) => Some(
            begin(pod, Some(0))
                .and_then(|d| d.finish_locked(state, &mut |_| {}))
                .is_ok(),
        ),
        Ok(DirLockTaken::Gone) => Some(true),
        Ok(DirLockTaken::Busy) | Err(_) => None,
    }
}

/// No supervisor: its CNI DEL did not run; done here while the infra (if alive) still
/// holds the network namespace, before what it left is killed.
/// The infra is the one its status names (checked), or else the `minipod-pause` its
/// cgroup still holds: the bridge plugin removes the pod's NAT rule only while the
/// network namespace exists, so a status that lost the infra must not make DEL blind.
fn release_network(state: &StateRoot, pod: &StoredPod) {
    let uid = pod.record.uid();
    let infra = pod
        .status
        .as_ref()
        .and_then(|s| s.infra)
        .filter(|p| p.is_alive() && is_infra(p.pid))
        .map(|p| p.pid)
        .or_else(|| {
            cgroup_processes(&super::resources::infra_cgroup(uid))
                .into_iter()
                .find(|pid| is_infra(*pid))
        });
    if let Err(e) = crate::net::pod_network::release_orphaned(state, &pod.record.pod, uid, infra) {
        eprintln!("warning: {e:#}");
    }
}

/// No supervisor (it crashed, or was killed): whatever it left running is killed here.
/// A PID from the status is trusted only with its start time and its identity (the
/// infra is `minipod-pause`, a container lives in the pod's cgroup); the pod's cgroups
/// list the rest.
fn kill_leftovers(pod: &StoredPod) {
    let uid = pod.record.uid();
    if let Some(status) = pod.status.as_ref() {
        let infra = status.infra.filter(|p| p.is_alive() && is_infra(p.pid));
        let containers = status
            .all_containers()
            .filter_map(|c| c.process)
            .filter(|p| p.is_alive() && in_pod_cgroup(p.pid, uid));
        for p in containers.chain(infra) {
            kill(Pid::from_raw(p.pid), Signal::SIGKILL).ok();
            p.wait_exit(Duration::from_secs(5), &mut || {});
        }
    }
    let cgroup = super::resources::pod_cgroup(uid);
    for _ in 0..50 {
        let pids = cgroup_processes(&cgroup);
        if pids.is_empty() {
            return;
        }
        for pid in pids {
            kill(Pid::from_raw(pid), Signal::SIGKILL).ok();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The pod's supervisor: the one its status names (checked by start time and command
/// line), or, when the status lost it (damaged, or written before it), the process
/// whose command line is `minipod-shim <uid>`.
pub fn find_supervisor(pod: &StoredPod) -> Option<ProcessId> {
    let uid = pod.record.uid();
    if let Some(p) = pod
        .status
        .as_ref()
        .and_then(|s| s.supervisor)
        .filter(|p| is_supervisor_of(p, uid))
    {
        return Some(p);
    }
    let entries = std::fs::read_dir("/proc").ok()?;
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().parse::<i32>().ok())
        .filter_map(ProcessId::of)
        .find(|p| is_supervisor_of(p, uid))
}

/// Is `p` the supervisor of pod `uid`: alive, same start time, and `minipod-shim <uid>`?
pub fn is_supervisor_of(p: &ProcessId, uid: &str) -> bool {
    p.is_alive()
        && cmdline(p.pid)
            .is_some_and(|args| super::supervisor::entry::is_supervisor_cmdline(&args, uid))
}

/// The infra process shows as `minipod-pause <pod>`.
fn is_infra(pid: i32) -> bool {
    pid > 1 && cmdline(pid).is_some_and(|args| args.first().is_some_and(|a| a == "minipod-pause"))
}

/// Is `pid` in the cgroup tree of pod `uid` (`.../minipod/pod<uid>/...`)?
fn in_pod_cgroup(pid: i32, uid: &str) -> bool {
    let needle = format!("/pod{uid}");
    pid > 1
        && std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
            .is_ok_and(|text| text.lines().any(|l| l.contains(&needle)))
}

fn cmdline(pid: i32) -> Option<Vec<String>> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    Some(
        raw.split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect(),
    )
}

/// Every process in a pod's cgroups (all controllers, all levels).
pub fn cgroup_processes(cgroup: &std::path::Path) -> Vec<i32> {
    let mut pids = Vec::new();
    for dir in crate::runtime::cgroups::dirs(cgroup) {
        collect_procs(&dir, &mut pids, 0);
    }
    pids.sort_unstable();
    pids.dedup();
    pids
}

fn collect_procs(dir: &std::path::Path, pids: &mut Vec<i32>, depth: u32) {
    if depth > 8 {
        return;
    }
    if let Ok(text) = std::fs::read_to_string(dir.join("cgroup.procs")) {
        pids.extend(text.lines().filter_map(|l| l.trim().parse::<i32>().ok()));
    }
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                collect_procs(&e.path(), pids, depth + 1);
            }
        }
    }
}
