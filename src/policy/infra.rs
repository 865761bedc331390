//! Shared infrastructure: what a tenant may claim of what every tenant shares. Its SSM
//! parameters lie under its prefix (the ClusterSecretStore reads every tenant's), its hosts
//! are its own (one ALB group serves every tenant), the ALB group annotations are the
//! platform's, and its service accounts assume only its own IAM roles. `tenancy:` in
//! `stencil.yaml` says what each tenant's own is ([`crate::model::TenancySettings`]).
//!
//! Checked twice: on the service definition ([`check_spec`], pointing at the line that set
//! the value) and on the built objects ([`check_objects`]: patches and extra objects can
//! write the same fields). [`HostClaims`] then refuses a host two tenants claim.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde_json::Value;

use super::{Exceptions, Platform, origin_of};
use crate::build::Object;
use crate::error::{Diagnostic, Error, Result};
use crate::load::Tenant;
use crate::model::{
    ExternalSecretsSettings, PLACEHOLDERS, Placeholders, RepoSettings, Rule, SecretStoreKind,
    ServiceSpec, check_host, ecr_account, platform_hosts, reserved_host,
};
use crate::node::Node;
use crate::origin::Origin;

/// The IRSA annotation on a ServiceAccount (EKS pod identity webhook).
const IRSA: &str = "eks.amazonaws.com/role-arn";
/// The kube2iam / kiam annotation on a pod.
const KUBE2IAM: &str = "iam.amazonaws.com/role";
/// external-dns creates DNS records for the names in these annotations.
const EXTERNAL_DNS: [&str; 2] = [
    "external-dns.alpha.kubernetes.io/hostname",
    "external-dns.alpha.kubernetes.io/internal-hostname",
];

/// The IngressClass stencil's Ingress uses unless base/ sets `ingress.className`.
const DEFAULT_INGRESS_CLASS: &str = "alb";
/// The annotation that chose an Ingress's class before `spec.ingressClassName`.
const LEGACY_INGRESS_CLASS: &str = "kubernetes.io/ingress.class";

/// `tenancy:` compiled once per render.
pub struct TenancyRules {
    owned_annotations: GlobSet,
    /// Every tenant of the repository (its folders under `tenants/`), for [`Claims`]: a name
    /// may hold another (`planet`, `planet-express`), and then so may what `*` matches.
    tenant_names: Vec<String>,
}

impl TenancyRules {
    /// Checks `tenancy:` in `stencil.yaml`.
    pub fn new(
        settings: &RepoSettings,
        node: &Node,
        problem: &mut impl FnMut(Diagnostic),
    ) -> TenancyRules {
        let t = &settings.tenancy;
        let at = |key: &str| origin_of(node, &["tenancy", key]);
        let names_tenant =
            |p: &str| p.contains("{tenant.name}") || p.contains("{tenant.namespace}");
        for (key, patterns) in [
            ("ssmPrefix", std::slice::from_ref(&t.ssm_prefix)),
            ("hosts", t.hosts.as_slice()),
            ("iamRoleArns", t.iam_role_arns.as_slice()),
        ] {
            for pattern in patterns {
                if let Some(unknown) = unknown_placeholder(pattern) {
                    problem(
                        Diagnostic::new(format!(
                            "tenancy.{key}: unknown placeholder `{{{unknown}}}` in `{pattern}`"
                        ))
                        .at(&at(key))
                        .hint(format!("placeholders: {{{}}}", PLACEHOLDERS.join("}, {"))),
                    );
                }
                let per_tenant = names_tenant(pattern)
                    || (key == "hosts" && pattern.contains("{tenant.domain}"));
                if !per_tenant {
                    problem(
                        Diagnostic::new(format!(
                            "tenancy.{key} `{pattern}` does not name the tenant: every tenant could claim what it matches"
                        ))
                        .at(&at(key))
                        .hint("put {tenant.name} (or {tenant.namespace}, for hosts {tenant.domain}) in the pattern"),
                    );
                }
            }
        }
        let sample = Placeholders {
            tenant_name: "t",
            tenant_namespace: "t",
            environment_name: "e",
            repo_name: "r",
            ..Placeholders::default()
        };
        if let Some(prefix) = sample.fill(&t.ssm_prefix)
            && let Err(msg) = ssm_segments(prefix.trim_end_matches('/'), true)
        {
            problem(
                Diagnostic::new(format!("tenancy.ssmPrefix `{}`: {msg}", t.ssm_prefix))
                    .at(&at("ssmPrefix")),
            );
        }
        let mut builder = GlobSetBuilder::new();
        for glob in &t.platform_annotations {
            match Glob::new(glob) {
                Ok(g) => {
                    builder.add(g);
                }
                Err(e) => problem(
                    Diagnostic::new(format!(
                        "tenancy.platformAnnotations: invalid glob `{glob}`: {e}"
                    ))
                    .at(&at("platformAnnotations")),
                ),
            }
        }
        TenancyRules {
            owned_annotations: builder.build().unwrap_or_else(|_| GlobSet::empty()),
            tenant_names: Vec::new(),
        }
    }

