//! `extraObjects:`: raw Kubernetes objects added to a tenant-service's output.
//!
//! A tenant's input is hostile, so each object's identity is checked before any use, in
//! this order: no `items` (kubectl and Argo CD read any object with `items` as a List);
//! `apiVersion` and `kind` against Kubernetes' grammar; the kind against the allow-list
//! (namespaced built-in kinds and the custom resources `stencil.yaml` declares, see
//! `policy::kinds`); `metadata.name` (a DNS-1123 subdomain, a DNS-1035 label for a
//! Service), no `generateName`, and `metadata.namespace` the tenant's (set when missing).
//! Only then does the object exist for stencil; built-in kinds are then validated against
//! their typed schema.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{Diagnostic, Error, Result};
use crate::load::Tenant;
use crate::model::ExtraObjectsSettings;
use crate::origin::Origin;
use crate::policy::Workload;
use crate::policy::kinds;

use super::Object;

pub(super) use kinds::check_subdomain;

pub(super) fn objects(
    w: &Workload,
    tenant: &Tenant,
    settings: &ExtraObjectsSettings,
) -> Result<Vec<Object>> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (value, origin) in &w.extra_objects {
        match object(value, origin, tenant, &w.service, settings) {
            Ok(o) => out.push(o),
            Err(d) => problems.push(Error::from(d.at(origin))),
        }
    }
    Error::unless(problems, out)
}

/// One extra object, checked (see the module docs for the order).
fn object(
    value: &Value,
    origin: &Origin,
    tenant: &Tenant,
    service: &str,
    settings: &ExtraObjectsSettings,
) -> Result<Object, Diagnostic> {
    let invalid = |msg: String| {
        Diagnostic::new(format!("invalid extra object: {msg}"))
            .hint("extraObjects entries are complete Kubernetes objects with apiVersion, kind and metadata.name")
    };
    let mut value = value.clone();
    let Some(map) = value.as_object_mut() else {
        return Err(invalid("not a mapping".into()));
    };
    if map.contains_key("items") {
        return Err(Diagnostic::new(
            "an extra object may not have `items`: kubectl and Argo CD read any object with `items` as a List, whose items would escape every check",
        )
        .rule(crate::model::Rule::AllowedKinds.name())
        .hint("add each object as its own extraObjects entry"));
    }
    let field = |key: &str| match map.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        _ => Err(invalid(format!("{key} must be a string"))),
    };
    let api_version = field("apiVersion")?;
    let kind = field("kind")?;
    kinds::check_api_version(&api_version).map_err(invalid)?;
    kinds::check_kind(&kind).map_err(|msg| {
        let d = invalid(msg);
        match kinds::spelling(&kind, settings) {
            Some(k) => d.hint(format!("did you mean `{k}`? Kinds are case-sensitive")),
            None => d,
        }
    })?;
    kinds::check_allowed(&api_version, &kind, settings)?;
    let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) else {
        return Err(invalid("metadata must be a mapping".into()));
    };
    check_metadata(meta, &kind, tenant).map_err(invalid)?;
    let object = Object::from_value(
        value,
        tenant.name.as_str(),
        Some(service),
        Some(origin.clone()),
        true,
    )
    .map_err(|_| invalid("apiVersion, kind and metadata.name must be strings".into()))?;
    validate_typed(&object.value, &object.api_version, &object.kind)
        .map_err(|msg| invalid(format!("{}: {msg}", object.describe())))?;
    Ok(object)
}

/// `metadata.name` (a DNS-1123 subdomain; a DNS-1035 label for a Service), no
/// `generateName`, and `metadata.namespace` the tenant's (set when missing).
fn check_metadata(
    meta: &mut Map<String, Value>,
    kind: &str,
    tenant: &Tenant,
) -> Result<(), String> {
    if meta.contains_key("generateName") {
        return Err("metadata.generateName is not allowed: every object needs a fixed metadata.name (kubectl apply and Argo CD track objects by name)".into());
    }
    let Some(Value::String(name)) = meta.get("name") else {
        return Err("metadata.name must be a string".into());
    };
    if kind == "Service" {
        check_dns_1035(name)?;
    } else {
        check_subdomain(name)?;
    }
    match meta.get("namespace") {
        None => {
            meta.insert(
                "namespace".into(),
                Value::String(tenant.namespace.to_string()),
            );
        }
        Some(Value::String(ns)) => {
            if crate::names::check_dns_label(ns, 63).is_err() {
                return Err(format!(
                    "namespace `{}` is not a valid namespace name",
                    kinds::shown(ns)
                ));
            }
            if ns != tenant.namespace.as_str() {
                return Err(format!(
                    "it is in namespace `{ns}`, but tenant `{}` owns only `{}`",
                    tenant.name, tenant.namespace
                ));
            }
        }
        Some(_) => return Err("metadata.namespace must be a string".into()),
    }
    Ok(())
}

