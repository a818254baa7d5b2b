//! The pod's network as its own namespace shows it: `/proc/<infra>/net/dev` (the
//! interfaces, with their byte counters) and `/proc/<infra>/net/fib_trie` (the
//! addresses that are local there), read through the infra process, which lives in
//! the pod's network namespace: the kernel's view, not the CNI result's.

use std::net::Ipv4Addr;

#[derive(Debug, Clone, PartialEq)]
pub struct Interface {
    pub name: String,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
}

/// The interfaces of `/proc/<pid>/net/dev`.
pub fn interfaces(pid: i32) -> Vec<Interface> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/net/dev")).unwrap_or_default();
    parse_dev(&text)
}

pub fn parse_dev(text: &str) -> Vec<Interface> {
    text.lines()
        .skip(2)
        .filter_map(|l| {
            let (name, rest) = l.split_once(':')?;
            let nums: Vec<u64> = rest
                .split_whitespace()
                .filter_map(|n| n.parse().ok())
                .collect();
            Some(Interface {
                name: name.trim().to_string(),
                rx_bytes: *nums.first()?,
                tx_bytes: *nums.get(8)?,
            })
        })
        .collect()
}

/// The IPv4 addresses local to the namespace (`/32 host LOCAL` in the FIB).
pub fn local_addresses(pid: i32) -> Vec<Ipv4Addr> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/net/fib_trie")).unwrap_or_default();
    parse_fib_locals(&text)
}

pub fn parse_fib_locals(text: &str) -> Vec<Ipv4Addr> {
    let mut out: Vec<Ipv4Addr> = Vec::new();
    let mut last: Option<Ipv4Addr> = None;
    for line in text.lines() {
        let t = line.trim();
        if let Some(addr) = t.strip_prefix("|-- ") {
            last = addr.parse().ok();
        } else if t.starts_with("/32 host LOCAL") {
            if let Some(a) = last.filter(|a| !out.contains(a)) {
                out.push(a);
            }
        }
    }
    out
}

/// `Veth pair: eth0 (10.244.0.5/16, index 2) ⇄ vethab12cd34 (index 9) on bridge
/// minipod0`, as the kernel links them.
pub fn pair_line(link: &crate::net::links::PodLink) -> String {
    let addrs = link.global_addresses();
    let host = match (&link.host_veth, link.host_index) {
        (Some(name), Some(i)) => format!("{name} (index {i})"),
        _ => "? (its peer is not in this network namespace)".into(),
    };
    format!(
        "Veth pair: {} ({}, index {}) ⇄ {host} on bridge {}",
        link.name,
        if addrs.is_empty() {
            "no address".into()
        } else {
            addrs.join(", ")
        },
        link.index,
        link.bridge.as_deref().unwrap_or("none")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interfaces_and_local_addresses_are_read_from_procfs_text() {
        let dev = "Inter-|   Receive |  Transmit\n face |bytes packets errs drop fifo frame compressed multicast|bytes\n    lo:     100 1 0 0 0 0 0 0      100 1 0 0 0 0 0 0\n  eth0:    2048 9 0 0 0 0 0 0      512 4 0 0 0 0 0 0\n";
        let i = parse_dev(dev);
        assert_eq!(i.len(), 2);
        assert_eq!(
            (i[1].name.as_str(), i[1].rx_bytes, i[1].tx_bytes),
            ("eth0", 2048, 512)
        );
        let fib = "Main:\n  +-- 0.0.0.0/0 3 0 5\n     |-- 0.0.0.0\n        /0 universe UNICAST\n     +-- 10.244.0.0/16 2 0 2\n        |-- 10.244.0.5\n           /32 host LOCAL\n  +-- 127.0.0.0/8 2 0 2\n     |-- 127.0.0.1\n        /32 host LOCAL\nLocal:\n        |-- 10.244.0.5\n           /32 host LOCAL\n";
        assert_eq!(
            parse_fib_locals(fib),
            [Ipv4Addr::new(10, 244, 0, 5), Ipv4Addr::new(127, 0, 0, 1)]
        );
    }
}
