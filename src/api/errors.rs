//! The error type of manifest reading: every problem found, one per line.

use std::fmt;

/// Every error found in the manifests, each a complete sentence that names the file,
/// the object and the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestErrors(pub Vec<String>);

impl ManifestErrors {
    /// `Ok(value)` when no error was found, else all the errors.
    pub fn result<T>(value: T, errors: Vec<String>) -> Result<T, ManifestErrors> {
        if errors.is_empty() {
            Ok(value)
        } else {
            Err(ManifestErrors(errors))
        }
    }
}

impl fmt::Display for ManifestErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.join("\n"))
    }
}

impl std::error::Error for ManifestErrors {}
