//! The actions kubelet runs against a container, for probes and lifecycle hooks:
//! a command inside it (`exec`), a TCP connection and an HTTP GET to it. Network
//! actions connect inside the pod's network namespace, so `localhost` is the pod's.

use super::exec;
use super::probe_deadline::{Deadline, Stop};
use super::probe_http::Incoming;
use crate::runtime;
use anyhow::{bail, Context, Result};
use k8s_openapi::api::core::v1::{ContainerPort, ExecAction, HTTPGetAction};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::poll::{poll, PollFd, PollFlags};
use nix::sched::CloneFlags;
use nix::sys::signal::{kill, Signal};
use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType, SockaddrIn};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::net::Ipv4Addr;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
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

/// kubelet keeps at most this much of an exec probe's output (pkg/probe/exec).
pub const MAX_EXEC_OUTPUT: usize = 10 * 1024;

/// Run a command in the container; success is exit code 0. Returns its output (at
/// most [`MAX_EXEC_OUTPUT`] bytes of it: the rest is read and dropped, so a command
/// that prints without end neither blocks on a full pipe nor fills our memory).
pub fn run_exec(action: &ExecAction, target: &Target, timeout: Duration) -> Result<String, String> {
    let deadline = Deadline::after(timeout);
    let argv = action.command.clone().unwrap_or_default();
    let (out_r, out_w) = nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|e| format!("pipe: {e}"))?;
    // Only our end is non-blocking: the command writes to a pipe as usual.
    nix::fcntl::fcntl(&out_r, nix::fcntl::FcntlArg::F_SETFL(OFlag::O_NONBLOCK))
        .map_err(|e| format!("pipe: {e}"))?;
    let stdio = [
        std::fs::File::open("/dev/null").ok().map(OwnedFd::from),
        out_w.try_clone().ok(),
        Some(out_w),
    ];
    let child =
        exec::spawn(target.pid, target.entry, &argv, stdio).map_err(|e| format!("{e:#}"))?;
    let mut output = Vec::new();
    let code = loop {
        match waitpid(child, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(_, code)) => break Ok(code),
            Ok(WaitStatus::Signaled(_, sig, _)) => break Ok(128 + sig as i32),
            Ok(_) | Err(Errno::EINTR) => {}
            Err(e) => break Err(format!("wait for command {argv:?}: {e}")),
        }
        match deadline.poll_slice() {
            Ok(slice) => {
                let mut fds = [PollFd::new(out_r.as_fd(), PollFlags::POLLIN)];
                let _ = poll(&mut fds, slice);
                drain(&out_r, &mut output);
            }
            Err(stop) => {
                kill_command(child);
                break Err(match stop {
                    Stop::TimedOut => format!("command timed out after {}s", timeout.as_secs_f32()),
                    Stop::Interrupted => INTERRUPTED.to_string(),
                });
            }
        }
    };
    // What the command wrote last (a process it left behind may hold the pipe open:
    // read what is there, never wait for its end).
    drain(&out_r, &mut output);
    let output = String::from_utf8_lossy(&output).into_owned();
    match code? {
        0 => Ok(output),
        code if output.trim().is_empty() => Err(format!("command {argv:?} exited with {code}")),
        _ => Err(output.trim_end().to_string()),
    }
}

/// A command past its deadline is killed, as containerd kills an exec that timed
/// out: the command itself first (the exec stage's child, in the container's PID
/// namespace: killing only the stage would leave it running), then the stage.
fn kill_command(stage: Pid) {
    let children = format!("/proc/{stage}/task/{stage}/children");
    // The stage has not been reaped, so its children are still its own: their
    // PIDs cannot have been reused.
    let pids = std::fs::read_to_string(children).unwrap_or_default();
    for pid in pids.split_whitespace().filter_map(|p| p.parse().ok()) {
        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
    }
    let _ = kill(stage, Signal::SIGKILL);
    let _ = waitpid(stage, None);
}

/// Read what the pipe holds now; keep the first [`MAX_EXEC_OUTPUT`] bytes in all.
fn drain(pipe: &OwnedFd, output: &mut Vec<u8>) {
    let mut buf = [0u8; 4096];
    // A bounded number of reads: a writer as fast as we are cannot keep us here.
    for _ in 0..64 {
        match nix::unistd::read(pipe, &mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                let room = MAX_EXEC_OUTPUT.saturating_sub(output.len());
                output.extend_from_slice(&buf[..n.min(room)]);
            }
        }
    }
}

/// What a probe or hook cut short by a delete says.
const INTERRUPTED: &str = "interrupted: the pod is being deleted";

/// A TCP connection to the port, made from inside the pod's network namespace.
pub fn run_tcp(
    port: &IntOrString,
    host: Option<&str>,
    target: &Target,
    timeout: Duration,
) -> Result<(), String> {
    let port = resolve_port(port, target.ports).map_err(|e| format!("{e:#}"))?;
    connect(target.infra, host, port, &Deadline::after(timeout)).map(|_| ())
}

