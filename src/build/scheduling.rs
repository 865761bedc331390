//! `scheduling:` on a pod: node selector, tolerations, priority class, and for long-running
//! pods the anti-affinity preset (one replica per node or per zone, required or preferred).
//! Which taints and classes are allowed is the `tolerations` and `priority-classes` rules'.

use k8s_openapi::api::core::v1::{
    Affinity, PodAffinityTerm, PodAntiAffinity, PodSpec, Toleration, WeightedPodAffinityTerm,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::Labels;
use crate::model::SchedulingSpec;

/// Applies the service's scheduling to `pod`; `replicas` says whether the pod is one of a
/// workload's replicas (anti-affinity spreads replicas; a job's pod has none to spread).
pub(super) fn apply(
    spec: Option<&SchedulingSpec>,
    labels: &Labels,
    replicas: bool,
    pod: &mut PodSpec,
) {
    let Some(s) = spec else { return };
    pod.node_selector = s.node_selector.clone().filter(|n| !n.is_empty());
    pod.priority_class_name = s.priority_class_name.clone();
    pod.tolerations = s.tolerations.as_ref().filter(|t| !t.is_empty()).map(|ts| {
        ts.iter()
            .map(|t| Toleration {
                key: Some(t.key.clone()),
                operator: Some(t.operator.clone().unwrap_or_else(|| "Equal".into())),
                value: t.value.clone(),
                effect: t.effect.clone(),
                ..Toleration::default()
            })
            .collect()
    });
    if let Some(anti) = s.anti_affinity.as_ref().filter(|_| replicas) {
        let term = PodAffinityTerm {
            topology_key: anti.topology.key().into(),
            label_selector: Some(LabelSelector {
                match_labels: Some(labels.selector.clone()),
                ..LabelSelector::default()
            }),
            ..PodAffinityTerm::default()
        };
        let anti_affinity = if anti.required.unwrap_or(false) {
            PodAntiAffinity {
                required_during_scheduling_ignored_during_execution: Some(vec![term]),
                ..PodAntiAffinity::default()
            }
        } else {
            PodAntiAffinity {
                preferred_during_scheduling_ignored_during_execution: Some(vec![
                    WeightedPodAffinityTerm {
                        weight: 100,
                        pod_affinity_term: term,
                    },
                ]),
                ..PodAntiAffinity::default()
            }
        };
        pod.affinity = Some(Affinity {
            pod_anti_affinity: Some(anti_affinity),
            ..Affinity::default()
        });
    }
}
