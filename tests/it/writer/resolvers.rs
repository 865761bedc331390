//! What YAML readers make of a plain scalar, modelled in the test so that the writer is
//! checked against the readers' rules rather than against its own: PyYAML's YAML 1.1 implicit
//! resolvers (`yaml/resolver.py`), go-yaml v2's `resolve()` (sigs.k8s.io/yaml: Kubernetes,
//! Argo CD), ruamel.yaml's YAML 1.2 resolvers and the YAML 1.2 core schema.

use std::sync::LazyLock;

use regex::Regex;

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("valid pattern")
}

/// A resolver: its tag, the first characters it applies to (`None`: any), its pattern.
type Resolver = (&'static str, Option<&'static str>, Regex);

const NUMBER_START: Option<&str> = Some("-+0123456789.");

/// PyYAML (YAML 1.1): bool, float, int, merge, null, timestamp, value; each applies only to
/// scalars starting with one of its first characters (`add_implicit_resolver(.., first)`).
static PYYAML: LazyLock<Vec<Resolver>> = LazyLock::new(|| {
    vec![
        (
            "bool",
            Some("yYnNtTfFoO"),
            re(r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$"),
        ),
        (
            "float",
            NUMBER_START,
            re(
                r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
            ),
        ),
        (
            "int",
            NUMBER_START,
            re(
                r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$",
            ),
        ),
        ("merge", Some("<"), re(r"^(?:<<)$")),
        ("null", Some("~nN"), re(r"^(?:~|null|Null|NULL|)$")),
        (
            "timestamp",
            NUMBER_START,
            re(
                r"^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$",
            ),
        ),
        ("value", Some("="), re(r"^(?:=)$")),
    ]
});

/// ruamel.yaml's YAML 1.2 resolvers (more lenient than the spec: `_`, `0b`, `1e3`).
static RUAMEL_12: LazyLock<Vec<Resolver>> = LazyLock::new(|| {
    vec![
        (
            "bool",
            Some("tTfF"),
            re(r"^(?:true|True|TRUE|false|False|FALSE)$"),
        ),
        (
            "float",
            NUMBER_START,
            re(
                r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
            ),
        ),
        (
            "int",
            NUMBER_START,
            re(r"^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+)$"),
        ),
        ("merge", Some("<"), re(r"^(?:<<)$")),
        ("null", Some("~nN"), re(r"^(?:~|null|Null|NULL|)$")),
        (
            "timestamp",
            NUMBER_START,
            re(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"),
        ),
        ("value", Some("="), re(r"^(?:=)$")),
    ]
});

/// The YAML 1.2 core schema.
static CORE_12: LazyLock<Vec<Resolver>> = LazyLock::new(|| {
    vec![
        ("null", None, re(r"^(?:null|Null|NULL|~|)$")),
        ("bool", None, re(r"^(?:true|True|TRUE|false|False|FALSE)$")),
        (
            "int",
            None,
            re(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
        ),
        (
            "float",
            None,
            re(
                r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
            ),
        ),
    ]
});

/// go-yaml v2 `resolve()`: a table of words, then by first character: `+`, `-` and digits
/// try a timestamp, then Go's `strconv.ParseInt(s, 0, 64)` / `ParseUint` on the string with
/// every `_` removed (`0x`, `0o`, `0b` in either case, leading-zero octal), then the YAML
/// float pattern; `.` tries Go's `ParseFloat`.
fn go_yaml_v2(s: &str) -> Option<&'static str> {
    static WORDS: [&str; 35] = [
        "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "n", "N", "no",
        "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", "", "~", "null", "Null",
        "NULL", ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "<<", "+.inf",
    ];
    static MORE: [&str; 5] = ["+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF"];
    static TIMESTAMP: LazyLock<Regex> =
        LazyLock::new(|| re(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt ].*)?$"));
    static GO_INT: LazyLock<Regex> = LazyLock::new(|| {
        re(r"^[-+]?(?:0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$")
    });
    static YAML_STYLE_FLOAT: LazyLock<Regex> =
        LazyLock::new(|| re(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$"));
    if WORDS.contains(&s) || MORE.contains(&s) {
        return Some("word");
    }
    let plain = s.replace('_', "");
    match s.as_bytes().first() {
        Some(b'+' | b'-' | b'0'..=b'9') => {
            if TIMESTAMP.is_match(s) {
                Some("timestamp")
            } else if GO_INT.is_match(&plain) {
                Some("int")
            } else if YAML_STYLE_FLOAT.is_match(&plain) {
                Some("float")
            } else {
                None
            }
        }
        Some(b'.') => YAML_STYLE_FLOAT.is_match(&plain).then_some("float"),
        _ => None,
    }
}

/// Which reader would read the plain scalar `s` as something else than the string `s`.
pub(super) fn non_string_reading(s: &str) -> Option<String> {
    for (reader, table) in [
        ("PyYAML", &*PYYAML),
        ("ruamel.yaml 1.2", &*RUAMEL_12),
        ("YAML 1.2 core", &*CORE_12),
    ] {
        let first = s.chars().next();
        let applies = |start: &Option<&str>| match (start, first) {
            (None, _) => true,
            // The empty scalar is null everywhere.
            (Some(_), None) => true,
            (Some(chars), Some(c)) => chars.contains(c),
        };
        if let Some((tag, ..)) = table
            .iter()
            .find(|(_, start, r)| applies(start) && r.is_match(s))
        {
            return Some(format!("{reader} reads a {tag}"));
        }
    }
    go_yaml_v2(s).map(|tag| format!("go-yaml v2 reads a {tag}"))
}

/// YAML 1.2 `c-printable` without tab and CR, and without what YAML 1.1 takes for a line
/// break (U+0085, U+2028, U+2029) or go-yaml skips (a BOM): what may appear raw in the output
/// besides `\n`.
pub(super) fn printable(c: char) -> bool {
    let n = u32::from(c);
    matches!(n, 0x20..=0x7e | 0xa0..=0xd7ff | 0xe000..=0xfffd | 0x1_0000..=0x10_ffff)
        && !matches!(n, 0x2028 | 0x2029 | 0xfeff)
}

#[test]
fn the_models_know_the_issue_s_examples() {
    for s in [
        "0X1F", "0B101", "0O17", "0o_17", "0x_1F", "on", "y", "1:20", "08", "2026-1-2",
    ] {
        assert!(non_string_reading(s).is_some(), "{s}");
    }
    for s in [
        "1Gi",
        "250m",
        "v1.2.3",
        "1.2.3",
        "app.main:app",
        "hello world",
        "0xG",
    ] {
        assert_eq!(non_string_reading(s), None, "{s}");
    }
}
