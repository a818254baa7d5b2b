//! A lesson page (`docs/lessons/*.md`): prose, and fenced ```sh blocks in which a line
//! starting with `$ ` is a command and the lines under it, up to the next command or the
//! end of the block, are the output a student will see.
//!
//! Expected output is matched line by line, with runs of spaces counting as one space
//! (table columns move with the width of a PID) and these placeholders:
//! `<pid>`, `<inode>` (digits), `<uid>` (a pod uid), `<age>` (`5s`, `2m3s`), `<any>`
//! (anything on the line); a line `...` stands for any number of lines.

/// One part of a page, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    /// Prose (markdown as written).
    Text(String),
    /// A command and the output the page shows for it.
    Command { line: String, expected: Vec<String> },
}

/// Split a page into prose and commands.
pub fn parse(page: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut prose = String::new();
    let mut in_sh = false;
    for line in page.lines() {
        let trimmed = line.trim_end();
        if !in_sh {
            if trimmed == "```sh" {
                in_sh = true;
                if !prose.trim().is_empty() {
                    parts.push(Part::Text(prose.trim().to_string()));
                }
                prose.clear();
            } else {
                prose.push_str(trimmed);
                prose.push('\n');
            }
            continue;
        }
        if trimmed == "```" {
            in_sh = false;
        } else if let Some(cmd) = trimmed.strip_prefix("$ ") {
            parts.push(Part::Command {
                line: cmd.to_string(),
                expected: Vec::new(),
            });
        } else if let Some(Part::Command { expected, .. }) = parts.last_mut() {
            expected.push(trimmed.to_string());
        }
    }
    if !prose.trim().is_empty() {
        parts.push(Part::Text(prose.trim().to_string()));
    }
    parts
}

/// Does `actual` (a command's whole output) match the page's `expected` lines?
pub fn matches(expected: &[String], actual: &str) -> bool {
    let actual: Vec<String> = actual
        .lines()
        .map(normalize)
        .filter(|l| !l.is_empty())
        .collect();
    let expected: Vec<String> = expected
        .iter()
        .map(|l| normalize(l))
        .filter(|l| !l.is_empty())
        .collect();
    match_lines(&expected, &actual)
}

fn normalize(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn match_lines(expected: &[String], actual: &[String]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if first == "..." => {
            (0..=actual.len()).any(|skip| match_lines(rest, &actual[skip..]))
        }
        Some((first, rest)) => match actual.split_first() {
            Some((line, more)) => match_line(first, line) && match_lines(rest, more),
            None => false,
        },
    }
}

/// Match one line, placeholders included.
pub fn match_line(pattern: &str, text: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    match_from(pattern, &text)
}

fn match_from(pattern: &str, text: &[char]) -> bool {
    for (name, class) in PLACEHOLDERS {
        if let Some(rest) = pattern.strip_prefix(name) {
            // One or more characters of the class (any: zero or more), then the rest.
            let min = usize::from(*name != "<any>");
            let longest = text.iter().take_while(|c| class(**c)).count();
            return (min..=longest).rev().any(|n| match_from(rest, &text[n..]));
        }
    }
    let mut chars = pattern.chars();
    match chars.next() {
        None => text.is_empty(),
        Some(p) => text.first() == Some(&p) && match_from(chars.as_str(), &text[1..]),
    }
}

type Class = fn(char) -> bool;

const PLACEHOLDERS: &[(&str, Class)] = &[
    ("<pid>", |c| c.is_ascii_digit()),
    ("<inode>", |c| c.is_ascii_digit()),
    ("<uid>", |c| c.is_ascii_hexdigit() || c == '-'),
    ("<age>", |c| c.is_ascii_alphanumeric()),
    ("<any>", |_| true),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands_and_their_output() {
        let page = "# Title\n\nSome prose.\n\n```sh\n$ minipod get pods\nNAME   READY\nweb    1/1\n$ true\n```\nMore prose.\n";
        let parts = parse(page);
        assert_eq!(parts.len(), 4);
        assert_eq!(parts[0], Part::Text("# Title\n\nSome prose.".into()));
        assert_eq!(
            parts[1],
            Part::Command {
                line: "minipod get pods".into(),
                expected: vec!["NAME   READY".into(), "web    1/1".into()]
            }
        );
        assert_eq!(
            parts[2],
            Part::Command {
                line: "true".into(),
                expected: vec![]
            }
        );
    }

    #[test]
    fn placeholders_and_spaces() {
        assert!(match_line("infra <pid> own", "infra 4711 own"));
        assert!(!match_line("infra <pid> own", "infra own own"));
        assert!(match_line("net:[<inode>]", "net:[4026532281]"));
        assert!(match_line("a <any> z", "a b c d z"));
        assert!(match_line("<age>", "2m3s"));
        let want = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(matches(
            &want(&["NAME READY", "web   1/1   <age>"]),
            "NAME   READY\nweb    1/1    12s\n"
        ));
        assert!(matches(
            &want(&["first", "...", "last"]),
            "first\nx\ny\nlast\n"
        ));
        assert!(!matches(&want(&["first"]), "first\nsecond\n"));
    }
}
