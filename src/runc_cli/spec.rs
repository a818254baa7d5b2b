//! `spec`: write runc's default `config.json` into a bundle directory (never over an
//! existing one): `sh` on a terminal, the usual namespaces, mounts, masked and
//! read-only paths, and a read-only `rootfs`.

use anyhow::{bail, Context, Result};
use clap::Args;
use oci_spec::runtime::Spec;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct SpecArgs {
    /// Where to write config.json.
    #[arg(long, short = 'b', default_value = ".")]
    pub bundle: PathBuf,
}

pub fn run(args: &SpecArgs) -> Result<()> {
    let path = args.bundle.join("config.json");
    if path.exists() {
        bail!("{} already exists: remove it first", path.display());
    }
    let mut spec = Spec::default();
    if let Some(mut process) = spec.process().clone() {
        // runc's default: an interactive shell.
        process.set_terminal(Some(true));
        spec.set_process(Some(process));
    }
    spec.set_hostname(Some("minipod".into()));
    spec.save(&path)
        .with_context(|| format!("write {}", path.display()))
}
