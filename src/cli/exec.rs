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
        exec::Stdio::Tty { stdin: args.stdin }
    } else {
        exec::Stdio::Inherit
    };
    exec::exec(&pod, &container, &args.command, stdio)
}
