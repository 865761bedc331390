//! Rule `rbac-escalation`: a tenant's Roles (from `extraObjects`) grant nothing that would
//! let its workloads widen their own access or undo the namespace's confinement at runtime.
//!
//! Refused, per policy rule: the verbs `bind`, `escalate`, `impersonate` and `*`; and any
//! write (`create`, `update`, `patch`, `delete`, `deletecollection`, `*`) to namespaces,
//! quotas, limit ranges, network policies (any API group: Kubernetes, Cilium, Calico),
//! endpoints, Flagger's kinds, RBAC, or `*` resources. Resources are matched by name in
//! any API group (and with any sub-resource): a Role names plurals, and a group is no fence.

use k8s_openapi::api::rbac::v1::{PolicyRule, Role};

use super::Exceptions;
use crate::error::Diagnostic;
use crate::model::Rule;
use crate::object::Object;

/// Verbs that grant more than access to resources.
const ESCALATING_VERBS: [&str; 4] = ["bind", "escalate", "impersonate", "*"];

/// Verbs that change objects.
const WRITE_VERBS: [&str; 6] = [
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "*",
];

/// Resources (plurals, any group) that confine the namespace or grant access.
const CONFINING_RESOURCES: [&str; 23] = [
    "*",
    "namespaces",
    "resourcequotas",
    "limitranges",
    "networkpolicies",
    "ciliumnetworkpolicies",
    "ciliumclusterwidenetworkpolicies",
    "globalnetworkpolicies",
    "networksets",
    "globalnetworksets",
    "stagednetworkpolicies",
    "stagedglobalnetworkpolicies",
    "stagedkubernetesnetworkpolicies",
    "adminnetworkpolicies",
    "baselineadminnetworkpolicies",
    "endpoints",
    "endpointslices",
    "canaries",
    "metrictemplates",
    "roles",
    "rolebindings",
    "clusterroles",
    "clusterrolebindings",
];

/// Every `rbac-escalation` problem of the Roles among `objects`.
pub(super) fn check_roles(
    objects: &[Object],
    tenant: &str,
    service: &str,
    exceptions: &Exceptions,
) -> Vec<Diagnostic> {
    if exceptions.allows(Rule::RbacEscalation, tenant, service) {
        return Vec::new();
    }
    let mut problems = Vec::new();
    for object in objects.iter().filter(|o| is_role(o)) {
        let fail = |msg: String| {
            Diagnostic::new(format!("{}: {msg}", object.describe()))
                .at_opt(object.origin.as_ref())
                .rule(Rule::RbacEscalation.name())
                .hint("grant only what the service needs on its own objects; the platform manages access, quotas and network policies (an exception needs a reason under policy.exceptions in stencil.yaml)")
        };
        let role: Role = match serde::Deserialize::deserialize(&object.value) {
            Ok(r) => r,
            Err(e) => {
                problems.push(fail(format!("is not a valid Role: {e}")));
                continue;
            }
        };
        for (i, rule) in role.rules.iter().flatten().enumerate() {
            for msg in [escalating_verb(rule), confinement_write(rule)]
                .into_iter()
                .flatten()
            {
                problems.push(fail(format!("rules[{i}] {msg}")));
            }
        }
    }
    problems
}

fn is_role(object: &Object) -> bool {
    object.kind == "Role" && super::kinds::group(&object.api_version) == "rbac.authorization.k8s.io"
}

/// `bind`, `escalate`, `impersonate` or `*`: grants beyond the rule's own resources.
fn escalating_verb(rule: &PolicyRule) -> Option<String> {
    let verb = rule
        .verbs
        .iter()
        .find(|v| ESCALATING_VERBS.iter().any(|e| v.eq_ignore_ascii_case(e)))?;
    Some(format!(
        "grants verb `{verb}`, which lets its holder grant or assume more access than it has"
    ))
}

/// A write to what confines the namespace (or to every resource).
fn confinement_write(rule: &PolicyRule) -> Option<String> {
    let verb = rule
        .verbs
        .iter()
        .find(|v| WRITE_VERBS.iter().any(|w| v.eq_ignore_ascii_case(w)))?;
    let resource = rule.resources.iter().flatten().find(|r| {
        let base = r.split('/').next().unwrap_or(r);
        CONFINING_RESOURCES
            .iter()
            .any(|c| base.eq_ignore_ascii_case(c))
    })?;
    Some(format!(
        "grants `{verb}` on `{resource}`, which the platform owns (quotas, network policies, access)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(resources: &[&str], verbs: &[&str]) -> PolicyRule {
        PolicyRule {
            api_groups: Some(vec!["*".into()]),
            resources: Some(resources.iter().map(|s| (*s).to_owned()).collect()),
            verbs: verbs.iter().map(|s| (*s).to_owned()).collect(),
            ..PolicyRule::default()
        }
    }

    #[test]
    fn escalating_verbs_are_found() {
        for verb in ["bind", "escalate", "impersonate", "*", "Bind"] {
            assert!(
                escalating_verb(&rule(&["configmaps"], &["get", verb])).is_some(),
                "{verb}"
            );
        }
        assert!(escalating_verb(&rule(&["*"], &["get", "list", "watch", "create"])).is_none());
    }

    #[test]
    fn writes_to_confining_resources_are_found() {
        for resource in [
            "namespaces",
            "namespaces/finalize",
            "resourcequotas",
            "limitranges",
            "networkpolicies",
            "ciliumnetworkpolicies",
            "roles",
            "rolebindings",
            "*",
            "*/scale",
            "NetworkPolicies",
        ] {
            for verb in [
                "create",
                "update",
                "patch",
                "delete",
                "deletecollection",
                "*",
            ] {
                assert!(
                    confinement_write(&rule(&[resource], &[verb])).is_some(),
                    "{verb} {resource}"
                );
            }
            assert!(confinement_write(&rule(&[resource], &["get", "list", "watch"])).is_none());
        }
        for resource in [
            "configmaps",
            "leases",
            "pods",
            "secrets",
            "deployments/scale",
        ] {
            assert!(
                confinement_write(&rule(&[resource], &["create", "update", "delete"])).is_none()
            );
        }
    }
}
