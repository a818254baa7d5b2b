//! Why a container could not be started, in Kubernetes' words: the reason kubelet
//! shows as the container's waiting state (`kubectl get pods` STATUS).
//!
//! Code that prepares a container (its spec, its volumes, its subPaths) marks an error
//! with its kind, e.g. `Err(StartError::config(err))?` or
//! `.map_err(StartError::config)?`; the supervisor finds the mark anywhere in an
//! `anyhow` chain with [`StartError::kind_of`].

use std::fmt;

/// The step of a container's start that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartFailure {
    /// The container's configuration cannot be built: a missing image, a user that
    /// does not resolve, a volume or subPath that cannot be used.
    Config,
    /// The container could not be created: its rootfs, bundle, pipes or log file.
    Create,
    /// The runtime could not start its process.
    Run,
    /// The image is not in the local store (on a cluster: the pull failed).
    ImagePull,
    /// The image reference cannot be parsed.
    InvalidImage,
}

impl StartFailure {
    /// The waiting reason kubelet gives such a failure.
    pub fn reason(self) -> &'static str {
        match self {
            StartFailure::Config => "CreateContainerConfigError",
            StartFailure::Create => "CreateContainerError",
            StartFailure::Run => "RunContainerError",
            StartFailure::ImagePull => "ErrImagePull",
            StartFailure::InvalidImage => "InvalidImageName",
        }
    }

    /// A failure to get the container's image: retried on kubelet's image back-off
    /// whatever the restart policy, since no container ran.
    pub fn is_image(self) -> bool {
        matches!(self, StartFailure::ImagePull | StartFailure::InvalidImage)
    }
}

/// An error that says which step of a container's start it broke.
#[derive(Debug)]
pub struct StartError {
    pub kind: StartFailure,
    pub error: anyhow::Error,
}

impl StartError {
    pub fn config(error: impl Into<anyhow::Error>) -> StartError {
        StartError {
            kind: StartFailure::Config,
            error: error.into(),
        }
    }

    pub fn create(error: impl Into<anyhow::Error>) -> StartError {
        StartError {
            kind: StartFailure::Create,
            error: error.into(),
        }
    }

    pub fn run(error: impl Into<anyhow::Error>) -> StartError {
        StartError {
            kind: StartFailure::Run,
            error: error.into(),
        }
    }

    pub fn of_kind(kind: StartFailure, error: impl Into<anyhow::Error>) -> StartError {
        StartError {
            kind,
            error: error.into(),
        }
    }

    pub fn reason(&self) -> &'static str {
        self.kind.reason()
    }

    /// The kind marked anywhere in the chain of `err`, if any.
    pub fn kind_of(err: &anyhow::Error) -> Option<StartFailure> {
        err.chain()
            .find_map(|e| e.downcast_ref::<StartError>())
            .map(|s| s.kind)
    }
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The whole chain, as `{:#}` prints it: the message is what users read.
        write!(f, "{:#}", self.error)
    }
}

impl std::error::Error for StartError {}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn reasons_are_kubelets() {
        assert_eq!(
            StartError::config(anyhow::anyhow!("x")).reason(),
            "CreateContainerConfigError"
        );
        assert_eq!(
            StartError::create(anyhow::anyhow!("x")).reason(),
            "CreateContainerError"
        );
        assert_eq!(
            StartError::run(anyhow::anyhow!("x")).reason(),
            "RunContainerError"
        );
    }

    #[test]
    fn the_kind_is_found_under_added_context() {
        let err: anyhow::Result<()> = Err(StartError::config(anyhow::anyhow!(
            "subPath \"../x\" leaves the volume"
        )))
        .context("container app");
        let err = err.unwrap_err();
        assert_eq!(StartError::kind_of(&err), Some(StartFailure::Config));
        assert_eq!(
            format!("{err:#}"),
            "container app: subPath \"../x\" leaves the volume"
        );
        assert_eq!(StartError::kind_of(&anyhow::anyhow!("plain")), None);
    }
}
