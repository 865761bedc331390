//! A YAML writer for JSON values that every reader agrees on.
//!
//! Kubernetes and Argo CD read manifests with YAML 1.1 rules (sigs.k8s.io/yaml, i.e. go-yaml):
//! `on`, `y`, `0X1F`, `0x_1F`, `1:20` (sexagesimal 80) and `2024_1120` are not strings there,
//! and U+0085, U+2028 and U+2029 break lines; YAML 1.2 readers disagree with it on each. The
//! writer guarantees that for every string, as a key or a value, both read back exactly that
//! string:
//! - plain only for a conservative subset of ASCII that no reader resolves to another type;
//! - a literal block (`|`) only for multi-line text of printable characters and `\n`;
//! - single quotes only for printable characters on one line;
//! - otherwise double quotes, with every character that is not printable in both YAML 1.1 and
//!   1.2 (C0, DEL, C1, the line breaks above, BOM, U+FFFE/U+FFFF) escaped as `\uXXXX`.
//!
//! Keys longer than an implicit key may be (1024 characters) are written as explicit keys
//! (`? key`). Keys are sorted (the values come from `serde_json::Map`, a `BTreeMap`), so
//! output is deterministic. A [`Node`] tree ([`node_document`]: files stencil writes for
//! people, such as SOPS files, whose MAC depends on the order) keeps its keys' order, and its
//! numbers and booleans are written as their source text.

use std::fmt::Write as _;

use serde_json::Value;

use crate::node::{Node, ScalarKind, Value as NodeValue};

/// The longest key written as an implicit key (`key: value`); YAML allows 1024 characters,
/// this counts bytes.
const MAX_IMPLICIT_KEY: usize = 1000;

/// One YAML document (without the `---` line) for a value.
pub fn document(value: &Value) -> String {
    write_document(value)
}

/// One YAML document for a [`Node`] tree: keys in the tree's order (a SOPS file's MAC
/// depends on it), scalars other than strings as written.
pub fn node_document(node: &Node) -> String {
    write_document(node)
}

/// What the writer needs of a tree, so that JSON values (keys sorted) and [`Node`]s (keys in
/// their order) are written by the same code.
trait Tree: Sized {
    /// A non-empty mapping's entries, in the order they are written.
    fn entries(&self) -> Option<impl Iterator<Item = (&str, &Self)>>;
    /// A non-empty sequence's items.
    fn items(&self) -> Option<&[Self]>;
    /// Anything else: a scalar, or an empty collection (`{}`, `[]`).
    fn write_scalar(&self, out: &mut String, block: Option<usize>);
}

impl Tree for Value {
    fn entries(&self) -> Option<impl Iterator<Item = (&str, &Self)>> {
        match self {
            Value::Object(map) if !map.is_empty() => Some(map.iter().map(|(k, v)| (k.as_str(), v))),
            _ => None,
        }
    }

    fn items(&self) -> Option<&[Self]> {
        match self {
            Value::Array(items) if !items.is_empty() => Some(items),
            _ => None,
        }
    }

    fn write_scalar(&self, out: &mut String, block: Option<usize>) {
        write_scalar(out, self, block);
    }
}

impl Tree for Node {
    fn entries(&self) -> Option<impl Iterator<Item = (&str, &Self)>> {
        match &self.value {
            NodeValue::Map(map) if !map.is_empty() => {
                Some(map.iter().map(|(k, v)| (k.as_str(), v)))
            }
            _ => None,
        }
    }

    fn items(&self) -> Option<&[Self]> {
        match &self.value {
            NodeValue::Seq(items) if !items.is_empty() => Some(items),
            _ => None,
        }
    }

    fn write_scalar(&self, out: &mut String, block: Option<usize>) {
        match &self.value {
            NodeValue::Null => out.push_str("null"),
            NodeValue::Scalar(s) => match s.kind {
                ScalarKind::Bool | ScalarKind::Int | ScalarKind::Float => out.push_str(&s.text),
                ScalarKind::Str | ScalarKind::Rendered | ScalarKind::Template => {
                    if is_plain_in_block(&s.text) {
                        out.push_str(&s.text);
                    } else {
                        write_string(out, &s.text, block);
                    }
                }
            },
            NodeValue::Map(_) => out.push_str("{}"),
            NodeValue::Seq(_) => out.push_str("[]"),
        }
    }
}

