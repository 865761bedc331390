//! SOPS files (age): read by stencil's own loader into a [`Node`], decrypted with a data
//! key we unwrap ourselves (once per file), and written by stencil's own writer.
//!
//! - The files stencil writes (a flat mapping of strings, fully encrypted) are decrypted and
//!   their MAC checked by a fast path here; every other shape (nesting, typed values, partial
//!   encryption) by [`super::tree`], which walks the document as the sops CLI does.
//! - Empty values: sops leaves `''` and `null` unencrypted; so does stencil.
//! - Errors say what to do, list the recipients the file was encrypted for, and never carry
//!   secret material. A file that is not YAML is reported like every other input, at file:line:col.

use std::sync::Arc;

use super::keys::Keys;
use super::tree;
use crate::error::{Diagnostic, Result};
use crate::load::file::{Schema, parse_file};
use crate::node::{Map, Node, Scalar, ScalarKind, Value};
use crate::origin::SourceFile;

/// Why a SOPS file could not be read. Messages hold no secret material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SopsError {
    pub message: String,
    pub hint: String,
}

pub(super) fn error(message: impl Into<String>, hint: impl Into<String>) -> SopsError {
    SopsError {
        message: message.into(),
        hint: hint.into(),
    }
}

/// The text of a string scalar (not of a number or boolean).
pub fn text(node: &Node) -> Option<&str> {
    match &node.value {
        Value::Scalar(Scalar {
            text,
            kind: ScalarKind::Str,
        }) => Some(text),
        _ => None,
    }
}

fn string(text: impl Into<String>, like: &Node) -> Node {
    Node::string(text, like.origin.clone())
}

/// The age recipients a SOPS document was encrypted for.
pub fn recipients(doc: &Node) -> Vec<String> {
    age_units(doc)
        .iter()
        .filter_map(|u| u.get("recipient").and_then(text).map(str::to_owned))
        .collect()
}

/// The `sops.age` list: one recipient and wrapped data key each.
fn age_units(doc: &Node) -> &[Node] {
    doc.get("sops")
        .and_then(|s| s.get("age"))
        .and_then(Node::as_seq)
        .unwrap_or_default()
}

/// Parses a SOPS file with stencil's loader, refusing anything that is not one.
pub fn parse(file: &Arc<SourceFile>) -> Result<Node> {
    let doc = parse_file(file, Schema::Core)?;
    let has_metadata = doc
        .get("sops")
        .is_some_and(|s| s.get("mac").is_some() && s.get("lastmodified").is_some());
    if !has_metadata {
        return Err(Diagnostic::new(format!(
            "{} is not encrypted: it has no `sops` metadata (mac, lastmodified)",
            file.path
        ))
        .hint("never commit plaintext secrets; encrypt the file in place with `stencil secrets encrypt FILE` (or `sops -e -i FILE`)")
        .into());
    }
    Ok(doc)
}

/// Unwraps the file's data key with our age identities (used as the key of the keyed
/// checksums, so they cannot be brute-forced by anyone without access to the file's key).
pub fn data_key(doc: &Node, keys: &Keys) -> Result<zeroize::Zeroizing<Vec<u8>>, SopsError> {
    age_units(doc)
        .iter()
        .filter_map(|unit| unit.get("enc").and_then(text))
        .find_map(|enc| keys.data_key(enc, || unwrap_key(enc, keys)))
        .ok_or_else(|| {
            error(
                "has no data key that our age keys can unwrap",
                "check SOPS_AGE_KEY / SOPS_AGE_KEY_FILE",
            )
        })
}

/// One armored, age-encrypted data key unwrapped with our identities, if one opens it.
fn unwrap_key(enc: &str, keys: &Keys) -> Option<zeroize::Zeroizing<Vec<u8>>> {
    use std::io::Read as _;
    let mut wrapped = Vec::new();
    age::armor::ArmoredReader::new(enc.as_bytes())
        .read_to_end(&mut wrapped)
        .ok()?;
    let decryptor = age::Decryptor::new_buffered(wrapped.as_slice()).ok()?;
    let identities = keys.unwrappers().iter().map(|i| i as &dyn age::Identity);
    let mut reader = decryptor.decrypt(identities).ok()?;
    let mut key = zeroize::Zeroizing::new(Vec::new());
    (reader.read_to_end(&mut key).is_ok() && key.len() == 32).then_some(key)
}

