//! Guardrail `canary-minimum`: a service declares its SLOs; how long and how carefully the
//! analysis runs is the platform's (`canary:` in `stencil.yaml`), and a service may ask for
//! more, never for less.

use super::{Platform, origin_of};
use crate::error::Diagnostic;
use crate::load::Tenant;
use crate::model::{CanaryProvider, CanarySpec, RepoSettings, Rule, ServiceSpec, duration_ms};
use crate::node::Node;

/// A service's canary analysis, checked against the platform minimums.
#[derive(Debug, Clone)]
pub struct CanaryPlan {
    pub provider: CanaryProvider,
    pub interval: String,
    pub max_weight: u32,
    pub step_weight: u32,
    /// Analysis runs: `maxWeight / stepWeight` when traffic shifts, else the minimum.
    pub iterations: u32,
    pub threshold: u32,
    pub max_error_rate: f64,
    pub max_latency_ms: u64,
}

const DEFAULT_MAX_WEIGHT: u32 = 50;

/// The canary of one tenant x service, if it has one: checked against the platform's
/// settings (`None` also when the tenant's environment runs no canaries).
pub(super) fn check_service(
    tree: &Node,
    spec: &ServiceSpec,
    tenant: &Tenant,
    service: &str,
    settings: &RepoSettings,
    platform: &Platform,
    problem: &mut impl FnMut(Diagnostic),
) -> Option<CanaryPlan> {
    let canary = spec.canary.as_ref()?;
    // Without platform settings there is nothing a disabled canary could loosen; an
    // enabled one is reported by `check`.
    let in_environment = settings.canary.as_ref().is_some_and(|c| {
        c.environments.is_empty() || c.environments.contains(&tenant.spec.environment)
    });
    if settings.canary.is_some() && !in_environment {
        return None;
    }
    if settings.canary.is_none() && canary.enabled == Some(false) {
        return None;
    }
    let relaxed = platform
        .exceptions
        .allows(Rule::CanaryMinimum, tenant.name.as_str(), service);
    if canary.enabled == Some(false) {
        // Declared SLOs switched off: as much a loosening as a shorter analysis.
        let declared = canary.max_error_rate.is_some() || canary.max_latency_p99.is_some();
        if declared && !relaxed {
            problem(
                Diagnostic::new(format!(
                    "`canary.enabled: false` switches off the canary analysis of `{service}`"
                ))
                .at(&origin_of(tree, &["canary", "enabled"]))
                .rule(Rule::CanaryMinimum.name())
                .note(format!(
                    "canaries run in {} (canary.environments at {})",
                    match settings.canary.as_ref().map(|c| &c.environments) {
                        Some(e) if !e.is_empty() => e.join(", "),
                        _ => "every environment".to_owned(),
                    },
                    platform.setting(&["canary", "environments"])
                ))
                .hint("a service with SLOs rolls out through its canary; an exception needs a reason under policy.exceptions in stencil.yaml"),
            );
        }
        return None;
    }
    let plan = check(tree, canary, settings, platform, relaxed, problem)?;
    let mut ok = true;
    let ingress_host = spec.ingress.as_ref().is_some_and(|i| {
        i.enabled.unwrap_or(i.host.is_some()) && i.host.as_deref().is_some_and(|h| !h.is_empty())
    });
    let routed = plan.provider.is_gateway_api() || plan.provider == CanaryProvider::Nginx;
    if routed && !ingress_host {
        problem(
            Diagnostic::new(format!(
                "a `{}` canary shifts the traffic of the service's ingress, and `{service}` has none",
                plan.provider.as_str()
            ))
            .at(&origin_of(tree, &["canary"]))
            .hint("set `ingress.host`, or `canary.enabled: false` for a service nothing outside the namespace calls"),
        );
        ok = false;
    }
    let autoscaled = spec
        .autoscaling
        .as_ref()
        .is_some_and(|a| a.enabled != Some(false));
    if !autoscaled {
        problem(
            Diagnostic::new(format!(
                "a canary needs `autoscaling`: Flagger scales `{service}` to zero once promoted, and a fixed `replicas` has Argo CD scale it back"
            ))
            .at(&origin_of(tree, &["canary"]))
            .hint("set `autoscaling: { minReplicas: …, maxReplicas: … }`; Flagger gives the primary its own autoscaler"),
        );
        ok = false;
    }
    if plan.provider.is_gateway_api() {
        for (i, sidecar) in spec.sidecars.iter().flatten().enumerate() {
            if sidecar.ingress_path.is_some() {
                problem(
                    Diagnostic::new(format!(
                        "sidecar `{}` has an ingressPath, but with a Gateway API canary Flagger's HTTPRoute routes only the main port",
                        sidecar.name
                    ))
                    .at(&tree
                        .get("sidecars")
                        .and_then(Node::as_seq)
                        .and_then(|s| s.get(i))
                        .map_or_else(|| tree.origin.clone(), |n| n.origin.clone()))
                    .hint("serve that path from the main container, or set `canary.enabled: false` for this service"),
                );
                ok = false;
            }
        }
    }
    ok.then_some(plan)
}

