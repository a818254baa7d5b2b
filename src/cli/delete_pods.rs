//! Deleting a set of pods, as `delete pod A B`, `delete pods --all`, `delete pods -l
//! SEL [-A]` and `delete namespace X` do it: every pod's supervisor is asked first
//! (each under its pod's lock, briefly), then all are waited for with no lock held,
//! so N pods take one grace period, not N.

use super::Context;
use super::{errln, outln};
use crate::pod::{delete, record};
use anyhow::Result;

/// How the pods are deleted.
pub struct Deletion {
    /// None: each pod's own terminationGracePeriodSeconds.
    pub grace: Option<i64>,
    pub ignore_not_found: bool,
    pub explain: bool,
    /// Print no line per pod (a namespace's deletion prints its own).
    pub quiet: bool,
}

/// Delete `targets`; prints kubectl's line for each; returns the exit code.
pub fn delete_pods(ctx: &Context, targets: Vec<(String, String)>, how: &Deletion) -> Result<i32> {
    // kubectl's word for a deletion with no grace period.
    let deleted = if how.grace == Some(0) {
        "force deleted"
    } else {
        "deleted"
    };
    let mut code = 0;
    let mut deleting = Vec::new();
    for (ns, name) in targets {
        let _lock = crate::state::lock::lock_pod(&ctx.state, &ns, &name)?;
        let Some(pod) = record::find(&ctx.state, &ns, &name)? else {
            if !how.ignore_not_found {
                errln!("Error from server (NotFound): pods \"{name}\" not found");
                code = 1;
            }
            continue;
        };
        match delete::begin(&pod, how.grace) {
            Ok(d) => deleting.push(d),
            Err(e) => {
                errln!("error: {e:#}");
                code = 1;
            }
        }
    }
    let explain = how.explain;
    let mut on_step = |s: &crate::narration::Step| {
        if explain {
            outln!("{}", s.to_line());
        }
    };
    for d in deleting {
        let (ns, name) = (d.namespace().to_string(), d.name().to_string());
        match d.finish(&ctx.state, &mut on_step) {
            Ok(()) if how.quiet => {}
            Ok(()) => outln!("pod \"{name}\" {deleted}"),
            Err(e) => {
                errln!("error: {e:#}");
                code = 1;
            }
        }
        forget_lock(ctx, &ns, &name);
    }
    Ok(code)
}

/// The name is free again: its lock file goes too (unless the name was taken again).
pub fn forget_lock(ctx: &Context, ns: &str, name: &str) {
    if let Ok(lock) = crate::state::lock::lock_pod(&ctx.state, ns, name) {
        if matches!(record::find(&ctx.state, ns, name), Ok(None)) {
            lock.remove();
        }
    }
}
