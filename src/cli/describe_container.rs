//! A container's block of `describe pod`: its image and state, the process's identity
//! and privileges read from /proc, its seccomp profile, probes, environment and mounts.

use super::describe::human_time;
use crate::pod::record::StoredPod;
use crate::pod::status::{ContainerState, ContainerStatus};
use k8s_openapi::api::core::v1::Container;
use std::fmt::Write as _;

/// Who the running process is and what it may do, read from `/proc/<pid>/status`
/// (not from the manifest).
fn process_security(out: &mut String, st: Option<&ContainerStatus>) {
    use crate::cli::views::security_table::proc_status;
    let Some(f) = st
        .and_then(|s| s.process.as_ref())
        .filter(|p| p.is_alive())
        .and_then(|p| proc_status(p.pid))
    else {
        return;
    };
    let field = |out: &mut String, key: &str, value: &str| {
        let _ = writeln!(out, "    {:<16}{value}", format!("{key}:"));
    };
    field(out, "Process", &f.identity.describe());
    let caps = if f.capabilities.is_empty() {
        "<none>".to_string()
    } else {
        f.capabilities.join(",")
    };
    field(out, "Capabilities", &caps);
    field(
        out,
        "NoNewPrivs",
        if f.identity.no_new_privs {
            "true"
        } else {
            "false"
        },
    );
    field(out, "Seccomp", &f.seccomp);
}

/// The container's seccomp profile, and `(node default)` when the manifest named none.
pub(super) fn seccomp_line(p: &StoredPod, c: &Container) -> String {
    use crate::pod::seccomp::{choose, Source};
    if crate::pod::security::privileges::is_privileged(c) {
        return "Unconfined (privileged)".into();
    }
    let (choice, source) = choose(&p.record.pod, c, &p.record.seccomp);
    match source {
        Source::Node => format!("{choice} (node default)"),
        Source::Pod | Source::Container => choice.to_string(),
    }
}

pub(super) fn container(
    out: &mut String,
    c: &Container,
    st: Option<&ContainerStatus>,
    seccomp: &str,
) {
    let _ = writeln!(out, "  {}:", c.name);
    let field = |out: &mut String, key: &str, value: &str| {
        let line = format!("    {:<16}{value}", format!("{key}:"));
        let _ = writeln!(out, "{}", line.trim_end());
    };
    if let Some(st) = st.filter(|s| !s.container_id.is_empty()) {
        field(out, "Container ID", &st.container_id);
    }
    field(out, "Image", c.image.as_deref().unwrap_or(""));
    field(
        out,
        "Image ID",
        st.map(|s| s.image_id.as_str()).unwrap_or(""),
    );
    let ports = c.ports.clone().unwrap_or_default();
    if ports.is_empty() {
        field(out, "Port", "<none>");
        field(out, "Host Port", "<none>");
    } else {
        let show =
            |n: i32, proto: &Option<String>| format!("{n}/{}", proto.as_deref().unwrap_or("TCP"));
        let list = |f: &dyn Fn(&k8s_openapi::api::core::v1::ContainerPort) -> String| {
            ports.iter().map(f).collect::<Vec<_>>().join(", ")
        };
        field(out, "Port", &list(&|p| show(p.container_port, &p.protocol)));
        field(
            out,
            "Host Port",
            &list(&|p| show(p.host_port.unwrap_or(0), &p.protocol)),
        );
    }
    for (key, words) in [("Command", &c.command), ("Args", &c.args)] {
        if let Some(words) = words.as_ref().filter(|w| !w.is_empty()) {
            let _ = writeln!(out, "    {key}:");
            for w in words {
                // A multi-line argument keeps its lines, each indented like kubectl's.
                for line in w.trim_end_matches('\n').lines() {
                    let _ = writeln!(out, "      {line}");
                }
            }
        }
    }
    match st {
        Some(st) => {
            state_lines(out, "State", &st.state);
            if let Some(last) = &st.last_state {
                state_lines(out, "Last State", last);
            }
            field(out, "Ready", if st.ready { "True" } else { "False" });
            field(out, "Restart Count", &st.restart_count.to_string());
        }
        None => {
            field(out, "State", "Waiting");
            let _ = writeln!(out, "      {:<14}ContainerCreating", "Reason:");
            field(out, "Ready", "False");
            field(out, "Restart Count", "0");
        }
    }
    field(out, "SeccompProfile", seccomp);
    process_security(out, st);
    if let Some(res) = &c.resources {
        for (title, map) in [("Limits", &res.limits), ("Requests", &res.requests)] {
            if let Some(map) = map.as_ref().filter(|m| !m.is_empty()) {
                let _ = writeln!(out, "    {title}:");
                let w = map.keys().map(|k| k.len()).max().unwrap_or(0) + 3;
                for (k, q) in map {
                    let _ = writeln!(out, "      {:<w$}{}", format!("{k}:"), q.0);
                }
            }
        }
    }
    let env = c.env.clone().unwrap_or_default();
    if env.is_empty() {
        field(out, "Environment", "<none>");
    } else {
        let _ = writeln!(out, "    Environment:");
        let w = env.iter().map(|e| e.name.len()).max().unwrap_or(0) + 3;
        for e in &env {
            let value = match (&e.value, &e.value_from) {
                (Some(v), _) => v.clone(),
                (None, Some(from)) => match &from.field_ref {
                    Some(f) => format!(
                        " ({}:{})",
                        f.api_version.as_deref().unwrap_or("v1"),
                        f.field_path
                    ),
                    None => "<set from a source minipod does not show>".into(),
                },
                (None, None) => String::new(),
            };
            let _ = writeln!(out, "      {:<w$}{value}", format!("{}:", e.name));
        }
    }
    let mounts = c.volume_mounts.clone().unwrap_or_default();
    if mounts.is_empty() {
        field(out, "Mounts", "<none>");
    } else {
        let _ = writeln!(out, "    Mounts:");
        for m in &mounts {
            let mode = if m.read_only.unwrap_or(false) {
                "ro"
            } else {
                "rw"
            };
            let sub = m
                .sub_path
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| format!(",path=\"{s}\""))
                .unwrap_or_default();
            let _ = writeln!(out, "      {} from {} ({mode}{sub})", m.mount_path, m.name);
        }
    }
}

/// `State:` / `Last State:` with Reason, Exit Code, Signal, Started, Finished.
fn state_lines(out: &mut String, title: &str, state: &ContainerState) {
    let head = |out: &mut String, word: &str| {
        let _ = writeln!(out, "    {:<16}{word}", format!("{title}:"));
    };
    let sub = |out: &mut String, key: &str, value: &str| {
        let _ = writeln!(out, "      {:<14}{value}", format!("{key}:"));
    };
    match state {
        ContainerState::Waiting { reason, message } => {
            head(out, "Waiting");
            sub(out, "Reason", reason);
            if !message.is_empty() {
                sub(out, "Message", message);
            }
        }
        ContainerState::Running { started_at } => {
            head(out, "Running");
            sub(out, "Started", &human_time(started_at));
        }
        ContainerState::Terminated {
            exit_code,
            signal,
            reason,
            message,
            started_at,
            finished_at,
        } => {
            head(out, "Terminated");
            sub(out, "Reason", reason);
            if !message.is_empty() {
                sub(out, "Message", message);
            }
            sub(out, "Exit Code", &exit_code.to_string());
            if let Some(sig) = signal {
                sub(out, "Signal", &sig.to_string());
            }
            sub(out, "Started", &human_time(started_at));
            sub(out, "Finished", &human_time(finished_at));
        }
    }
}
