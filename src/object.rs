//! A rendered Kubernetes object: the JSON `build` made (or its YAML text, once emitted
//! early) and what produced it (tenant, service, the origin of an extra object or patch).
//!
//! It sits below the stages that make, check and write objects (`build`, `policy`, `emit`),
//! so each depends on it and none on another for it.

use serde::Serialize;

use crate::error::{Diagnostic, Result};
use crate::origin::Origin;

/// `serde_json::Value::pointer` without its cost where it cannot matter: the policy and
/// the budget checks look up a few hundred fixed paths per app, and `pointer` allocates two
/// unescaped copies of every token. A path with `~` (an escape) goes to `pointer` itself;
/// any other path finds what `pointer` finds.
pub trait Pointer {
    fn at(&self, path: &str) -> Option<&serde_json::Value>;
}

impl Pointer for serde_json::Value {
    fn at(&self, path: &str) -> Option<&serde_json::Value> {
        if path.contains('~') {
            return self.pointer(path);
        }
        if path.is_empty() {
            return Some(self);
        }
        let rest = path.strip_prefix('/')?;
        rest.split('/').try_fold(self, |value, token| match value {
            serde_json::Value::Object(map) => map.get(token),
            serde_json::Value::Array(list) => array_index(token).and_then(|i| list.get(i)),
            _ => None,
        })
    }
}

/// An array index as a JSON pointer (RFC 6901) writes it: digits, no leading zero.
fn array_index(token: &str) -> Option<usize> {
    let digits = !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit());
    if !digits || (token.len() > 1 && token.starts_with('0')) {
        return None;
    }
    token.parse().ok()
}

/// A rendered Kubernetes object and what produced it.
#[derive(Debug, Clone)]
pub struct Object {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    pub value: serde_json::Value,
    pub tenant: String,
    /// `None` for tenant-level objects (the workspace kit).
    pub service: Option<String>,
    /// Set for objects from `extraObjects:` and objects changed by `patches:`.
    pub origin: Option<Origin>,
    /// From `extraObjects:`.
    pub extra: bool,
    /// The object as a YAML document, once emitted early (see [`Object::into_yaml`]); `value`
    /// is then `null`.
    pub yaml: Option<String>,
}

impl Object {
    pub(crate) fn from_typed<T: Serialize>(
        typed: &T,
        tenant: &str,
        service: Option<&str>,
    ) -> Result<Object> {
        let value = serde_json::to_value(typed)
            .map_err(|e| Diagnostic::new(format!("cannot serialize a rendered object: {e}")))?;
        Object::from_value(value, tenant, service, None, false)
    }

    pub(crate) fn from_value(
        value: serde_json::Value,
        tenant: &str,
        service: Option<&str>,
        origin: Option<Origin>,
        extra: bool,
    ) -> Result<Object> {
        let text = |ptr: &str| value.at(ptr).and_then(|v| v.as_str()).map(str::to_owned);
        let (Some(api_version), Some(kind), Some(name)) =
            (text("/apiVersion"), text("/kind"), text("/metadata/name"))
        else {
            return Err(
                Diagnostic::new("an object needs apiVersion, kind and metadata.name")
                    .at_opt(origin.as_ref())
                    .into(),
            );
        };
        Ok(Object {
            api_version,
            kind,
            name,
            namespace: text("/metadata/namespace"),
            value,
            tenant: tenant.to_owned(),
            service: service.map(str::to_owned),
            origin,
            extra,
            yaml: None,
        })
    }

    /// Serializes the object to YAML now and drops its JSON tree: a large render then holds
    /// text (a few KB per object) instead of trees (several times that).
    pub fn into_yaml(mut self) -> Object {
        if self.yaml.is_none() {
            self.yaml = Some(crate::yaml::write::document(&self.value));
            self.value = serde_json::Value::Null;
        }
        self
    }

    /// `Kind namespace/name`, for messages.
    pub fn describe(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {ns}/{}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }

    /// Identity: group, kind, namespace, name (two objects with the same identity collide).
    pub fn identity(&self) -> (String, String, String, String) {
        let group = self
            .api_version
            .rsplit_once('/')
            .map_or("", |(g, _)| g)
            .to_owned();
        (
            group,
            self.kind.clone(),
            self.namespace.clone().unwrap_or_default(),
            self.name.clone(),
        )
    }
}

#[cfg(test)]
mod pointer_tests {
    use super::Pointer as _;
    use serde_json::json;

    /// `at` finds what `serde_json`'s `pointer` finds, for every path made of the document's
    /// own keys and indexes and of tokens that are not there (escapes, odd indexes).
    #[test]
    fn at_agrees_with_pointer() {
        let doc = json!({
            "metadata": {"annotations": {"a/b": "1", "c~d": "2", "": "empty"}, "name": "x"},
            "spec": {"list": [{"k": 0}, [1, 2], null], "0": "zero-key", "01": true},
            "": {"": "nested empty"}
        });
        let tokens = [
            "",
            "metadata",
            "annotations",
            "a~1b",
            "c~0d",
            "a",
            "b",
            "name",
            "spec",
            "list",
            "k",
            "0",
            "1",
            "2",
            "3",
            "01",
            "00",
            "+1",
            "-1",
            "1e0",
            " 1",
            "~2",
            "~",
        ];
        let mut paths = vec![String::new(), "no-slash".to_owned()];
        for _ in 0..4 {
            let longer: Vec<String> = paths
                .iter()
                .flat_map(|p| tokens.iter().map(move |t| format!("{p}/{t}")))
                .collect();
            paths.extend(longer);
            paths.sort();
            paths.dedup();
        }
        assert!(paths.len() > 100_000);
        let mut found = 0;
        for path in &paths {
            assert_eq!(doc.at(path), doc.pointer(path), "{path:?}");
            found += usize::from(doc.at(path).is_some());
        }
        assert!(
            found > 15,
            "the paths must reach into the document: {found}"
        );
    }
}