/// Plain in block context, where a [`Node`] tree's values always are (the writer writes no
/// flow collections): a letter, then letters, digits and `[]_,:+/=-.`, no `:` at the end. That
/// is how sops writes `ENC[AES256_GCM,data:…,iv:…,tag:…,type:str]`; `[`, `]` and `,` only
/// matter in flow context, and no keyword or number starts with a letter and holds a bracket.
fn is_plain_in_block(s: &str) -> bool {
    let bytes = s.as_bytes();
    bytes.first().is_some_and(u8::is_ascii_alphabetic)
        && bytes.contains(&b'[')
        && !s.ends_with(':')
        && bytes
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || b"[]_,:+/=-.".contains(c))
}

/// Room a document starts with: most rendered objects fit, so few grow (and copy) at all.
const DOCUMENT_CAPACITY: usize = 1024;

fn write_document<T: Tree>(tree: &T) -> String {
    let mut out = String::with_capacity(DOCUMENT_CAPACITY);
    if let Some(entries) = tree.entries() {
        write_map(&mut out, entries, 0);
    } else if let Some(items) = tree.items() {
        write_seq(&mut out, items, 0);
    } else {
        // A block scalar at column 0 could hold a `---` line: quote instead.
        tree.write_scalar(&mut out, None);
        out.push('\n');
    }
    out
}

fn indent(out: &mut String, n: usize) {
    const SPACES: &str = "                                                                ";
    let mut left = n;
    while left > 0 {
        let step = left.min(SPACES.len());
        out.push_str(&SPACES[..step]);
        left -= step;
    }
}

fn write_map<'a, T: Tree + 'a>(
    out: &mut String,
    entries: impl Iterator<Item = (&'a str, &'a T)>,
    level: usize,
) {
    for (key, value) in entries {
        indent(out, level);
        write_entry(out, key, value, level);
    }
}

/// `key: value`, the key starting at the current position, which is column `level`.
fn write_entry<T: Tree>(out: &mut String, key: &str, value: &T, level: usize) {
    let start = out.len();
    write_string(out, key, None);
    if out.len() - start > MAX_IMPLICIT_KEY {
        // Readers refuse longer implicit keys (PyYAML, go-yaml: "could not find expected ':'").
        out.insert_str(start, "? ");
        out.push('\n');
        indent(out, level);
    }
    out.push(':');
    write_value_after_key(out, value, level);
}

/// A value after `key:` or `- `: nested collections go on the next lines.
fn write_value_after_key<T: Tree>(out: &mut String, value: &T, level: usize) {
    if let Some(entries) = value.entries() {
        out.push('\n');
        write_map(out, entries, level + 2);
    } else if let Some(items) = value.items() {
        // Sequences in a mapping are not indented (kubectl's style).
        out.push('\n');
        write_seq(out, items, level);
    } else {
        out.push(' ');
        value.write_scalar(out, Some(level + 2));
        out.push('\n');
    }
}

fn write_seq<T: Tree>(out: &mut String, items: &[T], level: usize) {
    for item in items {
        indent(out, level);
        out.push('-');
        if let Some(entries) = item.entries() {
            // The first entry shares the `- ` line; the rest align under it.
            let mut first = true;
            for (key, value) in entries {
                if first {
                    out.push(' ');
                    first = false;
                } else {
                    indent(out, level + 2);
                }
                write_entry(out, key, value, level + 2);
            }
        } else if let Some(inner) = item.items() {
            out.push('\n');
            write_seq(out, inner, level + 2);
        } else {
            out.push(' ');
            item.write_scalar(out, Some(level + 2));
            out.push('\n');
        }
    }
}

/// A scalar; `block` is the indentation a literal block would take, `None` where none may
/// be written (keys, a document that is a scalar).
fn write_scalar(out: &mut String, value: &Value, block: Option<usize>) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_string(out, s, block),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
    }
}

