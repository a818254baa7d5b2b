//! A network namespace of the test's own, so pod networks (the bridge, NAT rules,
//! pod IPs) never touch the host's and tests run in parallel. A small holder process
//! (`cat`, reading a pipe the test holds) is born in a new namespace with
//! `unshare(CLONE_NEWNET)`; every minipod the test runs enters it with `setns` before
//! exec, and the test's own connections are made from a thread that entered it.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};

pub struct TestNetns {
    holder: Child,
    file: File,
}

impl TestNetns {
    pub fn new() -> TestNetns {
        let mut cmd = Command::new("cat");
        cmd.stdin(Stdio::piped()).stdout(Stdio::null());
        // SAFETY: unshare is async-signal-safe; the child only execs after it.
        unsafe {
            cmd.pre_exec(|| {
                if libc::unshare(libc::CLONE_NEWNET) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let holder = cmd.spawn().expect("start the netns holder");
        let file =
            File::open(format!("/proc/{}/ns/net", holder.id())).expect("open the test netns");
        let ns = TestNetns { holder, file };
        ns.in_it(|| loopback_up().expect("bring lo up in the test netns"));
        ns
    }

    pub fn fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }

    /// Make `cmd` enter this namespace before it execs.
    pub fn enter_before_exec(&self, cmd: &mut Command) {
        let fd = self.fd();
        // SAFETY: setns is async-signal-safe; `fd` stays open in the parent until
        // the child has exec'd (spawn waits for that).
        unsafe {
            cmd.pre_exec(move || {
                if libc::setns(fd, libc::CLONE_NEWNET) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }

    /// Run `f` on a thread inside this namespace (setns affects the calling thread).
    pub fn in_it<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        let fd = self.fd();
        std::thread::scope(|s| {
            s.spawn(move || {
                // SAFETY: joins the network namespace of an fd we hold; this thread only.
                let rc = unsafe { libc::setns(fd, libc::CLONE_NEWNET) };
                assert_eq!(rc, 0, "setns into the test netns");
                f()
            })
            .join()
            .expect("thread in the test netns")
        })
    }

    /// `GET /` over TCP to `addr` from inside the namespace; the whole answer.
    pub fn http_get(&self, addr: &str) -> String {
        let addr = addr.to_string();
        self.in_it(move || {
            let Ok(mut s) = std::net::TcpStream::connect_timeout(
                &addr.parse().expect("socket address"),
                std::time::Duration::from_secs(3),
            ) else {
                return String::new();
            };
            let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(5)));
            let _ = s.write_all(b"GET / HTTP/1.0\r\nHost: test\r\n\r\n");
            let mut out = String::new();
            let _ = s.read_to_string(&mut out);
            out
        })
    }

    /// The names of the interfaces of this namespace (from this thread's
    /// `/proc/thread-self/net/dev`: sysfs shows the namespace it was mounted in).
    pub fn links(&self) -> Vec<String> {
        self.in_it(|| {
            std::fs::read_to_string("/proc/thread-self/net/dev")
                .unwrap_or_default()
                .lines()
                .skip(2)
                .filter_map(|l| l.split(':').next().map(|n| n.trim().to_string()))
                .collect()
        })
    }
}

impl TestNetns {
    /// `program`, entering this namespace before it execs.
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        self.enter_before_exec(&mut cmd);
        cmd
    }

    /// The bridge plugin's masquerade rules (they carry the pod's CNI container id
    /// in their comment, `id: "..."`) in this namespace's nat table.
    pub fn nat_rules_of_pods(&self) -> Vec<String> {
        let out = self
            .command("iptables")
            .args(["-t", "nat", "-S"])
            .output()
            .expect("run iptables (apt-get install iptables)");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.contains("id: \\\""))
            .map(str::to_string)
            .collect()
    }

    /// What pods' networks leave in this namespace: veths and NAT rules (the bridge
    /// `minipod0` stays, as cni0 does on a node).
    pub fn pod_network_left(&self) -> Vec<String> {
        let mut left: Vec<String> = self
            .links()
            .into_iter()
            .filter(|l| l.starts_with("veth"))
            .map(|l| format!("link {l}"))
            .collect();
        left.extend(
            self.nat_rules_of_pods()
                .into_iter()
                .map(|r| format!("rule {r}")),
        );
        left
    }
}

impl Drop for TestNetns {
    fn drop(&mut self) {
        drop(self.holder.stdin.take());
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

/// `ip link set lo up`, through the SIOCSIFFLAGS ioctl.
fn loopback_up() -> std::io::Result<()> {
    // SAFETY: a plain datagram socket for interface ioctls, closed below.
    let sock = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if sock < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: ifreq is plain data; zeroed is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *d = *s as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS/SIOCSIFFLAGS read and write the ifreq we own.
    let rc = unsafe {
        if libc::ioctl(sock, libc::SIOCGIFFLAGS, &mut req) != 0 {
            -1
        } else {
            req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
            libc::ioctl(sock, libc::SIOCSIFFLAGS, &req)
        }
    };
    let err = std::io::Error::last_os_error();
    // SAFETY: closing the socket opened above.
    unsafe { libc::close(sock) };
    if rc != 0 {
        return Err(err);
    }
    Ok(())
}
