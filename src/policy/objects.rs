//! Guardrails on built objects, after patches and for extra objects too: one rule per
//! function, run over every object by [`check_objects`].
//!
//! The object rules ([`OBJECT_RULES`]): platform-owned kinds and RoleBindings (rule
//! `platform-objects`, `objects/ownership.rs`); Services, DaemonSets and Pod Security labels
//! (`exposure.rs`); pod fields outside pod templates (`pod_security.rs`); the namespaces a
//! tenant's custom resource reaches (`kinds.rs`); and every pod template: the restricted
//! container rules (`objects/containers.rs`) and the Pod Security Standards
//! (`pod_security.rs`). Roles are checked once for all objects (rule `rbac-escalation`,
//! `rbac.rs`).
//!
//! Invariants: a rule only reports, it never stops the others, so one run shows every
//! problem. Per object, rule findings come in [`OBJECT_RULES`] order, then the problems no
//! exception relaxes (invalid pod specs, foreign namespaces); every diagnostic names the
//! object and points at its origin (the patch or extra object that made it).

mod containers;
mod ownership;
pub(super) mod placement;

use k8s_openapi::api::core::v1::PodSpec;

use serde::Deserialize as _;

use super::{Platform, exposure, kinds, pod_security, rbac};
use crate::error::{Diagnostic, Error, Result};
use crate::model::Rule;
use crate::object::Object;

/// What every rule over built objects reads besides the object.
pub(super) struct Context<'a> {
    pub tenant: &'a str,
    pub service: &'a str,
    pub platform: &'a Platform,
    /// The Roles this service defines itself: the only Roles its RoleBindings may bind.
    pub own_roles: Vec<&'a str>,
}

/// One guardrail (or a group of them) over one built object.
type ObjectRule = fn(&Object, &Context<'_>, &mut Report<'_>);

/// The rules [`check_objects`] runs on every object, in report order.
const OBJECT_RULES: [ObjectRule; 6] = [
    ownership::check,
    exposure_rules,
    embedded_pod_fields,
    custom_resource_namespaces,
    pod_template_rules,
    storage_claims,
];

/// Rule `storage` on claims: a PersistentVolumeClaim's or volumeClaimTemplate's class.
fn storage_claims(object: &Object, ctx: &Context<'_>, report: &mut Report<'_>) {
    placement::claims(
        &object.value,
        &object.kind,
        &ctx.platform.placement,
        &mut |rule, msg| {
            report.finding(Some(rule), msg);
        },
    );
}

/// Checks the guardrails on built (and patched) objects: every container of every pod
/// template, including sidecars and extra objects, against the restricted container rules
/// (`objects/containers.rs`) and the Pod Security Standards of [`pod_security`]; Roles,
/// RoleBindings, platform-owned kinds, Services and labels too.
pub fn check_objects(
    objects: &[Object],
    tenant: &str,
    service: &str,
    platform: &Platform,
) -> Result<()> {
    let mut problems: Vec<Error> =
        rbac::check_roles(objects, tenant, service, &platform.exceptions)
            .into_iter()
            .map(Error::from)
            .collect();
    let ctx = Context {
        tenant,
        service,
        platform,
        own_roles: own_roles(objects),
    };
    for object in objects {
        let mut report = Report::new(object, &ctx);
        for rule in OBJECT_RULES {
            rule(object, &ctx, &mut report);
        }
        problems.extend(report.finish().into_iter().map(Error::from));
    }
    Error::unless(problems, ())
}

/// The names of the Roles the service's extra objects define.
fn own_roles(objects: &[Object]) -> Vec<&str> {
    objects
        .iter()
        .filter(|o| o.extra && o.kind == "Role" && kinds::group(&o.api_version) == RBAC)
        .map(|o| o.name.as_str())
        .collect()
}

const RBAC: &str = "rbac.authorization.k8s.io";

/// What the rules over one object found: rule findings (an exception may relax them) and
/// problems that are no rule's (no exception relaxes them), reported after the findings.
pub(super) struct Report<'a> {
    object: &'a Object,
    ctx: &'a Context<'a>,
    found: Vec<Diagnostic>,
    invalid: Vec<Diagnostic>,
}

