//! Port forwarding into a pod's network namespace, for `port-forward` and for
//! `ports[].hostPort`.
//!
//! A listener stays in the host's network namespace (for `port-forward`, on 127.0.0.1
//! and [::1] by default, as kubectl listens), and each accepted connection gets
//! a thread that enters the pod's network namespace (`setns(CLONE_NEWNET)` changes
//! only the calling thread) and connects to `127.0.0.1:REMOTE` there. Once connected,
//! a socket works whatever namespace its thread is in: the bytes are then copied both
//! ways by two plain threads.
//!
//! hostPorts live as long as the pod. The supervisor is one thread with one poll
//! loop that forks containers; threads in it would make every fork risky (a lock
//! held by another thread at fork time stays locked in the child forever). So the
//! supervisor starts a small separate process, `minipod-shim host-ports`, that binds every
//! hostPort, reports "ready" (or why not) on its stdout, and then forwards with
//! threads like `port-forward`. The supervisor kills it at teardown; it also exits by
//! itself when the pod's infra process is gone, and gets SIGKILL if the supervisor
//! dies (PR_SET_PDEATHSIG).

use anyhow::{bail, Context, Result};
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;

/// One forwarded port: host `listen` → `127.0.0.1:remote` in the pod.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Forward {
    pub listen: SocketAddr,
    pub remote: u16,
}

impl Forward {
    /// `ADDR:HOSTPORT:REMOTE` (the `host-ports` argument form).
    pub fn parse_triple(s: &str) -> Result<Forward> {
        let (rest, remote) = s
            .rsplit_once(':')
            .with_context(|| format!("bad forward {s:?}"))?;
        let listen: SocketAddr = rest
            .parse()
            .with_context(|| format!("bad address in {s:?}"))?;
        Ok(Forward {
            listen,
            remote: remote
                .parse()
                .with_context(|| format!("bad port in {s:?}"))?,
        })
    }
    pub fn triple(&self) -> String {
        format!("{}:{}", self.listen, self.remote)
    }
}

/// `[LOCAL:]REMOTE` as kubectl port-forward reads it; LOCAL empty or 0: any free port.
pub fn parse_port_spec(spec: &str, address: IpAddr) -> Result<Forward> {
    let (local, remote) = match spec.split_once(':') {
        Some((l, r)) => (l, r),
        None => (spec, spec),
    };
    let remote: u16 = remote
        .parse()
        .ok()
        .filter(|p| *p != 0)
        .with_context(|| format!("Error parsing remote port '{remote}'"))?;
    let local: u16 = if local.is_empty() {
        0
    } else {
        local
            .parse()
            .with_context(|| format!("Error parsing local port '{local}'"))?
    };
    Ok(Forward {
        listen: SocketAddr::new(address, local),
        remote,
    })
}

/// Bound listeners, each with what it forwards.
pub type Listeners = Vec<(TcpListener, Forward)>;

/// One address `port-forward` listens on, grouped as kubectl groups them:
/// `localhost` is 127.0.0.1 and [::1], either of which may fail alone (only both
/// failing is an error: kubectl's failure mode "all"); an address given as an IP
/// must be bound (failure mode "any").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ListenAddress {
    pub ip: IpAddr,
    pub may_fail_alone: bool,
}

/// kubectl's `--address` values (default `localhost`) as listening addresses.
pub fn listen_addresses(addresses: &[String]) -> Result<Vec<ListenAddress>> {
    let mut out: Vec<ListenAddress> = Vec::new();
    for addr in addresses {
        let ips: Vec<ListenAddress> = if addr == "localhost" {
            [
                IpAddr::from([127, 0, 0, 1]),
                IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
            ]
            .into_iter()
            .map(|ip| ListenAddress {
                ip,
                may_fail_alone: true,
            })
            .collect()
        } else {
            let ip: IpAddr = addr
                .parse()
                .map_err(|_| anyhow::anyhow!("{addr} is not a valid IP"))?;
            vec![ListenAddress {
                ip,
                may_fail_alone: false,
            }]
        };
        for a in ips {
            if !out.iter().any(|o| o.ip == a.ip) {
                out.push(a);
            }
        }
    }
    Ok(out)
}

