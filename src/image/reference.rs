//! Image references, normalized the way Docker Hub names images.
//!
//! `busybox`, `busybox:latest`, `library/busybox:latest` and
//! `docker.io/library/busybox:latest` all name the same image and normalize to the short
//! ("familiar") form `busybox:latest`. Other registries keep their domain:
//! `registry.k8s.io/busybox:1.27.2`. A digest (`name@sha256:...`) names a manifest.
//!
//! Grammar (from the distribution project's `reference` package):
//! ```text
//! reference  := name [ ":" tag ] [ "@" digest ]
//! name       := [ domain "/" ] component ( "/" component )*
//! component  := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
//! domain     := a first part with a "." or a ":" (port), or "localhost"
//! tag        := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
//! ```

use super::digest::Digest;
use anyhow::{bail, Context, Result};
use std::fmt;

const DOCKER_HUB_DOMAINS: [&str; 2] = ["docker.io", "index.docker.io"];
const MAX_NAME_LEN: usize = 255;

/// A parsed, normalized image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The familiar repository name: `busybox`, `myuser/app`, `registry.k8s.io/pause`.
    pub name: String,
    /// The tag; `latest` when neither a tag nor a digest was given.
    pub tag: Option<String>,
    /// A manifest digest (`name@sha256:...`).
    pub digest: Option<Digest>,
}

impl Reference {
    pub fn parse(input: &str) -> Result<Reference> {
        parse_reference(input).with_context(|| format!("invalid image reference {input:?}"))
    }

    /// `name:tag`, the key of the store's tag table (None for a digest-only reference).
    pub fn name_tag(&self) -> Option<String> {
        self.tag
            .as_ref()
            .map(|tag| format!("{}:{}", self.name, tag))
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// The normalized form of an image reference: `docker.io/library/busybox` → `busybox:latest`.
#[allow(dead_code)] // the pod layer's API
pub fn normalize_reference(s: &str) -> Result<String> {
    Ok(Reference::parse(s)?.to_string())
}

fn parse_reference(input: &str) -> Result<Reference> {
    if input.is_empty() {
        bail!("the reference is empty");
    }
    let (rest, digest) = match input.rsplit_once('@') {
        Some((rest, digest)) => (rest, Some(Digest::parse(digest)?)),
        None => (input, None),
    };
    // A ':' after the last '/' separates the tag; one before it belongs to a port.
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(tag) = tag {
        check_tag(tag)?;
    }
    if name.len() > MAX_NAME_LEN {
        bail!("the repository name is longer than {MAX_NAME_LEN} characters");
    }
    let (domain, path) = split_domain(name);
    if let Some(domain) = domain {
        check_domain(domain)?;
    }
    for component in path.split('/') {
        check_path_component(component)?;
    }
    let familiar = match domain {
        None => strip_library(path),
        Some(d) if DOCKER_HUB_DOMAINS.contains(&d) => strip_library(path),
        Some(d) => format!("{d}/{path}"),
    };
    let tag = match (tag, &digest) {
        (Some(tag), _) => Some(tag.to_string()),
        (None, None) => Some("latest".to_string()),
        (None, Some(_)) => None,
    };
    Ok(Reference {
        name: familiar,
        tag,
        digest,
    })
}

/// Docker's rule: the first part is a registry domain when it has a '.' or a ':' or is
/// `localhost`, and something follows it.
fn split_domain(name: &str) -> (Option<&str>, &str) {
    match name.split_once('/') {
        Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
            (Some(first), rest)
        }
        _ => (None, name),
    }
}

/// Official Docker Hub images live under `library/`, which the familiar name omits.
fn strip_library(path: &str) -> String {
    match path.strip_prefix("library/") {
        Some(rest) if !rest.contains('/') => rest.to_string(),
        _ => path.to_string(),
    }
}

fn check_tag(tag: &str) -> Result<()> {
    let mut chars = tag.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !first_ok || !rest_ok || tag.len() > 128 {
        bail!("tag {tag:?} must be 1 to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'");
    }
    Ok(())
}

fn check_domain(domain: &str) -> Result<()> {
    let (host, port) = match domain.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (domain, None),
    };
    let host_ok = host.split('.').all(|part| {
        !part.is_empty()
            && !part.starts_with('-')
            && !part.ends_with('-')
            && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    });
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    if !host_ok || !port_ok {
        bail!("registry domain {domain:?} is not a valid host[:port]");
    }
    Ok(())
}

