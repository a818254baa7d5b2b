//! Each distinct profile compiled once: by the pod's supervisor for every container it
//! starts (the infra and the app containers often share RuntimeDefault, a restarted
//! container has the same profile as before) and for its exec probes; the program is
//! also saved beside the container's bundle, for `minipod exec` to load it without
//! compiling it again.

use super::Program;
use anyhow::{Context, Result};
use oci_spec::runtime::{LinuxSeccomp, Spec};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The compiled programs of one pod, by profile.
#[derive(Default)]
pub struct Programs {
    /// Keyed by the profile's canonical JSON (serde's field order: the same profile
    /// always gives the same string).
    compiled: HashMap<String, Program>,
}

impl Programs {
    /// The program of the spec's `linux.seccomp`, or `None` when the container runs
    /// unconfined.
    pub fn for_spec(&mut self, spec: &Spec) -> Result<Option<Program>> {
        match spec.linux().as_ref().and_then(|l| l.seccomp().as_ref()) {
            Some(profile) => self.for_profile(profile).map(Some),
            None => Ok(None),
        }
    }

    /// The profile's program: compiled the first time it is asked for.
    pub fn for_profile(&mut self, profile: &LinuxSeccomp) -> Result<Program> {
        let key = canonical(profile)?;
        if let Some(program) = self.compiled.get(&key) {
            return Ok(program.clone());
        }
        let program = super::compile(profile)?;
        self.compiled.insert(key, program.clone());
        Ok(program)
    }

    /// How many distinct profiles were compiled.
    #[cfg(test)]
    pub fn compiled(&self) -> usize {
        self.compiled.len()
    }
}

fn canonical(profile: &LinuxSeccomp) -> Result<String> {
    serde_json::to_string(profile).context("seccomp: encode the profile")
}

/// `<bundle>/seccomp.json`: beside `config.json`, outside the container's root (the
/// container sees `<bundle>/rootfs` only).
fn saved_path(bundle: &Path) -> PathBuf {
    bundle.join("seccomp.json")
}

/// What is saved: the program and the profile it was compiled from, so a reader can
/// tell it still belongs to the bundle's `config.json`.
#[derive(Serialize, Deserialize)]
struct Saved {
    profile: String,
    program: Program,
}

/// Save the program compiled from `profile` beside the bundle, atomically (a
/// temporary file renamed over the old one: a reader sees one or the other).
pub fn save(bundle: &Path, profile: &LinuxSeccomp, program: &Program) -> Result<()> {
    let saved = Saved {
        profile: canonical(profile)?,
        program: program.clone(),
    };
    let bytes = serde_json::to_vec(&saved).context("seccomp: encode the saved program")?;
    let path = saved_path(bundle);
    let tmp = bundle.join(format!(".seccomp.json.{}", std::process::id()));
    let written = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(&bytes))
        .and_then(|()| std::fs::rename(&tmp, &path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.with_context(|| format!("seccomp: save the compiled program to {}", path.display()))
}

/// The program saved beside the bundle when it was compiled from this very profile;
/// otherwise (no file, another profile, a damaged file) compiled here.
pub fn saved_or_compiled(bundle: &Path, profile: &LinuxSeccomp) -> Result<Program> {
    let key = canonical(profile)?;
    let saved = std::fs::read(saved_path(bundle))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Saved>(&bytes).ok())
        .filter(|s| s.profile == key && s.program.check().is_ok());
    match saved {
        Some(s) => Ok(s.program),
        None => super::compile(profile),
    }
}
