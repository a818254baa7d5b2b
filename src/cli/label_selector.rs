//! Label selectors (`-l app=web,tier!=db,env in (a,b),!legacy`), parsed as kubectl
//! parses them (k8s.io/apimachinery/pkg/labels/selector.go): the same tokens, the
//! same grammar, the same checks of keys and values, the same messages.
//!
//! Grammar: requirements separated by `,`; each is `key`, `!key`,
//! `key = value`, `key == value`, `key != value`, `key in (v1,v2)`,
//! `key notin (v1,v2)`, `key > n`, `key < n`.

use crate::api::names;
use std::collections::BTreeMap;

/// A parsed selector: every requirement must hold (an empty one selects all).
#[derive(Debug, PartialEq)]
pub struct Selector(Vec<Requirement>);

#[derive(Debug, PartialEq)]
struct Requirement {
    key: String,
    op: Operator,
    /// Sorted and without duplicates, as Go's `sets.String.List()`.
    values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Operator {
    Exists,
    DoesNotExist,
    Equals,
    NotEquals,
    In,
    NotIn,
    GreaterThan,
    LessThan,
}

impl Selector {
    /// kubectl's parse; the error is the text after `error: `.
    pub fn parse(text: &str) -> Result<Selector, String> {
        let tokens = lex(text)?;
        Parser { tokens, next: 0 }.parse().map(Selector)
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0.iter().all(|requirement| requirement.matches(labels))
    }
}

impl Requirement {
    fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let value = labels.get(&self.key);
        let in_values = |v: &String| self.values.contains(v);
        match self.op {
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
            Operator::Equals | Operator::In => value.is_some_and(in_values),
            Operator::NotEquals | Operator::NotIn => !value.is_some_and(in_values),
            Operator::GreaterThan | Operator::LessThan => {
                let (Some(Ok(have)), Some(Ok(want))) = (
                    value.map(|v| v.parse::<i64>()),
                    self.values.first().map(|v| v.parse::<i64>()),
                ) else {
                    return false;
                };
                if self.op == Operator::GreaterThan {
                    have > want
                } else {
                    have < want
                }
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    End,
    Identifier(String),
    In,
    NotIn,
    Bang,
    Equals,
    DoubleEquals,
    NotEquals,
    Greater,
    Less,
    Open,
    Close,
    Comma,
}

impl Token {
    /// The literal, as the messages quote it (`''` at the end of the text).
    fn literal(&self) -> &str {
        match self {
            Token::End => "",
            Token::Identifier(text) => text,
            Token::In => "in",
            Token::NotIn => "notin",
            Token::Bang => "!",
            Token::Equals => "=",
            Token::DoubleEquals => "==",
            Token::NotEquals => "!=",
            Token::Greater => ">",
            Token::Less => "<",
            Token::Open => "(",
            Token::Close => ")",
            Token::Comma => ",",
        }
    }
}

fn is_special(c: char) -> bool {
    matches!(c, '=' | '!' | '(' | ')' | ',' | '>' | '<')
}

fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// The tokens of `text`, ending with `Token::End`.
fn lex(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches(is_blank);
        let Some(first) = rest.chars().next() else {
            tokens.push(Token::End);
            return Ok(tokens);
        };
        if is_special(first) {
            // The longest symbol that matches: `!=` before `!`, `==` before `=`.
            let (token, length) = match (first, rest[1..].chars().next()) {
                ('!', Some('=')) => (Token::NotEquals, 2),
                ('=', Some('=')) => (Token::DoubleEquals, 2),
                ('!', _) => (Token::Bang, 1),
                ('=', _) => (Token::Equals, 1),
                ('(', _) => (Token::Open, 1),
                (')', _) => (Token::Close, 1),
                (',', _) => (Token::Comma, 1),
                ('>', _) => (Token::Greater, 1),
                _ => (Token::Less, 1),
            };
            tokens.push(token);
            rest = &rest[length..];
        } else {
            let end = rest
                .find(|c| is_blank(c) || is_special(c))
                .unwrap_or(rest.len());
            let word = &rest[..end];
            tokens.push(match word {
                "in" => Token::In,
                "notin" => Token::NotIn,
                _ => Token::Identifier(word.to_string()),
            });
            rest = &rest[end..];
        }
    }
}

struct Parser {
    tokens: Vec<Token>,
    next: usize,
}

/// Where values are read, `in` and `notin` are plain words (kubectl's `Values`
/// context); only the operator position reads them as keywords.
fn as_value(token: Token) -> Token {
    match token {
        Token::In | Token::NotIn => Token::Identifier(token.literal().to_string()),
        other => other,
    }
}

impl Parser {
    fn peek(&self) -> Token {
        as_value(self.tokens.get(self.next).cloned().unwrap_or(Token::End))
    }

