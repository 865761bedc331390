//! Rule `ssm-prefix` on External Secrets Operator objects a tenant adds or patches: every
//! key an ExternalSecret reads or a PushSecret writes lies under the tenant's SSM prefix,
//! through the platform's one store (`externalSecrets` in stencil.yaml); no store or
//! generator of the tenant's own (they read with the operator's identity).

use serde_json::Value;

use super::group_of;
use super::objects::{Context, Fail};
use crate::model::{Rule, SecretStoreKind};
use crate::object::{Object, Pointer as _};

const ESO: &str = "external-secrets.io";
const GENERATORS: &str = "generators.external-secrets.io";

/// Reports a remote key (`None`: the field that should name one does not): the name of
/// the field, and whether the prefix itself is allowed (a path searched, not one key).
type Key<'k> = dyn FnMut(Option<&str>, &str, bool) + 'k;

/// The elements of the array at `ptr` (none if it is not an array).
fn array<'v>(v: &'v Value, ptr: &str) -> impl Iterator<Item = &'v Value> {
    v.at(ptr).and_then(Value::as_array).into_iter().flatten()
}

/// External Secrets Operator objects: keys under the tenant's SSM prefix, no store or
/// generator of the tenant's own.
pub(super) fn check_external_secrets(object: &Object, ctx: &Context<'_>, fail: &mut Fail<'_>) {
    let group = group_of(object);
    if group == GENERATORS {
        fail(
            Rule::SsmPrefix,
            format!(
                "a tenant's {} mints credentials with the operator's identity",
                object.kind
            ),
            "the platform provides generators and stores".into(),
        );
        return;
    }
    if group != ESO {
        return;
    }
    let claims = &ctx.claims;
    let mut key = |path: Option<&str>, what: &str, whole: bool| {
        let result = match path {
            Some(p) => claims.ssm(p, whole),
            None => Err(format!(
                "{what} names no path, so it searches every parameter the store can read"
            )),
        };
        if let Err(msg) = result {
            fail(Rule::SsmPrefix, format!("{what}: {msg}"), claims.ssm_hint());
        }
    };
    match object.kind.to_ascii_lowercase().as_str() {
        "externalsecret" => external_secret_keys(&object.value, &mut key),
        "pushsecret" => push_secret_keys(&object.value, &mut key),
        _ => fail(
            Rule::SsmPrefix,
            format!(
                "a tenant's {} would read secrets with the operator's identity, not the tenant's",
                object.kind
            ),
            "the platform provides the secret stores (externalSecrets in stencil.yaml); use ssmSecrets or an ExternalSecret under the tenant's SSM prefix".into(),
        ),
    }
}

/// The keys an ExternalSecret reads: `data[]`, `dataFrom[]` extracts and finds; a
/// generator names none.
fn external_secret_keys(v: &Value, key: &mut Key<'_>) {
    for item in array(v, "/spec/data") {
        key(text(item, "/remoteRef/key"), "data[].remoteRef.key", false);
        if item.at("/sourceRef/generatorRef").is_some() {
            key(None, "data[].sourceRef.generatorRef", false);
        }
    }
    for item in array(v, "/spec/dataFrom") {
        if item.get("extract").is_some() {
            key(text(item, "/extract/key"), "dataFrom[].extract.key", false);
        }
        if item.get("find").is_some() {
            key(text(item, "/find/path"), "dataFrom[].find.path", true);
        }
        if item.at("/sourceRef/generatorRef").is_some() {
            key(None, "dataFrom[].sourceRef.generatorRef", false);
        }
    }
}

/// The string at `ptr` in `item`, if there is one.
fn text<'v>(item: &'v Value, ptr: &str) -> Option<&'v str> {
    item.at(ptr).and_then(Value::as_str)
}

/// The keys a PushSecret writes; a generator names none.
fn push_secret_keys(v: &Value, key: &mut Key<'_>) {
    for item in array(v, "/spec/data") {
        key(
            text(item, "/match/remoteRef/remoteKey"),
            "data[].match.remoteRef.remoteKey",
            false,
        );
    }
    if v.at("/spec/selector/generatorRef").is_some() {
        key(None, "selector.generatorRef", false);
    }
}

/// The stores an ExternalSecret or PushSecret of a tenant names are the platform's one
/// store (`externalSecrets` in stencil.yaml): the SSM prefix check means nothing for a
/// ClusterSecretStore that reads another backend, account or region.
pub(super) fn check_store_refs(object: &Object, ctx: &Context<'_>, fail: &mut Fail<'_>) {
    if group_of(object) != ESO {
        return;
    }
    let platform = ctx.external_secrets;
    let want_kind = match platform.secret_store_kind {
        SecretStoreKind::ClusterSecretStore => "ClusterSecretStore",
        SecretStoreKind::SecretStore => "SecretStore",
    };
    for (what, r) in store_refs(object) {
        // ESO reads a missing kind as SecretStore.
        let kind = r
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("SecretStore");
        let name = r.get("name").and_then(Value::as_str);
        if r.get("labelSelector").is_some()
            || kind != want_kind
            || name != Some(platform.secret_store.as_str())
        {
            fail(
                Rule::SsmPrefix,
                format!(
                    "{what} names another store than the platform's {want_kind} `{}`",
                    platform.secret_store
                ),
                "tenants read parameters through the platform's store only (externalSecrets in stencil.yaml); name it by name and kind, without a labelSelector".into(),
            );
        }
    }
}

/// The store references of an ExternalSecret or PushSecret, with the field that holds each.
fn store_refs(object: &Object) -> Vec<(&'static str, &Value)> {
    let v = &object.value;
    match object.kind.to_ascii_lowercase().as_str() {
        "externalsecret" => {
            let mut refs: Vec<(&str, &Value)> = v
                .at("/spec/secretStoreRef")
                .map(|r| ("spec.secretStoreRef", r))
                .into_iter()
                .collect();
            for (list, what) in [
                ("/spec/data", "data[].sourceRef.storeRef"),
                ("/spec/dataFrom", "dataFrom[].sourceRef.storeRef"),
            ] {
                refs.extend(
                    array(v, list).filter_map(|i| i.at("/sourceRef/storeRef").map(|r| (what, r))),
                );
            }
            refs
        }
        "pushsecret" => array(v, "/spec/secretStoreRefs")
            .map(|r| ("spec.secretStoreRefs[]", r))
            .collect(),
        _ => Vec::new(),
    }
}
