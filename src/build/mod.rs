//! The `build` stage: typed `k8s-openapi` objects for one tenant x service (and the tenant's
//! Namespace), then `patches:` and `extraObjects:` applied and validated.
//!
//! Objects are built as typed structs and only then turned into JSON, so a field that does
//! not exist cannot be written by mistake. Maps are `BTreeMap`s: output is deterministic.

mod canary;
mod external;
mod extra;
mod jobs;
pub(crate) mod labels;
mod monitoring;
mod network;
mod patch;
mod scaling;
mod scheduling;
mod volumes;
mod workload;
mod workspace;

use crate::object::Pointer as _;
use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::error::{Diagnostic, Result};
use crate::load::Tenant;
use crate::model::RepoSettings;
use crate::names::ALERT_OWNER_PREFIX;
use crate::policy::Workload;

pub use crate::names::sidecar_port_name;
pub use labels::Labels;
pub use workspace::workspace;

pub use crate::object::Object;

/// Where an object kind goes in the output stream: namespaces and identities first,
/// configuration before what consumes it, workloads before what scales or exposes them.
pub fn kind_rank(kind: &str) -> usize {
    const ORDER: [&str; 22] = [
        "Namespace",
        "ResourceQuota",
        "LimitRange",
        "NetworkPolicy",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "ConfigMap",
        "Secret",
        "ExternalSecret",
        "PersistentVolumeClaim",
        "Service",
        "Deployment",
        "StatefulSet",
        "Job",
        "CronJob",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "Ingress",
        "HTTPRoute",
        "ServiceMonitor",
        "PrometheusRule",
    ];
    ORDER.iter().position(|k| *k == kind).unwrap_or(ORDER.len())
}

/// The tenant's Namespace. Pod Security Admission enforces `restricted`, which every pod
/// stencil renders satisfies, or the level `enforce` the platform's exceptions need (audit and
/// warn stay `restricted`).
pub fn namespace(tenant: &Tenant, settings: &RepoSettings, enforce: &str) -> Result<Object> {
    let mut labels = Labels::tenant(tenant, settings).into_map();
    // The level is the platform's alone (a tenant's label is refused when loaded; this holds
    // even so): no `-version` pin, so the cluster's latest standards apply.
    labels.retain(|key, _| !crate::names::is_pod_security_label(key));
    labels.insert(
        "kubernetes.io/metadata.name".into(),
        tenant.namespace.to_string(),
    );
    let enforce = if enforce.is_empty() {
        "restricted"
    } else {
        enforce
    };
    for (mode, level) in [
        ("enforce", enforce),
        ("audit", "restricted"),
        ("warn", "restricted"),
    ] {
        labels.insert(format!("pod-security.kubernetes.io/{mode}"), level.into());
    }
    // Under Argo CD, a tenant's Namespace (and everything in it) is never deleted by a sync:
    // not when it leaves the output, not when its Application is deleted. A person does it.
    let annotations = BTreeMap::from([(
        "argocd.argoproj.io/sync-options".to_owned(),
        "Prune=false,Delete=false".to_owned(),
    )]);
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some(tenant.namespace.to_string()),
            labels: Some(labels),
            annotations: Some(annotations),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    Object::from_typed(&ns, tenant.name.as_str(), None)
}

