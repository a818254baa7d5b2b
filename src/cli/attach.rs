//! `attach POD [-c C] [-i] [-t]`: join a running container's own standard streams
//! (a container with `stdin: true` and/or `tty: true`): its output comes here, and
//! with `-i` what is typed goes to its stdin. The supervisor holds the other end of
//! those streams and serves them on the container's attach socket.

use super::errln;
use super::Context;
use crate::pod::record;
use crate::pod::supervisor::attach;
use anyhow::{bail, Context as _, Result};
use clap::Args;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;

#[derive(Args, Debug)]
pub struct AttachArgs {
    /// The pod (or `pod/NAME`).
    pub pod: String,
    /// Container name. If omitted, use the kubectl.kubernetes.io/default-container
    /// annotation for selecting the container to be attached or the first container
    /// in the pod will be chosen.
    #[arg(short = 'c', long = "container")]
    pub container: Option<String>,
    /// Pass stdin to the container.
    #[arg(short = 'i', long)]
    pub stdin: bool,
    /// Stdin is a TTY.
    #[arg(short = 't', long)]
    pub tty: bool,
    #[arg(short = 'n', long = "namespace", default_value = "default")]
    pub namespace: String,
}

pub fn run(ctx: &Context, args: &AttachArgs) -> Result<i32> {
    let name = args.pod.strip_prefix("pod/").unwrap_or(&args.pod);
    let Some(pod) = record::find(&ctx.state, &args.namespace, name)? else {
        bail!("pods \"{name}\" not found");
    };
    let container = super::logs::pick_container(&pod, args.container.as_deref(), "attach")?;
    let spec = pod
        .record
        .pod
        .spec
        .as_ref()
        .and_then(|s| s.containers.iter().find(|c| c.name == container))
        .cloned()
        .unwrap_or_default();
    let has_tty = spec.tty == Some(true);
    if spec.stdin != Some(true) && !has_tty {
        // Nothing to type into: kubectl attach shows what the container prints from
        // now on.
        if args.tty {
            errln!("Unable to use a TTY - container {container} did not allocate one");
        }
        let request = crate::pod::logs::LogRequest {
            container,
            previous: false,
            follow: true,
            timestamps: false,
            tail: Some(0),
            since: None,
            prefix: String::new(),
        };
        crate::pod::logs::print(&pod, &request, &mut std::io::stdout())?;
        return Ok(0);
    }
    if args.tty && !has_tty {
        errln!("Unable to use a TTY - container {container} did not allocate one");
    }
    let dir = pod.paths.run.join("attach");
    let dir_fd = attach::open_dir(&dir)?;
    let stream = UnixStream::connect(attach::socket_path(&dir_fd, &container))
        .with_context(|| format!("container {container} of pod {name} is not running"))?;
    let raw_terminal = args.tty && has_tty && args.stdin && crate::pod::pty::stdin_is_terminal();
    if raw_terminal {
        // kubectl's hint: the shell printed its prompt before we came.
        errln!("If you don't see a command prompt, try pressing enter.");
    }
    let _raw = if raw_terminal {
        Some(crate::pod::pty::RawMode::enter()?)
    } else {
        None
    };
    if args.stdin {
        let mut to_container = stream.try_clone().context("clone the attach socket")?;
        std::thread::spawn(move || {
            let mut input = std::io::stdin().lock();
            let mut buf = [0u8; 4096];
            loop {
                match input.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if to_container.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                }
            }
            let _ = to_container.shutdown(std::net::Shutdown::Write);
        });
    }
    let mut from_container = stream;
    let mut out = std::io::stdout();
    let mut buf = [0u8; 4096];
    loop {
        match from_container.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if out.write_all(&buf[..n]).and_then(|_| out.flush()).is_err() {
                    break;
                }
            }
        }
    }
    Ok(0)
}
