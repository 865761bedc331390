//! Platform defaults for tenant workspaces and progressive delivery (`stencil.yaml`'s
//! `workspace:` and `canary:`), and a service's `canary:` declaration.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What every tenant's namespace gets: quota, container defaults, network isolation and
/// RBAC. Rendered once per tenant with its Namespace.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WorkspaceSettings {
    /// The tenant ResourceQuota: defaults and the ceiling a tenant may raise them to.
    #[serde(default)]
    pub quota: QuotaSettings,
    /// The tenant LimitRange: container defaults and maximum.
    #[serde(default)]
    pub limit_range: LimitRangeSettings,
    /// Where ingress traffic may come from besides the tenant's own namespace; everything
    /// else is denied.
    #[serde(default)]
    pub ingress_from: IngressFromSettings,
    /// Roles a tenant's groups can be bound to: role name -> ClusterRole name
    /// (e.g. `developer: edit`, `viewer: view`).
    #[serde(default)]
    pub roles: BTreeMap<String, String>,
    /// The role (a key of `roles`) the tenant's `team` gets.
    pub team_role: Option<String>,
}

/// ResourceQuota `hard` limits, by resource name (`requests.cpu`, `limits.memory`, `pods`, …).
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct QuotaSettings {
    /// What every tenant gets.
    #[serde(default)]
    pub default: BTreeMap<String, String>,
    /// The most a tenant may ask for in its `quota:`. A resource without a ceiling cannot be
    /// raised by a tenant.
    #[serde(default)]
    pub ceiling: BTreeMap<String, String>,
}

/// LimitRange for containers: what a container without resources gets, and the most one
/// may ask for.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LimitRangeSettings {
    /// Requests of a container that sets none (e.g. `cpu: 100m, memory: 128Mi`).
    #[serde(default)]
    pub default_request: BTreeMap<String, String>,
    /// Limits of a container that sets none (e.g. `memory: 256Mi`).
    #[serde(default)]
    pub default: BTreeMap<String, String>,
    /// The most a container may ask for (e.g. `memory: 8Gi`).
    #[serde(default)]
    pub max: BTreeMap<String, String>,
}

/// Sources allowed to reach a tenant's pods (the NetworkPolicy allow rule).
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IngressFromSettings {
    /// Namespaces by name, e.g. the ingress controller's and Prometheus's.
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// CIDR blocks, e.g. the VPC for an ALB with `target-type: ip`.
    #[serde(default)]
    pub cidrs: Vec<String>,
}

/// Progressive delivery: how every service that declares `canary:` is analysed. Services
/// say what their SLOs are; the platform says how the analysis runs.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CanarySettings {
    /// Flagger's traffic provider (one the upstream Canary CRD lists).
    pub provider: CanaryProvider,
    /// Environments whose tenants roll out through canaries (default: all). Elsewhere a
    /// service's `canary:` is ignored.
    #[serde(default)]
    pub environments: Vec<String>,
    /// The Gateway that routes tenant traffic (required for `gatewayapi:v1`).
    pub gateway: Option<GatewayRef>,
    /// Prometheus URL the metric templates query.
    pub metrics_server: String,
    /// The shortest analysis interval a service may ask for (e.g. `1m`).
    #[serde(default = "default_min_interval")]
    pub min_interval: String,
    /// The fewest analysis steps a service may ask for: `maxWeight / stepWeight`.
    #[serde(default = "default_min_iterations")]
    pub min_iterations: u32,
    /// Traffic shifted per step, in percent.
    #[serde(default = "default_step_weight")]
    pub step_weight: u32,
    /// Failed checks before a rollback: the most a service may allow.
    #[serde(default = "default_threshold")]
    pub max_threshold: u32,
    /// The loosest error-rate SLO a service may declare, in percent.
    #[serde(default = "default_max_error_rate")]
    pub max_error_rate: f64,
    /// The loosest p99 latency SLO a service may declare (e.g. `2s`).
    #[serde(default = "default_max_latency")]
    pub max_latency_p99: String,
    /// The pre-rollout smoke test every canary runs before any traffic shifts.
    pub smoke_test: SmokeTestSettings,
    /// The Prometheus queries of the metric templates (Flagger template variables:
    /// `{{ namespace }}`, `{{ target }}`, `{{ interval }}`).
    #[serde(default)]
    pub queries: CanaryQueries,
}

fn default_min_interval() -> String {
    "1m".into()
}

fn default_min_iterations() -> u32 {
    5
}

fn default_step_weight() -> u32 {
    10
}

fn default_threshold() -> u32 {
    5
}

fn default_max_error_rate() -> f64 {
    5.0
}

fn default_max_latency() -> String {
    "2s".into()
}

/// Flagger providers, as the upstream Canary CRD lists them.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum CanaryProvider {
    #[serde(rename = "apisix")]
    Apisix,
    #[serde(rename = "appmesh")]
    Appmesh,
    #[serde(rename = "appmesh:v1beta2")]
    AppmeshV1beta2,
    #[serde(rename = "contour")]
    Contour,
    #[serde(rename = "gatewayapi:v1")]
    GatewayApiV1,
    #[serde(rename = "gatewayapi:v1beta1")]
    GatewayApiV1beta1,
    #[serde(rename = "gloo")]
    Gloo,
    #[serde(rename = "istio")]
    Istio,
    #[serde(rename = "knative")]
    Knative,
    #[serde(rename = "kubernetes")]
    Kubernetes,
    #[serde(rename = "kuma")]
    Kuma,
    #[serde(rename = "linkerd")]
    Linkerd,
    #[serde(rename = "nginx")]
    Nginx,
    #[serde(rename = "osm")]
    Osm,
    #[serde(rename = "skipper")]
    Skipper,
    #[serde(rename = "smi:v1alpha1")]
    SmiV1alpha1,
    #[serde(rename = "smi:v1alpha2")]
    SmiV1alpha2,
    #[serde(rename = "smi:v1alpha3")]
    SmiV1alpha3,
    #[serde(rename = "traefik")]
    Traefik,
}

