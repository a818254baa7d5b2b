//! Container logs in the CRI format kubelet reads (and `kubectl logs` shows):
//! one line per output line, `<RFC3339Nano> <stdout|stderr> <F|P> <text>`, where `P`
//! marks a partial line continued by the next record.

use crate::state::time::rfc3339_nanos;
use anyhow::{Context, Result};
use std::fs::File;
use std::io::Write;
use std::path::Path;
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
    file: File,
    pending: [Vec<u8>; 2],
}

impl LogWriter {
    pub fn create(path: &Path) -> Result<LogWriter> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("open the log file {}", path.display()))?;
        Ok(LogWriter {
            file,
            pending: [Vec::new(), Vec::new()],
        })
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
        self.file.write_all(&out).context("write the container log")
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
        self.file.write_all(&out).context("write the container log")
    }
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
        let mut w = LogWriter::create(&path).unwrap();
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
