//! What stopped a container, as a typed value: one enum per part of the runtime
//! (namespaces, mounts, the process, cgroups) rolled into [`Error`], which a child
//! sends to its parent over the setup channel as it is (serialized, not as text).
//!
//! Each message says what was done to which path, then the kernel's answer:
//! `mount /var/lib/…/shared-logs on /var/log/nginx: ENOENT: No such file or directory`.
//! [`Error::kind`] tells the pod layer whether the spec asked for something that cannot
//! be (a missing path, a bad mount) or the kernel refused at run time.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;

/// An errno that survives serialization; printed as nix prints it (`ENOENT: No such
/// file or directory`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Errno(pub i32);

impl From<nix::errno::Errno> for Errno {
    fn from(errno: nix::errno::Errno) -> Self {
        Errno(errno as i32)
    }
}

#[allow(dead_code)] // read by Error::kind
impl Errno {
    fn is(self, errno: nix::errno::Errno) -> bool {
        self.0 == errno as i32
    }

    /// The path does not exist, is not a directory, or loops: the spec's fault.
    fn is_missing_path(self) -> bool {
        use nix::errno::Errno as E;
        self.is(E::ENOENT) || self.is(E::ENOTDIR) || self.is(E::ELOOP)
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        nix::errno::Errno::from_raw(self.0).fmt(f)
    }
}

/// Whose problem it is, for the pod layer's reasons.
#[allow(dead_code)] // read by the pod layer's reasons (being written beside this)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The spec cannot be built: a bad mount source or target, a missing path, an
    /// unknown capability, no command (kubelet: CreateContainerConfigError).
    Config,
    /// The kernel refused while running it: exec failed, permission (StartError).
    Run,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
pub enum NamespaceError {
    #[error("namespace {name} appears twice in the spec")]
    Duplicate { name: String },
    #[error("user namespaces are not supported by minipod yet")]
    User,
    #[error("namespace {name}: path {} is not absolute", path.display())]
    RelativePath { name: String, path: PathBuf },
    #[error("open namespace {}: {errno}", path.display())]
    Open { path: PathBuf, errno: Errno },
    #[error("setns {}: {errno}", path.display())]
    Setns { path: PathBuf, errno: Errno },
    #[error("unshare({flags}): {errno}")]
    Unshare { flags: String, errno: Errno },
}

#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
pub enum MountError {
    /// A mount (or remount, or propagation change) the kernel refused.
    #[error("{what}: {errno}")]
    Mount { what: String, errno: Errno },
    /// A target that cannot be resolved or created inside the rootfs.
    #[error("{what}: {message}")]
    Target { what: String, message: String },
    #[error("device {}: {problem}", path.display())]
    Device { path: PathBuf, problem: String },
    #[error("{what} {}: {errno}", path.display())]
    Node {
        what: String,
        path: PathBuf,
        errno: Errno,
    },
    #[error("{what}: {errno}")]
    Pivot { what: String, errno: Errno },
    #[error("{0}")]
    Other(String),
}

#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
pub enum ProcessError {
    /// A call that sets up the process (fork, setsid, dup2, user, capabilities, …).
    #[error("{what}: {errno}")]
    Failed { what: String, errno: Errno },
    #[error("unknown capability {name}")]
    UnknownCapability { name: String },
    #[error("the container has no command: neither the image nor the manifest gives one")]
    NoCommand,
    #[error("exec: \"{program}\": executable file not found in $PATH")]
    NotFound { program: String },
    #[error("{what} contains a NUL byte")]
    Nul { what: String },
    #[error("chdir to the working directory {}: {errno}", cwd.display())]
    Cwd { cwd: PathBuf, errno: Errno },
    #[error("working directory {} is outside the container", cwd.display())]
    CwdOutside { cwd: PathBuf },
    #[error("exec {}: {errno}", path.display())]
    Exec { path: PathBuf, errno: Errno },
    #[error("{0}")]
    Other(String),
}

#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
pub enum CgroupError {
    #[error("create cgroup {}: {errno}", path.display())]
    Create { path: PathBuf, errno: Errno },
    #[error("write {value:?} to {}: {errno}", path.display())]
    Write {
        path: PathBuf,
        value: String,
        errno: Errno,
    },
    #[error("no {controller} cgroup controller on this host")]
    NoController { controller: String },
    /// The device rules could not be put in force (v1 files, or the v2 BPF program).
    #[error("device rules: {message}")]
    Devices { message: String },
    /// `linux.resources.unified` names cgroup v2 files: refused where they cannot be
    /// written (a v1 or hybrid host, as runc refuses it) or outside the cgroup.
    #[error("linux.resources.unified {key:?}: {why}")]
    Unified { key: String, why: String },
}

