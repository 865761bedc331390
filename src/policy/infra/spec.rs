//! The shared-infrastructure rules on a service definition, each pointing at the line that
//! set the value: SSM paths (`ssmSecrets`, `featureFlags.ssmPrefix`) under the tenant's
//! prefix, its own hosts, the IngressClass and ALB group left to base/, platform-owned
//! annotations set in base/ only, and its own IAM roles.
//!
//! Each rule is one function in [`SPEC_RULES`]; they run in that order and an exception for
//! the tenant and service relaxes a rule's findings.

use super::{
    Claims, DEFAULT_INGRESS_CLASS, Exceptions, TenancyRules, annotation_value, tenant_set,
};
use crate::error::Diagnostic;
use crate::load::Tenant;
use crate::model::{RepoSettings, Rule, ServiceSpec};
use crate::node::Node;
use crate::origin::Origin;
use crate::policy::origin_of;

/// What the rules on a service definition read.
struct Definition<'a> {
    tree: &'a Node,
    spec: &'a ServiceSpec,
    claims: &'a Claims,
    rules: &'a TenancyRules,
}

/// A finding: the rule, where, what is wrong, the hint.
type Fail<'f> = dyn FnMut(Rule, Origin, String, String) + 'f;

/// One rule on a service definition.
type SpecRule = fn(&Definition<'_>, &mut Fail<'_>);

/// The rules on a service definition, in report order.
const SPEC_RULES: [SpecRule; 7] = [
    ssm_secrets,
    feature_flags_prefix,
    ingress_host,
    ingress_class_name,
    ingress_group_name,
    annotations,
    iam_role_arn,
];

/// Checks what a service definition claims of the shared infrastructure.
#[allow(clippy::too_many_arguments)]
pub(crate) fn check_spec(
    tree: &Node,
    spec: &ServiceSpec,
    tenant: &Tenant,
    service: &str,
    settings: &RepoSettings,
    rules: &TenancyRules,
    exceptions: &Exceptions,
    problem: &mut impl FnMut(Diagnostic),
) {
    let claims = rules.claims_of(tenant, settings);
    let definition = Definition {
        tree,
        spec,
        claims: &claims,
        rules,
    };
    let name = tenant.name.as_str();
    let mut fail = |rule: Rule, at: Origin, msg: String, hint: String| {
        if !exceptions.allows(rule, name, service) {
            problem(Diagnostic::new(msg).at(&at).rule(rule.name()).hint(hint));
        }
    };
    for rule in SPEC_RULES {
        rule(&definition, &mut fail);
    }
}

/// `ssm-prefix`: every `ssmSecrets` parameter lies under the tenant's prefix.
fn ssm_secrets(d: &Definition<'_>, fail: &mut Fail<'_>) {
    for (env, path) in d.spec.ssm_secrets.iter().flatten() {
        if let Err(msg) = d.claims.ssm(path, false) {
            fail(
                Rule::SsmPrefix,
                origin_of(d.tree, &["ssmSecrets", env]),
                format!("ssmSecrets.{env}: {msg}"),
                d.claims.ssm_hint(),
            );
        }
    }
}

/// `ssm-prefix`: `featureFlags.ssmPrefix` is the tenant's prefix or under it.
fn feature_flags_prefix(d: &Definition<'_>, fail: &mut Fail<'_>) {
    let prefix = d
        .spec
        .feature_flags
        .as_ref()
        .and_then(|f| f.ssm_prefix.as_ref());
    if let Some(prefix) = prefix
        && let Err(msg) = d.claims.ssm(prefix.trim_end_matches('/'), true)
    {
        fail(
            Rule::SsmPrefix,
            origin_of(d.tree, &["featureFlags", "ssmPrefix"]),
            format!("featureFlags.ssmPrefix: {msg}"),
            d.claims.ssm_hint(),
        );
    }
}

