//! How one string is written in YAML, chosen as kubectl's writer chooses (go-yaml v2,
//! through sigs.k8s.io/yaml), so that what we print reads back as the same string,
//! in minipod and in kubectl.
//!
//! go-yaml v2's choice, in order:
//! 1. a string with a line break asks for a literal block (`|`, `|-`, `|+`);
//! 2. a string that, unquoted, would read as something else (YAML 1.1 words like
//!    `yes`/`on`/`n`/`null`/`~`, numbers like `01777` or `1e3`, base-60 numbers like
//!    `1:20`, timestamps like `2024-01-01`, the empty string) asks for double quotes;
//! 3. everything else asks for plain.
//!
//! Then its emitter looks at the characters (`analyze`) and downgrades what is not
//! allowed: plain → single quotes (a leading indicator like `*` or `- `, `: ` or ` #`
//! inside, leading or trailing spaces), single quotes → double quotes (characters
//! YAML cannot print raw, a space before a line break), a literal block → double
//! quotes (trailing spaces, a space before a line break, a block as a map key).

use crate::api::resolve_plain;
use serde_json::Value;

/// Where the scalar stands: a map key cannot be a block (a "simple key") and is never
/// folded; a value starts at `column` and, past column 80, is folded at a space onto
/// lines indented by `indent`, as go-yaml v2 (best_width 80) folds it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Key,
    Value { column: usize, indent: usize },
}

/// go-yaml v2's preferred line width.
const BEST_WIDTH: usize = 80;

/// The chosen style, with the text to print after `key:`/`- ` (for a block: the
/// header only; the lines come from `block_lines`).
#[derive(Debug, PartialEq, Eq)]
pub enum Written {
    Inline(String),
    /// A literal block: its header (`|`, `|-`, `|2+` ...) and the string itself.
    Block {
        header: String,
    },
}

pub fn write_scalar(text: &str, place: Place) -> Written {
    let found = analyze(text);
    let wanted = if text.contains('\n') {
        Style::Literal
    } else if reads_as_other_than_string(text) {
        Style::Double
    } else {
        Style::Plain
    };
    let mut style = wanted;
    if style == Style::Plain && !found.plain_allowed {
        style = Style::Single;
    }
    if style == Style::Single && !found.single_allowed {
        style = Style::Double;
    }
    if style == Style::Literal && (!found.block_allowed || place == Place::Key) {
        style = Style::Double;
    }
    let mut out = Folder::new(place);
    match style {
        Style::Plain => {
            out.plain(text);
            Written::Inline(out.text)
        }
        Style::Single => {
            out.single_quoted(text);
            Written::Inline(out.text)
        }
        Style::Double => {
            out.double_quoted(text);
            Written::Inline(out.text)
        }
        Style::Literal => Written::Block {
            header: block_header(text),
        },
    }
}