    fn take_keyword(&mut self) -> Token {
        let token = self.tokens.get(self.next).cloned().unwrap_or(Token::End);
        self.next += 1;
        token
    }

    fn take(&mut self) -> Token {
        as_value(self.take_keyword())
    }

    fn parse(&mut self) -> Result<Vec<Requirement>, String> {
        let mut requirements = Vec::new();
        loop {
            match self.peek() {
                Token::Identifier(_) | Token::Bang => {
                    let requirement = self
                        .requirement()
                        .map_err(|error| format!("unable to parse requirement: {error}"))?;
                    requirements.push(requirement);
                    match self.take() {
                        Token::End => return Ok(requirements),
                        Token::Comma => {
                            let after = self.peek();
                            if !matches!(after, Token::Identifier(_) | Token::Bang) {
                                return Err(format!(
                                    "found '{}', expected: identifier after ','",
                                    after.literal()
                                ));
                            }
                        }
                        other => {
                            return Err(format!(
                                "found '{}', expected: ',' or 'end of string'",
                                other.literal()
                            ))
                        }
                    }
                }
                Token::End => return Ok(requirements),
                other => {
                    return Err(format!(
                        "found '{}', expected: !, identifier, or 'end of string'",
                        other.literal()
                    ))
                }
            }
        }
    }

    fn requirement(&mut self) -> Result<Requirement, String> {
        let mut token = self.take();
        let negated = token == Token::Bang;
        if negated {
            token = self.take();
        }
        let Token::Identifier(key) = token else {
            return Err(format!("found '{}', expected: identifier", token.literal()));
        };
        let reasons = names::qualified_name(&key);
        if !reasons.is_empty() {
            return Err(format!(
                "<nil>: Invalid value: {key:?}: {}",
                reasons.join("; ")
            ));
        }
        let ends = matches!(self.peek(), Token::End | Token::Comma);
        if negated || ends {
            let op = if negated {
                Operator::DoesNotExist
            } else {
                Operator::Exists
            };
            return Ok(Requirement {
                key,
                op,
                values: Vec::new(),
            });
        }
        let op = match self.take_keyword() {
            Token::In => Operator::In,
            Token::NotIn => Operator::NotIn,
            Token::Equals | Token::DoubleEquals => Operator::Equals,
            Token::NotEquals => Operator::NotEquals,
            Token::Greater => Operator::GreaterThan,
            Token::Less => Operator::LessThan,
            other => {
                return Err(format!(
                    "found '{}', expected: in, notin, =, ==, !=, gt, lt",
                    other.literal()
                ))
            }
        };
        let mut values = match op {
            Operator::In | Operator::NotIn => self.value_list()?,
            _ => vec![self.exact_value()?],
        };
        values.sort();
        values.dedup();
        check_values(&key, op, &values)?;
        Ok(Requirement { key, op, values })
    }

    /// `(a, b)`; `()` and empty items stand for the empty value.
    fn value_list(&mut self) -> Result<Vec<String>, String> {
        let open = self.take();
        if open != Token::Open {
            return Err(format!("found '{}' expected: '('", open.literal()));
        }
        match self.peek() {
            Token::Close => {
                self.take();
                return Ok(vec![String::new()]);
            }
            Token::Identifier(_) | Token::Comma => {}
            other => {
                return Err(format!(
                    "found '{}', expected: ',', ')' or identifier",
                    other.literal()
                ))
            }
        }
        let mut values = Vec::new();
        loop {
            match self.take() {
                Token::Identifier(value) => {
                    values.push(value);
                    match self.peek() {
                        Token::Comma => {}
                        Token::Close => break,
                        other => {
                            return Err(format!(
                                "found '{}', expected: ',' or ')'",
                                other.literal()
                            ))
                        }
                    }
                }
                Token::Comma => {
                    if values.is_empty() {
                        values.push(String::new());
                    }
                    match self.peek() {
                        Token::Close => {
                            values.push(String::new());
                            break;
                        }
                        Token::Comma => {
                            self.take();
                            values.push(String::new());
                        }
                        _ => {}
                    }
                }
                other => {
                    return Err(format!(
                        "found '{}', expected: ',', or identifier",
                        other.literal()
                    ))
                }
            }
        }
        let close = self.take();
        if close != Token::Close {
            return Err(format!("found '{}', expected: ')'", close.literal()));
        }
        Ok(values)
    }

