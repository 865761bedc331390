//! YAML text to [`Node`] tree, with positions, strict about what YAML allows silently:
//! duplicate keys are errors (not last-one-wins), non-scalar keys are errors, unknown tags
//! are errors, and alias expansion and nesting depth are bounded (billion laughs, stack depth).
//!
//! Before parsing, the whole text is checked for characters YAML forbids (see [`chars`]): a
//! file is read whole or refused, never cut short at a NUL. The parser is `saphyr-parser`
//! (YAML 1.2, the maintained successor of yaml-rust2); it passes the yaml-test-suite, which
//! runs in this crate's tests (`suite` below) against the refusals stencil documents.

mod chars;
#[cfg(test)]
mod suite;

pub(crate) use chars::quotable;

use std::collections::HashMap;
use std::sync::Arc;

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, ScanError, Tag};

use crate::error::{Diagnostic, Result};
use crate::node::{Map, Node, Scalar, ScalarKind, Value, resolve_plain};
use crate::origin::{Origin, SourceFile};

/// Bounds that keep a hostile document from exhausting memory or stack.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Deepest nesting of mappings and sequences.
    pub max_depth: usize,
    /// Most nodes that aliases may add to a document by expansion.
    pub max_alias_nodes: usize,
    /// Most bytes of keys and strings that aliases may add to a document by expansion.
    pub max_alias_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 64,
            max_alias_nodes: 10_000,
            max_alias_bytes: 4 << 20,
        }
    }
}

enum Frame {
    Seq {
        origin: Origin,
        anchor: usize,
        replace: bool,
        items: Vec<Node>,
    },
    Map {
        origin: Origin,
        anchor: usize,
        replace: bool,
        map: Map,
        key: Option<(String, Origin)>,
    },
}

struct Builder<'a> {
    file: &'a Arc<SourceFile>,
    limits: Limits,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    alias_nodes: usize,
    alias_bytes: u64,
    documents: Vec<Node>,
}

/// Parses one YAML document. An empty file is an empty mapping's worth of nothing: `Null`.
pub fn parse(file: &Arc<SourceFile>, limits: Limits) -> Result<Node> {
    chars::check(file)?;
    let text = file.text.strip_prefix('\u{feff}').unwrap_or(&file.text);
    let mut parser = Parser::new_from_str(text);
    let mut builder = Builder {
        file,
        limits,
        stack: Vec::new(),
        anchors: HashMap::new(),
        alias_nodes: 0,
        alias_bytes: 0,
        documents: Vec::new(),
    };
    for next in &mut parser {
        let (event, span) = next.map_err(|e| scan_error(file, &e))?;
        if matches!(event, Event::StreamEnd) {
            break;
        }
        builder.event(event, span.start)?;
    }
    let mut documents = builder.documents;
    match documents.len() {
        0 => Ok(Node::new(Value::Null, Origin::file_start(file))),
        1 => Ok(documents.remove(0)),
        _ => Err(
            Diagnostic::new("a file must hold one YAML document, this one holds several")
                .at(&documents[1].origin)
                .hint("remove the `---` separator, or split the documents into files of their own")
                .into(),
        ),
    }
}

fn scan_error(file: &Arc<SourceFile>, error: &ScanError) -> crate::error::Error {
    let (info, mark) = (error.info(), error.marker());
    let origin = Origin::new(file, mark.line() as u32, mark.col() as u32 + 1);
    let line = file.line(origin.line).unwrap_or("");
    if info.contains("recursion limit") {
        return Diagnostic::new("invalid YAML: the document nests too deeply")
            .at(&origin)
            .hint("flatten the structure; no stencil input needs this depth")
            .into();
    }
    let hint = if info.contains("tab") || line.starts_with('\t') {
        "YAML indentation must use spaces; replace the tabs with spaces"
    } else if info.contains("quoted scalar") {
        "a quoted string is not closed; add the closing quote"
    } else {
        "check the indentation and quoting around this line"
    };
    Diagnostic::new(format!("invalid YAML: {info}"))
        .at(&origin)
        .hint(hint)
        .into()
}

