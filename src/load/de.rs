//! Typed views of a [`Node`] tree through serde, with errors that point into the input:
//! a wrong type names the value's file:line:col, an unknown key names the key and suggests
//! the closest known one.
//!
//! Any scalar is accepted where a string is expected (`PORT: 8000` in env just works), using
//! the text as written; a string is never accepted where a number or boolean is expected.

use std::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};

use crate::error::{Diagnostic, did_you_mean};
use crate::node::{Node, ScalarKind, Value, parse_float, parse_int, parse_uint};
use crate::origin::Origin;

/// A deserialization problem, located once the innermost node that failed is known.
#[derive(Debug)]
pub struct DeError {
    message: String,
    hint: Option<String>,
    origin: Option<Origin>,
}

impl DeError {
    fn locate(mut self, origin: &Origin) -> Self {
        if self.origin.is_none() {
            self.origin = Some(origin.clone());
        }
        self
    }

    pub fn into_diagnostic(self, what: &str) -> Diagnostic {
        let message = humanize(&self.message);
        let mut d = Diagnostic::new(format!("{what}: {message}")).at_opt(self.origin.as_ref());
        if let Some(hint) = self.hint {
            d = d.hint(hint);
        }
        d
    }
}

/// serde names Rust types (`expected u16`); say what a YAML author can act on.
fn humanize(message: &str) -> String {
    const TYPES: [(&str, &str); 10] = [
        ("expected u8", "expected an integer from 0 to 255"),
        ("expected u16", "expected an integer from 0 to 65535"),
        ("expected u32", "expected a non-negative integer"),
        ("expected u64", "expected a non-negative integer"),
        ("expected i32", "expected an integer"),
        ("expected i64", "expected an integer"),
        ("expected f64", "expected a number"),
        ("expected a boolean", "expected true or false"),
        ("invalid type: sequence", "invalid type: a list"),
        ("invalid type: map", "invalid type: a mapping"),
    ];
    let mut out = message.to_owned();
    for (from, to) in TYPES {
        out = out.replace(from, to);
    }
    out
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError {
            message: msg.to_string(),
            hint: None,
            origin: None,
        }
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        let hint = match did_you_mean(field, expected.iter().copied()) {
            Some(name) => format!("did you mean `{name}`?"),
            None if expected.is_empty() => "this mapping takes no keys".to_string(),
            None => format!("known keys here: {}", expected.join(", ")),
        };
        DeError {
            message: format!("unknown key `{field}`"),
            hint: Some(hint),
            origin: None,
        }
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        let hint = match did_you_mean(variant, expected.iter().copied()) {
            Some(name) => format!("did you mean `{name}`?"),
            None => format!("expected one of: {}", expected.join(", ")),
        };
        DeError {
            message: format!("unknown value `{variant}`"),
            hint: Some(hint),
            origin: None,
        }
    }

    fn missing_field(field: &'static str) -> Self {
        DeError {
            message: format!("missing required key `{field}`"),
            hint: Some(format!("add `{field}:` here")),
            origin: None,
        }
    }
}

/// Deserializes a typed value from a node.
pub fn from_node<'de, T: serde::Deserialize<'de>>(node: &'de Node) -> Result<T, DeError> {
    T::deserialize(NodeDe(node)).map_err(|e| e.locate(&node.origin))
}

struct NodeDe<'a>(&'a Node);

impl<'de> NodeDe<'de> {
    fn invalid(&self, exp: &dyn de::Expected) -> DeError {
        <DeError as de::Error>::custom(format_args!("expected {exp}, found {}", self.describe()))
            .locate(&self.0.origin)
    }

    fn describe(&self) -> String {
        match &self.0.value {
            Value::Scalar(s) if s.kind == ScalarKind::Str => format!("the string {:?}", s.text),
            Value::Scalar(s) => format!("{} `{}`", self.0.type_name(), s.text),
            _ => self.0.type_name().to_string(),
        }
    }
}

