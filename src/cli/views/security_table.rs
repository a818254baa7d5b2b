//! The security table: per container, the seccomp profile it was given and what the
//! kernel says of it now (`/proc/<pid>/status`): who the process is (`Uid:`, `Gid:`,
//! `Groups:`, the uid inside through `uid_map`), `NoNewPrivs:`, the filter mode
//! (`Seccomp:`) and the capabilities it really holds (`CapEff:`).

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
    /// Who the process is, when it runs.
    pub process: Option<Identity>,
}

/// The process's ids, as the kernel holds them.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Identity {
    /// Real uid and gid inside the container (the same as on the host without a
    /// user namespace).
    pub uid: u32,
    pub gid: u32,
    /// The uid the host sees.
    pub host_uid: u32,
    pub groups: Vec<u32>,
    pub no_new_privs: bool,
}

impl Identity {
    /// `uid=1000 gid=3000 groups=2000,3000,4000`, and `(host N)` when it differs.
    pub fn describe(&self) -> String {
        let groups: Vec<String> = self.groups.iter().map(|g| g.to_string()).collect();
        let host = if self.host_uid != self.uid {
            format!(" (host uid {})", self.host_uid)
        } else {
            String::new()
        };
        format!(
            "uid={} gid={} groups={}{host}",
            self.uid,
            self.gid,
            groups.join(",")
        )
    }
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
            _ if crate::pod::security::privileges::is_privileged(c) => {
                "Unconfined (privileged)".to_string()
            }
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
            process: fields.as_ref().map(|f| f.identity.clone()),
            capabilities: fields.map(|f| f.capabilities).unwrap_or_default(),
        });
    }
    out
}

pub struct Fields {
    pub seccomp: String,
    pub capabilities: Vec<String>,
    pub identity: Identity,
}

/// What `/proc/<pid>/status` (and `uid_map`) say of a process.
pub fn proc_status(pid: i32) -> Option<Fields> {
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
    let first = |key: &str| -> Option<u32> { field(key)?.split_whitespace().next()?.parse().ok() };
    let host_uid = first("Uid:")?;
    let host_gid = first("Gid:")?;
    let inside = |file: &str, id: u32| {
        std::fs::read_to_string(format!("/proc/{pid}/{file}"))
            .ok()
            .and_then(|m| super::container_user::inside_uid(&m, id))
            .unwrap_or(id)
    };
    let identity = Identity {
        uid: inside("uid_map", host_uid),
        gid: inside("gid_map", host_gid),
        host_uid,
        groups: field("Groups:")
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|g| g.parse().ok())
            .map(|g| inside("gid_map", g))
            .collect(),
        no_new_privs: field("NoNewPrivs:").as_deref() == Some("1"),
    };
    Some(Fields {
        seccomp,
        capabilities,
        identity,
    })
}