/// `!!int` (the parser resolves `!!` to the core prefix, or to what a `%TAG` directive
/// says) or its verbatim form `!<tag:yaml.org,2002:int>`.
fn is_core_tag(tag: &Tag, suffix: &str) -> bool {
    const CORE: &str = "tag:yaml.org,2002:";
    (tag.handle == CORE && tag.suffix == suffix)
        || (tag.handle.is_empty() && tag.suffix.strip_prefix(CORE) == Some(suffix))
}

impl Builder<'_> {
    fn origin(&self, mark: &Marker) -> Origin {
        Origin::new(self.file, mark.line() as u32, mark.col() as u32 + 1)
    }

    /// Reads a tag: `Ok(true)` for `!replace`, `Ok(false)` for none or a core tag we accept.
    fn tag(&self, tag: Option<&Tag>, mark: &Marker, allowed: &[&str]) -> Result<bool> {
        let Some(tag) = tag else { return Ok(false) };
        if tag.handle == "!" && tag.suffix == "replace" {
            return Ok(true);
        }
        if allowed.iter().any(|s| is_core_tag(tag, s)) {
            return Ok(false);
        }
        Err(Diagnostic::new(format!(
            "unsupported YAML tag `{}{}`",
            tag.handle, tag.suffix
        ))
        .at(&self.origin(mark))
        .hint("the only tag stencil understands is `!replace` (replace instead of merge); remove the tag")
        .into())
    }

    fn event(&mut self, event: Event, mark: Marker) -> Result<()> {
        match event {
            Event::StreamStart
            | Event::DocumentStart(_)
            | Event::DocumentEnd
            | Event::Nothing
            | Event::StreamEnd => Ok(()),
            Event::Scalar(text, style, anchor, tag) => {
                let node = self.scalar(text.into_owned(), style, tag.as_deref(), &mark)?;
                self.complete(node, anchor)
            }
            Event::SequenceStart(anchor, tag) => {
                let replace = self.tag(tag.as_deref(), &mark, &["seq"])?;
                let origin = self.origin(&mark);
                let items = Vec::new();
                self.push(
                    Frame::Seq {
                        origin,
                        anchor,
                        replace,
                        items,
                    },
                    &mark,
                )
            }
            Event::MappingStart(anchor, tag) => {
                let replace = self.tag(tag.as_deref(), &mark, &["map"])?;
                let (origin, map, key) = (self.origin(&mark), Map::new(), None);
                self.push(
                    Frame::Map {
                        origin,
                        anchor,
                        replace,
                        map,
                        key,
                    },
                    &mark,
                )
            }
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                None => Ok(()),
                Some(frame) => {
                    let (node, anchor) = frame_node(frame);
                    self.complete(node, anchor)
                }
            },
            Event::Alias(id) => {
                let node = self.alias(id, &mark)?;
                self.complete(node, 0)
            }
        }
    }

    /// A scalar, typed by its tag (which must agree with the text) or, untagged, by its
    /// style and text: quoted is a string, plain is resolved (`7` an int, `~` null).
    fn scalar(
        &self,
        text: String,
        style: ScalarStyle,
        tag: Option<&Tag>,
        mark: &Marker,
    ) -> Result<Node> {
        const SCALAR_TAGS: [&str; 5] = ["str", "int", "float", "bool", "null"];
        let origin = self.origin(mark);
        let replace = self.tag(tag, mark, &SCALAR_TAGS)?;
        let core = tag.and_then(|t| SCALAR_TAGS.into_iter().find(|s| is_core_tag(t, s)));
        let value = match core {
            Some("str") => Value::Scalar(Scalar {
                text,
                kind: ScalarKind::Str,
            }),
            Some(tag) => tagged_scalar(text, tag, &origin)?,
            None if style != ScalarStyle::Plain => Value::Scalar(Scalar {
                text,
                kind: ScalarKind::Str,
            }),
            None => match resolve_plain(&text) {
                None => Value::Null,
                Some(kind) => Value::Scalar(Scalar { text, kind }),
            },
        };
        let mut node = Node::new(value, origin);
        node.replace = replace;
        Ok(node)
    }

    /// A copy of an anchored node, placed at the alias. The copies of one document are
    /// bounded in nodes and in bytes (alias bombs, "billion laughs").
    fn alias(&mut self, id: usize, mark: &Marker) -> Result<Node> {
        let origin = self.origin(mark);
        let Some(target) = self.anchors.get(&id) else {
            return Err(Diagnostic::new("alias to an unknown anchor")
                .at(&origin)
                .into());
        };
        self.alias_nodes += target.size();
        if self.alias_nodes > self.limits.max_alias_nodes {
            return Err(Diagnostic::new(format!(
                "YAML aliases expand to more than {} nodes",
                self.limits.max_alias_nodes
            ))
            .at(&origin)
            .hint("this looks like an alias bomb (\"billion laughs\"); write the values out or use `extends` to share them")
            .into());
        }
        // A few nodes can still be large: a 100 KB string aliased a thousand times.
        self.alias_bytes = self
            .alias_bytes
            .saturating_add(crate::budget::node_bytes(target));
        if self.alias_bytes > self.limits.max_alias_bytes {
            return Err(Diagnostic::new(format!(
                "YAML aliases expand to more than {}",
                crate::budget::bytes(self.limits.max_alias_bytes)
            ))
            .at(&origin)
            .hint("an alias copies its anchor's text each time; write the values out or use `extends` to share them")
            .into());
        }
        let mut node = target.clone();
        node.origin = origin;
        Ok(node)
    }

    fn push(&mut self, frame: Frame, mark: &Marker) -> Result<()> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(Diagnostic::new(format!(
                "the document nests too deeply (more than {} levels)",
                self.limits.max_depth
            ))
            .at(&self.origin(mark))
            .hint("flatten the structure; no stencil input needs this depth")
            .into());
        }
        self.stack.push(frame);
        Ok(())
    }

    fn complete(&mut self, node: Node, anchor: usize) -> Result<()> {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.documents.push(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { map, key, .. }) => match key.take() {
                None => *key = Some((map_key(map, &node)?, node.origin)),
                Some((name, key_origin)) => {
                    let mut node = node;
                    node.origin = key_origin;
                    map.insert(name, node);
                }
            },
        }
        Ok(())
    }
}