/// A DNS-1035 label (a Service name): a DNS-1123 label that starts with a letter.
fn check_dns_1035(name: &str) -> Result<(), String> {
    let starts_with_letter = name.bytes().next().is_some_and(|b| b.is_ascii_lowercase());
    if !starts_with_letter || crate::names::check_dns_label(name, 63).is_err() {
        return Err(format!(
            "`{}` is not a valid Service name (DNS-1035 label: lowercase letters, digits and `-`, starting with a letter, at most 63)",
            kinds::shown(name)
        ));
    }
    Ok(())
}

fn roundtrip<T: DeserializeOwned + Serialize>(value: &Value) -> Result<(), String> {
    let typed: T = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
    let back = serde_json::to_value(&typed).map_err(|e| e.to_string())?;
    match first_difference(value, &back, &mut String::new()) {
        Some(path) => Err(format!(
            "`{path}` is not a field of this kind (or has the wrong type)"
        )),
        None => Ok(()),
    }
}

/// The first path present in `original` that the typed round trip dropped or changed.
fn first_difference(original: &Value, back: &Value, path: &mut String) -> Option<String> {
    match (original, back) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                if v.is_null() {
                    continue;
                }
                let len = path.len();
                path.push('.');
                path.push_str(k);
                let found = match b.get(k) {
                    None => Some(path.trim_start_matches('.').to_owned()),
                    Some(w) => first_difference(v, w, path),
                };
                path.truncate(len);
                if found.is_some() {
                    return found;
                }
            }
            None
        }
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                return Some(path.trim_start_matches('.').to_owned());
            }
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                let found = first_difference(v, w, path);
                path.truncate(len);
                if found.is_some() {
                    return found;
                }
            }
            None
        }
        (a, b) if a == b => None,
        // Numbers that serialize differently but are equal (1 vs 1.0) are fine.
        (Value::Number(a), Value::Number(b)) if a.as_f64() == b.as_f64() => None,
        _ => Some(path.trim_start_matches('.').to_owned()),
    }
}

