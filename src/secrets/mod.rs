//! Per-tenant secrets: `tenants/<t>/<s>/secrets.enc.yaml`, SOPS-encrypted with age.
//!
//! Decrypted values live only in memory, in [`SecretValue`]s that zeroize on drop and print
//! as `<redacted>`; they leave the process only inside a rendered Secret (or through
//! `stencil secrets decrypt`).

pub mod binding;
pub mod keys;
pub mod rules;
pub mod sops;
mod tree;

#[cfg(test)]
mod checks_tests;
mod unwrap;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::{Diagnostic, Result};
use crate::model::Rule;
use crate::names::check_env_name;
use crate::node::{Node, Value as NodeValue};
use crate::origin::{Origin, SourceFile};
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

/// The platform's `.sops.yaml` (at the repository root), read once per render. A tenant's
/// own `.sops.yaml` further down is never consulted: recipients are a platform decision.
pub struct SopsRules(std::result::Result<Option<rules::Rules>, Diagnostic>);

impl SopsRules {
    pub fn read(source: &dyn Source) -> SopsRules {
        SopsRules(Self::parse(source).map_err(|e| {
            e.into_diagnostics()
                .into_iter()
                .next()
                .unwrap_or_else(|| Diagnostic::new(".sops.yaml cannot be read"))
        }))
    }

    fn parse(source: &dyn Source) -> Result<Option<rules::Rules>> {
        let path = RepoPath::parse(".sops.yaml").map_err(Diagnostic::new)?;
        let Some(bytes) = source.read(&path, MAX_SECRETS_BYTES)? else {
            return Ok(None);
        };
        let file = crate::load::file::decode(path.as_str(), bytes)?;
        Ok(Some(rules::Rules::parse(&file)?))
    }
}

/// How a secrets file is checked besides its MAC: the binding to its place and the
/// recipients `.sops.yaml` names for it.
pub struct Checks<'a> {
    pub rules: &'a SopsRules,
    /// Rendering history (the old side of a diff): a file without a binding is accepted
    /// silently; it was written before the repository was migrated.
    pub history: bool,
    /// A `secrets-binding` exception: a file without a binding is a warning, not an error
    /// (a binding that names another place is always an error).
    pub allow_unbound: bool,
    /// A `secrets-recipients` exception: recipients `.sops.yaml` does not list are a warning.
    pub allow_recipients: bool,
}

/// Reads and decrypts a `secrets.enc.yaml`, checking its binding and recipients. `Ok(None)`
/// when there is none.
pub fn load(source: &dyn Source, path: &RepoPath, keys: &Keys) -> Result<Option<Secrets>> {
    let rules = SopsRules::read(source);
    let checks = Checks {
        rules: &rules,
        history: false,
        allow_unbound: false,
        allow_recipients: false,
    };
    Ok(load_or_seal(source, path, keys, false, &checks)?.map(|(secrets, _)| secrets))
}

/// Like [`load`]; with `seal`, a file that none of our keys can open is read without
/// decrypting: each value becomes `sealed:` and a digest of its ciphertext, which changes
/// whenever the value is re-encrypted (so a diff without keys still shows which secrets
/// were touched). The flag says whether that happened. A sealed file's binding cannot be
/// compared with its place (that takes the data key), only found missing.
pub fn load_or_seal(
    source: &dyn Source,
    path: &RepoPath,
    keys: &Keys,
    seal: bool,
    checks: &Checks<'_>,
) -> Result<Option<(Secrets, bool)>> {
    let Some(bytes) = source.read(path, MAX_SECRETS_BYTES)? else {
        return Ok(None);
    };
    let file = crate::load::file::decode(path.as_str(), bytes)?;
    let doc = sops::parse(&file)?;
    check_recipients(&doc, path, &file, checks)?;
    let ours = keys.recipients();
    let sealed = seal && !sops::recipients(&doc).iter().any(|r| ours.contains(r));
    let (mut plain, data_key) = if sealed {
        (
            sops::sealed(&doc),
            Zeroizing::new(b"stencil-sealed".to_vec()),
        )
    } else {
        sops::open(&doc, keys)
            .map_err(|e| Diagnostic::new(format!("{path} {}", e.message)).hint(e.hint))?
    };
    check_binding(&doc, &mut plain, path, &file, sealed, checks)?;
    let values = values_of(plain, path)?;
    Ok(Some((Secrets { values, data_key }, sealed)))
}