    /// Names every tenant of the repository (the folders under `tenants/`).
    pub fn know_tenants(&mut self, names: Vec<String>) {
        self.tenant_names = names;
    }

    fn owned(&self, key: &str) -> bool {
        self.owned_annotations.is_match(key)
    }
}

fn unknown_placeholder(pattern: &str) -> Option<String> {
    let mut rest = pattern;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            return Some(rest[start + 1..].to_owned());
        };
        let name = &rest[start + 1..start + len];
        if !PLACEHOLDERS.contains(&name) {
            return Some(name.to_owned());
        }
        rest = &rest[start + len + 1..];
    }
    None
}

/// What one tenant may claim: `tenancy:` filled in for it.
pub struct Claims {
    tenant: String,
    /// The SSM prefix as path segments (`None`: the pattern matches nothing).
    ssm_prefix: Option<Vec<String>>,
    ssm_prefix_text: String,
    hosts: Vec<String>,
    /// Hosts of the platform's, with the setting that names each.
    reserved_hosts: Vec<(String, &'static str)>,
    role_arns: Vec<String>,
    /// The host and role patterns of each other tenant whose name holds this one's (a `*`
    /// next to `{tenant.name}` matches the rest of the longer name): what matches those is
    /// the longer-named tenant's, not this one's.
    rivals: Vec<Rival>,
}

/// Another tenant's host and IAM role patterns.
struct Rival {
    name: String,
    hosts: Vec<String>,
    role_arns: Vec<String>,
}

impl Claims {
    pub fn of(tenant: &Tenant, settings: &RepoSettings, rules: &TenancyRules) -> Claims {
        let environment = settings.environments.get(&tenant.spec.environment);
        let p = Placeholders {
            tenant_name: tenant.name.as_str(),
            tenant_namespace: tenant.namespace.as_str(),
            tenant_domain: tenant.spec.domain.as_deref(),
            environment_name: &tenant.spec.environment,
            environment_domain: environment.and_then(|e| e.domain.as_deref()),
            repo_name: &settings.name,
            repo_domain: settings.domain.as_deref(),
            registry_account: settings.registry.as_deref().and_then(ecr_account),
        };
        let prefix = p.fill(&settings.tenancy.ssm_prefix);
        let ours = tenant.name.as_str();
        let rivals = rules
            .tenant_names
            .iter()
            .filter(|other| other.as_str() != ours && other.contains(ours))
            .map(|other| {
                // Only the name is known of another tenant here (its domain is checked
                // against every other's when the whole repository loads).
                let theirs = Placeholders {
                    tenant_name: other,
                    tenant_namespace: other,
                    tenant_domain: None,
                    ..p
                };
                Rival {
                    name: other.clone(),
                    hosts: fill_all(&theirs, &settings.tenancy.hosts),
                    role_arns: fill_all(&theirs, &settings.tenancy.iam_role_arns),
                }
            })
            .collect();
        Claims {
            rivals,
            tenant: tenant.name.as_str().to_owned(),
            ssm_prefix: prefix
                .as_deref()
                .and_then(|t| ssm_segments(t.trim_end_matches('/'), true).ok()),
            ssm_prefix_text: prefix
                .map_or_else(String::new, |t| format!("{}/", t.trim_end_matches('/'))),
            hosts: fill_all(&p, &settings.tenancy.hosts),
            reserved_hosts: platform_hosts(settings),
            role_arns: fill_all(&p, &settings.tenancy.iam_role_arns),
        }
    }

    /// The other tenant whose patterns (picked by `patterns`) match `text` too, if any.
    fn rival_of(&self, text: &str, seps: &[u8], patterns: fn(&Rival) -> &[String]) -> Option<&str> {
        self.rivals
            .iter()
            .find(|r| {
                patterns(r)
                    .iter()
                    .any(|p| glob_match(p.as_bytes(), text.as_bytes(), seps))
            })
            .map(|r| r.name.as_str())
    }

