//! The pod network, as kubelet and containerd make it: once the infra process holds
//! the pod's new network namespace, the plugins of one CNI network are run on it
//! (ADD), and the pod gets its own IP; when the pod ends, they are run again in
//! reverse (DEL), before the namespace goes, so every rule and lease is released.
//!
//! Where things are (all under the state root, so a test with its own `--root` owns
//! its network files; minipod never edits `/etc/cni/net.d`):
//! - the network config: the first `*.conflist` of `--cni-conf-dir` or
//!   `MINIPOD_CNI_CONF_DIR`, the flag first (containerd's `conf_dir`); by default `<root>/cni/net.d`, where minipod writes its own network,
//!   `minipod`: a `bridge` named `minipod0` (the pods' gateway, with NAT to the
//!   outside) with `host-local` addresses from `MINIPOD_POD_CIDR` (default
//!   10.244.0.0/16, kubeadm/flannel's pod range; podman's 10.88.0.0/16 is left alone),
//!   and `portmap` for `hostPort`;
//! - the plugins: `--cni-bin-dir` or `MINIPOD_CNI_BIN_DIR` (containerd's `bin_dir`,
//!   `:`-separated);
//!   by default `/usr/lib/cni` (Debian) and `/opt/cni/bin`;
//! - host-local's leases: `<root>/cni/networks/<network>/<ip>`;
//! - the result cache: `<root>/cni/results` (libcni's `/var/lib/cni/results`);
//! - the pods' network namespaces, pinned: `<run>/netns/cni-<uid>` (containerd's
//!   `/var/run/netns/cni-<id>`), the path CNI is given as `CNI_NETNS`.
//!
//! The pod's supervisor records the directories it used in `<pod run>/network.json`;
//! `delete` and `explain` of that pod use them (a sandbox it re-creates uses its own,
//! the ones the creating command passed it).
//!
//! The bridge `minipod0` stays when the last pod goes (as `cni0` does on a node).
//! Without any plugin directory the pod keeps loopback only, and says so in an event.

use super::cni::{self, ConfList, Invocation, PortMapping};
use super::netns_pin;
use crate::state::paths::StateRoot;
use anyhow::{bail, Context, Result};
use k8s_openapi::api::core::v1::Pod;
use std::net::{IpAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const DEFAULT_POD_CIDR: &str = "10.244.0.0/16";
pub const DEFAULT_BRIDGE: &str = "minipod0";
pub const DEFAULT_NETWORK: &str = "minipod";
const DEFAULT_BIN_DIRS: &[&str] = &["/usr/lib/cni", "/opt/cni/bin"];
/// The interface inside the pod, as every CRI runtime names it.
pub const IFNAME: &str = "eth0";
const PLUGIN_TIMEOUT: Duration = Duration::from_secs(60);

/// Where the network's files and programs are, for one state root.
#[derive(Debug, Clone)]
pub struct NetworkSetup {
    pub conf_dir: PathBuf,
    /// True when `conf_dir` is minipod's own, where it writes its default network.
    pub own_conf_dir: bool,
    pub bin_dirs: Vec<PathBuf>,
    pub cache_dir: PathBuf,
    pub data_dir: PathBuf,
    /// Where the pods' network namespaces are pinned (`netns_pin`).
    pub pin_dir: PathBuf,
    pub pod_cidr: String,
    /// Where host-local starts giving addresses: None for the default state root; a
    /// point derived from the root's path for `--root DIR` (see `range_start`).
    pub range_seed: Option<u32>,
}

/// What a pod's supervisor records of its network's directories.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Recorded {
    conf_dir: PathBuf,
    own_conf_dir: bool,
    bin_dirs: Vec<PathBuf>,
}

/// `<pod run dir>/network.json`.
fn record_path(pod_run: &Path) -> PathBuf {
    pod_run.join("network.json")
}

/// The pod's addresses, as the status and the downward API show them.
#[derive(Debug, Clone, PartialEq)]
pub struct PodAddresses {
    pub pod_ips: Vec<IpAddr>,
    pub host_ip: IpAddr,
    pub gateway: Option<IpAddr>,
    pub network: String,
}