/// A scalar with an explicit core tag other than `!!str`, which must agree with the text:
/// `!!int 7`, `!!int "7"`, `!!float 1` (an int is a float), `!!null ~`.
fn tagged_scalar(text: String, tag: &str, origin: &Origin) -> Result<Value> {
    let resolved = resolve_plain(&text);
    let kind = match tag {
        "int" => Some(ScalarKind::Int),
        "float" => Some(ScalarKind::Float),
        "bool" => Some(ScalarKind::Bool),
        _ => None,
    };
    let ok = match kind {
        None => resolved.is_none(),
        Some(ScalarKind::Float) => matches!(resolved, Some(ScalarKind::Float | ScalarKind::Int)),
        Some(k) => resolved == Some(k),
    };
    if !ok {
        return Err(Diagnostic::new(format!("`{text}` is not a valid !!{tag}"))
            .at(origin)
            .hint("remove the tag or fix the value")
            .into());
    }
    Ok(match kind {
        Some(kind) => Value::Scalar(Scalar { text, kind }),
        None => Value::Null,
    })
}

/// The node a closed sequence or mapping makes, and its anchor.
fn frame_node(frame: Frame) -> (Node, usize) {
    let (value, origin, anchor, replace) = match frame {
        Frame::Seq {
            origin,
            anchor,
            replace,
            items,
        } => (Value::Seq(items), origin, anchor, replace),
        Frame::Map {
            origin,
            anchor,
            replace,
            map,
            ..
        } => {
            // A block mapping's start event is reported after its first key; the mapping
            // starts at its first key.
            let origin = match map.first() {
                Some((_, first))
                    if (first.origin.line, first.origin.col) < (origin.line, origin.col) =>
                {
                    first.origin.clone()
                }
                _ => origin,
            };
            (Value::Map(map), origin, anchor, replace)
        }
    };
    let mut node = Node::new(value, origin);
    node.replace = replace;
    (node, anchor)
}

