//! Output integrity (issue 17, item 1): whatever strings a tenant writes, every YAML reader
//! reads the rendered stream as exactly what `render --output json` says. The stream is read
//! back with serde_yaml (libyaml's scanner: YAML 1.1 line breaks, like go-yaml) and with
//! stencil's own reader, document by document, and compared with the JSON render.

use crate::common::Repo;
use serde_json::Value;
use stencil::origin::SourceFile;
use stencil::yaml::read::{Limits, parse};

/// `render` and `render --output json` of a repository; the YAML stream read back both ways
/// must equal the JSON. Returns the YAML text and the JSON objects.
#[track_caller]
fn render_both(repo: &Repo) -> (String, Vec<Value>) {
    let yaml = repo.run(&["render"]).ok();
    let json = repo.run(&["render", "--output", "json"]).ok();
    let json: Vec<Value> = json.json_items();
    assert_eq!(
        yaml.docs(),
        json,
        "serde_yaml reads another stream:\n{}",
        yaml.stdout
    );
    assert_eq!(
        own_reader(&yaml.stdout),
        json,
        "stencil's reader reads another stream:\n{}",
        yaml.stdout
    );
    (yaml.stdout, json)
}

/// The stream read with stencil's own YAML reader, one document at a time (a line `---`
/// only ever separates documents: the writer never starts a line of a document with it).
fn own_reader(stream: &str) -> Vec<Value> {
    let mut docs: Vec<String> = Vec::new();
    for line in stream.split_inclusive('\n') {
        match docs.last_mut() {
            Some(doc) if line != "---\n" => doc.push_str(line),
            _ => docs.push(String::new()),
        }
    }
    docs.iter()
        .map(|doc| {
            match parse(
                &SourceFile::new("out.yaml", doc.as_str()),
                Limits::default(),
            ) {
                Ok(node) => node.to_json(),
                Err(e) => panic!("stencil's reader refuses its own output: {e}\n{doc}"),
            }
        })
        .collect()
}

/// A tenant `values.yaml` for Repo::new()'s tenant acme, service api.
fn with_values(values: &str) -> Repo {
    Repo::new().file("tenants/acme/api/values.yaml", values)
}

fn deployment(objects: &[Value]) -> &Value {
    let found: Vec<&Value> = objects
        .iter()
        .filter(|o| o["kind"] == "Deployment")
        .collect();
    assert_eq!(found.len(), 1, "one Deployment");
    found[0]
}

#[test]
fn line_separator_in_a_pod_annotation_does_not_move_the_deployment() {
    // The issue's example: U+2028 is a line break to YAML 1.1 readers (kubectl, Argo CD).
    let hostile = "x\ny\u{2028}metadata:\u{2028}  namespace: kube-system";
    let repo = with_values(
        "podAnnotations:\n  note: \"x\\ny\\u2028metadata:\\u2028  namespace: kube-system\"\n",
    );
    let (yaml, objects) = render_both(&repo);
    let deploy = deployment(&objects);
    assert_eq!(deploy["metadata"]["namespace"], "acme");
    assert_eq!(
        deploy["spec"]["template"]["metadata"]["annotations"]["note"],
        hostile
    );
    assert!(!yaml.contains('\u{2028}'), "raw U+2028 in:\n{yaml}");
    assert!(yaml.contains(r"\u2028"), "{yaml}");
}

#[test]
fn every_line_break_and_non_printable_is_escaped_in_pod_annotations() {
    let escapes = [
        r"\u0085", r"\u2028", r"\u2029", r"\x7f", r"\u0080", r"\u009f", r"\ufeff", r"\ufffe",
        r"\uffff", r"\r", r"\t", r"\x1b", r"\x00",
    ];
    let mut values = String::from("podAnnotations:\n");
    for (i, e) in escapes.iter().enumerate() {
        // In the middle, at the start, at the end, and after a newline (a block candidate).
        values.push_str(&format!("  a{i}: \"x{e}kind: Secret\"\n"));
        values.push_str(&format!("  b{i}: \"{e}x\"\n"));
        values.push_str(&format!("  c{i}: \"x{e}\"\n"));
        values.push_str(&format!(
            "  d{i}: \"line\\nnext{e}metadata:\\n  x: y\\n\"\n"
        ));
    }
    let (yaml, objects) = render_both(&with_values(&values));
    let notes = &deployment(&objects)["spec"]["template"]["metadata"]["annotations"];
    assert_eq!(notes["a0"], "x\u{85}kind: Secret");
    assert_eq!(notes["d2"], "line\nnext\u{2029}metadata:\n  x: y\n");
    for c in yaml.chars() {
        let printable = matches!(c, '\n' | ' '..='~' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
            && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}');
        assert!(printable, "raw {c:?} in the YAML stream:\n{yaml}");
    }
}

