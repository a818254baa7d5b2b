//! Fuzzing the manifest reader: mutated YAML and JSON from the corpus
//! (tests/manifests, ../shared/manifests) must give Ok or Err, never a panic, in
//! bounded time and memory. Seeded: a failing case names its seed.

use super::parse_manifests;
use crate::fuzz::{for_a_while, mutate, peak_rss_kib, Rng};
use std::path::Path;
use std::time::{Duration, Instant};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/manifests");
const SHARED_MANIFESTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/manifests");

/// YAML's and JSON's significant pieces, and values that stress the checks.
const TOKENS: &[&[u8]] = &[
    b":",
    b": ",
    b"- ",
    b"\n",
    b"\n  ",
    b"  ",
    b"\t",
    b"[",
    b"]",
    b"{",
    b"}",
    b",",
    b"\"",
    b"'",
    b"#",
    b"&a ",
    b"*a",
    b"&b [*a, *a, *a, *a, *a, *a, *a, *a]",
    b"<<: *a\n",
    b"!!str ",
    b"!!binary ",
    b"!foo ",
    b"? ",
    b"|\n",
    b">-\n",
    b"---\n",
    b"...\n",
    b"%YAML 1.1\n",
    b"~",
    b"null",
    b"true",
    b"yes",
    b"0x1F",
    b"0o17",
    b"01777",
    b"1e100",
    b"-1",
    b"9223372036854775808",
    b"184467440737096m",
    b"1e-400",
    b".inf",
    b"\\u0000",
    b"\\x",
    b"\"\\'\"",
    b"\xc3\xa9",
    b"\xe2\x80\xa8",
    b"apiVersion: v1\nkind: Pod\n",
    b"kind: List\n",
    b"items:\n- ",
    b"containers:\n- name: c\n  image: busybox:1.36\n",
    b"metadata:\n  name: p\n",
];

/// Each document must be read within this bound (a generous one: a normal manifest
/// takes milliseconds; an alias bomb without the budget would take forever).
const BOUND: Duration = Duration::from_secs(5);

fn seeds() -> Vec<Vec<u8>> {
    let mut files = Vec::new();
    for dir in [
        Path::new(CORPUS).join("good"),
        Path::new(CORPUS).join("bad"),
        Path::new(CORPUS).join("bad-on-this-host"),
        Path::new(SHARED_MANIFESTS).to_path_buf(),
    ] {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if entry.path().is_file() {
                files.push(entry.path());
            }
        }
    }
    files.sort();
    let mut seeds: Vec<Vec<u8>> = files.iter().filter_map(|f| std::fs::read(f).ok()).collect();
    // The same objects as JSON, as `kubectl apply -f x.json` sends them.
    let json: Vec<Vec<u8>> = seeds
        .iter()
        .filter_map(|text| parse_manifests(&String::from_utf8_lossy(text), "seed").ok())
        .flatten()
        .filter_map(|doc| serde_json::to_vec_pretty(&doc.pod).ok())
        .collect();
    seeds.extend(json);
    seeds
}

#[test]
fn mutated_manifests_are_read_or_refused_never_a_panic() {
    let seeds = seeds();
    assert!(seeds.len() > 40, "a corpus of {} manifests", seeds.len());
    let rss_before = peak_rss_kib();
    let cases = for_a_while(Duration::from_secs(6), 200, |seed| {
        let mut rng = Rng::new(seed);
        let mut data = rng.pick(&seeds).clone();
        let other = rng.pick(&seeds).clone();
        mutate(&mut rng, &mut data, TOKENS, &other);
        let text = String::from_utf8_lossy(&data);
        let started = Instant::now();
        let result = std::panic::catch_unwind(|| parse_manifests(&text, "fuzz.yaml").is_ok());
        assert!(result.is_ok(), "seed {seed} panicked on:\n{text}");
        assert!(
            started.elapsed() < BOUND,
            "seed {seed} took {:?} on:\n{text}",
            started.elapsed()
        );
    });
    // Other tests run in this process too: the bound is loose, but an expansion
    // the alias budget let through would take gigabytes.
    let grown_mib = peak_rss_kib().saturating_sub(rss_before) / 1024;
    assert!(
        grown_mib < 1024,
        "peak memory grew by {grown_mib} MiB over {cases} cases"
    );
}
