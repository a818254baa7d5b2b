//! Reading a container's CRI log back as `kubectl logs` prints it, across its
//! rotated files (see `log_files`).

use super::record::StoredPod;
use super::status::ContainerState;
use super::{cri_log, log_files};
use anyhow::{bail, Context, Result};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::MetadataExt;
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
    // The rotated files first (oldest first), then the current one, kept open to
    // follow.
    let rotated = log_files::rotated(&path);
    let mut file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && rotated.is_empty() => {
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
    let mut lines = wanted_lines(&data, req, req.tail);
    // Older lines from the rotated files, newest file first, until --tail is met.
    let mut older = Vec::new();
    for rotated_file in rotated.iter().rev() {
        if req.tail.is_some_and(|n| lines.len() >= n) {
            break;
        }
        let Ok(old) = std::fs::read(rotated_file) else {
            continue; // removed by the writer meanwhile
        };
        let need = req.tail.map(|n| n.saturating_sub(lines.len()));
        let mut from_old: Vec<Vec<u8>> = wanted_lines(&old, req, need)
            .into_iter()
            .map(<[u8]>::to_vec)
            .collect();
        from_old.append(&mut older);
        older = from_old;
        if need.is_some_and(|n| older.len() >= n) {
            break;
        }
    }
    if let Some(n) = req.tail {
        let skip = (older.len() + lines.len()).saturating_sub(n);
        let from_older = skip.min(older.len());
        older.drain(..from_older);
        lines.drain(..skip - from_older);
    }
    for line in older.iter().map(Vec::as_slice).chain(lines) {
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
        // Rotated (the path now names a new file): what we read from the old file is
        // complete; then the files rotated after it, then the new current file.
        if more.is_empty() && rotated_away(&file, &path, offset) {
            for newer in rotated_after(&file, &path) {
                more.extend(std::fs::read(newer).unwrap_or_default());
            }
            if let Ok(new) = std::fs::File::open(&path) {
                file = new;
                offset = 0;
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

/// The records of `data` that `--since` lets through, the last `tail` of them.
fn wanted_lines<'a>(data: &'a [u8], req: &LogRequest, tail: Option<usize>) -> Vec<&'a [u8]> {
    let mut lines: Vec<&[u8]> = data
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .filter(|l| req.since.is_none_or(|since| written_since(l, since)))
        .collect();
    if let Some(n) = tail {
        let skip = lines.len().saturating_sub(n);
        lines.drain(..skip);
    }
    lines
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
fn rotated_away(file: &std::fs::File, path: &std::path::Path, offset: u64) -> bool {
    let (Ok(open), Ok(named)) = (file.metadata(), std::fs::metadata(path)) else {
        return false;
    };
    open.ino() != named.ino() || open.dev() != named.dev() || named.len() < offset
}

/// The rotated files that came after the one we hold open (several rotations may
/// happen between two looks), oldest first. None when ours is gone from the list.
fn rotated_after(file: &std::fs::File, path: &std::path::Path) -> Vec<PathBuf> {
    let Ok(open) = file.metadata() else {
        return Vec::new();
    };
    let rotated = log_files::rotated(path);
    let ours = rotated.iter().position(|p| {
        std::fs::metadata(p).is_ok_and(|m| m.ino() == open.ino() && m.dev() == open.dev())
    });
    match ours {
        Some(at) => rotated[at + 1..].to_vec(),
        None => Vec::new(),
    }
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
