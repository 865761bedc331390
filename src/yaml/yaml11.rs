//! YAML 1.1 scalars as go-yaml v2 resolves them (Helm reads values files with it): a plain
//! `yes`/`no`/`on`/`off`/`y`/`n` is a boolean, `0755` is octal, `0x1F` hex, `0b101` binary,
//! `1_000` a thousand, `08` and `1e3` floats. Quoted, block and tagged scalars keep what the
//! YAML 1.2 parser made of them.
//!
//! A pass over a parsed tree. Which scalars are plain is read from the parser's events for
//! the same text (a node's origin cannot tell: a mapping value's origin is its key), walked
//! in step with the tree: mappings value by value, sequences item by item, aliases as the
//! node they stand for. Resolved scalars get canonical text (`0755` -> `493`, `yes` ->
//! `true`), so every later step reads them as YAML 1.2.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle};

use crate::node::{Node, Scalar, ScalarKind, Value};

/// The shape of a document as the parser saw it: for each scalar, whether it is plain and
/// untagged; for each mapping, its values in order.
#[derive(Clone, Debug)]
enum Style {
    Plain,
    Other,
    Seq(Vec<Style>),
    Map(Vec<Style>),
}

/// Re-resolves every plain scalar of `node` (parsed from `text`) under YAML 1.1 rules.
pub fn resolve(node: &mut Node, text: &str) {
    if let Some(style) = styles(text) {
        apply(node, &style);
    }
}

fn apply(node: &mut Node, style: &Style) {
    match (&mut node.value, style) {
        (Value::Map(map), Style::Map(values)) => {
            for (value, style) in map.values_mut().zip(values) {
                apply(value, style);
            }
        }
        (Value::Seq(items), Style::Seq(styles)) => {
            for (item, style) in items.iter_mut().zip(styles) {
                apply(item, style);
            }
        }
        (Value::Scalar(scalar), Style::Plain) => {
            if let Some(resolved) = resolve_plain(&scalar.text) {
                *scalar = resolved;
            }
        }
        _ => {}
    }
}

/// An open collection: its anchor, what it holds so far, and (for a mapping) whether the
/// next node is a key.
enum Frame {
    Seq(usize, Vec<Style>),
    Map(usize, Vec<Style>, bool),
}

/// The document's [`Style`] tree; `None` if the text does not parse (it did once already).
fn styles(text: &str) -> Option<Style> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Style> = HashMap::new();
    let mut done = None;
    for next in Parser::new_from_str(text) {
        let (event, _) = next.ok()?;
        let (style, anchor) = match event {
            Event::Scalar(_, scalar_style, anchor, tag) => {
                let plain = scalar_style == ScalarStyle::Plain && tag.is_none();
                (if plain { Style::Plain } else { Style::Other }, anchor)
            }
            Event::Alias(id) => (anchors.get(&id)?.clone(), 0),
            Event::SequenceStart(anchor, _) => {
                stack.push(Frame::Seq(anchor, Vec::new()));
                continue;
            }
            Event::MappingStart(anchor, _) => {
                stack.push(Frame::Map(anchor, Vec::new(), true));
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop()? {
                Frame::Seq(anchor, items) => (Style::Seq(items), anchor),
                Frame::Map(anchor, values, _) => (Style::Map(values), anchor),
            },
            _ => continue,
        };
        if anchor != 0 {
            anchors.insert(anchor, style.clone());
        }
        match stack.last_mut() {
            None => done = Some(style),
            Some(Frame::Seq(_, items)) => items.push(style),
            Some(Frame::Map(_, values, expect_key)) => {
                if !*expect_key {
                    values.push(style);
                }
                *expect_key = !*expect_key;
            }
        }
    }
    done
}

