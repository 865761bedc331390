//! The official yaml-test-suite (`tests/data/yaml-test-suite/cases.json`, MIT, from
//! github.com/yaml/yaml-test-suite) against [`parse`]: every invalid case is refused; every
//! valid case loads to what the suite's JSON says, or is refused by one of the few rules
//! stencil documents for its inputs ([`DOCUMENTED`]). Anything else fails the test.

use serde::Deserialize;
use serde_json::Value as Json;

use super::*;

#[derive(Deserialize)]
struct Suite {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    id: String,
    name: String,
    fail: bool,
    yaml: String,
    json: Option<String>,
}

/// The refusals stencil documents for valid YAML (docs/limits.md), by the start of
/// their message: what a stencil input cannot use, whatever the case.
const DOCUMENTED: &[(&str, &str)] = &[
    (
        "a file must hold one YAML document",
        "one document per file",
    ),
    ("unsupported YAML tag", "only core tags and `!replace`"),
    ("a mapping key cannot be", "keys are strings"),
    ("YAML merge keys", "no `<<` merge keys"),
];

fn documented(message: &str) -> Option<&'static str> {
    DOCUMENTED
        .iter()
        .find(|(start, _)| message.starts_with(start))
        .map(|(_, rule)| *rule)
}

/// The node as JSON, under the YAML 1.2 core schema: the reading a JSON-minded consumer
/// of `--output json` gets.
fn to_json(node: &Node) -> Json {
    match &node.value {
        Value::Null => Json::Null,
        Value::Seq(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Map(map) => Json::Object(map.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
        Value::Scalar(s) => match s.kind {
            ScalarKind::Bool => Json::Bool(s.text.eq_ignore_ascii_case("true")),
            ScalarKind::Int => int(&s.text).map_or(Json::Null, Json::from),
            ScalarKind::Float => s
                .text
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map_or(Json::Null, Json::Number),
            ScalarKind::Str | ScalarKind::Rendered | ScalarKind::Template => {
                Json::String(s.text.clone())
            }
        },
    }
}

fn int(text: &str) -> Option<i64> {
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text.strip_prefix('+').unwrap_or(text)),
    };
    let value = if let Some(hex) = digits.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()?
    } else if let Some(oct) = digits.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()?
    } else {
        digits.parse().ok()?
    };
    Some(sign * value)
}

/// Equal as JSON values, numbers compared by value (`450.00` is `450`).
fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn yaml_test_suite() {
    let text = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/yaml-test-suite/cases.json"
    ));
    let suite: Suite = serde_json::from_str(text).unwrap();
    let (mut equal, mut loaded, mut refused_invalid) = (0, 0, 0);
    let mut by_rule: std::collections::BTreeMap<&str, usize> = Default::default();
    let mut failures = Vec::new();
    for case in &suite.cases {
        let what = format!("{} ({})", case.id, case.name);
        let result = parse(
            &SourceFile::new("case.yaml", case.yaml.as_str()),
            Limits::default(),
        );
        match (case.fail, result) {
            (true, Err(_)) => refused_invalid += 1,
            (true, Ok(node)) => {
                failures.push(format!("{what}: invalid, loaded as {}", to_json(&node)));
            }
            (false, Err(err)) => {
                let message = &err.diagnostics()[0].message;
                match documented(message) {
                    Some(rule) => *by_rule.entry(rule).or_default() += 1,
                    None => failures.push(format!("{what}: valid, refused: {message}")),
                }
            }
            (false, Ok(node)) => {
                let Some(json) = &case.json else {
                    loaded += 1;
                    continue;
                };
                let expected: Vec<Json> = serde_json::Deserializer::from_str(json)
                    .into_iter()
                    .collect::<Result<_, _>>()
                    .unwrap();
                let got = to_json(&node);
                let ok = match expected.as_slice() {
                    [] => got.is_null(),
                    [one] => same(&got, one),
                    _ => false,
                };
                if ok {
                    equal += 1;
                } else {
                    failures.push(format!("{what}: loaded as {got}, expected {json}"));
                }
            }
        }
    }
    let refused_valid: usize = by_rule.values().sum();
    println!(
        "yaml-test-suite: {} cases; invalid refused: {refused_invalid}; valid loaded and equal \
         to the suite's JSON: {equal}; valid loaded (no JSON given): {loaded}; valid refused \
         by a documented rule: {refused_valid} {by_rule:?}; failures: {}",
        suite.cases.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
