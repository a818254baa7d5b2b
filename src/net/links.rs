//! The links and addresses of a network namespace as the kernel tells them over
//! rtnetlink (`ip -d link`, `ip addr`): a link's index, name, the index of its peer
//! (`IFLA_LINK`: a veth's other end) and of its master (`IFLA_MASTER`: the bridge it
//! is enslaved to). The pod's `eth0` is one end of a veth pair; its peer's index,
//! looked up among the host's links, names the host-side veth and its bridge. Read
//! from the kernel, never from the CNI result.

use anyhow::{bail, Context, Result};
use nix::sys::socket::{
    recv, send, socket, AddressFamily, MsgFlags, SockFlag, SockProtocol, SockType,
};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, OwnedFd};

#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub index: u32,
    pub name: String,
    /// `IFLA_LINK`: the peer's index (in the peer's namespace) for a veth.
    pub peer: Option<u32>,
    /// `IFLA_MASTER`: the bridge this link is a port of.
    pub master: Option<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    pub index: u32,
    pub ip: IpAddr,
    pub prefix: u8,
}

impl Address {
    /// An IPv6 link-local address (fe80::/10), which every IPv6-capable link has.
    pub fn is_link_local(&self) -> bool {
        matches!(self.ip, IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80)
    }
}

/// The pod's interface, the veth pair it is one end of, and the bridge on the host.
#[derive(Debug, Clone, PartialEq)]
pub struct PodLink {
    /// `eth0`, inside the pod.
    pub name: String,
    pub index: u32,
    pub addresses: Vec<Address>,
    /// The host-side end of the pair (`veth1a2b3c4d`) and its index.
    pub host_veth: Option<String>,
    pub host_index: Option<u32>,
    /// The bridge the host-side end is a port of (`minipod0`).
    pub bridge: Option<String>,
}

impl PodLink {
    /// The pod end's addresses as `10.244.0.5/16`, without IPv6 link-local ones.
    pub fn global_addresses(&self) -> Vec<String> {
        self.addresses
            .iter()
            .filter(|a| !a.is_link_local())
            .map(|a| format!("{}/{}", a.ip, a.prefix))
            .collect()
    }
}

fn route_socket() -> Result<OwnedFd> {
    socket(
        AddressFamily::Netlink,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::NetlinkRoute,
    )
    .context("socket(AF_NETLINK, NETLINK_ROUTE)")
}

/// Every link of the namespace `sock` was born in.
pub fn links(sock: &OwnedFd) -> Result<Vec<Link>> {
    let msgs = dump(sock, libc::RTM_GETLINK, &[0u8; 16])?;
    Ok(msgs
        .iter()
        .filter(|(t, _)| *t == libc::RTM_NEWLINK)
        .filter_map(|(_, body)| parse_link(body))
        .collect())
}

/// Every address of the namespace `sock` was born in.
pub fn addresses(sock: &OwnedFd) -> Result<Vec<Address>> {
    let msgs = dump(sock, libc::RTM_GETADDR, &[0u8; 8])?;
    Ok(msgs
        .iter()
        .filter(|(t, _)| *t == libc::RTM_NEWADDR)
        .filter_map(|(_, body)| parse_address(body))
        .collect())
}

/// The links of this thread's own network namespace.
pub fn links_here() -> Result<Vec<Link>> {
    links(&route_socket()?)
}

/// `ifname` of the network namespace of process `pid`, and the host end of its veth
/// pair among the links of the caller's own namespace (where the bridge is). None
/// when the pod has no such interface.
pub fn pod_link(pid: i32, ifname: &str) -> Result<Option<PodLink>> {
    let sock = crate::runtime::visit::in_namespace_of(
        pid,
        nix::sched::CloneFlags::CLONE_NEWNET,
        route_socket,
    )??;
    let inside = links(&sock)?;
    let Some(link) = inside.iter().find(|l| l.name == ifname) else {
        return Ok(None);
    };
    let addrs = addresses(&sock)?
        .into_iter()
        .filter(|a| a.index == link.index)
        .collect();
    let host = links_here()?;
    let peer = link
        .peer
        .filter(|p| *p != link.index)
        .and_then(|p| host.iter().find(|h| h.index == p));
    let bridge = peer
        .and_then(|p| p.master)
        .and_then(|m| host.iter().find(|h| h.index == m))
        .map(|b| b.name.clone());
    Ok(Some(PodLink {
        name: link.name.clone(),
        index: link.index,
        addresses: addrs,
        host_veth: peer.map(|p| p.name.clone()),
        host_index: peer.map(|p| p.index),
        bridge,
    }))
}

const NLMSG_HDR: usize = 16;

