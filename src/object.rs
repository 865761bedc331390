//! A rendered Kubernetes object: the JSON `build` made (or its YAML text, once emitted
//! early) and what produced it (tenant, service, the origin of an extra object or patch).
//!
//! It sits below the stages that make, check and write objects (`build`, `policy`, `emit`),
//! so each depends on it and none on another for it.

use serde::Serialize;

use crate::error::{Diagnostic, Result};
use crate::origin::Origin;

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
        let text = |ptr: &str| {
            value
                .pointer(ptr)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
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
