//! Image references as container runtimes read them (the grammar of
//! github.com/distribution/reference): `[domain[:port]/]path[:tag][@digest]`.
//! Kubernetes itself only requires an image to be set (the API accepts any other
//! text); the kubelet then fails the container with `InvalidImageName`, and so does
//! minipod's pod layer. Both read it here: the API server's defaults (which tag is
//! `latest`) and the supervisor's image check. `reference` parses and normalizes a
//! reference for the store.

/// Whether `image` is a well-formed reference (`nginx`, `nginx:1.27`,
/// `registry.k8s.io/busybox:1.27.2`, `localhost:5000/app@sha256:...`).
pub fn is_valid_reference(image: &str) -> bool {
    let (name_and_tag, digest) = match image.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (image, None),
    };
    if digest.is_some_and(|digest| !is_digest(digest)) {
        return false;
    }
    // A tag is after the last `:` that comes after the last `/` (a port is before it).
    let last_slash = name_and_tag.rfind('/').map_or(0, |at| at + 1);
    let (name, tag) = match name_and_tag[last_slash..].rfind(':') {
        Some(at) => (
            &name_and_tag[..last_slash + at],
            Some(&name_and_tag[last_slash + at + 1..]),
        ),
        None => (name_and_tag, None),
    };
    if tag.is_some_and(|tag| !is_tag(tag)) {
        return false;
    }
    if name.is_empty() || name.len() > 255 {
        return false;
    }
    let mut components: Vec<&str> = name.split('/').collect();
    if components.len() > 1 && looks_like_domain(components[0]) {
        if !is_domain(components[0]) {
            return false;
        }
        components.remove(0);
    }
    components
        .iter()
        .all(|component| is_path_component(component))
}

/// The tag of `image`, if it has one (`nginx:1.27` → `1.27`).
pub fn tag_of(image: &str) -> Option<&str> {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last_slash = without_digest.rfind('/').map_or(0, |at| at + 1);
    without_digest[last_slash..]
        .rfind(':')
        .map(|at| &without_digest[last_slash + at + 1..])
}

/// Whether `image` names a digest (`...@sha256:...`).
pub fn has_digest(image: &str) -> bool {
    image.contains('@')
}

/// The first component is a registry if it has a `.` or `:` or is `localhost`
/// (or has capitals, which a path component may not have).
fn looks_like_domain(component: &str) -> bool {
    component.contains(['.', ':'])
        || component == "localhost"
        || component.chars().any(|c| c.is_ascii_uppercase())
}

/// `host[:port]`; host components are `[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?`.
fn is_domain(domain: &str) -> bool {
    let (host, port) = match domain.rsplit_once(':') {
        Some((host, port)) if !domain.ends_with(']') => (host, Some(port)),
        _ => (domain, None),
    };
    if port.is_some_and(|port| port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit())) {
        return false;
    }
    if let Some(ipv6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return ipv6.parse::<std::net::Ipv6Addr>().is_ok();
    }
    let is_host_component = |part: &str| {
        part.starts_with(|c: char| c.is_ascii_alphanumeric())
            && part.ends_with(|c: char| c.is_ascii_alphanumeric())
            && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    host.split('.').all(is_host_component)
}

/// `[a-z0-9]+` joined by `.`, `_`, `__` or one or more `-`.
fn is_path_component(component: &str) -> bool {
    let lower_alphanumeric = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !component.starts_with(lower_alphanumeric) || !component.ends_with(lower_alphanumeric) {
        return false;
    }
    let mut separator = String::new();
    for c in component.chars() {
        if lower_alphanumeric(c) {
            let allowed = matches!(separator.as_str(), "" | "." | "_" | "__")
                || separator.chars().all(|s| s == '-');
            if !allowed {
                return false;
            }
            separator.clear();
        } else if matches!(c, '.' | '_' | '-') {
            separator.push(c);
        } else {
            return false;
        }
    }
    true
}

/// `[\w][\w.-]{0,127}`
fn is_tag(tag: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    tag.len() <= 128
        && tag.starts_with(word)
        && tag.chars().all(|c| word(c) || matches!(c, '.' | '-'))
}

/// `algorithm:hex` with at least 32 hex digits.
fn is_digest(digest: &str) -> bool {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return false;
    };
    let algorithm_ok = algorithm.starts_with(|c: char| c.is_ascii_alphabetic())
        && algorithm
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-' | '_'));
    algorithm_ok && hex.len() >= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_references() {
        for image in [
            "nginx",
            "nginx:1.27",
            "busybox:1.28",
            "registry.k8s.io/busybox:1.27.2",
            "docker.io/alpine/socat:1.8.0.3",
            "localhost:5000/my_app__x/web-1:v2",
            "us-docker.pkg.dev/google-samples/containers/gke/gb-frontend:v5",
            "nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert!(is_valid_reference(image), "{image}");
        }
    }

    #[test]
    fn invalid_references() {
        for image in [
            "<your-private-image>",
            "",
            "nginx:",
            "Nginx",
            "xxx/cpWar:v2",
            "a//b",
            "nginx:a b",
            "-x",
        ] {
            assert!(!is_valid_reference(image), "{image}");
        }
    }

    #[test]
    fn tags() {
        assert_eq!(tag_of("nginx"), None);
        assert_eq!(tag_of("localhost:5000/nginx"), None);
        assert_eq!(tag_of("localhost:5000/nginx:latest"), Some("latest"));
    }
}
