//! Guardrail `canary-minimum`: a service declares its SLOs; how long and how carefully the
//! analysis runs is the platform's (`canary:` in `stencil.yaml`), and a service may ask for
//! more, never for less.
//!
//! [`check_service`] decides whether the service runs a canary at all and whether its
//! traffic can be shifted; [`Analysis`] checks each value of `canary:` against the
//! platform's, one small step per value. A step that finds a problem pushes it and marks
//! the analysis failed, so no plan is returned.

use super::spec::SpecCtx;
use super::{Platform, origin_of};
use crate::error::Diagnostic;
use crate::model::{CanaryProvider, CanarySettings, CanarySpec, Rule, duration_ms};
use crate::node::Node;
use crate::origin::Origin;

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
    ctx: &SpecCtx,
    problem: &mut dyn FnMut(Diagnostic),
) -> Option<CanaryPlan> {
    let canary = ctx.spec.canary.as_ref()?;
    if !runs_here(ctx, canary) {
        return None;
    }
    let relaxed = ctx.allows(Rule::CanaryMinimum);
    if canary.enabled == Some(false) {
        switched_off(ctx, canary, relaxed, problem);
        return None;
    }
    let plan = check(
        ctx.tree,
        canary,
        ctx.settings.canary.as_ref(),
        ctx.platform,
        relaxed,
        problem,
    )?;
    let ok = [
        routed_through_ingress(ctx, &plan, problem),
        autoscaled(ctx, problem),
        sidecars_unrouted(ctx, &plan, problem),
    ];
    ok.iter().all(|ok| *ok).then_some(plan)
}

/// Whether the tenant's environment runs canaries. Without platform settings there is
/// nothing a disabled canary could loosen; an enabled one is reported by [`check`].
fn runs_here(ctx: &SpecCtx, canary: &CanarySpec) -> bool {
    match &ctx.settings.canary {
        Some(c) => {
            c.environments.is_empty() || c.environments.contains(&ctx.tenant.spec.environment)
        }
        None => canary.enabled != Some(false),
    }
}

/// Declared SLOs switched off: as much a loosening as a shorter analysis.
fn switched_off(
    ctx: &SpecCtx,
    canary: &CanarySpec,
    relaxed: bool,
    problem: &mut dyn FnMut(Diagnostic),
) {
    let declared = canary.max_error_rate.is_some() || canary.max_latency_p99.is_some();
    if !declared || relaxed {
        return;
    }
    let environments = match ctx.settings.canary.as_ref().map(|c| &c.environments) {
        Some(e) if !e.is_empty() => e.join(", "),
        _ => "every environment".to_owned(),
    };
    problem(
        Diagnostic::new(format!(
            "`canary.enabled: false` switches off the canary analysis of `{}`",
            ctx.service
        ))
        .at(&ctx.at(&["canary", "enabled"]))
        .rule(Rule::CanaryMinimum.name())
        .note(format!(
            "canaries run in {environments} (canary.environments at {})",
            ctx.platform.setting(&["canary", "environments"])
        ))
        .hint("a service with SLOs rolls out through its canary; an exception needs a reason under policy.exceptions in stencil.yaml"),
    );
}

/// A canary that shifts the ingress's traffic needs an ingress host.
fn routed_through_ingress(
    ctx: &SpecCtx,
    plan: &CanaryPlan,
    problem: &mut dyn FnMut(Diagnostic),
) -> bool {
    let ingress_host = ctx.spec.ingress.as_ref().is_some_and(|i| {
        i.enabled.unwrap_or(i.host.is_some()) && i.host.as_deref().is_some_and(|h| !h.is_empty())
    });
    let routed = plan.provider.is_gateway_api() || plan.provider == CanaryProvider::Nginx;
    if !routed || ingress_host {
        return true;
    }
    problem(
        Diagnostic::new(format!(
            "a `{}` canary shifts the traffic of the service's ingress, and `{}` has none",
            plan.provider.as_str(),
            ctx.service
        ))
        .at(&ctx.at(&["canary"]))
        .hint("set `ingress.host`, or `canary.enabled: false` for a service nothing outside the namespace calls"),
    );
    false
}

/// Flagger scales the canary to zero: the service must be autoscaled.
fn autoscaled(ctx: &SpecCtx, problem: &mut dyn FnMut(Diagnostic)) -> bool {
    let autoscaled = ctx
        .spec
        .autoscaling
        .as_ref()
        .is_some_and(|a| a.enabled != Some(false));
    if !autoscaled {
        problem(
            Diagnostic::new(format!(
                "a canary needs `autoscaling`: Flagger scales `{}` to zero once promoted, and a fixed `replicas` has Argo CD scale it back",
                ctx.service
            ))
            .at(&ctx.at(&["canary"]))
            .hint("set `autoscaling: { minReplicas: …, maxReplicas: … }`; Flagger gives the primary its own autoscaler"),
        );
    }
    autoscaled
}

