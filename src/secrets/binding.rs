//! Secrets bound to their place. Every `tenants/<tenant>/<service>/secrets.enc.yaml` carries
//! one more entry, `stencil.dev/scope: tenants/<tenant>/<service>`, encrypted like the
//! secrets: its AES-GCM tag binds it to its key (the AAD is the key path) and the file's MAC
//! covers it, so nobody without the data key can add, remove or change it. On load stencil
//! decrypts it and compares it with where the file actually is: a file copied byte for byte
//! from another tenant or service (one shared recipient decrypts both) names its origin and
//! is refused.
//!
//! The key cannot collide with a secret: secrets are environment variable names, which never
//! hold `/`. The entry is an ordinary SOPS value, so `sops -d` shows it and `sops` keeps it;
//! it never becomes a Secret key or an environment variable.

use std::path::Path;

use crate::node::{Map, Node, Value};

use super::sops::text;

/// The key of the binding entry.
pub const SCOPE_KEY: &str = "stencil.dev/scope";

/// `tenants/<tenant>/<service>` for a repository path `tenants/<tenant>/<service>/secrets.enc.yaml`;
/// `None` for any other path (such a file is not bound).
pub fn scope_of(path: &str) -> Option<String> {
    match path.split('/').collect::<Vec<_>>().as_slice() {
        ["tenants", tenant, service, "secrets.enc.yaml"]
            if !tenant.is_empty() && !service.is_empty() =>
        {
            Some(format!("tenants/{tenant}/{service}"))
        }
        _ => None,
    }
}

/// The scope of a file on disk: its path relative to the nearest folder above it holding
/// `stencil.yaml` (the repository it belongs to), if that is a tenant service's secrets file.
pub fn scope_of_file(file: &Path) -> Option<String> {
    let absolute = std::path::absolute(file).ok()?;
    let root = absolute
        .parent()?
        .ancestors()
        .find(|dir| dir.join("stencil.yaml").is_file())?;
    let relative = absolute
        .strip_prefix(root)
        .ok()?
        .to_str()?
        .replace('\\', "/");
    scope_of(&relative)
}

/// Why a plaintext document cannot be bound to a scope.
#[derive(Debug, PartialEq, Eq)]
pub enum Conflict {
    /// It is bound to another place already.
    Elsewhere(String),
    /// Its binding is not a string.
    Malformed,
}

/// Binds a decrypted document to `scope`: adds the entry first in the mapping, or keeps an
/// equal one. Returns whether the document changed.
pub fn bind(plain: &mut Node, scope: &str) -> Result<bool, Conflict> {
    let origin = plain.origin.clone();
    let Value::Map(map) = &mut plain.value else {
        return Ok(false);
    };
    match map.get(SCOPE_KEY).map(|entry| text(entry)) {
        Some(Some(existing)) if existing == scope => Ok(false),
        Some(Some(existing)) => Err(Conflict::Elsewhere(existing.to_owned())),
        Some(None) => Err(Conflict::Malformed),
        None => {
            let mut bound = Map::with_capacity(map.len() + 1);
            bound.insert(SCOPE_KEY.to_owned(), Node::string(scope, origin));
            bound.extend(std::mem::take(map));
            *map = bound;
            Ok(true)
        }
    }
}

/// The 1-based line of the binding entry in a SOPS file's text (1 when there is none).
pub fn line_in(text: &str) -> u32 {
    let quoted = [
        SCOPE_KEY.to_owned(),
        format!("\"{SCOPE_KEY}\""),
        format!("'{SCOPE_KEY}'"),
    ];
    text.lines()
        .position(|line| {
            quoted.iter().any(|key| {
                line.strip_prefix(key.as_str())
                    .is_some_and(|rest| rest.trim_start().starts_with(':'))
            })
        })
        .and_then(|index| u32::try_from(index + 1).ok())
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_tenant_service_secrets_have_a_scope() {
        assert_eq!(
            scope_of("tenants/acme/api/secrets.enc.yaml").as_deref(),
            Some("tenants/acme/api")
        );
        for path in [
            "tenants/acme/secrets.enc.yaml",
            "tenants/acme/api/x/secrets.enc.yaml",
            "base/api/secrets.enc.yaml",
            "tenants/acme/api/values.yaml",
            "tenants//api/secrets.enc.yaml",
        ] {
            assert_eq!(scope_of(path), None, "{path}");
        }
    }

    #[test]
    fn binding_adds_the_entry_first_keeps_an_equal_one_and_refuses_another() {
        let file = crate::origin::SourceFile::new("plain.yaml", "B: two\nA: one\n");
        let mut plain =
            crate::yaml::read::parse(&file, crate::load::Limits::default()).expect("YAML");
        assert_eq!(bind(&mut plain, "tenants/acme/api"), Ok(true));
        let keys: Vec<_> = plain.as_map().expect("map").keys().collect();
        assert_eq!(keys, [SCOPE_KEY, "B", "A"]);
        assert_eq!(bind(&mut plain, "tenants/acme/api"), Ok(false));
        assert_eq!(
            bind(&mut plain, "tenants/other/api"),
            Err(Conflict::Elsewhere("tenants/acme/api".into()))
        );
    }

    #[test]
    fn the_entry_is_found_by_line() {
        let text = "A: ENC[x]\nstencil.dev/scope: ENC[y]\nsops: {}\n";
        assert_eq!(line_in(text), 2);
        assert_eq!(line_in("A: x\n"), 1);
        assert_eq!(line_in("x: 1\n'stencil.dev/scope' : y\n"), 2);
    }
}
