//! Rules `storage`, `tolerations` and `priority-classes` on the definition, located at the
//! value that asks (the same rules run on the built objects, for patches and extra
//! objects): a claim's storage class, a CSI driver, a toleration and a priority class are
//! ones `tenancy:` lists.

use k8s_openapi::api::core::v1::Toleration;

use super::SpecCtx;
use crate::error::Diagnostic;
use crate::model::Rule;
use crate::node::Node;
use crate::policy::objects::placement::{listed, tolerated};

const HINT: &str =
    "use one the platform lists, or ask the platform to add it under tenancy in stencil.yaml";

fn finding(
    ctx: &SpecCtx,
    rule: Rule,
    msg: String,
    at: &crate::origin::Origin,
    out: &mut Vec<Diagnostic>,
) {
    if !ctx.allows(rule) {
        out.push(Diagnostic::new(msg).at(at).rule(rule.name()).hint(HINT));
    }
}

/// Storage classes of claims and CSI drivers of volumes.
pub(super) fn storage(ctx: &SpecCtx, out: &mut Vec<Diagnostic>) {
    let allowed = &ctx.platform.placement;
    for (name, v) in ctx.spec.volumes.iter().flatten() {
        if let Some(class) = v
            .claim
            .as_ref()
            .and_then(|c| c.storage_class_name.as_deref())
            && !allowed.storage_classes.iter().any(|c| c == class)
        {
            let at = ctx.at(&["volumes", name, "claim", "storageClassName"]);
            let msg = format!(
                "volume `{name}`: storage class `{}` is not one the platform offers tenants ({})",
                crate::error::clip(class, 80),
                listed(&allowed.storage_classes)
            );
            finding(ctx, Rule::Storage, msg, &at, out);
        }
        if let Some(csi) = &v.csi
            && !allowed.csi_drivers.contains(&csi.driver)
        {
            let at = ctx.at(&["volumes", name, "csi", "driver"]);
            let msg = format!(
                "volume `{name}`: CSI driver `{}` is not one the platform offers tenants ({})",
                crate::error::clip(&csi.driver, 80),
                listed(&allowed.csi_drivers)
            );
            finding(ctx, Rule::Storage, msg, &at, out);
        }
    }
}

/// Tolerations and the priority class of `scheduling:`.
pub(super) fn scheduling(ctx: &SpecCtx, out: &mut Vec<Diagnostic>) {
    let Some(s) = &ctx.spec.scheduling else {
        return;
    };
    let allowed = &ctx.platform.placement;
    let nodes = ctx
        .tree
        .get("scheduling")
        .and_then(|s| s.get("tolerations"))
        .and_then(Node::as_seq)
        .unwrap_or(&[]);
    for (i, t) in s.tolerations.iter().flatten().enumerate() {
        let toleration = Toleration {
            key: Some(t.key.clone()),
            operator: t.operator.clone(),
            value: t.value.clone(),
            effect: t.effect.clone(),
            ..Toleration::default()
        };
        let at = nodes.get(i).map_or_else(
            || ctx.at(&["scheduling", "tolerations"]),
            |n| n.origin.clone(),
        );
        if crate::policy::pod_security::CONTROL_PLANE_TAINTS.contains(&t.key.as_str()) {
            let msg = format!(
                "toleration of `{}` lets the pod onto control-plane nodes",
                t.key
            );
            finding(ctx, Rule::NodePlacement, msg, &at, out);
        } else if !tolerated(&toleration, allowed) {
            let keys: Vec<String> = allowed.tolerations.iter().map(|r| r.key.clone()).collect();
            let msg = format!(
                "toleration of `{}` is not one the platform lets tenants use ({})",
                crate::error::clip(&t.key, 80),
                listed(&keys)
            );
            finding(ctx, Rule::Tolerations, msg, &at, out);
        }
    }
    if let Some(class) = s
        .priority_class_name
        .as_deref()
        .filter(|c| c.starts_with("system-"))
    {
        let at = ctx.at(&["scheduling", "priorityClassName"]);
        let msg = format!(
            "priority class `{class}` would preempt other tenants' pods and the node's own"
        );
        finding(ctx, Rule::NodePlacement, msg, &at, out);
    } else if let Some(class) = s.priority_class_name.as_deref()
        && !allowed.priority_classes.iter().any(|c| c == class)
    {
        let at = ctx.at(&["scheduling", "priorityClassName"]);
        let msg = format!(
            "priority class `{}` is not one the platform offers tenants ({})",
            crate::error::clip(class, 80),
            listed(&allowed.priority_classes)
        );
        finding(ctx, Rule::PriorityClasses, msg, &at, out);
    }
}