#[test]
fn extra_object_strings_with_line_separators_stay_strings() {
    // An extra ConfigMap whose data value would otherwise become a second object
    // (a ClusterRoleBinding) to a YAML 1.1 reader.
    let repo = with_values(concat!(
        "extraObjects:\n",
        "  - apiVersion: v1\n",
        "    kind: ConfigMap\n",
        "    metadata: { name: extra }\n",
        "    data:\n",
        "      inject: \"a\\u2028---\\u2028apiVersion: rbac.authorization.k8s.io/v1\\u2028kind: ClusterRoleBinding\\u2028metadata: {name: pwn}\"\n",
        "      nel: \"a\\u0085b: c\"\n",
        "      para: \"\\u2029- x\\n- y\\n\"\n",
        "      del: \"\\x7f#x\"\n",
    ));
    let (yaml, objects) = render_both(&repo);
    assert!(objects.iter().all(|o| o["kind"] != "ClusterRoleBinding"));
    let cm = objects
        .iter()
        .find(|o| o["kind"] == "ConfigMap" && o["metadata"]["name"] == "extra")
        .expect("the extra ConfigMap");
    assert_eq!(cm["data"]["nel"], "a\u{85}b: c");
    assert_eq!(cm["data"]["para"], "\u{2029}- x\n- y\n");
    assert_eq!(cm["data"]["del"], "\u{7f}#x");
    assert!(
        yaml.lines().filter(|l| *l == "---").count() == objects.len(),
        "{yaml}"
    );
}

#[test]
fn number_like_strings_are_quoted() {
    let forms = [
        "0X1F",
        "0B101",
        "0O17",
        "0o_17",
        "0x_1F",
        "-0X1f",
        "+0b_1",
        "0b",
        "0x",
        "0x_",
        "1_000",
        "0_",
        "-_1",
        "08",
        "1e3",
        "1E+3",
        "1.",
        "._5",
        "._e+5",
        "1:20",
        "-1:20:30.5",
        "2026-1-2",
        "2026-01-02T10:00:00Z",
        ".Inf",
        "-.INF",
        ".NaN",
        "0o8",
        "0b2",
    ];
    let mut values = String::from("podAnnotations:\n");
    for (i, s) in forms.iter().enumerate() {
        values.push_str(&format!("  n{i:02}: \"{s}\"\n"));
    }
    let (yaml, objects) = render_both(&with_values(&values));
    let notes = &deployment(&objects)["spec"]["template"]["metadata"]["annotations"];
    for (i, s) in forms.iter().enumerate() {
        assert_eq!(notes[format!("n{i:02}")], *s);
        let plain = format!("n{i:02}: {s}\n");
        assert!(!yaml.contains(&plain), "{s:?} is plain:\n{yaml}");
    }
}

#[test]
fn hostile_keys_of_an_extra_object_read_back() {
    let repo = with_values(concat!(
        "extraObjects:\n",
        "  - apiVersion: v1\n",
        "    kind: ConfigMap\n",
        "    metadata:\n",
        "      name: keys\n",
        "      annotations:\n",
        "        \"0X1F\": a\n",
        "        \"k\\u2028namespace: kube-system\": b\n",
        "        \"=\": d\n",
        "        \"--- x\": e\n",
        "        \"... x\": f\n",
        "        \"\\ufeffkind\": g\n",
        "        \"y\": h\n",
        "    data:\n",
        "      \"a\\nb\": multi-line key\n",
        "      \"\\u0085\": nel\n",
    ));
    let (_, objects) = render_both(&repo);
    let cm = objects
        .iter()
        .find(|o| o["kind"] == "ConfigMap" && o["metadata"]["name"] == "keys")
        .expect("the extra ConfigMap");
    assert_eq!(cm["metadata"]["annotations"]["0X1F"], "a");
    assert_eq!(cm["metadata"]["annotations"]["\u{feff}kind"], "g");
    assert_eq!(cm["data"]["\u{85}"], "nel");
}

