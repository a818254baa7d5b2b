//! The lessons compiled into the binary, so an installed `minipod demo` finds them
//! (and the manifests their commands apply) without the repository: each page and
//! file under its path in the repository. `demo` writes them to a temporary
//! directory and runs the page's commands there.

/// (path in the repository, contents).
pub const FILES: &[(&str, &str)] = &[
    (
        "docs/lessons/README.md",
        include_str!("../../docs/lessons/README.md"),
    ),
    (
        "docs/lessons/a-shared-network.md",
        include_str!("../../docs/lessons/a-shared-network.md"),
    ),
    (
        "docs/lessons/b-pod-lives-with-infra.md",
        include_str!("../../docs/lessons/b-pod-lives-with-infra.md"),
    ),
    (
        "docs/lessons/c-emptydir-lifetime.md",
        include_str!("../../docs/lessons/c-emptydir-lifetime.md"),
    ),
    (
        "docs/lessons/d-emptydir-hides-log-link.md",
        include_str!("../../docs/lessons/d-emptydir-hides-log-link.md"),
    ),
    (
        "docs/lessons/e-containers-start-in-no-order.md",
        include_str!("../../docs/lessons/e-containers-start-in-no-order.md"),
    ),
    (
        "docs/lessons/f-init-containers-in-order.md",
        include_str!("../../docs/lessons/f-init-containers-in-order.md"),
    ),
    (
        "docs/lessons/g-why-an-infra-process.md",
        include_str!("../../docs/lessons/g-why-an-infra-process.md"),
    ),
    (
        "docs/lessons/h-root-is-not-root.md",
        include_str!("../../docs/lessons/h-root-is-not-root.md"),
    ),
    (
        "docs/lessons/i-one-pod-one-ip.md",
        include_str!("../../docs/lessons/i-one-pod-one-ip.md"),
    ),
    (
        "docs/lessons/j-deployment-keeps-two-pods.md",
        include_str!("../../docs/lessons/j-deployment-keeps-two-pods.md"),
    ),
    (
        "docs/lessons/manifests/init-order.yaml",
        include_str!("../../docs/lessons/manifests/init-order.yaml"),
    ),
    (
        "docs/lessons/manifests/nginx-alone.yaml",
        include_str!("../../docs/lessons/manifests/nginx-alone.yaml"),
    ),
    (
        "docs/lessons/manifests/other-pod.yaml",
        include_str!("../../docs/lessons/manifests/other-pod.yaml"),
    ),
    (
        "docs/lessons/manifests/race.yaml",
        include_str!("../../docs/lessons/manifests/race.yaml"),
    ),
    (
        "docs/lessons/manifests/root-demo.yaml",
        include_str!("../../docs/lessons/manifests/root-demo.yaml"),
    ),
    (
        "docs/lessons/manifests/subpath-escape.yaml",
        include_str!("../../docs/lessons/manifests/subpath-escape.yaml"),
    ),
    (
        "examples/sidecar-pod.yaml",
        include_str!("../../examples/sidecar-pod.yaml"),
    ),
    (
        "examples/nginx-deployment.yaml",
        include_str!("../../examples/nginx-deployment.yaml"),
    ),
];

/// The bundled file at `path`.
pub fn file(path: &str) -> Option<&'static str> {
    FILES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, text)| *text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A new page or manifest must be added above, or an installed minipod misses it.
    #[test]
    fn every_lesson_file_is_bundled_as_it_is_on_disk() {
        let repo = env!("CARGO_MANIFEST_DIR");
        for dir in ["docs/lessons", "docs/lessons/manifests"] {
            for entry in std::fs::read_dir(format!("{repo}/{dir}")).unwrap() {
                let path = entry.unwrap().path();
                if path.is_file() {
                    let name = format!("{dir}/{}", path.file_name().unwrap().to_string_lossy());
                    let on_disk = std::fs::read_to_string(&path).unwrap();
                    assert_eq!(file(&name), Some(on_disk.as_str()), "{name} is not bundled");
                }
            }
        }
        // Every manifest a page applies with `-f PATH.yaml` is bundled too.
        for (page, text) in FILES.iter().filter(|(p, _)| p.ends_with(".md")) {
            for path in text
                .split_whitespace()
                .skip_while(|w| *w != "-f")
                .collect::<Vec<_>>()
                .windows(2)
                .filter(|w| w[0] == "-f" && w[1].ends_with(".yaml"))
                .map(|w| w[1])
            {
                let on_disk = std::fs::read_to_string(format!("{repo}/{path}"))
                    .unwrap_or_else(|e| panic!("{page} applies {path}: {e}"));
                assert_eq!(
                    file(path),
                    Some(on_disk.as_str()),
                    "{page}: {path} is not bundled"
                );
            }
        }
    }
}
