//! `metadata.generateName`: the API server appends 5 random characters of its safe
//! alphabet to the base, cut to 58 characters so the name fits in 63.

use super::pod_template_hash::ALPHABET;
use anyhow::{Context, Result};
use std::io::Read;

const MAX_BASE: usize = 63 - RANDOM_LENGTH;
const RANDOM_LENGTH: usize = 5;

/// `base` + 5 characters (e.g. `nginx-deployment-57f4c486cc-` + `cqm9v`).
pub fn generate(base: &str) -> Result<String> {
    let mut bytes = [0u8; RANDOM_LENGTH];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .context("read /dev/urandom for a generated name")?;
    Ok(with_random(base, &bytes))
}

/// The name from given random bytes (pure, for tests).
pub fn with_random(base: &str, random: &[u8; RANDOM_LENGTH]) -> String {
    let base: String = base.chars().take(MAX_BASE).collect();
    let suffix: String = random
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    format!("{base}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_characters_of_the_alphabet_after_a_cut_base() {
        let name = with_random("web-abc-", &[0, 1, 2, 26, 27]);
        assert_eq!(name, "web-abc-bcd9b");
        let long = "x".repeat(70);
        assert_eq!(with_random(&long, &[0; 5]).len(), 63);
        let real = generate("nginx-deployment-57f4c486cc-").unwrap();
        assert_eq!(real.len(), "nginx-deployment-57f4c486cc-".len() + 5);
    }
}
