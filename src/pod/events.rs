//! Pod events as kubectl describe shows them (Type, Reason, From, Message), appended
//! one JSON object a line to the pod's `events.jsonl`.

use super::paths::PodPaths;
use crate::state::time;
use serde::{Deserialize, Serialize};
use std::io::Write;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    pub time: String,
    /// Normal or Warning.
    #[serde(rename = "type")]
    pub kind: String,
    pub reason: String,
    pub message: String,
}

pub fn record(paths: &PodPaths, kind: &str, reason: &str, message: impl Into<String>) {
    let event = Event {
        time: time::now(),
        kind: kind.to_string(),
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
