//! Property test: random strings (line breaks, leading and trailing spaces, `: `,
//! ` #`, quotes, indicators, tabs, unicode, YAML 1.1 words like `yes`/`on`, numbers)
//! written by the YAML writer read back as the same strings, as map values, as map
//! keys and as list items, at several depths.

use super::yaml_out::to_yaml;
use serde_json::{json, Map, Value};

/// A small deterministic generator (xorshift64*), so a failure repeats.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const PIECES: &[&str] = &[
    "a",
    "b",
    "Z",
    "0",
    "7",
    " ",
    "  ",
    "\n",
    "\n\n",
    ": ",
    ":",
    " #",
    "#",
    "'",
    "\"",
    "-",
    "- ",
    "? ",
    "*",
    "&",
    "!",
    "|",
    ">",
    "%",
    "@",
    "`",
    ",",
    "[",
    "]",
    "{",
    "}",
    "\t",
    "\\",
    "é",
    "✓",
    "日本",
    "🙂",
    "\u{a0}",
    "\u{85}",
    "\u{2028}",
    "\u{1b}",
    "\r",
    "yes",
    "no",
    "on",
    "off",
    "y",
    "n",
    "true",
    "False",
    "null",
    "~",
    "0x1F",
    "01777",
    "1e3",
    ".5",
    "1:20",
    "2024-01-02",
    "---",
    "...",
    "sh -c",
    "echo $HOME",
    "\u{feff}",
    "\u{7f}",
    "\u{0}",
];

fn random_string(rng: &mut Rng) -> String {
    let count = rng.below(7);
    (0..count)
        .map(|_| PIECES[rng.below(PIECES.len())])
        .collect()
}

fn read_back(text: &str) -> Value {
    let mut documents = crate::api::read_documents(text)
        .unwrap_or_else(|e| panic!("writer output does not parse: {e:?}\n---\n{text}"));
    assert_eq!(documents.len(), 1, "{text}");
    documents.remove(0).value
}

#[test]
fn random_strings_read_back_as_written() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for round in 0..4000 {
        let s = random_string(&mut rng);
        let k = random_string(&mut rng);
        let mut keyed = Map::new();
        keyed.insert(k.clone(), json!(s));
        keyed.insert("z".into(), json!([s, {"in": [s]}]));
        let value = json!({
            "top": s,
            "nested": {"deeper": {"leaf": s, "list": [s, s]}},
            "keyed": keyed,
            "items": [{"name": s, "args": ["-c", s]}, [s, [s]]],
        });
        let text = to_yaml(&value);
        assert_eq!(
            read_back(&text),
            value,
            "round {round}: {s:?} / key {k:?}\n{text}"
        );
    }
}

/// Long strings, folded past column 80, read back whole: words and spaces with the
/// tricky pieces among them, as values at several depths and as keys.
#[test]
fn long_strings_fold_and_read_back() {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    const WORDS: &[&str] = &["word ", "a ", "  ", " ", "longer-word-here ", "x"];
    for round in 0..3000 {
        let count = 10 + rng.below(60);
        let s: String = (0..count)
            .map(|_| {
                if rng.below(4) == 0 {
                    PIECES[rng.below(PIECES.len())]
                } else {
                    WORDS[rng.below(WORDS.len())]
                }
            })
            .collect();
        let mut keyed = Map::new();
        keyed.insert(s.clone(), json!(s));
        let value = json!({
            "top": s,
            "some-longer-key-name": {"deeper": {"leaf": s, "list": [s, {"k": s}]}},
            "keyed": keyed,
        });
        let text = to_yaml(&value);
        assert_eq!(read_back(&text), value, "round {round}: {s:?}\n{text}");
    }
}

#[test]
fn whole_documents_that_are_lists_or_scalars() {
    for value in [json!(["a\nb", " c", "yes"]), json!([{"a": "x\n"}])] {
        assert_eq!(read_back(&to_yaml(&value)), value);
    }
}
