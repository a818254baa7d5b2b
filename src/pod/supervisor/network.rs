//! The pod's network from the supervisor's side (containerd's `setupPodNetwork` and
//! `teardownPodNetwork`): CNI ADD right after the infra process holds the new network
//! namespace and before any container starts (so the downward API and `/etc/hosts`
//! know the pod's IP), CNI DEL before the infra process goes (the bridge plugin
//! removes its NAT rule only while the namespace still exists).

use super::Supervisor;
use crate::net::netns_pin;
use crate::net::pod_network::{NetworkSetup, PodAddresses, IFNAME};
use crate::pod::etc_files;
use crate::pod::events::{self, EventType};
use crate::pod::status::PodIp;
use anyhow::{Context, Result};
use nix::unistd::Pid;
use std::path::PathBuf;

/// The supervisor's hold on the pod network.
pub(super) struct PodNet {
    pub setup: NetworkSetup,
    /// The namespace's pin (`<run>/netns/cni-<uid>`), from ADD to DEL: DEL reaches
    /// the namespace through it even if the infra process died first, and so does
    /// `delete` if we die too.
    pin: Option<PathBuf>,
}

impl PodNet {
    pub fn new(setup: NetworkSetup) -> PodNet {
        PodNet { setup, pin: None }
    }
}

impl Supervisor {
    /// CNI ADD on `/proc/<infra>/ns/net`; the pod's IPs go to the status, to the pod
    /// object the downward API reads, and to `/etc/hosts`.
    pub(super) fn attach_network(&mut self, infra: Pid) -> Result<()> {
        if self.host_network() {
            // No CNI call: the pod's IP is the host's, as kubelet reports it.
            let host = crate::net::pod_network::node_ip();
            crate::narration::step(
                format!("no CNI ADD: the pod is on the host's network, IP {host}"),
                "hostNetwork: true shares the host's network namespace",
            );
            self.show_addresses(&PodAddresses {
                pod_ips: vec![host],
                host_ip: host,
                gateway: None,
                network: "host".into(),
            });
            return Ok(());
        }
        if !self.net.setup.plugins_installed() {
            events::record(
                &self.paths,
                EventType::Warning,
                "NetworkNotReady",
                format!(
                    "no CNI plugins in {}: the pod has loopback only (apt-get install containernetworking-plugins)",
                    self.net
                        .setup
                        .bin_dirs
                        .iter()
                        .map(|d| d.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            return Ok(());
        }
        // delete and explain of this pod use the same directories.
        self.net.setup.record(&self.paths.run)?;
        let uid = self.record.uid().to_string();
        let pin = netns_pin::pin(&self.net.setup.pin_dir, &uid, infra.as_raw())
            .context("pin the pod's network namespace")?;
        self.net.pin = Some(pin.clone());
        let netns = pin.display().to_string();
        let addrs = self
            .net
            .setup
            .attach(&self.record.pod, &uid, &netns)
            .context("set up the pod network (CNI ADD)")?;
        // The host's end of the pair, as the kernel tells it (eth0's peer index).
        let pair = match crate::net::links::pod_link(infra.as_raw(), IFNAME) {
            Ok(Some(link)) => format!(
                "; veth pair {IFNAME} ⇄ {} on bridge {}",
                link.host_veth.as_deref().unwrap_or("?"),
                link.bridge.as_deref().unwrap_or("none")
            ),
            Ok(None) => String::new(),
            Err(e) => format!("; host side unknown ({e:#})"),
        };
        crate::narration::step(
            format!(
                "{IFNAME} in {netns}: {} via gateway {} (network {}){pair}",
                addrs
                    .pod_ips
                    .iter()
                    .map(|ip| ip.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                addrs
                    .gateway
                    .map(|g| g.to_string())
                    .unwrap_or_else(|| "none".into()),
                addrs.network
            ),
            "the pod's own IP, before any container starts",
        );
        self.show_addresses(&addrs);
        events::record(
            &self.paths,
            EventType::Normal,
            "AddedInterface",
            format!(
                "Add {IFNAME} [{}] from {}",
                addrs
                    .pod_ips
                    .iter()
                    .map(|ip| ip.to_string())
                    .collect::<Vec<_>>()
                    .join(" "),
                addrs.network
            ),
        );
        Ok(())
    }

    /// `spec.hostNetwork: true`.
    pub(super) fn host_network(&self) -> bool {
        crate::net::pod_network::host_network(&self.record.pod)
    }

    fn show_addresses(&mut self, addrs: &PodAddresses) {
        let ips: Vec<PodIp> = addrs
            .pod_ips
            .iter()
            .map(|ip| PodIp { ip: ip.to_string() })
            .collect();
        self.status.pod_ip = ips.first().map(|p| p.ip.clone()).unwrap_or_default();
        self.status.pod_ips = ips;
        self.status.host_ip = addrs.host_ip.to_string();
        self.status.host_ips = vec![PodIp {
            ip: addrs.host_ip.to_string(),
        }];
        self.give_pod_its_addresses();
        // kubelet's hosts file names the pod by its IP.
        if let Err(e) = etc_files::write(&self.record.pod, &self.paths) {
            events::record(
                &self.paths,
                EventType::Warning,
                "FailedToWriteHosts",
                format!("{e:#}"),
            );
        }
    }

    /// The pod object containers' environments are built from carries the IPs (the
    /// downward API's `status.podIP`, `status.hostIP`).
    pub(super) fn give_pod_its_addresses(&mut self) {
        use k8s_openapi::api::core::v1 as k8s;
        if self.status.pod_ip.is_empty() {
            return;
        }
        let list = |ips: &[PodIp]| {
            Some(
                ips.iter()
                    .map(|p| k8s::PodIP { ip: p.ip.clone() })
                    .collect(),
            )
        };
        let status = self.record.pod.status.get_or_insert_with(Default::default);
        status.pod_ip = Some(self.status.pod_ip.clone());
        status.pod_ips = list(&self.status.pod_ips);
        status.host_ip = Some(self.status.host_ip.clone());
        status.host_ips = list(&self.status.host_ips)
            .map(|v: Vec<k8s::PodIP>| v.into_iter().map(|p| k8s::HostIP { ip: p.ip }).collect());
    }

    /// CNI DEL of the pod's attachment, through its pin (the namespace lives while
    /// pinned), then the pin goes. Runs at most once with effect: the cache entry goes
    /// with a successful DEL.
    pub(super) fn detach_network(&mut self) {
        let Some(pin) = self.net.pin.take() else {
            return;
        };
        let netns = if netns_pin::is_pinned(&pin) {
            pin.display().to_string()
        } else {
            String::new()
        };
        let uid = self.record.uid().to_string();
        let deleted = self.net.setup.detach(&self.record.pod, &uid, &netns);
        if let Err(e) = deleted.and(netns_pin::unpin(&pin)) {
            events::record(
                &self.paths,
                EventType::Warning,
                "FailedKillPod",
                format!("tear down the pod network (CNI DEL): {e:#}"),
            );
        }
    }
}
