//! A pod's resource usage as kubelet reports it to the metrics pipeline (what
//! `kubectl top` shows): read from the pod's cgroup and its containers' cgroups.

use crate::runtime::cgroup_usage::{self, Usage};

/// The whole pod (its containers and its infra).
pub fn pod_usage(uid: &str) -> Option<Usage> {
    cgroup_usage::read(&super::resources::pod_cgroup(uid))
}

/// One container of the pod.
pub fn container_usage(uid: &str, container: &str) -> Option<Usage> {
    cgroup_usage::read(&super::resources::pod_cgroup(uid).join(container))
}
