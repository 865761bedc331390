//! Rules `storage`, `tolerations` and `priority-classes`: what a pod may use of the
//! cluster is what `tenancy:` in `stencil.yaml` lists. Checked on built objects (patches
//! and extra objects included): every PersistentVolumeClaim and volumeClaimTemplate's
//! storage class, every inline CSI volume's driver, every pod template's tolerations and
//! priority class. An empty list allows nothing (a claim without a class, which takes the
//! cluster's default, is always allowed).

use k8s_openapi::api::core::v1::{PodSpec, Toleration};
use serde_json::Value;

use super::super::platform::Placement;
use crate::model::Rule;
use crate::object::Pointer as _;

pub(in crate::policy) fn listed(list: &[String]) -> String {
    if list.is_empty() {
        "none".to_owned()
    } else {
        list.join(", ")
    }
}

/// The claims of an object: a PersistentVolumeClaim's spec (and annotations), a
/// StatefulSet's volumeClaimTemplates, each with the path it is at.
fn claim_specs<'v>(value: &'v Value, kind: &str) -> Vec<(String, &'v Value)> {
    match kind {
        "PersistentVolumeClaim" => vec![(String::new(), value)],
        "StatefulSet" => value
            .at("/spec/volumeClaimTemplates")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(i, t)| (format!("spec.volumeClaimTemplates[{i}]."), t))
            .collect(),
        _ => Vec::new(),
    }
}

/// Storage of a PersistentVolumeClaim or a StatefulSet's volumeClaimTemplates: a listed
/// class (by `storageClassName` or the beta annotation), no PersistentVolume named (it could
/// be another tenant's), no volume attributes class (performance the platform bills).
pub(super) fn claims(
    value: &Value,
    kind: &str,
    allowed: &Placement,
    find: &mut impl FnMut(Rule, String),
) {
    for (at, claim) in claim_specs(value, kind) {
        let class = claim
            .at("/spec/storageClassName")
            .and_then(Value::as_str)
            .map(|c| (format!("{at}spec.storageClassName"), c));
        let beta = claim
            .at("/metadata/annotations/volume.beta.kubernetes.io~1storage-class")
            .and_then(Value::as_str)
            .map(|c| {
                (
                    format!("{at}metadata.annotations[volume.beta.kubernetes.io/storage-class]"),
                    c,
                )
            });
        for (path, class) in class.into_iter().chain(beta) {
            storage_class(&path, class, allowed, find);
        }
        for (field, what) in [
            (
                "volumeName",
                "binds a PersistentVolume by name (it could hold another tenant's data)",
            ),
            (
                "volumeAttributesClassName",
                "asks for a volume attributes class (performance the platform decides)",
            ),
        ] {
            if claim
                .at(&format!("/spec/{field}"))
                .is_some_and(|v| !v.is_null())
            {
                find(Rule::Storage, format!("{at}spec.{field}: {what}"));
            }
        }
    }
}

fn storage_class(
    path: &str,
    class: &str,
    allowed: &Placement,
    find: &mut impl FnMut(Rule, String),
) {
    if !allowed.storage_classes.iter().any(|a| a == class) {
        find(
            Rule::Storage,
            format!(
                "{path}: storage class `{}` is not one the platform offers tenants ({})",
                crate::error::clip(class, 80),
                listed(&allowed.storage_classes)
            ),
        );
    }
}

/// Inline CSI drivers, tolerations and the priority class of one pod template at `p`.
pub(super) fn pod(
    p: &str,
    pod: &PodSpec,
    allowed: &Placement,
    find: &mut impl FnMut(Rule, String),
) {
    for (i, v) in pod.volumes.iter().flatten().enumerate() {
        let ephemeral = v
            .ephemeral
            .as_ref()
            .and_then(|e| e.volume_claim_template.as_ref())
            .and_then(|t| t.spec.storage_class_name.as_deref());
        if let Some(class) = ephemeral {
            let path =
                format!("{p}.volumes[{i}].ephemeral.volumeClaimTemplate.spec.storageClassName");
            storage_class(&path, class, allowed, find);
        }
        if let Some(csi) = &v.csi
            && !allowed.csi_drivers.contains(&csi.driver)
        {
            find(
                Rule::Storage,
                format!(
                    "{p}.volumes[{i}].csi.driver: `{}` is not a CSI driver the platform offers tenants ({})",
                    crate::error::clip(&csi.driver, 80),
                    listed(&allowed.csi_drivers)
                ),
            );
        }
    }
    for (i, t) in pod.tolerations.iter().flatten().enumerate() {
        if !tolerated(t, allowed) {
            find(
                Rule::Tolerations,
                format!(
                    "{p}.tolerations[{i}]: `{}` is not a taint the platform lets tenants tolerate ({})",
                    crate::error::clip(t.key.as_deref().unwrap_or("<every key>"), 80),
                    listed(
                        &allowed
                            .tolerations
                            .iter()
                            .map(|r| r.key.clone())
                            .collect::<Vec<_>>()
                    )
                ),
            );
        }
    }
    if let Some(class) = pod.priority_class_name.as_deref().filter(|c| !c.is_empty())
        && !allowed.priority_classes.iter().any(|c| c == class)
    {
        find(
            Rule::PriorityClasses,
            format!(
                "{p}.priorityClassName: `{}` is not a priority class the platform offers tenants ({})",
                crate::error::clip(class, 80),
                listed(&allowed.priority_classes)
            ),
        );
    }
}

/// Whether a listed taint covers the toleration: the same key, and, where the entry sets
/// them, the same value (an `Exists` toleration matches every value, so only an entry
/// without a value allows it) and effect (a toleration without one tolerates every effect,
/// so only an entry without an effect allows it).
pub(in crate::policy) fn tolerated(t: &Toleration, allowed: &Placement) -> bool {
    let Some(key) = t.key.as_deref().filter(|k| !k.is_empty()) else {
        return false;
    };
    let exists = t.operator.as_deref() == Some("Exists");
    allowed.tolerations.iter().any(|rule| {
        rule.key == key
            && rule
                .value
                .as_ref()
                .is_none_or(|v| !exists && t.value.as_ref() == Some(v))
            && rule
                .effect
                .as_ref()
                .is_none_or(|e| t.effect.as_ref() == Some(e))
    })
}