fn check(
    tree: &Node,
    spec: &CanarySpec,
    settings: &RepoSettings,
    platform: &Platform,
    relaxed: bool,
    problem: &mut impl FnMut(Diagnostic),
) -> Option<CanaryPlan> {
    let at = |key: &str| origin_of(tree, &["canary", key]);
    let (Some(platform_canary), Some(min_ms)) = (&settings.canary, platform.min_interval_ms) else {
        if settings.canary.is_none() {
            problem(
                Diagnostic::new("this service declares `canary:`, but the platform has no canary settings")
                    .at(&origin_of(tree, &["canary"]))
                    .note(format!("stencil.yaml is {}", platform.setting(&[]).path()))
                    .hint("the platform sets `canary:` (provider, metricsServer, smokeTest) in stencil.yaml; or remove `canary:` from the service"),
            );
        }
        return None;
    };
    let minimum = |field: &str, what: String, platform_key: &str| {
        Diagnostic::new(what)
            .at(&at(field))
            .rule(Rule::CanaryMinimum.name())
            .note(format!(
                "platform setting canary.{platform_key} at {}",
                platform.setting(&["canary", platform_key])
            ))
            .hint("a service may analyse longer or more carefully than the platform minimum, never less; an exception needs a reason under policy.exceptions in stencil.yaml")
    };
    let mut ok = true;

    let max_error_rate = match spec.max_error_rate {
        Some(rate) if rate > platform_canary.max_error_rate && !relaxed => {
            problem(minimum(
                "maxErrorRate",
                format!(
                    "maxErrorRate {rate}% is looser than the platform's loosest SLO {}%",
                    platform_canary.max_error_rate
                ),
                "maxErrorRate",
            ));
            ok = false;
            rate
        }
        Some(rate) if (0.0..=100.0).contains(&rate) => rate,
        Some(rate) => {
            problem(
                Diagnostic::new(format!(
                    "maxErrorRate {rate} is not a percentage between 0 and 100"
                ))
                .at(&at("maxErrorRate")),
            );
            ok = false;
            0.0
        }
        None => {
            problem(
                Diagnostic::new("a canary needs its SLOs: maxErrorRate is missing")
                    .at(&origin_of(tree, &["canary"]))
                    .hint("set canary.maxErrorRate (percent of 5xx responses, e.g. 1)"),
            );
            ok = false;
            0.0
        }
    };
    let loosest_latency = duration_ms(&platform_canary.max_latency_p99).unwrap_or(u64::MAX);
    let max_latency_ms = match spec.max_latency_p99.as_deref().map(|t| (t, duration_ms(t))) {
        Some((text, Some(ms))) if ms > loosest_latency && !relaxed => {
            problem(minimum(
                "maxLatencyP99",
                format!(
                    "maxLatencyP99 {text} is looser than the platform's loosest SLO {}",
                    platform_canary.max_latency_p99
                ),
                "maxLatencyP99",
            ));
            ok = false;
            ms
        }
        Some((_, Some(ms))) if ms > 0 => ms,
        Some((text, _)) => {
            problem(
                Diagnostic::new(format!(
                    "maxLatencyP99 `{text}` is not a duration (e.g. 500ms)"
                ))
                .at(&at("maxLatencyP99")),
            );
            ok = false;
            0
        }
        None => {
            problem(
                Diagnostic::new("a canary needs its SLOs: maxLatencyP99 is missing")
                    .at(&origin_of(tree, &["canary"]))
                    .hint("set canary.maxLatencyP99 (e.g. 500ms)"),
            );
            ok = false;
            0
        }
    };
    let interval = match spec.interval.as_deref() {
        None => platform_canary.min_interval.clone(),
        Some(text) => match duration_ms(text) {
            None | Some(0) => {
                problem(
                    Diagnostic::new(format!(
                        "canary interval `{text}` is not a duration (e.g. 1m)"
                    ))
                    .at(&at("interval")),
                );
                ok = false;
                text.to_owned()
            }
            Some(ms) if ms < min_ms && !relaxed => {
                problem(minimum(
                    "interval",
                    format!(
                        "canary interval {text} is shorter than the platform minimum {}",
                        platform_canary.min_interval
                    ),
                    "minInterval",
                ));
                ok = false;
                text.to_owned()
            }
            Some(_) => text.to_owned(),
        },
    };
    let step_weight = platform_canary.step_weight;
    let max_weight = spec.max_weight.unwrap_or(DEFAULT_MAX_WEIGHT);
    let provider = platform_canary.provider;
    let iterations = if provider.shifts_traffic() {
        if max_weight == 0 || max_weight > 100 {
            problem(
                Diagnostic::new(format!(
                    "canary maxWeight {max_weight} is not between 1 and 100"
                ))
                .at(&at("maxWeight")),
            );
            ok = false;
        }
        let steps = max_weight / step_weight.max(1);
        if steps < platform_canary.min_iterations && !relaxed {
            problem(minimum(
                "maxWeight",
                format!(
                    "canary maxWeight {max_weight} gives {steps} analysis steps of {step_weight}%; the platform minimum is {} (maxWeight >= {})",
                    platform_canary.min_iterations,
                    platform_canary.min_iterations * step_weight
                ),
                "minIterations",
            ));
            ok = false;
        }
        steps
    } else {
        platform_canary.min_iterations
    };
    let threshold = match spec.threshold {
        None => platform_canary.max_threshold,
        Some(0) => {
            problem(Diagnostic::new("canary threshold must be at least 1").at(&at("threshold")));
            ok = false;
            0
        }
        Some(t) if t > platform_canary.max_threshold && !relaxed => {
            problem(minimum(
                "threshold",
                format!(
                    "canary threshold {t} tolerates more failed checks than the platform maximum {}",
                    platform_canary.max_threshold
                ),
                "maxThreshold",
            ));
            ok = false;
            t
        }
        Some(t) => t,
    };
    ok.then_some(CanaryPlan {
        provider,
        interval,
        max_weight,
        step_weight,
        iterations,
        threshold,
        max_error_rate,
        max_latency_ms,
    })
}
