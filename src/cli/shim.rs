//! `minipod shim <uid>`: the per-pod supervisor, started by `apply` (not for users).

use super::Context;
use anyhow::Result;
use std::os::fd::FromRawFd;

pub fn run(ctx: &Context, uid: &str) -> Result<i32> {
    let ready = std::env::var("MINIPOD_READY_FD")
        .ok()
        .and_then(|v| v.parse::<i32>().ok())
        // SAFETY: apply placed the write end of its pipe on this descriptor for us.
        .map(|fd| unsafe { std::fs::File::from_raw_fd(fd) });
    std::env::remove_var("MINIPOD_READY_FD");
    crate::runtime::set_process_name("minipod-shim");
    crate::pod::supervisor::run(&ctx.state, uid, ready)?;
    Ok(0)
}