    /// The value after `=`, `==`, `!=`, `>`, `<`; nothing there is the empty value.
    fn exact_value(&mut self) -> Result<String, String> {
        if matches!(self.peek(), Token::End | Token::Comma) {
            return Ok(String::new());
        }
        match self.take() {
            Token::Identifier(value) => Ok(value),
            other => Err(format!("found '{}', expected: identifier", other.literal())),
        }
    }
}

/// The checks of `NewRequirement`, with its field paths (`values[0][key]`).
fn check_values(key: &str, op: Operator, values: &[String]) -> Result<(), String> {
    let mut errors = Vec::new();
    if matches!(op, Operator::GreaterThan | Operator::LessThan) {
        for (index, value) in values.iter().enumerate() {
            if value.parse::<i64>().is_err() {
                errors.push(format!(
                    "values[{index}]: Invalid value: {value:?}: for 'Gt', 'Lt' operators, the value must be an integer"
                ));
            }
        }
    }
    for (index, value) in values.iter().enumerate() {
        let reasons = names::label_value(value);
        if !reasons.is_empty() {
            errors.push(format!(
                "values[{index}][{key}]: Invalid value: {value:?}: {}",
                reasons.join("; ")
            ));
        }
    }
    match errors.len() {
        0 => Ok(()),
        1 => Err(errors.remove(0)),
        _ => Err(format!("[{}]", errors.join(", "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn selects(selector: &str, pairs: &[(&str, &str)]) -> bool {
        Selector::parse(selector).unwrap().matches(&labels(pairs))
    }

    #[test]
    fn every_operator_selects_as_kubernetes_does() {
        let web = [("app", "web"), ("tier", "front"), ("replicas", "3")];
        assert!(selects("", &web));
        assert!(selects("app=web", &web));
        assert!(selects("app == web", &web));
        assert!(!selects("app!=web", &web));
        assert!(
            selects("other!=x", &web),
            "!= also selects pods without the key"
        );
        assert!(selects("app", &web));
        assert!(selects("!other", &web));
        assert!(!selects("!app", &web));
        assert!(selects("app in (db, web)", &web));
        assert!(!selects("app notin (db,web)", &web));
        assert!(selects("other notin (web)", &web));
        assert!(selects("replicas>2,replicas<4", &web));
        assert!(!selects("replicas>3", &web));
        assert!(selects("app=web,tier=front", &web));
        assert!(!selects("app=web,tier=back", &web));
        assert!(
            selects("app!=", &web),
            "a!= means: a is not the empty value"
        );
        assert!(selects("example.com/x!=y", &web));
    }

    #[test]
    fn in_and_notin_are_words_where_a_value_goes() {
        assert!(selects("app=in", &[("app", "in")]));
        assert!(selects("notin", &[("notin", "")]));
    }

    #[test]
    fn malformed_selectors_fail_with_kubectls_messages() {
        let cases = [
            ("!", "unable to parse requirement: found '', expected: identifier"),
            (",", "found ',', expected: !, identifier, or 'end of string'"),
            ("a in (b", "unable to parse requirement: found '', expected: ',' or ')'"),
            ("a=b=c", "found '=', expected: ',' or 'end of string'"),
            ("a=b,", "found '', expected: identifier after ','"),
            ("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"),
            ("a in b", "unable to parse requirement: found 'b' expected: '('"),
            ("a in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier"),
            ("!a=b", "found '=', expected: ',' or 'end of string'"),
            ("a>x", "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, the value must be an integer"),
            ("a==-b", "unable to parse requirement: values[0][a]: Invalid value: \"-b\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"),
            ("-a", "unable to parse requirement: <nil>: Invalid value: \"-a\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"),
        ];
        for (selector, message) in cases {
            assert_eq!(
                Selector::parse(selector).err().as_deref(),
                Some(message),
                "selector {selector:?}"
            );
        }
    }

    #[test]
    fn empty_items_in_a_list_are_the_empty_value() {
        let selector = Selector::parse("a in (,b)").unwrap();
        assert_eq!(selector.0[0].values, ["", "b"]);
        assert!(selector.matches(&labels(&[("a", "")])));
    }
}