/// A plain scalar under go-yaml v2's rules; `None` when it is what YAML 1.2 made of it.
fn resolve_plain(text: &str) -> Option<Scalar> {
    let scalar = |text: String, kind| Some(Scalar { text, kind });
    match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => {
            return scalar("true".into(), ScalarKind::Bool);
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => {
            return scalar("false".into(), ScalarKind::Bool);
        }
        _ => {}
    }
    if !text.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '-' | '+' | '.')) {
        return None;
    }
    let plain = text.replace('_', "");
    if let Some(int) = go_int(&plain) {
        return scalar(int, ScalarKind::Int);
    }
    if is_go_float(&plain) && plain.parse::<f64>().is_ok() {
        return scalar(plain, ScalarKind::Float);
    }
    None
}

/// Go's `strconv.ParseInt(text, 0, 64)` (or `ParseUint`), as canonical decimal text.
fn go_int(text: &str) -> Option<String> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let lower = digits.to_ascii_lowercase();
    let (radix, body) = if let Some(hex) = lower.strip_prefix("0x") {
        (16, hex)
    } else if let Some(oct) = lower.strip_prefix("0o") {
        (8, oct)
    } else if let Some(bin) = lower.strip_prefix("0b") {
        (2, bin)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if body.is_empty() || body.starts_with(['-', '+']) {
        return None;
    }
    let magnitude = u64::from_str_radix(body, radix).ok()?;
    if negative {
        let value = i64::try_from(magnitude)
            .ok()
            .map(|m| -m)
            .or_else(|| (magnitude == 1 << 63).then_some(i64::MIN))?;
        Some(value.to_string())
    } else {
        Some(magnitude.to_string())
    }
}

/// go-yaml v2's `yamlStyleFloat`: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
fn is_go_float(text: &str) -> bool {
    let s = text.strip_prefix(['-', '+']).unwrap_or(text).as_bytes();
    let digits = |from: usize| from + s[from..].iter().take_while(|b| b.is_ascii_digit()).count();
    let int_end = digits(0);
    let mut i = int_end;
    if s.get(i) == Some(&b'.') {
        let frac_end = digits(i + 1);
        if int_end == 0 && frac_end == i + 1 {
            return false;
        }
        i = frac_end;
    } else if int_end == 0 {
        return false;
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(s.get(j), Some(b'-' | b'+')) {
            j += 1;
        }
        let end = digits(j);
        if end == j {
            return false;
        }
        i = end;
    }
    i == s.len()
}

#[cfg(test)]
mod tests {
    use crate::load::file::{Schema, parse_bytes};

    fn json(text: &str) -> serde_json::Value {
        parse_bytes("values.yaml", text.as_bytes().to_vec(), Schema::Yaml11)
            .expect("YAML")
            .to_json()
    }

    #[test]
    fn plain_scalars_resolve_as_go_yaml_v2_reads_them() {
        let v = json(
            "a: yes\nb: off\nc: 0755\nd: 0x1F\ne: 1_000\nf: 08\ng: 1e3\nh: y\ni: 0b101\nj: -010\nk: 1.5\n",
        );
        assert_eq!(
            v,
            serde_json::json!({
                "a": true, "b": false, "c": 493, "d": 31, "e": 1000, "f": 8.0, "g": 1000.0,
                "h": true, "i": 5, "j": -8, "k": 1.5
            })
        );
    }

    #[test]
    fn quoted_block_tagged_and_other_scalars_keep_their_meaning() {
        let v = json(
            "a: 'yes'\nb: \"0755\"\nc: !!str on\nd: |\n  no\ne: &x yes\nf: *x\ng: nothing\nh: 1.2.3\ni: ~\nj: true\nk: 0.5.0\n",
        );
        assert_eq!(
            v,
            serde_json::json!({
                "a": "yes", "b": "0755", "c": "on", "d": "no\n", "e": true, "f": true,
                "g": "nothing", "h": "1.2.3", "i": null, "j": true, "k": "0.5.0"
            })
        );
    }

    #[test]
    fn sequences_and_nested_mappings_are_resolved_too() {
        let v = json("list: [on, 'on', 017]\nnested:\n  flag: NO\n");
        assert_eq!(
            v,
            serde_json::json!({ "list": [true, "on", 15], "nested": { "flag": false } })
        );
    }
}
