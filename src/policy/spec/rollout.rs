//! How the main container runs and rolls out: its port, probes, resources (guardrail
//! `resources`), update strategy, disruption budget, ingress and autoscaling.

use super::SpecCtx;
use crate::error::Diagnostic;
use crate::model::{IntOrString, Rule};
use crate::policy::fields::{
    check_int_or_percent, check_probes, check_quantities, check_resources,
};

/// Probe ports and paths are valid.
pub(super) fn probes(ctx: &SpecCtx, out: &mut Vec<Diagnostic>) {
    let probes = ctx.spec.probes.as_ref();
    check_probes(ctx.tree, &["probes"], probes, &mut |d| out.push(d));
}

/// Guardrail `resources`: requests and a memory limit, unless an exception relaxes it.
pub(super) fn resources(ctx: &SpecCtx, out: &mut Vec<Diagnostic>) {
    if !ctx.allows(Rule::Resources) {
        let resources = ctx.spec.resources.as_ref();
        check_resources(ctx.tree, resources, ctx.service, &mut |d| out.push(d));
    }
}

/// Resource quantities parse (`250m`, `512Mi`).
pub(super) fn quantities(ctx: &SpecCtx, out: &mut Vec<Diagnostic>) {
    let resources = ctx.spec.resources.as_ref();
    check_quantities(ctx.tree, resources, &mut |d| out.push(d));
}

/// Whether a `maxSurge` or `maxUnavailable` is zero.
fn is_zero(value: Option<&IntOrString>) -> bool {
    match value {
        Some(IntOrString::Int(0)) => true,
        Some(IntOrString::String(s)) => s == "0" || s == "0%",
        _ => false,
    }
}

/// `strategy:` values are integers or percentages, not both zero.
pub(super) fn strategy(ctx: &SpecCtx, out: &mut Vec<Diagnostic>) {
    let Some(strategy) = &ctx.spec.strategy else {
        return;
    };
    let (surge, unavailable) = (
        strategy.max_surge.as_ref(),
        strategy.max_unavailable.as_ref(),
    );
    check_int_or_percent(ctx.tree, &["strategy", "maxSurge"], surge, &mut |d| {
        out.push(d);
    });
    let path = ["strategy", "maxUnavailable"];
    check_int_or_percent(ctx.tree, &path, unavailable, &mut |d| out.push(d));
    if is_zero(surge) && is_zero(unavailable) {
        out.push(
            Diagnostic::new("strategy.maxSurge and strategy.maxUnavailable cannot both be 0")
                .at(&ctx.at(&["strategy"]))
                .hint("a rollout could never start; the defaults are maxSurge 25% and maxUnavailable 0"),
        );
    }
}

/// `podDisruptionBudget:` takes one of its two values, an integer or a percentage.
pub(super) fn disruption_budget(ctx: &SpecCtx, out: &mut Vec<Diagnostic>) {
    let Some(pdb) = &ctx.spec.pod_disruption_budget else {
        return;
    };
    let (min, max) = (pdb.min_available.as_ref(), pdb.max_unavailable.as_ref());
    let path = ["podDisruptionBudget", "minAvailable"];
    check_int_or_percent(ctx.tree, &path, min, &mut |d| out.push(d));
    let path = ["podDisruptionBudget", "maxUnavailable"];
    check_int_or_percent(ctx.tree, &path, max, &mut |d| out.push(d));
    if min.is_some() && max.is_some() {
        out.push(
            Diagnostic::new("podDisruptionBudget takes minAvailable or maxUnavailable, not both")
                .at(&ctx.at(&["podDisruptionBudget"]))
                .hint("remove one; set the other to null in an overlay to switch between them"),
        );
    }
}

/// An enabled ingress has a host; its path is absolute.
pub(super) fn ingress(ctx: &SpecCtx, out: &mut Vec<Diagnostic>) {
    let Some(ingress) = &ctx.spec.ingress else {
        return;
    };
    let enabled = ingress.enabled.unwrap_or(ingress.host.is_some());
    if enabled && ingress.host.as_deref().is_none_or(str::is_empty) {
        out.push(
            Diagnostic::new("ingress is enabled but has no host")
                .at(&ctx.at(&["ingress"]))
                .hint("set `ingress.host`, e.g. \"{{ service.name }}.{{ tenant.domain }}\", or `ingress.enabled: false`"),
        );
    }
    if let Some(path) = &ingress.path
        && let Err(msg) = super::traffic::check_path(path)
    {
        out.push(Diagnostic::new(format!("ingress path {msg}")).at(&ctx.at(&["ingress", "path"])));
    }
}

/// Enabled autoscaling has `1 <= minReplicas <= maxReplicas`.
pub(super) fn autoscaling(ctx: &SpecCtx, out: &mut Vec<Diagnostic>) {
    let Some(a) = &ctx.spec.autoscaling else {
        return;
    };
    if a.enabled == Some(false) {
        return;
    }
    let min = a.min_replicas.unwrap_or(1);
    match a.max_replicas {
        None => out.push(
            Diagnostic::new("autoscaling needs maxReplicas")
                .at(&ctx.at(&["autoscaling"]))
                .hint("set autoscaling.maxReplicas, or `autoscaling.enabled: false` to use `replicas`"),
        ),
        Some(max) if min == 0 || max < min => out.push(
            Diagnostic::new(format!(
                "autoscaling needs 1 <= minReplicas <= maxReplicas (got {min} and {max})"
            ))
            .at(&ctx.at(&["autoscaling"])),
        ),
        Some(_) => {}
    }
}
