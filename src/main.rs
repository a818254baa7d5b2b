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
//! `narration` (the recorded kernel steps a student can watch).

mod api;
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

fn main() {
    // A runtime stage (a re-executed sealed copy of minipod) is no CLI invocation.
    if let Some(code) = runtime::stage::run_if_stage() {
        std::process::exit(code);
    }
    // Started as `minipod-runc` (a link to this binary): runc's command line.
    if runc_cli::invoked_as_runc() {
        std::process::exit(runc_cli::main());
    }
    let code = match cli::run() {
        Ok(code) => code,
        Err(err) => {
            // One clear line: what was being done, to what, and why it failed.
            eprintln!("error: {err:#}");
            1
        }
    };
    std::process::exit(code);
}