impl CanaryProvider {
    pub fn as_str(self) -> &'static str {
        match self {
            CanaryProvider::Apisix => "apisix",
            CanaryProvider::Appmesh => "appmesh",
            CanaryProvider::AppmeshV1beta2 => "appmesh:v1beta2",
            CanaryProvider::Contour => "contour",
            CanaryProvider::GatewayApiV1 => "gatewayapi:v1",
            CanaryProvider::GatewayApiV1beta1 => "gatewayapi:v1beta1",
            CanaryProvider::Gloo => "gloo",
            CanaryProvider::Istio => "istio",
            CanaryProvider::Knative => "knative",
            CanaryProvider::Kubernetes => "kubernetes",
            CanaryProvider::Kuma => "kuma",
            CanaryProvider::Linkerd => "linkerd",
            CanaryProvider::Nginx => "nginx",
            CanaryProvider::Osm => "osm",
            CanaryProvider::Skipper => "skipper",
            CanaryProvider::SmiV1alpha1 => "smi:v1alpha1",
            CanaryProvider::SmiV1alpha2 => "smi:v1alpha2",
            CanaryProvider::SmiV1alpha3 => "smi:v1alpha3",
            CanaryProvider::Traefik => "traefik",
        }
    }

    /// Gateway API providers route through `canary.gateway`.
    pub fn is_gateway_api(self) -> bool {
        matches!(
            self,
            CanaryProvider::GatewayApiV1 | CanaryProvider::GatewayApiV1beta1
        )
    }

    /// The `kubernetes` provider does blue/green (no traffic weights): the analysis runs
    /// `iterations` times instead of stepping the weight.
    pub fn shifts_traffic(self) -> bool {
        self != CanaryProvider::Kubernetes
    }
}

/// A Gateway API Gateway, by name and namespace.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GatewayRef {
    pub name: String,
    pub namespace: String,
}

/// The mandatory pre-rollout smoke test, run by Flagger's load tester.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SmokeTestSettings {
    /// The load tester's URL, e.g. `http://flagger-loadtester.flagger/`.
    pub url: String,
    /// How long the smoke test may take.
    #[serde(default = "default_smoke_timeout")]
    pub timeout: String,
}

fn default_smoke_timeout() -> String {
    "60s".into()
}

/// The platform's Prometheus queries, one per SLO.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CanaryQueries {
    /// Percentage of requests that failed (5xx), 0-100.
    #[serde(default = "default_error_rate_query")]
    pub error_rate: String,
    /// 99th percentile request latency in milliseconds.
    #[serde(default = "default_latency_query")]
    pub latency_p99: String,
}

fn default_error_rate_query() -> String {
    concat!(
        "100 * sum(rate(http_requests_total{namespace=\"{{ namespace }}\",",
        "pod=~\"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)\",status=~\"5..\"}[{{ interval }}]))",
        " / sum(rate(http_requests_total{namespace=\"{{ namespace }}\",",
        "pod=~\"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)\"}[{{ interval }}]))"
    )
    .into()
}

fn default_latency_query() -> String {
    concat!(
        "1000 * histogram_quantile(0.99, sum(rate(http_request_duration_seconds_bucket{",
        "namespace=\"{{ namespace }}\",pod=~\"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)\"}",
        "[{{ interval }}])) by (le))"
    )
    .into()
}

impl Default for CanaryQueries {
    fn default() -> Self {
        CanaryQueries {
            error_rate: default_error_rate_query(),
            latency_p99: default_latency_query(),
        }
    }
}

/// A service's canary: its SLOs, and how long to look. The platform's minimums in
/// `stencil.yaml` (`canary:`) cannot be loosened here.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CanarySpec {
    /// Default true when `canary:` is present.
    pub enabled: Option<bool>,
    /// The most failed requests (5xx) allowed, in percent of all requests.
    pub max_error_rate: Option<f64>,
    /// The slowest p99 latency allowed, as a duration (e.g. `500ms`, `1s`).
    pub max_latency_p99: Option<String>,
    /// How often the SLOs are checked (default and minimum: the platform's `minInterval`).
    pub interval: Option<String>,
    /// Traffic percentage at which the canary is promoted (default 50). With the platform's
    /// step weight this sets the number of analysis steps.
    pub max_weight: Option<u32>,
    /// Failed checks before a rollback (default and maximum: the platform's `maxThreshold`).
    pub threshold: Option<u32>,
}

/// Parses a Go-style duration of whole units (`30s`, `1m`, `1m30s`, `500ms`, `2h`) into
/// milliseconds.
pub fn duration_ms(text: &str) -> Option<u64> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        if digits == 0 {
            return None;
        }
        let number: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            _ => return None,
        };
        total = total.checked_add(number.checked_mul(scale)?)?;
        rest = &rest[unit_len..];
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::duration_ms;

    #[test]
    fn durations() {
        assert_eq!(duration_ms("500ms"), Some(500));
        assert_eq!(duration_ms("1m"), Some(60_000));
        assert_eq!(duration_ms("1m30s"), Some(90_000));
        assert_eq!(duration_ms("2h"), Some(7_200_000));
        for bad in ["", "1", "m", "1x", "1.5m", "-1m", "1m 30s"] {
            assert_eq!(duration_ms(bad), None, "{bad}");
        }
    }
}
