//! Gateway API and Prometheus Operator objects: the HTTPRoute that serves the service's
//! hosts through a shared Gateway (`gateway.networking.k8s.io/v1`), the ServiceMonitor that
//! scrapes it and the PrometheusRule of its alerts (`monitoring.coreos.com/v1`).
//!
//! Typed here (the CRDs are not in k8s-openapi) so that a field cannot be misspelt; the
//! upstream CRDs in `../shared/fixtures/crds` check the output in the tests.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector, LabelSelectorRequirement, ObjectMeta,
};
use serde::Serialize;

use super::Labels;
use super::workload::meta;
use crate::policy::Workload;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Typed<S> {
    api_version: &'static str,
    kind: &'static str,
    metadata: ObjectMeta,
    spec: S,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RouteSpec {
    parent_refs: Vec<ParentRef>,
    hostnames: Vec<String>,
    rules: Vec<RouteRule>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ParentRef {
    group: &'static str,
    kind: &'static str,
    name: String,
    namespace: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    section_name: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RouteRule {
    matches: Vec<RouteMatch>,
    backend_refs: Vec<BackendRef>,
}

#[derive(Debug, Serialize)]
struct RouteMatch {
    path: PathMatch,
}

#[derive(Debug, Serialize)]
struct PathMatch {
    #[serde(rename = "type")]
    type_: &'static str,
    value: String,
}

#[derive(Debug, Serialize)]
struct BackendRef {
    name: String,
    port: u16,
}

/// The HTTPRoute of `httpRoute:`: every host and path to the main port.
pub(super) fn http_route(w: &Workload, ns: &str, labels: &Labels) -> Option<Typed<RouteSpec>> {
    let route = w
        .spec
        .http_route
        .as_ref()
        .filter(|r| r.enabled != Some(false))?;
    let port = w.port?;
    let paths = route.paths.clone().unwrap_or_else(|| vec!["/".into()]);
    Some(Typed {
        api_version: "gateway.networking.k8s.io/v1",
        kind: "HTTPRoute",
        metadata: meta(&w.service, ns, labels),
        spec: RouteSpec {
            parent_refs: vec![ParentRef {
                group: "gateway.networking.k8s.io",
                kind: "Gateway",
                name: route.gateway.name.clone(),
                namespace: route.gateway.namespace.clone(),
                section_name: route.gateway.section_name.clone(),
            }],
            hostnames: route.hosts.clone(),
            rules: vec![RouteRule {
                matches: paths
                    .into_iter()
                    .map(|value| RouteMatch {
                        path: PathMatch {
                            type_: "PathPrefix",
                            value,
                        },
                    })
                    .collect(),
                backend_refs: vec![BackendRef {
                    name: w.service.clone(),
                    port,
                }],
            }],
        },
    })
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct MonitorSpec {
    selector: LabelSelector,
    endpoints: Vec<Endpoint>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Endpoint {
    port: String,
    path: String,
    interval: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    scrape_timeout: Option<String>,
}

/// The ServiceMonitor of `monitoring.serviceMonitor`: the Service's named port, every 30 s
/// on `/metrics` unless it says otherwise.
pub(super) fn service_monitor(
    w: &Workload,
    ns: &str,
    labels: &Labels,
) -> Option<Typed<MonitorSpec>> {
    let sm = w
        .spec
        .monitoring
        .as_ref()
        .and_then(|m| m.service_monitor.as_ref())
        .filter(|s| s.enabled != Some(false))?;
    Some(Typed {
        api_version: "monitoring.coreos.com/v1",
        kind: "ServiceMonitor",
        metadata: meta(&w.service, ns, labels),
        spec: MonitorSpec {
            selector: LabelSelector {
                match_labels: Some(labels.selector.clone()),
                match_expressions: Some(vec![LabelSelectorRequirement {
                    key: super::network::HEADLESS.into(),
                    operator: "DoesNotExist".into(),
                    values: None,
                }]),
            },
            endpoints: vec![Endpoint {
                port: sm.port.clone().unwrap_or_else(|| "http".into()),
                path: sm.path.clone().unwrap_or_else(|| "/metrics".into()),
                interval: sm.interval.clone().unwrap_or_else(|| "30s".into()),
                scrape_timeout: sm.scrape_timeout.clone(),
            }],
        },
    })
}

#[derive(Debug, Serialize)]
pub(super) struct RuleSpec {
    groups: Vec<RuleGroup>,
}

#[derive(Debug, Serialize)]
struct RuleGroup {
    name: String,
    rules: Vec<AlertRule>,
}

#[derive(Debug, Serialize)]
struct AlertRule {
    alert: String,
    expr: String,
    #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
    for_: Option<String>,
    labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
}

/// The PrometheusRule of `monitoring.alerts`: one group, each alert labelled with the
/// tenant and service so that routing finds the team.
pub(super) fn prometheus_rule(w: &Workload, ns: &str, labels: &Labels) -> Option<Typed<RuleSpec>> {
    let alerts = w
        .spec
        .monitoring
        .as_ref()
        .and_then(|m| m.alerts.as_ref())
        .filter(|a| !a.is_empty())?;
    let owner: BTreeMap<String, String> = [super::labels::TENANT, super::labels::SERVICE]
        .into_iter()
        .filter_map(|k| {
            let name = k.strip_prefix("stencil.dev/")?;
            let key = format!("{}{name}", crate::names::ALERT_OWNER_PREFIX);
            Some((key, labels.common.get(k)?.clone()))
        })
        .collect();
    let rules = alerts
        .iter()
        .map(|(name, a)| {
            let mut rule_labels = a.labels.clone().unwrap_or_default();
            rule_labels.extend(owner.clone());
            AlertRule {
                alert: name.clone(),
                expr: a.expr.clone(),
                for_: a.for_.clone(),
                labels: rule_labels,
                annotations: a.annotations.clone().unwrap_or_default(),
            }
        })
        .collect();
    Some(Typed {
        api_version: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        metadata: meta(&w.service, ns, labels),
        spec: RuleSpec {
            groups: vec![RuleGroup {
                name: format!("{}.{}", ns, w.service),
                rules,
            }],
        },
    })
}
