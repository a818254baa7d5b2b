//! Narration: every kernel step the runtime and pod layers take is recorded once, at
//! the line that does it, as a structured [`Step`]: who did it (infra or a container,
//! with its host PID), what (the call and its real arguments) and why (a few words).
//!
//! A process has one sink. The supervisor appends steps to the pod's `steps.jsonl`
//! (which `apply --explain` follows and `explain pod --steps` reads later); a child
//! process before `execve` sends its steps to the supervisor over the same socket as
//! its errors, so the order is the order the kernel saw them.

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::sync::Mutex;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Step {
    /// "infra", a container name, or "pod" for the supervisor's own work.
    pub who: String,
    /// Host PID of the process that made the call.
    pub pid: i32,
    /// The call in words with its real arguments.
    pub what: String,
    /// Why the kernel is asked to do it.
    pub why: String,
}

impl Step {
    /// One line for a terminal: `[nginx      4720] setns(/proc/4711/ns/net)   why`.
    pub fn to_line(&self) -> String {
        format!(
            "[{:<10} {:>6}] {:<52} {}",
            self.who, self.pid, self.what, self.why
        )
    }
}

/// Where this process's steps go.
pub enum Sink {
    /// Nobody listens (plain CLI verbs).
    None,
    /// One JSON object per line (the supervisor's `steps.jsonl`).
    JsonLines(Box<dyn Write + Send>),
    /// A function that forwards the step (a child's channel to its supervisor).
    Forward(Box<dyn Fn(&Step) + Send>),
}

static SINK: Mutex<Sink> = Mutex::new(Sink::None);
static WHO: Mutex<String> = Mutex::new(String::new());
static PID: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

/// The host PID steps of this process carry (a container's init is PID 1 inside its
/// own PID namespace, but the narration names it as the host sees it).
pub fn set_pid(pid: i32) {
    PID.store(pid, std::sync::atomic::Ordering::Relaxed);
}

/// Set where the steps of this process go from now on.
pub fn set_sink(sink: Sink) {
    if let Ok(mut guard) = SINK.lock() {
        *guard = sink;
    }
}

/// Name the actor ("infra", a container's name) for the steps this process records.
pub fn set_actor(who: &str) {
    if let Ok(mut guard) = WHO.lock() {
        *guard = who.to_string();
    }
}

/// Record one step taken by this process, as the actor set with [`set_actor`].
pub fn step(what: impl Into<String>, why: &str) {
    record(by_this_process(what.into(), why));
}

/// A step made by this process: the actor and host PID set when it was created.
pub fn by_this_process(what: String, why: &str) -> Step {
    let who = WHO
        .lock()
        .map(|w| {
            if w.is_empty() {
                "pod".to_string()
            } else {
                w.clone()
            }
        })
        .unwrap_or_else(|_| "pod".to_string());
    Step {
        who,
        pid: match PID.load(std::sync::atomic::Ordering::Relaxed) {
            0 => std::process::id() as i32,
            pid => pid,
        },
        what,
        why: why.to_string(),
    }
}

thread_local! {
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Run `f` with the steps this thread records (its own, and those a child forwards
/// to it) dropped. For what recurs for the pod's whole life (a probe's runs after its
/// first, a port-forward's connections): the first run shows how it is done, the
/// steps file does not grow without bound.
pub fn quietly<T>(f: impl FnOnce() -> T) -> T {
    let was = QUIET.with(|q| q.replace(true));
    let result = f();
    QUIET.with(|q| q.set(was));
    result
}

/// Record a step made elsewhere (a child's step forwarded to the supervisor).
pub fn record(step: Step) {
    if QUIET.with(|q| q.get()) {
        return;
    }
    let Ok(mut guard) = SINK.lock() else { return };
    match &mut *guard {
        Sink::None => {}
        Sink::JsonLines(out) => {
            if let Ok(mut line) = serde_json::to_vec(&step) {
                line.push(b'\n');
                // Narration must never stop the pod: a failed write loses one line.
                let _ = out.write_all(&line).and_then(|_| out.flush());
            }
        }
        Sink::Forward(forward) => forward(&step),
    }
}
