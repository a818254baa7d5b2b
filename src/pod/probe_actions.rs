//! The actions kubelet runs against a container, for probes and lifecycle hooks:
//! a command inside it (`exec`), a TCP connection and an HTTP GET to it. Network
//! actions connect inside the pod's network namespace, so `localhost` is the pod's.

use super::exec;
use crate::runtime;
use anyhow::{bail, Context, Result};
use k8s_openapi::api::core::v1::{ContainerPort, ExecAction, HTTPGetAction};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use nix::sched::CloneFlags;
use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType, SockaddrIn};
use nix::unistd::Pid;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::os::fd::OwnedFd;
use std::time::Duration;

/// What the action needs to reach the container.
pub struct Target<'a> {
    /// The container's first process.
    pub pid: Pid,
    /// What commands run in it get: its process settings, cgroup and seccomp profile.
    pub entry: &'a exec::ContainerEntry,
    /// The infra process, holder of the pod's network namespace.
    pub infra: Pid,
    /// The container's ports, to resolve named ports.
    pub ports: &'a [ContainerPort],
}

/// Run a command in the container; success is exit code 0. Returns its output.
pub fn run_exec(action: &ExecAction, target: &Target, timeout: Duration) -> Result<String, String> {
    let argv = action.command.clone().unwrap_or_default();
    let (out_r, out_w) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| format!("pipe: {e}"))?;
    let stdio = [
        std::fs::File::open("/dev/null").ok().map(OwnedFd::from),
        out_w.try_clone().ok(),
        Some(out_w),
    ];
    let child =
        exec::spawn(target.pid, target.entry, &argv, stdio).map_err(|e| format!("{e:#}"))?;
    let code = exec::wait_with_timeout(child, timeout);
    let mut output = String::new();
    nix::fcntl::fcntl(
        &out_r,
        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
    )
    .ok();
    let _ = std::fs::File::from(out_r).read_to_string(&mut output);
    match code {
        Some(0) => Ok(output),
        Some(code) if output.trim().is_empty() => {
            Err(format!("command {argv:?} exited with {code}"))
        }
        Some(_) => Err(output.trim_end().to_string()),
        None => Err(format!(
            "command timed out after {}s",
            timeout.as_secs_f32()
        )),
    }
}

/// A TCP connection to the port, made from inside the pod's network namespace.
pub fn run_tcp(
    port: &IntOrString,
    host: Option<&str>,
    target: &Target,
    timeout: Duration,
) -> Result<(), String> {
    let port = resolve_port(port, target.ports).map_err(|e| format!("{e:#}"))?;
    connect(target.infra, host, port, timeout).map(|_| ())
}

/// An HTTP GET; success is a status from 200 to 399 (kubelet's rule).
pub fn run_http(action: &HTTPGetAction, target: &Target, timeout: Duration) -> Result<u16, String> {
    if action.scheme.as_deref().is_some_and(|s| s != "HTTP") {
        return Err("HTTPS probes are not supported by minipod yet".into());
    }
    let port = resolve_port(&action.port, target.ports).map_err(|e| format!("{e:#}"))?;
    let host = action.host.as_deref();
    let mut stream = connect(target.infra, host, port, timeout)?;
    let path = action
        .path
        .clone()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "/".into());
    let mut request = format!(
        "GET {path} HTTP/1.1\r\nHost: {}:{port}\r\nUser-Agent: kube-probe/1.34\r\nAccept: */*\r\nConnection: close\r\n",
        host.unwrap_or("localhost")
    );
    for h in action.http_headers.iter().flatten() {
        request.push_str(&format!("{}: {}\r\n", h.name, h.value));
    }
    request.push_str("\r\n");
    stream.set_read_timeout(Some(timeout)).ok();
    stream.set_write_timeout(Some(timeout)).ok();
    stream.write_all(request.as_bytes()).map_err(|e| {
        format!(
            "Get \"http://{}:{port}{path}\": {e}",
            host.unwrap_or("localhost")
        )
    })?;
    let mut head = Vec::new();
    let mut buf = [0u8; 512];
    while !head.windows(2).any(|w| w == b"\r\n") {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(e) => return Err(format!("Get \"http://localhost:{port}{path}\": {e}")),
        }
    }
    let line = String::from_utf8_lossy(&head);
    let code: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| {
            format!(
                "malformed HTTP response: {:?}",
                line.lines().next().unwrap_or("")
            )
        })?;
    if (200..400).contains(&code) {
        Ok(code)
    } else {
        Err(format!("HTTP probe failed with statuscode: {code}"))
    }
}

/// A number, or the name of one of the container's ports.
fn resolve_port(port: &IntOrString, ports: &[ContainerPort]) -> Result<u16> {
    match port {
        IntOrString::Int(n) => {
            u16::try_from(*n).with_context(|| format!("port {n} is out of range"))
        }
        IntOrString::String(name) => match ports.iter().find(|p| p.name.as_deref() == Some(name)) {
            Some(p) => u16::try_from(p.container_port).context("port out of range"),
            None => bail!("port {name:?} is not a named port of the container"),
        },
    }
}

/// A TCP socket created inside the pod's network namespace (a socket keeps the
/// namespace it was born in), then connected with a timeout from here.
fn connect(
    infra: Pid,
    host: Option<&str>,
    port: u16,
    timeout: Duration,
) -> Result<TcpStream, String> {
    let ip: Ipv4Addr = match host {
        None | Some("") | Some("localhost") => Ipv4Addr::LOCALHOST,
        Some(h) => h
            .parse()
            .map_err(|_| format!("host {h:?}: only IPv4 addresses are supported"))?,
    };
    let addr = format!("{ip}:{port}");
    let sock = socket_in_pod(infra).map_err(|e| format!("{e:#}"))?;
    let sa = SockaddrIn::from(std::net::SocketAddrV4::new(ip, port));
    match nix::sys::socket::connect(std::os::fd::AsRawFd::as_raw_fd(&sock), &sa) {
        Ok(()) | Err(nix::errno::Errno::EINPROGRESS) => {}
        Err(e) => {
            return Err(format!(
                "dial tcp {addr}: connect: {}",
                e.desc().to_lowercase()
            ))
        }
    }
    let mut fds = [nix::poll::PollFd::new(
        std::os::fd::AsFd::as_fd(&sock),
        nix::poll::PollFlags::POLLOUT,
    )];
    let ms = timeout.as_millis().min(u16::MAX as u128) as u16;
    match nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(ms)) {
        Ok(0) => return Err(format!("dial tcp {addr}: i/o timeout")),
        Ok(_) => {}
        Err(e) => return Err(format!("dial tcp {addr}: {e}")),
    }
    match nix::sys::socket::getsockopt(&sock, nix::sys::socket::sockopt::SocketError) {
        Ok(0) => {}
        Ok(err) => {
            let e = nix::errno::Errno::from_raw(err);
            return Err(format!(
                "dial tcp {addr}: connect: {}",
                e.desc().to_lowercase()
            ));
        }
        Err(e) => return Err(format!("dial tcp {addr}: {e}")),
    }
    let stream = TcpStream::from(sock);
    stream.set_nonblocking(false).map_err(|e| e.to_string())?;
    Ok(stream)
}

fn socket_in_pod(infra: Pid) -> Result<OwnedFd> {
    let sock = runtime::visit::in_namespace_of(infra.as_raw(), CloneFlags::CLONE_NEWNET, || {
        socket(
            AddressFamily::Inet,
            SockType::Stream,
            SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
            None,
        )
    })?;
    sock.context("socket(AF_INET, SOCK_STREAM) in the pod's network namespace")
}