impl NetworkSetup {
    /// The directories `state` was given (`--cni-conf-dir`, `--cni-bin-dir`, or
    /// their environment variables), else minipod's own network and Debian's and
    /// the usual plugin directories.
    pub fn for_state(state: &StateRoot) -> NetworkSetup {
        let base = state.lib.join("cni");
        let bin_dirs = match &state.cni_bin_dir {
            Some(v) => v
                .split(':')
                .filter(|d| !d.is_empty())
                .map(PathBuf::from)
                .collect(),
            None => DEFAULT_BIN_DIRS.iter().map(PathBuf::from).collect(),
        };
        NetworkSetup {
            own_conf_dir: state.cni_conf_dir.is_none(),
            conf_dir: state
                .cni_conf_dir
                .clone()
                .unwrap_or_else(|| base.join("net.d")),
            bin_dirs,
            cache_dir: base.join("results"),
            data_dir: base.join("networks"),
            pin_dir: super::netns_pin::dir(state),
            pod_cidr: std::env::var("MINIPOD_POD_CIDR")
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| DEFAULT_POD_CIDR.to_string()),
            range_seed: state
                .root
                .as_ref()
                .map(|r| fnv32(r.as_os_str().as_encoded_bytes())),
        }
    }

    /// The setup pod `uid` was created with (its supervisor recorded it), so a
    /// `delete` or `explain` run without the creating command's flags still finds
    /// its plugins; else the one `state` gives.
    pub fn for_pod(state: &StateRoot, uid: &str) -> NetworkSetup {
        let mut setup = NetworkSetup::for_state(state);
        let file = record_path(&state.pod_run(uid));
        let recorded = std::fs::read(&file)
            .ok()
            .and_then(|b| serde_json::from_slice::<Recorded>(&b).ok());
        if let Some(r) = recorded {
            setup.own_conf_dir = r.own_conf_dir;
            setup.conf_dir = r.conf_dir;
            setup.bin_dirs = r.bin_dirs;
        }
        setup
    }

    /// Record where this pod's network came from, in its run directory `pod_run`.
    pub fn record(&self, pod_run: &Path) -> Result<()> {
        let r = Recorded {
            conf_dir: self.conf_dir.clone(),
            own_conf_dir: self.own_conf_dir,
            bin_dirs: self.bin_dirs.clone(),
        };
        crate::state::atomic::write_json(&record_path(pod_run), &r)
    }

    /// Is there a plugin directory at all? (No: the pod keeps loopback only.)
    pub fn plugins_installed(&self) -> bool {
        self.bin_dirs.iter().any(|d| d.join("bridge").is_file())
            || !self.own_conf_dir && self.bin_dirs.iter().any(|d| d.is_dir())
    }

    /// The network to attach: the first conflist of the config directory; in
    /// minipod's own directory, its default network written (again) first.
    pub fn network(&self) -> Result<ConfList> {
        if self.own_conf_dir {
            let text = default_conflist(&self.pod_cidr, &self.data_dir, self.range_seed)?;
            let file = self.conf_dir.join("10-minipod.conflist");
            if std::fs::read_to_string(&file).ok().as_deref() != Some(text.as_str()) {
                std::fs::create_dir_all(&self.conf_dir)
                    .with_context(|| format!("create {}", self.conf_dir.display()))?;
                crate::state::atomic::write_atomic(&file, text.as_bytes())?;
            }
        }
        match ConfList::first_in(&self.conf_dir)? {
            Some(list) => Ok(list),
            None => bail!(
                "no CNI network: {} holds no *.conflist",
                self.conf_dir.display()
            ),
        }
    }

    fn invocation(&self, pod: &Pod, uid: &str, netns: &str) -> Invocation {
        let meta = &pod.metadata;
        let args = [
            ("IgnoreUnknown", "1"),
            (
                "K8S_POD_NAMESPACE",
                meta.namespace.as_deref().unwrap_or("default"),
            ),
            ("K8S_POD_NAME", meta.name.as_deref().unwrap_or("")),
            ("K8S_POD_INFRA_CONTAINER_ID", uid),
            ("K8S_POD_UID", uid),
        ];
        Invocation {
            container_id: uid.to_string(),
            netns: netns.to_string(),
            ifname: IFNAME.to_string(),
            args: args
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            port_mappings: port_mappings(pod),
            bin_dirs: self.bin_dirs.clone(),
            cache_dir: self.cache_dir.clone(),
            timeout: PLUGIN_TIMEOUT,
        }
    }

    /// CNI ADD on the namespace at `netns` (`/proc/<infra>/ns/net`). On failure,
    /// what was done is undone (DEL) before the error is returned.
    pub fn attach(&self, pod: &Pod, uid: &str, netns: &str) -> Result<PodAddresses> {
        let list = self.network()?;
        let inv = self.invocation(pod, uid, netns);
        let attachment = match cni::list::add(&list, &inv) {
            Ok(a) => a,
            Err(e) => {
                self.undo(&inv);
                return Err(e);
            }
        };
        let addrs = attachment.result.addresses();
        let Some(first) = addrs.first() else {
            self.undo(&inv);
            bail!(
                "CNI network {:?} gave the pod no IP address",
                attachment.network
            );
        };
        Ok(PodAddresses {
            pod_ips: addrs.iter().map(|a| a.ip).collect(),
            host_ip: host_ip(first.gateway, first.ip),
            gateway: first.gateway,
            network: attachment.network,
        })
    }

    /// After a failed ADD: DEL what was done; the pod will not exist to be deleted
    /// later, so its cache entry goes even if a plugin refused the DEL (the same
    /// config that failed the ADD often fails the DEL too).
    fn undo(&self, inv: &Invocation) {
        let _ = cni::list::del(inv);
        for (file, _) in cni::cache::entries_of(&self.cache_dir, &inv.container_id) {
            let _ = cni::cache::remove(&file);
        }
    }

    /// CNI DEL of whatever the cache holds for the pod; `netns` may be empty when
    /// the namespace is already gone. Safe to repeat.
    pub fn detach(&self, pod: &Pod, uid: &str, netns: &str) -> Result<()> {
        cni::list::del(&self.invocation(pod, uid, netns))
    }
}

