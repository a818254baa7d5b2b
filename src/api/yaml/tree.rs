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
        depth: 0,
        budget: AliasBudget::default(),
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

/// How deep sequences and mappings may nest. go-yaml stops at 10000 levels; we stop
/// at serde_json's own limit, far beyond any Pod (whose deepest field is ~8 levels)
/// and shallow enough that building, checking and dropping the value (all
/// recursive) stay well inside a thread's stack.
pub const MAX_DEPTH: usize = 128;

struct TreeBuilder<'input> {
    events: Vec<(Event<'input>, Span)>,
    next: usize,
    /// Values with an anchor (`&name`), for aliases (`*name`), with the number of
    /// nodes each expands to.
    anchors: HashMap<usize, (Value, u64)>,
    lines: FieldLines,
    errors: Vec<String>,
    /// How many sequences and mappings enclose the node being built.
    depth: usize,
    budget: AliasBudget,
}

/// go-yaml's defence against "billion laughs" (decode.go, `allowedAliasRatio`):
/// every node decoded is counted, nodes decoded again through an alias are counted
/// a second time as aliased, and once a document has more than 1000 nodes and 100
/// aliased ones, the aliased share may not exceed 99% (up to 400,000 nodes), falling
/// linearly to 10% (at 4,000,000 nodes). Past that: "document contains excessive
/// aliasing". We count an alias's expansion before copying it, so a bomb is refused
/// before it takes any memory.
#[derive(Default)]
struct AliasBudget {
    decoded: u64,
    aliased: u64,
}

impl AliasBudget {
    const RANGE_LOW: u64 = 400_000;
    const RANGE_HIGH: u64 = 4_000_000;

    /// Counts `nodes` more nodes (`aliased` when they come through an alias);
    /// false when the document now holds too many aliased nodes.
    fn count(&mut self, nodes: u64, aliased: bool) -> bool {
        self.decoded = self.decoded.saturating_add(nodes);
        if aliased {
            self.aliased = self.aliased.saturating_add(nodes);
        }
        !(self.aliased > 100
            && self.decoded > 1000
            && self.aliased as f64 / self.decoded as f64 > Self::allowed_ratio(self.decoded))
    }

    fn allowed_ratio(decoded: u64) -> f64 {
        if decoded <= Self::RANGE_LOW {
            0.99
        } else if decoded >= Self::RANGE_HIGH {
            0.10
        } else {
            let range = (Self::RANGE_HIGH - Self::RANGE_LOW) as f64;
            0.99 - 0.89 * ((decoded - Self::RANGE_LOW) as f64 / range)
        }
    }
}

impl<'input> TreeBuilder<'input> {
    /// Records a problem that ends the reading: every later event is skipped.
    fn stop(&mut self, message: String) {
        self.errors.push(message);
        self.next = self.events.len();
    }

    fn take(&mut self) -> Option<(Event<'input>, Span)> {
        let event = self.events.get(self.next).cloned();
        self.next += 1;
        event
    }

    fn documents(&mut self) -> Vec<YamlDocument> {
        let mut documents = Vec::new();
        while let Some((event, _)) = self.take() {
            if let Event::DocumentStart(_) = event {
                // Anchors and the alias budget are each document's own, as
                // kubectl decodes every document on its own.
                self.lines = FieldLines::default();
                self.anchors.clear();
                self.budget = AliasBudget::default();
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
        let decoded_before = self.budget.decoded;
        if !self.budget.count(1, false) {
            self.stop("yaml: document contains excessive aliasing".to_string());
            return Value::Null;
        }
        let (value, anchor) = match event {
            Event::Scalar(text, style, anchor, tag) => {
                (scalar_value(&text, style, tag.as_deref()), anchor)
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if self.depth >= MAX_DEPTH {
                    let (line, column) = (span.start.line(), span.start.col() + 1);
                    self.stop(format!(
                        "yaml: line {line}, column {column}: exceeded max depth of {MAX_DEPTH}"
                    ));
                    return Value::Null;
                }
                self.depth += 1;
                let value = if matches!(event, Event::SequenceStart(..)) {
                    self.sequence(path)
                } else {
                    self.mapping(path)
                };
                self.depth -= 1;
                (value, anchor)
            }
            Event::Alias(anchor) => return self.alias(anchor),
            // A document that ends at once is empty.
            Event::DocumentEnd => return Value::Null,
            _ => {
                let line = span.start.line();
                self.errors
                    .push(format!("yaml: line {line}: unexpected YAML event"));
                return Value::Null;
            }
        };
        if anchor != 0 {
            // Nodes the value took to build, aliases inside it included: what an
            // alias to it will cost again.
            let nodes = self.budget.decoded.saturating_sub(decoded_before);
            self.anchors.insert(anchor, (value.clone(), nodes));
        }
        value
    }

    /// The value an alias (`*name`) stands for, counted against the alias budget
    /// before it is copied.
    fn alias(&mut self, anchor: usize) -> Value {
        let Some(nodes) = self.anchors.get(&anchor).map(|(_, nodes)| *nodes) else {
            return Value::Null;
        };
        if !self.budget.count(nodes, true) {
            self.stop("yaml: document contains excessive aliasing".to_string());
            return Value::Null;
        }
        self.anchors
            .get(&anchor)
            .map(|(value, _)| value.clone())
            .unwrap_or(Value::Null)
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
            if !self.budget.count(1, false) {
                self.stop("yaml: document contains excessive aliasing".to_string());
                break;
            }
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