/// Validates an object of a known Kubernetes kind against its typed schema: unknown fields
/// and wrong types are errors. Unknown kinds (CRDs) pass through.
pub(super) fn validate_typed(value: &Value, api_version: &str, kind: &str) -> Result<(), String> {
    use k8s_openapi::api::{
        apps, autoscaling, batch, coordination, core, discovery, events, networking, policy, rbac,
        resource,
    };
    match (api_version, kind) {
        ("v1", "ReplicationController") => roundtrip::<core::v1::ReplicationController>(value),
        ("v1", "PodTemplate") => roundtrip::<core::v1::PodTemplate>(value),
        ("v1", "Endpoints") => roundtrip::<core::v1::Endpoints>(value),
        ("v1", "Event") => roundtrip::<core::v1::Event>(value),
        ("apps/v1", "ReplicaSet") => roundtrip::<apps::v1::ReplicaSet>(value),
        ("apps/v1", "ControllerRevision") => roundtrip::<apps::v1::ControllerRevision>(value),
        ("autoscaling/v1", "HorizontalPodAutoscaler") => {
            roundtrip::<autoscaling::v1::HorizontalPodAutoscaler>(value)
        }
        ("coordination.k8s.io/v1", "Lease") => roundtrip::<coordination::v1::Lease>(value),
        ("coordination.k8s.io/v1beta1", "LeaseCandidate") => {
            roundtrip::<coordination::v1beta1::LeaseCandidate>(value)
        }
        ("discovery.k8s.io/v1", "EndpointSlice") => {
            roundtrip::<discovery::v1::EndpointSlice>(value)
        }
        ("events.k8s.io/v1", "Event") => roundtrip::<events::v1::Event>(value),
        ("resource.k8s.io/v1beta1", "ResourceClaim") => {
            roundtrip::<resource::v1beta1::ResourceClaim>(value)
        }
        ("resource.k8s.io/v1beta1", "ResourceClaimTemplate") => {
            roundtrip::<resource::v1beta1::ResourceClaimTemplate>(value)
        }
        ("resource.k8s.io/v1beta2", "ResourceClaim") => {
            roundtrip::<resource::v1beta2::ResourceClaim>(value)
        }
        ("resource.k8s.io/v1beta2", "ResourceClaimTemplate") => {
            roundtrip::<resource::v1beta2::ResourceClaimTemplate>(value)
        }
        ("v1", "ConfigMap") => roundtrip::<core::v1::ConfigMap>(value),
        ("v1", "Secret") => roundtrip::<core::v1::Secret>(value),
        ("v1", "Service") => roundtrip::<core::v1::Service>(value),
        ("v1", "ServiceAccount") => roundtrip::<core::v1::ServiceAccount>(value),
        ("v1", "PersistentVolumeClaim") => roundtrip::<core::v1::PersistentVolumeClaim>(value),
        ("v1", "ResourceQuota") => roundtrip::<core::v1::ResourceQuota>(value),
        ("v1", "LimitRange") => roundtrip::<core::v1::LimitRange>(value),
        ("v1", "Pod") => roundtrip::<core::v1::Pod>(value),
        ("v1", "Namespace") => roundtrip::<core::v1::Namespace>(value),
        ("apps/v1", "Deployment") => roundtrip::<apps::v1::Deployment>(value),
        ("apps/v1", "StatefulSet") => roundtrip::<apps::v1::StatefulSet>(value),
        ("apps/v1", "DaemonSet") => roundtrip::<apps::v1::DaemonSet>(value),
        ("batch/v1", "Job") => roundtrip::<batch::v1::Job>(value),
        ("batch/v1", "CronJob") => roundtrip::<batch::v1::CronJob>(value),
        ("networking.k8s.io/v1", "Ingress") => roundtrip::<networking::v1::Ingress>(value),
        ("networking.k8s.io/v1", "NetworkPolicy") => {
            roundtrip::<networking::v1::NetworkPolicy>(value)
        }
        ("autoscaling/v2", "HorizontalPodAutoscaler") => {
            roundtrip::<autoscaling::v2::HorizontalPodAutoscaler>(value)
        }
        ("policy/v1", "PodDisruptionBudget") => roundtrip::<policy::v1::PodDisruptionBudget>(value),
        ("rbac.authorization.k8s.io/v1", "Role") => roundtrip::<rbac::v1::Role>(value),
        ("rbac.authorization.k8s.io/v1", "RoleBinding") => {
            roundtrip::<rbac::v1::RoleBinding>(value)
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_fields_are_found() {
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"a": "b"}, "dta": {}});
        assert_eq!(
            validate_typed(&cm, "v1", "ConfigMap").unwrap_err(),
            "`dta` is not a field of this kind (or has the wrong type)"
        );
        let ok = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"a": "b"}});
        assert!(validate_typed(&ok, "v1", "ConfigMap").is_ok());
        let nested = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"},
            "spec": {"selector": {}, "template": {"spec": {"containers": [{"name": "a", "imagePullPolicyy": "x"}]}}}});
        assert_eq!(
            validate_typed(&nested, "apps/v1", "Deployment").unwrap_err(),
            "`spec.template.spec.containers[0].imagePullPolicyy` is not a field of this kind (or has the wrong type)"
        );
    }

    #[test]
    fn every_allowed_built_in_kind_is_validated_by_type() {
        for (api, kind) in kinds::BUILT_IN {
            let object =
                json!({"apiVersion": api, "kind": kind, "metadata": {"name": "x"}, "notAField": 1});
            assert!(
                validate_typed(&object, api, kind).is_err(),
                "{api} {kind} is not validated against its type"
            );
        }
    }

    #[test]
    fn custom_resources_pass_through() {
        let cr = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "x"}, "anything": 1});
        assert!(validate_typed(&cr, "example.com/v1", "Widget").is_ok());
    }
}