/// The document without decrypting it: every encrypted string replaced by `sealed:` and 16
/// hex digits of the SHA-256 of its ciphertext, the `sops` metadata dropped. Empty values
/// stay empty; structure (lists, mappings) is kept for the caller to refuse.
pub fn sealed(doc: &Node) -> Node {
    use sha2::{Digest as _, Sha256};
    fn seal(node: &Node) -> Node {
        let value = match &node.value {
            Value::Scalar(s) if s.kind == ScalarKind::Str && s.text.starts_with("ENC[") => {
                let digest = Sha256::digest(s.text.as_bytes());
                let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
                return string(format!("sealed:{hex}"), node);
            }
            Value::Map(map) => Value::Map(map.iter().map(|(k, v)| (k.clone(), seal(v))).collect()),
            Value::Seq(items) => Value::Seq(items.iter().map(seal).collect()),
            other => other.clone(),
        };
        Node::new(value, node.origin.clone())
    }
    let mut out = seal(doc);
    if let Some(map) = out.as_map_mut() {
        map.shift_remove("sops");
    }
    out
}

/// Decrypts a SOPS document with our keys, verifying the MAC. Returns the plaintext
/// document without the `sops` metadata.
pub fn decrypt(doc: &Node, keys: &Keys) -> Result<Node, SopsError> {
    open(doc, keys).map(|(plain, _)| plain)
}

/// Refuses `ENC[...]` values (the MAC's included) of another shape than sops writes: a
/// 32-byte IV and a 16-byte tag, in base64 (named as such, not as a failed MAC).
fn check_enc_shapes(doc: &Node) -> Result<(), SopsError> {
    fn sound(node: &Node) -> bool {
        match &node.value {
            Value::Scalar(s) if s.text.starts_with("ENC[") => {
                parse_enc(&s.text).is_some_and(|enc| enc.iv.len() == 32 && enc.tag.len() == 16)
            }
            Value::Map(map) => map.values().all(sound),
            Value::Seq(items) => items.iter().all(sound),
            _ => true,
        }
    }
    if sound(doc) {
        Ok(())
    } else {
        Err(error(
            "holds a malformed ENC[...] value (sops writes a 32-byte IV and a 16-byte tag, in base64)",
            "restore the file from git, or re-create the value with `stencil secrets set`; never edit ENC[...] values by hand",
        ))
    }
}

/// Decrypts any SOPS document (nesting, typed values, partial encryption,
/// `mac_only_encrypted`) as sops does ([`super::tree`]), with the data key we unwrapped.
fn decrypt_tree(doc: &Node, key: &[u8]) -> Result<Node, SopsError> {
    let rewrite = "re-encrypt the file with `stencil secrets encrypt` or `sops -e`; never edit ENC[...] values by hand";
    let mut body = doc.clone();
    let Some(map) = body.as_map_mut() else {
        return Err(error("is not a mapping", rewrite));
    };
    let meta = map
        .shift_remove("sops")
        .ok_or_else(|| error("has no `sops` metadata", rewrite))?;
    let rules = recorded_rules(doc)?;
    let field = |name: &str| {
        meta.get(name)
            .and_then(Node::as_scalar_text)
            .unwrap_or_default()
    };
    tree::decrypt(&body, &rules, key, field("mac"), field("lastmodified"))
}

/// sops features stencil does not implement, refused by name rather than misread.
fn check_supported(doc: &Node) -> Result<(), SopsError> {
    let Some(meta) = doc.get("sops") else {
        return Ok(());
    };
    let unsupported = [
        (
            "key_groups",
            "key groups (`key_groups`, Shamir secret sharing)",
        ),
        (
            "shamir_threshold",
            "Shamir secret sharing (`shamir_threshold`)",
        ),
        ("unencrypted_comment_regex", "`unencrypted_comment_regex`"),
        ("encrypted_comment_regex", "`encrypted_comment_regex`"),
    ];
    for (key, feature) in unsupported {
        if meta.get(key).is_some_and(|v| !v.is_null()) {
            return Err(error(
                format!("uses {feature}, which stencil does not support"),
                "re-encrypt it with sops without that setting (stencil reads age recipients listed under `sops.age`, and the suffix and regex rules)",
            ));
        }
    }
    Ok(())
}

/// The recipients check of [`open`]: the file must be encrypted for one of our keys.
fn check_ours(theirs: &[String], keys: &Keys) -> Result<(), SopsError> {
    let for_whom = theirs.join(", ");
    if theirs.is_empty() {
        return Err(error(
            "is encrypted for no age recipient (other key types are not supported)",
            "stencil decrypts age-encrypted SOPS files; re-encrypt it for an age recipient",
        ));
    }
    let ours = keys.recipients();
    if theirs.iter().any(|r| ours.contains(r)) {
        return Ok(());
    }
    let mut have = if keys.is_empty() {
        "no age key was found (SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, ~/.config/sops/age/keys.txt)"
            .to_owned()
    } else {
        format!(
            "the age keys found ({}) are for {}",
            keys.sources().join(", "),
            ours.join(", ")
        )
    };
    if !keys.problems().is_empty() {
        have = format!("{have}; {}", keys.problems().join("; "));
    }
    Err(error(
        format!("cannot be decrypted: it is encrypted for {for_whom}, and {have}"),
        "provide a private key for one of those recipients in SOPS_AGE_KEY or SOPS_AGE_KEY_FILE, or ask a holder to add yours with `stencil secrets updatekeys`",
    ))
}