macro_rules! forward_to_any {
    ($($method:ident)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            self.deserialize_any(visitor)
        })*
    };
}

/// Numbers and booleans: a template's output counts as the number or boolean it spells; an
/// unrendered template (checked before templating) stands for any value of the type.
macro_rules! typed_from_rendered {
    ($($method:ident => $placeholder:ident($value:expr);)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            let node = self.0;
            match &node.value {
                Value::Scalar(s) if s.kind == ScalarKind::Template => visitor.$placeholder($value),
                Value::Scalar(s) if s.kind == ScalarKind::Rendered => {
                    let text = s.text.trim();
                    let result = match crate::node::resolve_plain(text) {
                        Some(ScalarKind::Int) => match parse_int(text) {
                            Some(i) => visitor.visit_i64(i),
                            None => self.deserialize_any(visitor),
                        },
                        Some(ScalarKind::Float) => match parse_float(text) {
                            Some(f) => visitor.visit_f64(f),
                            None => self.deserialize_any(visitor),
                        },
                        Some(ScalarKind::Bool) => visitor.visit_bool(matches!(text, "true" | "True" | "TRUE")),
                        _ => self.deserialize_any(visitor),
                    };
                    result.map_err(|e: DeError| e.locate(&node.origin))
                }
                _ => self.deserialize_any(visitor),
            }
        })*
    };
}

