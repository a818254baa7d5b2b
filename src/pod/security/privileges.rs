//! What a container's process may do, as kubelet asks containerd and containerd writes
//! the OCI spec:
//!
//! - capabilities: the 14 defaults; `add: [ALL]` first gives every capability the
//!   kernel has, `drop: [ALL]` empties the set, then each named capability is added,
//!   then each named one dropped (names with or without `CAP_`, any case). The result
//!   is the bounding, effective and permitted sets (never inheritable: CVE-2022-24769).
//! - `allowPrivilegeEscalation: false` (set on the container) is `no_new_privs`.
//! - `privileged`: every capability, every host device and all of them allowed, no
//!   masked or read-only /proc paths, /sys writable, no seccomp filter.
//! - `readOnlyRootFilesystem` is the spec's read-only root.
//! - `procMount: Unmasked` leaves /proc without masked and read-only paths.

use super::container_context;
use crate::pod::container_spec::DEFAULT_CAPABILITIES;
use k8s_openapi::api::core::v1::Container;
use oci_spec::runtime::Capability;
use std::collections::HashSet;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq)]
pub struct Privileges {
    pub privileged: bool,
    /// Bounding = effective = permitted.
    pub capabilities: HashSet<Capability>,
    pub no_new_privs: bool,
    pub readonly_root: bool,
    /// No masked and no read-only /proc paths (privileged or procMount Unmasked).
    pub unmasked_proc: bool,
}

/// A capability name as a manifest writes it (`NET_ADMIN`, `CAP_NET_ADMIN`, `net_admin`).
pub fn parse_capability(name: &str) -> Option<Capability> {
    let upper = name.to_ascii_uppercase();
    let bare = upper.strip_prefix("CAP_").unwrap_or(&upper);
    Capability::from_str(bare).ok()
}

/// Every capability minipod itself holds (what `privileged` and `add: [ALL]` give):
/// containerd's WithAllCurrentCapabilities. Not every one the kernel knows: a host
/// root may lack some (this one lacks CAP_SYS_RESOURCE), and no process can grant
/// what it has not got.
pub fn host_capabilities() -> HashSet<Capability> {
    caps::read(None, caps::CapSet::Permitted)
        .unwrap_or_default()
        .iter()
        .filter_map(|c| parse_capability(&c.to_string()))
        .collect()
}

/// `securityContext.privileged: true`: containerd then loads no seccomp filter.
pub fn is_privileged(c: &Container) -> bool {
    container_context(c).and_then(|s| s.privileged) == Some(true)
}

/// The container's privileges; `all` is every capability of the host's kernel.
/// Capability names were checked by the API validation; an unknown one is skipped.
pub fn decide(c: &Container, all: &HashSet<Capability>) -> Privileges {
    let sc = container_context(c);
    let privileged = sc.and_then(|s| s.privileged) == Some(true);
    let mut set: HashSet<Capability> = DEFAULT_CAPABILITIES.into_iter().collect();
    if privileged {
        set = all.clone();
    } else if let Some(caps) = sc.and_then(|s| s.capabilities.as_ref()) {
        let add = caps.add.as_deref().unwrap_or(&[]);
        let drop = caps.drop.as_deref().unwrap_or(&[]);
        let is_all = |n: &String| n.eq_ignore_ascii_case("ALL");
        if add.iter().any(is_all) {
            set = all.clone();
        }
        if drop.iter().any(is_all) {
            set.clear();
        }
        set.extend(
            add.iter()
                .filter(|n| !is_all(n))
                .filter_map(|n| parse_capability(n)),
        );
        for cap in drop
            .iter()
            .filter(|n| !is_all(n))
            .filter_map(|n| parse_capability(n))
        {
            set.remove(&cap);
        }
    }
    let unmasked = sc.and_then(|s| s.proc_mount.as_deref()) == Some("Unmasked");
    Privileges {
        privileged,
        capabilities: set,
        // kubelet's AddNoNewPrivileges: only an explicit false on the container.
        no_new_privs: sc.and_then(|s| s.allow_privilege_escalation) == Some(false),
        readonly_root: sc.and_then(|s| s.read_only_root_filesystem) == Some(true),
        unmasked_proc: privileged || unmasked,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Capabilities, SecurityContext};

    fn with(sc: SecurityContext) -> Container {
        Container {
            name: "c".into(),
            security_context: Some(sc),
            ..Default::default()
        }
    }

    fn caps(add: &[&str], drop: &[&str]) -> Container {
        with(SecurityContext {
            capabilities: Some(Capabilities {
                add: Some(add.iter().map(|s| s.to_string()).collect()),
                drop: Some(drop.iter().map(|s| s.to_string()).collect()),
            }),
            ..Default::default()
        })
    }

    #[test]
    fn names_with_or_without_cap_and_any_case() {
        assert_eq!(parse_capability("NET_ADMIN"), Some(Capability::NetAdmin));
        assert_eq!(
            parse_capability("CAP_NET_ADMIN"),
            Some(Capability::NetAdmin)
        );
        assert_eq!(parse_capability("sys_time"), Some(Capability::SysTime));
        assert_eq!(parse_capability("NOPE"), None);
    }

    #[test]
    fn add_drop_and_all_in_containerds_order() {
        let all = host_capabilities();
        assert!(all.len() >= 20, "{all:?}");
        let p = decide(&caps(&["NET_ADMIN", "CAP_SYS_TIME"], &["KILL"]), &all);
        assert!(p.capabilities.contains(&Capability::NetAdmin));
        assert!(p.capabilities.contains(&Capability::SysTime));
        assert!(!p.capabilities.contains(&Capability::Kill));
        assert_eq!(p.capabilities.len(), 15);
        let p = decide(&caps(&["NET_BIND_SERVICE"], &["ALL"]), &all);
        assert_eq!(
            p.capabilities,
            [Capability::NetBindService].into_iter().collect()
        );
        let p = decide(&caps(&["ALL"], &["CHOWN"]), &all);
        assert_eq!(p.capabilities.len(), all.len() - 1);
    }

    #[test]
    fn privileged_has_everything_and_no_masks() {
        let all = host_capabilities();
        let p = decide(
            &with(SecurityContext {
                privileged: Some(true),
                ..Default::default()
            }),
            &all,
        );
        assert_eq!(p.capabilities, all);
        assert!(p.unmasked_proc && !p.no_new_privs);
    }

    #[test]
    fn no_new_privs_only_when_escalation_is_false() {
        let all = host_capabilities();
        let p = decide(
            &with(SecurityContext {
                allow_privilege_escalation: Some(false),
                read_only_root_filesystem: Some(true),
                ..Default::default()
            }),
            &all,
        );
        assert!(p.no_new_privs && p.readonly_root && !p.unmasked_proc);
        let p = decide(&Container::default(), &all);
        assert!(!p.no_new_privs && !p.readonly_root);
        assert_eq!(p.capabilities.len(), 14);
    }
}
