//! `exec POD [-c C] -- CMD...`: run a command inside a running container.

use super::Context;
use crate::pod::{exec, record};
use anyhow::{bail, Result};
use clap::Args;

#[derive(Args, Debug)]
pub struct ExecArgs {
    /// Pass standard input to the command.
    #[arg(short = 'i', long)]
    pub stdin: bool,
    /// Allocate a pseudo-terminal for the command (with -i: an interactive shell).
    #[arg(short = 't', long)]
    pub tty: bool,
    /// The pod (or `pod/NAME`).
    pub pod: String,
    /// Container name. If omitted, use the kubectl.kubernetes.io/default-container
    /// annotation for selecting the container to be attached or the first container
    /// in the pod will be chosen.
    #[arg(short = 'c', long = "container")]
    pub container: Option<String>,
    #[arg(short = 'n', long = "namespace", default_value = "default")]
    pub namespace: String,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true)]
    pub command: Vec<String>,
}

pub fn run(ctx: &Context, args: &ExecArgs) -> Result<i32> {
    let name = args.pod.strip_prefix("pod/").unwrap_or(&args.pod);
    let Some(pod) = record::find(&ctx.state, &args.namespace, name)? else {
        bail!("pods \"{name}\" not found");
    };
    let container = super::logs::pick_container(&pod, args.container.as_deref(), "exec")?;
    let tty = args.tty && crate::pod::pty::stdin_is_terminal();
    if args.tty && !tty {
        eprintln!("Unable to use a TTY - input is not a terminal or the right kind of file");
    }
    if !args.stdin {
        // Without -i the command reads nothing, as with kubectl.
        if let Ok(null) = std::fs::File::open("/dev/null") {
            use std::os::fd::AsRawFd;
            // SAFETY: dup2 of a valid fd onto stdin, which Rust does not hold open.
            unsafe { libc::dup2(null.as_raw_fd(), 0) };
        }
    }
    let stdio = if tty {
        // kubectl exec -t gives the command the client's terminal type.
        let term = std::env::var("TERM").ok().filter(|t| !t.is_empty());
        exec::Stdio::Tty {
            stdin: args.stdin,
            term: Some(term.unwrap_or_else(|| "xterm".into())),
        }
    } else {
        exec::Stdio::Inherit
    };
    let code = exec::exec(&pod, &container, &args.command, stdio)?;
    if code != 0 {
        // kubectl's words (from the remote command's exit status), on stderr.
        super::errln!("command terminated with exit code {code}");
    }
    Ok(code)
}
