//! `pod-template-hash`: what names a Deployment's ReplicaSets and labels their pods.
//! Upstream: FNV-32a over the pod template (Go dumps its struct; we hash its canonical
//! JSON), then `collisionCount` as 4 little-endian bytes when set; the 32-bit sum in
//! decimal, each digit mapped through the API server's safe alphabet.

use k8s_openapi::api::core::v1::PodTemplateSpec;

/// The API server's alphabet for generated names (no vowels, no 0/1/3: no words, no
/// look-alikes), as `rand.SafeEncodeString` uses it.
pub const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// FNV-1a, 32 bits.
fn fnv32a(bytes: &[u8], mut hash: u32) -> u32 {
    for b in bytes {
        hash ^= u32::from(*b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

const FNV32_OFFSET: u32 = 0x811c_9dc5;

/// Each byte of `text` mapped to a letter of [`ALPHABET`].
pub fn safe_encode(text: &str) -> String {
    text.bytes()
        .map(|b| char::from(ALPHABET[usize::from(b) % ALPHABET.len()]))
        .collect()
}

/// The hash of `template` (without its own `pod-template-hash` label).
pub fn compute(template: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    let mut template = template.clone();
    if let Some(labels) = template.metadata.as_mut().and_then(|m| m.labels.as_mut()) {
        labels.remove(LABEL);
    }
    let json = serde_json::to_vec(&template).unwrap_or_default();
    let mut hash = fnv32a(&json, FNV32_OFFSET);
    if let Some(count) = collision_count {
        hash = fnv32a(&count.to_le_bytes(), hash);
    }
    safe_encode(&hash.to_string())
}

/// The label (and selector key) that carries the hash.
pub const LABEL: &str = "pod-template-hash";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv32a_known_values() {
        // The FNV reference values.
        assert_eq!(fnv32a(b"", FNV32_OFFSET), 0x811c_9dc5);
        assert_eq!(fnv32a(b"a", FNV32_OFFSET), 0xe40c_292c);
        assert_eq!(fnv32a(b"foobar", FNV32_OFFSET), 0xbf9c_f968);
    }

    #[test]
    fn safe_encoding_maps_digits_into_the_alphabet() {
        // '0' is byte 48: 48 % 27 = 21 -> '4'; '9' is 57 % 27 = 3 -> 'f'.
        assert_eq!(safe_encode("0"), "4");
        assert_eq!(safe_encode("9"), "f");
        assert_eq!(safe_encode("1234567890").len(), 10);
    }

    #[test]
    fn the_hash_changes_with_the_template_and_the_collision_count() {
        let mut t = PodTemplateSpec::default();
        let a = compute(&t, None);
        assert_eq!(a, compute(&t, None));
        assert_ne!(a, compute(&t, Some(1)));
        t.metadata = Some(Default::default());
        let mut labels = std::collections::BTreeMap::new();
        labels.insert(LABEL.to_string(), "x".to_string());
        t.metadata.as_mut().unwrap().labels = Some(labels);
        // Its own label is not part of what it hashes.
        let with_label = compute(&t, None);
        t.metadata.as_mut().unwrap().labels = Some(Default::default());
        assert_eq!(with_label, compute(&t, None));
        assert!(a.bytes().all(|b| ALPHABET.contains(&b)));
    }
}