/// With a Gateway API canary, Flagger's HTTPRoute routes only the main port.
fn sidecars_unrouted(
    ctx: &SpecCtx,
    plan: &CanaryPlan,
    problem: &mut dyn FnMut(Diagnostic),
) -> bool {
    if !plan.provider.is_gateway_api() {
        return true;
    }
    let mut ok = true;
    for (i, sidecar) in ctx.spec.sidecars.iter().flatten().enumerate() {
        if sidecar.ingress_path.is_none() {
            continue;
        }
        let at = ctx
            .tree
            .get("sidecars")
            .and_then(Node::as_seq)
            .and_then(|s| s.get(i))
            .map_or_else(|| ctx.tree.origin.clone(), |n| n.origin.clone());
        problem(
            Diagnostic::new(format!(
                "sidecar `{}` has an ingressPath, but with a Gateway API canary Flagger's HTTPRoute routes only the main port",
                sidecar.name
            ))
            .at(&at)
            .hint("serve that path from the main container, or set `canary.enabled: false` for this service"),
        );
        ok = false;
    }
    ok
}

/// Checks the service's `canary:` against the platform's settings.
fn check(
    tree: &Node,
    spec: &CanarySpec,
    settings: Option<&CanarySettings>,
    platform: &Platform,
    relaxed: bool,
    problem: &mut dyn FnMut(Diagnostic),
) -> Option<CanaryPlan> {
    let (Some(settings), Some(min_interval_ms)) = (settings, platform.min_interval_ms) else {
        if settings.is_none() {
            problem(
                Diagnostic::new("this service declares `canary:`, but the platform has no canary settings")
                    .at(&origin_of(tree, &["canary"]))
                    .note(format!("stencil.yaml is {}", platform.setting(&[]).path()))
                    .hint("the platform sets `canary:` (provider, metricsServer, smokeTest) in stencil.yaml; or remove `canary:` from the service"),
            );
        }
        return None;
    };
    let mut a = Analysis {
        tree,
        settings,
        platform,
        relaxed,
        min_interval_ms,
        ok: true,
        problem,
    };
    let max_error_rate = a.error_rate(spec.max_error_rate);
    let max_latency_ms = a.latency(spec.max_latency_p99.as_deref());
    let interval = a.interval(spec.interval.as_deref());
    let max_weight = spec.max_weight.unwrap_or(DEFAULT_MAX_WEIGHT);
    let iterations = a.iterations(max_weight);
    let threshold = a.threshold(spec.threshold);
    a.ok.then_some(CanaryPlan {
        provider: settings.provider,
        interval,
        max_weight,
        step_weight: settings.step_weight,
        iterations,
        threshold,
        max_error_rate,
        max_latency_ms,
    })
}

/// One service's `canary:` values against the platform's `canary:` settings.
struct Analysis<'a, 'p> {
    tree: &'a Node,
    settings: &'a CanarySettings,
    platform: &'a Platform,
    /// An exception relaxes `canary-minimum`: looser values are not reported.
    relaxed: bool,
    min_interval_ms: u64,
    /// No step has found a problem yet.
    ok: bool,
    problem: &'p mut dyn FnMut(Diagnostic),
}

impl Analysis<'_, '_> {
    fn at(&self, key: &str) -> Origin {
        origin_of(self.tree, &["canary", key])
    }

    fn fail(&mut self, diagnostic: Diagnostic) {
        self.ok = false;
        (self.problem)(diagnostic);
    }

    /// A value looser than the platform's `canary.<platform_key>` (guardrail
    /// `canary-minimum`), reported at the service's `canary.<field>`.
    fn below_minimum(&mut self, field: &str, what: String, platform_key: &str) {
        let diagnostic = Diagnostic::new(what)
            .at(&self.at(field))
            .rule(Rule::CanaryMinimum.name())
            .note(format!(
                "platform setting canary.{platform_key} at {}",
                self.platform.setting(&["canary", platform_key])
            ))
            .hint("a service may analyse longer or more carefully than the platform minimum, never less; an exception needs a reason under policy.exceptions in stencil.yaml");
        self.fail(diagnostic);
    }