    /// A host or a role ARN is the tenant's when it matches one of the tenant's patterns and
    /// no pattern of a tenant whose name holds this one's (that tenant's values stay its own).
    fn claim(
        &self,
        (what, plural): (&str, &str),
        value: &str,
        patterns: &[String],
        seps: &[u8],
        rivals: fn(&Rival) -> &[String],
    ) -> Result<(), String> {
        if !patterns
            .iter()
            .any(|p| glob_match(p.as_bytes(), value.as_bytes(), seps))
        {
            return Err(format!(
                "{what} `{value}` is not one of tenant `{}`'s",
                self.tenant
            ));
        }
        match self.rival_of(value, seps, rivals) {
            Some(other) => Err(format!(
                "{what} `{value}` is tenant `{other}`'s: its name holds `{}`, so its {plural} match `{}`'s patterns too, and they stay its own",
                self.tenant, self.tenant
            )),
            None => Ok(()),
        }
    }

    /// Checks an SSM parameter name (`whole`: the prefix itself is allowed, for a path that
    /// is searched rather than one parameter).
    fn ssm(&self, path: &str, whole: bool) -> Result<(), String> {
        let segments = ssm_segments(path, false)?;
        let Some(prefix) = &self.ssm_prefix else {
            return Err(format!(
                "`{path}`: tenant `{}` has no SSM prefix (tenancy.ssmPrefix names a value it lacks)",
                self.tenant
            ));
        };
        let under = segments.len() >= prefix.len() + usize::from(!whole)
            && segments.iter().zip(prefix).all(|(a, b)| a == b);
        if under {
            Ok(())
        } else {
            Err(format!(
                "`{path}` is not under the tenant's SSM prefix `{}`",
                self.ssm_prefix_text
            ))
        }
    }

    fn ssm_hint(&self) -> String {
        format!(
            "tenant `{}` reads parameters under `{}` only (tenancy.ssmPrefix in stencil.yaml)",
            self.tenant, self.ssm_prefix_text
        )
    }

    fn host(&self, host: &str) -> Result<(), String> {
        check_host(host)?;
        if let Some((reserved, setting)) = reserved_host(host, &self.reserved_hosts) {
            return Err(format!(
                "host `{host}` overlaps `{reserved}`, a host of the platform's ({setting} in stencil.yaml)"
            ));
        }
        self.claim(("host", "hosts"), host, &self.hosts, b".", |r| &r.hosts)
    }

