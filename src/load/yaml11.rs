//! YAML 1.1 scalars as go-yaml v2 resolves them (Helm reads values files with it): a plain
//! `yes`/`no`/`on`/`off`/`y`/`n` is a boolean, `0755` is octal, `0x1F` hex, `0b101` binary,
//! `1_000` a thousand, `08` and `1e3` floats. Quoted, block and tagged scalars keep what the
//! YAML 1.2 parser made of them.
//!
//! A pass over a parsed tree: a scalar is plain when its source text at its origin does not
//! start with a quote, a block indicator or a tag. Resolved scalars get canonical text
//! (`0755` -> `493`, `yes` -> `true`), so every later step reads them as YAML 1.2.

use crate::node::{Node, Scalar, ScalarKind, Value};

/// Re-resolves every plain scalar of `node` under YAML 1.1 rules.
pub fn resolve(node: &mut Node) {
    match &mut node.value {
        Value::Map(map) => map.values_mut().for_each(resolve),
        Value::Seq(items) => items.iter_mut().for_each(resolve),
        Value::Null => {}
        Value::Scalar(scalar) => {
            if is_plain(node_source(&node.origin)) {
                if let Some(resolved) = resolve_plain(&scalar.text) {
                    *scalar = resolved;
                }
            }
        }
    }
}

/// The source text from a node's origin to the end of its line.
fn node_source(origin: &crate::origin::Origin) -> &str {
    let line = origin.file.line(origin.line).unwrap_or("");
    let skip = origin.col.saturating_sub(1) as usize;
    line.char_indices()
        .nth(skip)
        .map_or("", |(index, _)| &line[index..])
}

/// Whether the scalar written at the start of `source` is plain (after an anchor).
fn is_plain(source: &str) -> bool {
    let mut rest = source;
    if let Some(anchored) = rest.strip_prefix('&') {
        rest = anchored
            .trim_start_matches(|c: char| !c.is_whitespace())
            .trim_start();
    }
    !rest.starts_with(['\'', '"', '|', '>', '!'])
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