/// A number as JSON writes it, except that a float with an exponent gets a `.` in its
/// mantissa and a sign in its exponent (`1e-7` -> `1.0e-7`, `1e300` -> `1.0e+300`): YAML 1.1
/// (PyYAML) reads a float only in that form, and `1e300` as a string.
fn write_number(out: &mut String, n: &serde_json::Number) {
    let start = out.len();
    let _ = write!(out, "{n}");
    if !n.is_f64() {
        return;
    }
    let text = out.split_off(start);
    match text.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => {
            out.push_str(mantissa);
            if !mantissa.contains('.') {
                out.push_str(".0");
            }
            out.push('e');
            if !exponent.starts_with(['-', '+']) {
                out.push('+');
            }
            out.push_str(exponent);
        }
        None => out.push_str(&text),
    }
}

/// Writes a string plain, as a literal block, single-quoted, or double-quoted: the first
/// that every reader reads back as exactly this string.
fn write_string(out: &mut String, s: &str, block: Option<usize>) {
    if is_plain_safe(s) {
        out.push_str(s);
    } else if let Some(level) = block.filter(|_| is_block_safe(s)) {
        write_block(out, s, level);
    } else if s.chars().all(is_printable) {
        out.push('\'');
        out.push_str(&s.replace('\'', "''"));
        out.push('\'');
    } else {
        write_double_quoted(out, s);
    }
}

/// Whether every YAML reader takes `c` as itself inside a quoted or block scalar: YAML 1.2's
/// `c-printable` (the same set as YAML 1.1's) without tab, CR and LF, the line breaks of
/// YAML 1.1 (U+0085, U+2028, U+2029) and the byte order mark (go-yaml skips one at the start
/// of a line).
pub fn is_printable(c: char) -> bool {
    matches!(c,
        ' '..='~'
        | '\u{a0}'..='\u{2027}'
        | '\u{202a}'..='\u{d7ff}'
        | '\u{e000}'..='\u{fefe}'
        | '\u{ff00}'..='\u{fffd}'
        | '\u{10000}'..='\u{10ffff}')
}

/// A string as a one-line scalar for code that edits YAML text by hand (`bump`,
/// `tenant add`): plain when [`is_plain_safe`] and not holding a `,` (which would end it in
/// a flow collection), double-quoted otherwise. Reads back exactly, in block and flow context.
pub fn inline_scalar(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    if is_plain_safe(s) && !s.contains(',') {
        out.push_str(s);
    } else {
        write_double_quoted(&mut out, s);
    }
    out
}

/// A double-quoted scalar on one line. Escapes are those of JSON (what the writer used
/// before, so output for ordinary strings is unchanged) plus `\uXXXX` for every other
/// character that is not printable; YAML 1.1 and 1.2 readers all decode these.
fn write_double_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if is_printable(c) => out.push(c),
            c if u32::from(c) <= 0xffff => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => {
                let _ = write!(out, "\\U{:08x}", u32::from(c));
            }
        }
    }
    out.push('"');
}

/// A multi-line string as a literal block (`|`, `|-` or `|+`), when it can be one: printable
/// characters and `\n` only, no leading space or newline (the indentation would be
/// misread), no line with trailing spaces (editors and linters strip them).
fn is_block_safe(s: &str) -> bool {
    s.contains('\n')
        && !s.starts_with([' ', '\n'])
        && s.chars().all(|c| c == '\n' || is_printable(c))
        && s.split('\n').all(|l| !l.ends_with(' '))
}

fn write_block(out: &mut String, s: &str, level: usize) {
    let body = s.trim_end_matches('\n');
    let trailing = s.len() - body.len();
    out.push_str(match trailing {
        0 => "|-",
        1 => "|",
        _ => "|+",
    });
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            indent(out, level);
            out.push_str(line);
        }
    }
    for _ in 1..trailing {
        out.push('\n');
    }
}

