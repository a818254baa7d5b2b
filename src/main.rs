//! minipod: a real Kubernetes Pod on one Linux host.
//!
//! Three layers that only talk downward (see DESIGN.md):
//! - `cli`: kubectl-shaped verbs; parses, calls the pod layer, prints.
//! - `pod`: the kubelet's job: manifests, the per-pod supervisor (shim), status.
//! - `runtime`: runc's job: one container from an OCI spec.
//!
//! Beside them: `image` (local image store), `state` (on-disk layout and records),
//! `narration` (the recorded kernel steps a student can watch).

mod cli;
mod image;
mod narration;
mod net;
mod pod;
mod runtime;
mod state;

fn main() {
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