/// One `NLM_F_DUMP` request, every answer's (type, body) until `NLMSG_DONE`.
fn dump(sock: &OwnedFd, kind: u16, body: &[u8]) -> Result<Vec<(u16, Vec<u8>)>> {
    let len = u32::try_from(NLMSG_HDR + body.len()).context("netlink request size")?;
    let flags = (libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16;
    let mut req = Vec::with_capacity(NLMSG_HDR + body.len());
    req.extend_from_slice(&len.to_ne_bytes());
    req.extend_from_slice(&kind.to_ne_bytes());
    req.extend_from_slice(&flags.to_ne_bytes());
    req.extend_from_slice(&1u32.to_ne_bytes()); // sequence
    req.extend_from_slice(&0u32.to_ne_bytes()); // port: the kernel
    req.extend_from_slice(body);
    send(sock.as_raw_fd(), &req, MsgFlags::empty()).context("send the rtnetlink dump request")?;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        let n = recv(sock.as_raw_fd(), &mut buf, MsgFlags::empty())
            .context("read the rtnetlink answer")?;
        if n == 0 {
            bail!("rtnetlink closed before the end of the dump");
        }
        let mut rest = buf.get(..n).unwrap_or_default();
        while rest.len() >= NLMSG_HDR {
            let mlen = u32_at(rest, 0).unwrap_or(0) as usize;
            let mtype = u16_at(rest, 4).unwrap_or(0);
            if mlen < NLMSG_HDR || mlen > rest.len() {
                bail!("a malformed rtnetlink message ({mlen} bytes)");
            }
            match i32::from(mtype) {
                libc::NLMSG_DONE => return Ok(out),
                libc::NLMSG_ERROR => {
                    let code = rest
                        .get(16..20)
                        .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
                    if code != Some(0) {
                        bail!("rtnetlink error {}", code.unwrap_or(0));
                    }
                }
                _ => out.push((mtype, rest[NLMSG_HDR..mlen].to_vec())),
            }
            rest = rest.get(align(mlen)..).unwrap_or_default();
        }
    }
}

fn align(n: usize) -> usize {
    (n + 3) & !3
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The attributes (`struct rtattr` + value, 4-aligned) after a fixed header.
fn attributes(mut b: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    while b.len() >= 4 {
        let (Some(len), Some(kind)) = (u16_at(b, 0), u16_at(b, 2)) else {
            break;
        };
        let len = usize::from(len);
        if len < 4 || len > b.len() {
            break;
        }
        out.push((kind, &b[4..len]));
        b = b.get(align(len)..).unwrap_or_default();
    }
    out
}

/// `struct ifinfomsg` (16 bytes: family, pad, type, index, flags, change) + attributes.
fn parse_link(body: &[u8]) -> Option<Link> {
    let index = u32_at(body, 4)?;
    let mut link = Link {
        index,
        name: String::new(),
        peer: None,
        master: None,
    };
    for (kind, value) in attributes(body.get(16..)?) {
        match kind {
            libc::IFLA_IFNAME => {
                let name = value.split(|b| *b == 0).next().unwrap_or_default();
                link.name = String::from_utf8_lossy(name).into_owned();
            }
            libc::IFLA_LINK => link.peer = u32_at(value, 0),
            libc::IFLA_MASTER => link.master = u32_at(value, 0),
            _ => {}
        }
    }
    Some(link)
}

/// `struct ifaddrmsg` (8 bytes: family, prefix length, flags, scope, index) +
/// attributes; the address is `IFA_LOCAL` (IPv4) or `IFA_ADDRESS`.
fn parse_address(body: &[u8]) -> Option<Address> {
    let prefix = *body.get(1)?;
    let index = u32_at(body, 4)?;
    let attrs = attributes(body.get(8..)?);
    let pick = |want: u16| attrs.iter().find(|(k, _)| *k == want).map(|(_, v)| *v);
    let raw = pick(libc::IFA_LOCAL).or_else(|| pick(libc::IFA_ADDRESS))?;
    let ip = match raw.len() {
        4 => IpAddr::V4(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3])),
        16 => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(raw).ok()?)),
        _ => return None,
    };
    Some(Address { index, ip, prefix })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(kind: u16, value: &[u8]) -> Vec<u8> {
        let mut a = Vec::new();
        a.extend_from_slice(&u16::try_from(4 + value.len()).unwrap().to_ne_bytes());
        a.extend_from_slice(&kind.to_ne_bytes());
        a.extend_from_slice(value);
        while a.len() % 4 != 0 {
            a.push(0);
        }
        a
    }

    #[test]
    fn a_veth_names_its_peer_and_a_port_its_bridge() {
        let mut body = vec![0u8; 16];
        body[4..8].copy_from_slice(&2u32.to_ne_bytes());
        body.extend(attr(libc::IFLA_IFNAME, b"eth0\0"));
        body.extend(attr(libc::IFLA_LINK, &7u32.to_ne_bytes()));
        body.extend(attr(libc::IFLA_MASTER, &3u32.to_ne_bytes()));
        let link = parse_link(&body).unwrap();
        assert_eq!(
            link,
            Link {
                index: 2,
                name: "eth0".into(),
                peer: Some(7),
                master: Some(3)
            }
        );
        let mut addr = vec![2u8, 16, 0, 0];
        addr.extend_from_slice(&2u32.to_ne_bytes());
        addr.extend(attr(libc::IFA_ADDRESS, &[10, 244, 0, 5]));
        addr.extend(attr(libc::IFA_LOCAL, &[10, 244, 0, 5]));
        let a = parse_address(&addr).unwrap();
        assert_eq!(
            (a.index, a.ip.to_string(), a.prefix),
            (2, "10.244.0.5".into(), 16)
        );
        // A truncated attribute ends the list, it does not read past it.
        assert!(attributes(&[8, 0, 3, 0, b'x']).is_empty());
    }

    #[test]
    fn this_namespace_has_a_loopback_link() {
        let links = links_here().unwrap();
        assert!(
            links.iter().any(|l| l.name == "lo" && l.index == 1),
            "{links:?}"
        );
    }
}