impl<'de> de::Deserializer<'de> for NodeDe<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let node = self.0;
        let result = match &node.value {
            Value::Null => visitor.visit_unit(),
            Value::Scalar(s) => match s.kind {
                ScalarKind::Str | ScalarKind::Rendered | ScalarKind::Template => {
                    visitor.visit_borrowed_str(&s.text)
                }
                ScalarKind::Bool => {
                    visitor.visit_bool(matches!(s.text.as_str(), "true" | "True" | "TRUE"))
                }
                ScalarKind::Int => {
                    if let Some(i) = parse_int(&s.text) {
                        visitor.visit_i64(i)
                    } else if let Some(u) = parse_uint(&s.text) {
                        visitor.visit_u64(u)
                    } else {
                        visitor.visit_borrowed_str(&s.text)
                    }
                }
                ScalarKind::Float => match parse_float(&s.text) {
                    Some(f) => visitor.visit_f64(f),
                    None => visitor.visit_borrowed_str(&s.text),
                },
            },
            Value::Seq(items) => visitor.visit_seq(SeqDe { iter: items.iter() }),
            Value::Map(map) => visitor.visit_map(MapDe {
                iter: map.iter(),
                value: None,
            }),
        };
        result.map_err(|e| e.locate(&node.origin))
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.0.value {
            Value::Scalar(s) => visitor
                .visit_borrowed_str(&s.text)
                .map_err(|e: DeError| e.locate(&self.0.origin)),
            _ => Err(self.invalid(&"a string")),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.0.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match &self.0.value {
            Value::Scalar(s) => {
                let d: de::value::StrDeserializer<'_, DeError> =
                    s.text.as_str().into_deserializer();
                visitor.visit_enum(d).map_err(|e| e.locate(&self.0.origin))
            }
            _ => Err(self.invalid(&"one of the listed values")),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }

    typed_from_rendered! {
        deserialize_bool => visit_bool(false);
        deserialize_i8 => visit_i64(0);
        deserialize_i16 => visit_i64(0);
        deserialize_i32 => visit_i64(0);
        deserialize_i64 => visit_i64(0);
        deserialize_i128 => visit_i64(0);
        deserialize_u8 => visit_u64(0);
        deserialize_u16 => visit_u64(1);
        deserialize_u32 => visit_u64(0);
        deserialize_u64 => visit_u64(0);
        deserialize_u128 => visit_u64(0);
        deserialize_f32 => visit_f64(0.0);
        deserialize_f64 => visit_f64(0.0);
    }

    forward_to_any! {
        deserialize_char deserialize_bytes
        deserialize_byte_buf deserialize_unit deserialize_seq deserialize_map deserialize_identifier
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_any(visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_any(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_any(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match &self.0.value {
            Value::Map(_) => self.deserialize_any(visitor),
            _ => Err(self.invalid(&"a mapping")),
        }
    }
}

struct SeqDe<'a> {
    iter: std::slice::Iter<'a, Node>,
}

impl<'de> SeqAccess<'de> for SeqDe<'de> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.iter.next() {
            None => Ok(None),
            Some(node) => seed
                .deserialize(NodeDe(node))
                .map(Some)
                .map_err(|e| e.locate(&node.origin)),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

struct MapDe<'a> {
    iter: indexmap::map::Iter<'a, String, Node>,
    value: Option<&'a Node>,
}

impl<'de> MapAccess<'de> for MapDe<'de> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        match self.iter.next() {
            None => Ok(None),
            Some((key, node)) => {
                self.value = Some(node);
                let d: de::value::BorrowedStrDeserializer<'de, DeError> =
                    de::value::BorrowedStrDeserializer::new(key);
                seed.deserialize(d)
                    .map(Some)
                    .map_err(|e| e.locate(&node.origin))
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        match self.value.take() {
            Some(node) => seed
                .deserialize(NodeDe(node))
                .map_err(|e| e.locate(&node.origin)),
            None => Err(<DeError as de::Error>::custom("value requested before key")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::*;
    use crate::origin::SourceFile;
    use crate::yaml::read::{Limits, parse};

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)] // fields exist to be deserialized into
    struct Probe {
        path: String,
        period_seconds: Option<u32>,
    }

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)] // fields exist to be deserialized into
    struct Spec {
        port: Option<u16>,
        env: Option<BTreeMap<String, String>>,
        probe: Option<Probe>,
    }

    fn node(text: &str) -> Node {
        parse(&SourceFile::new("s.yaml", text), Limits::default()).unwrap()
    }

    #[test]
    fn scalars_become_strings_where_strings_are_expected() {
        let n = node("env: { PORT: 8000, DEBUG: true, V: 1.10 }\n");
        let spec: Spec = from_node(&n).unwrap();
        let env = spec.env.unwrap();
        assert_eq!(env["PORT"], "8000");
        assert_eq!(env["DEBUG"], "true");
        assert_eq!(env["V"], "1.10");
    }

    #[test]
    fn unknown_keys_point_at_the_key_and_suggest() {
        let n = node("port: 80\nprobe:\n  path: /x\n  periodSecond: 5\n");
        let err = from_node::<Spec>(&n).unwrap_err().into_diagnostic("bad");
        assert_eq!(err.message, "bad: unknown key `periodSecond`");
        let origin = err.origin.unwrap();
        assert_eq!((origin.line, origin.col), (4, 3));
        assert_eq!(err.hint.as_deref(), Some("did you mean `periodSeconds`?"));
    }

    #[test]
    fn wrong_types_point_at_the_value() {
        let n = node("port: \"8000\"\n");
        let err = from_node::<Spec>(&n).unwrap_err().into_diagnostic("bad");
        assert!(err.message.contains("invalid type"), "{}", err.message);
        assert_eq!(err.origin.unwrap().line, 1);
        let n = node("port: 70000\n");
        let err = from_node::<Spec>(&n).unwrap_err().into_diagnostic("bad");
        assert!(err.message.contains("70000"), "{}", err.message);
    }

    #[test]
    fn missing_keys_point_at_the_mapping() {
        let n = node("probe:\n  periodSeconds: 5\n");
        let err = from_node::<Spec>(&n).unwrap_err().into_diagnostic("bad");
        assert!(err.message.contains("missing required key `path`"));
        assert_eq!(err.origin.unwrap().line, 1);
    }
}