/// Decrypts a SOPS document and returns it with its data key (the key of the keyed
/// checksums), unwrapping the data key once, with the identities in `keys` (never through
/// the environment).
///
/// Unwrapping is an X25519 agreement per file, the largest cost of a large render. For the
/// files stencil reads (a flat mapping of string values, fully encrypted, no
/// partial-encryption settings) the values and the MAC are checked here with the unwrapped
/// key; anything else, and any file that does not check out here, goes through sops' tree
/// and MAC code, whose verdict (and error message) is the one reported.
pub fn open(doc: &Node, keys: &Keys) -> Result<(Node, zeroize::Zeroizing<Vec<u8>>), SopsError> {
    check_supported(doc)?;
    let theirs = recipients(doc);
    check_ours(&theirs, keys)?;
    let for_whom = theirs.join(", ");
    check_enc_shapes(doc)?;
    let key = data_key(doc, keys).map_err(|_| {
        error(
            format!("failed its MAC check, or its data key could not be unwrapped (encrypted for {for_whom})"),
            "restore the file from git; if it is intact, check that your key matches a recipient",
        )
    })?;
    if let Some(plain) = decrypt_flat(doc, &key) {
        return Ok((plain, key));
    }
    let plain = decrypt_tree(doc, &key)?;
    Ok((plain, key))
}

/// One `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]` value, decoded.
pub(super) struct Sealed {
    data: Vec<u8>,
    iv: Vec<u8>,
    tag: Vec<u8>,
    pub(super) kind: String,
}

pub(super) fn parse_enc(text: &str) -> Option<Sealed> {
    use base64::Engine as _;
    let body = text.strip_prefix("ENC[AES256_GCM,")?.strip_suffix(']')?;
    let (mut data, mut iv, mut tag, mut kind) = (None, None, None, None);
    for part in body.split(',') {
        let (name, value) = part.split_once(':')?;
        let decode = || base64::engine::general_purpose::STANDARD.decode(value).ok();
        // Each part once: a repeated part would be read one way here and another way by
        // another reader (fuzzing found a MAC with two `iv:` parts).
        let slot_empty = match name {
            "data" => data.is_none(),
            "iv" => iv.is_none(),
            "tag" => tag.is_none(),
            "type" => kind.is_none(),
            _ => false,
        };
        if !slot_empty {
            return None;
        }
        match name {
            "data" => data = Some(decode()?),
            "iv" => iv = Some(decode()?),
            "tag" => tag = Some(decode()?),
            _ => kind = Some(value.to_owned()),
        }
    }
    Some(Sealed {
        data: data?,
        iv: iv?,
        tag: tag?,
        kind: kind?,
    })
}

/// AES-256-GCM with sops' 32-byte nonces; `None` when the tag does not verify.
pub(super) fn open_value(key: &[u8], sealed: Sealed, aad: &[u8]) -> Option<Vec<u8>> {
    use aes_gcm::aead::consts::U32;
    use aes_gcm::aead::generic_array::GenericArray;
    use aes_gcm::{AeadInPlace as _, AesGcm, KeyInit as _, aes::Aes256};
    if sealed.iv.len() != 32 || sealed.tag.len() != 16 {
        return None;
    }
    let cipher = AesGcm::<Aes256, U32>::new_from_slice(key).ok()?;
    let mut buffer = sealed.data;
    cipher
        .decrypt_in_place_detached(
            GenericArray::from_slice(&sealed.iv),
            aad,
            &mut buffer,
            GenericArray::from_slice(&sealed.tag),
        )
        .ok()?;
    Some(buffer)
}

/// The fast path of [`open`]: `None` unless the document is a flat mapping of non-empty
/// `type:str` values without partial-encryption settings whose values and MAC all verify.
fn decrypt_flat(doc: &Node, key: &[u8]) -> Option<Node> {
    use sha2::{Digest as _, Sha512};
    let map = doc.as_map()?;
    let sops = doc.get("sops")?.as_map()?;
    // Every top-level value encrypted, by whatever rule the file records (sops' default
    // `unencrypted_suffix: _unencrypted` among them), and the MAC over all of them.
    let rules = recorded_rules(doc).ok()?;
    if rules.mac_only_encrypted || map.keys().any(|k| k != "sops" && !rules.encrypts(&[k])) {
        return None;
    }
    let mut hasher = Sha512::new();
    let mut plain = Map::with_capacity(map.len());
    for (name, value) in map {
        if name == "sops" {
            continue;
        }
        let sealed = parse_enc(text(value)?)?;
        if sealed.kind != "str" {
            return None;
        }
        let opened = open_value(key, sealed, format!("{name}:").as_bytes())?;
        hasher.update(&opened);
        plain.insert(name.clone(), string(String::from_utf8(opened).ok()?, value));
    }
    let last_modified = text(sops.get("lastmodified")?)?;
    let mac = parse_enc(text(sops.get("mac")?)?)?;
    let stored = open_value(key, mac, last_modified.as_bytes())?;
    let computed: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    (stored == computed.as_bytes()).then(|| Node::new(Value::Map(plain), doc.origin.clone()))
}

