//! Output budgets (`budgets:` in `stencil.yaml`): what a tenant's input may make stencil
//! produce. A few hundred bytes of JSON-patch `copy` ops or aliased templates can otherwise
//! expand to gigabytes. Every budget is checked while the output grows (after each template,
//! each patch operation, each object), so a render stops at the budget instead of
//! materializing the expansion first. Sizes are bytes of compact JSON, as the API server
//! stores an object.

use std::io;

use crate::error::Diagnostic;
use crate::model::{Budgets, Rule};
use crate::node::{Node, Value};

/// The size of a value as compact JSON, counted without building the text: the length
/// `serde_json::to_vec` would give (a property test holds the two together). This runs for
/// every object of every app and after every patch operation, so it walks the tree once
/// rather than driving the serializer through a byte counter.
pub(crate) fn json_size(value: &serde_json::Value) -> u64 {
    use serde_json::Value as Json;
    match value {
        Json::Null | Json::Bool(true) => 4,
        Json::Bool(false) => 5,
        Json::Number(n) => number_size(n),
        Json::String(s) => string_size(s),
        Json::Array(items) => {
            let commas = items.len().saturating_sub(1) as u64;
            2 + commas + items.iter().map(json_size).sum::<u64>()
        }
        Json::Object(map) => {
            let commas = map.len().saturating_sub(1) as u64;
            let members: u64 = map
                .iter()
                .map(|(k, v)| string_size(k) + 1 + json_size(v))
                .sum();
            2 + commas + members
        }
    }
}

/// A JSON string with its quotes: `"` and `\` and the C0 controls with a short escape
/// (`\b \t \n \f \r`) take two bytes, other controls six (`\u001f`), every other byte one.
fn string_size(s: &str) -> u64 {
    // Most strings escape nothing: a test over the bytes the compiler can run 32 at a time,
    // then the table only for the rest.
    let plain = s.bytes().fold(true, |plain, b| {
        plain & (b >= 0x20 && b != b'"' && b != b'\\')
    });
    let escapes: usize = if plain {
        0
    } else {
        s.bytes()
            .map(|b| usize::from(ESCAPE_EXTRA[usize::from(b)]))
            .sum()
    };
    (2 + s.len() + escapes) as u64
}

/// The bytes a byte adds to a JSON string beyond itself (one table look-up a byte, no branch).
static ESCAPE_EXTRA: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = 5;
        b += 1;
    }
    let short = [0x08, b'\t', b'\n', 0x0c, b'\r', b'"', b'\\'];
    let mut i = 0;
    while i < short.len() {
        table[short[i] as usize] = 1;
        i += 1;
    }
    table
};

/// A number as serde_json writes it: an integer's digits (and its sign), a float as its
/// `Display` writes it (the serializer's text).
fn number_size(n: &serde_json::Number) -> u64 {
    if let Some(u) = n.as_u64() {
        return u64::from(u.checked_ilog10().unwrap_or(0)) + 1;
    }
    if let Some(i) = n.as_i64() {
        // Negative (a non-negative one is a u64 above).
        return u64::from(i.unsigned_abs().checked_ilog10().unwrap_or(0)) + 2;
    }
    let mut counter = Counter(0);
    // Writing to a counter cannot fail.
    let _ = io::Write::write_fmt(&mut counter, format_args!("{n}"));
    counter.0
}

struct Counter(u64);

impl io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The text of a tree: every key and scalar, in bytes.
pub(crate) fn node_bytes(node: &Node) -> u64 {
    match &node.value {
        Value::Null => 0,
        Value::Scalar(s) => s.text.len() as u64,
        Value::Map(map) => map
            .iter()
            .map(|(k, v)| k.len() as u64 + node_bytes(v))
            .sum(),
        Value::Seq(items) => items.iter().map(node_bytes).sum(),
    }
}

/// One of the budgets, for messages.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Object,
    App,
    PatchOps,
}

impl Kind {
    /// The `stencil.yaml` setting.
    pub(crate) fn setting(self) -> &'static str {
        match self {
            Kind::Object => "budgets.objectBytes",
            Kind::App => "budgets.appBytes",
            Kind::PatchOps => "budgets.patchOps",
        }
    }

    pub(crate) fn limit(self, budgets: &Budgets) -> u64 {
        match self {
            Kind::Object => budgets.object_bytes,
            Kind::App => budgets.app_bytes,
            Kind::PatchOps => budgets.patch_ops,
        }
    }

    fn what(self) -> &'static str {
        match self {
            Kind::Object => "the object budget",
            Kind::App => "the budget of one tenant x service",
            Kind::PatchOps => "the patch operation budget",
        }
    }
}