#[test]
fn a_very_long_key_is_written_as_an_explicit_key() {
    // YAML limits implicit keys to 1024 characters; longer ones need `? key`.
    let long = "k".repeat(1500);
    let repo = with_values(&format!(
        "extraObjects:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {{ name: long }}\n    data:\n      ? {long}\n      : v\n      ? \"{long}\\u2028\"\n      : w\n"
    ));
    let (yaml, objects) = render_both(&repo);
    let cm = objects
        .iter()
        .find(|o| o["metadata"]["name"] == "long")
        .expect("the extra ConfigMap");
    assert_eq!(cm["data"][&long], "v");
    assert!(yaml.contains(&format!("? {long}\n")), "{yaml}");
}

#[test]
fn the_example_renders_identically_as_yaml_and_json() {
    let repo = Repo::example();
    let values = repo.read("tenants/momcorp/apiserver/values.yaml");
    let repo = repo.file(
        "tenants/momcorp/apiserver/values.yaml",
        format!(
            "{values}podAnnotations:\n  note: \"x\\ny\\u2028metadata:\\u2028  namespace: kube-system\"\n  hex: \"0X1F\"\n"
        ),
    );
    let (yaml, objects) = render_both(&repo);
    assert!(
        objects
            .iter()
            .all(|o| o["metadata"]["namespace"] != "kube-system")
    );
    assert!(yaml.contains("hex: '0X1F'\n"), "{yaml}");
}

// --- The writer's property: every string, as a key or a value, at any depth, reads back. ---

mod resolvers;

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::select;
use saphyr_parser::{Event, Parser, ScalarStyle};
use stencil::yaml::write::document;

const HOSTILE: &[char] = &[
    '\n',
    '\r',
    '\t',
    '\u{85}',
    '\u{2028}',
    '\u{2029}',
    '\0',
    '\u{1}',
    '\u{8}',
    '\u{b}',
    '\u{c}',
    '\u{1b}',
    '\u{1f}',
    '\u{7f}',
    '\u{80}',
    '\u{9f}',
    '\u{a0}',
    '\u{feff}',
    '\u{fffe}',
    '\u{ffff}',
    '\u{fffd}',
    '\u{10ffff}',
    '\'',
    '"',
    '\\',
    '#',
    ':',
    '-',
    ' ',
    ' ',
    '0',
    '1',
    '7',
    '8',
    '9',
    '_',
    'x',
    'X',
    'o',
    'O',
    'b',
    'B',
    'e',
    'E',
    '.',
    '+',
    '<',
    '=',
    '~',
    '?',
    '&',
    '*',
    '!',
    '|',
    '>',
    '%',
    '@',
    '`',
    '{',
    '}',
    '[',
    ']',
    ',',
    'y',
    'n',
    'T',
    'Z',
    'a',
    'é',
    '😀',
];

const WORDS: &[&str] = &[
    "y", "Y", "n", "NO", "yes", "On", "off", "OFF", "true", "False", "null", "Null", "~", "", "<<",
    "=", ".inf", "-.Inf", "+.INF", ".NaN", "---", "...", "- ", "? ", ": ", "#", "-",
];

