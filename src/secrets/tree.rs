//! The SOPS tree, as the sops CLI (3.x) walks it: which leaves are encrypted, each leaf's
//! type and bytes, the additional data of each value and the MAC. stencil's own code, so that
//! a file either tool wrote reads the same in the other (rops, used here before, called
//! sops' `.inf` files tampered and could not read `type:time`).
//!
//! - A leaf is a scalar that is neither null nor `''` (sops leaves those, and empty mappings
//!   and sequences, as they are, and they add nothing to the MAC).
//! - Its path is the keys of the mappings above it (sequence items add none); the value's
//!   additional data is the path joined with `:` plus a final `:`.
//! - Whether it is encrypted: the file's one partial-encryption rule (`unencrypted_suffix`,
//!   `encrypted_suffix`, `unencrypted_regex`, `encrypted_regex`) applied to every key of the
//!   path; without one, every leaf.
//! - Its bytes (sops' `ToBytes`): strings as they are, integers in decimal, floats as Go's
//!   `FormatFloat(v, 'f', -1, 64)` (`+Inf`, `-Inf`, `NaN`), booleans `True`/`False` for the
//!   MAC but `true`/`false` inside `ENC[…]`, times in RFC 3339.
//! - The MAC: SHA-512 over every leaf's bytes in document order (under `mac_only_encrypted`,
//!   a fixed 32-byte prefix and then only the encrypted leaves), hex in capitals, sealed with
//!   `lastmodified` as additional data.

use sha2::{Digest as _, Sha512};

use super::sops::{SopsError, error};
use crate::node::{Map, Node, Scalar, ScalarKind, Value, parse_float, parse_int};

/// What sops hashes first under `mac_only_encrypted` (sops' `MACOnlyEncryptedInitialization`),
/// so that such a MAC never equals one over all values.
const MAC_ONLY_ENCRYPTED_PREFIX: [u8; 32] = [
    0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0x0b,
    0x0b, 0x97, 0x5b, 0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69,
];

const REWRITE: &str = "re-encrypt the file with `stencil secrets encrypt` or `sops -e`; never edit ENC[...] values by hand";

/// The file's partial-encryption rule and MAC scope.
pub(super) struct Rules {
    rule: Option<Rule>,
    pub(super) mac_only_encrypted: bool,
}

enum Rule {
    UnencryptedSuffix(String),
    EncryptedSuffix(String),
    UnencryptedRegex(regex::Regex),
    EncryptedRegex(regex::Regex),
}

impl Rules {
    /// The rule named `kind` with `pattern` (one of sops' four), if any.
    pub(super) fn new(
        partial: Option<(&str, &str)>,
        mac_only_encrypted: bool,
    ) -> Result<Rules, SopsError> {
        let regex = |kind: &str, pattern: &str| {
            regex::Regex::new(pattern).map_err(|_| {
                error(
                    format!("has an invalid {kind} `{pattern}`"),
                    "check the pattern in .sops.yaml",
                )
            })
        };
        let rule = match partial {
            None => None,
            Some(("unencrypted_suffix", s)) => Some(Rule::UnencryptedSuffix(s.to_owned())),
            Some(("encrypted_suffix", s)) => Some(Rule::EncryptedSuffix(s.to_owned())),
            Some((kind @ "unencrypted_regex", p)) => Some(Rule::UnencryptedRegex(regex(kind, p)?)),
            Some((kind @ "encrypted_regex", p)) => Some(Rule::EncryptedRegex(regex(kind, p)?)),
            Some((kind, _)) => {
                return Err(error(
                    format!("uses {kind}, which stencil does not support"),
                    "re-encrypt the file without it",
                ));
            }
        };
        Ok(Rules {
            rule,
            mac_only_encrypted,
        })
    }

    /// Whether the leaf at `path` is encrypted.
    pub(super) fn encrypts(&self, path: &[&str]) -> bool {
        match &self.rule {
            None => true,
            Some(Rule::UnencryptedSuffix(s)) => !path.iter().any(|k| k.ends_with(s.as_str())),
            Some(Rule::EncryptedSuffix(s)) => path.iter().any(|k| k.ends_with(s.as_str())),
            Some(Rule::UnencryptedRegex(r)) => !path.iter().any(|k| r.is_match(k)),
            Some(Rule::EncryptedRegex(r)) => path.iter().any(|k| r.is_match(k)),
        }
    }
}

