//! Guardrail `canary-minimum`: a service declares its SLOs; how long and how carefully the
//! analysis runs is the platform's (`canary:` in `stencil.yaml`), and a service may ask for
//! more, never for less.

use super::{Platform, origin_of};
use crate::error::Diagnostic;
use crate::model::{CanaryProvider, CanarySpec, RepoSettings, Rule, duration_ms};
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

pub(super) fn check(
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
    let max_latency_ms = match spec.max_latency_p99.as_deref().map(|t| (t, duration_ms(t))) {
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