/// A string value sealed as sops seals one.
fn seal_value(key: &[u8], plain: &[u8], aad: &[u8]) -> Option<String> {
    seal_typed(key, plain, aad, "str")
}

/// AES-256-GCM with a fresh 32-byte nonce, as sops writes a value: `ENC[AES256_GCM,…]`.
pub(super) fn seal_typed(key: &[u8], plain: &[u8], aad: &[u8], kind: &str) -> Option<String> {
    use aes_gcm::aead::consts::U32;
    use aes_gcm::aead::generic_array::GenericArray;
    use aes_gcm::{AeadInPlace as _, AesGcm, KeyInit as _, aes::Aes256};
    use base64::Engine as _;
    let mut iv = [0u8; 32];
    getrandom::getrandom(&mut iv).ok()?;
    let cipher = AesGcm::<Aes256, U32>::new_from_slice(key).ok()?;
    let mut buffer = plain.to_vec();
    let tag = cipher
        .encrypt_in_place_detached(GenericArray::from_slice(&iv), aad, &mut buffer)
        .ok()?;
    let b64 = base64::engine::general_purpose::STANDARD;
    Some(format!(
        "ENC[AES256_GCM,data:{},iv:{},tag:{},type:{kind}]",
        b64.encode(&buffer),
        b64.encode(iv),
        b64.encode(tag)
    ))
}

/// Now as sops writes `lastmodified`: RFC 3339, UTC, whole seconds.
fn rfc3339_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rest = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// Adds one string entry, first, to a file of the shape the fast path reads (a flat mapping
/// of encrypted strings, no partial encryption) without touching the other values: same
/// data key, same ciphertexts; only the new entry, `lastmodified` and the MAC change, as
/// when sops adds a key. `None` when the file has another shape (or does not verify).
pub fn prepend_value(doc: &Node, key: &[u8], name: &str, value: &str) -> Option<String> {
    use sha2::{Digest as _, Sha512};
    let plain = decrypt_flat(doc, key)?;
    let map = doc.as_map()?;
    if map.contains_key(name) {
        return None;
    }
    let mut out = Map::with_capacity(map.len() + 1);
    let mut hasher = Sha512::new();
    let sealed = seal_value(key, value.as_bytes(), format!("{name}:").as_bytes())?;
    out.insert(name.to_owned(), string(sealed, doc));
    hasher.update(value.as_bytes());
    for (k, v) in map {
        if k == "sops" {
            continue;
        }
        hasher.update(text(plain.get(k)?)?.as_bytes());
        out.insert(k.clone(), v.clone());
    }
    let mac: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    let mut meta = doc.get("sops")?.clone();
    let now = rfc3339_now();
    let sealed_mac = seal_value(key, mac.as_bytes(), now.as_bytes())?;
    let entries = meta.as_map_mut()?;
    entries.insert("mac".to_owned(), string(sealed_mac, doc));
    entries.insert("lastmodified".to_owned(), string(now, doc));
    out.insert("sops".to_owned(), meta);
    Some(write(&Node::new(Value::Map(out), doc.origin.clone())))
}

/// A document as stencil writes every YAML file.
fn write(doc: &Node) -> String {
    crate::yaml::write::node_document(doc)
}

/// How to encrypt: recipients and sops' partial-encryption settings.
pub struct EncryptOptions {
    pub recipients: Vec<age::x25519::Recipient>,
    /// One of `encrypted_suffix`, `encrypted_regex`, `unencrypted_suffix`, `unencrypted_regex`.
    pub partial: Option<(String, String)>,
    pub mac_only_encrypted: bool,
}

/// The sops version written into `sops.version` (readers such as sops-age require it).
pub const SOPS_FORMAT_VERSION: &str = "3.9.4";

const PARTIAL_KEYS: [&str; 4] = [
    "encrypted_suffix",
    "encrypted_regex",
    "unencrypted_suffix",
    "unencrypted_regex",
];