/// A leaf as sops types it.
#[derive(Debug, Clone, PartialEq)]
enum Typed {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// RFC 3339, as sops writes a `type:time` value.
    Time(String),
}

impl Typed {
    /// A leaf of a plaintext document as sops' YAML reader types it.
    fn of(scalar: &Scalar) -> Typed {
        let text = scalar.text.as_str();
        match scalar.kind {
            ScalarKind::Int => {
                parse_int(text).map_or_else(|| Typed::Str(text.to_owned()), Typed::Int)
            }
            ScalarKind::Float => {
                parse_float(text).map_or_else(|| Typed::Str(text.to_owned()), Typed::Float)
            }
            ScalarKind::Bool => Typed::Bool(matches!(text, "true" | "True" | "TRUE")),
            _ => Typed::Str(text.to_owned()),
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            Typed::Str(_) => "str",
            Typed::Int(_) => "int",
            Typed::Float(_) => "float",
            Typed::Bool(_) => "bool",
            Typed::Time(_) => "time",
        }
    }

    /// The bytes inside `ENC[…]`.
    fn sealed_bytes(&self) -> Vec<u8> {
        match self {
            Typed::Bool(b) => b.to_string().into_bytes(),
            other => other.mac_bytes(),
        }
    }

    /// The bytes the MAC hashes (sops' `ToBytes`).
    fn mac_bytes(&self) -> Vec<u8> {
        match self {
            Typed::Str(s) | Typed::Time(s) => s.clone().into_bytes(),
            Typed::Int(i) => i.to_string().into_bytes(),
            Typed::Float(f) => go_float(*f).into_bytes(),
            Typed::Bool(true) => b"True".to_vec(),
            Typed::Bool(false) => b"False".to_vec(),
        }
    }

    /// The value inside `ENC[…,type:kind]`, parsed as sops parses it.
    fn from_sealed(kind: &str, bytes: Vec<u8>) -> Option<Typed> {
        let text = String::from_utf8(bytes).ok()?;
        Some(match kind {
            "str" => Typed::Str(text),
            "int" => Typed::Int(text.parse().ok()?),
            "float" => Typed::Float(parse_go_float(&text)?),
            "bool" => Typed::Bool(parse_go_bool(&text)?),
            "time" => Typed::Time(text),
            _ => return None,
        })
    }