/// The namespace path CNI is given for a pod: its pin, while it holds the namespace;
/// else the infra's `/proc/<pid>/ns/net` while it lives; else nothing (DEL then
/// releases what needs no namespace: the lease, the port mappings).
fn netns_of(setup: &NetworkSetup, uid: &str, infra: Option<i32>) -> String {
    let pin = netns_pin::path(&setup.pin_dir, uid);
    if netns_pin::is_pinned(&pin) {
        return pin.display().to_string();
    }
    infra
        .map(|pid| format!("/proc/{pid}/ns/net"))
        .filter(|p| Path::new(p).exists())
        .unwrap_or_default()
}

/// CNI CHECK of a running pod's attachment (for `explain pod`): the networks that
/// passed, or the first plugin's complaint.
pub fn check(state: &StateRoot, pod: &Pod, uid: &str, infra: i32) -> Result<Vec<String>> {
    let setup = NetworkSetup::for_pod(state, uid);
    let netns = netns_of(&setup, uid, Some(infra));
    cni::list::check(&setup.invocation(pod, uid, &netns))
}

/// CNI DEL for a pod whose supervisor is gone (it crashed): run by `delete` before
/// it kills what is left. The pin still holds the namespace even when every process
/// in it died, so the bridge plugin finds eth0 and its NAT rule. The pin goes after.
/// Nothing cached for the pod: only the pin (if any) to remove.
pub fn release_orphaned(state: &StateRoot, pod: &Pod, uid: &str, infra: Option<i32>) -> Result<()> {
    let setup = NetworkSetup::for_pod(state, uid);
    let pin = netns_pin::path(&setup.pin_dir, uid);
    let deleted = if cni::cache::entries_of(&setup.cache_dir, uid).is_empty() {
        Ok(())
    } else {
        let netns = netns_of(&setup, uid, infra);
        setup
            .detach(pod, uid, &netns)
            .with_context(|| format!("tear down the network of pod {uid} (CNI DEL)"))
    };
    let unpinned = netns_pin::unpin(&pin);
    deleted.and(unpinned)
}

/// minipod's own network: bridge + host-local + portmap, spec 1.0.0.
pub fn default_conflist(pod_cidr: &str, data_dir: &Path, seed: Option<u32>) -> Result<String> {
    let (net, prefix) = pod_cidr
        .split_once('/')
        .with_context(|| format!("MINIPOD_POD_CIDR {pod_cidr:?} is not an address/prefix"))?;
    let (Ok(net), Ok(prefix)) = (net.parse::<std::net::Ipv4Addr>(), prefix.parse::<u8>()) else {
        bail!("MINIPOD_POD_CIDR {pod_cidr:?} is not an IPv4 subnet from /8 to /30");
    };
    if !(8..=30).contains(&prefix) {
        bail!("MINIPOD_POD_CIDR {pod_cidr:?} is not an IPv4 subnet from /8 to /30");
    }
    let mut range = serde_json::json!({ "subnet": pod_cidr });
    if let Some(start) = seed.and_then(|s| range_start(net, prefix, s)) {
        range["rangeStart"] = serde_json::json!(start.to_string());
    }
    let conf = serde_json::json!({
        "cniVersion": "1.0.0",
        "name": DEFAULT_NETWORK,
        "plugins": [
            {
                "type": "bridge",
                "bridge": DEFAULT_BRIDGE,
                "isGateway": true,
                "ipMasq": true,
                "hairpinMode": true,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[range]],
                    "routes": [{ "dst": "0.0.0.0/0" }],
                    "dataDir": data_dir,
                }
            },
            { "type": "portmap", "capabilities": { "portMappings": true } }
        ]
    });
    Ok(serde_json::to_string_pretty(&conf)? + "\n")
}

