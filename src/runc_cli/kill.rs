//! `kill ID [SIGNAL]`: send a signal to the container's process, or with `--all` to
//! every process in its cgroup (runtime-spec runtime.md#kill). A container that is
//! neither created nor running (nor paused) is an error and nothing is sent.

use super::container::{Container, Status};
use super::Context;
use crate::runtime::cgroups;
use anyhow::{bail, Context as _, Result};
use clap::Args;
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use std::str::FromStr;

#[derive(Args, Debug)]
pub struct KillArgs {
    /// Signal every process of the container, not only its first.
    #[arg(long, short = 'a')]
    pub all: bool,
    pub id: String,
    /// A name (TERM, SIGKILL) or a number (15); SIGTERM when absent.
    #[arg(default_value = "SIGTERM")]
    pub signal: String,
}

pub fn run(ctx: &Context, args: &KillArgs) -> Result<()> {
    let signal = parse_signal(&args.signal)?;
    let container = Container::open(&ctx.root, &args.id)?;
    if container.status() == Status::Stopped {
        return Err(container.wrong_status("kill"));
    }
    if args.all {
        for pid in cgroups::procs(&container.record.cgroup) {
            // A process may exit while we go through the list.
            let _ = nix::sys::signal::kill(Pid::from_raw(pid), signal);
        }
        return Ok(());
    }
    nix::sys::signal::kill(Pid::from_raw(container.record.pid), signal).with_context(|| {
        format!(
            "send {signal} to container {:?} (PID {})",
            args.id, container.record.pid
        )
    })
}

/// `9`, `KILL`, `SIGKILL`, `sigkill` → SIGKILL.
pub fn parse_signal(text: &str) -> Result<Signal> {
    if let Ok(n) = text.parse::<i32>() {
        return Signal::try_from(n).with_context(|| format!("unknown signal {n}"));
    }
    let upper = text.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    match Signal::from_str(&name) {
        Ok(signal) => Ok(signal),
        Err(_) => bail!("unknown signal {text:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_are_read_by_name_or_number() {
        assert_eq!(parse_signal("9").unwrap(), Signal::SIGKILL);
        assert_eq!(parse_signal("KILL").unwrap(), Signal::SIGKILL);
        assert_eq!(parse_signal("SIGTERM").unwrap(), Signal::SIGTERM);
        assert_eq!(parse_signal("hup").unwrap(), Signal::SIGHUP);
        assert!(parse_signal("NOPE").is_err());
        assert!(parse_signal("999").is_err());
    }
}
