//! Which manifest files to read: files, directories and `-` (standard input).

use std::io::Read;
use std::path::{Path, PathBuf};

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
            let mut text = String::new();
            match std::io::stdin().read_to_string(&mut text) {
                Ok(_) => sources.push(ManifestSource {
                    origin: "-".to_string(),
                    text,
                }),
                Err(err) => errors.push(format!("-: cannot read standard input: {err}")),
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
    match std::fs::read_to_string(path) {
        Ok(text) => sources.push(ManifestSource {
            origin: path.display().to_string(),
            text,
        }),
        Err(err) => errors.push(format!("{}: cannot read: {err}", path.display())),
    }
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
    fn a_missing_file_is_an_error() {
        let mut errors = Vec::new();
        read_sources(&[PathBuf::from("/nonexistent/pod.yaml")], &mut errors);
        assert!(errors[0].starts_with("/nonexistent/pod.yaml: cannot read"));
    }
}