/// Encrypts a plaintext document (a mapping) for the given recipients. Empty values (`''`,
/// `null`) stay as they are, as sops leaves them.
pub fn encrypt(plain: &Node, options: &EncryptOptions) -> Result<String, SopsError> {
    if plain.as_map().is_none() {
        return Err(error(
            "is not a mapping of keys to values",
            "a secrets file is `NAME: value` pairs",
        ));
    }
    if plain.get("sops").is_some() {
        return Err(error(
            "is already encrypted (it has `sops` metadata)",
            "use `stencil secrets set` to change a value",
        ));
    }
    if options.recipients.is_empty() {
        return Err(error(
            "has no recipient to encrypt for",
            "pass --age RECIPIENT, or add a creation rule with `age:` to .sops.yaml",
        ));
    }
    // As sops: without another rule, keys ending in `_unencrypted` stay plaintext.
    let partial = options
        .partial
        .clone()
        .unwrap_or_else(|| ("unencrypted_suffix".to_owned(), "_unencrypted".to_owned()));
    let rules = tree::Rules::new(
        Some((partial.0.as_str(), partial.1.as_str())),
        options.mac_only_encrypted,
    )?;
    let mut data_key = zeroize::Zeroizing::new(vec![0u8; 32]);
    getrandom::getrandom(&mut data_key).map_err(|_| {
        error(
            "could not be encrypted: no randomness",
            "report this as a bug",
        )
    })?;
    let (encrypted, mac) = tree::encrypt(plain, &rules, &data_key)?;
    let now = rfc3339_now();
    let sealed_mac = seal_value(&data_key, mac.as_bytes(), now.as_bytes())
        .ok_or_else(|| error("could not be encrypted", "report this as a bug"))?;
    let mut meta = Map::new();
    meta.insert(
        "age".to_owned(),
        age_stanzas(&data_key, &options.recipients, plain)?,
    );
    meta.insert("lastmodified".to_owned(), string(now, plain));
    meta.insert("mac".to_owned(), string(sealed_mac, plain));
    if options.mac_only_encrypted {
        meta.insert(
            "mac_only_encrypted".to_owned(),
            Node::new(
                Value::Scalar(Scalar {
                    text: "true".to_owned(),
                    kind: ScalarKind::Bool,
                }),
                plain.origin.clone(),
            ),
        );
    }
    meta.insert(partial.0, string(partial.1, plain));
    meta.insert("version".to_owned(), string(SOPS_FORMAT_VERSION, plain));
    let mut out = encrypted;
    if let Some(map) = out.as_map_mut() {
        map.insert(
            "sops".to_owned(),
            Node::new(Value::Map(meta), plain.origin.clone()),
        );
    }
    Ok(write(&out))
}

/// `plain` encrypted in place of `doc`'s values with `doc`'s own data key and settings, as
/// sops does when a file is edited: every master key in `sops` (age, and the KMS, PGP or
/// Vault keys stencil cannot use) stays valid and is kept; only the values, `lastmodified`
/// and the MAC change.
pub fn reencrypt(doc: &Node, plain: &Node, key: &[u8]) -> Result<String, SopsError> {
    let (encrypted, mac) = tree::encrypt(plain, &recorded_rules(doc)?, key)?;
    let now = rfc3339_now();
    let sealed_mac = seal_value(key, mac.as_bytes(), now.as_bytes())
        .ok_or_else(|| error("could not be encrypted", "report this as a bug"))?;
    let mut meta = doc
        .get("sops")
        .cloned()
        .ok_or_else(|| error("has no `sops` metadata", "re-create the file"))?;
    if let Some(entries) = meta.as_map_mut() {
        entries.insert("lastmodified".to_owned(), string(now, doc));
        entries.insert("mac".to_owned(), string(sealed_mac, doc));
    }
    let mut out = encrypted;
    if let Some(map) = out.as_map_mut() {
        map.insert("sops".to_owned(), meta);
    }
    Ok(write(&out))
}

/// The partial-encryption rule and MAC scope a file's `sops` metadata records.
fn recorded_settings(doc: &Node) -> (Option<(String, String)>, bool) {
    let meta = doc.get("sops");
    let partial = PARTIAL_KEYS.iter().find_map(|k| {
        meta.and_then(|m| m.get(k))
            .and_then(text)
            .map(|v| ((*k).to_owned(), v.to_owned()))
    });
    let mac_only_encrypted = meta
        .and_then(|m| m.get("mac_only_encrypted"))
        .and_then(Node::as_scalar_text)
        .is_some_and(|v| matches!(v, "true" | "True" | "TRUE"));
    (partial, mac_only_encrypted)
}

/// The rules a file was encrypted by, as the tree walks them.
fn recorded_rules(doc: &Node) -> Result<tree::Rules, SopsError> {
    let (partial, mac_only_encrypted) = recorded_settings(doc);
    tree::Rules::new(
        partial.as_ref().map(|(k, v)| (k.as_str(), v.as_str())),
        mac_only_encrypted,
    )
}

