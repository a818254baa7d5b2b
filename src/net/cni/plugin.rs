//! One plugin run, as libcni's `invoke` does it: the program found in the plugin
//! directories, the CNI variables in *its* environment only (never in minipod's: a
//! `set_var` in a process with threads is a race), the network config on stdin, the
//! result or a CNI error as JSON on stdout. Bounded: at most [`OUTPUT_LIMIT`] bytes of
//! output are read, and a plugin that runs longer than its timeout is killed.

use anyhow::{anyhow, bail, Context, Result};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A plugin's stdout (its result) or stderr beyond this is cut off.
pub const OUTPUT_LIMIT: u64 = 1 << 20;

/// The PATH plugins get: `bridge` (ipMasq) and `portmap` run `iptables`.
const PLUGIN_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// What the CNI spec puts in a plugin's environment.
#[derive(Debug, Clone)]
pub struct PluginEnv<'a> {
    pub command: &'a str,
    pub container_id: &'a str,
    /// Empty on a DEL whose namespace is already gone (the spec allows it).
    pub netns: &'a str,
    pub ifname: &'a str,
    pub args: &'a str,
    /// The plugin directories, `:`-joined into `CNI_PATH`.
    pub path: &'a [PathBuf],
}

impl PluginEnv<'_> {
    pub fn vars(&self) -> Vec<(&'static str, String)> {
        let path = self
            .path
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(":");
        vec![
            ("CNI_COMMAND", self.command.to_string()),
            ("CNI_CONTAINERID", self.container_id.to_string()),
            ("CNI_NETNS", self.netns.to_string()),
            ("CNI_IFNAME", self.ifname.to_string()),
            ("CNI_ARGS", self.args.to_string()),
            ("CNI_PATH", path),
            ("PATH", PLUGIN_PATH.to_string()),
        ]
    }
}

/// The plugin program `kind` in the first directory that has it.
pub fn find(kind: &str, dirs: &[PathBuf]) -> Result<PathBuf> {
    if !super::conflist::valid_type(kind) {
        bail!("CNI plugin type {kind:?} is not a plain program name");
    }
    dirs.iter()
        .map(|d| d.join(kind))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            anyhow!(
                "CNI plugin {kind:?} not found in {} (install containernetworking-plugins)",
                dirs.iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

/// Run `program` with `env` and `config` on stdin; its stdout parsed as JSON (an
/// empty stdout, as DEL and CHECK return, is `null`). A failure is one line naming
/// the plugin, with the CNI error's code, msg and details.
pub fn run(
    program: &Path,
    env: &PluginEnv,
    config: &serde_json::Value,
    timeout: Duration,
) -> Result<serde_json::Value> {
    let name = program
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let what = format!("CNI plugin {name} ({} {})", env.command, env.ifname);
    let stdin = serde_json::to_vec(config).context("encode the CNI config")?;
    let mut cmd = Command::new(program);
    cmd.env_clear()
        .envs(env.vars())
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Run from the supervisor, whose mount namespace is its own: the plugin works in
    // the host's, where the pinned namespace (CNI_NETNS) is mounted.
    if let Some(host) = crate::net::netns_pin::host_mounts() {
        use std::os::unix::process::CommandExt;
        // SAFETY: setns is async-signal-safe; `host` is an fd the process keeps open
        // for its whole life, and the forked child shares no fs struct with threads.
        unsafe {
            cmd.pre_exec(move || {
                if libc::setns(host, libc::CLONE_NEWNS) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let mut child = cmd
        .spawn()
        .with_context(|| format!("{what}: run {}", program.display()))?;
    let out = child.stdout.take().map(reader);
    let err = child.stderr.take().map(reader);
    if let Some(mut input) = child.stdin.take() {
        // A plugin that exits without reading gives EPIPE: its status tells why.
        let _ = input.write_all(&stdin);
    }
    let until = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= until => {
                let _ = child.kill();
                let _ = child.wait();
                bail!("{what}: no answer within {}s, killed", timeout.as_secs());
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(e).with_context(|| format!("{what}: wait")),
        }
    };
    let stdout = out.and_then(|h| h.join().ok()).unwrap_or_default();
    let stderr = err.and_then(|h| h.join().ok()).unwrap_or_default();
    if !status.success() {
        bail!("{what} failed: {}", error_line(&stdout, &stderr, status));
    }
    if stdout.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Value::Null);
    }
    serde_json::from_slice(&stdout).with_context(|| {
        format!(
            "{what}: its result is not JSON: {}",
            String::from_utf8_lossy(&stdout).trim()
        )
    })
}

fn reader<R: Read + Send + 'static>(r: R) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let mut limited = r.take(OUTPUT_LIMIT);
        let _ = limited.read_to_end(&mut buf);
        // Drain the rest so the plugin never blocks on a full pipe.
        let _ = std::io::copy(&mut limited.into_inner(), &mut std::io::sink());
        buf
    })
}