/// `what` is `size` (bytes, or operations) where the budget allows `limit`: an error with
/// the rule id, the budget and the setting that raises it.
pub(crate) fn exceeded(what: &str, size: u64, kind: Kind, limit: u64) -> Diagnostic {
    let (size, limit) = match kind {
        Kind::PatchOps => (format!("{size} operations"), format!("{limit} operations")),
        Kind::Object | Kind::App => (
            format!("{size} bytes"),
            format!("{} ({limit} bytes)", bytes(limit)),
        ),
    };
    Diagnostic::new(format!(
        "{what} reaches {size}, over {} of {limit}",
        kind.what()
    ))
    .rule(Rule::Budget.name())
    .hint(format!(
        "a platform engineer can raise `{}` in stencil.yaml if this is legitimate; see docs/limits.md",
        kind.setting()
    ))
}

/// A size for people: bytes up to 1 KiB, else KiB or MiB with one decimal.
pub(crate) fn bytes(n: u64) -> String {
    const KIB: u64 = 1 << 10;
    const MIB: u64 = 1 << 20;
    if n < KIB {
        format!("{n} bytes")
    } else if n < MIB {
        format!("{:.1} KiB", n as f64 / KIB as f64)
    } else {
        format!("{:.1} MiB", n as f64 / MIB as f64)
    }
}

/// Counts what one tenant x service has produced so far against its budget.
#[derive(Debug)]
pub(crate) struct Meter {
    kind: Kind,
    limit: u64,
    used: u64,
}

impl Meter {
    pub(crate) fn new(kind: Kind, budgets: &Budgets) -> Meter {
        Meter {
            kind,
            limit: kind.limit(budgets),
            used: 0,
        }
    }

    /// Adds `size`; an error once the total passes the budget.
    pub(crate) fn add(
        &mut self,
        size: u64,
        what: impl FnOnce() -> String,
    ) -> Result<(), Diagnostic> {
        self.used = self.used.saturating_add(size);
        if self.used > self.limit {
            return Err(exceeded(&what(), self.used, self.kind, self.limit));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_size_is_the_compact_length() {
        let v = json!({"a": [1, "two", null], "b": {"c": "é\n"}});
        assert_eq!(json_size(&v), serde_json::to_vec(&v).unwrap().len() as u64);
        for v in [
            json!(-0.0),
            json!(1e300),
            json!(5e-324),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(0),
            json!(-1),
            json!(9),
            json!(10),
            json!(-10),
            json!(99_999),
            json!("\u{0}\u{1f}\u{7f}\"\\/\u{2028}"),
            json!({"": [], "\t": {}}),
        ] {
            assert_eq!(
                json_size(&v),
                serde_json::to_vec(&v).unwrap().len() as u64,
                "{v}"
            );
        }
    }

    /// Strings over every kind of byte serde_json treats apart: the short escapes, the other
    /// controls, DEL, `/`, multi-byte characters, and any character at all.
    fn text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let special = proptest::sample::select(vec![
            '"',
            '\\',
            '/',
            '\u{8}',
            '\t',
            '\n',
            '\u{c}',
            '\r',
            '\0',
            '\u{1}',
            '\u{1b}',
            '\u{1f}',
            '\u{7f}',
            '\u{80}',
            '\u{2028}',
            '\u{fffd}',
            '\u{10ffff}',
            'a',
            ' ',
        ]);
        proptest::collection::vec(prop_oneof![special, any::<char>()], 0..12)
            .prop_map(|chars| chars.into_iter().collect())
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        use serde_json::Value as Json;
        let leaf = prop_oneof![
            Just(Json::Null),
            any::<bool>().prop_map(Json::Bool),
            any::<i64>().prop_map(Json::from),
            any::<u64>().prop_map(Json::from),
            any::<f64>().prop_map(Json::from),
            text().prop_map(Json::String),
        ];
        leaf.prop_recursive(4, 64, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Json::Array),
                proptest::collection::vec((text(), inner), 0..6)
                    .prop_map(|members| Json::Object(members.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 2000,
            ..proptest::prelude::ProptestConfig::default()
        })]

        /// The walk counts what serde_json writes, for any value.
        #[test]
        fn json_size_agrees_with_serde_json(value in json_value()) {
            let written = serde_json::to_vec(&value).unwrap().len() as u64;
            proptest::prop_assert_eq!(json_size(&value), written, "{}", value);
        }
    }

    #[test]
    fn sizes_for_people() {
        assert_eq!(bytes(12), "12 bytes");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(8 << 20), "8.0 MiB");
    }

    #[test]
    fn a_meter_stops_past_its_budget() {
        let budgets = Budgets {
            app_bytes: 10,
            ..Budgets::default()
        };
        let mut meter = Meter::new(Kind::App, &budgets);
        assert!(meter.add(10, String::new).is_ok());
        let err = meter.add(1, || "the output".into()).unwrap_err();
        assert!(
            err.message.contains(
                "reaches 11 bytes, over the budget of one tenant x service of 10 bytes (10 bytes)"
            ),
            "{}",
            err.message
        );
        assert_eq!(err.rule, Some("budget"));
    }
}
