//! Pod `sysctls` (`spec.securityContext.sysctls`), as a kubelet admits them: the safe
//! set Kubernetes allows everywhere, and the namespaced groups a node may allow with
//! `--allowed-unsafe-sysctls` (minipod's node allows them all: `kernel.shm*`,
//! `kernel.msg*`, `kernel.sem`, `fs.mqueue.*`, `net.*`), because a pod's own
//! namespaces hold them. Any other (`vm.*`, `kernel.panic`, ...) would change the whole
//! host: refused at apply with kubelet's words (`SysctlForbidden`). The infra writes
//! the accepted ones once, into the pod's new namespaces (see `runtime::sysctl`).

use crate::runtime::sysctl::{namespace_of, normalize};
use k8s_openapi::api::core::v1::Pod;
use std::collections::HashMap;

/// kubelet's SafeSysctlAllowlist (Kubernetes 1.34).
pub const SAFE: [&str; 12] = [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
];

/// kubelet's allowlist check, with its message.
pub fn admit(name: &str) -> Result<(), String> {
    let name = normalize(name);
    if SAFE.contains(&name.as_str()) {
        return Ok(());
    }
    match namespace_of(&name) {
        Some(oci_spec::runtime::LinuxNamespaceType::Uts) | None => {
            Err(format!("forbidden sysctl: {name:?} not allowlisted"))
        }
        Some(_) => Ok(()),
    }
}

/// One message per sysctl the node refuses, naming the field.
pub fn check(pod: &Pod) -> Vec<String> {
    let mut errors = Vec::new();
    for (i, s) in sysctls(pod).iter().enumerate() {
        if let Err(why) = admit(&s.name) {
            errors.push(format!(
                "spec.securityContext.sysctls[{i}]: SysctlForbidden: {why}"
            ));
        }
    }
    errors
}

fn sysctls(pod: &Pod) -> &[k8s_openapi::api::core::v1::Sysctl] {
    pod.spec
        .as_ref()
        .and_then(|s| s.security_context.as_ref())
        .and_then(|s| s.sysctls.as_deref())
        .unwrap_or(&[])
}

/// The infra's `linux.sysctl`.
pub fn for_infra(pod: &Pod) -> HashMap<String, String> {
    sysctls(pod)
        .iter()
        .map(|s| (s.name.clone(), s.value.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_and_namespaced_pass_the_rest_in_kubelets_words() {
        assert!(admit("net.ipv4.tcp_syncookies").is_ok());
        assert!(admit("kernel.shm_rmid_forced").is_ok());
        assert!(admit("kernel.msgmax").is_ok());
        assert!(admit("net.core.somaxconn").is_ok());
        assert!(admit("fs.mqueue.msg_max").is_ok());
        assert_eq!(
            admit("vm.swappiness").unwrap_err(),
            "forbidden sysctl: \"vm.swappiness\" not allowlisted"
        );
        assert_eq!(
            admit("kernel/panic").unwrap_err(),
            "forbidden sysctl: \"kernel.panic\" not allowlisted"
        );
    }
}