/// A mapping key: a scalar's text, not the merge key `<<`, not already in `map`.
fn map_key(map: &Map, node: &Node) -> Result<String> {
    let text = match &node.value {
        Value::Scalar(s) => s.text.clone(),
        Value::Null | Value::Seq(_) | Value::Map(_) => {
            return Err(
                Diagnostic::new(format!("a mapping key cannot be {}", node.type_name()))
                    .at(&node.origin)
                    .hint("use a string key")
                    .into(),
            );
        }
    };
    if text == "<<" {
        return Err(Diagnostic::new("YAML merge keys (`<<`) are not supported")
            .at(&node.origin)
            .hint("use `extends:` to build on another file; it merges with documented rules and keeps provenance")
            .into());
    }
    if let Some(first) = map.get(&text) {
        return Err(Diagnostic::new(format!("duplicate key `{text}`"))
            .at(&node.origin)
            .note(format!("first set at {}", first.origin))
            .hint("YAML keys must be unique in a mapping; remove one of them")
            .into());
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Node> {
        parse(&SourceFile::new("t.yaml", text), Limits::default())
    }

    #[test]
    fn positions_are_one_based_and_map_values_point_at_their_key() {
        let node = parse_str("a: 1\nb:\n  c: x\n").unwrap();
        let b = node.get("b").unwrap();
        assert_eq!((b.origin.line, b.origin.col), (2, 1));
        let c = b.get("c").unwrap();
        assert_eq!((c.origin.line, c.origin.col), (3, 3));
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let err = parse_str("a: 1\na: 2\n").unwrap_err();
        let d = &err.diagnostics()[0];
        assert_eq!(d.message, "duplicate key `a`");
        assert_eq!(d.origin.as_ref().unwrap().line, 2);
    }

    #[test]
    fn scalars_keep_their_text() {
        let node = parse_str("tag: 1.10\nq: \"8000\"\nn: ~\n").unwrap();
        assert_eq!(node.get("tag").unwrap().as_scalar_text(), Some("1.10"));
        let q = node.get("q").unwrap();
        assert!(matches!(&q.value, Value::Scalar(s) if s.kind == ScalarKind::Str));
        assert!(node.get("n").unwrap().is_null());
    }

    #[test]
    fn replace_tag_is_recorded() {
        let node = parse_str("env: !replace\n  A: b\n").unwrap();
        assert!(node.get("env").unwrap().replace);
    }

    #[test]
    fn alias_bombs_are_bounded() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let err = parse_str(&text).unwrap_err();
        assert!(err.diagnostics()[0].message.contains("aliases expand"));
    }

    #[test]
    fn depth_is_bounded() {
        let text = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        let err = parse_str(&text).unwrap_err();
        assert!(err.diagnostics()[0].message.contains("nests too deeply"));
    }

    #[test]
    fn bom_and_crlf_are_accepted() {
        let node = parse_str("\u{feff}a: 1\r\nb: two\r\n").unwrap();
        assert_eq!(node.get("b").unwrap().as_scalar_text(), Some("two"));
    }

    #[test]
    fn tabs_get_a_hint() {
        let err = parse_str("a:\n\tb: 1\n").unwrap_err();
        assert!(
            err.diagnostics()[0]
                .hint
                .as_deref()
                .unwrap()
                .contains("spaces")
        );
    }

    #[test]
    fn core_tags_are_read_in_every_form() {
        let node = parse_str("a: !!int 7\nb: !<tag:yaml.org,2002:str> 8\n").unwrap();
        let kind = |key: &str| match &node.get(key).unwrap().value {
            Value::Scalar(s) => s.kind,
            _ => unreachable!(),
        };
        assert_eq!((kind("a"), kind("b")), (ScalarKind::Int, ScalarKind::Str));
        let redefined = "%TAG !! tag:example.com,2000:\n---\na: !!int 7\n";
        assert!(parse_str(redefined).is_err());
    }

    #[test]
    fn an_empty_block_scalar_is_empty_even_at_the_end_of_the_file() {
        for text in [
            "a: |\n",
            "a: >\n",
            "a: |\n\n\n",
            "a: |-\n",
            "a: |",
            "a: |+\n",
            "a: >2\n",
            "a: |\r\n",
            "b: 1\na: |\n",
            "a: |  # comment\n",
        ] {
            let node = parse_str(text).unwrap();
            assert_eq!(
                node.get("a").unwrap().as_scalar_text(),
                Some(""),
                "{text:?}"
            );
        }
        let node = parse_str("a: |+\n  x\n\n").unwrap();
        assert_eq!(node.get("a").unwrap().as_scalar_text(), Some("x\n\n"));
    }

    #[test]
    fn nothing_after_a_nul_is_dropped() {
        let err = parse_str("a: 1\n\0\nb: 2\n").unwrap_err();
        let d = &err.diagnostics()[0];
        assert!(d.message.contains("U+0000"), "{}", d.message);
        assert_eq!(d.origin.as_ref().unwrap().line, 2);
    }

    /// No character is dropped or changed on the way in: in every scalar style, a value
    /// holding a control or non-ASCII character loads as written or the file is refused at
    /// that character. Every one up to U+0800 and one in 97 beyond, plus the specials.
    #[test]
    fn every_character_loads_as_written_or_is_refused_where_it_is() {
        let specials = [0x85, 0x2028, 0x2029, 0xfeff, 0xfffe, 0xffff, 0x10ffff];
        // ASCII controls but LF (which is YAML syntax), DEL, then the rest.
        let chars = (0..0x20)
            .filter(|c| *c != 0x0a)
            .chain(0x7f..0x800)
            .chain((0x800..=0x10ffff).step_by(97))
            .chain(specials)
            .filter_map(char::from_u32);
        for c in chars {
            for (text, line, col) in [
                (format!("a: x{c}y\n"), 1, 5),
                (format!("a: \"x{c}y\"\n"), 1, 6),
                (format!("a: 'x{c}y'\n"), 1, 6),
                (format!("a: |\n  x{c}y\n"), 2, 4),
            ] {
                let expected = if text.contains('|') {
                    format!("x{c}y\n")
                } else {
                    format!("x{c}y")
                };
                match parse_str(&text) {
                    Ok(node) => assert_eq!(
                        node.get("a").and_then(Node::as_scalar_text),
                        Some(expected.as_str()),
                        "{text:?}"
                    ),
                    Err(err) => {
                        let origin = err.diagnostics()[0].origin.clone().unwrap();
                        assert_eq!((origin.line, origin.col), (line, col), "{text:?}");
                    }
                }
            }
        }
    }

    /// The first diagnostic's message and line:col.
    fn first_error(text: &str, limits: Limits) -> (String, u32, u32) {
        let err = parse(&SourceFile::new("t.yaml", text), limits).unwrap_err();
        let d = &err.diagnostics()[0];
        let origin = d.origin.clone().unwrap();
        (d.message.clone(), origin.line, origin.col)
    }

    #[test]
    fn merge_keys_are_refused_at_the_key() {
        let (message, line, col) = first_error(
            "a: &a {x: 1}
b:
  <<: *a
",
            Limits::default(),
        );
        assert_eq!(message, "YAML merge keys (`<<`) are not supported");
        assert_eq!((line, col), (3, 3));
    }

    #[test]
    fn duplicate_keys_note_the_first() {
        let err = parse_str(
            "a:
  b: 1
  b: 2
",
        )
        .unwrap_err();
        let d = &err.diagnostics()[0];
        let origin = d.origin.clone().unwrap();
        assert_eq!((origin.line, origin.col), (3, 3));
        assert_eq!(d.notes, ["first set at t.yaml:2:3"]);
    }

    #[test]
    fn keys_are_scalars() {
        let (message, line, col) = first_error(
            "a: 1
[x]: 2
",
            Limits::default(),
        );
        assert_eq!(message, "a mapping key cannot be a list");
        assert_eq!((line, col), (2, 1));
        let (message, ..) = first_error(
            "? ~
: 2
",
            Limits::default(),
        );
        assert_eq!(message, "a mapping key cannot be null");
    }

    #[test]
    fn aliases_copy_the_anchor_and_point_at_the_alias() {
        let node = parse_str(
            "a: &x [1, 2]
b: *x
",
        )
        .unwrap();
        let b = node.get("b").unwrap();
        assert_eq!(b.as_seq().map(<[Node]>::len), Some(2));
        // A map value points at its key.
        assert_eq!((b.origin.line, b.origin.col), (2, 1));
        let seq = parse_str(
            "- &x 1
- *x
",
        )
        .unwrap();
        let second = &seq.as_seq().unwrap()[1];
        assert_eq!((second.origin.line, second.origin.col), (2, 3));
    }

    #[test]
    fn alias_limits_name_the_alias_that_crosses_them() {
        let nodes = Limits {
            max_alias_nodes: 3,
            ..Limits::default()
        };
        let (message, line, col) = first_error(
            "a: &a [1, 2]
b: [*a, *a]
",
            nodes,
        );
        assert_eq!(message, "YAML aliases expand to more than 3 nodes");
        assert_eq!((line, col), (2, 9));
        let bytes = Limits {
            max_alias_bytes: 10,
            ..Limits::default()
        };
        let (message, line, col) = first_error(
            "a: &a abcdefgh
b: [*a, *a]
",
            bytes,
        );
        assert!(
            message.starts_with("YAML aliases expand to more than "),
            "{message}"
        );
        assert_eq!((line, col), (2, 9));
    }

    #[test]
    fn depth_limit_names_the_level_that_crosses_it() {
        let limits = Limits {
            max_depth: 2,
            ..Limits::default()
        };
        let (message, line, col) = first_error(
            "a:
  b:
    c: 1
",
            limits,
        );
        assert_eq!(
            message,
            "the document nests too deeply (more than 2 levels)"
        );
        assert_eq!((line, col), (3, 5));
    }

    #[test]
    fn core_tags_must_agree_with_the_text() {
        let (message, line, col) = first_error(
            "a: 1
b: !!int x
",
            Limits::default(),
        );
        assert_eq!(message, "`x` is not a valid !!int");
        assert_eq!((line, col), (2, 4));
        let node = parse_str(
            "a: !!float 1
b: !!null ~
c: !!bool true
",
        )
        .unwrap();
        assert!(node.get("b").unwrap().is_null());
        let (message, ..) = first_error(
            "a: !!null x
",
            Limits::default(),
        );
        assert_eq!(message, "`x` is not a valid !!null");
        let (message, ..) = first_error(
            "a: !foo x
",
            Limits::default(),
        );
        assert_eq!(message, "unsupported YAML tag `!foo`");
    }

    #[test]
    fn several_documents_are_refused() {
        assert!(parse_str("a: 1\n---\nb: 2\n").is_err());
    }
}
