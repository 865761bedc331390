//! A YAML writer for JSON values that every reader agrees on.
//!
//! Kubernetes reads manifests with YAML 1.1 rules (sigs.k8s.io/yaml), where `on`, `y`,
//! `1:20` (sexagesimal 80) and `2024_1120` (an integer) are not strings; YAML 1.2 readers
//! disagree with it on each. So a string is written plain only when it cannot be read as
//! anything else under either version; otherwise it is quoted. Keys are sorted (the values
//! come from `serde_json::Map`, a `BTreeMap`), so output is deterministic.

use std::fmt::Write as _;

use serde_json::Value;

/// One YAML document (without the `---` line) for a value.
pub fn document(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(&mut out, map, 0),
        Value::Array(items) if !items.is_empty() => write_seq(&mut out, items, 0),
        other => {
            write_scalar(&mut out, other, 0);
            out.push('\n');
        }
    }
    out
}

fn indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn write_map(out: &mut String, map: &serde_json::Map<String, Value>, level: usize) {
    for (key, value) in map {
        indent(out, level);
        write_string(out, key, level, true);
        out.push(':');
        write_value_after_key(out, value, level);
    }
}

/// A value after `key:` or `- `: nested collections go on the next lines.
fn write_value_after_key(out: &mut String, value: &Value, level: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_map(out, map, level + 2);
        }
        // Sequences in a mapping are not indented (kubectl's style).
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_seq(out, items, level);
        }
        other => {
            out.push(' ');
            write_scalar(out, other, level + 2);
            out.push('\n');
        }
    }
}

fn write_seq(out: &mut String, items: &[Value], level: usize) {
    for item in items {
        indent(out, level);
        out.push('-');
        match item {
            Value::Object(map) if !map.is_empty() => {
                // The first entry shares the `- ` line; the rest align under it.
                let mut first = true;
                for (key, value) in map {
                    if first {
                        out.push(' ');
                        first = false;
                    } else {
                        indent(out, level + 2);
                    }
                    write_string(out, key, level + 2, true);
                    out.push(':');
                    write_value_after_key(out, value, level + 2);
                }
            }
            Value::Array(inner) if !inner.is_empty() => {
                out.push('\n');
                write_seq(out, inner, level + 2);
            }
            other => {
                out.push(' ');
                write_scalar(out, other, level + 2);
                out.push('\n');
            }
        }
    }
}

fn write_scalar(out: &mut String, value: &Value, level: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) => write_string(out, s, level, false),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
    }
}

/// Writes a string plain, single-quoted, as a literal block, or double-quoted: the first
/// that represents it exactly.
fn write_string(out: &mut String, s: &str, level: usize, key: bool) {
    if is_plain_safe(s) {
        out.push_str(s);
    } else if !key && is_block_safe(s) {
        write_block(out, s, level);
    } else if s.chars().all(|c| !c.is_control()) {
        out.push('\'');
        out.push_str(&s.replace('\'', "''"));
        out.push('\'');
    } else {
        // A JSON string is a valid YAML double-quoted scalar, escapes included.
        out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned()));
    }
}

/// A multi-line string as a literal block (`|`, `|-` or `|+`), when it can be one.
fn is_block_safe(s: &str) -> bool {
    s.contains('\n')
        && !s.starts_with([' ', '\t', '\n'])
        && s.chars().all(|c| c == '\n' || !c.is_control())
        && s.lines().all(|l| !l.ends_with([' ', '\t']))
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

/// Could a YAML 1.2 (core schema) or YAML 1.1 reader take this for a number or a date?
fn looks_numeric(s: &str) -> bool {
    use crate::node::{ScalarKind, resolve_plain};
    if matches!(resolve_plain(s), Some(ScalarKind::Int | ScalarKind::Float)) {
        return true;
    }
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let digits_and = |extra: &str| {
        body.chars()
            .all(|c| c.is_ascii_digit() || extra.contains(c))
    };
    // 1.1: 1_000, sexagesimal 1:20, binary 0b101, 1.1-style floats with `_`.
    (body.contains('_') && digits_and("_.")) || (body.contains(':') && digits_and(":._"))
        || body.strip_prefix("0b").is_some_and(|b| !b.is_empty() && b.chars().all(|c| c == '0' || c == '1' || c == '_'))
        // 1.1 timestamps: 2026-11-23, 2026-11-23T10:00:00Z.
        || (body.len() >= 8 && body.as_bytes()[..4].iter().all(u8::is_ascii_digit) && body.as_bytes()[4] == b'-'
            && body[5..].chars().next().is_some_and(|c| c.is_ascii_digit()))
}

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
    let mut previous = 0u8;
    for &c in bytes {
        let allowed = c.is_ascii_alphanumeric()
            || matches!(
                c,
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
        // `: ` starts a mapping value (`#` is never allowed, so ` #` cannot occur).
        if !allowed || (previous == b':' && c == b' ') {
            return false;
        }
        previous = c;
    }
    // Anything that could be a number, a date or a sexagesimal in some YAML version: quote.
    if (first.is_ascii_digit() || matches!(first, b'.' | b'+' | b'-')) && looks_numeric(s) {
        return false;
    }
    const KEYWORDS: [&str; 17] = [
        "y", "n", "yes", "no", "true", "false", "on", "off", "null", "nan", "inf", ".inf", "+.inf",
        "-.inf", ".nan", "---", "...",
    ];
    bytes.len() > 5 || !KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
                | "---"
                | "..."
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
        let back: Value = serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{e}:\n{text}"));
        assert_eq!(&back, value, "{text}");
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
            roundtrip(&json!({ "k": s, s: 1 }));
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
    fn nested_sequences_and_unicode() {
        roundtrip(&json!({"a": [[1, 2], [], [[3]]], "ü": "ünï", "e": "😀"}));
    }
}
