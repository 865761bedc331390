//! A Flagger `Canary` for a service that declares `canary:`: the service's SLOs as
//! thresholds on the platform's metric templates, the platform's interval floor, step weight
//! and threshold, and the mandatory pre-rollout smoke test.
//!
//! Flagger generates the service's ClusterIP Services (`<service>`, `-primary`, `-canary`)
//! from `spec.service`, so stencil renders no Service for a canary service.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use super::Labels;
use super::workspace::{ERROR_RATE, LATENCY_P99};
use crate::model::{CanarySettings, ProbeSpec};
use crate::policy::{CanaryPlan, Workload};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Canary {
    api_version: &'static str,
    kind: &'static str,
    metadata: ObjectMeta,
    spec: Spec,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Spec {
    provider: &'static str,
    target_ref: Ref,
    #[serde(skip_serializing_if = "Option::is_none")]
    autoscaler_ref: Option<Ref>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ingress_ref: Option<Ref>,
    progress_deadline_seconds: u32,
    service: Service,
    analysis: Analysis,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Ref {
    api_version: &'static str,
    kind: &'static str,
    name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Service {
    port: u16,
    target_port: &'static str,
    port_name: &'static str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    port_discovery: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    gateway_refs: Vec<GatewayRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hosts: Vec<String>,
}

#[derive(Serialize)]
struct GatewayRef {
    name: String,
    namespace: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Analysis {
    interval: String,
    threshold: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_weight: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    step_weight: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iterations: Option<u32>,
    metrics: Vec<Metric>,
    webhooks: Vec<Webhook>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Metric {
    name: &'static str,
    template_ref: TemplateRef,
    threshold_range: ThresholdRange,
    interval: String,
}

#[derive(Serialize)]
struct TemplateRef {
    name: &'static str,
    namespace: String,
}

#[derive(Serialize)]
struct ThresholdRange {
    max: f64,
}

#[derive(Serialize)]
struct Webhook {
    name: &'static str,
    #[serde(rename = "type")]
    type_: &'static str,
    url: String,
    timeout: String,
    metadata: BTreeMap<String, String>,
}

/// The Canary of one tenant x service.
pub(super) fn canary(
    workload: &Workload,
    plan: &CanaryPlan,
    platform: &CanarySettings,
    ns: &str,
    labels: &Labels,
    has_autoscaler: bool,
    has_ingress: bool,
) -> Canary {
    let name = workload.service.clone();
    let provider = plan.provider;
    let named = |api_version, kind| Ref {
        api_version,
        kind,
        name: name.clone(),
    };
    let nginx_ingress = provider == crate::model::CanaryProvider::Nginx && has_ingress;
    Canary {
        api_version: "flagger.app/v1beta1",
        kind: "Canary",
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: Some(ns.to_owned()),
            labels: Some(labels.common.clone()),
            ..ObjectMeta::default()
        },
        spec: Spec {
            provider: provider.as_str(),
            target_ref: named("apps/v1", "Deployment"),
            autoscaler_ref: has_autoscaler
                .then(|| named("autoscaling/v2", "HorizontalPodAutoscaler")),
            ingress_ref: nginx_ingress.then(|| named("networking.k8s.io/v1", "Ingress")),
            progress_deadline_seconds: 600,
            service: service(workload, plan, platform, has_ingress),
            analysis: analysis(workload, plan, platform, ns),
        },
    }
}

/// `spec.service`: the port Flagger generates Services for and, with the Gateway API, the
/// platform's gateway and the service's host.
fn service(
    workload: &Workload,
    plan: &CanaryPlan,
    platform: &CanarySettings,
    has_ingress: bool,
) -> Service {
    let host = workload
        .spec
        .ingress
        .as_ref()
        .and_then(|i| i.host.clone())
        .filter(|_| has_ingress);
    let gateway_refs = match (&platform.gateway, plan.provider.is_gateway_api()) {
        (Some(g), true) => vec![GatewayRef {
            name: g.name.clone(),
            namespace: g.namespace.clone(),
        }],
        _ => Vec::new(),
    };
    let port_discovery = workload
        .spec
        .sidecars
        .iter()
        .flatten()
        .any(|s| s.port.is_some());
    Service {
        // A canary is refused for a worker, the only workload without a port.
        port: workload.port.unwrap_or_default(),
        target_port: "http",
        port_name: "http",
        port_discovery,
        hosts: if gateway_refs.is_empty() {
            Vec::new()
        } else {
            host.into_iter().collect()
        },
        gateway_refs,
    }
}

/// `spec.analysis`: the platform's step settings (weights for a provider that shifts
/// traffic, iterations for one that does not), the SLO metrics and the smoke test.
fn analysis(
    workload: &Workload,
    plan: &CanaryPlan,
    platform: &CanarySettings,
    ns: &str,
) -> Analysis {
    let shifts = plan.provider.shifts_traffic();
    Analysis {
        interval: plan.interval.clone(),
        threshold: plan.threshold,
        max_weight: shifts.then_some(plan.max_weight),
        step_weight: shifts.then_some(plan.step_weight),
        iterations: (!shifts).then_some(plan.iterations),
        metrics: metrics(plan, ns),
        webhooks: vec![smoke_test(workload, platform, ns)],
    }
}

/// The service's SLOs as thresholds on the platform's metric templates.
fn metrics(plan: &CanaryPlan, ns: &str) -> Vec<Metric> {
    let metric = |name, template, max| Metric {
        name,
        template_ref: TemplateRef {
            name: template,
            namespace: ns.to_owned(),
        },
        threshold_range: ThresholdRange { max },
        interval: plan.interval.clone(),
    };
    // Max latency is compared in milliseconds; an f64 holds every u64 below 2^53 exactly.
    #[allow(clippy::cast_precision_loss)]
    let latency = plan.max_latency_ms as f64;
    vec![
        metric("error-rate", ERROR_RATE, plan.max_error_rate),
        metric("latency-p99", LATENCY_P99, latency),
    ]
}

/// The pre-rollout smoke test: the canary answers on its probe path.
fn smoke_test(workload: &Workload, platform: &CanarySettings, ns: &str) -> Webhook {
    let (name, port) = (&workload.service, workload.port.unwrap_or_default());
    let path = smoke_path(workload);
    let smoke = format!("curl -fsS --max-time 10 http://{name}-canary.{ns}:{port}{path}");
    Webhook {
        name: "smoke-test",
        type_: "pre-rollout",
        url: platform.smoke_test.url.clone(),
        timeout: platform.smoke_test.timeout.clone(),
        metadata: BTreeMap::from([
            ("type".to_owned(), "bash".to_owned()),
            ("cmd".to_owned(), smoke),
        ]),
    }
}

/// The readiness (else liveness) probe's path, when it is served on the main port: the
/// `-canary` Service Flagger generates exposes the container's declared ports only.
fn smoke_path(workload: &Workload) -> String {
    let port = workload.port.unwrap_or_default();
    workload
        .spec
        .probes
        .as_ref()
        .and_then(|p| p.readiness.as_ref().or(p.liveness.as_ref()))
        .filter(|p: &&ProbeSpec| p.port.is_none_or(|p| p == port))
        .and_then(|p| p.path.clone())
        .unwrap_or_else(|| "/".to_owned())
}