/// The encryption settings an existing file was written with, to re-encrypt it alike.
pub fn options_of(doc: &Node) -> Result<EncryptOptions, SopsError> {
    let recipients = recipients(doc)
        .iter()
        .map(|r| r.parse::<age::x25519::Recipient>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| {
            error(
                "lists an invalid age recipient",
                "fix or re-create the file",
            )
        })?;
    let (partial, mac_only_encrypted) = recorded_settings(doc);
    Ok(EncryptOptions {
        recipients,
        partial,
        mac_only_encrypted,
    })
}

/// Re-wraps the file's data key for `recipients` (sops `updatekeys`): values, MAC and
/// `lastmodified` stay byte-for-byte the same.
pub fn update_keys(
    doc: &Node,
    keys: &Keys,
    recipients: &[age::x25519::Recipient],
) -> Result<String, SopsError> {
    if recipients.is_empty() {
        return Err(error(
            "would have no recipient left",
            "add a creation rule with `age:` to .sops.yaml",
        ));
    }
    let data_key = data_key(doc, keys)?;
    let units = age_stanzas(&data_key, recipients, doc)?;
    let mut out = doc.clone();
    if let Some(meta) = out
        .as_map_mut()
        .and_then(|m| m.get_mut("sops"))
        .and_then(Node::as_map_mut)
    {
        meta.insert("age".to_owned(), units);
    }
    Ok(write(&out))
}

/// `sops.age`: the data key wrapped for each recipient, as sops lists it.
fn age_stanzas(
    data_key: &[u8],
    recipients: &[age::x25519::Recipient],
    like: &Node,
) -> Result<Node, SopsError> {
    let units = recipients
        .iter()
        .map(|recipient| {
            let mut unit = Map::new();
            unit.insert("recipient".to_owned(), string(recipient.to_string(), like));
            unit.insert(
                "enc".to_owned(),
                string(wrap_key(data_key, recipient)?, like),
            );
            Ok(Node::new(Value::Map(unit), like.origin.clone()))
        })
        .collect::<Result<Vec<_>, SopsError>>()?;
    Ok(Node::new(Value::Seq(units), like.origin.clone()))
}