/// The CNI error JSON (`{"code":7,"msg":"...","details":"..."}`) as one line; else
/// the plugin's stderr and exit status.
pub fn error_line(stdout: &[u8], stderr: &[u8], status: std::process::ExitStatus) -> String {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(stdout) {
        if let Some(msg) = v.get("msg").and_then(|m| m.as_str()) {
            let code = v.get("code").and_then(|c| c.as_u64()).unwrap_or(0);
            let details = v
                .get("details")
                .and_then(|d| d.as_str())
                .filter(|d| !d.is_empty())
                .map(|d| format!(": {d}"))
                .unwrap_or_default();
            return one_line(&format!("CNI error {code}: {msg}{details}"));
        }
    }
    let text = String::from_utf8_lossy(if stderr.is_empty() { stdout } else { stderr });
    one_line(&format!("{status}: {}", text.trim()))
}

fn one_line(s: &str) -> String {
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > 500 {
        s.chars().take(500).collect::<String>() + "..."
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    #[test]
    fn cni_errors_become_one_line() {
        let out = br#"{"cniVersion":"1.0.0","code":11,"msg":"failed to allocate","details":"no IP\naddresses available"}"#;
        let line = error_line(out, b"", std::process::ExitStatus::from_raw(256));
        assert_eq!(
            line,
            "CNI error 11: failed to allocate: no IP addresses available"
        );
        let line = error_line(b"", b"boom\n", std::process::ExitStatus::from_raw(256));
        assert!(line.ends_with(": boom"), "{line}");
    }

    #[test]
    fn plugins_are_plain_names_in_the_plugin_dirs() {
        assert!(find("../sh", &[PathBuf::from("/bin")]).is_err());
        let err = find("no-such-plugin", &[PathBuf::from("/nonexistent")]).unwrap_err();
        assert!(err.to_string().contains("containernetworking-plugins"));
    }

    #[test]
    fn the_environment_is_the_plugins_own() {
        let dir = std::env::temp_dir().join(format!("cni-env-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let prog = dir.join("echoenv");
        std::fs::write(
            &prog,
            "#!/bin/sh\ncat >/dev/null\nprintf '{\"env\":\"%s|%s|%s\"}' \"$CNI_COMMAND\" \"$CNI_IFNAME\" \"$HOME\"\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&prog, std::fs::Permissions::from_mode(0o755)).unwrap();
        let env = PluginEnv {
            command: "ADD",
            container_id: "c",
            netns: "/proc/1/ns/net",
            ifname: "eth0",
            args: "",
            path: std::slice::from_ref(&dir),
        };
        let v = run(&prog, &env, &serde_json::json!({}), Duration::from_secs(5)).unwrap();
        assert_eq!(v["env"], "ADD|eth0|");
        assert!(std::env::var("CNI_COMMAND").is_err());
        std::fs::write(&prog, "#!/bin/sh\nsleep 5\n").unwrap();
        let err = run(
            &prog,
            &env,
            &serde_json::json!({}),
            Duration::from_millis(200),
        );
        assert!(format!("{:#}", err.unwrap_err()).contains("killed"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