    fn host_hint(&self) -> String {
        if self.hosts.is_empty() {
            format!(
                "tenant `{}` may serve no host: set its `domain:` in tenant.yaml (patterns: tenancy.hosts in stencil.yaml)",
                self.tenant
            )
        } else {
            format!(
                "tenant `{}` may serve {} (tenancy.hosts in stencil.yaml; `*` is one DNS label)",
                self.tenant,
                self.hosts
                    .iter()
                    .map(|h| format!("`{h}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    }

    fn role(&self, arn: &str) -> Result<(), String> {
        self.claim(("IAM role", "roles"), arn, &self.role_arns, b"/:", |r| {
            &r.role_arns
        })
    }

    fn role_hint(&self) -> String {
        if self.role_arns.is_empty() {
            "no IAM role is allowed: set tenancy.iamRoleArns in stencil.yaml (the default needs an ECR `registry` to know the account)".into()
        } else {
            format!(
                "tenant `{}` may assume {} (tenancy.iamRoleArns in stencil.yaml)",
                self.tenant,
                self.role_arns
                    .iter()
                    .map(|h| format!("`{h}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    }
}

/// Each pattern filled with `p`'s values; a pattern naming a value `p` lacks is left out.
fn fill_all(p: &Placeholders<'_>, patterns: &[String]) -> Vec<String> {
    patterns.iter().filter_map(|h| p.fill(h)).collect()
}

/// The segments of an SSM path: it starts with `/`, has no empty, `.` or `..` segment,
/// and only the characters SSM allows.
fn ssm_segments(path: &str, allow_root: bool) -> Result<Vec<String>, String> {
    let Some(rest) = path.strip_prefix('/') else {
        return Err(format!(
            "`{path}` must start with `/` (a full parameter path)"
        ));
    };
    if rest.is_empty() {
        return if allow_root {
            Ok(Vec::new())
        } else {
            Err(format!("`{path}` is not under the tenant's SSM prefix"))
        };
    }
    rest.split('/')
        .map(|s| match s {
            "" => Err(format!(
                "`{path}` has an empty segment (`//` or a trailing `/`)"
            )),
            "." | ".." => Err(format!("`{path}` has a `{s}` segment")),
            s if !s
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b)) =>
            {
                Err(format!(
                    "`{path}`: SSM parameter names hold only letters, digits, `_`, `.`, `-` and `/`"
                ))
            }
            s => Ok(s.to_owned()),
        })
        .collect()
}

/// Whether `text` matches `pattern`, where `*` stands for one or more bytes none of which
/// is in `seps`.
fn glob_match(pattern: &[u8], text: &[u8], seps: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (1..=text.len())
            .take_while(|&n| !seps.contains(&text[n - 1]))
            .any(|n| glob_match(rest, &text[n..], seps)),
        Some((c, rest)) => text.first() == Some(c) && glob_match(rest, &text[1..], seps),
    }
}

/// Whether a value was set by the tenant: in a file under `tenants/`.
fn tenant_set(origin: &Origin) -> bool {
    origin.path().starts_with("tenants/")
}

/// Checks what a service definition claims of the shared infrastructure.
#[allow(clippy::too_many_arguments)]
pub fn check_spec(
    tree: &Node,
    spec: &ServiceSpec,
    tenant: &Tenant,
    service: &str,
    settings: &RepoSettings,
    rules: &TenancyRules,
    exceptions: &Exceptions,
    problem: &mut impl FnMut(Diagnostic),
) {
    let claims = Claims::of(tenant, settings, rules);
    let name = tenant.name.as_str();
    let allows = |rule: Rule| exceptions.allows(rule, name, service);
    let mut fail = |rule: Rule, at: Origin, msg: String, hint: String| {
        if !allows(rule) {
            problem(Diagnostic::new(msg).at(&at).rule(rule.name()).hint(hint));
        }
    };
    for (env, path) in spec.ssm_secrets.iter().flatten() {
        if let Err(msg) = claims.ssm(path, false) {
            fail(
                Rule::SsmPrefix,
                origin_of(tree, &["ssmSecrets", env]),
                format!("ssmSecrets.{env}: {msg}"),
                claims.ssm_hint(),
            );
        }
    }
    if let Some(prefix) = spec
        .feature_flags
        .as_ref()
        .and_then(|f| f.ssm_prefix.as_ref())
        && let Err(msg) = claims.ssm(prefix.trim_end_matches('/'), true)
    {
        fail(
            Rule::SsmPrefix,
            origin_of(tree, &["featureFlags", "ssmPrefix"]),
            format!("featureFlags.ssmPrefix: {msg}"),
            claims.ssm_hint(),
        );
    }
    if let Some(ingress) = &spec.ingress {
        if let Some(host) = ingress.host.as_deref().filter(|h| !h.is_empty())
            && let Err(msg) = claims.host(host)
        {
            fail(
                Rule::TenantHosts,
                origin_of(tree, &["ingress", "host"]),
                format!("ingress.host: {msg}"),
                claims.host_hint(),
            );
        }
        // The IngressClass picks the controller and, through its IngressClassParams, the
        // load balancer group (overriding group.name): as much the platform's as the group.
        let at = origin_of(tree, &["ingress", "className"]);
        if let Some(class) = &ingress.class_name
            && class != DEFAULT_INGRESS_CLASS
            && tenant_set(&at)
        {
            fail(
                Rule::PlatformAnnotations,
                at,
                format!(
                    "ingress.className `{class}` is the platform's to choose: an IngressClass (and its IngressClassParams) decides which load balancer and group the Ingress joins"
                ),
                format!(
                    "leave ingress.className to base/ (the default is `{DEFAULT_INGRESS_CLASS}`)"
                ),
            );
        }
        let at = origin_of(tree, &["ingress", "groupName"]);
        if ingress.group_name.is_some() && tenant_set(&at) {
            fail(
                Rule::PlatformAnnotations,
                at,
                "ingress.groupName (alb.ingress.kubernetes.io/group.name) is the platform's: it decides which shared load balancer the Ingress joins".into(),
                "the platform sets ingress.groupName in base/ (a profile such as base/<service>/prod.yaml)".into(),
            );
        }
    }
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
            let path: Vec<&str> = if field == "podAnnotations" {
                vec![field, key]
            } else {
                vec![field, "annotations", key]
            };
            let at = origin_of(tree, &path);
            if rules.owned(key) && tenant_set(&at) {
                fail(
                    Rule::PlatformAnnotations,
                    at.clone(),
                    format!("annotation `{key}` is the platform's"),
                    "only base/ sets it (tenancy.platformAnnotations in stencil.yaml lists these)"
                        .into(),
                );
            }
            annotation_value(&claims, key, value, &mut |rule, msg, hint| {
                fail(rule, at.clone(), msg, hint);
            });
        }
    }
    if let Some(arn) = spec
        .service_account
        .as_ref()
        .and_then(|s| s.iam_role_arn.as_deref())
        && let Err(msg) = claims.role(arn)
    {
        fail(
            Rule::IamRoleArn,
            origin_of(tree, &["serviceAccount", "iamRoleArn"]),
            format!("serviceAccount.iamRoleArn: {msg}"),
            claims.role_hint(),
        );
    }
}

/// Checks the value of an annotation that claims an IAM role or DNS names.
fn annotation_value(
    claims: &Claims,
    key: &str,
    value: &str,
    fail: &mut impl FnMut(Rule, String, String),
) {
    if key == IRSA || key == KUBE2IAM {
        if let Err(msg) = claims.role(value) {
            fail(
                Rule::IamRoleArn,
                format!("annotation `{key}`: {msg}"),
                claims.role_hint(),
            );
        }
    } else if EXTERNAL_DNS.contains(&key) {
        for host in value.split(',').map(str::trim) {
            if let Err(msg) = claims.host(host) {
                fail(
                    Rule::TenantHosts,
                    format!("annotation `{key}`: {msg}"),
                    claims.host_hint(),
                );
            }
        }
    }
}

/// Checks the built objects: what patches and extra objects claim.
#[allow(clippy::too_many_arguments)]
pub fn check_objects(
    objects: &[Object],
    spec: &ServiceSpec,
    tenant: &Tenant,
    service: &str,
    settings: &RepoSettings,
    rules: &TenancyRules,
    exceptions: &Exceptions,
) -> Result<()> {
    let claims = Claims::of(tenant, settings, rules);
    let name = tenant.name.as_str();
    // The platform-owned annotations stencil itself writes, from the definition (where
    // `check_spec` made sure the platform set them).
    let mut written: BTreeSet<(String, String)> = BTreeSet::new();
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
    let platform_class = spec
        .ingress
        .as_ref()
        .and_then(|i| i.class_name.as_deref())
        .unwrap_or(DEFAULT_INGRESS_CLASS);
    let mut problems = Vec::new();
    for object in objects {
        // stencil's own objects, unpatched, hold only what `check_spec` checked.
        let Some(origin) = object.origin.as_ref() else {
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
        let mut annotations = Vec::new();
        collect_annotations(&object.value, &mut annotations);
        for (key, value) in annotations {
            // Extra objects and patches from base/ are the platform's own.
            let platform_value = !object.extra && written.contains(&(key.into(), value.into()));
            if rules.owned(key) && tenant_set(origin) && !platform_value {
                fail(
                    Rule::PlatformAnnotations,
                    format!("annotation `{key}` is the platform's"),
                    "only base/ sets it, in ingress.annotations or ingress.groupName (tenancy.platformAnnotations in stencil.yaml lists these)".into(),
                );
            }
            annotation_value(&claims, key, value, &mut fail);
        }
        if tenant_set(origin) {
            check_ingress_class(object, platform_class, &mut fail);
        }
        check_object_hosts(object, &claims, &mut fail);
        check_external_secrets(object, &claims, &mut fail);
        check_store_refs(object, &settings.external_secrets, &mut fail);
    }
    Error::unless(problems, ())
}

/// An Ingress a tenant wrote or patched uses the service's IngressClass (or the cluster's
/// default): another class brings another load balancer or group.
fn check_ingress_class(
    object: &Object,
    platform_class: &str,
    fail: &mut impl FnMut(Rule, String, String),
) {
    let group = group_of(object);
    if !matches!(group, "networking.k8s.io" | "extensions")
        || !object.kind.eq_ignore_ascii_case("ingress")
    {
        return;
    }
    let v = &object.value;
    let chosen = [
        ("spec.ingressClassName", v.pointer("/spec/ingressClassName")),
        (
            LEGACY_INGRESS_CLASS,
            v.pointer("/metadata/annotations")
                .and_then(|a| a.get(LEGACY_INGRESS_CLASS)),
        ),
    ];
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

fn group_of(object: &Object) -> &str {
    object.api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

fn strings(value: Option<&Value>) -> impl Iterator<Item = &str> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|v| v.as_str().unwrap_or(""))
}

/// The hosts an Ingress, a Gateway API route or a Gateway serves; a rule, route or listener
/// without one serves every host of its load balancer.
fn check_object_hosts(
    object: &Object,
    claims: &Claims,
    fail: &mut impl FnMut(Rule, String, String),
) {
    let v = &object.value;
    let kind = object.kind.to_ascii_lowercase();
    let group = group_of(object);
    let mut hosts: Vec<&str> = Vec::new();
    let mut catch_all = None;
    match (group, kind.as_str()) {
        ("networking.k8s.io" | "extensions", "ingress") => {
            for rule in v
                .pointer("/spec/rules")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                match rule.get("host").and_then(Value::as_str) {
                    Some(h) if !h.is_empty() => hosts.push(h),
                    _ => catch_all = Some("an Ingress rule without a host"),
                }
            }
            for tls in v
                .pointer("/spec/tls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                hosts.extend(strings(tls.get("hosts")));
            }
            if v.pointer("/spec/defaultBackend").is_some() || v.pointer("/spec/backend").is_some() {
                catch_all = Some("an Ingress default backend");
            }
        }
        ("gateway.networking.k8s.io", "httproute" | "grpcroute" | "tlsroute") => {
            let names: Vec<&str> = strings(v.pointer("/spec/hostnames")).collect();
            if names.is_empty() {
                catch_all = Some("a route with no hostnames");
            }
            hosts.extend(names);
        }
        ("gateway.networking.k8s.io", "gateway" | "listenerset") => {
            for listener in v
                .pointer("/spec/listeners")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                match listener.get("hostname").and_then(Value::as_str) {
                    Some(h) => hosts.push(h),
                    None => catch_all = Some("a Gateway listener with no hostname"),
                }
            }
        }
        // external-dns publishes every name of a DNSEndpoint, as of its annotations.
        ("externaldns.k8s.io", "dnsendpoint") => {
            for endpoint in v
                .pointer("/spec/endpoints")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                match endpoint.get("dnsName").and_then(Value::as_str) {
                    Some(h) => hosts.push(h),
                    None => catch_all = Some("a DNSEndpoint endpoint without a dnsName"),
                }
            }
        }
        // Registers the tenant's pods into any target group (another tenant's included) of
        // the shared load balancers, whatever the hosts.
        ("elbv2.k8s.aws", "targetgroupbinding") => {
            catch_all = Some("a TargetGroupBinding (target groups are the platform's)");
        }
        _ => {}
    }
    if let Some(what) = catch_all {
        fail(
            Rule::TenantHosts,
            format!("{what} serves every host of the shared load balancer"),
            claims.host_hint(),
        );
    }
    for host in hosts {
        if let Err(msg) = claims.host(host) {
            fail(Rule::TenantHosts, msg, claims.host_hint());
        }
    }
}

/// External Secrets Operator objects: keys under the tenant's SSM prefix, no store or
/// generator of the tenant's own (they read with the operator's identity).
fn check_external_secrets(
    object: &Object,
    claims: &Claims,
    fail: &mut impl FnMut(Rule, String, String),
) {
    let group = group_of(object);
    if group == "generators.external-secrets.io" {
        fail(
            Rule::SsmPrefix,
            format!(
                "a tenant's {} mints credentials with the operator's identity",
                object.kind
            ),
            "the platform provides generators and stores".into(),
        );
        return;
    }
    if group != "external-secrets.io" {
        return;
    }
    let v = &object.value;
    let mut key = |path: Option<&str>, what: &str, whole: bool| {
        let result = match path {
            Some(p) => claims.ssm(p, whole),
            None => Err(format!(
                "{what} names no path, so it searches every parameter the store can read"
            )),
        };
        if let Err(msg) = result {
            fail(Rule::SsmPrefix, format!("{what}: {msg}"), claims.ssm_hint());
        }
    };
    let items = |ptr: &str| {
        v.pointer(ptr)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    match object.kind.to_ascii_lowercase().as_str() {
        "externalsecret" => {
            for item in items("/spec/data") {
                key(
                    item.pointer("/remoteRef/key").and_then(Value::as_str),
                    "data[].remoteRef.key",
                    false,
                );
                if item.pointer("/sourceRef/generatorRef").is_some() {
                    key(None, "data[].sourceRef.generatorRef", false);
                }
            }
            for item in items("/spec/dataFrom") {
                if let Some(extract) = item.get("extract") {
                    key(
                        extract.get("key").and_then(Value::as_str),
                        "dataFrom[].extract.key",
                        false,
                    );
                }
                if let Some(find) = item.get("find") {
                    key(
                        find.get("path").and_then(Value::as_str),
                        "dataFrom[].find.path",
                        true,
                    );
                }
                if item.pointer("/sourceRef/generatorRef").is_some() {
                    key(None, "dataFrom[].sourceRef.generatorRef", false);
                }
            }
        }
        "pushsecret" => {
            for item in items("/spec/data") {
                key(
                    item.pointer("/match/remoteRef/remoteKey")
                        .and_then(Value::as_str),
                    "data[].match.remoteRef.remoteKey",
                    false,
                );
            }
            if v.pointer("/spec/selector/generatorRef").is_some() {
                key(None, "selector.generatorRef", false);
            }
        }
        _ => fail(
            Rule::SsmPrefix,
            format!(
                "a tenant's {} would read secrets with the operator's identity, not the tenant's",
                object.kind
            ),
            "the platform provides the secret stores (externalSecrets in stencil.yaml); use ssmSecrets or an ExternalSecret under the tenant's SSM prefix".into(),
        ),
    }
}

/// The stores an ExternalSecret or PushSecret of a tenant names are the platform's one
/// store (`externalSecrets` in stencil.yaml): the SSM prefix check means nothing for a
/// ClusterSecretStore that reads another backend, account or region.
fn check_store_refs(
    object: &Object,
    platform: &ExternalSecretsSettings,
    fail: &mut impl FnMut(Rule, String, String),
) {
    if group_of(object) != "external-secrets.io" {
        return;
    }
    let v = &object.value;
    let want_kind = match platform.secret_store_kind {
        SecretStoreKind::ClusterSecretStore => "ClusterSecretStore",
        SecretStoreKind::SecretStore => "SecretStore",
    };
    let mut refs: Vec<(&str, &Value)> = Vec::new();
    match object.kind.to_ascii_lowercase().as_str() {
        "externalsecret" => {
            refs.extend(
                v.pointer("/spec/secretStoreRef")
                    .map(|r| ("spec.secretStoreRef", r)),
            );
            for (list, what) in [
                ("/spec/data", "data[].sourceRef.storeRef"),
                ("/spec/dataFrom", "dataFrom[].sourceRef.storeRef"),
            ] {
                for item in v
                    .pointer(list)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    refs.extend(item.pointer("/sourceRef/storeRef").map(|r| (what, r)));
                }
            }
        }
        "pushsecret" => {
            for r in v
                .pointer("/spec/secretStoreRefs")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                refs.push(("spec.secretStoreRefs[]", r));
            }
        }
        _ => return,
    }
    for (what, r) in refs {
        // ESO reads a missing kind as SecretStore.
        let kind = r
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("SecretStore");
        let name = r.get("name").and_then(Value::as_str);
        if r.get("labelSelector").is_some()
            || kind != want_kind
            || name != Some(platform.secret_store.as_str())
        {
            fail(
                Rule::SsmPrefix,
                format!(
                    "{what} names another store than the platform's {want_kind} `{}`",
                    platform.secret_store
                ),
                "tenants read parameters through the platform's store only (externalSecrets in stencil.yaml); name it by name and kind, without a labelSelector".into(),
            );
        }
    }
}

/// The hosts an object serves, for [`HostClaims`].
fn served_hosts(object: &Object) -> Vec<String> {
    let v = &object.value;
    let mut out: Vec<String> = Vec::new();
    let group = group_of(object);
    match (group, object.kind.as_str()) {
        ("networking.k8s.io" | "extensions", "Ingress") => {
            for rule in v
                .pointer("/spec/rules")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                out.extend(rule.get("host").and_then(Value::as_str).map(str::to_owned));
            }
        }
        ("gateway.networking.k8s.io", _) => {
            out.extend(strings(v.pointer("/spec/hostnames")).map(str::to_owned));
            // A Gateway's (or ListenerSet's) listeners serve their hostnames too.
            for listener in v
                .pointer("/spec/listeners")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                out.extend(
                    listener
                        .get("hostname")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                );
            }
        }
        ("externaldns.k8s.io", "DNSEndpoint") => {
            for endpoint in v
                .pointer("/spec/endpoints")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                out.extend(
                    endpoint
                        .get("dnsName")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                );
            }
        }
        ("flagger.app", "Canary") => {
            out.extend(strings(v.pointer("/spec/service/hosts")).map(str::to_owned));
        }
        _ => {}
    }
    let notes = v
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .into_iter()
        .flatten();
    for (key, value) in notes {
        if EXTERNAL_DNS.contains(&key.as_str()) {
            let value = value.as_str().unwrap_or("");
            out.extend(value.split(',').map(|h| h.trim().to_owned()));
        }
    }
    out.retain(|h| !h.is_empty());
    out
}

