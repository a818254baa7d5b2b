//! A finished command's outcome, asserted: success gives its stdout, failure its
//! stderr, and a wrong outcome fails the test with both streams shown.

use std::process::Output;

/// Require that `program args` succeeded; returns stdout.
pub fn succeeded(program: &str, args: &[&str], out: &Output) -> String {
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Require that `program args` failed; returns stderr.
pub fn failed(program: &str, args: &[&str], out: &Output) -> String {
    assert!(
        !out.status.success(),
        "{program} {args:?} should have failed:\nstdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}
