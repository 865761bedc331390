//! Per-tenant secrets: `tenants/<t>/<s>/secrets.enc.yaml`, SOPS-encrypted with age.
//!
//! Decrypted values live only in memory, in [`SecretValue`]s that zeroize on drop and print
//! as `<redacted>`; they leave the process only inside a rendered Secret (or through
//! `stencil secrets decrypt`).

pub mod keys;
pub mod rules;
pub mod sops;

use std::collections::BTreeMap;
use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::{Diagnostic, Result};
use crate::names::check_env_name;
use crate::source::{RepoPath, Source};

pub use keys::Keys;

/// A decrypted value: never printed, wiped from memory when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(Zeroizing<String>);

impl SecretValue {
    pub fn new(text: String) -> Self {
        SecretValue(Zeroizing::new(text))
    }

    /// The plaintext, for the few places that must have it (the rendered Secret).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The decrypted secrets of one tenant x service: environment variable name -> value.
#[derive(Clone)]
pub struct Secrets {
    pub values: BTreeMap<String, SecretValue>,
    /// The file's SOPS data key: the key of the checksums and fingerprints below.
    data_key: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secrets")
            .field("names", &self.values.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Secrets {
    /// `checksum/secrets`: HMAC-SHA256, keyed with the file's SOPS data key, over every
    /// name and value (length-prefixed). It changes when any value changes, and without the
    /// data key it cannot be used to test guesses of a value.
    pub fn checksum(&self) -> String {
        let mut mac = hmac(&self.data_key);
        for (name, value) in &self.values {
            for part in [name.as_str(), value.expose()] {
                mac.update(&(part.len() as u64).to_le_bytes());
                mac.update(part.as_bytes());
            }
        }
        hex(&mac.finalize().into_bytes())
    }

    /// A fingerprint of one value keyed with `key` (a per-run key for diffs: equal values
    /// get equal fingerprints within the run, and nothing outside the run can test guesses).
    pub fn fingerprint_with(&self, key: &[u8], name: &str) -> Option<String> {
        let value = self.values.get(name)?;
        Some(keyed_fingerprint(key, name, value.expose().as_bytes()))
    }

    /// A stable fingerprint of one value for reviews: `hmac-sha256:` and 16 hex digits of
    /// the keyed HMAC of the name and value.
    pub fn fingerprint(&self, name: &str) -> Option<String> {
        self.fingerprint_with(&self.data_key, name)
    }
}

fn hmac(key: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length, so this cannot fail.
    <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
}

/// `hmac-sha256:` and 16 hex digits of HMAC-SHA256 under `key` of the length-prefixed name
/// and the value: how every value shown in a review is fingerprinted.
pub fn keyed_fingerprint(key: &[u8], name: &str, value: &[u8]) -> String {
    let mut mac = hmac(key);
    mac.update(&(name.len() as u64).to_le_bytes());
    mac.update(name.as_bytes());
    mac.update(value);
    let digest = hex(&mac.finalize().into_bytes());
    format!("hmac-sha256:{}", &digest[..16])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The maximum size of a secrets file.
const MAX_SECRETS_BYTES: u64 = 1024 * 1024;

/// Reads and decrypts a `secrets.enc.yaml`. `Ok(None)` when there is none.
pub fn load(source: &dyn Source, path: &RepoPath, keys: &Keys) -> Result<Option<Secrets>> {
    Ok(load_or_seal(source, path, keys, false)?.map(|(secrets, _)| secrets))
}

/// Like [`load`]; with `seal`, a file that none of our keys can open is read without
/// decrypting: each value becomes `sealed:` and a digest of its ciphertext, which changes
/// whenever the value is re-encrypted (so a diff without keys still shows which secrets
/// were touched). The flag says whether that happened.
pub fn load_or_seal(
    source: &dyn Source,
    path: &RepoPath,
    keys: &Keys,
    seal: bool,
) -> Result<Option<(Secrets, bool)>> {
    let Some(bytes) = source.read(path, MAX_SECRETS_BYTES)? else {
        return Ok(None);
    };
    let fail = |e: sops::SopsError| Diagnostic::new(format!("{path} {}", e.message)).hint(e.hint);
    let text = String::from_utf8(bytes).map_err(|_| {
        Diagnostic::new(format!("{path} is not valid UTF-8")).hint("a SOPS file is UTF-8 YAML")
    })?;
    let doc = sops::parse(&text).map_err(fail)?;
    let ours = keys.recipients();
    let sealed = seal && !sops::recipients(&doc).iter().any(|r| ours.contains(r));
    let (plain, data_key) = if sealed {
        (
            sops::sealed(&doc),
            Zeroizing::new(b"stencil-sealed".to_vec()),
        )
    } else {
        sops::open(&doc, keys).map_err(fail)?
    };
    let serde_yaml::Value::Mapping(map) = plain else {
        return Err(Diagnostic::new(format!("{path} must hold a mapping of NAME: value")).into());
    };
    let mut values = BTreeMap::new();
    for (key, value) in map {
        // Key names are not secret; values are never put in a message.
        let Some(name) = key.as_str().map(str::to_owned) else {
            return Err(
                Diagnostic::new(format!("{path} has a key that is not a string"))
                    .hint("secrets are NAME: value pairs, one environment variable each")
                    .into(),
            );
        };
        check_env_name(&name).map_err(|msg| {
            Diagnostic::new(format!("{path}: {msg}"))
                .hint("each secret becomes an environment variable; rename the key")
        })?;
        let text = match value {
            serde_yaml::Value::String(s) => s,
            serde_yaml::Value::Number(n) => n.to_string(),
            serde_yaml::Value::Bool(b) => b.to_string(),
            serde_yaml::Value::Null => String::new(),
            _ => {
                return Err(Diagnostic::new(format!(
                    "{path}: the secret `{name}` is a list or mapping, not a single value"
                ))
                .hint("each secret is one environment variable; store structured values as a string (e.g. JSON)")
                .into());
            }
        };
        values.insert(name, SecretValue::new(text));
    }
    Ok(Some((Secrets { values, data_key }, sealed)))
}