/// The lines of a literal block, each indented by `indent` spaces (empty lines
/// stay empty), ending with a line break.
pub fn block_lines(text: &str, indent: usize, out: &mut String) {
    let body = text.strip_suffix('\n').unwrap_or(text);
    for line in body.split('\n') {
        if !line.is_empty() {
            out.extend(std::iter::repeat_n(' ', indent));
            out.push_str(line);
        }
        out.push('\n');
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

struct Analysis {
    plain_allowed: bool,
    single_allowed: bool,
    block_allowed: bool,
}

/// libyaml's `yaml_emitter_analyze_scalar` for the block context.
fn analyze(text: &str) -> Analysis {
    if text.is_empty() {
        return Analysis {
            plain_allowed: true,
            single_allowed: true,
            block_allowed: false,
        };
    }
    let chars: Vec<char> = text.chars().collect();
    let mut block_indicators = text.starts_with("---") || text.starts_with("...");
    let mut special = false;
    let mut line_breaks = false;
    let (mut leading_space, mut leading_break) = (false, false);
    let (mut trailing_space, mut trailing_break) = (false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut previous_space, mut previous_break) = (false, false);
    let mut preceded_by_whitespace = true;
    let last = chars.len() - 1;
    for (i, &c) in chars.iter().enumerate() {
        let followed_by_whitespace = chars.get(i + 1).is_none_or(|&n| is_blank_or_break(n));
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_indicators = true,
                '?' | ':' | '-' if followed_by_whitespace => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_whitespace => block_indicators = true,
                '#' if preceded_by_whitespace => block_indicators = true,
                _ => {}
            }
        }
        if !is_printable(c) {
            special = true;
        }
        if is_break(c) {
            line_breaks = true;
        }
        if c == ' ' {
            leading_space |= i == 0;
            trailing_space |= i == last;
            break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            leading_break |= i == 0;
            trailing_break |= i == last;
            space_break |= previous_space;
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = is_blank_or_break(c);
    }
    let mut plain_allowed = true;
    let mut single_allowed = true;
    let mut block_allowed = true;
    if leading_space || leading_break || trailing_space || trailing_break {
        plain_allowed = false;
    }
    if trailing_space {
        block_allowed = false;
    }
    if break_space {
        plain_allowed = false;
        single_allowed = false;
    }
    if space_break || special {
        plain_allowed = false;
        single_allowed = false;
        block_allowed = false;
    }
    if line_breaks || block_indicators {
        plain_allowed = false;
    }
    Analysis {
        plain_allowed,
        single_allowed,
        block_allowed,
    }
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blank_or_break(c: char) -> bool {
    c == ' ' || c == '\t' || is_break(c)
}

/// libyaml's `is_printable` (a tab is not: it goes in double quotes as `\t`).
fn is_printable(c: char) -> bool {
    matches!(c,
        '\n' | '\u{20}'..='\u{7e}' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}'
        | '\u{10000}'..='\u{10ffff}')
        && c != '\u{feff}'
}

/// Would this text, unquoted, read as a non-string (go-yaml's resolve, plus its
/// base-60 floats and timestamps)?
fn reads_as_other_than_string(text: &str) -> bool {
    resolve_plain(text) != Value::String(text.to_string())
        || matches!(
            text,
            ".inf"
                | ".Inf"
                | ".INF"
                | "+.inf"
                | "+.Inf"
                | "+.INF"
                | "-.inf"
                | "-.Inf"
                | "-.INF"
                | ".nan"
                | ".NaN"
                | ".NAN"
        )
        || is_base60_float(text)
        || looks_like_timestamp(text)
}

/// go-yaml v2's `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`.
fn is_base60_float(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (whole, fraction) = match body.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (body, None),
    };
    if fraction.is_some_and(|f| !f.chars().all(|c| c.is_ascii_digit() || c == '_')) {
        return false;
    }
    let mut parts = whole.split(':');
    let Some(first) = parts.next() else {
        return false;
    };
    let first_ok = first.starts_with(|c: char| c.is_ascii_digit())
        && first.chars().all(|c| c.is_ascii_digit() || c == '_');
    let mut sixties = 0;
    for part in parts {
        let ok = matches!(part.len(), 1 | 2)
            && part.chars().all(|c| c.is_ascii_digit())
            && (part.len() == 1 || part.starts_with(['0', '1', '2', '3', '4', '5']));
        if !ok {
            return false;
        }
        sixties += 1;
    }
    first_ok && sixties > 0
}

/// go-yaml v2 reads `YYYY-M-D`, optionally followed by a time, as a timestamp; its
/// quick check is four digits and a dash. We quote every such text made only of
/// the characters a timestamp has (a few more quotes than kubectl, never fewer).
fn looks_like_timestamp(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() >= 8
        && bytes[..4].iter().all(u8::is_ascii_digit)
        && bytes[4] == b'-'
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || "-:.+ TtZz".contains(c))
}

/// Writes a scalar, folding long lines at spaces as libyaml's writers do.
struct Folder {
    text: String,
    column: usize,
    indent: usize,
    breaks: bool,
}

impl Folder {
    fn new(place: Place) -> Folder {
        match place {
            Place::Key => Folder {
                text: String::new(),
                column: 0,
                indent: 0,
                breaks: false,
            },
            Place::Value { column, indent } => Folder {
                text: String::new(),
                column,
                indent,
                breaks: true,
            },
        }
    }

    fn push(&mut self, c: char) {
        self.text.push(c);
        self.column += 1;
    }

    fn push_str(&mut self, s: &str) {
        self.text.push_str(s);
        self.column += s.chars().count();
    }

    /// Whether to fold at the space at `i` (libyaml: the first of a run of spaces,
    /// past the width, not before another space; quoted: not first or last).
    fn folds_at(&self, chars: &[char], i: usize, spaces: bool, quoted: bool) -> bool {
        let next_is_space = chars.get(i + 1) == Some(&' ');
        let inside = !quoted || (i != 0 && i + 1 != chars.len());
        self.breaks && !spaces && self.column > BEST_WIDTH && inside && !next_is_space
    }

    fn newline(&mut self) {
        self.text.push('\n');
        self.text.extend(std::iter::repeat_n(' ', self.indent));
        self.column = self.indent;
    }

