//! Field paths as kubectl prints them: `spec.containers[0].volumeMounts[1].name`.

/// `parent.name` (or just `name` at the top).
pub fn field(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}.{name}")
    }
}

/// The path of a map's `key` under `parent`: `parent.key`, or for a free-form key
/// with dots or slashes `parent[key]`, as kubectl prints
/// `resources.requests[example.com/dongle]`.
pub fn map_key(parent: &str, key: &str) -> String {
    if key.contains(['.', '/']) {
        format!("{parent}[{key}]")
    } else {
        field(parent, key)
    }
}

/// `parent[index]`.
pub fn index(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
}

/// The path with every list index replaced by `[]`, to compare with a pattern:
/// `spec.containers[0].name` → `spec.containers[].name`.
pub fn pattern_of(path: &str) -> String {
    let mut pattern = String::with_capacity(path.len());
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                pattern.push_str("[]");
            }
            ']' if in_index => in_index = false,
            _ if in_index => {}
            _ => pattern.push(c),
        }
    }
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_generalises_paths() {
        let path = field(&index(&field(&field("", "spec"), "containers"), 2), "name");
        assert_eq!(path, "spec.containers[2].name");
        assert_eq!(pattern_of(&path), "spec.containers[].name");
    }
}
