//! Lifecycle hooks (`postStart`, `preStop`): an `exec`, an `httpGet` or a `sleep`,
//! run by the supervisor against the container, as kubelet runs them.

use super::probe_actions::{self, Target};
use super::probe_deadline::Deadline;
use k8s_openapi::api::core::v1::LifecycleHandler;
use std::time::Duration;

/// Run the handler within `limit`; `Err` carries what went wrong, for the event.
pub fn run(handler: &LifecycleHandler, target: &Target, limit: Duration) -> Result<(), String> {
    if let Some(e) = &handler.exec {
        probe_actions::run_exec(e, target, limit).map(|_| ())
    } else if let Some(h) = &handler.http_get {
        probe_actions::run_http(h, target, limit).map(|_| ())
    } else if let Some(s) = &handler.sleep {
        // Slice by slice, so a delete that comes meanwhile is not kept waiting.
        let deadline = Deadline::after(Duration::from_secs(s.seconds.max(0) as u64).min(limit));
        while let Ok(slice) = deadline.slice() {
            std::thread::sleep(slice);
        }
        Ok(())
    } else if let Some(t) = &handler.tcp_socket {
        probe_actions::run_tcp(&t.port, t.host.as_deref(), target, limit)
    } else {
        Err("the hook has no handler".into())
    }
}