/// Everything that can stop a container before its program runs.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
pub enum Error {
    #[error(transparent)]
    Namespace(#[from] NamespaceError),
    #[error(transparent)]
    Mount(#[from] MountError),
    #[error(transparent)]
    Process(#[from] ProcessError),
    #[error(transparent)]
    Cgroup(#[from] CgroupError),
    /// Work outside the four parts (the infra's network, an unexpected failure).
    #[error("{0}")]
    Other(String),
}

#[allow(dead_code)] // read by the pod layer's reasons (being written beside this)
impl Error {
    pub fn kind(&self) -> Kind {
        match self {
            Error::Namespace(e) => match e {
                NamespaceError::Duplicate { .. }
                | NamespaceError::User
                | NamespaceError::RelativePath { .. } => Kind::Config,
                NamespaceError::Open { errno, .. } if errno.is_missing_path() => Kind::Config,
                _ => Kind::Run,
            },
            Error::Mount(e) => match e {
                MountError::Target { .. } | MountError::Device { .. } => Kind::Config,
                MountError::Mount { errno, .. } | MountError::Node { errno, .. }
                    if errno.is_missing_path() =>
                {
                    Kind::Config
                }
                _ => Kind::Run,
            },
            Error::Process(e) => match e {
                ProcessError::UnknownCapability { .. }
                | ProcessError::NoCommand
                | ProcessError::Nul { .. }
                | ProcessError::CwdOutside { .. } => Kind::Config,
                ProcessError::Cwd { errno, .. } if errno.is_missing_path() => Kind::Config,
                _ => Kind::Run,
            },
            Error::Cgroup(_) | Error::Other(_) => Kind::Run,
        }
    }
}

/// Code that still speaks anyhow (the safe-path resolver, helpers of the pod layer)
/// keeps its whole chain of context as the message.
impl From<anyhow::Error> for Error {
    fn from(err: anyhow::Error) -> Self {
        match err.downcast::<Error>() {
            Ok(typed) => typed,
            Err(err) => Error::Other(format!("{err:#}")),
        }
    }
}

impl From<anyhow::Error> for MountError {
    fn from(err: anyhow::Error) -> Self {
        MountError::Other(format!("{err:#}"))
    }
}

impl From<anyhow::Error> for ProcessError {
    fn from(err: anyhow::Error) -> Self {
        ProcessError::Other(format!("{err:#}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_crosses_the_channel_as_itself() {
        let err = Error::from(MountError::Mount {
            what: "mount /var/lib/minipod/volumes/shared-logs on /var/log/nginx".into(),
            errno: nix::errno::Errno::ENOENT.into(),
        });
        let wire = serde_json::to_string(&err).unwrap();
        let back: Error = serde_json::from_str(&wire).unwrap();
        assert_eq!(back, err);
        assert_eq!(
            back.to_string(),
            "mount /var/lib/minipod/volumes/shared-logs on /var/log/nginx: \
             ENOENT: No such file or directory"
        );
        assert_eq!(back.kind(), Kind::Config);
    }

    #[test]
    fn kinds_tell_the_spec_from_the_kernel() {
        let exec = Error::from(ProcessError::Exec {
            path: "/bin/sh".into(),
            errno: nix::errno::Errno::EACCES.into(),
        });
        assert_eq!(exec.kind(), Kind::Run);
        let denied = Error::from(MountError::Mount {
            what: "mount proc on /proc".into(),
            errno: nix::errno::Errno::EPERM.into(),
        });
        assert_eq!(denied.kind(), Kind::Run);
        let twice = Error::from(NamespaceError::Duplicate { name: "net".into() });
        assert_eq!(twice.kind(), Kind::Config);
        assert_eq!(Error::from(ProcessError::NoCommand).kind(), Kind::Config);
    }

    #[test]
    fn the_pod_layer_finds_the_typed_error_under_its_context() {
        // runtime::run returns anyhow::Error; the supervisor adds "start container …".
        let err = anyhow::Error::from(Error::from(ProcessError::NoCommand))
            .context("start container app");
        let typed = err.downcast_ref::<Error>().expect("the runtime's error");
        assert_eq!(typed.kind(), Kind::Config);
        assert_eq!(
            format!("{err:#}"),
            "start container app: the container has no command: \
             neither the image nor the manifest gives one"
        );
    }

    #[test]
    fn an_anyhow_chain_keeps_its_context() {
        let err = anyhow::anyhow!("ENOENT").context("open /etc/hosts inside the rootfs");
        assert_eq!(
            Error::from(err).to_string(),
            "open /etc/hosts inside the rootfs: ENOENT"
        );
    }
}
