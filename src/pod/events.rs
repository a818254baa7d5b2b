//! Pod events as kubectl describe shows them (Type, Reason, From, Message), appended
//! one JSON object a line to the pod's `events.jsonl`.

use super::paths::PodPaths;
use crate::state::time;
use serde::{Deserialize, Serialize};
use std::io::Write;

/// kubectl's event TYPE: all is well, or something a user should look at.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum EventType {
    Normal,
    Warning,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    pub time: String,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub reason: String,
    pub message: String,
}

pub fn record(paths: &PodPaths, kind: EventType, reason: &str, message: impl Into<String>) {
    let event = Event {
        time: time::now(),
        kind,
        reason: reason.to_string(),
        message: message.into(),
    };
    let Ok(mut line) = serde_json::to_vec(&event) else {
        return;
    };
    line.push(b'\n');
    // An event that cannot be written is lost; it must not stop the pod.
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(paths.events())
    {
        let _ = f.write_all(&line);
    }
}

/// Every event recorded for the pod, oldest first; lines that do not parse are skipped
/// (a line being appended right now), a missing file is no events.
pub fn load(paths: &PodPaths) -> Vec<Event> {
    let text = std::fs::read_to_string(paths.events()).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Who reports an event, as kubectl's FROM column shows it.
pub fn source(event: &Event) -> &'static str {
    match event.reason.as_str() {
        "Scheduled" => "default-scheduler",
        _ => "kubelet",
    }
}
