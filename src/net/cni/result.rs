//! What ADD returns (CNI result, spec 0.3.0 and later): the interfaces made, the IPs
//! given (each with the index of its interface), routes and DNS. minipod reads the
//! pod's IPs and gateway from it; the whole JSON is cached as it came.

use serde_json::Value;
use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq)]
pub struct CniResult {
    pub raw: Value,
}

/// One address of the pod: `10.244.0.5/16`, its gateway, the interface it is on.
#[derive(Debug, Clone, PartialEq)]
pub struct PodAddress {
    pub ip: IpAddr,
    pub prefix: u8,
    pub gateway: Option<IpAddr>,
    pub interface: Option<String>,
}

impl CniResult {
    pub fn new(raw: Value) -> CniResult {
        CniResult { raw }
    }

    /// The addresses given to the interface inside the namespace, IPv4 first (the
    /// pod's `podIP` is the first, as kubelet takes it).
    pub fn addresses(&self) -> Vec<PodAddress> {
        let interfaces = self.raw.get("interfaces").and_then(Value::as_array);
        let mut out: Vec<PodAddress> = self
            .raw
            .get("ips")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|ip| {
                let (addr, prefix) = ip.get("address")?.as_str()?.split_once('/')?;
                let interface = ip
                    .get("interface")
                    .and_then(Value::as_u64)
                    .and_then(|i| interfaces?.get(usize::try_from(i).ok()?))
                    .and_then(|i| i.get("name"))
                    .and_then(Value::as_str)
                    .map(String::from);
                Some(PodAddress {
                    ip: addr.parse().ok()?,
                    prefix: prefix.parse().ok()?,
                    gateway: ip
                        .get("gateway")
                        .and_then(Value::as_str)
                        .and_then(|g| g.parse().ok()),
                    interface,
                })
            })
            .collect();
        out.sort_by_key(|a| a.ip.is_ipv6());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pods_address_comes_from_the_sandbox_interface() {
        let r = CniResult::new(serde_json::json!({
            "cniVersion": "1.0.0",
            "interfaces": [
                {"name": "minipod0", "mac": "aa"},
                {"name": "veth1", "mac": "bb"},
                {"name": "eth0", "mac": "cc", "sandbox": "/proc/9/ns/net"}
            ],
            "ips": [{"address": "10.244.0.7/16", "gateway": "10.244.0.1", "interface": 2}]
        }));
        let a = &r.addresses()[0];
        assert_eq!(a.ip.to_string(), "10.244.0.7");
        assert_eq!(a.prefix, 16);
        assert_eq!(a.gateway.unwrap().to_string(), "10.244.0.1");
        assert_eq!(a.interface.as_deref(), Some("eth0"));
    }
}
