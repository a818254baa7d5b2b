//! Builds the infra's pause program (`src/pause/main.rs`) and puts it next to the
//! minipod binary as `minipod-pause`, where the pod layer finds it.
//!
//! It is built here with rustc rather than as a cargo `[[bin]]`: it is `no_std` with
//! raw system calls, which needs `panic = "abort"`, and cargo cannot give one binary
//! of a package a panic strategy of its own. Linked `-nostartfiles -nostdlib -static`:
//! no libc, no dynamic loader, nothing but its own few pages.

use std::env;
use std::path::PathBuf;
use std::process::Command;

const SOURCE: &str = "src/pause/main.rs";

fn main() {
    println!("cargo:rerun-if-changed={SOURCE}");
    println!("cargo:rerun-if-changed=build.rs");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let target = env::var("TARGET").expect("cargo sets TARGET");
    let built = out_dir.join("minipod-pause");
    let status = Command::new(rustc)
        .args([
            "--edition",
            "2021",
            "--crate-type",
            "bin",
            "--crate-name",
            "minipod_pause",
        ])
        .args(["--target", &target, "-D", "warnings"])
        .args([
            "-C",
            "panic=abort",
            "-C",
            "opt-level=s",
            "-C",
            "relocation-model=static",
        ])
        .args(["-C", "strip=symbols", "-C", "debuginfo=0"])
        .args(["-C", "link-arg=-nostartfiles", "-C", "link-arg=-nostdlib"])
        .args([
            "-C",
            "link-arg=-static",
            "-C",
            "link-arg=-Wl,--build-id=none",
        ])
        .arg("-o")
        .arg(&built)
        .arg(SOURCE)
        .status()
        .expect("run rustc for the pause program");
    assert!(status.success(), "building {SOURCE} failed");
    // OUT_DIR is <target dir>/<profile>/build/minipod-<hash>/out: the binaries are in
    // <profile>. A rename, so a pause that runs keeps its old file.
    let profile_dir = out_dir
        .ancestors()
        .nth(3)
        .expect("OUT_DIR is inside the profile directory");
    let tmp = profile_dir.join(".minipod-pause.tmp");
    std::fs::copy(&built, &tmp).expect("copy the pause program");
    std::fs::rename(&tmp, profile_dir.join("minipod-pause")).expect("install the pause program");
}