    /// A required SLO the service does not declare.
    fn missing_slo(&mut self, field: &str, hint: &str) {
        let diagnostic = Diagnostic::new(format!("a canary needs its SLOs: {field} is missing"))
            .at(&origin_of(self.tree, &["canary"]))
            .hint(hint);
        self.fail(diagnostic);
    }

    fn error_rate(&mut self, rate: Option<f64>) -> f64 {
        let loosest = self.settings.max_error_rate;
        match rate {
            Some(rate) if rate > loosest && !self.relaxed => {
                let what = format!(
                    "maxErrorRate {rate}% is looser than the platform's loosest SLO {loosest}%"
                );
                self.below_minimum("maxErrorRate", what, "maxErrorRate");
                rate
            }
            Some(rate) if (0.0..=100.0).contains(&rate) => rate,
            Some(rate) => {
                let at = self.at("maxErrorRate");
                self.fail(
                    Diagnostic::new(format!(
                        "maxErrorRate {rate} is not a percentage between 0 and 100"
                    ))
                    .at(&at),
                );
                0.0
            }
            None => {
                self.missing_slo(
                    "maxErrorRate",
                    "set canary.maxErrorRate (percent of 5xx responses, e.g. 1)",
                );
                0.0
            }
        }
    }

    fn latency(&mut self, text: Option<&str>) -> u64 {
        let loosest = duration_ms(&self.settings.max_latency_p99).unwrap_or(u64::MAX);
        match text.map(|t| (t, duration_ms(t))) {
            Some((text, Some(ms))) if ms > loosest && !self.relaxed => {
                let what = format!(
                    "maxLatencyP99 {text} is looser than the platform's loosest SLO {}",
                    self.settings.max_latency_p99
                );
                self.below_minimum("maxLatencyP99", what, "maxLatencyP99");
                ms
            }
            Some((_, Some(ms))) if ms > 0 => ms,
            Some((text, _)) => {
                let at = self.at("maxLatencyP99");
                self.fail(
                    Diagnostic::new(format!(
                        "maxLatencyP99 `{text}` is not a duration (e.g. 500ms)"
                    ))
                    .at(&at),
                );
                0
            }
            None => {
                self.missing_slo("maxLatencyP99", "set canary.maxLatencyP99 (e.g. 500ms)");
                0
            }
        }
    }

    fn interval(&mut self, text: Option<&str>) -> String {
        let Some(text) = text else {
            return self.settings.min_interval.clone();
        };
        match duration_ms(text) {
            None | Some(0) => {
                let at = self.at("interval");
                self.fail(
                    Diagnostic::new(format!(
                        "canary interval `{text}` is not a duration (e.g. 1m)"
                    ))
                    .at(&at),
                );
            }
            Some(ms) if ms < self.min_interval_ms && !self.relaxed => {
                let what = format!(
                    "canary interval {text} is shorter than the platform minimum {}",
                    self.settings.min_interval
                );
                self.below_minimum("interval", what, "minInterval");
            }
            Some(_) => {}
        }
        text.to_owned()
    }

    /// Analysis steps: `maxWeight / stepWeight` when traffic shifts, else the minimum.
    fn iterations(&mut self, max_weight: u32) -> u32 {
        let (step_weight, min) = (self.settings.step_weight, self.settings.min_iterations);
        if !self.settings.provider.shifts_traffic() {
            return min;
        }
        if max_weight == 0 || max_weight > 100 {
            let at = self.at("maxWeight");
            self.fail(
                Diagnostic::new(format!(
                    "canary maxWeight {max_weight} is not between 1 and 100"
                ))
                .at(&at),
            );
        }
        let steps = max_weight / step_weight.max(1);
        if steps < min && !self.relaxed {
            let what = format!(
                "canary maxWeight {max_weight} gives {steps} analysis steps of {step_weight}%; the platform minimum is {min} (maxWeight >= {})",
                min * step_weight
            );
            self.below_minimum("maxWeight", what, "minIterations");
        }
        steps
    }

    fn threshold(&mut self, threshold: Option<u32>) -> u32 {
        let max = self.settings.max_threshold;
        match threshold {
            None => max,
            Some(0) => {
                let at = self.at("threshold");
                self.fail(Diagnostic::new("canary threshold must be at least 1").at(&at));
                0
            }
            Some(t) if t > max && !self.relaxed => {
                let what = format!(
                    "canary threshold {t} tolerates more failed checks than the platform maximum {max}"
                );
                self.below_minimum("threshold", what, "maxThreshold");
                t
            }
            Some(t) => t,
        }
    }
}