impl<'a> Report<'a> {
    fn new(object: &'a Object, ctx: &'a Context<'a>) -> Report<'a> {
        Report {
            object,
            ctx,
            found: Vec::new(),
            invalid: Vec::new(),
        }
    }

    /// A diagnostic a rule built itself (and checked the exceptions for).
    fn push(&mut self, diagnostic: Diagnostic) {
        self.found.push(diagnostic);
    }

    /// A finding of `rule` (`None`: a container without an image), unless an exception
    /// relaxes the rule for this tenant and service (`pod-security-labels` has none).
    fn finding(&mut self, rule: Option<Rule>, msg: String) {
        if let Some(rule) = rule
            && rule != Rule::PodSecurityLabels
            && self
                .ctx
                .platform
                .exceptions
                .allows(rule, self.ctx.tenant, self.ctx.service)
        {
            return;
        }
        let d = self.diagnostic(&msg);
        let d = match rule {
            Some(Rule::PodSecurityLabels) => d.rule(Rule::PodSecurityLabels.name()).hint(
                "the platform labels every tenant Namespace pod-security.kubernetes.io/{enforce,audit,warn}: restricted; no tenant input may set these labels",
            ),
            Some(rule @ (Rule::Storage | Rule::Tolerations | Rule::PriorityClasses)) => {
                d.rule(rule.name()).hint(
                    "use one the platform lists, or ask the platform to add it under tenancy (storageClasses, csiDrivers, tolerations, priorityClasses) in stencil.yaml",
                )
            }
            Some(rule) => d.rule(rule.name()).hint(
                "if this is really needed, grant an exception with a reason under policy.exceptions in stencil.yaml",
            ),
            None => d.hint("every container needs an image with an immutable tag"),
        };
        self.found.push(d);
    }

    /// A problem no exception relaxes.
    fn invalid(&mut self, msg: String) {
        let d = self.diagnostic(&msg);
        self.invalid.push(d);
    }

    fn diagnostic(&self, msg: &str) -> Diagnostic {
        Diagnostic::new(format!("{}: {msg}", self.object.describe()))
            .at_opt(self.object.origin.as_ref())
    }

    /// Everything found, in report order.
    fn finish(mut self) -> Vec<Diagnostic> {
        self.found.append(&mut self.invalid);
        self.found
    }
}

/// Services, DaemonSets and Pod Security labels (see [`exposure`]).
fn exposure_rules(object: &Object, _: &Context<'_>, report: &mut Report<'_>) {
    for finding in exposure::check_object(object) {
        report.finding(Some(finding.rule), finding.message);
    }
}

/// Host access and privilege in pod fields outside a pod template (a custom resource's).
fn embedded_pod_fields(object: &Object, _: &Context<'_>, report: &mut Report<'_>) {
    for finding in pod_security::check_embedded(&object.value) {
        report.finding(Some(finding.rule), finding.message);
    }
}

/// Custom resources a tenant wrote or patched stay in the tenant's namespace (base/ is the
/// platform's, which may name its own namespaces).
fn custom_resource_namespaces(object: &Object, ctx: &Context<'_>, report: &mut Report<'_>) {
    let tenant_made = object
        .origin
        .as_ref()
        .is_some_and(|o| o.path().starts_with("tenants/"));
    if !tenant_made || kinds::is_built_in(&object.api_version, &object.kind) {
        return;
    }
    let Some(own) = object.namespace.as_deref() else {
        return;
    };
    let allowed = |ns: &str| {
        ns == own
            || ns.starts_with("kube-")
            || ctx.platform.platform_namespaces.iter().any(|p| p == ns)
    };
    for msg in kinds::other_namespaces(&object.value, own, &allowed) {
        report.invalid(msg);
    }
}

/// Every pod template: a valid pod spec without ephemeral containers, the restricted
/// container rules, then the Pod Security Standards.
fn pod_template_rules(object: &Object, ctx: &Context<'_>, report: &mut Report<'_>) {
    for template in pod_security::pod_templates(&object.value) {
        let pod = match PodSpec::deserialize(template.spec) {
            Ok(p) => p,
            Err(e) => {
                report.invalid(format!("{}: invalid pod spec: {e}", template.path));
                continue;
            }
        };
        if pod
            .ephemeral_containers
            .as_ref()
            .is_some_and(|e| !e.is_empty())
        {
            report.invalid(format!(
                "{}.ephemeralContainers: ephemeral containers are not allowed in a pod template or a new pod (kubectl debug adds them to a running pod)",
                template.path
            ));
        }
        containers::check_pod_template(object, &template.path, &pod, &mut |rule, msg| {
            report.finding(rule, msg);
        });
        for finding in pod_security::check_pod(&template, &pod) {
            report.finding(Some(finding.rule), finding.message);
        }
        placement::pod(
            &template.path,
            &pod,
            &ctx.platform.placement,
            &mut |rule, msg| {
                report.finding(Some(rule), msg);
            },
        );
    }
}

#[cfg(test)]
mod tests;