/// Which tenant claims which host, across a render: two tenants never serve one host.
#[derive(Default)]
pub struct HostClaims {
    /// Host -> tenant -> where it claims it (the first object's origin, else the line that
    /// set `ingress.host`).
    hosts: Mutex<BTreeMap<String, BTreeMap<String, Option<Origin>>>>,
}

impl HostClaims {
    /// Records the hosts a tenant's objects serve; `tree` is the service definition they
    /// were built from. A `tenant-hosts` exception leaves them out.
    pub fn record(&self, tenant: &Tenant, objects: &[Object], tree: &Node, platform: &Platform) {
        let tenant = tenant.name.as_str();
        let service = objects
            .iter()
            .find_map(|o| o.service.as_deref())
            .unwrap_or("");
        if platform
            .exceptions
            .allows(Rule::TenantHosts, tenant, service)
        {
            return;
        }
        let mut hosts = match self.hosts.lock() {
            Ok(h) => h,
            Err(poisoned) => poisoned.into_inner(),
        };
        let host_line = tree
            .get("ingress")
            .and_then(|i| i.get("host"))
            .map(|n| n.origin.clone());
        for object in objects {
            for host in served_hosts(object) {
                let at = object.origin.clone().or_else(|| host_line.clone());
                hosts
                    .entry(host)
                    .or_default()
                    .entry(tenant.to_owned())
                    .or_insert(at);
            }
        }
    }

