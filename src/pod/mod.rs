//! The pod layer (the kubelet's job): manifests, the per-pod supervisor, status.

pub mod container_spec;
pub mod paths;
pub mod record;
pub mod status;
pub mod etc_files;
pub mod image_user;
pub mod infra;
pub mod volumes;
pub mod cri_log;
pub mod events;
pub mod supervisor;
pub mod display;
pub mod create;
pub mod delete;
pub mod exec;
pub mod logs;