/// kubectl's listeners: every port on every address, port by port. A local port 0
/// takes the free port the first address got, so every address serves the same one.
/// A port whose listeners failed (an address given as an IP, or every `localhost`
/// one) is left out and its error returned beside the listeners; no port at all is
/// an error.
pub fn bind_on_addresses(
    specs: &[Forward],
    addresses: &[ListenAddress],
) -> Result<(Listeners, Vec<String>)> {
    let mut all = Vec::new();
    let mut port_errors = Vec::new();
    for spec in specs {
        let mut local = spec.listen.port();
        let mut bound = Vec::new();
        let mut errors = Vec::new();
        let (mut required_failed, mut optional_ok, mut optional_failed) = (false, 0, 0);
        for a in addresses {
            let want = Forward {
                listen: SocketAddr::new(a.ip, local),
                remote: spec.remote,
            };
            match bind(&[want]) {
                Ok(mut l) => {
                    if let Some((listener, f)) = l.pop() {
                        local = f.listen.port();
                        optional_ok += usize::from(a.may_fail_alone);
                        bound.push((listener, f));
                    }
                }
                Err(e) => {
                    errors.push(format!("{e:#}"));
                    if a.may_fail_alone {
                        optional_failed += 1;
                    } else {
                        required_failed = true;
                    }
                }
            }
        }
        if required_failed || (optional_ok == 0 && optional_failed > 0) {
            port_errors.push(format!(
                "Unable to listen on port {}: Listeners failed to create with the following errors: [{}]",
                spec.listen.port(),
                errors.join(" ")
            ));
        } else {
            all.extend(bound);
        }
    }
    if all.is_empty() {
        bail!(
            "unable to listen on any of the requested ports: {}",
            port_errors.join("; ")
        );
    }
    Ok((all, port_errors))
}

/// Bind every listener first, so a port already taken is an error before anything.
pub fn bind(forwards: &[Forward]) -> Result<Vec<(TcpListener, Forward)>> {
    forwards
        .iter()
        .map(|f| {
            let l = TcpListener::bind(f.listen).with_context(|| {
                format!(
                    "unable to listen on {}: the port is taken or the address is not on this host",
                    f.listen
                )
            })?;
            let actual = l.local_addr().context("read the bound address")?;
            Ok((
                l,
                Forward {
                    listen: actual,
                    remote: f.remote,
                },
            ))
        })
        .collect()
}

/// The pod's network namespace, opened once: `/proc/<infra>/ns/net`.
pub fn open_netns(infra_pid: i32) -> Result<Arc<File>> {
    crate::runtime::visit::open_netns(infra_pid).map(Arc::new)
}

/// Serve every listener, each on its own thread; returns only if a listener fails.
/// `on_connection` is told of each accepted connection (kubectl's "Handling
/// connection for PORT").
pub fn serve(
    listeners: Vec<(TcpListener, Forward)>,
    netns: Arc<File>,
    on_connection: fn(&Forward),
) -> Result<()> {
    let mut threads = Vec::new();
    for (listener, fwd) in listeners {
        let netns = netns.clone();
        threads.push(std::thread::spawn(move || -> Result<()> {
            for conn in listener.incoming() {
                let client = match conn {
                    Ok(c) => c,
                    Err(_) => continue,
                };
                on_connection(&fwd);
                let netns = netns.clone();
                std::thread::spawn(move || {
                    if let Err(e) = forward_connection(client, &netns, fwd.remote) {
                        eprintln!("error: {e:#}");
                    }
                });
            }
            Ok(())
        }));
    }
    for t in threads {
        match t.join() {
            Ok(r) => r?,
            Err(_) => bail!("a port-forward listener thread panicked"),
        }
    }
    Ok(())
}

/// This thread enters the pod's network namespace, connects, and copies both ways.
fn forward_connection(client: TcpStream, netns: &File, remote: u16) -> Result<()> {
    crate::runtime::visit::enter_netns_for_this_thread(netns)?;
    let upstream = match TcpStream::connect(("127.0.0.1", remote)) {
        Ok(s) => s,
        Err(e) => {
            let _ = client.shutdown(Shutdown::Both);
            bail!("an error occurred forwarding to port {remote} in the pod: connect to localhost:{remote}: {e}");
        }
    };
    let (c2, u2) = (
        client.try_clone().context("clone the client socket")?,
        upstream.try_clone().context("clone the upstream socket")?,
    );
    let up = std::thread::spawn(move || copy(c2, u2));
    copy(upstream, client);
    let _ = up.join();
    Ok(())
}

/// Copy until EOF, then pass the EOF on (half-close), as a TCP proxy must.
fn copy(mut from: TcpStream, mut to: TcpStream) {
    let _ = std::io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Write);
}

