//! The document model every stage after parsing works on: a YAML tree whose every node knows
//! where it came from ([`Origin`]) and which origins it overrode during merging.
//!
//! Scalars keep their source text (`1.10` stays `1.10`, not `1.1`), so a value typed as a
//! string in the model gets exactly what the user wrote.

use indexmap::IndexMap;

use crate::origin::Origin;

pub type Map = IndexMap<String, Node>;

#[derive(Clone, Debug)]
pub struct Node {
    pub value: Value,
    /// Where the value was set. For a mapping entry this is the position of its key.
    pub origin: Origin,
    /// Tagged `!replace`: replaces what it is merged onto instead of merging into it.
    pub replace: bool,
    /// Taken as written (the body of a patch): replaces instead of merging, and its nulls
    /// are kept, because in a merge patch `null` means "delete this field".
    pub verbatim: bool,
    /// Origins of the values this one replaced during merging, most recent first.
    pub overridden: Vec<Origin>,
}

#[derive(Clone, Debug)]
pub enum Value {
    Null,
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Map),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Scalar {
    pub text: String,
    pub kind: ScalarKind,
}

/// How a scalar resolves under the YAML 1.2 core schema (quoted scalars are always strings).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarKind {
    Str,
    Bool,
    Int,
    Float,
    /// The output of a template: a string that may stand for a number or boolean where the
    /// model expects one (`replicas: "{{ tenant.vars.replicas }}"`).
    Rendered,
    /// A template not rendered yet (files are checked before templating): stands for any
    /// value of the type the model expects.
    Template,
}

impl Node {
    pub fn new(value: Value, origin: Origin) -> Self {
        Self {
            value,
            origin,
            replace: false,
            verbatim: false,
            overridden: Vec::new(),
        }
    }

    pub fn string(text: impl Into<String>, origin: Origin) -> Self {
        Self::new(
            Value::Scalar(Scalar {
                text: text.into(),
                kind: ScalarKind::Str,
            }),
            origin,
        )
    }

    pub fn empty_map(origin: Origin) -> Self {
        Self::new(Value::Map(Map::new()), origin)
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    pub fn as_map(&self) -> Option<&Map> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_map_mut(&mut self) -> Option<&mut Map> {
        match &mut self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The text of a scalar of any kind.
    pub fn as_scalar_text(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s) => Some(&s.text),
            _ => None,
        }
    }

    /// The list under `key` of a mapping, for editing in place.
    pub fn seq_mut(&mut self, key: &str) -> Option<&mut Vec<Node>> {
        match &mut self.as_map_mut()?.get_mut(key)?.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?.get(key)
    }

    /// A short description of the node's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Scalar(s) => match s.kind {
                ScalarKind::Str | ScalarKind::Rendered | ScalarKind::Template => "a string",
                ScalarKind::Bool => "a boolean",
                ScalarKind::Int => "an integer",
                ScalarKind::Float => "a number",
            },
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// Removes `key: null` entries (deletion markers) recursively: what remains is what a
    /// file sets. Used where a null has nothing left to delete.
    pub fn strip_nulls(&mut self) {
        if self.verbatim {
            return;
        }
        match &mut self.value {
            Value::Map(map) => {
                map.retain(|_, v| !v.is_null() || v.verbatim);
                for v in map.values_mut() {
                    v.strip_nulls();
                }
            }
            Value::Seq(items) => items.iter_mut().for_each(Node::strip_nulls),
            Value::Null | Value::Scalar(_) => {}
        }
    }

    /// Marks unrendered template strings as [`ScalarKind::Template`], for checking a file
    /// before templating.
    pub fn mark_templates(&mut self) {
        match &mut self.value {
            Value::Scalar(s) if s.kind == ScalarKind::Str && is_template(&s.text) => {
                s.kind = ScalarKind::Template;
            }
            Value::Map(map) => map.values_mut().for_each(Node::mark_templates),
            Value::Seq(items) => items.iter_mut().for_each(Node::mark_templates),
            Value::Null | Value::Scalar(_) => {}
        }
    }

    /// The number of nodes in this tree (used to bound alias expansion).
    pub fn size(&self) -> usize {
        1 + match &self.value {
            Value::Map(m) => m.values().map(Node::size).sum(),
            Value::Seq(s) => s.iter().map(Node::size).sum(),
            Value::Null | Value::Scalar(_) => 0,
        }
    }

    /// Converts to JSON, resolving scalars by their YAML type.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Scalar(s) => s.to_json(),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(map) => {
                J::Object(map.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }
}

