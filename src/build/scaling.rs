//! HorizontalPodAutoscaler (autoscaling/v2) and PodDisruptionBudget (policy/v1).

use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec,
    MetricTarget, ResourceMetricSource,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::Labels;
use super::workload::{int_or_string, meta};
use crate::policy::Workload;

/// Default CPU target when autoscaling names no metric.
pub(super) const DEFAULT_CPU_TARGET: u32 = 70;

fn utilization(resource: &str, percent: u32) -> MetricSpec {
    MetricSpec {
        type_: "Resource".into(),
        resource: Some(ResourceMetricSource {
            name: resource.into(),
            target: MetricTarget {
                type_: "Utilization".into(),
                average_utilization: Some(i32::try_from(percent).unwrap_or(i32::MAX)),
                ..MetricTarget::default()
            },
        }),
        ..MetricSpec::default()
    }
}

pub(super) fn autoscaler(
    w: &Workload,
    ns: &str,
    labels: &Labels,
) -> Option<HorizontalPodAutoscaler> {
    let a = w.spec.autoscaling.as_ref()?;
    if a.enabled == Some(false) {
        return None;
    }
    let mut metrics = Vec::new();
    let cpu = match (a.target_cpu_utilization, a.target_memory_utilization) {
        (None, None) => Some(DEFAULT_CPU_TARGET),
        (cpu, _) => cpu,
    };
    if let Some(cpu) = cpu {
        metrics.push(utilization("cpu", cpu));
    }
    if let Some(mem) = a.target_memory_utilization {
        metrics.push(utilization("memory", mem));
    }
    let min = a.min_replicas.unwrap_or(1);
    Some(HorizontalPodAutoscaler {
        metadata: meta(&w.service, ns, labels),
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("apps/v1".into()),
                kind: match w.kind() {
                    crate::model::WorkloadKind::StatefulSet => "StatefulSet",
                    _ => "Deployment",
                }
                .into(),
                name: w.service.clone(),
            },
            min_replicas: Some(i32::try_from(min).unwrap_or(i32::MAX)),
            max_replicas: i32::try_from(a.max_replicas.unwrap_or(min)).unwrap_or(i32::MAX),
            metrics: Some(metrics),
            ..HorizontalPodAutoscalerSpec::default()
        }),
        ..HorizontalPodAutoscaler::default()
    })
}

pub(super) fn disruption_budget(
    w: &Workload,
    ns: &str,
    labels: &Labels,
) -> Option<PodDisruptionBudget> {
    let spec = w.spec.pod_disruption_budget.clone().unwrap_or_default();
    if spec.enabled == Some(false) {
        return None;
    }
    let (min_available, max_unavailable) = match (&spec.min_available, &spec.max_unavailable) {
        (None, None) => (None, Some(IntOrString::Int(1))),
        (min, max) => (
            min.as_ref()
                .map(|m| int_or_string(Some(m), IntOrString::Int(1))),
            max.as_ref()
                .map(|m| int_or_string(Some(m), IntOrString::Int(1))),
        ),
    };
    // With a canary, the pods serving traffic are Flagger's primary: it copies the
    // Deployment with `app.kubernetes.io/name: <service>-primary`.
    let mut selector = labels.selector.clone();
    if w.canary.is_some() {
        selector.insert(
            "app.kubernetes.io/name".to_owned(),
            format!("{}-primary", w.service),
        );
    }
    Some(PodDisruptionBudget {
        metadata: meta(&w.service, ns, labels),
        spec: Some(PodDisruptionBudgetSpec {
            selector: Some(LabelSelector {
                match_labels: Some(selector),
                ..LabelSelector::default()
            }),
            min_available,
            max_unavailable,
            ..PodDisruptionBudgetSpec::default()
        }),
        ..PodDisruptionBudget::default()
    })
}
