//! YAML (and JSON, which is YAML) → JSON values, as kubectl converts them.
//!
//! kubectl reads YAML with go-yaml v2 (through sigs.k8s.io/yaml), which resolves
//! plain scalars by YAML 1.1 rules: `01777` is octal, `yes`/`on` are booleans. We
//! parse with `saphyr-parser` (events with line/column markers) and resolve the
//! scalars ourselves (`scalar.rs`) so the result is what a cluster would see.

mod go_escapes;
mod scalar;
mod tree;

pub(crate) use scalar::resolve_plain;

use std::collections::HashMap;

/// One non-empty YAML document converted to JSON.
#[derive(Debug)]
pub struct YamlDocument {
    pub value: serde_json::Value,
    /// The line each field starts on, by its path (`spec.containers[0].image`).
    pub lines: FieldLines,
}

/// Where each field of a document is written: path → line (1-based).
#[derive(Debug, Default)]
pub struct FieldLines(HashMap<String, usize>);

impl FieldLines {
    pub fn insert(&mut self, path: String, line: usize) {
        self.0.insert(path, line);
    }

    /// The line of `path`, or of its nearest parent that has one.
    pub fn line_of(&self, path: &str) -> Option<usize> {
        let mut current = path;
        loop {
            if let Some(line) = self.0.get(current) {
                return Some(*line);
            }
            let cut = current.rfind(['.', '['])?;
            current = &current[..cut];
        }
    }
}

/// Every non-empty document of `text`. On failure, the messages say what is wrong
/// and where, as go-yaml would (`yaml: line 12, column 3: ...`).
pub fn read_documents(text: &str) -> Result<Vec<YamlDocument>, Vec<String>> {
    let text = go_escapes::accept_go_escapes(text)?;
    tree::build_documents(&text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(text: &str) -> serde_json::Value {
        let mut documents = read_documents(text).unwrap();
        assert_eq!(documents.len(), 1);
        documents.remove(0).value
    }

    #[test]
    fn several_documents_and_empty_ones_skipped() {
        let documents =
            read_documents("---\na: 1\n---\n# only a comment\n---\nb: 2\n...\n").unwrap();
        let values: Vec<_> = documents.into_iter().map(|d| d.value).collect();
        assert_eq!(values, [json!({"a": 1}), json!({"b": 2})]);
    }

    #[test]
    fn an_empty_text_has_no_documents() {
        assert!(read_documents("").unwrap().is_empty());
        assert!(read_documents("# nothing\n").unwrap().is_empty());
    }

    #[test]
    fn yaml_1_1_scalars() {
        let value = one(
            "octal: 01777\nhex: 0x1F\nnew_octal: 0o17\nyes: yes\noff: Off\nnull1: ~\nnull2:\n\
             float: 1.5\nquoted: \"01777\"\nsingle: 'on'\nstr: hello\nneg: -3\nunderscore: 1_000\n",
        );
        assert_eq!(
            value,
            json!({"octal": 1023, "hex": 31, "new_octal": 15, "true": true, "false": false,
                   "null1": null, "null2": null, "float": 1.5, "quoted": "01777",
                   "single": "on", "str": "hello", "neg": -3, "underscore": 1000})
        );
    }

    #[test]
    fn block_scalars_are_strings() {
        assert_eq!(one("a: |\n  123\n"), json!({"a": "123\n"}));
    }

    #[test]
    fn kyaml_with_trailing_commas_and_comments() {
        let text = "---\n{\n  a: \"x\",\n  # a comment\n  b: [1, 2,],\n  c: {d: true,},\n}\n";
        assert_eq!(one(text), json!({"a": "x", "b": [1, 2], "c": {"d": true}}));
    }

    #[test]
    fn json_text() {
        assert_eq!(
            one("{\"a\": [1, \"b\"], \"c\": null}"),
            json!({"a": [1, "b"], "c": null})
        );
    }

    #[test]
    fn go_escape_of_single_quote_in_double_quotes() {
        assert_eq!(
            one("a: \"it\\'s\"\nb: 'x'\n"),
            json!({"a": "it's", "b": "x"})
        );
    }

    #[test]
    fn anchors_and_aliases() {
        assert_eq!(one("a: &x [1]\nb: *x\n"), json!({"a": [1], "b": [1]}));
    }

    #[test]
    fn duplicate_key_names_the_line() {
        let errors = read_documents("a: 1\nb:\n  c: 1\n  c: 2\n").unwrap_err();
        assert_eq!(
            errors,
            ["yaml: unmarshal errors: line 4: key \"c\" already set in map"]
        );
    }

    #[test]
    fn syntax_error_names_line_and_column() {
        let errors = read_documents("a:\n  b: 1\n c: 2\n").unwrap_err();
        assert!(errors[0].starts_with("yaml: line 3, column "), "{errors:?}");
    }

    #[test]
    fn lines_of_fields() {
        let documents = read_documents("a:\n  b:\n  - x\n  - y: 1\n").unwrap();
        let lines = &documents[0].lines;
        assert_eq!(lines.line_of("a.b[1].y"), Some(4));
        assert_eq!(lines.line_of("a.b[1].z"), Some(4));
        assert_eq!(lines.line_of("a"), Some(1));
    }

    /// Ten levels of ten aliases each: 10^10 nodes if expanded.
    fn alias_bomb() -> String {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..10 {
            let previous = format!("*a{}", level - 1);
            let items = [previous.as_str(); 10].join(", ");
            text.push_str(&format!("a{level}: &a{level} [{items}]\n"));
        }
        text
    }

    #[test]
    fn an_alias_bomb_is_refused_as_go_yaml_refuses_it() {
        let errors = read_documents(&alias_bomb()).unwrap_err();
        assert_eq!(errors, ["yaml: document contains excessive aliasing"]);
    }

    #[test]
    fn an_alias_bomb_in_a_later_document_is_refused_too() {
        let text = format!("a: 1\n---\n{}", alias_bomb());
        let errors = read_documents(&text).unwrap_err();
        assert_eq!(errors, ["yaml: document contains excessive aliasing"]);
    }

    #[test]
    fn ordinary_reuse_of_anchors_is_accepted() {
        // 100 aliases of a 10-node list in a small document: what go-yaml allows
        // (the aliased share stays under 99%).
        let mut text = String::from("base: &b {a: 1, b: 2, c: 3, d: 4}\nitems:\n");
        for _ in 0..100 {
            text.push_str("- *b\n");
        }
        let value = one(&text);
        assert_eq!(value["items"].as_array().unwrap().len(), 100);
        assert_eq!(value["items"][99], json!({"a": 1, "b": 2, "c": 3, "d": 4}));
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_refused() {
        let deep = |levels: usize| {
            let mut text = String::new();
            for level in 0..levels {
                text.push_str(&" ".repeat(level * 2));
                text.push_str("a:\n");
            }
            text
        };
        assert!(read_documents(&deep(tree::MAX_DEPTH)).is_ok());
        let errors = read_documents(&deep(tree::MAX_DEPTH + 1)).unwrap_err();
        assert_eq!(
            errors,
            [format!(
                "yaml: line {}, column {}: exceeded max depth of 128",
                tree::MAX_DEPTH + 1,
                tree::MAX_DEPTH * 2 + 1
            )]
        );
    }

    #[test]
    fn deep_flow_nesting_is_refused_without_exhausting_the_stack() {
        let text = format!("a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        assert!(read_documents(&text).is_err());
    }
}