/// The data key encrypted and armored for one age recipient, as sops stores it.
fn wrap_key(data_key: &[u8], recipient: &age::x25519::Recipient) -> Result<String, SopsError> {
    use std::io::Write as _;
    let fail = |_| error("could not be re-encrypted", "check the recipients");
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(recipient as &dyn age::Recipient))
            .map_err(|_| error("could not be re-encrypted", "check the recipients"))?;
    let mut armored = Vec::new();
    let writer =
        age::armor::ArmoredWriter::wrap_output(&mut armored, age::armor::Format::AsciiArmor)
            .map_err(fail)?;
    let mut stream = encryptor.wrap_output(writer).map_err(fail)?;
    stream.write_all(data_key).map_err(fail)?;
    stream
        .finish()
        .and_then(age::armor::ArmoredWriter::finish)
        .map_err(fail)?;
    Ok(String::from_utf8_lossy(&armored).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo_keys() -> Keys {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/keys/demo-age-key.txt");
        Keys::from_text(&std::fs::read_to_string(path).expect("demo key"))
    }

    fn yaml(text: &str) -> Node {
        parse_file(&SourceFile::new("plain.yaml", text), Schema::Core).expect("YAML")
    }

    fn sops_file(text: &str) -> Node {
        parse(&SourceFile::new("secrets.enc.yaml", text)).expect("parse")
    }

    fn encrypted(keys: &Keys, plain: &str) -> Node {
        let options = EncryptOptions {
            recipients: keys
                .identities()
                .iter()
                .map(age::x25519::Identity::to_public)
                .collect(),
            partial: None,
            mac_only_encrypted: false,
        };
        sops_file(&encrypt(&yaml(plain), &options).expect("encrypt"))
    }

    /// The node at a path of keys.
    fn at<'a>(doc: &'a Node, path: &[&str]) -> &'a Node {
        path.iter()
            .fold(doc, |node, key| node.get(key).expect("key"))
    }

    fn at_mut<'a>(doc: &'a mut Node, path: &[&str]) -> &'a mut Node {
        path.iter().fold(doc, |node, key| {
            node.as_map_mut()
                .and_then(|m| m.get_mut(*key))
                .expect("key")
        })
    }

    fn text_at(doc: &Node, path: &[&str]) -> String {
        text(at(doc, path)).expect("string").to_owned()
    }

    fn set_text(doc: &mut Node, path: &[&str], value: impl Into<String>) {
        let node = at_mut(doc, path);
        *node = Node::string(value, node.origin.clone());
    }

    fn set_node(doc: &mut Node, path: &[&str], value: Node) {
        *at_mut(doc, path) = value;
    }

    /// Replaces the `field:` part of the ENC value under `key` with the one under `other`.
    fn swap_field(doc: &mut Node, key: &str, other: &str, field: &str) {
        let get = |doc: &Node, k: &str| {
            let text = text_at(doc, &[k]);
            let start = text.find(&format!("{field}:")).expect("field");
            let end = text[start..]
                .find(',')
                .map_or(text.len() - 1, |e| start + e);
            (text.clone(), start, end)
        };
        let (mine, s1, e1) = get(doc, key);
        let (theirs, s2, e2) = get(doc, other);
        let swapped = format!("{}{}{}", &mine[..s1], &theirs[s2..e2], &mine[e1..]);
        set_text(doc, &[key], swapped);
    }

    #[test]
    fn a_malformed_sops_file_is_reported_at_file_line_and_column() {
        let name = "tenants/acme/api/secrets.enc.yaml";
        let cases = [
            ("A: ENC[x]\nsops:\n  mac: [unclosed\n", 4),
            ("A: ENC[x]\nA: ENC[y]\nsops: {}\n", 2),
            ("A: ENC[x]\nsops:\n\tmac: x\n", 3),
        ];
        for (text, line) in cases {
            let err = parse(&SourceFile::new(name, text)).expect_err("refused");
            let d = &err.diagnostics()[0];
            let origin = d.origin.as_ref().expect("located");
            assert_eq!((origin.path(), origin.line), (name, line), "{}", d.render());
            assert!(d.hint.is_some(), "{}", d.render());
            // A secrets file is never quoted in a message.
            assert!(!d.render().contains("ENC["), "{}", d.render());
        }
        let err = parse(&SourceFile::new(name, "A: one\n")).expect_err("plaintext");
        let d = &err.diagnostics()[0];
        assert!(
            d.message.starts_with(&format!("{name} is not encrypted")),
            "{}",
            d.message
        );
    }

    #[test]
    fn written_files_keep_their_order_and_read_back() {
        let keys = demo_keys();
        let doc = encrypted(&keys, "B: two\nA: ''\nC: one\n");
        let keys_in_order: Vec<_> = doc.as_map().expect("map").keys().collect();
        assert_eq!(keys_in_order, ["B", "A", "C", "sops"]);
        assert_eq!(text_at(&doc, &["sops", "version"]), SOPS_FORMAT_VERSION);
        let plain = decrypt(&doc, &keys).expect("decrypt");
        assert_eq!(
            crate::yaml::write::node_document(&plain),
            "B: two\nA: ''\nC: one\n"
        );
    }

    #[test]
    fn a_prepended_value_keeps_the_others_and_verifies() {
        let keys = demo_keys();
        let doc = encrypted(&keys, "A: one\nB: two\n");
        let key = data_key(&doc, &keys).expect("data key");
        let text = prepend_value(&doc, &key, "x/y", "first").expect("flat file");
        let added = sops_file(&text);
        assert_eq!(text_at(&added, &["A"]), text_at(&doc, &["A"]));
        assert_eq!(text_at(&added, &["B"]), text_at(&doc, &["B"]));
        let (plain, same_key) = open(&added, &keys).expect("verifies");
        assert_eq!(*same_key, *key);
        let expected = yaml("x/y: first\nA: one\nB: two\n");
        assert_eq!(plain.to_json(), expected.to_json());
        let order: Vec<_> = plain.as_map().expect("map").keys().collect();
        assert_eq!(order, ["x/y", "A", "B"]);
        // The new entry is first and the MAC covers it.
        let mut tampered = added.clone();
        set_node(&mut tampered, &["x/y"], at(&doc, &["A"]).clone());
        assert!(open(&tampered, &keys).is_err());
        let stamp = text_at(&added, &["sops", "lastmodified"]);
        assert!(
            stamp.len() == 20 && stamp.ends_with('Z') && stamp.as_bytes()[10] == b'T',
            "{stamp}"
        );
    }

    #[test]
    fn the_fast_path_decrypts_what_the_tree_encrypted_and_checks_the_mac() {
        let keys = demo_keys();
        let doc = encrypted(&keys, "A: one\nB: 'two: with colon'\nC: '3'\n");
        let key = data_key(&doc, &keys).expect("data key");
        let plain = decrypt_flat(&doc, &key).expect("fast path applies");
        let expected = yaml("A: one\nB: 'two: with colon'\nC: '3'\n").to_json();
        assert_eq!(plain.to_json(), expected);
        let (opened, opened_key) = open(&doc, &keys).expect("open");
        assert_eq!(opened.to_json(), expected);
        assert_eq!(*opened_key, *key);
    }

    #[test]
    fn malformed_ivs_and_tags_are_errors_not_panics() {
        // Found by fuzzing: an IV that decodes to more than 32 bytes (rops, once used here,
        // panicked on it).
        let keys = demo_keys();
        let doc = encrypted(&keys, "A: one\nB: two\n");
        let long = base64_of(&[7u8; 40]);
        let short_tag = base64_of(&[7u8; 8]);
        let cases = [
            ("A", "iv", long.clone()),
            ("A", "tag", short_tag),
            ("A", "iv", base64_of(&[7u8; 12])),
        ];
        for (key, field, value) in cases {
            let mut bad = doc.clone();
            let text = text_at(&bad, &[key]);
            let start = text.find(&format!("{field}:")).expect("field") + field.len() + 1;
            let end = start + text[start..].find(',').expect("comma");
            set_text(
                &mut bad,
                &[key],
                format!("{}{value}{}", &text[..start], &text[end..]),
            );
            let err = open(&bad, &keys).expect_err("refused");
            assert!(err.message.contains("malformed ENC[...] value"), "{err:?}");
        }
        // A part given twice (found by fuzzing in a MAC): refused, whichever is sound.
        let mut twice = doc.clone();
        let text = text_at(&twice, &["A"]);
        let iv_at = text.find(",iv:").expect("iv");
        set_text(
            &mut twice,
            &["A"],
            format!("{},iv:{long}{}", &text[..iv_at], &text[iv_at..]),
        );
        let err = open(&twice, &keys).expect_err("refused");
        assert!(err.message.contains("malformed ENC[...] value"), "{err:?}");
        // The MAC's IV too.
        let mut bad = doc.clone();
        let mac = text_at(&bad, &["sops", "mac"]);
        let start = mac.find("iv:").expect("iv") + 3;
        let end = start + mac[start..].find(',').expect("comma");
        set_text(
            &mut bad,
            &["sops", "mac"],
            format!("{}{long}{}", &mac[..start], &mac[end..]),
        );
        let err = open(&bad, &keys).expect_err("refused");
        assert!(err.message.contains("malformed ENC[...] value"), "{err:?}");
    }

    fn base64_of(bytes: &[u8]) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    #[test]
    fn the_fast_path_refuses_anything_it_cannot_prove() {
        let keys = demo_keys();
        let doc = encrypted(&keys, "A: one\nB: two\n");
        let key = data_key(&doc, &keys).expect("data key");
        assert!(decrypt_flat(&doc, &key).is_some());

        // A value moved under another name: its AES-GCM tag binds it to `A:`.
        let mut moved = doc.clone();
        let a = at(&moved, &["A"]).clone();
        set_node(&mut moved, &["B"], a);
        assert!(decrypt_flat(&moved, &key).is_none());
        // A ciphertext changed.
        let mut changed = doc.clone();
        swap_field(&mut changed, "A", "B", "data");
        assert!(decrypt_flat(&changed, &key).is_none());
        // A value removed: the MAC no longer matches.
        let mut removed = doc.clone();
        removed.as_map_mut().expect("map").shift_remove("B");
        assert!(decrypt_flat(&removed, &key).is_none());
        // The MAC of another file.
        let other = encrypted(&keys, "A: one\n");
        let mut foreign = doc.clone();
        set_node(
            &mut foreign,
            &["sops", "mac"],
            at(&other, &["sops", "mac"]).clone(),
        );
        assert!(decrypt_flat(&foreign, &key).is_none());
        // lastmodified changed: the MAC is bound to it.
        let mut stamped = doc.clone();
        set_text(
            &mut stamped,
            &["sops", "lastmodified"],
            "2001-01-01T00:00:00Z",
        );
        assert!(decrypt_flat(&stamped, &key).is_none());
        // Another key.
        assert!(decrypt_flat(&doc, &[7u8; 32]).is_none());
        // Shapes left to the tree: partial encryption, non-string types, nesting, plaintext.
        let mut partial = doc.clone();
        let origin = partial.origin.clone();
        at_mut(&mut partial, &["sops"])
            .as_map_mut()
            .expect("sops")
            .insert("encrypted_regex".into(), Node::string("^A$", origin));
        assert!(decrypt_flat(&partial, &key).is_none());
        // sops' default suffix rule, once a key ends with the suffix.
        let suffixed = encrypted(&keys, "A_unencrypted: one\nB: two\n");
        let suffixed_key = data_key(&suffixed, &keys).expect("data key");
        assert!(decrypt_flat(&suffixed, &suffixed_key).is_none());
        assert_eq!(text_at(&suffixed, &["A_unencrypted"]), "one");
        let typed = encrypted(&keys, "A: 1\n");
        let typed_key = data_key(&typed, &keys).expect("data key");
        assert!(decrypt_flat(&typed, &typed_key).is_none());
        let nested = encrypted(&keys, "A: { B: one }\n");
        let nested_key = data_key(&nested, &keys).expect("data key");
        assert!(decrypt_flat(&nested, &nested_key).is_none());
        let mut plaintext = doc.clone();
        set_text(&mut plaintext, &["A"], "one");
        assert!(decrypt_flat(&plaintext, &key).is_none());
    }
}