    fn plain(&mut self, text: &str) {
        let chars: Vec<char> = text.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                if self.folds_at(&chars, i, spaces, false) {
                    self.newline();
                } else {
                    self.push(c);
                }
                spaces = true;
            } else {
                self.push(c);
                spaces = false;
            }
        }
    }

    fn single_quoted(&mut self, text: &str) {
        let chars: Vec<char> = text.chars().collect();
        self.push('\'');
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                if self.folds_at(&chars, i, spaces, true) {
                    self.newline();
                } else {
                    self.push(c);
                }
                spaces = true;
            } else {
                if c == '\'' {
                    self.push_str("''");
                } else {
                    self.push(c);
                }
                spaces = false;
            }
        }
        self.push('\'');
    }

    fn double_quoted(&mut self, text: &str) {
        let chars: Vec<char> = text.chars().collect();
        self.push('"');
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                if self.folds_at_double(&chars, i, spaces) {
                    self.newline();
                    // A space that starts the next line would be folded away: escaped.
                    if chars.get(i + 1) == Some(&' ') {
                        self.push('\\');
                    }
                } else {
                    self.push(c);
                }
                spaces = true;
                continue;
            }
            spaces = false;
            match c {
                '"' => self.push_str("\\\""),
                '\\' => self.push_str("\\\\"),
                '\0' => self.push_str("\\0"),
                '\u{7}' => self.push_str("\\a"),
                '\u{8}' => self.push_str("\\b"),
                '\t' => self.push_str("\\t"),
                '\n' => self.push_str("\\n"),
                '\u{b}' => self.push_str("\\v"),
                '\u{c}' => self.push_str("\\f"),
                '\r' => self.push_str("\\r"),
                '\u{1b}' => self.push_str("\\e"),
                '\u{85}' => self.push_str("\\N"),
                '\u{a0}' => self.push_str("\\_"),
                '\u{2028}' => self.push_str("\\L"),
                '\u{2029}' => self.push_str("\\P"),
                c if is_printable(c) => self.push(c),
                c if (c as u32) <= 0xff => self.push_str(&format!("\\x{:02X}", c as u32)),
                c if (c as u32) <= 0xffff => self.push_str(&format!("\\u{:04X}", c as u32)),
                c => self.push_str(&format!("\\U{:08X}", c as u32)),
            }
        }
        self.push('"');
    }

    /// libyaml's double-quoted writer folds before a following space too (it
    /// escapes that one).
    fn folds_at_double(&self, chars: &[char], i: usize, spaces: bool) -> bool {
        self.breaks && !spaces && self.column > BEST_WIDTH && i != 0 && i + 1 != chars.len()
    }
}

/// `|` with an indentation digit when the text starts with a space or a line break,
/// and the chomping: `-` without a final line break, `+` with more than one.
fn block_header(text: &str) -> String {
    let mut header = String::from("|");
    if text.starts_with([' ', '\n']) {
        header.push('2');
    }
    if !text.ends_with('\n') {
        header.push('-');
    } else if text == "\n" || text.ends_with("\n\n") {
        header.push('+');
    }
    header
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inline(text: &str) -> String {
        match write_scalar(
            text,
            Place::Value {
                column: 0,
                indent: 2,
            },
        ) {
            Written::Inline(s) => s,
            Written::Block { header } => header,
        }
    }

    /// What kubectl prints for these strings (`kubectl get -o yaml` of objects holding them).
    #[test]
    fn styles_kubectl_chooses() {
        assert_eq!(inline("nginx:1.27"), "nginx:1.27");
        assert_eq!(inline("-c"), "-c");
        assert_eq!(inline("true"), "\"true\"");
        assert_eq!(inline("yes"), "\"yes\"");
        assert_eq!(inline("n"), "\"n\"");
        assert_eq!(inline("8080"), "\"8080\"");
        assert_eq!(inline("01777"), "\"01777\"");
        assert_eq!(inline(""), "\"\"");
        assert_eq!(inline("2026-11-29T18:00:00Z"), "\"2026-11-29T18:00:00Z\"");
        assert_eq!(inline("1:20"), "\"1:20\"");
        assert_eq!(inline("*"), "'*'");
        assert_eq!(inline("- x"), "'- x'");
        assert_eq!(inline("a: b"), "'a: b'");
        assert_eq!(inline("a #b"), "'a #b'");
        assert_eq!(inline("a#b"), "a#b");
        assert_eq!(inline(" lead"), "' lead'");
        assert_eq!(inline("it's"), "it's");
        assert_eq!(inline("'q'"), "'''q'''");
        assert_eq!(inline("tab\there"), "\"tab\\there\"");
        assert_eq!(inline("héllo ✓"), "héllo ✓");
        assert_eq!(inline("echo hi\nsleep 1"), "|-");
        assert_eq!(inline("echo hi\n"), "|");
        assert_eq!(inline("a\n\n"), "|+");
        assert_eq!(inline("  indented\nx"), "|2-");
        assert_eq!(inline("trailing \nx"), "\"trailing \\nx\"");
        assert_eq!(inline("x\ntrailing "), "\"x\\ntrailing \"");
    }

    #[test]
    fn a_multi_line_key_is_double_quoted() {
        assert_eq!(
            write_scalar("a\nb", Place::Key),
            Written::Inline("\"a\\nb\"".into())
        );
    }
}