/// `tenant-hosts`: `ingress.host`, every `ingress.hosts` entry and every `httpRoute.hosts`
/// entry is one of the tenant's.
fn ingress_host(d: &Definition<'_>, fail: &mut Fail<'_>) {
    let ingress = d.spec.ingress.as_ref();
    let mut hosts: Vec<(&str, Vec<&str>)> = Vec::new();
    if let Some(host) = ingress.and_then(|i| i.host.as_deref()) {
        hosts.push((host, vec!["ingress", "host"]));
    }
    for host in ingress.and_then(|i| i.hosts.as_ref()).into_iter().flatten() {
        hosts.push((host, vec!["ingress", "hosts"]));
    }
    let route = d
        .spec
        .http_route
        .as_ref()
        .filter(|r| r.enabled != Some(false));
    for host in route.map(|r| r.hosts.as_slice()).unwrap_or_default() {
        hosts.push((host, vec!["httpRoute", "hosts"]));
    }
    for (host, path) in hosts {
        if host.is_empty() {
            continue;
        }
        if let Err(msg) = d.claims.host(host) {
            fail(
                Rule::TenantHosts,
                origin_of(d.tree, &path),
                format!("{}: {msg}", path.join(".")),
                d.claims.host_hint(),
            );
        }
    }
}

/// `platform-annotations`: the IngressClass picks the controller and, through its
/// IngressClassParams, the load balancer group (overriding group.name): as much the
/// platform's as the group. A tenant file may not set another than the default.
fn ingress_class_name(d: &Definition<'_>, fail: &mut Fail<'_>) {
    let class = d.spec.ingress.as_ref().and_then(|i| i.class_name.as_ref());
    let at = origin_of(d.tree, &["ingress", "className"]);
    if let Some(class) = class
        && class != DEFAULT_INGRESS_CLASS
        && tenant_set(&at)
    {
        fail(
            Rule::PlatformAnnotations,
            at,
            format!(
                "ingress.className `{class}` is the platform's to choose: an IngressClass (and its IngressClassParams) decides which load balancer and group the Ingress joins"
            ),
            format!("leave ingress.className to base/ (the default is `{DEFAULT_INGRESS_CLASS}`)"),
        );
    }
}

/// `platform-annotations`: a tenant file may not set `ingress.groupName`.
fn ingress_group_name(d: &Definition<'_>, fail: &mut Fail<'_>) {
    let set = d
        .spec
        .ingress
        .as_ref()
        .is_some_and(|i| i.group_name.is_some());
    let at = origin_of(d.tree, &["ingress", "groupName"]);
    if set && tenant_set(&at) {
        fail(
            Rule::PlatformAnnotations,
            at,
            "ingress.groupName (alb.ingress.kubernetes.io/group.name) is the platform's: it decides which shared load balancer the Ingress joins".into(),
            "the platform sets ingress.groupName in base/ (a profile such as base/<service>/prod.yaml)".into(),
        );
    }
}

/// `platform-annotations`, `iam-role-arn`, `tenant-hosts`: every annotation the definition
/// sets (Ingress, ServiceAccount, pods). A platform-owned key only from base/; an IAM role
/// or external-dns value the tenant's own.
fn annotations(d: &Definition<'_>, fail: &mut Fail<'_>) {
    let spec = d.spec;
    let maps = [
        (
            "ingress",
            spec.ingress.as_ref().and_then(|i| i.annotations.as_ref()),
        ),
        (
            "serviceAccount",
            spec.service_account
                .as_ref()
                .and_then(|s| s.annotations.as_ref()),
        ),
        ("podAnnotations", spec.pod_annotations.as_ref()),
    ];
    for (field, map) in maps {
        for (key, value) in map.into_iter().flatten() {
            let at = if field == "podAnnotations" {
                origin_of(d.tree, &[field, key])
            } else {
                origin_of(d.tree, &[field, "annotations", key])
            };
            if d.rules.owned(key) && tenant_set(&at) {
                fail(
                    Rule::PlatformAnnotations,
                    at.clone(),
                    format!("annotation `{key}` is the platform's"),
                    "only base/ sets it (tenancy.platformAnnotations in stencil.yaml lists these)"
                        .into(),
                );
            }
            annotation_value(d.claims, key, value, &mut |rule, msg, hint| {
                fail(rule, at.clone(), msg, hint);
            });
        }
    }
}

/// `iam-role-arn`: `serviceAccount.iamRoleArn` is one of the tenant's roles.
fn iam_role_arn(d: &Definition<'_>, fail: &mut Fail<'_>) {
    let arn = d
        .spec
        .service_account
        .as_ref()
        .and_then(|s| s.iam_role_arn.as_deref());
    if let Some(arn) = arn
        && let Err(msg) = d.claims.role(arn)
    {
        fail(
            Rule::IamRoleArn,
            origin_of(d.tree, &["serviceAccount", "iamRoleArn"]),
            format!("serviceAccount.iamRoleArn: {msg}"),
            d.claims.role_hint(),
        );
    }
}
