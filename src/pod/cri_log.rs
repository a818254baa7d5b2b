//! Container logs in the CRI format kubelet reads (and `kubectl logs` shows):
//! one line per output line, `<RFC3339Nano> <stdout|stderr> <F|P> <text>`, where `P`
//! marks a partial line continued by the next record. The file is rotated as it
//! grows (see `log_files`).

use super::log_files::{self, LogLimits};
use crate::state::time::rfc3339_nanos;
use anyhow::{Context, Result};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Longest line kept whole; a longer one is split into partial (`P`) records.
const MAX_LINE: usize = 16 * 1024;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// The log file of one container instance, with a pending partial line per stream.
pub struct LogWriter {
    path: PathBuf,
    file: File,
    /// Bytes in the current file.
    written: u64,
    limits: LogLimits,
    pending: [Vec<u8>; 2],
}

impl LogWriter {
    /// The log of instance `path` (`<container>/<restart>.log`), rotated within
    /// `limits`. The logs of instances before the previous one are removed.
    pub fn create(path: &Path, limits: LogLimits) -> Result<LogWriter> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
            let restart = path
                .file_stem()
                .and_then(|s| s.to_str())
                .and_then(|s| s.parse().ok());
            if let Some(restart) = restart {
                log_files::prune_instances(dir, restart);
            }
        }
        let file = open_append(path)?;
        let written = file.metadata().map(|m| m.len()).unwrap_or(0);
        Ok(LogWriter {
            path: path.to_path_buf(),
            file,
            written,
            limits,
            pending: [Vec::new(), Vec::new()],
        })
    }

    /// Write whole records; before one that would take the file past its size, the
    /// file is rotated (a single record larger than the size gets a file of its own).
    fn append(&mut self, records: &[u8]) -> Result<()> {
        let mut rest = records;
        while !rest.is_empty() {
            let room = self.limits.max_size.saturating_sub(self.written);
            // As many whole records as fit; at least one in an empty file.
            let mut take = 0;
            for (i, b) in rest.iter().enumerate() {
                if *b == b'\n' {
                    if (i + 1) as u64 <= room || take == 0 && self.written == 0 {
                        take = i + 1;
                    } else {
                        break;
                    }
                }
            }
            if take == 0 {
                self.rotate()?;
                continue;
            }
            self.file
                .write_all(&rest[..take])
                .context("write the container log")?;
            self.written += take as u64;
            rest = &rest[take..];
        }
        Ok(())
    }

    /// `0.log` becomes `0.log.<time>`, a new `0.log` begins, the oldest rotated files
    /// beyond `max_files - 1` go.
    fn rotate(&mut self) -> Result<()> {
        let rotated = log_files::rotated_name(&self.path, SystemTime::now());
        if std::fs::rename(&self.path, &rotated).is_err() {
            // Could not keep it: start it over rather than grow without bound.
            self.file.set_len(0).context("truncate the container log")?;
        }
        self.file = open_append(&self.path)?;
        self.written = 0;
        log_files::prune(&self.path, self.limits.max_files.saturating_sub(1));
        Ok(())
    }

    /// Append what the container wrote; complete lines become `F` records.
    pub fn write(&mut self, stream: Stream, data: &[u8]) -> Result<()> {
        let idx = stream as usize;
        self.pending[idx].extend_from_slice(data);
        let now = rfc3339_nanos(SystemTime::now());
        let mut out = Vec::new();
        let buf = std::mem::take(&mut self.pending[idx]);
        let mut rest: &[u8] = &buf;
        while let Some(nl) = rest.iter().position(|b| *b == b'\n') {
            record(&mut out, &now, stream, b'F', &rest[..nl]);
            rest = &rest[nl + 1..];
        }
        while rest.len() >= MAX_LINE {
            record(&mut out, &now, stream, b'P', &rest[..MAX_LINE]);
            rest = &rest[MAX_LINE..];
        }
        self.pending[idx] = rest.to_vec();
        self.append(&out)
    }

    /// At the end of a stream, an unfinished last line is written as it is.
    pub fn finish(&mut self, stream: Stream) -> Result<()> {
        let idx = stream as usize;
        if self.pending[idx].is_empty() {
            return Ok(());
        }
        let now = rfc3339_nanos(SystemTime::now());
        let mut out = Vec::new();
        let line = std::mem::take(&mut self.pending[idx]);
        record(&mut out, &now, stream, b'F', &line);
        self.append(&out)
    }
}

fn open_append(path: &Path) -> Result<File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("open the log file {}", path.display()))
}

fn record(out: &mut Vec<u8>, time: &str, stream: Stream, tag: u8, line: &[u8]) {
    out.extend_from_slice(time.as_bytes());
    out.push(b' ');
    out.extend_from_slice(stream.name().as_bytes());
    out.push(b' ');
    out.push(tag);
    out.push(b' ');
    out.extend_from_slice(line);
    out.push(b'\n');
}

/// One decoded record.
#[derive(Debug, PartialEq)]
pub struct Record<'a> {
    pub time: &'a str,
    pub stream: &'a str,
    pub partial: bool,
    pub text: &'a [u8],
}

pub fn parse_line(line: &[u8]) -> Option<Record<'_>> {
    let mut parts = line.splitn(4, |b| *b == b' ');
    let time = std::str::from_utf8(parts.next()?).ok()?;
    let stream = std::str::from_utf8(parts.next()?).ok()?;
    let tag = parts.next()?;
    let text = parts.next().unwrap_or(b"");
    Some(Record {
        time,
        stream,
        partial: tag == b"P",
        text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_written_and_read_back() {
        let path = std::env::temp_dir().join(format!("minipod-cri-{}.log", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let mut w = LogWriter::create(&path, LogLimits::default()).unwrap();
        w.write(Stream::Stdout, b"hello\nwor").unwrap();
        w.write(Stream::Stderr, b"oops\n").unwrap();
        w.write(Stream::Stdout, b"ld\n").unwrap();
        w.finish(Stream::Stdout).unwrap();
        let text = std::fs::read(&path).unwrap();
        let records: Vec<_> = text
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| parse_line(l).unwrap())
            .collect();
        let texts: Vec<_> = records.iter().map(|r| (r.stream, r.text)).collect();
        assert_eq!(
            texts,
            [
                ("stdout", &b"hello"[..]),
                ("stderr", b"oops"),
                ("stdout", b"world")
            ]
        );
        std::fs::remove_file(&path).unwrap();
    }
}
