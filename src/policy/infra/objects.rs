//! The shared-infrastructure rules on built objects: what patches and extra objects claim.
//! stencil's own objects, unpatched, hold only what the definition rules checked, so only
//! objects with an origin (a patch or an extra object) are looked at.
//!
//! Each rule is one function in [`OBJECT_RULES`], run in that order on every such object;
//! an exception for the tenant and service relaxes a rule's findings. Every diagnostic
//! names the object and points at the patch or extra object that made it.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::Value;

use super::{
    Claims, DEFAULT_INGRESS_CLASS, Exceptions, LEGACY_INGRESS_CLASS, TenancyRules,
    annotation_value, group_of, hosts, secrets, tenant_set,
};
use crate::error::{Diagnostic, Error, Result};
use crate::load::Tenant;
use crate::model::{ExternalSecretsSettings, RepoSettings, Rule, ServiceSpec};
use crate::object::{Object, Pointer as _};

/// What the rules on built objects read besides the object.
pub(super) struct Context<'a> {
    pub claims: Arc<Claims>,
    pub rules: &'a TenancyRules,
    /// The platform-owned annotations stencil itself writes, from the definition (where
    /// the definition rules made sure the platform set them).
    pub written: BTreeSet<(String, String)>,
    /// The IngressClass of the service's own Ingress.
    pub platform_class: &'a str,
    pub external_secrets: &'a ExternalSecretsSettings,
}

/// A finding: the rule, what is wrong, the hint.
pub(super) type Fail<'f> = dyn FnMut(Rule, String, String) + 'f;

/// One rule on one built object.
type ObjectRule = fn(&Object, &Context<'_>, &mut Fail<'_>);

/// The rules on built objects, in report order.
const OBJECT_RULES: [ObjectRule; 5] = [
    annotations,
    ingress_class,
    hosts::check_object_hosts,
    secrets::check_external_secrets,
    secrets::check_store_refs,
];

/// Checks the built objects: what patches and extra objects claim.
#[allow(clippy::too_many_arguments)]
pub(crate) fn check_objects(
    objects: &[Object],
    spec: &ServiceSpec,
    tenant: &Tenant,
    service: &str,
    settings: &RepoSettings,
    rules: &TenancyRules,
    exceptions: &Exceptions,
) -> Result<()> {
    let ctx = Context {
        claims: rules.claims_of(tenant, settings),
        rules,
        written: written_annotations(spec),
        platform_class: spec
            .ingress
            .as_ref()
            .and_then(|i| i.class_name.as_deref())
            .unwrap_or(DEFAULT_INGRESS_CLASS),
        external_secrets: &settings.external_secrets,
    };
    let name = tenant.name.as_str();
    let mut problems = Vec::new();
    for object in objects {
        let Some(origin) = object.origin.as_ref() else {
            // stencil's own objects were checked on the definition, with its locations;
            // the hosts they serve are checked again here, as a second net.
            let mut fail = |rule: Rule, msg: String, hint: String| {
                if !exceptions.allows(rule, name, service) {
                    problems.push(Error::from(
                        Diagnostic::new(format!("{}: {msg}", object.describe()))
                            .rule(rule.name())
                            .hint(hint),
                    ));
                }
            };
            super::hosts::check_object_hosts(object, &ctx, &mut fail);
            continue;
        };
        let mut fail = |rule: Rule, msg: String, hint: String| {
            if !exceptions.allows(rule, name, service) {
                problems.push(Error::from(
                    Diagnostic::new(format!("{}: {msg}", object.describe()))
                        .at(origin)
                        .rule(rule.name())
                        .hint(hint),
                ));
            }
        };
        for rule in OBJECT_RULES {
            rule(object, &ctx, &mut fail);
        }
    }
    Error::unless(problems, ())
}

/// The annotations (key, value) stencil writes from the service definition.
fn written_annotations(spec: &ServiceSpec) -> BTreeSet<(String, String)> {
    let mut written = BTreeSet::new();
    if let Some(ingress) = &spec.ingress {
        if let Some(group) = &ingress.group_name {
            written.insert(("alb.ingress.kubernetes.io/group.name".into(), group.clone()));
        }
        for (k, v) in ingress.annotations.iter().flatten() {
            written.insert((k.clone(), v.clone()));
        }
    }
    for map in [
        spec.service_account
            .as_ref()
            .and_then(|s| s.annotations.as_ref()),
        spec.pod_annotations.as_ref(),
    ] {
        for (k, v) in map.into_iter().flatten() {
            written.insert((k.clone(), v.clone()));
        }
    }
    written
}

/// `platform-annotations`, `iam-role-arn`, `tenant-hosts`: every annotation of the object
/// (its pod templates' included). A platform-owned key only from base/ or as the definition
/// wrote it; an IAM role or external-dns value the tenant's own.
fn annotations(object: &Object, ctx: &Context<'_>, fail: &mut Fail<'_>) {
    let tenant_made = object.origin.as_ref().is_some_and(tenant_set);
    let mut found = Vec::new();
    collect_annotations(&object.value, &mut found);
    for (key, value) in found {
        // Extra objects and patches from base/ are the platform's own.
        let platform_value = !object.extra && ctx.written.contains(&(key.into(), value.into()));
        if ctx.rules.owned(key) && tenant_made && !platform_value {
            fail(
                Rule::PlatformAnnotations,
                format!("annotation `{key}` is the platform's"),
                "only base/ sets it, in ingress.annotations or ingress.groupName (tenancy.platformAnnotations in stencil.yaml lists these)".into(),
            );
        }
        annotation_value(&ctx.claims, key, value, fail);
    }
}

/// Every `metadata.annotations` entry in an object, its pod templates' included.
fn collect_annotations<'v>(value: &'v Value, out: &mut Vec<(&'v str, &'v str)>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if key == "metadata"
                    && let Some(notes) = child.get("annotations").and_then(Value::as_object)
                {
                    for (k, v) in notes {
                        out.push((k, v.as_str().unwrap_or("")));
                    }
                }
                collect_annotations(child, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_annotations(v, out)),
        _ => {}
    }
}

/// `platform-annotations`: an Ingress a tenant wrote or patched uses the service's
/// IngressClass (or the cluster's default): another class brings another load balancer or
/// group.
fn ingress_class(object: &Object, ctx: &Context<'_>, fail: &mut Fail<'_>) {
    let ingress = matches!(group_of(object), "networking.k8s.io" | "extensions")
        && object.kind.eq_ignore_ascii_case("ingress");
    if !ingress || !object.origin.as_ref().is_some_and(tenant_set) {
        return;
    }
    let v = &object.value;
    let chosen = [
        ("spec.ingressClassName", v.at("/spec/ingressClassName")),
        (
            LEGACY_INGRESS_CLASS,
            v.at("/metadata/annotations")
                .and_then(|a| a.get(LEGACY_INGRESS_CLASS)),
        ),
    ];
    let platform_class = ctx.platform_class;
    for (field, value) in chosen {
        let Some(value) = value else { continue };
        if value.as_str() != Some(platform_class) {
            fail(
                Rule::PlatformAnnotations,
                format!(
                    "{field} names another IngressClass than the service's `{platform_class}`: the class decides which load balancer and group the Ingress joins"
                ),
                "leave the IngressClass to base/ (ingress.className)".into(),
            );
        }
    }
}
