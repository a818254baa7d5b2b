//! One validation error on one field, worded as the API server words it
//! (`spec.restartPolicy: Unsupported value: "Sometimes": supported values: ...`).

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Where: `spec.containers[0].image`.
    pub path: String,
    /// What, after the path: `Required value`.
    pub detail: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.detail)
    }
}

/// `Invalid value: "x": why` (a string value is quoted, a number is not).
pub fn invalid(path: &str, value: impl fmt::Debug, why: &str) -> FieldError {
    error(path, format!("Invalid value: {value:?}: {why}"))
}

/// `Invalid value: VALUE: why` with the value already written as the API server
/// prints it (Go's `%#v` of a map, a bare number).
pub fn invalid_raw(path: &str, value: &str, why: &str) -> FieldError {
    error(path, format!("Invalid value: {value}: {why}"))
}

/// `Required value` (with a reason, if given).
pub fn required(path: &str, why: &str) -> FieldError {
    if why.is_empty() {
        error(path, "Required value".to_string())
    } else {
        error(path, format!("Required value: {why}"))
    }
}

/// `Duplicate value: "x"`.
pub fn duplicate(path: &str, value: &str) -> FieldError {
    error(path, format!("Duplicate value: {value:?}"))
}

/// `Not found: "x"`.
pub fn not_found(path: &str, value: &str) -> FieldError {
    error(path, format!("Not found: {value:?}"))
}

/// `Unsupported value: "x": supported values: "a", "b"`.
pub fn unsupported(path: &str, value: &str, supported: &[&str]) -> FieldError {
    let supported: Vec<String> = supported.iter().map(|v| format!("{v:?}")).collect();
    error(
        path,
        format!(
            "Unsupported value: {value:?}: supported values: {}",
            supported.join(", ")
        ),
    )
}

/// `Forbidden: why`.
pub fn forbidden(path: &str, why: &str) -> FieldError {
    error(path, format!("Forbidden: {why}"))
}

/// A value Kubernetes allows that minipod does not implement yet.
pub fn not_supported(path: &str, why: &str) -> FieldError {
    error(path, format!("not supported by minipod yet: {why}"))
}

fn error(path: &str, detail: String) -> FieldError {
    FieldError {
        path: path.to_string(),
        detail,
    }
}
