//! Which manifest files to read: files, directories and `-` (standard input).

use std::io::Read;
use std::path::{Path, PathBuf};

/// The most a manifest file (or standard input) may hold: the API server's limit
/// for one request body (3 MiB, `MaxRequestBodyBytes`). kubectl itself reads a file
/// whole, whatever its size; we stop at the limit so that `-f /dev/zero` or a
/// runaway pipe cannot fill the memory.
pub const MAX_MANIFEST_BYTES: u64 = 3 * 1024 * 1024;

/// The text of one manifest file and the name to give it in messages.
pub struct ManifestSource {
    pub origin: String,
    pub text: String,
}

/// Reads every source named by `paths`. A directory stands for every `*.yaml`,
/// `*.yml` and `*.json` file directly in it, sorted by name (as `kubectl apply -f dir/`).
/// Files that cannot be read are reported in `errors`.
pub fn read_sources(paths: &[PathBuf], errors: &mut Vec<String>) -> Vec<ManifestSource> {
    let mut sources = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            match read_bounded(std::io::stdin().lock(), "-") {
                Ok(text) => sources.push(ManifestSource {
                    origin: "-".to_string(),
                    text,
                }),
                Err(err) => errors.push(err),
            }
        } else if path.is_dir() {
            match manifest_files_in(path) {
                Ok(files) => {
                    if files.is_empty() {
                        errors.push(format!(
                            "{}: no manifest files (*.yaml, *.yml, *.json) in this directory",
                            path.display()
                        ));
                    }
                    for file in files {
                        read_file(&file, &mut sources, errors);
                    }
                }
                Err(err) => {
                    errors.push(format!("{}: cannot list directory: {err}", path.display()))
                }
            }
        } else {
            read_file(path, &mut sources, errors);
        }
    }
    sources
}

fn read_file(path: &Path, sources: &mut Vec<ManifestSource>, errors: &mut Vec<String>) {
    let origin = path.display().to_string();
    let text = std::fs::File::open(path)
        .map_err(|err| format!("{origin}: cannot read: {err}"))
        .and_then(|file| read_bounded(file, &origin));
    match text {
        Ok(text) => sources.push(ManifestSource { origin, text }),
        Err(err) => errors.push(err),
    }
}

/// At most [`MAX_MANIFEST_BYTES`] of UTF-8 text from `reader`; more is an error
/// in the API server's words, and nothing past the limit is read.
fn read_bounded(reader: impl Read, origin: &str) -> Result<String, String> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_MANIFEST_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| format!("{origin}: cannot read: {err}"))?;
    if bytes.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(format!(
            "{origin}: Request entity too large: limit is {MAX_MANIFEST_BYTES} \
             (a manifest may hold at most 3 MiB, the API server's limit for one request)"
        ));
    }
    String::from_utf8(bytes)
        .map_err(|err| format!("{origin}: cannot read: stream did not contain valid UTF-8 ({err})"))
}

/// The manifest files directly in `dir`, sorted by name.
fn manifest_files_in(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let is_manifest = matches!(
            path.extension().and_then(|ext| ext.to_str()),
            Some("yaml" | "yml" | "json")
        );
        if is_manifest && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// The origin `kubectl run` gives the pod it makes from its flags (no file).
pub const RUN_ORIGIN: &str = "STDIN";

/// kubectl's `error when creating "FILE": ` (`verb`: creating, replacing) before a
/// server error about an object read from a file (`STDIN` for `-f -`). `kubectl run`
/// reads no file: its objects ([`RUN_ORIGIN`]) get no such words.
pub fn error_when(verb: &str, origin: &str) -> String {
    if origin == RUN_ORIGIN {
        return String::new();
    }
    let file = crate::api::namespaces::source_name(origin);
    format!("error when {verb} {file:?}: ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_gives_its_manifests_sorted() {
        let dir =
            std::env::temp_dir().join(format!("minipod-manifest-files-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        for name in ["b.yaml", "a.json", "c.yml", "notes.txt", "sub/d.yaml"] {
            std::fs::write(dir.join(name), name).unwrap();
        }
        let mut errors = Vec::new();
        let sources = read_sources(std::slice::from_ref(&dir), &mut errors);
        let texts: Vec<&str> = sources.iter().map(|source| source.text.as_str()).collect();
        assert_eq!(texts, ["a.json", "b.yaml", "c.yml"]);
        assert!(errors.is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_over_the_limit_is_refused_without_reading_it_all() {
        // /dev/zero never ends: only the limit stops the reading.
        let mut errors = Vec::new();
        let sources = read_sources(&[PathBuf::from("/dev/zero")], &mut errors);
        assert!(sources.is_empty());
        assert_eq!(
            errors,
            [
                "/dev/zero: Request entity too large: limit is 3145728 (a manifest may hold \
              at most 3 MiB, the API server's limit for one request)"
            ]
        );
    }

    #[test]
    fn a_file_at_the_limit_is_read() {
        let text = "#".repeat(MAX_MANIFEST_BYTES as usize);
        assert_eq!(
            read_bounded(text.as_bytes(), "x").unwrap().len(),
            text.len()
        );
    }

    #[test]
    fn a_missing_file_is_an_error() {
        let mut errors = Vec::new();
        read_sources(&[PathBuf::from("/nonexistent/pod.yaml")], &mut errors);
        assert!(errors[0].starts_with("/nonexistent/pod.yaml: cannot read"));
    }
}
