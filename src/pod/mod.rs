//! The pod layer (the kubelet's job): manifests in, a running pod out.
//!
//! - `create`, `delete`, `exec`, `logs`: what the CLI verbs ask of a pod.
//! - `supervisor`: the per-pod shim that starts the infra process and the containers,
//!   captures logs, applies restartPolicy, records status, tears everything down; a
//!   pure policy decides, an executor acts.
//! - `start_failure`: why a container could not start, in kubelet's reasons.
//! - `container_spec`: a pod's container → its OCI runtime spec (a pure function).

pub mod container_process;
pub mod container_spec;
pub mod create;
pub mod cri_log;
pub mod delete;
pub mod device_rules;
pub mod downward_api;
pub mod etc_files;
pub mod events;
pub mod exec;
pub mod hooks;
pub mod image_file;
pub mod image_user;
pub mod infra;
mod infra_files;
pub mod log_files;
pub mod logs;
pub mod metrics;
pub mod paths;
pub mod probe_actions;
pub mod probe_deadline;
pub mod probe_http;
pub mod probes;
pub mod pty;
pub mod record;
pub mod resources;
pub mod seccomp;
pub mod security;
pub mod start_failure;
pub mod status;
pub mod supervisor;
pub mod termination_message;
pub mod update;
pub mod volumes;