/// The decrypted document as environment variables: NAME -> value, one scalar each.
fn values_of(plain: Node, path: &RepoPath) -> Result<BTreeMap<String, SecretValue>> {
    let NodeValue::Map(map) = plain.value else {
        return Err(Diagnostic::new(format!("{path} must hold a mapping of NAME: value")).into());
    };
    let mut values = BTreeMap::new();
    for (name, value) in map {
        // Key names are not secret; values are never put in a message.
        check_env_name(&name).map_err(|msg| {
            Diagnostic::new(format!("{path}: {msg}"))
                .hint("each secret becomes an environment variable; rename the key")
        })?;
        let text = match value.value {
            NodeValue::Scalar(scalar) => scalar.text,
            NodeValue::Null => String::new(),
            NodeValue::Seq(_) | NodeValue::Map(_) => {
                return Err(Diagnostic::new(format!(
                    "{path}: the secret `{name}` is a list or mapping, not a single value"
                ))
                .hint("each secret is one environment variable; store structured values as a string (e.g. JSON)")
                .into());
            }
        };
        values.insert(name, SecretValue::new(text));
    }
    Ok(values)
}

/// The file's binding against its place: taken out of the decrypted document (it is not a
/// secret), refused when it names another place, and required unless an exception allows
/// an unbound file.
fn check_binding(
    doc: &Node,
    plain: &mut Node,
    path: &RepoPath,
    file: &Arc<SourceFile>,
    sealed: bool,
    checks: &Checks<'_>,
) -> Result<()> {
    let Some(expected) = binding::scope_of(path.as_str()) else {
        return Ok(());
    };
    let at = Origin::new(file, binding::line_in(&file.text), 1);
    // Not a mapping: refused later, with its own message.
    let Some(map) = plain.as_map_mut() else {
        return Ok(());
    };
    let Some(found) = map.shift_remove(binding::SCOPE_KEY) else {
        return unbound(path, &expected, &at, checks);
    };
    check_binding_encrypted(doc, path, &at)?;
    if sealed {
        return Ok(());
    }
    check_scope(&found, &expected, path, &at)
}

/// A file without a binding: an error, unless it is history or an exception allows it.
fn unbound(path: &RepoPath, expected: &str, at: &Origin, checks: &Checks<'_>) -> Result<()> {
    use binding::SCOPE_KEY;
    let rule = Rule::SecretsBinding.name();
    let message = format!("is not bound to {expected}: it has no `{SCOPE_KEY}` entry");
    if checks.history {
        return Ok(());
    }
    if checks.allow_unbound {
        tracing::warn!(
            "{rule} {}:{} {message} (allowed by a policy exception)",
            path,
            at.line
        );
        return Ok(());
    }
    let hint = format!(
        "bind it once with `stencil secrets bind {path}` (needs a key that opens it); a file copied from another place must not be bound here: set its values with `stencil secrets set {path} NAME --from-stdin` instead"
    );
    Err(Diagnostic::new(message)
        .rule(rule)
        .at(at)
        .hint(hint)
        .note("a `secrets-binding` exception in stencil.yaml allows unbound files while a repository migrates")
        .into())
}

/// The entry must be encrypted: only then do its AES-GCM tag and the MAC tie it to the
/// data key, whatever the file's partial-encryption settings.
fn check_binding_encrypted(doc: &Node, path: &RepoPath, at: &Origin) -> Result<()> {
    use binding::SCOPE_KEY;
    let encrypted = doc
        .get(SCOPE_KEY)
        .and_then(sops::text)
        .is_some_and(|v| v.starts_with("ENC["));
    if encrypted {
        return Ok(());
    }
    Err(Diagnostic::new(format!(
        "its `{SCOPE_KEY}` entry is not encrypted, so it proves nothing"
    ))
    .rule(Rule::SecretsBinding.name())
    .at(at)
    .hint(format!(
        "re-create the binding with `stencil secrets bind {path}` after removing the entry; with partial encryption, make sure `{SCOPE_KEY}` is encrypted"
    ))
    .into())
}