impl Scalar {
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self.kind {
            ScalarKind::Str | ScalarKind::Rendered | ScalarKind::Template => {
                J::String(self.text.clone())
            }
            ScalarKind::Bool => J::Bool(matches!(self.text.as_str(), "true" | "True" | "TRUE")),
            ScalarKind::Int => parse_int(&self.text)
                .map(J::from)
                .or_else(|| parse_uint(&self.text).map(J::from))
                .unwrap_or_else(|| J::String(self.text.clone())),
            ScalarKind::Float => parse_float(&self.text)
                .and_then(serde_json::Number::from_f64)
                .map_or_else(|| J::String(self.text.clone()), J::Number),
        }
    }
}

/// Whether a string holds minijinja syntax.
pub fn is_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%") || text.contains("{#")
}

/// Parses a YAML 1.2 core-schema integer (decimal, `0x`, `0o`).
pub fn parse_int(text: &str) -> Option<i64> {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let magnitude = if let Some(hex) = digits.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()?
    } else if let Some(oct) = digits.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()?
    } else {
        digits.parse::<i64>().ok()?
    };
    Some(if negative { -magnitude } else { magnitude })
}

pub fn parse_uint(text: &str) -> Option<u64> {
    text.strip_prefix('+').unwrap_or(text).parse::<u64>().ok()
}

pub fn parse_float(text: &str) -> Option<f64> {
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => Some(f64::NAN),
        _ => text.parse::<f64>().ok(),
    }
}

/// Resolves a plain (unquoted) scalar under the YAML 1.2 core schema. `None` means null.
pub fn resolve_plain(text: &str) -> Option<ScalarKind> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return None,
        "true" | "True" | "TRUE" | "false" | "False" | "FALSE" => {
            return Some(ScalarKind::Bool);
        }
        _ => {}
    }
    if is_int(text) {
        Some(ScalarKind::Int)
    } else if is_float(text) {
        Some(ScalarKind::Float)
    } else {
        Some(ScalarKind::Str)
    }
}

fn is_int(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if let Some(hex) = digits.strip_prefix("0x") {
        return !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit());
    }
    if let Some(oct) = digits.strip_prefix("0o") {
        return !oct.is_empty() && oct.bytes().all(|b| (b'0'..=b'7').contains(&b));
    }
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

fn is_float(text: &str) -> bool {
    if matches!(
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
    ) {
        return true;
    }
    // [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
    let s = text.strip_prefix(['-', '+']).unwrap_or(text).as_bytes();
    let mut i = 0;
    let int_digits = s.iter().take_while(|b| b.is_ascii_digit()).count();
    i += int_digits;
    let mut frac_digits = 0;
    if s.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = s[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        i += frac_digits;
    }
    if int_digits == 0 && frac_digits == 0 {
        return false;
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(s.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        let exp = s[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        if exp == 0 {
            return false;
        }
        i += exp;
    }
    i == s.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_schema_resolution() {
        assert_eq!(resolve_plain("~"), None);
        assert_eq!(resolve_plain(""), None);
        assert_eq!(resolve_plain("true"), Some(ScalarKind::Bool));
        assert_eq!(resolve_plain("yes"), Some(ScalarKind::Str));
        assert_eq!(resolve_plain("8000"), Some(ScalarKind::Int));
        assert_eq!(resolve_plain("-0x1F"), Some(ScalarKind::Int));
        assert_eq!(resolve_plain("1.10"), Some(ScalarKind::Float));
        assert_eq!(resolve_plain("1e3"), Some(ScalarKind::Float));
        assert_eq!(resolve_plain("1.2.3"), Some(ScalarKind::Str));
        assert_eq!(resolve_plain("250m"), Some(ScalarKind::Str));
        assert_eq!(resolve_plain("."), Some(ScalarKind::Str));
        assert_eq!(parse_int("0o17"), Some(15));
        assert_eq!(parse_int("-12"), Some(-12));
    }
}