/// Strings biased toward what breaks YAML writers.
fn text() -> impl Strategy<Value = String> {
    let hostile = vec(select(HOSTILE), 0..14).prop_map(|cs| cs.into_iter().collect::<String>());
    let number = (
        select(&["", "", "-", "+"][..]),
        select(
            &[
                "", "0x", "0X", "0o", "0O", "0b", "0B", "0", ".", "1", "2026-",
            ][..],
        ),
        vec(
            select("0123456789abcdefABCDEF_.:eE+-".chars().collect::<Vec<_>>()),
            0..7,
        ),
    )
        .prop_map(|(sign, prefix, rest)| {
            format!("{sign}{prefix}{}", rest.into_iter().collect::<String>())
        });
    let word = (
        select(WORDS),
        select(&["", "", " ", "\n", "x", "\u{2028}"][..]),
    )
        .prop_map(|(w, tail)| format!("{w}{tail}"));
    let long = (1000usize..1100, vec(select(HOSTILE), 0..3))
        .prop_map(|(n, tail)| format!("{}{}", "k".repeat(n), tail.into_iter().collect::<String>()));
    prop_oneof![
        6 => hostile,
        3 => number,
        2 => word,
        2 => any::<String>(),
        1 => long,
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        8 => text().prop_map(Value::String),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => Just(Value::Null),
    ];
    leaf.prop_recursive(4, 48, 5, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..5).prop_map(Value::Array),
            btree_map(text(), inner, 0..5).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The strings of a value in the order a reader meets them: keys before their values.
fn strings_in_order<'a>(value: &'a Value, out: &mut Vec<Option<&'a str>>) {
    match value {
        Value::String(s) => out.push(Some(s)),
        Value::Array(items) => items.iter().for_each(|v| strings_in_order(v, out)),
        Value::Object(map) => {
            for (k, v) in map {
                out.push(Some(k));
                strings_in_order(v, out);
            }
        }
        _ => out.push(None),
    }
}

fn has_key(value: &Value, key: &str) -> bool {
    match value {
        Value::Array(items) => items.iter().any(|v| has_key(v, key)),
        Value::Object(map) => map.iter().any(|(k, v)| k == key || has_key(v, key)),
        _ => false,
    }
}

/// The scalars of a YAML text with whether each is plain, as saphyr-parser (the reader
/// stencil parses with) scans them.
fn scalars(text: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for next in Parser::new_from_str(text) {
        match next {
            Ok((Event::StreamEnd, _)) => return out,
            Ok((Event::Scalar(s, style, ..), _)) => {
                out.push((s.into_owned(), style == ScalarStyle::Plain));
            }
            Ok(_) => {}
            Err(e) => panic!("saphyr-parser: {e}\n{text}"),
        }
    }
    out
}

/// The property, for one value: the text holds only printable characters and `\n`; stencil's
/// reader and serde_yaml (libyaml's YAML 1.1 scanner) read the value back; and no string is
/// written plain where a YAML 1.1 or 1.2 reader would resolve it to another type.
fn check(value: &Value) -> Result<(), TestCaseError> {
    let text = document(value);
    if let Some(c) = text
        .chars()
        .find(|&c| c != '\n' && !resolvers::printable(c))
    {
        return Err(TestCaseError::fail(format!("raw {c:?} in:\n{text}")));
    }
    // stencil's reader refuses a `<<` key even quoted (a merge key only when plain in YAML).
    if !has_key(value, "<<") {
        let own = parse(
            &SourceFile::new("out.yaml", text.as_str()),
            Limits::default(),
        )
        .map_err(|e| TestCaseError::fail(format!("stencil's reader: {e}\n{text}")))?;
        prop_assert_eq!(&own.to_json(), value, "stencil's reader:\n{}", text);
    }
    let libyaml: Value = serde_yaml::from_str(&text)
        .map_err(|e| TestCaseError::fail(format!("serde_yaml: {e}\n{text}")))?;
    prop_assert_eq!(&libyaml, value, "serde_yaml:\n{}", text);
    let mut expected = Vec::new();
    strings_in_order(value, &mut expected);
    let found = scalars(&text);
    prop_assert_eq!(found.len(), expected.len(), "scalars in:\n{}", text);
    for ((written, plain), string) in found.iter().zip(&expected) {
        if let (true, Some(s)) = (plain, string) {
            prop_assert_eq!(written, s);
            if let Some(reading) = resolvers::non_string_reading(s) {
                return Err(TestCaseError::fail(format!(
                    "{s:?} written plain: {reading}\n{text}"
                )));
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn every_key_and_value_reads_back(key in text(), value in text()) {
        check(&serde_json::json!({ key.clone(): value.clone() }))?;
        check(&serde_json::json!([{ "a": [value.clone()], key: { "b": value.clone() } }]))?;
        check(&Value::String(value))?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn nested_values_read_back(value in json_value()) {
        check(&value)?;
    }
}
