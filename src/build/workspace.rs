//! A tenant's workspace kit: what every tenant namespace gets besides its services. A
//! ResourceQuota and a LimitRange, a default-deny-ingress NetworkPolicy with one allow rule
//! (same namespace plus the platform's sources), a RoleBinding per role the tenant's groups
//! have, and, where the tenant's environment runs canaries, the platform's Flagger
//! MetricTemplates.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    LimitRange, LimitRangeItem, LimitRangeSpec, ResourceQuota, ResourceQuotaSpec,
};
use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicySpec,
};
use k8s_openapi::api::rbac::v1::{RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::Serialize;

use super::{Labels, Object};
use crate::error::Result;
use crate::load::Tenant;
use crate::model::{CanarySettings, IngressFromSettings, LimitRangeSettings, RepoSettings};
use crate::policy::WorkspacePlan;

/// Names of the kit's objects.
pub(super) const QUOTA: &str = "tenant-quota";
pub(super) const LIMITS: &str = "tenant-limits";
pub(super) const DENY_INGRESS: &str = "default-deny-ingress";
pub(super) const ALLOW_INGRESS: &str = "allow-ingress";
pub(super) const ERROR_RATE: &str = "stencil-error-rate";
pub(super) const LATENCY_P99: &str = "stencil-latency-p99";

/// The whole kit, the Namespace first.
pub fn workspace(
    tenant: &Tenant,
    settings: &RepoSettings,
    plan: &WorkspacePlan,
) -> Result<Vec<Object>> {
    let t = tenant.name.as_str();
    let kit = Kit {
        namespace: tenant.namespace.as_str(),
        labels: Labels::tenant(tenant, settings).into_map(),
    };
    let mut objects = vec![super::namespace(tenant, settings, plan.pod_security)?];
    if let Some(quota) = kit.quota(plan) {
        objects.push(Object::from_typed(&quota, t, None)?);
    }
    if let Some(limits) = kit.limit_range(&settings.workspace.limit_range) {
        objects.push(Object::from_typed(&limits, t, None)?);
    }
    objects.push(Object::from_typed(&kit.deny_ingress(), t, None)?);
    let allow = kit.allow_ingress(&settings.workspace.ingress_from);
    objects.push(Object::from_typed(&allow, t, None)?);
    for binding in kit.role_bindings(plan) {
        objects.push(Object::from_typed(&binding, t, None)?);
    }
    if let Some(canary) = settings
        .canary
        .as_ref()
        .filter(|c| c.environments.is_empty() || c.environments.contains(&tenant.spec.environment))
    {
        for (name, query) in [
            (ERROR_RATE, &canary.queries.error_rate),
            (LATENCY_P99, &canary.queries.latency_p99),
        ] {
            let template = metric_template(kit.meta(name), canary, query);
            objects.push(Object::from_typed(&template, t, None)?);
        }
    }
    Ok(objects)
}

/// What every object of the kit shares: the tenant's namespace and labels.
struct Kit<'a> {
    namespace: &'a str,
    labels: BTreeMap<String, String>,
}

