//! `hostPID` and `hostIPC`: the pod uses the host's PID or IPC namespace instead of
//! its own. The infra then creates no IPC namespace (containers join the infra's,
//! which is the host's) and containers create no PID namespace (they stay in the
//! host's, where they were forked); with `hostIPC` the containers get the host's
//! `/dev/shm`, as containerd gives them.

use k8s_openapi::api::core::v1::Pod;
use oci_spec::runtime::{LinuxNamespaceType, Spec};

pub fn host_pid(pod: &Pod) -> bool {
    pod.spec.as_ref().and_then(|s| s.host_pid) == Some(true)
}

pub fn host_ipc(pod: &Pod) -> bool {
    pod.spec.as_ref().and_then(|s| s.host_ipc) == Some(true)
}

/// Drop the namespace of type `typ` from the spec: the process stays in the one it
/// was started in (the host's).
pub fn keep_hosts(spec: &mut Spec, typ: LinuxNamespaceType) {
    if let Some(namespaces) = spec
        .linux_mut()
        .as_mut()
        .and_then(|l| l.namespaces_mut().as_mut())
    {
        namespaces.retain(|n| n.typ() != typ);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_infra_keeps_the_hosts_ipc() {
        let files = [];
        let mut spec = crate::pod::infra::spec("p", false, &files).unwrap();
        keep_hosts(&mut spec, LinuxNamespaceType::Ipc);
        let kinds: Vec<_> = spec
            .linux()
            .as_ref()
            .unwrap()
            .namespaces()
            .as_ref()
            .unwrap()
            .iter()
            .map(|n| n.typ())
            .collect();
        assert!(!kinds.contains(&LinuxNamespaceType::Ipc));
        assert!(kinds.contains(&LinuxNamespaceType::Network));
    }
}