/// The decrypted binding must name the file's own place.
fn check_scope(found: &Node, expected: &str, path: &RepoPath, at: &Origin) -> Result<()> {
    let rule = Rule::SecretsBinding.name();
    let Some(scope) = sops::text(found) else {
        return Err(Diagnostic::new(format!(
            "its `{}` entry is not a string",
            binding::SCOPE_KEY
        ))
        .rule(rule)
        .at(at)
        .hint(format!(
            "re-create the binding with `stencil secrets bind {path}`"
        ))
        .into());
    };
    if scope == expected {
        return Ok(());
    }
    // Scopes are written by stencil from paths; shown only if they look like one.
    let shown = if binding::scope_of(&format!("{scope}/secrets.enc.yaml")).is_some()
        && scope.len() <= 300
    {
        scope.to_owned()
    } else {
        "another place".to_owned()
    };
    Err(Diagnostic::new(format!(
        "belongs to {shown}, not to {expected}: it was copied or moved from there, and its secrets are never rendered here"
    ))
    .rule(rule)
    .at(at)
    .hint(format!(
        "set the secrets {expected} needs with `stencil secrets set {path} NAME --from-stdin` (a new file is bound to its place); restore or delete this copy"
    ))
    .into())
}

/// The file's age recipients against the `.sops.yaml` creation rule for its path: a
/// recipient the rule does not list (another tenant's key, a revoked key) is refused; one
/// the rule lists but the file lacks is a warning (run `updatekeys`).
fn check_recipients(
    doc: &Node,
    path: &RepoPath,
    file: &Arc<SourceFile>,
    checks: &Checks<'_>,
) -> Result<()> {
    let Some(matched) = rule_for(path, checks)? else {
        return Ok(());
    };
    let listed: Vec<String> = matched
        .options
        .recipients
        .iter()
        .map(ToString::to_string)
        .collect();
    if listed.is_empty() {
        // The rule names other key types only (PGP, KMS): nothing to compare.
        return Ok(());
    }
    let theirs = sops::recipients(doc);
    let rule_name = match &matched.path_regex {
        Some(regex) => format!("creation rule {} (`path_regex: {regex}`)", matched.number),
        None => format!("creation rule {}", matched.number),
    };
    check_foreign(&theirs, &listed, &rule_name, path, file, checks)?;
    let missing: Vec<&str> = listed
        .iter()
        .filter(|r| !theirs.iter().any(|t| t.trim() == r.as_str()))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        tracing::warn!(
            "{path} is not encrypted for {} ({rule_name} of .sops.yaml lists it); run `stencil secrets updatekeys {path}`",
            missing.join(", ")
        );
    }
    Ok(())
}

/// The `.sops.yaml` creation rule for `path`, if there is a `.sops.yaml` and one matches.
fn rule_for(path: &RepoPath, checks: &Checks<'_>) -> Result<Option<rules::Matched>> {
    let rule = Rule::SecretsRecipients.name();
    let rules = match &checks.rules.0 {
        Ok(Some(rules)) => rules,
        Ok(None) => return Ok(None),
        Err(e) => {
            let mut d = Diagnostic::new(format!(
                "cannot check the recipients of {path}: {}",
                e.message
            ))
            .rule(rule)
            .at_opt(e.origin.as_ref())
            .hint("fix .sops.yaml: it says who each tenant's secrets are encrypted for");
            if let Some(hint) = &e.hint {
                d = d.note(hint.clone());
            }
            return Err(d.into());
        }
    };
    rules.matching(&[path.as_str()]).map_err(|e| {
        Diagnostic::new(format!("cannot check the recipients of {path}: {e}"))
            .rule(rule)
            .into()
    })
}

/// Recipients the rule does not list: an error, or a warning under an exception.
fn check_foreign(
    theirs: &[String],
    listed: &[String],
    rule_name: &str,
    path: &RepoPath,
    file: &Arc<SourceFile>,
    checks: &Checks<'_>,
) -> Result<()> {
    let foreign: Vec<&String> = theirs
        .iter()
        .filter(|r| !listed.contains(&r.trim().to_owned()))
        .collect();
    let Some(first) = foreign.first() else {
        return Ok(());
    };
    let line = file
        .text
        .lines()
        .position(|l| l.contains(first.as_str()))
        .and_then(|i| u32::try_from(i + 1).ok())
        .unwrap_or(1);
    let list = foreign
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let message = format!(
        "is encrypted for {list}, which .sops.yaml's {rule_name} does not list for this path (it lists {})",
        listed.join(", ")
    );
    if checks.allow_recipients {
        tracing::warn!(
            "{} {}:{} {message} (allowed by a policy exception)",
            Rule::SecretsRecipients.name(),
            path,
            line
        );
        return Ok(());
    }
    Err(Diagnostic::new(message)
        .rule(Rule::SecretsRecipients.name())
        .at(&Origin::new(file, line, 1))
        .hint(format!(
            "a key holder re-wraps it for the rule's recipients with `stencil secrets updatekeys {path}`; if it came from another tenant, set its values here with `stencil secrets set` instead"
        ))
        .into())
}