/// Could some YAML reader take this plain scalar for a number or a date? Each reader's
/// rules, widened so that a near miss is quoted too:
/// - go-yaml (Kubernetes, Argo CD) removes every `_`, then takes Go integer syntax: `0x`,
///   `0o`, `0b` in either case, a leading `0` for octal, a sign; failing that a float, even
///   `08`; and timestamps from `2006-1-2` on;
/// - PyYAML (YAML 1.1) reads `1_000`, `0b1_0`, sexagesimal `1:20` and `1:20.5`, `1.`;
/// - YAML 1.2 readers (ruamel.yaml, yaml-rust2) read `1e3`, `0o17`, and ruamel `._5`.
fn looks_numeric(s: &str) -> bool {
    use crate::node::{ScalarKind, resolve_plain};
    // Whatever stencil's own reader resolves to something else than a string.
    if !matches!(resolve_plain(s), Some(ScalarKind::Str)) {
        return true;
    }
    let body = s.strip_prefix(['-', '+']).unwrap_or(s).as_bytes();
    // Timestamps: 2026-11-23, 2026-1-2, 2026-11-23T10:00:00Z.
    if body.len() >= 8
        && body[..4].iter().all(u8::is_ascii_digit)
        && body[4] == b'-'
        && body[5].is_ascii_digit()
    {
        return true;
    }
    // Sexagesimal: 1:20, 190:20:30.15.
    if body.contains(&b':')
        && body
            .iter()
            .all(|c| c.is_ascii_digit() || matches!(c, b':' | b'.' | b'_'))
    {
        return true;
    }
    // The rest is read without `_`, in any case.
    let t: Vec<u8> = body
        .iter()
        .filter(|&&c| c != b'_')
        .map(u8::to_ascii_lowercase)
        .collect();
    if let Some(digits) = t
        .strip_prefix(b"0x")
        .or_else(|| t.strip_prefix(b"0o"))
        .or_else(|| t.strip_prefix(b"0b"))
    {
        return digits.iter().all(u8::is_ascii_hexdigit);
    }
    if matches!(t.as_slice(), b".inf" | b".nan") {
        return true;
    }
    // [0-9]* (. [0-9]*)? (e [-+]? [0-9]*)? with a digit or an `_` somewhere.
    let digits = |i: usize| i + t[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut i = digits(0);
    if t.get(i) == Some(&b'.') {
        i = digits(i + 1);
    }
    if t.get(i) == Some(&b'e') {
        i += 1;
        if matches!(t.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        i = digits(i);
    }
    i == t.len() && body.iter().any(|c| c.is_ascii_digit() || *c == b'_')
}

/// The bytes a plain scalar may hold anywhere: ASCII letters and digits and
/// `-_./@+,:=()~%` and space. A table, not a chain of comparisons: every string of every
/// object goes through here.
const PLAIN_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        table[c] = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'_'
                    | b'.'
                    | b'/'
                    | b'@'
                    | b'+'
                    | b','
                    | b':'
                    | b'='
                    | b'('
                    | b')'
                    | b'~'
                    | b'%'
                    | b' '
            );
        c += 1;
    }
    table
};