    /// Every host more than one tenant claims, in host order.
    pub fn conflicts(&self) -> Vec<Error> {
        let hosts = match self.hosts.lock() {
            Ok(h) => h,
            Err(poisoned) => poisoned.into_inner(),
        };
        hosts
            .iter()
            .filter(|(_, tenants)| tenants.len() > 1)
            .map(|(host, tenants)| {
                let names: Vec<&str> = tenants.keys().map(String::as_str).collect();
                let last = tenants.values().last().and_then(Option::as_ref);
                let mut d = Diagnostic::new(format!(
                    "host `{host}` is claimed by tenants {}",
                    names.join(", ")
                ))
                .at_opt(last)
                .rule(Rule::TenantHosts.name())
                .hint("a host belongs to one tenant; rename one (tenancy.hosts in stencil.yaml says which hosts are whose)");
                for (tenant, at) in tenants {
                    d = d.note(match at {
                        Some(at) => format!("tenant {tenant} at {at}"),
                        None => format!("tenant {tenant}"),
                    });
                }
                Error::from(d)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_stay_within_a_label() {
        let m = |p: &str, t: &str| glob_match(p.as_bytes(), t.as_bytes(), b".");
        assert!(m("*.acme.example.com", "api.acme.example.com"));
        assert!(m("*.acme.example.com", "*.acme.example.com"));
        assert!(!m("*.acme.example.com", "a.b.acme.example.com"));
        assert!(!m("*.acme.example.com", "acme.example.com"));
        assert!(!m("*.acme.example.com", "evilacme.example.com"));
        assert!(m("*-acme.example.com", "api-acme.example.com"));
        assert!(m("*-acme.example.com", "x-a-acme.example.com"));
        assert!(!m("*-acme.example.com", "-acme.example.com"));
        let arn = |p: &str, t: &str| glob_match(p.as_bytes(), t.as_bytes(), b"/:");
        let p = "arn:aws:iam::012345678901:role/acme-*";
        assert!(arn(p, "arn:aws:iam::012345678901:role/acme-api"));
        assert!(!arn(p, "arn:aws:iam::012345678901:role/acme-x/globex-api"));
        assert!(!arn(p, "arn:aws:iam::012345678901:role/acmex-api"));
    }

    #[test]
    fn ssm_paths_are_checked_segment_by_segment() {
        assert!(ssm_segments("/a/b", false).is_ok());
        for bad in ["a/b", "/a//b", "/a/../b", "/a/./b", "/a/b/", "/a/b c", "/"] {
            assert!(ssm_segments(bad, false).is_err(), "{bad}");
        }
        assert_eq!(ssm_segments("/", true), Ok(Vec::new()));
    }
}