/// Builds every object of one tenant x service, then applies patches and extra objects.
pub fn build_service(
    workload: &Workload,
    tenant: &Tenant,
    settings: &RepoSettings,
) -> Result<Vec<Object>> {
    let labels = Labels::service(tenant, settings, workload);
    let ns = tenant.namespace.as_str();
    let t = tenant.name.as_str();
    let s = Some(workload.service.as_str());
    let mut objects = vec![
        Object::from_typed(&workload::service_account(workload, ns, &labels), t, s)?,
        Object::from_typed(&workload::config_map(workload, ns, &labels), t, s)?,
    ];
    objects.extend(pods(workload, ns, &labels, t)?);
    // With a canary, Flagger owns the Services (it generates them from the Canary).
    if workload.canary.is_none() && workload.serves() {
        objects.push(Object::from_typed(
            &network::service(workload, ns, &labels),
            t,
            s,
        )?);
    }
    if let Some(route) = monitoring::http_route(workload, ns, &labels) {
        objects.push(Object::from_typed(&route, t, s)?);
    }
    if let Some(monitor) = monitoring::service_monitor(workload, ns, &labels) {
        objects.push(Object::from_typed(&monitor, t, s)?);
    }
    if let Some(rule) = monitoring::prometheus_rule(workload, ns, &labels) {
        objects.push(Object::from_typed(&rule, t, s)?);
    }
    if let Some(secrets) = &workload.secrets {
        objects.push(Object::from_typed(
            &workload::secret(workload, secrets, ns, &labels),
            t,
            s,
        )?);
    }
    let eso = &settings.external_secrets;
    let synced = [
        external::ssm(workload, ns, &labels, eso),
        external::feature_flags(workload, ns, &labels, eso),
    ];
    for external in synced.into_iter().flatten() {
        objects.push(Object::from_typed(&external, t, s)?);
    }
    let hpa = scaling::autoscaler(workload, ns, &labels);
    let ingress = network::ingress(workload, ns, &labels);
    // Under a Gateway API canary, Flagger's HTTPRoute serves the host instead.
    let gateway_canary = workload
        .canary
        .as_ref()
        .is_some_and(|c| c.provider.is_gateway_api());
    if let (Some(plan), Some(platform)) = (&workload.canary, &settings.canary) {
        let canary = canary::canary(
            workload,
            plan,
            platform,
            ns,
            &labels,
            hpa.is_some(),
            ingress.is_some(),
        );
        objects.push(Object::from_typed(&canary, t, s)?);
    }
    if let Some(hpa) = hpa {
        objects.push(Object::from_typed(&hpa, t, s)?);
    }
    if let Some(pdb) = scaling::disruption_budget(workload, ns, &labels) {
        objects.push(Object::from_typed(&pdb, t, s)?);
    }
    if let Some(ingress) = ingress.filter(|_| !gateway_canary) {
        objects.push(Object::from_typed(&ingress, t, s)?);
    }
    patch::apply(&mut objects, &workload.patches, ns, &settings.budgets)?;
    jobs::name_by_content(&mut objects, workload)?;
    let extras = extra::objects(workload, tenant, &settings.extra_objects)?;
    for object in &extras {
        check_extra_labels(object, &labels)?;
        check_alert_owners(object, &labels)?;
    }
    objects.extend(extras);
    check_budgets(&objects, &settings.budgets).map_err(|e| {
        e.with_note(format!(
            "`stencil explain {}/{}` shows which file set each value",
            tenant.name, workload.service
        ))
    })?;
    Ok(objects)
}

/// The main workload (a Deployment, or a StatefulSet and its headless Service), its files
/// and claims, its jobs and cron jobs.
fn pods(w: &Workload, ns: &str, labels: &Labels, t: &str) -> Result<Vec<Object>> {
    let s = Some(w.service.as_str());
    let mut objects = Vec::new();
    if let Some(files) = volumes::files_config_map(w, ns, labels) {
        objects.push(Object::from_typed(&files, t, s)?);
    }
    if w.kind() == crate::model::WorkloadKind::StatefulSet {
        objects.push(Object::from_typed(
            &workload::stateful_set(w, ns, labels),
            t,
            s,
        )?);
        objects.push(Object::from_typed(
            &network::headless_service(w, ns, labels),
            t,
            s,
        )?);
    } else {
        objects.push(Object::from_typed(
            &workload::deployment(w, ns, labels)?,
            t,
            s,
        )?);
        for claim in volumes::claims(w, ns, labels) {
            objects.push(Object::from_typed(&claim, t, s)?);
        }
    }
    for job in &w.jobs {
        if job.scheduled {
            objects.push(Object::from_typed(
                &jobs::cron_job(w, job, ns, labels),
                t,
                s,
            )?);
        } else {
            objects.push(Object::from_typed(&jobs::job(w, job, ns, labels)?, t, s)?);
        }
    }
    Ok(objects)
}

/// An extra object's alert rules carry stencil's owner labels only with stencil's values:
/// an alert cannot page another tenant's team.
fn check_alert_owners(object: &Object, labels: &Labels) -> Result<()> {
    let groups = object.value.at("/spec/groups").and_then(|g| g.as_array());
    for rule in groups
        .into_iter()
        .flatten()
        .filter_map(|g| g.get("rules").and_then(|r| r.as_array()))
        .flatten()
    {
        for (key, value) in rule
            .get("labels")
            .and_then(|l| l.as_object())
            .into_iter()
            .flatten()
        {
            let Some(owned) = key.strip_prefix(ALERT_OWNER_PREFIX) else {
                continue;
            };
            let ours = labels.common.get(&format!("stencil.dev/{owned}"));
            if ours.is_none_or(|v| value.as_str() != Some(v.as_str())) {
                return Err(Diagnostic::new(format!(
                    "extra object {} labels an alert `{}`, which stencil owns",
                    object.describe(),
                    crate::error::clip(key, 120)
                ))
                .rule(crate::model::Rule::PlatformLabels.name())
                .at_opt(object.origin.as_ref())
                .hint("alert routing finds the team by stencil_dev_tenant and stencil_dev_service; use your own label names")
                .into());
            }
        }
    }
    Ok(())
}

