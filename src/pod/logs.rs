//! Reading a container's CRI log back as `kubectl logs` prints it.

use super::cri_log;
use super::record::StoredPod;
use super::status::ContainerState;
use anyhow::{bail, Context, Result};
use std::io::{Read, Seek, Write};
use std::path::PathBuf;
use std::time::Duration;

pub struct LogRequest {
    pub container: String,
    pub previous: bool,
    pub follow: bool,
    pub timestamps: bool,
    pub tail: Option<usize>,
    /// Only lines written at or after this time (`--since`).
    pub since: Option<std::time::SystemTime>,
    /// Put before every line (`--prefix`: `[pod/NAME/CONTAINER] `).
    pub prefix: String,
}

/// The log file of the container's current (or previous) instance.
fn log_file(pod: &StoredPod, req: &LogRequest) -> Result<(PathBuf, u32)> {
    let status = pod
        .status
        .as_ref()
        .with_context(|| format!("pod \"{}\" has no status yet", pod.record.name()))?;
    let cs = status
        .all_containers()
        .find(|c| c.name == req.container)
        .with_context(|| {
            format!(
                "container {} is not valid for pod {}",
                req.container,
                pod.record.name()
            )
        })?;
    let restart = if req.previous {
        if cs.restart_count == 0 {
            bail!(
                "previous terminated container \"{}\" in pod \"{}\" not found",
                req.container,
                pod.record.name()
            );
        }
        cs.restart_count - 1
    } else {
        cs.restart_count
    };
    Ok((pod.paths.log_file(&req.container, restart), restart))
}

pub fn print(pod: &StoredPod, req: &LogRequest, out: &mut dyn Write) -> Result<()> {
    let (path, restart) = log_file(pod, req)?;
    let mut file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(ContainerState::Waiting { reason, .. }) = pod
                .status
                .as_ref()
                .and_then(|s| s.all_containers().find(|c| c.name == req.container))
                .map(|c| &c.state)
            {
                bail!(
                    "container \"{}\" in pod \"{}\" is waiting to start: {}",
                    req.container,
                    pod.record.name(),
                    reason
                );
            }
            return Ok(());
        }
        Err(e) => return Err(e).with_context(|| format!("open {}", path.display())),
    };
    let mut data = Vec::new();
    file.read_to_end(&mut data)
        .with_context(|| format!("read {}", path.display()))?;
    let mut lines: Vec<&[u8]> = data
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .filter(|l| req.since.is_none_or(|since| written_since(l, since)))
        .collect();
    if let Some(n) = req.tail {
        let skip = lines.len().saturating_sub(n);
        lines.drain(..skip);
    }
    for line in lines {
        write_record(line, req, out)?;
    }
    out.flush().ok();
    if !req.follow {
        return Ok(());
    }
    // Follow until this instance of the container has ended and its log is read.
    let mut pending = Vec::new();
    let mut offset = data.len() as u64;
    loop {
        let ended = !instance_running(pod, &req.container, restart);
        file.seek(std::io::SeekFrom::Start(offset))
            .context("seek the log")?;
        let mut more = Vec::new();
        file.read_to_end(&mut more).context("read the log")?;
        offset += more.len() as u64;
        // Rotated (the path now names a new file) or truncated: what we read from
        // the old file is complete; go on from the start of the new one.
        if more.is_empty() && rotated(&file, &path, offset) {
            if let Ok(new) = std::fs::File::open(&path) {
                file = new;
                offset = 0;
                continue;
            }
        }
        pending.extend_from_slice(&more);
        while let Some(nl) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=nl).collect();
            write_record(&line[..line.len() - 1], req, out)?;
        }
        out.flush().ok();
        if ended && more.is_empty() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// One decoded line, written in one `write_all` so that lines of containers followed
/// side by side (`--all-containers -f`) never mix.
fn write_record(line: &[u8], req: &LogRequest, out: &mut dyn Write) -> Result<()> {
    let Some(rec) = cri_log::parse_line(line) else {
        return Ok(());
    };
    let mut text = req.prefix.as_bytes().to_vec();
    if req.timestamps {
        text.extend_from_slice(format!("{} ", rec.time).as_bytes());
    }
    text.extend_from_slice(rec.text);
    if !rec.partial {
        text.push(b'\n');
    }
    out.write_all(&text)?;
    Ok(())
}

fn written_since(line: &[u8], since: std::time::SystemTime) -> bool {
    cri_log::parse_line(line)
        .and_then(|rec| crate::state::time::parse(rec.time))
        .is_some_and(|t| t >= since)
}

/// Does `path` no longer name the file we hold open, or is that file now shorter
/// than what we read (truncated)?
fn rotated(file: &std::fs::File, path: &std::path::Path, offset: u64) -> bool {
    use std::os::unix::fs::MetadataExt;
    let (Ok(open), Ok(named)) = (file.metadata(), std::fs::metadata(path)) else {
        return false;
    };
    open.ino() != named.ino() || open.dev() != named.dev() || named.len() < offset
}

/// Is instance `restart` of the container still running (re-reading the status)?
fn instance_running(pod: &StoredPod, container: &str, restart: u32) -> bool {
    let Ok(Some(status)) = super::record::load_status(&pod.paths) else {
        return false;
    };
    let running = status
        .all_containers()
        .find(|c| c.name == container)
        .is_some_and(|c| {
            c.restart_count == restart && matches!(c.state, ContainerState::Running { .. })
        });
    running
}
