//! Deleting a pod: ask its supervisor to stop every container within the grace period
//! (SIGTERM, then SIGKILL), then remove every file of the pod. If the supervisor is
//! gone (it crashed), kill what it left running ourselves.

use super::create::remove_files;
use super::record;
use super::record::StoredPod;
use crate::narration::Step;
use crate::state::atomic;
use anyhow::{bail, Result};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::time::Duration;

/// `grace`: seconds (None = the pod's terminationGracePeriodSeconds).
pub fn delete(
    state: &crate::state::paths::StateRoot,
    pod: &StoredPod,
    grace: Option<i64>,
    on_step: &mut dyn FnMut(&Step),
) -> Result<()> {
    let paths = &pod.paths;
    let grace = grace.unwrap_or_else(|| pod.record.grace_period()).max(0);
    let mut steps = super::create::StepFollower::new(&paths.steps());
    // Skip the steps of the pod's creation: only the delete's are news.
    steps.follow(&mut |_| {});
    let status = pod.status.as_ref();
    let supervisor = status.and_then(|s| s.supervisor).filter(|p| p.is_alive());
    if let Some(sup) = supervisor {
        atomic::write_json(
            &paths.delete_request(),
            &serde_json::json!({ "gracePeriodSeconds": grace }),
        )?;
        kill(Pid::from_raw(sup.pid), Signal::SIGTERM).ok();
        // The supervisor's own wait plus time to tear down; a huge grace period
        // saturates instead of wrapping.
        let limit = crate::state::deadline::seconds(grace).saturating_add(Duration::from_secs(30));
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
    } else if let Some(status) = status {
        // No supervisor: its CNI DEL did not run; done here while the infra (if
        // alive) still holds the network namespace, then what it left is killed.
        let infra = status.infra.filter(|p| p.is_alive()).map(|p| p.pid);
        if let Err(e) = crate::net::pod_network::release_orphaned(
            state,
            &pod.record.pod,
            pod.record.uid(),
            infra,
        ) {
            eprintln!("warning: {e:#}");
        }
        let processes = status
            .all_containers()
            .filter_map(|c| c.process)
            .chain(status.infra);
        for p in processes.filter(|p| p.is_alive()) {
            kill(Pid::from_raw(p.pid), Signal::SIGKILL).ok();
            p.wait_exit(Duration::from_secs(5), &mut || {});
        }
    }
    // A supervisor that crashed left its pod's cgroups behind.
    super::resources::remove_pod_cgroup(pod.record.uid());
    record::unlink_name(state, &pod.record);
    remove_files(paths);
    Ok(())
}