/// Kubernetes refuses an object whose annotations (keys and values) pass 256 KiB.
const ANNOTATIONS_LIMIT: u64 = 256 << 10;

/// Every object within `budgets.objectBytes` (its annotations within Kubernetes' 256 KiB),
/// all of them together within `budgets.appBytes`.
fn check_budgets(objects: &[Object], budgets: &crate::model::Budgets) -> Result<()> {
    use crate::budget::{self, Kind, Meter};
    let mut meter = Meter::new(Kind::App, budgets);
    for object in objects {
        let size = budget::json_size(&object.value);
        if size > budgets.object_bytes {
            return Err(budget::exceeded(
                &object.describe(),
                size,
                Kind::Object,
                budgets.object_bytes,
            )
            .at_opt(object.origin.as_ref())
            .into());
        }
        for (meta, pointer) in [
            ("/metadata", "/metadata/annotations"),
            (
                "/spec/template/metadata",
                "/spec/template/metadata/annotations",
            ),
        ] {
            let annotations: u64 =
                object
                    .value
                    .at(pointer)
                    .and_then(|a| a.as_object())
                    .map_or(0, |a| {
                        a.iter()
                            .map(|(k, v)| (k.len() + v.as_str().map_or(0, str::len)) as u64)
                            .sum()
                    });
            if annotations > ANNOTATIONS_LIMIT {
                return Err(Diagnostic::new(format!(
                    "the annotations of {} ({}) total {}, over Kubernetes' limit of 256 KiB",
                    object.describe(),
                    &meta[1..].replace('/', "."),
                    budget::bytes(annotations)
                ))
                .rule(crate::model::Rule::Budget.name())
                .at_opt(object.origin.as_ref())
                .hint("the API server refuses the object; keep large data in a ConfigMap")
                .into());
            }
        }
        meter
            .add(size, || "the objects of this tenant x service".to_owned())
            .map_err(|d| d.at_opt(object.origin.as_ref()))?;
    }
    Ok(())
}

/// An extra object may carry stencil's labels only with stencil's values: it cannot pass
/// itself off as another tenant's or service's.
fn check_extra_labels(object: &Object, labels: &Labels) -> Result<()> {
    // A tenant's object may not carry Argo CD's keys either (as patches may not); base/ is
    // the platform's.
    let tenant_set = object
        .origin
        .as_ref()
        .is_some_and(|o| o.path().starts_with("tenants/"));
    for meta in patch::METADATA {
        for field in ["labels", "annotations"] {
            let Some(map) = object
                .value
                .at(&format!("{meta}/{field}"))
                .and_then(|m| m.as_object())
            else {
                continue;
            };
            for (key, value) in map {
                let owned = key.starts_with("stencil.dev/")
                    || matches!(
                        key.as_str(),
                        "app.kubernetes.io/managed-by" | "app.kubernetes.io/part-of"
                    )
                    || (tenant_set && crate::names::is_platform_owned(key));
                if !owned {
                    continue;
                }
                let ours = labels.common.get(key).filter(|_| field == "labels");
                if ours.is_some_and(|v| value.as_str() == Some(v.as_str())) {
                    continue;
                }
                let expected = match ours {
                    Some(v) => format!("stencil sets it to `{v}` here"),
                    None => "stencil does not set it here".to_owned(),
                };
                return Err(Diagnostic::new(format!(
                    "extra object {} sets {field} `{}`, which stencil owns ({expected})",
                    object.describe(),
                    crate::error::clip(key, 120),
                ))
                .rule(crate::model::Rule::PlatformLabels.name())
                .at_opt(object.origin.as_ref())
                .hint("stencil.dev/*, argocd.argoproj.io/* and app.kubernetes.io/{managed-by,part-of,name,instance} say who owns an object; remove it or use your own prefix")
                .into());
            }
        }
    }
    Ok(())
}

