//! The rops boundary, and the only place stencil uses `serde_yaml`: rops (de)serializes its
//! maps and metadata as `serde_yaml` values, so documents cross here as [`Node`]s and come
//! back as [`Node`]s. Everything stencil reads is parsed by its own loader and everything
//! it writes goes through its own writer; only rops sees `serde_yaml`.
//!
//! Invariants: conversions keep the order of mapping entries (a SOPS MAC depends on it) and
//! a scalar's type (a string stays a string, `1` an integer); rops' own error messages,
//! one of which prints MACs, never reach the user.

use rops::cryptography::cipher::AES256GCM;
use rops::cryptography::hasher::SHA512;
use rops::file::RopsFile;
use rops::file::format::{RopsFileFormatMap, YamlFileFormat};
use serde_yaml::Value;

use super::sops::{EncryptOptions, SopsError, error};
use crate::node::{Map, Node, Scalar, ScalarKind, Value as NodeValue};
use crate::node::{parse_float, parse_int, parse_uint};
use crate::origin::Origin;

const REWRITE: &str = "re-encrypt the file with `stencil secrets encrypt` or `sops -e`; never edit ENC[...] values by hand";

/// A tree as rops reads it.
fn to_rops(node: &Node) -> Value {
    match &node.value {
        NodeValue::Null => Value::Null,
        NodeValue::Scalar(scalar) => scalar_to_rops(scalar),
        NodeValue::Seq(items) => Value::Sequence(items.iter().map(to_rops).collect()),
        NodeValue::Map(map) => Value::Mapping(
            map.iter()
                .map(|(k, v)| (Value::String(k.clone()), to_rops(v)))
                .collect(),
        ),
    }
}

fn scalar_to_rops(scalar: &Scalar) -> Value {
    let text = scalar.text.as_str();
    let typed = match scalar.kind {
        ScalarKind::Bool => Some(Value::Bool(matches!(text, "true" | "True" | "TRUE"))),
        ScalarKind::Int => parse_int(text)
            .map(Value::from)
            .or_else(|| parse_uint(text).map(Value::from)),
        ScalarKind::Float => parse_float(text).map(Value::from),
        ScalarKind::Str | ScalarKind::Rendered | ScalarKind::Template => None,
    };
    typed.unwrap_or_else(|| Value::String(scalar.text.clone()))
}

/// What rops returned, as a tree whose nodes all carry `origin`. `None` for what a SOPS
/// document cannot hold (a collection as a key, a tagged value).
fn from_rops(value: &Value, origin: &Origin) -> Option<Node> {
    let scalar = |text: String, kind| NodeValue::Scalar(Scalar { text, kind });
    let value = match value {
        Value::Null => NodeValue::Null,
        Value::Bool(b) => scalar(b.to_string(), ScalarKind::Bool),
        Value::Number(n) if n.is_f64() => scalar(n.to_string(), ScalarKind::Float),
        Value::Number(n) => scalar(n.to_string(), ScalarKind::Int),
        Value::String(s) => scalar(s.clone(), ScalarKind::Str),
        Value::Sequence(items) => NodeValue::Seq(
            items
                .iter()
                .map(|item| from_rops(item, origin))
                .collect::<Option<_>>()?,
        ),
        Value::Mapping(map) => {
            let mut out = Map::with_capacity(map.len());
            for (key, value) in map {
                out.insert(key_text(key)?, from_rops(value, origin)?);
            }
            NodeValue::Map(out)
        }
        Value::Tagged(_) => return None,
    };
    Some(Node::new(value, origin.clone()))
}

