//! `--log FILE --log-format text|json`: where errors (and, with `--debug`, every
//! kernel step the runtime takes) are written. containerd reads the JSON lines of a
//! failed call back from the file (`{"level":"error","msg":…,"time":…}`, logrus's
//! shape, as runc writes them); errors also go to stderr, where podman's conmon
//! reads them.

use crate::narration;
use clap::ValueEnum;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum Format {
    Text,
    Json,
}

pub struct Logger {
    file: Option<Arc<Mutex<File>>>,
    format: Format,
}

impl Logger {
    /// Open the log (appending); with `debug`, the runtime's narrated steps go there
    /// too (to stderr when there is no log file).
    pub fn open(path: Option<&Path>, format: Format, debug: bool) -> Logger {
        let file = path.and_then(|p| {
            let opened = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .ok()?;
            // Far above the descriptors a runtime stage rearranges (0-3, and the
            // channel's copy at 10+) between its fork and exec: its steps, logged from
            // there, must land in the log and never on the setup channel.
            let high =
                nix::fcntl::fcntl(&opened, nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(100)).ok()?;
            // SAFETY: F_DUPFD_CLOEXEC just returned this descriptor, owned by no one else.
            let file = unsafe { <File as std::os::fd::FromRawFd>::from_raw_fd(high) };
            Some(Arc::new(Mutex::new(file)))
        });
        if debug {
            let sink = file.clone();
            narration::set_sink(narration::Sink::Forward(Box::new(move |step| {
                let line = line(format, "debug", &step.to_line());
                match &sink {
                    Some(f) => {
                        if let Ok(mut f) = f.lock() {
                            let _ = f.write_all(line.as_bytes());
                        }
                    }
                    None => eprint!("{line}"),
                }
            })));
        }
        Logger { file, format }
    }

    /// One error: a line in the log, and on stderr.
    pub fn error(&self, message: &str) {
        if let Some(f) = &self.file {
            if let Ok(mut f) = f.lock() {
                let _ = f.write_all(line(self.format, "error", message).as_bytes());
            }
        }
        eprintln!("{}: {message}", super::NAME);
    }
}

/// One log line in the chosen format, newline included.
fn line(format: Format, level: &str, message: &str) -> String {
    let time = crate::state::time::rfc3339_nanos(std::time::SystemTime::now());
    match format {
        Format::Json => {
            let object = serde_json::json!({"level": level, "msg": message, "time": time});
            format!("{object}\n")
        }
        Format::Text => format!("time=\"{time}\" level={level} msg={message:?}\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_line_is_logrus_shaped() {
        let l = line(Format::Json, "error", "container \"a\" does not exist");
        let v: serde_json::Value = serde_json::from_str(l.trim_end()).unwrap();
        assert_eq!(v["level"], "error");
        assert_eq!(v["msg"], "container \"a\" does not exist");
        assert!(v["time"].as_str().unwrap().ends_with('Z'));
        assert!(l.ends_with('\n') && l.matches('\n').count() == 1);
    }
}
