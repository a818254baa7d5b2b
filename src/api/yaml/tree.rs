//! Parser events → JSON values, one per document, with the line of every field.

use super::{scalar, FieldLines, YamlDocument};
use crate::api::field_path;
use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, Tag};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Every non-empty document of `text` as JSON.
pub fn build_documents(text: &str) -> Result<Vec<YamlDocument>, Vec<String>> {
    let events = Parser::new_from_str(text)
        .collect::<Result<Vec<_>, ScanError>>()
        .map_err(|error| vec![syntax_error(&error)])?;
    let mut builder = TreeBuilder {
        events,
        next: 0,
        anchors: HashMap::new(),
        lines: FieldLines::default(),
        errors: Vec::new(),
    };
    let documents = builder.documents();
    if builder.errors.is_empty() {
        Ok(documents)
    } else {
        Err(builder.errors)
    }
}

/// go-yaml's wording, with the column too: `yaml: line 3, column 2: <what>`.
fn syntax_error(error: &ScanError) -> String {
    let marker = error.marker();
    format!(
        "yaml: line {}, column {}: {}",
        marker.line(),
        marker.col() + 1,
        error.info()
    )
}

struct TreeBuilder<'input> {
    events: Vec<(Event<'input>, Span)>,
    next: usize,
    /// Values with an anchor (`&name`), for aliases (`*name`).
    anchors: HashMap<usize, Value>,
    lines: FieldLines,
    errors: Vec<String>,
}

impl<'input> TreeBuilder<'input> {
    fn take(&mut self) -> Option<(Event<'input>, Span)> {
        let event = self.events.get(self.next).cloned();
        self.next += 1;
        event
    }

    fn documents(&mut self) -> Vec<YamlDocument> {
        let mut documents = Vec::new();
        while let Some((event, _)) = self.take() {
            if let Event::DocumentStart(_) = event {
                self.lines = FieldLines::default();
                let value = self.node("");
                if !value.is_null() {
                    let lines = std::mem::take(&mut self.lines);
                    documents.push(YamlDocument { value, lines });
                }
            }
        }
        documents
    }

    /// The next node (scalar, sequence, mapping or alias) at `path`.
    fn node(&mut self, path: &str) -> Value {
        let Some((event, span)) = self.take() else {
            return Value::Null;
        };
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let value = scalar_value(&text, style, tag.as_deref());
                self.remember(anchor, &value);
                value
            }
            Event::SequenceStart(anchor, _) => {
                let value = self.sequence(path);
                self.remember(anchor, &value);
                value
            }
            Event::MappingStart(anchor, _) => {
                let value = self.mapping(path);
                self.remember(anchor, &value);
                value
            }
            Event::Alias(anchor) => self.anchors.get(&anchor).cloned().unwrap_or(Value::Null),
            // A document that ends at once is empty.
            Event::DocumentEnd => Value::Null,
            _ => {
                let line = span.start.line();
                self.errors
                    .push(format!("yaml: line {line}: unexpected YAML event"));
                Value::Null
            }
        }
    }

    fn remember(&mut self, anchor: usize, value: &Value) {
        if anchor != 0 {
            self.anchors.insert(anchor, value.clone());
        }
    }

    fn sequence(&mut self, path: &str) -> Value {
        let mut items = Vec::new();
        while let Some((event, span)) = self.events.get(self.next) {
            if matches!(event, Event::SequenceEnd) {
                self.next += 1;
                break;
            }
            let item_path = field_path::index(path, items.len());
            self.lines.insert(item_path.clone(), span.start.line());
            items.push(self.node(&item_path));
        }
        Value::Array(items)
    }

    fn mapping(&mut self, path: &str) -> Value {
        let mut map = Map::new();
        // Values of merge keys (`<<: *defaults`), applied after the map's own keys.
        let mut merged = Vec::new();
        while let Some((event, span)) = self.events.get(self.next).cloned() {
            self.next += 1;
            let (key, key_is_plain) = match event {
                Event::MappingEnd => break,
                Event::Scalar(text, style, _, _) => {
                    (key_text(&text, style), matches!(style, ScalarStyle::Plain))
                }
                _ => {
                    // A sequence or mapping as a key: JSON cannot hold it.
                    let line = span.start.line();
                    self.errors
                        .push(format!("yaml: line {line}: invalid map key: not a scalar"));
                    self.next -= 1;
                    self.node(path);
                    self.node(path);
                    continue;
                }
            };
            let line = span.start.line();
            let key_path = field_path::field(path, &key);
            let value = self.node(&key_path);
            if key == "<<" && key_is_plain {
                merged.push(value);
                continue;
            }
            if map.contains_key(&key) {
                self.errors.push(format!(
                    "yaml: unmarshal errors: line {line}: key {key:?} already set in map"
                ));
                continue;
            }
            self.lines.insert(key_path, line);
            map.insert(key, value);
        }
        for value in merged {
            merge_into(&mut map, value);
        }
        Value::Object(map)
    }
}

/// A merge key (`<<: *defaults`) adds the keys the map does not set itself.
fn merge_into(map: &mut Map<String, Value>, merged: Value) {
    let sources = match merged {
        Value::Array(items) => items,
        other => vec![other],
    };
    for source in sources {
        if let Value::Object(fields) = source {
            for (key, value) in fields {
                map.entry(key).or_insert(value);
            }
        }
    }
}

fn key_text(text: &str, style: ScalarStyle) -> String {
    match style {
        ScalarStyle::Plain => scalar::resolve_plain_key(text),
        _ => text.to_string(),
    }
}

/// Quoted and block scalars are strings; plain ones are resolved (YAML 1.1).
/// An explicit `!!str` tag makes any scalar a string.
fn scalar_value(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Value {
    let tagged_string = tag.is_some_and(|tag| tag.handle == "!!" && tag.suffix == "str")
        || tag.is_some_and(|tag| tag.suffix == "tag:yaml.org,2002:str");
    match style {
        ScalarStyle::Plain if !tagged_string => scalar::resolve_plain(text),
        _ => Value::String(text.to_string()),
    }
}
