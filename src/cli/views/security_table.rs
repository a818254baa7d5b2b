//! The security table: per container, the seccomp profile it was given and what the
//! kernel says of it now (`Seccomp:` and `CapEff:` in `/proc/<pid>/status`): the
//! filter mode and the capabilities the process really holds.

use crate::pod::record::StoredPod;
use crate::pod::seccomp::{choose, Source};
use crate::pod::status::PodStatus;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub container: String,
    pub pid: Option<i32>,
    /// The profile chosen for it, e.g. `RuntimeDefault (node default)`.
    pub seccomp_profile: String,
    /// The kernel's view: `filter`, `disabled`, or `-` when the process is gone.
    pub seccomp_mode: String,
    /// Effective capabilities, without the `CAP_` prefix, sorted.
    pub capabilities: Vec<String>,
}

pub fn rows(pod: &StoredPod, status: &PodStatus) -> Vec<Row> {
    let spec = pod.record.pod.spec.clone().unwrap_or_default();
    let statuses = status
        .init_container_statuses
        .iter()
        .chain(&status.container_statuses);
    let mut out = Vec::new();
    for st in statuses {
        let Some(c) = spec
            .init_containers
            .iter()
            .flatten()
            .chain(&spec.containers)
            .find(|c| c.name == st.name)
        else {
            continue;
        };
        let (choice, source) = choose(&pod.record.pod, c, &pod.record.seccomp);
        let profile = match source {
            Source::Node => format!("{choice} (node default)"),
            _ => choice.to_string(),
        };
        let running = st.process.as_ref().filter(|p| p.is_alive());
        let fields = running.and_then(|p| proc_status(p.pid));
        out.push(Row {
            container: st.name.clone(),
            pid: running.map(|p| p.pid),
            seccomp_profile: profile,
            seccomp_mode: fields.as_ref().map_or("-".into(), |f| f.seccomp.clone()),
            capabilities: fields.map(|f| f.capabilities).unwrap_or_default(),
        });
    }
    out
}

struct Fields {
    seccomp: String,
    capabilities: Vec<String>,
}

fn proc_status(pid: i32) -> Option<Fields> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim().to_string())
    };
    let seccomp = match field("Seccomp:").as_deref() {
        Some("0") => "disabled".to_string(),
        Some("1") => "strict".to_string(),
        Some("2") => match field("Seccomp_filters:") {
            Some(n) => format!("filter ({n})"),
            None => "filter".to_string(),
        },
        _ => "-".to_string(),
    };
    let eff = u64::from_str_radix(&field("CapEff:")?, 16).ok()?;
    let mut capabilities: Vec<String> = caps::all()
        .into_iter()
        .filter(|c| eff & c.bitmask() != 0)
        .map(|c| c.to_string().trim_start_matches("CAP_").to_string())
        .collect();
    capabilities.sort();
    Some(Fields {
        seccomp,
        capabilities,
    })
}
