//! `extraObjects:`: raw Kubernetes objects added to a tenant-service's output. Each needs
//! apiVersion, kind and metadata.name; objects are put in (and must stay in) the tenant's
//! namespace, and known cluster-scoped kinds (ClusterRoleBinding, Namespace, ...) are refused:
//! a tenant overlay must not reach beyond its tenant. Known Kubernetes kinds are validated
//! against their typed schema.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Diagnostic, Error, Result};
use crate::load::Tenant;
use crate::names::check_dns_label;
use crate::policy::Workload;

use super::Object;

/// Kinds without a namespace: refused in a tenant's extra objects.
const CLUSTER_SCOPED: [&str; 12] = [
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PersistentVolume",
    "StorageClass",
    "PriorityClass",
    "IngressClass",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "APIService",
    "ClusterIssuer",
];

pub fn objects(w: &Workload, tenant: &Tenant) -> Result<Vec<Object>> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (value, origin) in &w.extra_objects {
        let mut value = value.clone();
        let fail = |msg: String| -> Error {
            Diagnostic::new(format!("invalid extra object: {msg}"))
                .at(origin)
                .hint("extraObjects entries are complete Kubernetes objects with apiVersion, kind and metadata.name")
                .into()
        };
        let Some(map) = value.as_object_mut() else {
            problems.push(fail("not a mapping".into()));
            continue;
        };
        let kind = map
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        // `Cluster*` kinds (ClusterSecretStore, ClusterIssuer, ClusterPolicy, ...) are
        // cluster-scoped by convention.
        if CLUSTER_SCOPED.contains(&kind.as_str()) || kind.starts_with("Cluster") {
            problems.push(fail(format!(
                "{kind} is cluster-scoped; a tenant's extra objects live in the tenant's namespace only"
            )));
            continue;
        }
        let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) else {
            problems.push(fail("metadata is missing".into()));
            continue;
        };
        if !CLUSTER_SCOPED.contains(&kind.as_str()) {
            match meta.get("namespace").and_then(Value::as_str) {
                None => {
                    meta.insert(
                        "namespace".into(),
                        Value::String(tenant.namespace.to_string()),
                    );
                }
                Some(ns) if ns != tenant.namespace.as_str() => {
                    problems.push(fail(format!(
                        "it is in namespace `{ns}`, but tenant `{}` owns only `{}`",
                        tenant.name, tenant.namespace
                    )));
                    continue;
                }
                Some(_) => {}
            }
        }
        let object = match Object::from_value(
            value,
            tenant.name.as_str(),
            Some(&w.service),
            Some(origin.clone()),
            true,
        ) {
            Ok(o) => o,
            Err(_) => {
                problems.push(fail(
                    "apiVersion, kind and metadata.name must be strings".into(),
                ));
                continue;
            }
        };
        if let Err(msg) = check_subdomain(&object.name) {
            problems.push(fail(msg));
            continue;
        }
        if let Err(msg) = validate_typed(&object.value, &object.api_version, &object.kind) {
            problems.push(fail(format!("{}: {msg}", object.describe())));
            continue;
        }
        out.push(object);
    }
    Error::unless(problems, out)
}

/// DNS-1123 subdomain: labels joined by dots, at most 253 characters.
pub(super) fn check_subdomain(name: &str) -> Result<(), String> {
    if name.len() > 253 {
        return Err(format!("name `{name}` is longer than 253 characters"));
    }
    for part in name.split('.') {
        check_dns_label(part, 63).map_err(|_| {
            format!("`{name}` is not a valid object name (lowercase DNS-1123 subdomain)")
        })?;
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
pub fn validate_typed(value: &Value, api_version: &str, kind: &str) -> Result<(), String> {
    use k8s_openapi::api::{apps, autoscaling, batch, core, networking, policy, rbac};
    match (api_version, kind) {
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
    fn custom_resources_pass_through() {
        let cr = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "x"}, "anything": 1});
        assert!(validate_typed(&cr, "example.com/v1", "Widget").is_ok());
    }
}
