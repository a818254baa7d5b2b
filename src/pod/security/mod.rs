//! `securityContext`: who a container runs as and what it may do, decided from the
//! pod's and the container's settings the way kubelet and containerd decide it (the
//! container's value wins over the pod's). Pure functions: the results go into the
//! OCI spec, which the runtime carries out.
//!
//! - `identity`: uid, gid and supplementary groups (runAsUser, runAsGroup,
//!   supplementalGroups and their policy, fsGroup, the image's USER), runAsNonRoot.
//! - `privileges`: capabilities, no_new_privs, privileged, read-only root, /proc.
//! - `fs_group`: the group ownership kubelet gives a pod's emptyDir volumes.
//! - `host_modules`: SELinux, AppArmor and Windows options, refused where the host
//!   has no such module.

pub mod fs_group;
pub mod host_devices;
pub mod host_modules;
pub mod host_namespaces;
pub mod identity;
pub mod privileges;
pub mod sysctls;
pub mod userns;

use k8s_openapi::api::core::v1::{Container, Pod, PodSecurityContext, SecurityContext};

/// The pod's `securityContext`, if any.
pub fn pod_context(pod: &Pod) -> Option<&PodSecurityContext> {
    pod.spec.as_ref().and_then(|s| s.security_context.as_ref())
}

/// The container's `securityContext`, if any.
pub fn container_context(c: &Container) -> Option<&SecurityContext> {
    c.security_context.as_ref()
}

/// kubelet's `format.Pod`: `name_namespace(uid)`.
pub fn pod_label(pod: &Pod) -> String {
    format!(
        "{}_{}({})",
        pod.metadata.name.as_deref().unwrap_or_default(),
        pod.metadata.namespace.as_deref().unwrap_or("default"),
        pod.metadata.uid.as_deref().unwrap_or_default()
    )
}

/// What the pod's securityContext asks of its infra: keep the host's IPC namespace,
/// write these sysctls into the pod's new namespaces.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InfraSecurity {
    pub host_ipc: bool,
    /// `hostUsers: false`: the first host id of the pod's user namespace.
    pub userns: Option<u32>,
    pub sysctls: std::collections::HashMap<String, String>,
}

pub fn infra_security(pod: &Pod) -> InfraSecurity {
    InfraSecurity {
        host_ipc: host_namespaces::host_ipc(pod),
        userns: None,
        sysctls: sysctls::for_infra(pod),
    }
}

/// `linux.uidMappings` / `gidMappings` of a pod's user namespace starting at
/// `host_start`.
pub fn id_mappings(host_start: u32) -> anyhow::Result<Vec<oci_spec::runtime::LinuxIdMapping>> {
    Ok(vec![oci_spec::runtime::LinuxIdMappingBuilder::default()
        .container_id(0u32)
        .host_id(host_start)
        .size(userns::LENGTH)
        .build()?])
}
