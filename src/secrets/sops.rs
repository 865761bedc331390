//! SOPS files (age): decryption through `rops`, with the sops conventions rops lacks.
//!
//! - Empty values: sops leaves `''` and `null` unencrypted and rops refuses them, so they are
//!   taken out before decryption and put back after (they add nothing to the MAC).
//! - Errors say what to do, list the recipients the file was encrypted for, and never carry
//!   secret material: rops' own messages (one of which prints MACs) are replaced.

use rops::cryptography::cipher::AES256GCM;
use rops::cryptography::hasher::SHA512;
use rops::file::RopsFile;
use rops::file::format::YamlFileFormat;
use serde_yaml::Value;

use super::keys::Keys;

/// Why a SOPS file could not be read. Messages hold no secret material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SopsError {
    pub message: String,
    pub hint: String,
}

fn error(message: impl Into<String>, hint: impl Into<String>) -> SopsError {
    SopsError {
        message: message.into(),
        hint: hint.into(),
    }
}

/// The age recipients a SOPS document was encrypted for.
pub fn recipients(doc: &Value) -> Vec<String> {
    doc.get("sops")
        .and_then(|s| s.get("age"))
        .and_then(Value::as_sequence)
        .map(|units| {
            units
                .iter()
                .filter_map(|u| {
                    u.get("recipient")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Parses a SOPS document, refusing anything that is not one.
pub fn parse(text: &str) -> Result<Value, SopsError> {
    let doc: Value = serde_yaml::from_str(text).map_err(|e| {
        // serde_yaml's message names the position, never the content.
        let at = e
            .location()
            .map(|l| format!(" (line {}, column {})", l.line(), l.column()))
            .unwrap_or_default();
        error(
            format!("not valid YAML{at}"),
            "a SOPS file is YAML written by `sops` or `stencil secrets encrypt`",
        )
    })?;
    let has_metadata = doc
        .get("sops")
        .is_some_and(|s| s.get("mac").is_some() && s.get("lastmodified").is_some());
    if !has_metadata {
        return Err(error(
            "is not encrypted: it has no `sops` metadata (mac, lastmodified)",
            "never commit plaintext secrets; encrypt the file in place with `stencil secrets encrypt FILE` (or `sops -e -i FILE`)",
        ));
    }
    Ok(doc)
}

fn is_empty_leaf(v: &Value) -> bool {
    matches!(v, Value::Null) || v.as_str() == Some("")
}

/// The document without empty leaves (rops cannot read them).
fn strip_empty(v: &Value) -> Value {
    match v {
        Value::Mapping(m) => Value::Mapping(
            m.iter()
                .filter(|(k, v)| !is_empty_leaf(v) || k.as_str() == Some("sops"))
                .map(|(k, v)| {
                    (
                        k.clone(),
                        if k.as_str() == Some("sops") {
                            v.clone()
                        } else {
                            strip_empty(v)
                        },
                    )
                })
                .collect(),
        ),
        Value::Sequence(s) => Value::Sequence(
            s.iter()
                .filter(|v| !is_empty_leaf(v))
                .map(strip_empty)
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Puts the empty leaves of `original` back into the decrypted document.
fn restore(original: &Value, decrypted: &Value) -> Value {
    match (original, decrypted) {
        (Value::Mapping(o), Value::Mapping(d)) => Value::Mapping(
            o.iter()
                .filter(|(k, _)| k.as_str() != Some("sops"))
                .map(|(k, v)| {
                    let value = if is_empty_leaf(v) {
                        v.clone()
                    } else {
                        d.get(k).map_or(Value::Null, |dv| restore(v, dv))
                    };
                    (k.clone(), value)
                })
                .collect(),
        ),
        (Value::Sequence(o), Value::Sequence(d)) => {
            let mut next = d.iter();
            Value::Sequence(
                o.iter()
                    .map(|v| {
                        if is_empty_leaf(v) {
                            v.clone()
                        } else {
                            next.next().map_or(Value::Null, |dv| restore(v, dv))
                        }
                    })
                    .collect(),
            )
        }
        (_, d) => d.clone(),
    }
}

/// Unwraps the file's data key with our age identities (used as the key of the keyed
/// checksums, so they cannot be brute-forced by anyone without access to the file's key).
pub fn data_key(doc: &Value, keys: &Keys) -> Result<zeroize::Zeroizing<Vec<u8>>, SopsError> {
    use std::io::Read as _;
    let units = doc
        .get("sops")
        .and_then(|s| s.get("age"))
        .and_then(Value::as_sequence);
    for unit in units.into_iter().flatten() {
        let Some(enc) = unit.get("enc").and_then(Value::as_str) else {
            continue;
        };
        let mut wrapped = Vec::new();
        if age::armor::ArmoredReader::new(enc.as_bytes())
            .read_to_end(&mut wrapped)
            .is_err()
        {
            continue;
        }
        let Ok(decryptor) = age::Decryptor::new_buffered(wrapped.as_slice()) else {
            continue;
        };
        let identities = keys.identities().iter().map(|i| i as &dyn age::Identity);
        if let Ok(mut reader) = decryptor.decrypt(identities) {
            let mut key = zeroize::Zeroizing::new(Vec::new());
            if reader.read_to_end(&mut key).is_ok() && key.len() == 32 {
                return Ok(key);
            }
        }
    }
    Err(error(
        "has no data key that our age keys can unwrap",
        "check SOPS_AGE_KEY / SOPS_AGE_KEY_FILE",
    ))
}

/// The document without decrypting it: every encrypted string replaced by `sealed:` and 16
/// hex digits of the SHA-256 of its ciphertext, the `sops` metadata dropped. Empty values
/// stay empty; structure (lists, mappings) is kept for the caller to refuse.
pub fn sealed(doc: &Value) -> Value {
    use sha2::{Digest as _, Sha256};
    fn seal(value: &Value) -> Value {
        match value {
            Value::String(s) if s.starts_with("ENC[") => {
                let digest = Sha256::digest(s.as_bytes());
                let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
                Value::String(format!("sealed:{hex}"))
            }
            Value::Mapping(map) => {
                Value::Mapping(map.iter().map(|(k, v)| (k.clone(), seal(v))).collect())
            }
            Value::Sequence(items) => Value::Sequence(items.iter().map(seal).collect()),
            other => other.clone(),
        }
    }
    let mut out = seal(doc);
    if let Value::Mapping(map) = &mut out {
        map.remove("sops");
    }
    out
}

/// Decrypts a SOPS document with our keys, verifying the MAC. Returns the plaintext
/// document without the `sops` metadata.
pub fn decrypt(doc: &Value, keys: &Keys) -> Result<Value, SopsError> {
    open(doc, keys).map(|(plain, _)| plain)
}

/// Refuses `ENC[...]` values (the MAC's included) that rops would panic on: sops writes a
/// 32-byte IV and a 16-byte tag, in base64, and rops decodes them into buffers of exactly
/// that size without checking.
fn check_enc_shapes(doc: &Value) -> Result<(), SopsError> {
    fn sound(value: &Value) -> bool {
        match value {
            Value::String(s) if s.starts_with("ENC[") => {
                parse_enc(s).is_some_and(|enc| enc.iv.len() == 32 && enc.tag.len() == 16)
            }
            Value::Mapping(map) => map.values().all(sound),
            Value::Sequence(items) => items.iter().all(sound),
            Value::Tagged(tagged) => sound(&tagged.value),
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

/// `T` from the bytes of a data key: rops' data key type is not exported, so it is named
/// only by inference.
fn convert<T: TryFrom<Vec<u8>>>(bytes: Vec<u8>) -> Option<T> {
    T::try_from(bytes).ok()
}

/// Decrypts any SOPS YAML document (nesting, typed values, partial encryption,
/// `mac_only_encrypted`) through rops' map and MAC code with a data key we unwrapped
/// ourselves. rops' own `RopsFile::decrypt` would look for private keys in the process
/// environment (`ROPS_AGE`), where stencil never puts them.
fn decrypt_with_rops(doc: &Value, key: &[u8], for_whom: &str) -> Result<Value, SopsError> {
    use rops::file::format::RopsFileFormatMap;
    use rops::file::map::state::{DecryptedMap, EncryptedMap};
    use rops::file::metadata::RopsFileMetadata;
    use rops::file::metadata::state::{DecryptedMetadata, EncryptedMetadata};
    use rops::file::state::DecryptedFile;

    let rewrite = "re-encrypt the file with `stencil secrets encrypt` or `sops -e`; never edit ENC[...] values by hand";
    let malformed = |e: serde_yaml::Error| {
        let detail = e.to_string();
        let what = if detail.contains("ENC prefix") {
            "holds a value that is not encrypted (a plaintext value in an encrypted file)"
        } else {
            "has malformed SOPS metadata or values"
        };
        error(what, rewrite)
    };
    let tampered = || {
        error(
            "failed its MAC check: the file was changed after it was encrypted",
            "restore the file from git, or re-create the value with `stencil secrets set`",
        )
    };
    let Value::Mapping(mut body) = strip_empty(doc) else {
        return Err(error("is not a mapping", rewrite));
    };
    let meta = body
        .remove("sops")
        .ok_or_else(|| error("has no `sops` metadata", rewrite))?;
    let meta: RopsFileMetadata<EncryptedMetadata<AES256GCM, SHA512>> =
        serde_yaml::from_value(meta).map_err(malformed)?;
    let map: RopsFileFormatMap<EncryptedMap<AES256GCM>, YamlFileFormat> =
        serde_yaml::from_value(Value::Mapping(body)).map_err(malformed)?;
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
        .map_err(|_| error("holds a value that is not a valid ENC[...] value", rewrite))?;
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
        return Err(error("is not a mapping", rewrite));
    };
    // `set_map` recomputes the MAC over the map, as sops does; it must equal the stored one.
    let again =
        RopsFileFormatMap::<DecryptedMap, YamlFileFormat>::from_inner_map(plain_map.clone());
    let recomputed = file.set_map(again).map_err(|_| tampered())?;
    if recomputed.metadata().mac != stored {
        return Err(tampered());
    }
    Ok(restore(doc, &plain))
}

/// Decrypts a SOPS document and returns it with its data key (the key of the keyed
/// checksums), unwrapping the data key once, with the identities in `keys` (never through
/// the environment).
///
/// Unwrapping is an X25519 agreement per file, the largest cost of a large render. For the
/// files stencil reads (a flat mapping of string values, fully encrypted, no
/// partial-encryption settings) the values and the MAC are checked here with the unwrapped
/// key; anything else, and any file that does not check out here, goes through rops' map
/// and MAC code, whose verdict (and error message) is the one reported.
pub fn open(doc: &Value, keys: &Keys) -> Result<(Value, zeroize::Zeroizing<Vec<u8>>), SopsError> {
    let theirs = recipients(doc);
    if theirs.is_empty() {
        return Err(error(
            "is encrypted for no age recipient (other key types are not supported)",
            "stencil decrypts age-encrypted SOPS files; re-encrypt it for an age recipient",
        ));
    }
    let for_whom = theirs.join(", ");
    let ours = keys.recipients();
    if !theirs.iter().any(|r| ours.contains(r)) {
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
        return Err(error(
            format!("cannot be decrypted: it is encrypted for {for_whom}, and {have}"),
            "provide a private key for one of those recipients in SOPS_AGE_KEY or SOPS_AGE_KEY_FILE, or ask a holder to add yours with `stencil secrets updatekeys`",
        ));
    }
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
    // rops is handed only documents whose ENC values have the shape sops writes (it panics
    // on others, see `check_enc_shapes`); should it still panic, that is this file's error,
    // not a crash.
    let outcome = std::panic::catch_unwind(|| decrypt_with_rops(doc, &key, &for_whom));
    let plain = outcome.unwrap_or_else(|_| {
        Err(error(
            "could not be read: the SOPS library failed on it",
            "re-encrypt the file with `stencil secrets encrypt` or `sops -e`; never edit ENC[...] values by hand",
        ))
    })?;
    Ok((plain, key))
}

/// One `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]` value, decoded.
struct Sealed {
    data: Vec<u8>,
    iv: Vec<u8>,
    tag: Vec<u8>,
    kind: String,
}

fn parse_enc(text: &str) -> Option<Sealed> {
    use base64::Engine as _;
    let body = text.strip_prefix("ENC[AES256_GCM,")?.strip_suffix(']')?;
    let (mut data, mut iv, mut tag, mut kind) = (None, None, None, None);
    for part in body.split(',') {
        let (name, value) = part.split_once(':')?;
        let decode = || base64::engine::general_purpose::STANDARD.decode(value).ok();
        // Each part once: a repeated part would be read one way here and another way by
        // rops (fuzzing found a MAC with two `iv:` parts).
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
fn open_value(key: &[u8], sealed: Sealed, aad: &[u8]) -> Option<Vec<u8>> {
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
fn decrypt_flat(doc: &Value, key: &[u8]) -> Option<Value> {
    use sha2::{Digest as _, Sha512};
    let map = doc.as_mapping()?;
    let sops = doc.get("sops")?.as_mapping()?;
    let partial = PARTIAL_KEYS
        .iter()
        .chain(&["mac_only_encrypted"])
        .any(|k| sops.get(*k).is_some_and(|v| !v.is_null()));
    if partial {
        return None;
    }
    let mut hasher = Sha512::new();
    let mut plain = serde_yaml::Mapping::with_capacity(map.len());
    for (name, value) in map {
        let name = name.as_str()?;
        if name == "sops" {
            continue;
        }
        let sealed = parse_enc(value.as_str()?)?;
        if sealed.kind != "str" {
            return None;
        }
        let text = open_value(key, sealed, format!("{name}:").as_bytes())?;
        hasher.update(&text);
        plain.insert(
            Value::String(name.to_owned()),
            Value::String(String::from_utf8(text).ok()?),
        );
    }
    let last_modified = sops.get("lastmodified")?.as_str()?;
    let mac = parse_enc(sops.get("mac")?.as_str()?)?;
    let stored = open_value(key, mac, last_modified.as_bytes())?;
    let computed: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    (stored == computed.as_bytes()).then_some(Value::Mapping(plain))
}

/// AES-256-GCM with a fresh 32-byte nonce, as sops writes a value: `ENC[AES256_GCM,…]`.
fn seal_value(key: &[u8], plain: &[u8], aad: &[u8]) -> Option<String> {
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
        "ENC[AES256_GCM,data:{},iv:{},tag:{},type:str]",
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
pub fn prepend_value(doc: &Value, key: &[u8], name: &str, value: &str) -> Option<String> {
    use sha2::{Digest as _, Sha512};
    let plain = decrypt_flat(doc, key)?;
    let map = doc.as_mapping()?;
    if map.contains_key(name) {
        return None;
    }
    let mut out = serde_yaml::Mapping::with_capacity(map.len() + 1);
    let mut hasher = Sha512::new();
    out.insert(
        Value::from(name),
        Value::from(seal_value(
            key,
            value.as_bytes(),
            format!("{name}:").as_bytes(),
        )?),
    );
    hasher.update(value.as_bytes());
    for (k, v) in map {
        if k.as_str() == Some("sops") {
            continue;
        }
        hasher.update(plain.get(k)?.as_str()?.as_bytes());
        out.insert(k.clone(), v.clone());
    }
    let mac: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    let mut meta = doc.get("sops")?.as_mapping()?.clone();
    let now = rfc3339_now();
    meta.insert(
        Value::from("mac"),
        Value::from(seal_value(key, mac.as_bytes(), now.as_bytes())?),
    );
    meta.insert(Value::from("lastmodified"), Value::from(now));
    out.insert(Value::from("sops"), Value::Mapping(meta));
    serde_yaml::to_string(&Value::Mapping(out)).ok()
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
pub fn encrypt(plain: &Value, options: &EncryptOptions) -> Result<String, SopsError> {
    use rops::file::builder::RopsFileBuilder;
    use rops::file::metadata::PartialEncryptionConfig;
    use rops::integration::AgeIntegration;

    let Value::Mapping(_) = plain else {
        return Err(error(
            "is not a mapping of keys to values",
            "a secrets file is `NAME: value` pairs",
        ));
    };
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
    let Value::Mapping(stripped) = strip_empty(plain) else {
        return Err(error(
            "is not a mapping",
            "a secrets file is `NAME: value` pairs",
        ));
    };
    let mut builder = RopsFileBuilder::<YamlFileFormat>::from_map(stripped)
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
    let encrypted = serde_yaml::to_value(&file)
        .map_err(|_| error("could not be written", "report this as a bug"))?;
    let mut out = restore(plain, &encrypted);
    if let (Value::Mapping(out), Some(Value::Mapping(meta))) = (&mut out, encrypted.get("sops")) {
        let mut meta = meta.clone();
        meta.insert(Value::from("version"), Value::from(SOPS_FORMAT_VERSION));
        out.insert(Value::from("sops"), Value::Mapping(meta));
    }
    serde_yaml::to_string(&out).map_err(|_| error("could not be written", "report this as a bug"))
}

/// The encryption settings an existing file was written with, to re-encrypt it alike.
pub fn options_of(doc: &Value) -> Result<EncryptOptions, SopsError> {
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
    let meta = doc.get("sops");
    let partial = PARTIAL_KEYS.iter().find_map(|k| {
        meta.and_then(|m| m.get(*k))
            .and_then(Value::as_str)
            .map(|v| ((*k).to_owned(), v.to_owned()))
    });
    let mac_only_encrypted = meta
        .and_then(|m| m.get("mac_only_encrypted"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    Ok(EncryptOptions {
        recipients,
        partial,
        mac_only_encrypted,
    })
}

/// Re-wraps the file's data key for `recipients` (sops `updatekeys`): values, MAC and
/// `lastmodified` stay byte-for-byte the same.
pub fn update_keys(
    doc: &Value,
    keys: &Keys,
    recipients: &[age::x25519::Recipient],
) -> Result<String, SopsError> {
    use std::io::Write as _;
    if recipients.is_empty() {
        return Err(error(
            "would have no recipient left",
            "add a creation rule with `age:` to .sops.yaml",
        ));
    }
    let data_key = data_key(doc, keys)?;
    let mut units = Vec::new();
    for recipient in recipients {
        let fail = |_| error("could not be re-encrypted", "check the recipients");
        let encryptor =
            age::Encryptor::with_recipients(std::iter::once(recipient as &dyn age::Recipient))
                .map_err(|_| error("could not be re-encrypted", "check the recipients"))?;
        let mut armored = Vec::new();
        let writer =
            age::armor::ArmoredWriter::wrap_output(&mut armored, age::armor::Format::AsciiArmor)
                .map_err(fail)?;
        let mut stream = encryptor.wrap_output(writer).map_err(fail)?;
        stream.write_all(&data_key).map_err(fail)?;
        stream.finish().and_then(|w| w.finish()).map_err(fail)?;
        let mut unit = serde_yaml::Mapping::new();
        unit.insert(Value::from("recipient"), Value::from(recipient.to_string()));
        unit.insert(
            Value::from("enc"),
            Value::from(String::from_utf8_lossy(&armored).into_owned()),
        );
        units.push(Value::Mapping(unit));
    }
    let mut out = doc.clone();
    if let Some(Value::Mapping(meta)) = out.get_mut("sops") {
        meta.insert(Value::from("age"), Value::Sequence(units));
    }
    serde_yaml::to_string(&out).map_err(|_| error("could not be written", "report this as a bug"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo_keys() -> Keys {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/keys/demo-age-key.txt");
        Keys::from_text(&std::fs::read_to_string(path).expect("demo key"))
    }

    fn encrypted(keys: &Keys, plain: &str) -> Value {
        let options = EncryptOptions {
            recipients: keys.identities().iter().map(|i| i.to_public()).collect(),
            partial: None,
            mac_only_encrypted: false,
        };
        let plain: Value = serde_yaml::from_str(plain).expect("YAML");
        parse(&encrypt(&plain, &options).expect("encrypt")).expect("parse")
    }

    /// Replaces the `field:` part of the ENC value under `key` with the one under `other`.
    fn swap_field(doc: &mut Value, key: &str, other: &str, field: &str) {
        let get = |doc: &Value, k: &str| {
            let text = doc[k].as_str().expect("ENC").to_owned();
            let start = text.find(&format!("{field}:")).expect("field");
            let end = text[start..]
                .find(',')
                .map_or(text.len() - 1, |e| start + e);
            (text.clone(), start, end)
        };
        let (mine, s1, e1) = get(doc, key);
        let (theirs, s2, e2) = get(doc, other);
        let swapped = format!("{}{}{}", &mine[..s1], &theirs[s2..e2], &mine[e1..]);
        doc[key] = Value::String(swapped);
    }

    #[test]
    fn a_prepended_value_keeps_the_others_and_verifies() {
        let keys = demo_keys();
        let doc = encrypted(&keys, "A: one\nB: two\n");
        let key = data_key(&doc, &keys).expect("data key");
        let text = prepend_value(&doc, &key, "x/y", "first").expect("flat file");
        let added = parse(&text).expect("parse");
        assert_eq!(added["A"], doc["A"]);
        assert_eq!(added["B"], doc["B"]);
        let (plain, same_key) = open(&added, &keys).expect("verifies");
        assert_eq!(*same_key, *key);
        let expected: Value = serde_yaml::from_str("x/y: first\nA: one\nB: two\n").expect("YAML");
        assert_eq!(plain, expected);
        // The new entry is first and the MAC covers it.
        let mut tampered = added.clone();
        tampered["x/y"] = doc["A"].clone();
        assert!(open(&tampered, &keys).is_err());
        let stamp = added["sops"]["lastmodified"].as_str().expect("stamp");
        assert!(
            stamp.len() == 20 && stamp.ends_with('Z') && stamp.as_bytes()[10] == b'T',
            "{stamp}"
        );
    }

    #[test]
    fn the_fast_path_decrypts_what_rops_encrypted_and_checks_the_mac() {
        let keys = demo_keys();
        let doc = encrypted(&keys, "A: one\nB: 'two: with colon'\nC: '3'\n");
        let key = data_key(&doc, &keys).expect("data key");
        let plain = decrypt_flat(&doc, &key).expect("fast path applies");
        let expected: Value =
            serde_yaml::from_str("A: one\nB: 'two: with colon'\nC: '3'\n").expect("YAML");
        assert_eq!(plain, expected);
        let (opened, opened_key) = open(&doc, &keys).expect("open");
        assert_eq!(opened, expected);
        assert_eq!(*opened_key, *key);
    }

    #[test]
    fn malformed_ivs_and_tags_are_errors_not_panics() {
        // Found by fuzzing: rops panics on an IV that decodes to more than 32 bytes.
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
            let text = bad[key].as_str().expect("ENC").to_owned();
            let start = text.find(&format!("{field}:")).expect("field") + field.len() + 1;
            let end = start + text[start..].find(',').expect("comma");
            bad[key] = Value::String(format!("{}{value}{}", &text[..start], &text[end..]));
            let err = open(&bad, &keys).expect_err("refused");
            assert!(err.message.contains("malformed ENC[...] value"), "{err:?}");
        }
        // A part given twice (found by fuzzing in a MAC): refused, whichever is sound.
        let mut twice = doc.clone();
        let text = twice["A"].as_str().expect("ENC").to_owned();
        let iv_at = text.find(",iv:").expect("iv");
        twice["A"] = Value::String(format!("{},iv:{long}{}", &text[..iv_at], &text[iv_at..]));
        let err = open(&twice, &keys).expect_err("refused");
        assert!(err.message.contains("malformed ENC[...] value"), "{err:?}");
        // The MAC's IV too.
        let mut bad = doc.clone();
        let mac = bad["sops"]["mac"].as_str().expect("mac").to_owned();
        let start = mac.find("iv:").expect("iv") + 3;
        let end = start + mac[start..].find(',').expect("comma");
        bad["sops"]["mac"] = Value::String(format!("{}{long}{}", &mac[..start], &mac[end..]));
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
        let a = moved["A"].clone();
        moved["B"] = a;
        assert!(decrypt_flat(&moved, &key).is_none());
        // A ciphertext changed.
        let mut changed = doc.clone();
        swap_field(&mut changed, "A", "B", "data");
        assert!(decrypt_flat(&changed, &key).is_none());
        // A value removed: the MAC no longer matches.
        let mut removed = doc.clone();
        removed.as_mapping_mut().expect("map").remove("B");
        assert!(decrypt_flat(&removed, &key).is_none());
        // The MAC of another file.
        let other = encrypted(&keys, "A: one\n");
        let mut foreign = doc.clone();
        foreign["sops"]["mac"] = other["sops"]["mac"].clone();
        assert!(decrypt_flat(&foreign, &key).is_none());
        // lastmodified changed: the MAC is bound to it.
        let mut stamped = doc.clone();
        stamped["sops"]["lastmodified"] = Value::String("2001-01-01T00:00:00Z".into());
        assert!(decrypt_flat(&stamped, &key).is_none());
        // Another key.
        assert!(decrypt_flat(&doc, &[7u8; 32]).is_none());
        // Shapes left to rops: partial encryption, non-string types, nesting, plaintext.
        let mut partial = doc.clone();
        partial["sops"]["unencrypted_suffix"] = Value::String("_unencrypted".into());
        assert!(decrypt_flat(&partial, &key).is_none());
        let typed = encrypted(&keys, "A: 1\n");
        let typed_key = data_key(&typed, &keys).expect("data key");
        assert!(decrypt_flat(&typed, &typed_key).is_none());
        let nested = encrypted(&keys, "A: { B: one }\n");
        let nested_key = data_key(&nested, &keys).expect("data key");
        assert!(decrypt_flat(&nested, &nested_key).is_none());
        let mut plaintext = doc.clone();
        plaintext["A"] = Value::String("one".into());
        assert!(decrypt_flat(&plaintext, &key).is_none());
    }
}
