//! The OCI runtime spec's hooks (`config.json` → `hooks`): programs the runtime runs
//! at fixed points of a container's life, each given the container's state as JSON on
//! its standard input. Who runs which, and where:
//!
//! ```text
//! create   prestart, createRuntime   the runtime (minipod-runc create), after the
//!                                     namespaces and mounts, before pivot_root
//!          createContainer           the init, in the container's namespaces, before
//!                                     pivot_root (paths resolve on the host)
//! start    startContainer            the init, after pivot_root, before execve
//!                                     (paths resolve in the container)
//!          poststart                 the runtime, once the program runs
//! delete   poststop                  the runtime, after the container is gone
//! ```
//! A failing hook before the program runs stops the container; poststart and
//! poststop failures are reported and change nothing (runtime-spec config.md#posix-platform-hooks).

use anyhow::{bail, Context, Result};
use oci_spec::runtime::Hook;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The runtime spec's version this runtime speaks.
pub const OCI_VERSION: &str = "1.2.0";

/// The state of a container (runtime-spec runtime.md#state), as `state` prints it and
/// as every hook reads it on stdin.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct State {
    #[serde(rename = "ociVersion")]
    pub oci_version: String,
    pub id: String,
    /// creating, created, running, stopped (and runc's `paused`).
    pub status: String,
    /// The host PID of the container's process, while there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<i32>,
    pub bundle: PathBuf,
    #[serde(default, skip_serializing_if = "HashMap::is_empty")]
    pub annotations: HashMap<String, String>,
}

/// Run `hooks` (of the kind `kind`, for the error) one after the other with `state`
/// on stdin; the first that fails, or outlives its timeout, is the error.
pub fn run(kind: &str, hooks: &[Hook], state: &State) -> Result<()> {
    let input = serde_json::to_vec(state).context("encode the state for the hooks")?;
    for hook in hooks {
        run_one(hook, &input).with_context(|| format!("{kind} hook {}", hook.path().display()))?;
    }
    Ok(())
}

fn run_one(hook: &Hook, input: &[u8]) -> Result<()> {
    let mut command = Command::new(hook.path());
    // args[0] is the program's own argv[0], as in execve.
    if let Some(args) = hook.args() {
        if let Some(arg0) = args.first() {
            std::os::unix::process::CommandExt::arg0(&mut command, arg0);
        }
        command.args(args.iter().skip(1));
    }
    command.env_clear();
    for pair in hook.env().iter().flatten() {
        if let Some((k, v)) = pair.split_once('=') {
            command.env(k, v);
        }
    }
    command.stdin(Stdio::piped());
    let mut child = command.spawn().context("start it")?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook that does not read its state is no error (EPIPE).
        let _ = stdin.write_all(input);
    }
    let Some(timeout) = hook.timeout() else {
        let status = child.wait().context("wait for it")?;
        if status.success() {
            return Ok(());
        }
        bail!("it failed: {status}");
    };
    let deadline =
        Some(Instant::now() + Duration::from_secs(u64::try_from(timeout.max(1)).unwrap_or(1)));
    loop {
        if let Some(status) = child.try_wait().context("wait for it")? {
            if status.success() {
                return Ok(());
            }
            bail!("it failed: {status}");
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "it did not finish within its timeout of {} s",
                hook.timeout().unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