    /// The leaf as a node of the decrypted document.
    fn node(&self, like: &Node) -> Node {
        let (text, kind) = match self {
            Typed::Str(s) | Typed::Time(s) => (s.clone(), ScalarKind::Str),
            Typed::Int(i) => (i.to_string(), ScalarKind::Int),
            Typed::Float(f) => (yaml_float(*f), ScalarKind::Float),
            Typed::Bool(b) => (b.to_string(), ScalarKind::Bool),
        };
        Node::new(Value::Scalar(Scalar { text, kind }), like.origin.clone())
    }
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)`: the shortest decimal that reads back, never
/// an exponent. Rust's `Display` for `f64` is the same, but for the three specials.
fn go_float(f: f64) -> String {
    if f.is_nan() {
        "NaN".to_owned()
    } else if f == f64::INFINITY {
        "+Inf".to_owned()
    } else if f == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else {
        f.to_string()
    }
}

/// Go's `strconv.ParseFloat(s, 64)`, for what sops writes.
fn parse_go_float(text: &str) -> Option<f64> {
    match text.to_ascii_lowercase().as_str() {
        "+inf" | "inf" | "+infinity" | "infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        "nan" => Some(f64::NAN),
        _ => text.parse().ok(),
    }
}

/// Go's `strconv.ParseBool`.
fn parse_go_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// A float as sops' YAML writer (go-yaml v3) prints it: Go's `FormatFloat(f, 'g', -1, 64)`,
/// the shortest digits, in exponent form (`6.02e+23`, `1e-05`) when the decimal exponent is
/// below -4 or 6 and above; `.inf`, `-.inf`, `.nan`.
fn yaml_float(f: f64) -> String {
    if f.is_nan() {
        return ".nan".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.to_owned();
    }
    // Rust's `{:e}` is the shortest round-trip digits: `6.02e23`, `1e-5`, `1.5e0`.
    let scientific = format!("{f:e}");
    let (mantissa, exp) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..6).contains(&exp) {
        return f.to_string();
    }
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
}

fn is_empty_leaf(node: &Node) -> bool {
    match &node.value {
        Value::Null => true,
        Value::Scalar(s) => s.kind == ScalarKind::Str && s.text.is_empty(),
        _ => false,
    }
}

fn additional_data(path: &[&str]) -> Vec<u8> {
    let mut aad = path.join(":");
    aad.push(':');
    aad.into_bytes()
}

fn hex_upper(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02X}")).collect()
}

/// Decrypts `body` (the document without `sops`) with `key`, checking every value's tag and
/// the MAC sealed in `mac` with `last_modified`. The plaintext document.
pub(super) fn decrypt(
    body: &Node,
    rules: &Rules,
    key: &[u8],
    mac: &str,
    last_modified: &str,
) -> Result<Node, SopsError> {
    let mut walk = Walk::new(rules, key);
    let plain = walk.map_leaves(body, Walk::open)?;
    let computed = hex_upper(&walk.hasher.finalize());
    let sealed =
        super::sops::parse_enc(mac).ok_or_else(|| error("has a malformed MAC", REWRITE))?;
    let stored =
        super::sops::open_value(key, sealed, last_modified.as_bytes()).ok_or_else(tampered)?;
    if stored != computed.as_bytes() {
        return Err(tampered());
    }
    Ok(plain)
}

fn tampered() -> SopsError {
    error(
        "failed its MAC check: the file was changed after it was encrypted",
        "restore the file from git, or re-create the value with `stencil secrets set`",
    )
}

struct Walk<'a> {
    rules: &'a Rules,
    key: &'a [u8],
    hasher: Sha512,
    path: Vec<String>,
}

impl<'a> Walk<'a> {
    fn new(rules: &'a Rules, key: &'a [u8]) -> Walk<'a> {
        let mut hasher = Sha512::new();
        if rules.mac_only_encrypted {
            hasher.update(MAC_ONLY_ENCRYPTED_PREFIX);
        }
        Walk {
            rules,
            key,
            hasher,
            path: Vec::new(),
        }
    }

    fn path(&self) -> Vec<&str> {
        self.path.iter().map(String::as_str).collect()
    }

    fn hash(&mut self, typed: &Typed, encrypted: bool) {
        if encrypted || !self.rules.mac_only_encrypted {
            self.hasher.update(typed.mac_bytes());
        }
    }

    /// The document with each leaf replaced by `leaf`'s answer, in document order (the
    /// order the MAC hashes), `self.path` naming the leaf; empty values and empty
    /// collections stay as they are.
    fn map_leaves(
        &mut self,
        node: &Node,
        leaf: fn(&mut Self, &Scalar, &Node) -> Result<Node, SopsError>,
    ) -> Result<Node, SopsError> {
        let value = match &node.value {
            Value::Map(map) => {
                let mut out = Map::with_capacity(map.len());
                for (k, v) in map {
                    self.path.push(k.clone());
                    let mapped = self.map_leaves(v, leaf);
                    self.path.pop();
                    out.insert(k.clone(), mapped?);
                }
                Value::Map(out)
            }
            Value::Seq(items) => Value::Seq(
                items
                    .iter()
                    .map(|item| self.map_leaves(item, leaf))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Scalar(scalar) if !is_empty_leaf(node) => return leaf(self, scalar, node),
            other => other.clone(),
        };
        Ok(Node::new(value, node.origin.clone()))
    }

    /// A leaf of an encrypted document, decrypted if the rules encrypt it, and hashed.
    fn open(&mut self, scalar: &Scalar, node: &Node) -> Result<Node, SopsError> {
        let encrypted = self.rules.encrypts(&self.path());
        let typed = if encrypted {
            self.open_leaf(scalar)?
        } else {
            Typed::of(scalar)
        };
        self.hash(&typed, encrypted);
        Ok(typed.node(node))
    }

    fn open_leaf(&self, scalar: &Scalar) -> Result<Typed, SopsError> {
        if !scalar.text.starts_with("ENC[") {
            return Err(error(
                "holds a value that is not encrypted (a plaintext value in an encrypted file)",
                REWRITE,
            ));
        }
        let invalid = || error("holds a value that is not a valid ENC[...] value", REWRITE);
        let sealed = super::sops::parse_enc(&scalar.text).ok_or_else(invalid)?;
        let kind = sealed.kind.clone();
        if kind == "comment" || kind == "bytes" {
            return Err(error(
                format!("holds a `type:{kind}` value, which stencil does not read"),
                REWRITE,
            ));
        }
        let bytes = super::sops::open_value(self.key, sealed, &additional_data(&self.path()))
            .ok_or_else(|| {
                error(
                    "failed its MAC check: a value's ciphertext was changed after it was encrypted (its AES-GCM tag does not match)",
                    "restore the file from git, or re-create the value with `stencil secrets set`",
                )
            })?;
        Typed::from_sealed(&kind, bytes).ok_or_else(invalid)
    }

    /// A leaf of a plaintext document, hashed, and encrypted if the rules encrypt it.
    fn seal(&mut self, scalar: &Scalar, node: &Node) -> Result<Node, SopsError> {
        let typed = Typed::of(scalar);
        let encrypted = self.rules.encrypts(&self.path());
        self.hash(&typed, encrypted);
        if !encrypted {
            return Ok(node.clone());
        }
        let text = super::sops::seal_typed(
            self.key,
            &typed.sealed_bytes(),
            &additional_data(&self.path()),
            typed.type_name(),
        )
        .ok_or_else(|| error("could not be encrypted", "report this as a bug"))?;
        Ok(Node::string(text, node.origin.clone()))
    }
}

/// Encrypts `body` (a plaintext document without `sops`) with `key`. The encrypted document
/// and the MAC (hex, not yet sealed).
pub(super) fn encrypt(body: &Node, rules: &Rules, key: &[u8]) -> Result<(Node, String), SopsError> {
    let mut walk = Walk::new(rules, key);
    let sealed = walk.map_leaves(body, Walk::seal)?;
    Ok((sealed, hex_upper(&walk.hasher.finalize())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_are_written_as_go_writes_them() {
        for (f, go) in [
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
            (1.0, "1"),
            (1e20, "100000000000000000000"),
            (1e-7, "0.0000001"),
            (0.1, "0.1"),
            (-2.5, "-2.5"),
        ] {
            assert_eq!(go_float(f), go);
            let back = parse_go_float(go).unwrap();
            assert!(back == f || (back.is_nan() && f.is_nan()), "{go}");
        }
        for (f, yaml) in [
            (6.02e23, "6.02e+23"),
            (1e6, "1e+06"),
            (123_456.0, "123456"),
            (1000.0, "1000"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-1.5e-7, "-1.5e-07"),
            (f64::NEG_INFINITY, "-.inf"),
        ] {
            assert_eq!(yaml_float(f), yaml, "{f}");
        }
    }

    #[test]
    fn booleans_differ_between_the_value_and_the_mac() {
        assert_eq!(Typed::Bool(true).sealed_bytes(), b"true");
        assert_eq!(Typed::Bool(true).mac_bytes(), b"True");
        assert_eq!(Typed::Bool(false).mac_bytes(), b"False");
    }

    #[test]
    fn partial_rules_apply_to_every_key_of_the_path() {
        let rules = Rules::new(Some(("unencrypted_suffix", "_unencrypted")), false).unwrap();
        assert!(rules.encrypts(&["a", "b"]));
        assert!(!rules.encrypts(&["a_unencrypted", "b"]));
        let rules = Rules::new(Some(("encrypted_regex", "^(data|stringData)$")), false).unwrap();
        assert!(rules.encrypts(&["data", "x"]));
        assert!(!rules.encrypts(&["metadata", "name"]));
        assert!(Rules::new(Some(("encrypted_comment_regex", "x")), false).is_err());
        assert_eq!(additional_data(&["a", "b"]), b"a:b:");
    }

    /// Documents of every shape sops walks: nested maps and lists of typed scalars (NaN
    /// left out: it equals nothing, not even itself), keys among them `:` and the suffix
    /// and regex the rules below pick.
    fn document() -> impl proptest::strategy::Strategy<Value = Node> {
        use proptest::prelude::*;
        fn origin() -> crate::origin::Origin {
            crate::origin::Origin::file_start(&crate::origin::SourceFile::new("t", ""))
        }
        fn scalar(text: String, kind: ScalarKind) -> Node {
            Node::new(Value::Scalar(Scalar { text, kind }), origin())
        }
        let leaf = prop_oneof![
            any::<String>().prop_map(|t| scalar(t, ScalarKind::Str)),
            any::<i64>().prop_map(|i| scalar(i.to_string(), ScalarKind::Int)),
            prop_oneof![
                any::<f64>().prop_filter("not NaN", |f| !f.is_nan()),
                Just(f64::INFINITY),
                Just(f64::NEG_INFINITY)
            ]
            .prop_map(|f| scalar(yaml_float(f), ScalarKind::Float)),
            any::<bool>().prop_map(|b| scalar(b.to_string(), ScalarKind::Bool)),
            Just(Node::new(Value::Null, origin())),
        ];
        let key = "(a|b|k_u|x:y|[a-z]{1,3})";
        leaf.prop_recursive(3, 24, 4, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4)
                    .prop_map(|items| Node::new(Value::Seq(items), origin())),
                proptest::collection::vec((key, inner), 0..4).prop_map(|entries| {
                    Node::new(Value::Map(entries.into_iter().collect()), origin())
                }),
            ]
        })
        .prop_map(|body| {
            let mut map = Map::new();
            map.insert("top".to_owned(), body);
            Node::new(Value::Map(map), origin())
        })
    }

    /// How many `ENC[...]` strings a document holds.
    fn count_sealed(node: &Node) -> usize {
        match &node.value {
            Value::Map(map) => map.values().map(count_sealed).sum(),
            Value::Seq(items) => items.iter().map(count_sealed).sum(),
            Value::Scalar(s) => usize::from(s.text.starts_with("ENC[")),
            Value::Null => 0,
        }
    }

    /// Flips one bit of the ciphertext of the `n`th `ENC[...]` string (depth first).
    fn flip_sealed(node: &mut Node, n: &mut usize) {
        use base64::Engine as _;
        match &mut node.value {
            Value::Map(map) => map.values_mut().for_each(|v| flip_sealed(v, n)),
            Value::Seq(items) => items.iter_mut().for_each(|v| flip_sealed(v, n)),
            Value::Scalar(s) if s.text.starts_with("ENC[") => {
                if *n == 0 {
                    let b64 = base64::engine::general_purpose::STANDARD;
                    let data = s
                        .text
                        .split("data:")
                        .nth(1)
                        .unwrap()
                        .split(',')
                        .next()
                        .unwrap()
                        .to_owned();
                    let mut bytes = b64.decode(&data).unwrap();
                    bytes[0] ^= 1;
                    s.text = s.text.replacen(
                        &format!("data:{data},"),
                        &format!("data:{},", b64.encode(&bytes)),
                        1,
                    );
                }
                *n = n.wrapping_sub(1);
            }
            _ => {}
        }
    }

    proptest::proptest! {
        /// Whatever the document and rule: what the tree encrypts, it decrypts to the same
        /// values with the MAC verified; and any one sealed value changed (one bit of its
        /// ciphertext) is refused, never read as something else.
        #[test]
        fn every_document_round_trips_and_any_changed_value_is_refused(
            doc in document(),
            rule in 0usize..4,
            mac_only in proptest::bool::ANY,
            pick in 0usize..64,
        ) {
            let partial = [
                None,
                Some(("unencrypted_suffix", "_u")),
                Some(("encrypted_regex", "^(a|top)$")),
                Some(("unencrypted_regex", ":")),
            ][rule];
            let rules = Rules::new(partial, mac_only).unwrap();
            let key = [7u8; 32];
            let (mut sealed, mac) = encrypt(&doc, &rules, &key).unwrap();
            let stamped = super::super::sops::seal_typed(&key, mac.as_bytes(), b"2026-01-01T00:00:00Z", "str").unwrap();
            let opened = decrypt(&sealed, &rules, &key, &stamped, "2026-01-01T00:00:00Z").unwrap();
            proptest::prop_assert_eq!(opened.to_json(), doc.to_json());

            let count = count_sealed(&sealed);
            if count > 0 {
                flip_sealed(&mut sealed, &mut (pick % count));
                let tampered = decrypt(&sealed, &rules, &key, &stamped, "2026-01-01T00:00:00Z");
                proptest::prop_assert!(tampered.is_err());
            }
        }
    }
}
