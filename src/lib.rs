//! minipod: a real Kubernetes Pod on one Linux host.
//!
//! Layers that only talk downward, each a Kubernetes component (see DESIGN.md):
//! - `cli`: kubectl: the verbs, and its printers (tables, describe, pictures).
//! - `api`: the API server's part: manifests read as kubectl sends them, strict
//!   validation, defaults (Pods, and the apps/v1 controller kinds).
//! - `controllers`: the controller manager's job: Deployments, ReplicaSets,
//!   DaemonSets and the garbage collector, as pure decisions plus an executor.
//! - `pod`: the kubelet's job: the per-pod supervisor (shim), status, logs, exec.
//! - `runtime`: runc's job: one container from an OCI spec.
//! - `runc_cli`: runc's command line over the runtime layer (`minipod-runc`), for
//!   podman and containerd.
//!
//! Beside them: `image` (local image store), `state` (on-disk layout and records),
//! `narration` (the recorded kernel steps a student can watch), `apimachinery` (what
//! the API server and the kubelet both read: quantities, a pod's container groups).
//!
//! One library, three programs that each link only what they run:
//! - `minipod` (`src/main.rs`): the CLI, and runc's command line as `minipod-runc`;
//! - `minipod-shim` (`src/bin/minipod-shim.rs`): the per-pod supervisor, started by
//!   `apply`: the pod and runtime layers, no CLI, YAML or API-server code;
//! - `minipod-pause` (`src/pause/main.rs`, built by `build.rs`): the infra program.

mod api;
mod apimachinery;
mod cli;
mod controllers;
#[cfg(test)]
mod fuzz;
mod image;
mod narration;
mod net;
mod pod;
mod runc_cli;
mod runtime;
mod state;

/// The CLI: parse the command line and run the verb (the exit code, or the error).
pub use cli::run as cli_main;
/// The supervisor's program (`minipod-shim`): its exit code.
pub use pod::supervisor::entry::main as shim_main;
/// runc's command line, when started as `minipod-runc`.
pub use runc_cli::{invoked_as_runc, main as runc_main};
/// A re-executed runtime stage: every minipod program calls this first.
pub use runtime::stage::run_if_stage;