fn key_text(key: &Value) -> Option<String> {
    match key {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A `serde_yaml` value as a tree (for code that still builds one; keys that are not
/// scalars are dropped).
pub fn node_of(value: &Value) -> Node {
    let origin = Origin::file_start(&crate::origin::SourceFile::new("<generated>", ""));
    from_rops(value, &origin).unwrap_or_else(|| Node::empty_map(origin))
}

/// `T` from the bytes of a data key: rops' data key type is not exported, so it is named
/// only by inference.
fn convert<T: TryFrom<Vec<u8>>>(bytes: Vec<u8>) -> Option<T> {
    T::try_from(bytes).ok()
}

fn malformed(e: &serde_yaml::Error) -> SopsError {
    let what = if e.to_string().contains("ENC prefix") {
        "holds a value that is not encrypted (a plaintext value in an encrypted file)"
    } else {
        "has malformed SOPS metadata or values"
    };
    error(what, REWRITE)
}

fn tampered() -> SopsError {
    error(
        "failed its MAC check: the file was changed after it was encrypted",
        "restore the file from git, or re-create the value with `stencil secrets set`",
    )
}

/// Decrypts a SOPS document (`body` without its empty leaves and its `sops` metadata,
/// `meta`) through rops' map and MAC code, with a data key unwrapped by the caller. rops'
/// own `RopsFile::decrypt` would look for private keys in the process environment
/// (`ROPS_AGE`), where stencil never puts them. Returns the decrypted body.
pub(super) fn decrypt(
    body: &Node,
    meta: &Node,
    key: &[u8],
    for_whom: &str,
) -> Result<Node, SopsError> {
    use rops::file::map::state::{DecryptedMap, EncryptedMap};
    use rops::file::metadata::RopsFileMetadata;
    use rops::file::metadata::state::{DecryptedMetadata, EncryptedMetadata};
    use rops::file::state::DecryptedFile;

    let meta: RopsFileMetadata<EncryptedMetadata<AES256GCM, SHA512>> =
        serde_yaml::from_value(to_rops(meta)).map_err(|e| malformed(&e))?;
    let map: RopsFileFormatMap<EncryptedMap<AES256GCM>, YamlFileFormat> =
        serde_yaml::from_value(to_rops(body)).map_err(|e| malformed(&e))?;
    let RopsFileMetadata {
        intregation,
        last_modified,
        mac,
        partial_encryption,
        mac_only_encrypted,
    } = meta;
    let data_key = convert(key.to_vec()).ok_or_else(|| {
        error(
            format!("has a data key of the wrong size (encrypted for {for_whom})"),
            "restore the file from git",
        )
    })?;
    let stored = mac
        .decrypt(&data_key, &last_modified)
        .map_err(|_| tampered())?;
    let internal = map
        .to_internal(partial_encryption.as_ref())
        .map_err(|_| error("holds a value that is not a valid ENC[...] value", REWRITE))?;
    let decrypted = internal.decrypt(&data_key).map_err(|_| {
        error(
            "failed its MAC check: a value's ciphertext was changed after it was encrypted (its AES-GCM tag does not match)",
            "restore the file from git, or re-create the value with `stencil secrets set`",
        )
    })?;
    let metadata = RopsFileMetadata::<DecryptedMetadata<SHA512>> {
        intregation,
        last_modified,
        mac: stored.clone(),
        partial_encryption,
        mac_only_encrypted,
    };
    let file = RopsFile::<DecryptedFile<SHA512>, YamlFileFormat>::new(decrypted, metadata);
    let plain = serde_yaml::to_value(file.map())
        .map_err(|_| error("could not be read back", "report this as a bug"))?;
    let Value::Mapping(plain_map) = &plain else {
        return Err(error("is not a mapping", REWRITE));
    };
    // `set_map` recomputes the MAC over the map, as sops does; it must equal the stored one.
    let again =
        RopsFileFormatMap::<DecryptedMap, YamlFileFormat>::from_inner_map(plain_map.clone());
    let recomputed = file.set_map(again).map_err(|_| tampered())?;
    if recomputed.metadata().mac != stored {
        return Err(tampered());
    }
    from_rops(&plain, &body.origin).ok_or_else(|| error("could not be read back", REWRITE))
}

/// Encrypts a plaintext mapping without empty leaves for `options`' recipients. Returns the
/// encrypted document, `sops` metadata included.
pub(super) fn encrypt(stripped: &Node, options: &EncryptOptions) -> Result<Node, SopsError> {
    use rops::file::builder::RopsFileBuilder;
    use rops::file::metadata::PartialEncryptionConfig;
    use rops::integration::AgeIntegration;

    let Value::Mapping(map) = to_rops(stripped) else {
        return Err(error(
            "is not a mapping",
            "a secrets file is `NAME: value` pairs",
        ));
    };
    let mut builder = RopsFileBuilder::<YamlFileFormat>::from_map(map)
        .add_integration_keys::<AgeIntegration>(options.recipients.iter().cloned());
    if let Some((kind, pattern)) = &options.partial {
        // serde_yaml reads enums from YAML tags; JSON's `{variant: value}` is what rops expects.
        let config: PartialEncryptionConfig = serde_json::from_value(
            serde_json::json!({ kind.as_str(): pattern }),
        )
        .map_err(|_| {
            error(
                format!("has an invalid {kind}"),
                "check the pattern in .sops.yaml",
            )
        })?;
        builder = builder.with_partial_encryption(config);
    }
    if options.mac_only_encrypted {
        builder = builder.mac_only_encrypted();
    }
    let file = builder
        .encrypt::<AES256GCM, SHA512>()
        .map_err(|_| error("could not be encrypted", "check the recipients"))?;
    let written = || error("could not be written", "report this as a bug");
    let encrypted = serde_yaml::to_value(&file).map_err(|_| written())?;
    from_rops(&encrypted, &stripped.origin).ok_or_else(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_keep_order_and_types() {
        let text = "b: one\na: 1\nc: '2'\nd: true\ne: 1.5\nf: [x, ~]\n";
        let file = crate::origin::SourceFile::new("x.yaml", text);
        let node = crate::yaml::read::parse(&file, crate::load::Limits::default()).expect("YAML");
        let value = to_rops(&node);
        let Value::Mapping(map) = &value else {
            panic!("mapping")
        };
        let keys: Vec<_> = map.keys().filter_map(Value::as_str).collect();
        assert_eq!(keys, ["b", "a", "c", "d", "e", "f"]);
        assert_eq!(map.get("a"), Some(&Value::from(1)));
        assert_eq!(map.get("c"), Some(&Value::from("2")));
        let back = from_rops(&value, &node.origin).expect("tree");
        assert_eq!(back.to_json(), node.to_json());
        assert_eq!(
            crate::yaml::write::node_document(&back),
            "b: one\na: 1\nc: '2'\nd: true\ne: 1.5\nf:\n- x\n- null\n"
        );
    }
}
