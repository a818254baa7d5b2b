//! Go's YAML reader accepts `\'` inside a double-quoted string (it means `'`); the
//! YAML spec and our parser do not. The Kubernetes documentation has such a file
//! (`pods/inject/envars-file-container.yaml`), so we accept it too.
//!
//! We do not guess where quoted strings are: we let the parser find them. When it
//! stops at an unknown escape, it reports where that double-quoted scalar starts; we
//! rewrite `\'` to the standard escape `\x27` inside that one scalar and parse again.
//! (Columns after the rewrite on that line shift by two; lines stay right.)

use saphyr_parser::{Parser, ScanError};

const UNKNOWN_ESCAPE: &str = "while parsing a quoted scalar, found unknown escape character";

/// `text` with every `\'` inside double-quoted scalars rewritten as `\x27`.
/// Other syntax errors are left for the real parse to report.
pub fn accept_go_escapes(text: &str) -> Result<String, Vec<String>> {
    let mut text = text.to_string();
    // Each round fixes one scalar; a file cannot have more scalars than characters.
    for _ in 0..=text.len() {
        let Some(error) = first_scan_error(&text) else {
            return Ok(text);
        };
        if error.info() != UNKNOWN_ESCAPE {
            return Ok(text);
        }
        match rewrite_scalar_at(&text, error.marker().index()) {
            Some(fixed) => text = fixed,
            None => return Ok(text),
        }
    }
    Ok(text)
}

fn first_scan_error(text: &str) -> Option<ScanError> {
    Parser::new_from_str(text).find_map(|event| event.err())
}

/// Rewrites `\'` in the double-quoted scalar starting at character `char_index`.
/// `None` when there is nothing to rewrite there (a real error).
fn rewrite_scalar_at(text: &str, char_index: usize) -> Option<String> {
    let start = text.char_indices().nth(char_index)?.0;
    let scalar = &text[start..];
    if !scalar.starts_with('"') {
        return None;
    }
    let mut rewritten = String::from("\"");
    let mut chars = scalar[1..].char_indices();
    let mut changed = false;
    while let Some((offset, c)) = chars.next() {
        match c {
            '"' => {
                let rest = &scalar[1 + offset..];
                let result = format!("{}{rewritten}{rest}", &text[..start]);
                return changed.then_some(result);
            }
            '\\' => match chars.next() {
                Some((_, '\'')) => {
                    rewritten.push_str("\\x27");
                    changed = true;
                }
                Some((_, escaped)) => {
                    rewritten.push('\\');
                    rewritten.push(escaped);
                }
                None => return None,
            },
            other => rewritten.push(other),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_only_inside_double_quotes() {
        let text = "a: 'x\\y'\nb: \"x\\'y\\\"z\"\nc: \"\\'\"\n";
        let fixed = accept_go_escapes(text).unwrap();
        assert_eq!(fixed, "a: 'x\\y'\nb: \"x\\x27y\\\"z\"\nc: \"\\x27\"\n");
    }

    #[test]
    fn other_unknown_escapes_are_left_alone() {
        let text = "a: \"\\q\"\n";
        assert_eq!(accept_go_escapes(text).unwrap(), text);
    }
}
