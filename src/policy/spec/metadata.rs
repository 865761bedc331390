//! Names, labels and annotations: the `<tenant>-<service>` instance label fits, keys and
//! label values are valid, and no key is the platform's (guardrails `platform-labels`,
//! `pod-security-labels` and the Pod Security rules that annotations can break). Also the
//! claims on the shared infrastructure (SSM paths, hosts, IAM roles), checked by
//! `policy/infra.rs`.

use std::collections::BTreeMap;

use super::SpecCtx;
use crate::error::Diagnostic;
use crate::model::Rule;
use crate::names::check_dns_label;
use crate::policy::fields::check_metadata_map;
use crate::policy::{is_kubernetes_reserved, is_pod_security_label, pod_security};

/// What the service claims of the shared infrastructure (see `policy/infra.rs`).
pub(super) fn shared_infra(ctx: &SpecCtx, out: &mut Vec<Diagnostic>) {
    crate::policy::infra::check_spec(
        ctx.tree,
        ctx.spec,
        ctx.tenant,
        ctx.service,
        ctx.settings,
        &ctx.platform.tenancy,
        &ctx.platform.exceptions,
        &mut |d| out.push(d),
    );
}

/// `app.kubernetes.io/instance` is `<tenant>-<service>`, a DNS label.
pub(super) fn instance_name(ctx: &SpecCtx, out: &mut Vec<Diagnostic>) {
    let instance = format!("{}-{}", ctx.tenant.name, ctx.service);
    if let Err(msg) = check_dns_label(&instance, 63) {
        out.push(
            Diagnostic::new(format!("tenant x service name {msg}"))
                .at(&ctx.tenant.node.origin)
                .hint("the label app.kubernetes.io/instance is `<tenant>-<service>`; shorten the tenant or service name"),
        );
    }
}

/// `labels:` keys and values are valid Kubernetes names.
pub(super) fn label_values(ctx: &SpecCtx, out: &mut Vec<Diagnostic>) {
    let labels = ctx.spec.labels.as_ref();
    check_metadata_map(ctx.tree, &["labels"], labels, true, &mut |d| out.push(d));
}

/// The label and pod annotation maps the service sets.
fn pod_maps<'a>(ctx: &SpecCtx<'a>) -> [(&'static str, Option<&'a BTreeMap<String, String>>); 2] {
    [
        ("labels", ctx.spec.labels.as_ref()),
        ("podAnnotations", ctx.spec.pod_annotations.as_ref()),
    ]
}

/// No label or pod annotation is stencil's, Argo CD's or Kubernetes' own, and none breaks
/// a Pod Security rule (unless an exception relaxes that rule).
pub(super) fn platform_keys(ctx: &SpecCtx, out: &mut Vec<Diagnostic>) {
    for (field, map) in pod_maps(ctx) {
        for key in map.into_iter().flat_map(BTreeMap::keys) {
            reserved_key(ctx, field, key, out);
        }
        for (finding, at) in pod_security::check_input_map(ctx.tree, field, map) {
            if finding.rule == Rule::PodSecurityLabels {
                out.push(pod_security::label_diagnostic(&finding, &at));
            } else if !ctx.allows(finding.rule) {
                out.push(
                    Diagnostic::new(finding.message)
                        .at(&at)
                        .rule(finding.rule.name())
                        .hint("if this is really needed, grant an exception with a reason under policy.exceptions in stencil.yaml"),
                );
            }
        }
    }
}

/// Guardrail `platform-labels` for one key of `labels` or `podAnnotations`.
fn reserved_key(ctx: &SpecCtx, field: &str, key: &str, out: &mut Vec<Diagnostic>) {
    let reserved = field == "labels" && is_kubernetes_reserved(key) && !is_pod_security_label(key);
    if !reserved && !crate::names::is_platform_owned(key) {
        return;
    }
    let whose = if reserved {
        "has a prefix Kubernetes reserves for its own components"
    } else {
        "is stencil's or Argo CD's: it says which tenant, service and Application an object belongs to"
    };
    let at = ctx
        .tree
        .get(field)
        .and_then(|m| m.get(key))
        .map_or_else(|| ctx.tree.origin.clone(), |n| n.origin.clone());
    out.push(
        Diagnostic::new(format!("{field}: `{}` {whose}", crate::error::clip(key, 120)))
            .at(&at)
            .rule(Rule::PlatformLabels.name())
            .hint("stencil.dev/*, argocd.argoproj.io/* and app.kubernetes.io/{managed-by,part-of,name,instance} are set by stencil only; use a prefix of your own"),
    );
}

/// Annotation keys (pod, ingress, service account) are valid Kubernetes names.
pub(super) fn annotation_names(ctx: &SpecCtx, out: &mut Vec<Diagnostic>) {
    let spec = ctx.spec;
    let maps = [
        (&["podAnnotations"][..], spec.pod_annotations.as_ref()),
        (
            &["ingress", "annotations"][..],
            spec.ingress.as_ref().and_then(|i| i.annotations.as_ref()),
        ),
        (
            &["serviceAccount", "annotations"][..],
            spec.service_account
                .as_ref()
                .and_then(|sa| sa.annotations.as_ref()),
        ),
    ];
    for (path, map) in maps {
        check_metadata_map(ctx.tree, path, map, false, &mut |d| out.push(d));
    }
}