/// Plain when it cannot be read as anything but this string, under YAML 1.1 or 1.2.
///
/// One pass over the bytes: this runs for every string of every object.
pub fn is_plain_safe(s: &str) -> bool {
    let bytes = s.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    let starts_ok = first.is_ascii_alphanumeric()
        || matches!(first, b'/' | b'_' | b'.' | b'+')
        || (first == b'-' && bytes.get(1).is_some_and(|&c| c != b' '));
    if !starts_ok || matches!(last, b' ' | b':') {
        return false;
    }
    // `---` and `...` at the start of a line end a document.
    if bytes.starts_with(b"---") || bytes.starts_with(b"...") {
        return false;
    }
    let mut previous = 0u8;
    for &c in bytes {
        // `: ` starts a mapping value (`#` is never allowed, so ` #` cannot occur).
        if !PLAIN_BYTES[usize::from(c)] || (previous == b':' && c == b' ') {
            return false;
        }
        previous = c;
    }
    // Anything that could be a number, a date or a sexagesimal in some YAML version: quote.
    if (first.is_ascii_digit() || matches!(first, b'.' | b'+' | b'-')) && looks_numeric(s) {
        return false;
    }
    const KEYWORDS: [&str; 15] = [
        "y", "n", "yes", "no", "true", "false", "on", "off", "null", "nan", "inf", ".inf", "+.inf",
        "-.inf", ".nan",
    ];
    bytes.len() > 5 || !KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn node_trees_keep_their_order_and_write_sops_values_plain() {
        let text = "b: ENC[AES256_GCM,data:eA==,iv:AQ==,tag:Ag==,type:str]\na: 0x1F\nc: '[x]'\nd: 'yes'\ne: [1, true]\n";
        let file = crate::origin::SourceFile::new("x.yaml", text);
        let node = crate::yaml::read::parse(&file, crate::load::Limits::default()).expect("YAML");
        assert_eq!(
            node_document(&node),
            "b: ENC[AES256_GCM,data:eA==,iv:AQ==,tag:Ag==,type:str]\na: 0x1F\nc: '[x]'\nd: 'yes'\ne:\n- 1\n- true\n"
        );
        for s in ["ENC[a,b:c]", "x[1]"] {
            assert!(is_plain_in_block(s), "{s}");
        }
        for s in ["[x]", "ENC[a b]", "a[b]:", "yes", "1[2]", "a#[b]"] {
            assert!(!is_plain_in_block(s), "{s}");
        }
    }

    /// The straightforward form `is_plain_safe` was optimized from; they must agree.
    fn reference_is_plain_safe(s: &str) -> bool {
        let mut chars = s.chars();
        let Some(first) = chars.next() else {
            return false;
        };
        let second = chars.next();
        let starts_ok = first.is_ascii_alphanumeric()
            || matches!(first, '/' | '_' | '.' | '+')
            || (first == '-' && second.is_some_and(|c| c != ' '));
        if !starts_ok || s.ends_with([' ', ':']) || s.contains(": ") || s.contains(" #") {
            return false;
        }
        if s.starts_with("---") || s.starts_with("...") {
            return false;
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./@+,:=()~% ".contains(c))
        {
            return false;
        }
        // Anything that could be a number, a date or a sexagesimal in some YAML version: quote.
        if (first.is_ascii_digit() || matches!(first, '.' | '+' | '-')) && looks_numeric(s) {
            return false;
        }
        let lower = s.to_ascii_lowercase();
        !matches!(
            lower.as_str(),
            "y" | "n"
                | "yes"
                | "no"
                | "true"
                | "false"
                | "on"
                | "off"
                | "null"
                | "nan"
                | "inf"
                | ".inf"
                | "+.inf"
                | "-.inf"
                | ".nan"
        )
    }

    #[test]
    fn is_plain_safe_agrees_with_its_reference_on_every_short_string() {
        let alphabet = [
            "a", "Y", "1", "0", " ", ":", "#", "-", ".", "+", "e", "x", "_", "/", "~", "é", "n",
            "o", "\t",
        ];
        let mut strings = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = strings
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            strings.extend(longer);
            strings.sort();
            strings.dedup();
        }
        strings.extend(["yes", "No", "TRUE", "off", "+.inf", "..."].map(String::from));
        assert!(strings.len() > 100_000);
        for s in &strings {
            assert_eq!(is_plain_safe(s), reference_is_plain_safe(s), "{s:?}");
        }
    }

    fn roundtrip(value: &Value) {
        let text = document(value);
        assert_eq!(&read_back(&text), value, "{text}");
    }

    #[test]
    fn ambiguous_strings_are_quoted() {
        for s in [
            "on",
            "Off",
            "y",
            "N",
            "yes",
            "true",
            "null",
            "~",
            "",
            "1:20",
            "20241120_1234",
            "0x1F",
            "0o17",
            "017",
            "1e3",
            ".inf",
            "-.5",
            "+1",
            "=",
            "<<",
            "- x",
            "a: b",
            "a #b",
            "#c",
            "&a",
            "*a",
            "!t",
            "%x",
            "@x",
            "`x",
            "{a}",
            "[a]",
            "'q'",
            "\"d\"",
            "a:",
            " lead",
            "trail ",
            "2026-11-23",
            "12:30:45",
            "1_000",
            ".NaN",
            "-.Inf",
            "+.5",
            "-",
            "---",
            "...",
            "-1",
            "0b101",
            "1.5e-3",
            "190:20:30.15",
        ] {
            let text = document(&json!({ "k": s }));
            assert!(
                !text.starts_with(&format!("k: {s}\n")) || s.is_empty(),
                "{s:?} left plain: {text}"
            );
            roundtrip(&json!({ "k": s }));
            // stencil's reader refuses a `<<` key even quoted (go-yaml v2 merges it).
            if s != "<<" {
                roundtrip(&json!({ "k": s, s: 1 }));
            }
        }
    }

    #[test]
    fn ordinary_strings_stay_plain() {
        assert_eq!(
            document(&json!({"image": "r.example.com/api:v1.2"})),
            "image: r.example.com/api:v1.2\n"
        );
        assert_eq!(
            document(&json!({"url": "http://auth.ns.svc:9000"})),
            "url: http://auth.ns.svc:9000\n"
        );
        assert_eq!(document(&json!({"a": "hello world"})), "a: hello world\n");
        for plain in [
            "1Gi",
            "250m",
            "25%",
            "--config",
            "-Xmx512m",
            "012345678901.dkr.ecr.us-east-1.amazonaws.com/api:1.0",
            "v1.8.2",
            "app.main:app",
        ] {
            assert_eq!(document(&json!({ "k": plain })), format!("k: {plain}\n"));
        }
    }

    #[test]
    fn layout_matches_kubectl() {
        let value = json!({
            "spec": {"containers": [{"name": "a", "args": ["x", "w"], "env": []}], "empty": {}},
            "m": 1, "b": false, "z": null
        });
        assert_eq!(
            document(&value),
            "b: false\nm: 1\nspec:\n  containers:\n  - args:\n    - x\n    - w\n    env: []\n    name: a\n  empty: {}\nz: null\n"
        );
        roundtrip(&value);
    }

    #[test]
    fn multiline_and_control_characters() {
        for s in [
            "a\nb\n",
            "a\nb",
            "a\n\n",
            "x:\n  y: 1\n",
            "tab\there",
            "bell\u{7}",
            " lead\nx",
            "trail \nx",
            "\n",
        ] {
            roundtrip(&json!({ "k": s, "list": [s] }));
        }
        assert_eq!(document(&json!({"k": "a\nb\n"})), "k: |\n  a\n  b\n");
    }

    #[test]
    fn floats_with_exponents_are_floats_in_yaml_1_1() {
        for (f, text) in [
            (1e300, "1.0e+300"),
            (1e-7, "1.0e-7"),
            (1.5e-7, "1.5e-7"),
            (-2.5e20, "-2.5e+20"),
            (0.5, "0.5"),
            (3.0, "3.0"),
        ] {
            let value = json!({ "k": f });
            assert_eq!(document(&value), format!("k: {text}\n"));
            roundtrip(&value);
        }
    }

    #[test]
    fn inline_scalars_read_back_in_block_and_flow_context() {
        for s in [
            "v1.2",
            "a,b",
            "1.0",
            "0X1F",
            "x\u{2028}y",
            "q\"uote",
            "back\\slash",
            "\u{85}",
            "",
            "\u{7f}\u{feff}\u{fffe}",
            "[a]",
            "é",
        ] {
            let text = inline_scalar(s);
            assert!(
                !text.contains(['\n', '\u{2028}', '\u{85}', '\u{7f}']),
                "{text}"
            );
            let flow = format!("k: [{text}, {{a: {text}}}]\n");
            roundtrip_text(&flow, &json!({"k": [s, {"a": s}]}));
            roundtrip_text(&format!("k: {text}\n"), &json!({ "k": s }));
        }
        assert_eq!(inline_scalar("v1.2"), "v1.2");
        assert_eq!(inline_scalar("1.0"), "\"1.0\"");
    }

    fn roundtrip_text(text: &str, value: &Value) {
        assert_eq!(&read_back(text), value, "{text}");
    }

    /// The text read back by stencil's own reader. Independent readers (PyYAML, ruamel,
    /// go-yaml through kubectl, serde_yaml) check the writer in tests/it/writer.rs and
    /// tests/differential.
    fn read_back(text: &str) -> Value {
        let file = crate::origin::SourceFile::new("out.yaml", text.to_owned());
        crate::yaml::read::parse(&file, crate::yaml::read::Limits::default())
            .unwrap_or_else(|e| panic!("{e}:\n{text}"))
            .to_json()
    }

    #[test]
    fn nested_sequences_and_unicode() {
        roundtrip(&json!({"a": [[1, 2], [], [[3]]], "ü": "ünï", "e": "😀"}));
    }
}