/// Two state roots (`--root`) in one network namespace share the bridge but not
/// their leases: each starts host-local at its own point of the first half of the
/// subnet (rangeStart), so their pods rarely meet on one address. The default root
/// starts at the beginning, as a node does.
fn range_start(net: std::net::Ipv4Addr, prefix: u8, seed: u32) -> Option<std::net::Ipv4Addr> {
    let size = 1u32.checked_shl(32 - u32::from(prefix))?;
    let half = (size / 2).checked_sub(2).filter(|h| *h > 0)?;
    let offset = 2 + seed % half;
    Some(std::net::Ipv4Addr::from(
        u32::from(net).checked_add(offset)?,
    ))
}

/// FNV-1a, 32 bits: a stable number from a path.
fn fnv32(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

/// containerd's `portMappings` from the pod's `hostPort`s.
pub fn port_mappings(pod: &Pod) -> Vec<PortMapping> {
    let spec = pod.spec.clone().unwrap_or_default();
    spec.init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter())
        .flat_map(|c| c.ports.iter().flatten())
        .filter_map(|p| {
            let host_port = u16::try_from(p.host_port?).ok().filter(|h| *h != 0)?;
            Some(PortMapping {
                host_port,
                container_port: u16::try_from(p.container_port).ok()?,
                protocol: p.protocol.as_deref().unwrap_or("TCP").to_lowercase(),
                host_ip: p.host_ip.clone().unwrap_or_default(),
            })
        })
        .collect()
}

/// `spec.hostNetwork: true`: the pod shares the host's network namespace.
pub fn host_network(pod: &Pod) -> bool {
    pod.spec.as_ref().and_then(|s| s.host_network) == Some(true)
}

/// The source address of the host's default route (a UDP connect sends nothing).
fn routed_ip() -> Option<IpAddr> {
    UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.connect("192.0.2.1:9").map(|_| s))
        .and_then(|s| s.local_addr())
        .map(|a| a.ip())
        .ok()
}

/// The node's address, as kubelet reports `hostIP`: the default route's source
/// address, else the loopback address.
pub fn node_ip() -> IpAddr {
    routed_ip().unwrap_or(IpAddr::from([127, 0, 0, 1]))
}

/// `hostIP` of a pod on a CNI network: the default route's source address; without
/// one, the pod's gateway, which is an address of the host too.
fn host_ip(gateway: Option<IpAddr>, pod_ip: IpAddr) -> IpAddr {
    routed_ip().or(gateway).unwrap_or(pod_ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_network_is_bridge_host_local_portmap() {
        let text = default_conflist("10.244.0.0/16", Path::new("/r/cni/networks"), None).unwrap();
        let list = ConfList::parse(text.as_bytes(), Path::new("10-minipod.conflist")).unwrap();
        assert_eq!(list.cni_version, "1.0.0");
        assert_eq!(list.plugins[0]["bridge"], "minipod0");
        assert_eq!(list.plugins[0]["ipam"]["dataDir"], "/r/cni/networks");
        assert_eq!(list.plugins[1]["type"], "portmap");
        assert!(list.plugins[0]["ipam"]["ranges"][0][0]
            .get("rangeStart")
            .is_none());
        assert!(default_conflist("10.244.0.0", Path::new("/"), None).is_err());
        assert!(default_conflist("fd00::/64", Path::new("/"), None).is_err());
        // Another state root starts elsewhere in the first half of the subnet.
        let other = default_conflist("10.244.0.0/16", Path::new("/"), Some(70_000)).unwrap();
        assert!(
            other.contains("\"rangeStart\": \"10.244.17.118\""),
            "{other}"
        );
        assert_eq!(
            range_start("10.88.0.0".parse().unwrap(), 30, 7),
            None,
            "a /30 has no room to move"
        );
    }
}