/// An HTTP GET; success is a status from 200 to 399 (kubelet's rule). Connecting,
/// sending and reading the answer all fit in `timeout`, and the answer is read
/// within kubelet's bounds (see `probe_http`).
pub fn run_http(action: &HTTPGetAction, target: &Target, timeout: Duration) -> Result<u16, String> {
    if action.scheme.as_deref().is_some_and(|s| s != "HTTP") {
        return Err("HTTPS probes are not supported by minipod yet".into());
    }
    let deadline = Deadline::after(timeout);
    let port = resolve_port(&action.port, target.ports).map_err(|e| format!("{e:#}"))?;
    let host = action.host.as_deref();
    let path = action
        .path
        .clone()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "/".into());
    let url = format!("http://{}:{port}{path}", host.unwrap_or("localhost"));
    let sock = connect(target.infra, host, port, &deadline)?;
    let mut request = format!(
        "GET {path} HTTP/1.1\r\nHost: {}:{port}\r\nUser-Agent: kube-probe/1.34\r\nAccept: */*\r\nConnection: close\r\n",
        host.unwrap_or("localhost")
    );
    for h in action.http_headers.iter().flatten() {
        request.push_str(&format!("{}: {}\r\n", h.name, h.value));
    }
    request.push_str("\r\n");
    let failed = |what: String| format!("Get \"{url}\": {what}");
    let stopped = |stop: Stop, while_: &str| match stop {
        Stop::TimedOut => failed(format!(
            "context deadline exceeded (Client.Timeout exceeded while {while_})"
        )),
        Stop::Interrupted => INTERRUPTED.to_string(),
    };
    let mut sent = request.as_bytes();
    while !sent.is_empty() {
        wait_for(&sock, PollFlags::POLLOUT, &deadline)
            .map_err(|s| stopped(s, "sending the request"))?;
        match nix::unistd::write(&sock, sent) {
            Ok(n) => sent = &sent[n..],
            Err(Errno::EAGAIN) | Err(Errno::EINTR) => {}
            Err(e) => return Err(failed(e.desc().to_lowercase())),
        }
    }
    let mut incoming = Incoming::default();
    let mut buf = [0u8; 4096];
    let code = loop {
        wait_for(&sock, PollFlags::POLLIN, &deadline)
            .map_err(|s| stopped(s, "awaiting headers"))?;
        match nix::unistd::read(&sock, &mut buf) {
            Ok(0) => break incoming.eof().map_err(failed)?,
            Ok(n) => {
                if let Some(code) = incoming.feed(&buf[..n]).map_err(failed)? {
                    break code;
                }
            }
            Err(Errno::EAGAIN) | Err(Errno::EINTR) => {}
            Err(e) => return Err(failed(format!("read: {}", e.desc().to_lowercase()))),
        }
    };
    if (200..400).contains(&code) {
        Ok(code)
    } else {
        Err(format!("HTTP probe failed with statuscode: {code}"))
    }
}

/// Wait, a slice at a time, until `sock` is ready for `events` or the deadline says stop.
fn wait_for(sock: &OwnedFd, events: PollFlags, deadline: &Deadline) -> Result<(), Stop> {
    loop {
        let slice = deadline.poll_slice()?;
        let mut fds = [PollFd::new(sock.as_fd(), events)];
        if let Ok(n) = poll(&mut fds, slice) {
            if n > 0 {
                return Ok(());
            }
        }
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
/// namespace it was born in), then connected from here within the deadline. It
/// stays non-blocking: every later wait on it goes through the deadline too.
fn connect(
    infra: Pid,
    host: Option<&str>,
    port: u16,
    deadline: &Deadline,
) -> Result<OwnedFd, String> {
    let ip: Ipv4Addr = match host {
        None | Some("") | Some("localhost") => Ipv4Addr::LOCALHOST,
        Some(h) => h
            .parse()
            .map_err(|_| format!("host {h:?}: only IPv4 addresses are supported"))?,
    };
    let addr = format!("{ip}:{port}");
    let sock = socket_in_pod(infra).map_err(|e| format!("{e:#}"))?;
    let sa = SockaddrIn::from(std::net::SocketAddrV4::new(ip, port));
    let refused = |e: Errno| format!("dial tcp {addr}: connect: {}", e.desc().to_lowercase());
    match nix::sys::socket::connect(sock.as_raw_fd(), &sa) {
        Ok(()) | Err(Errno::EINPROGRESS) => {}
        Err(e) => return Err(refused(e)),
    }
    wait_for(&sock, PollFlags::POLLOUT, deadline).map_err(|stop| match stop {
        Stop::TimedOut => format!("dial tcp {addr}: i/o timeout"),
        Stop::Interrupted => INTERRUPTED.to_string(),
    })?;
    match nix::sys::socket::getsockopt(&sock, nix::sys::socket::sockopt::SocketError) {
        Ok(0) => Ok(sock),
        Ok(err) => Err(refused(Errno::from_raw(err))),
        Err(e) => Err(format!("dial tcp {addr}: {e}")),
    }
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