/// Replaces every Secret value with a fingerprint (`<redacted hmac-sha256:…>`), and the
/// values of `sensitive` environment variables in ConfigMaps and container env likewise: a
/// reviewer sees that a value changed, never the value. Fingerprints are keyed with `key`
/// when given (a per-run key), else with the secrets file's data key; values stencil did not
/// decrypt itself (from `extraObjects` or patches) get a plain SHA-256 prefix.
pub fn redact(
    objects: &mut [Object],
    secrets: Option<&crate::secrets::Secrets>,
    key: Option<&[u8]>,
    sensitive: Option<&globset::GlobSet>,
) {
    use base64::Engine as _;
    for object in objects.iter_mut() {
        let own = !object.extra && object.origin.is_none();
        let is_secret = object.kind == "Secret" && object.api_version == "v1";
        let is_config = object.kind == "ConfigMap" && object.api_version == "v1";
        let Some(map) = object.value.as_object_mut() else {
            continue;
        };
        if is_secret {
            let mut redacted = serde_json::Map::new();
            for field in ["data", "stringData"] {
                let Some(serde_json::Value::Object(values)) = map.remove(field) else {
                    continue;
                };
                for (name, value) in values {
                    let ours = secrets.filter(|_| own);
                    let fingerprint = match (ours, key) {
                        (Some(s), Some(k)) => s.fingerprint_with(k, &name),
                        (Some(s), None) => s.fingerprint(&name),
                        (None, _) => None,
                    }
                    .unwrap_or_else(|| {
                        let text = value.as_str().unwrap_or_default();
                        let bytes = if field == "data" {
                            base64::engine::general_purpose::STANDARD
                                .decode(text)
                                .unwrap_or_default()
                        } else {
                            text.as_bytes().to_vec()
                        };
                        plain_fingerprint(key, &name, &bytes)
                    });
                    redacted.insert(
                        name,
                        serde_json::Value::String(format!("<redacted {fingerprint}>")),
                    );
                }
            }
            map.insert("stringData".into(), serde_json::Value::Object(redacted));
            continue;
        }
        let Some(sensitive) = sensitive else {
            continue;
        };
        if is_config {
            if let Some(serde_json::Value::Object(data)) = map.get_mut("data") {
                for (name, value) in data.iter_mut() {
                    if sensitive.is_match(name.as_str()) {
                        let text = value.as_str().unwrap_or_default();
                        let fingerprint = plain_fingerprint(key, name, text.as_bytes());
                        *value = serde_json::Value::String(format!("<redacted {fingerprint}>"));
                    }
                }
            }
            continue;
        }
        redact_container_env(&mut object.value, key, sensitive);
    }
}

/// Redacts sensitive `env[].value`s of every container of a pod template.
fn redact_container_env(
    value: &mut serde_json::Value,
    key: Option<&[u8]>,
    sensitive: &globset::GlobSet,
) {
    for pointer in [
        "/spec/template/spec",
        "/spec/jobTemplate/spec/template/spec",
    ] {
        if let Some(spec) = value.pointer_mut(pointer) {
            redact_pod_env(spec, key, sensitive);
        }
    }
}

/// Redacts sensitive `env[].value`s of every container of one pod spec.
fn redact_pod_env(spec: &mut serde_json::Value, key: Option<&[u8]>, sensitive: &globset::GlobSet) {
    for list in ["initContainers", "containers"] {
        let Some(serde_json::Value::Array(containers)) = spec.get_mut(list) else {
            continue;
        };
        for container in containers {
            let Some(serde_json::Value::Array(env)) = container.get_mut("env") else {
                continue;
            };
            for var in env {
                let name = var
                    .get("name")
                    .and_then(|n| n.as_str())
                    .unwrap_or_default()
                    .to_owned();
                if !sensitive.is_match(name.as_str()) {
                    continue;
                }
                if let Some(value) = var.get_mut("value") {
                    let text = value.as_str().unwrap_or_default();
                    let fingerprint = plain_fingerprint(key, &name, text.as_bytes());
                    *value = serde_json::Value::String(format!("<redacted {fingerprint}>"));
                }
            }
        }
    }
}

/// The per-run keyed fingerprint when there is a key, else a SHA-256 prefix (16 hex digits).
fn plain_fingerprint(key: Option<&[u8]>, name: &str, bytes: &[u8]) -> String {
    use sha2::{Digest as _, Sha256};
    match key {
        Some(key) => crate::secrets::keyed_fingerprint(key, name, bytes),
        None => {
            let hex: String = Sha256::digest(bytes)
                .iter()
                .take(8)
                .map(|b| format!("{b:02x}"))
                .collect();
            format!("sha256:{hex}")
        }
    }
}

/// Sorts one tenant-service's objects into stream order.
pub fn sort(objects: &mut [Object]) {
    objects.sort_by(|a, b| {
        (kind_rank(&a.kind), &a.kind, &a.name).cmp(&(kind_rank(&b.kind), &b.kind, &b.name))
    });
}

pub(crate) fn annotations(map: BTreeMap<String, String>) -> Option<BTreeMap<String, String>> {
    if map.is_empty() { None } else { Some(map) }
}