impl Kit<'_> {
    fn meta(&self, name: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(self.namespace.to_owned()),
            labels: Some(self.labels.clone()),
            ..ObjectMeta::default()
        }
    }

    /// The ResourceQuota, unless the plan sets no quota.
    fn quota(&self, plan: &WorkspacePlan) -> Option<ResourceQuota> {
        (!plan.quota.is_empty()).then(|| ResourceQuota {
            metadata: self.meta(QUOTA),
            spec: Some(ResourceQuotaSpec {
                hard: Some(quantities(&plan.quota)),
                ..ResourceQuotaSpec::default()
            }),
            ..ResourceQuota::default()
        })
    }

    /// The LimitRange of containers, unless the platform sets no limits.
    fn limit_range(&self, lr: &LimitRangeSettings) -> Option<LimitRange> {
        if lr.default.is_empty() && lr.default_request.is_empty() && lr.max.is_empty() {
            return None;
        }
        let some = |m: &BTreeMap<String, String>| (!m.is_empty()).then(|| quantities(m));
        Some(LimitRange {
            metadata: self.meta(LIMITS),
            spec: Some(LimitRangeSpec {
                limits: vec![LimitRangeItem {
                    type_: "Container".into(),
                    default: some(&lr.default),
                    default_request: some(&lr.default_request),
                    max: some(&lr.max),
                    ..LimitRangeItem::default()
                }],
            }),
        })
    }

    /// Every pod of the namespace: no ingress unless a policy allows it.
    fn deny_ingress(&self) -> NetworkPolicy {
        NetworkPolicy {
            metadata: self.meta(DENY_INGRESS),
            spec: Some(NetworkPolicySpec {
                pod_selector: Some(LabelSelector::default()),
                policy_types: Some(vec!["Ingress".into()]),
                ingress: None,
                egress: None,
            }),
        }
    }

    /// Ingress from the same namespace and from the platform's sources.
    fn allow_ingress(&self, from: &IngressFromSettings) -> NetworkPolicy {
        NetworkPolicy {
            metadata: self.meta(ALLOW_INGRESS),
            spec: Some(NetworkPolicySpec {
                pod_selector: Some(LabelSelector::default()),
                policy_types: Some(vec!["Ingress".into()]),
                ingress: Some(vec![NetworkPolicyIngressRule {
                    from: Some(ingress_peers(from)),
                    ports: None,
                }]),
                egress: None,
            }),
        }
    }

    /// A RoleBinding per role that has groups.
    fn role_bindings(&self, plan: &WorkspacePlan) -> Vec<RoleBinding> {
        let bindings = plan
            .bindings
            .iter()
            .filter(|(_, (_, groups))| !groups.is_empty());
        bindings
            .map(|(role, (cluster_role, groups))| RoleBinding {
                metadata: self.meta(&format!("tenant-{role}")),
                role_ref: RoleRef {
                    api_group: "rbac.authorization.k8s.io".into(),
                    kind: "ClusterRole".into(),
                    name: cluster_role.clone(),
                },
                subjects: Some(groups.iter().map(|g| group_subject(g)).collect()),
            })
            .collect()
    }
}

/// The peers `allow-ingress` admits: the namespace's own pods, then the platform's
/// namespaces and CIDR blocks, in the order of `stencil.yaml`.
fn ingress_peers(from: &IngressFromSettings) -> Vec<NetworkPolicyPeer> {
    let mut peers = vec![NetworkPolicyPeer {
        pod_selector: Some(LabelSelector::default()),
        ..NetworkPolicyPeer::default()
    }];
    for namespace in &from.namespaces {
        peers.push(NetworkPolicyPeer {
            namespace_selector: Some(LabelSelector {
                match_labels: Some(BTreeMap::from([(
                    "kubernetes.io/metadata.name".to_owned(),
                    namespace.clone(),
                )])),
                ..LabelSelector::default()
            }),
            ..NetworkPolicyPeer::default()
        });
    }
    for cidr in &from.cidrs {
        peers.push(NetworkPolicyPeer {
            ip_block: Some(IPBlock {
                cidr: cidr.clone(),
                except: None,
            }),
            ..NetworkPolicyPeer::default()
        });
    }
    peers
}

fn group_subject(group: &str) -> Subject {
    Subject {
        api_group: Some("rbac.authorization.k8s.io".into()),
        kind: "Group".into(),
        name: group.to_owned(),
        namespace: None,
    }
}

fn quantities(map: &BTreeMap<String, String>) -> BTreeMap<String, Quantity> {
    map.iter()
        .map(|(k, v)| (k.clone(), Quantity(v.clone())))
        .collect()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MetricTemplate<'a> {
    api_version: &'static str,
    kind: &'static str,
    metadata: ObjectMeta,
    spec: MetricTemplateSpec<'a>,
}

#[derive(Serialize)]
struct MetricTemplateSpec<'a> {
    provider: MetricProvider<'a>,
    query: &'a str,
}

#[derive(Serialize)]
struct MetricProvider<'a> {
    #[serde(rename = "type")]
    type_: &'static str,
    address: &'a str,
}

/// A Flagger MetricTemplate querying the platform's Prometheus.
fn metric_template<'a>(
    metadata: ObjectMeta,
    canary: &'a CanarySettings,
    query: &'a str,
) -> MetricTemplate<'a> {
    MetricTemplate {
        api_version: "flagger.app/v1beta1",
        kind: "MetricTemplate",
        metadata,
        spec: MetricTemplateSpec {
            provider: MetricProvider {
                type_: "prometheus",
                address: &canary.metrics_server,
            },
            query,
        },
    }
}