/// The hostPorts a pod asks for: `hostIP` (default all addresses) : `hostPort` →
/// `containerPort`. Only TCP.
pub fn host_ports(pod: &k8s_openapi::api::core::v1::Pod) -> Result<Vec<Forward>, Vec<String>> {
    let spec = pod.spec.clone().unwrap_or_default();
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for c in spec
        .init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter())
    {
        for p in c.ports.iter().flatten() {
            let Some(host_port) = p.host_port.filter(|h| *h != 0) else {
                continue;
            };
            let proto = p.protocol.as_deref().unwrap_or("TCP");
            if proto != "TCP" {
                errors.push(format!(
                    "container \"{}\": hostPort {host_port}/{proto}: minipod forwards only TCP host ports",
                    c.name
                ));
                continue;
            }
            let ip: IpAddr = match p.host_ip.as_deref().filter(|s| !s.is_empty()) {
                None => IpAddr::from([0, 0, 0, 0]),
                Some(s) => match s.parse() {
                    Ok(ip) => ip,
                    Err(_) => {
                        errors.push(format!(
                            "container \"{}\": hostIP {s:?} is not an IP address",
                            c.name
                        ));
                        continue;
                    }
                },
            };
            out.push(Forward {
                listen: SocketAddr::new(ip, host_port as u16),
                remote: p.container_port as u16,
            });
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// For `create::plan`: is every hostPort free on the host right now?
pub fn check_host_ports(pod: &k8s_openapi::api::core::v1::Pod) -> Vec<String> {
    let forwards = match host_ports(pod) {
        Ok(f) => f,
        Err(errors) => return errors,
    };
    let mut errors = Vec::new();
    for f in forwards {
        if let Err(e) = TcpListener::bind(f.listen) {
            errors.push(format!(
                "hostPort {}: cannot bind {} on the host: {e} (is another pod or program using it?)",
                f.listen.port(),
                f.listen
            ));
        }
    }
    errors
}

/// Start `minipod-shim host-ports` for the pod's hostPorts (none: nothing started) and
/// wait until it has bound them all, or return why it could not. Only the supervisor
/// calls this: the program it runs is the supervisor's own (`minipod-shim`).
pub fn start_host_ports(
    pod: &k8s_openapi::api::core::v1::Pod,
    infra_pid: i32,
) -> Result<Option<std::process::Child>> {
    let forwards = host_ports(pod).map_err(|e| anyhow::anyhow!(e.join("; ")))?;
    if forwards.is_empty() {
        return Ok(None);
    }
    let exe = std::env::current_exe().context("find the supervisor's program")?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("host-ports")
        .arg(infra_pid.to_string())
        .args(forwards.iter().map(Forward::triple))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        // Who it must not outlive (it asks for SIGKILL on our death itself).
        .env(PARENT_ENV, std::process::id().to_string());
    let mut child = cmd.spawn().context("start minipod-shim host-ports")?;
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        let _ = BufReader::new(out).read_line(&mut line);
    }
    if line.trim() == "ready" {
        return Ok(Some(child));
    }
    let _ = child.kill();
    let _ = child.wait();
    bail!("host ports: {}", line.trim())
}

/// The environment variable naming the supervisor that started `minipod-shim host-ports`.
const PARENT_ENV: &str = "MINIPOD_HOST_PORTS_PARENT";

/// Body of `minipod-shim host-ports INFRA_PID ADDR:HOSTPORT:REMOTE...`; `on_ready`
/// runs once every port is bound and the supervisor was told.
pub fn run_host_ports(infra_pid: i32, triples: &[String], on_ready: impl FnOnce()) -> Result<()> {
    let mut stdout = std::io::stdout();
    let result = (|| {
        if let Some(parent) = std::env::var(PARENT_ENV).ok().and_then(|p| p.parse().ok()) {
            crate::runtime::process::die_with_parent(parent)?;
        }
        let forwards: Vec<Forward> = triples
            .iter()
            .map(|t| Forward::parse_triple(t))
            .collect::<Result<_>>()?;
        let netns = open_netns(infra_pid)?;
        let listeners = bind(&forwards)?;
        Ok::<_, anyhow::Error>((netns, listeners))
    })();
    let (netns, listeners) = match result {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(stdout, "{e:#}");
            return Err(e);
        }
    };
    writeln!(stdout, "ready").context("report to the supervisor")?;
    stdout.flush().context("report to the supervisor")?;
    on_ready();
    // The host ports live as long as the pod's infra process (a new sandbox gets a
    // new forwarder).
    let started =
        crate::runtime::procfs::start_time(infra_pid).context("the pod's infra process is gone")?;
    std::thread::spawn(move || loop {
        if !crate::runtime::procfs::is_running(infra_pid, started) {
            std::process::exit(0);
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    });
    serve(listeners, netns, |_| {})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_specs_read_like_kubectl() {
        let lo = IpAddr::from([127, 0, 0, 1]);
        let f = parse_port_spec("8080:80", lo).unwrap();
        assert_eq!((f.listen.port(), f.remote), (8080, 80));
        let f = parse_port_spec("80", lo).unwrap();
        assert_eq!((f.listen.port(), f.remote), (80, 80));
        let f = parse_port_spec(":80", lo).unwrap();
        assert_eq!((f.listen.port(), f.remote), (0, 80));
        assert!(parse_port_spec("x:80", lo).is_err());
        let t = Forward::parse_triple("0.0.0.0:8080:80").unwrap();
        assert_eq!(t.triple(), "0.0.0.0:8080:80");
    }

    #[test]
    fn localhost_is_both_loopbacks_as_kubectl_listens() {
        let a = listen_addresses(&["localhost".into()]).unwrap();
        let ips: Vec<String> = a.iter().map(|a| a.ip.to_string()).collect();
        assert_eq!(ips, ["127.0.0.1", "::1"]);
        assert!(a.iter().all(|a| a.may_fail_alone));
        let a = listen_addresses(&["127.0.0.1".into(), "localhost".into()]).unwrap();
        assert_eq!(a.len(), 2);
        assert!(!a[0].may_fail_alone, "an IP given must be bound");
        assert!(listen_addresses(&["nowhere".into()]).is_err());
    }
}