/// `[a-z0-9]+` runs joined by one separator: `.`, `_`, `__` or any number of `-`.
fn check_path_component(component: &str) -> Result<()> {
    let bad = || {
        anyhow::anyhow!(
            "repository name component {component:?} must be lowercase letters and digits, \
             joined by '.', '_', '__' or '-'"
        )
    };
    if component.is_empty() {
        return Err(bad());
    }
    let bytes = component.as_bytes();
    let is_alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let mut i = 0;
    loop {
        let start = i;
        while i < bytes.len() && is_alnum(bytes[i]) {
            i += 1;
        }
        if i == start {
            return Err(bad());
        }
        if i == bytes.len() {
            return Ok(());
        }
        let sep_start = i;
        while i < bytes.len() && !is_alnum(bytes[i]) {
            i += 1;
        }
        let separator = &component[sep_start..i];
        let separator_ok =
            matches!(separator, "." | "_" | "__") || separator.chars().all(|c| c == '-');
        if !separator_ok {
            return Err(bad());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        normalize_reference(s).unwrap_or_else(|e| panic!("{s}: {e:#}"))
    }

    #[test]
    fn docker_hub_names_are_familiar() {
        assert_eq!(norm("busybox"), "busybox:latest");
        assert_eq!(norm("busybox:1.36"), "busybox:1.36");
        assert_eq!(norm("library/busybox:1.36"), "busybox:1.36");
        assert_eq!(norm("docker.io/library/busybox:1.36"), "busybox:1.36");
        assert_eq!(norm("index.docker.io/library/busybox"), "busybox:latest");
        assert_eq!(norm("docker.io/myuser/app:v1"), "myuser/app:v1");
        assert_eq!(norm("library/a/b"), "library/a/b:latest");
    }

    #[test]
    fn other_registries_keep_their_domain() {
        assert_eq!(
            norm("registry.k8s.io/busybox:1.27.2"),
            "registry.k8s.io/busybox:1.27.2"
        );
        assert_eq!(norm("localhost:5000/app"), "localhost:5000/app:latest");
        assert_eq!(norm("localhost/app:1"), "localhost/app:1");
        assert_eq!(
            norm("quay.io/a/b-c__d.e:x_1.2-3"),
            "quay.io/a/b-c__d.e:x_1.2-3"
        );
    }

    #[test]
    fn digests() {
        let hex = "a".repeat(64);
        assert_eq!(
            norm(&format!("docker.io/library/busybox@sha256:{hex}")),
            format!("busybox@sha256:{hex}")
        );
        let r = Reference::parse(&format!("busybox:1.36@sha256:{hex}")).unwrap();
        assert_eq!(r.tag.as_deref(), Some("1.36"));
        assert_eq!(r.digest.unwrap().hex(), hex);
        assert!(Reference::parse("busybox@sha256:abc").is_err());
        assert!(Reference::parse(&format!("busybox@md5:{hex}")).is_err());
    }

    #[test]
    fn invalid_references_name_themselves() {
        for bad in [
            "<your-private-image>",
            "Busybox",
            "myUser/app",
            "",
            "busybox:",
            "busybox:-x",
            "busybox:a b",
            "a//b",
            "-a",
            "a-",
            "a..b",
            "a___b",
            "/busybox",
            "busybox/",
        ] {
            let err = Reference::parse(bad).expect_err(bad);
            let msg = format!("{err:#}");
            assert!(msg.contains(&format!("{bad:?}")), "{msg}");
        }
    }
}
