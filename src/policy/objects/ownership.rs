//! Rule `platform-objects` on built objects: what the platform renders comes from the
//! platform only. A tenant's extra object may not be of a platform-owned kind
//! ([`kinds::PLATFORM_OWNED`] and `extraObjects.platformKinds`); an extra RoleBinding binds
//! only the service's own Roles (or a ClusterRole the platform lists) to the namespace's
//! service accounts; and a patch may not change a platform-owned object stencil renders
//! (its Canary). An exception for the tenant and service relaxes all three.

use super::{Context, RBAC, Report};
use crate::error::Diagnostic;
use crate::model::Rule;
use crate::object::{Object, Pointer as _};
use crate::policy::kinds;

/// The hint when an object of a platform-owned kind comes from a tenant.
const OWNED_HINT: &str = "the platform sets these in stencil.yaml (workspace:, canary:); an exception needs a reason under policy.exceptions in stencil.yaml";

/// The hint for a RoleBinding a tenant may not add.
const BINDING_HINT: &str = "bind a Role this service defines in extraObjects, or a ClusterRole the platform lists in extraObjects.bindableClusterRoles, to the namespace's service accounts; people get access through the tenant's groups (tenant.yaml)";

/// Reports an object that is the platform's to render, unless excepted.
pub(super) fn check(object: &Object, ctx: &Context<'_>, report: &mut Report<'_>) {
    let Some((message, hint)) = violation(object, ctx) else {
        return;
    };
    if ctx
        .platform
        .exceptions
        .allows(Rule::PlatformObjects, ctx.tenant, ctx.service)
    {
        return;
    }
    report.push(
        Diagnostic::new(message)
            .at_opt(object.origin.as_ref())
            .rule(Rule::PlatformObjects.name())
            .hint(hint),
    );
}

/// What is wrong (and the hint), if the object is an extra object of a platform-owned kind,
/// an extra RoleBinding granting more than it may, or stencil's own platform-owned object
/// changed by a patch.
fn violation(object: &Object, ctx: &Context<'_>) -> Option<(String, &'static str)> {
    let group = kinds::group(&object.api_version);
    let owned = kinds::platform_owned(group, &object.kind, &ctx.platform.extra_objects);
    if object.extra && owned {
        let message = format!(
            "{}: a tenant's {} comes from the platform, not from extraObjects",
            object.describe(),
            object.kind
        );
        return Some((message, OWNED_HINT));
    }
    if object.extra && group == RBAC && object.kind == "RoleBinding" {
        let bindable = &ctx.platform.extra_objects.bindable_cluster_roles;
        let problem = binding_problem(object, &ctx.own_roles, bindable)?;
        let message = format!(
            "{}: an extra RoleBinding may bind only a Role to the namespace's service accounts: {problem}",
            object.describe()
        );
        return Some((message, BINDING_HINT));
    }
    if !object.extra && object.origin.is_some() && owned {
        let message = format!(
            "{}: a patch may not change the {} stencil renders",
            object.describe(),
            object.kind
        );
        return Some((message, OWNED_HINT));
    }
    None
}

/// Why a RoleBinding is not one a tenant may add, if it is not: it must bind a Role of the
/// same service, or a ClusterRole in `bindable`, to ServiceAccounts of its own namespace.
fn binding_problem(object: &Object, own_roles: &[&str], bindable: &[String]) -> Option<String> {
    let v = &object.value;
    let text = |ptr: &str| v.at(ptr).and_then(|k| k.as_str()).unwrap_or_default();
    if let Some(problem) = stranger_subject(object) {
        return Some(problem);
    }
    if text("/roleRef/apiGroup") != RBAC {
        return Some("roleRef.apiGroup must be rbac.authorization.k8s.io".into());
    }
    let name = text("/roleRef/name");
    match text("/roleRef/kind") {
        "Role" if own_roles.contains(&name) => None,
        "Role" => Some(format!(
            "it binds Role `{name}`, which this service's extraObjects do not define"
        )),
        "ClusterRole" if bindable.iter().any(|b| b == name) => None,
        "ClusterRole" => Some(format!(
            "it binds ClusterRole `{name}`, which is not in extraObjects.bindableClusterRoles in stencil.yaml"
        )),
        other => Some(format!(
            "roleRef.kind `{other}` is neither Role nor ClusterRole"
        )),
    }
}

/// The first subject that is not a ServiceAccount of the binding's own namespace.
fn stranger_subject(object: &Object) -> Option<String> {
    let own_namespace = object.namespace.as_deref();
    let subjects = object.value.get("subjects").and_then(|s| s.as_array());
    let stranger = subjects.into_iter().flatten().find(|s| {
        s.get("kind").and_then(|k| k.as_str()) != Some("ServiceAccount")
            || s.get("namespace")
                .and_then(|n| n.as_str())
                .is_some_and(|n| Some(n) != own_namespace)
    })?;
    let field = |k: &str| stranger.get(k).and_then(|x| x.as_str()).unwrap_or("?");
    Some(format!(
        "subject {} `{}` is not a service account of this namespace; people get access through the tenant's team and groups",
        field("kind"),
        field("name")
    ))
}
