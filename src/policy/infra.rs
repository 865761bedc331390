//! Shared infrastructure: what a tenant may claim of what every tenant shares. Its SSM
//! parameters lie under its prefix (the ClusterSecretStore reads every tenant's), its hosts
//! are its own (one ALB group serves every tenant), the ALB group annotations are the
//! platform's, and its service accounts assume only its own IAM roles. `tenancy:` in
//! `stencil.yaml` says what each tenant's own is ([`crate::model::TenancySettings`]).
//!
//! Here: `tenancy:` compiled ([`TenancyRules`]) and filled in for one tenant ([`Claims`]).
//! The rules are checked twice: on the service definition ([`check_spec`], `infra/spec.rs`,
//! pointing at the line that set the value) and on the built objects ([`check_objects`],
//! `infra/objects.rs`, with `infra/hosts.rs` and `infra/secrets.rs`: patches and extra
//! objects can write the same fields). [`HostClaims`] then refuses a host two tenants claim.
//! Each rule is a function of its own, run by a short loop over a table.

#[cfg(test)]
pub(super) mod fixtures;
mod hosts;
mod objects;
mod secrets;
mod spec;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use globset::{Glob, GlobSet, GlobSetBuilder};

use super::{Exceptions, origin_of};
use crate::error::Diagnostic;
use crate::load::Tenant;
use crate::model::{
    PLACEHOLDERS, Placeholders, RepoSettings, Rule, check_host, ecr_account, platform_hosts,
    reserved_host,
};
use crate::node::Node;
use crate::object::Object;
use crate::origin::Origin;
use crate::source::lock;
pub use hosts::HostClaims;
pub(super) use objects::check_objects;
pub(super) use spec::check_spec;

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
pub(super) struct TenancyRules {
    owned_annotations: GlobSet,
    /// Every tenant of the repository (its folders under `tenants/`), for [`Claims`]: a name
    /// may hold another (`planet`, `planet-express`), and then so may what `*` matches.
    tenant_names: Vec<String>,
    /// Each tenant's [`Claims`], filled in once: every app of a tenant checks its definition
    /// and its objects against them (eight fillings a tenant, 2% of a render, before).
    claims: Mutex<HashMap<String, (ClaimsOf, Arc<Claims>)>>,
}

/// What a tenant's [`Claims`] depend on besides its name and the settings: its namespace,
/// domain and environment.
type ClaimsOf = (String, Option<String>, String);

impl TenancyRules {
    /// Checks `tenancy:` in `stencil.yaml`.
    pub(super) fn new(
        settings: &RepoSettings,
        node: &Node,
        problem: &mut impl FnMut(Diagnostic),
    ) -> TenancyRules {
        let t = &settings.tenancy;
        let at = |key: &str| origin_of(node, &["tenancy", key]);
        for (key, patterns) in [
            ("ssmPrefix", std::slice::from_ref(&t.ssm_prefix)),
            ("hosts", t.hosts.as_slice()),
            ("iamRoleArns", t.iam_role_arns.as_slice()),
        ] {
            for pattern in patterns {
                for d in pattern_problems(key, pattern) {
                    problem(d.at(&at(key)));
                }
            }
        }
        if let Some(msg) = sample_prefix_problem(&t.ssm_prefix) {
            problem(Diagnostic::new(msg).at(&at("ssmPrefix")));
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
            claims: Mutex::default(),
        }
    }

    /// What `tenant` may claim ([`Claims::of`]), filled in on first use.
    pub(super) fn claims_of(&self, tenant: &Tenant, settings: &RepoSettings) -> Arc<Claims> {
        let of = |(namespace, domain, environment): &ClaimsOf| {
            namespace == tenant.namespace.as_str()
                && *domain == tenant.spec.domain
                && *environment == tenant.spec.environment
        };
        if let Some((key, claims)) = lock(&self.claims).get(tenant.name.as_str())
            && of(key)
        {
            return Arc::clone(claims);
        }
        let claims = Arc::new(Claims::of(tenant, settings, self));
        let key = (
            tenant.namespace.as_str().to_owned(),
            tenant.spec.domain.clone(),
            tenant.spec.environment.clone(),
        );
        lock(&self.claims).insert(tenant.name.as_str().to_owned(), (key, Arc::clone(&claims)));
        claims
    }

    /// Names every tenant of the repository (the folders under `tenants/`).
    pub(super) fn know_tenants(&mut self, names: Vec<String>) {
        self.tenant_names = names;
        // Claims filled in before knew other tenants than these.
        if let Ok(claims) = self.claims.get_mut() {
            claims.clear();
        }
    }

    fn owned(&self, key: &str) -> bool {
        self.owned_annotations.is_match(key)
    }
}

/// What is wrong with a `tenancy.<key>` pattern: an unknown placeholder, and none that
/// names the tenant (every tenant could claim what it matches).
fn pattern_problems(key: &str, pattern: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if let Some(unknown) = unknown_placeholder(pattern) {
        out.push(
            Diagnostic::new(format!(
                "tenancy.{key}: unknown placeholder `{{{unknown}}}` in `{pattern}`"
            ))
            .hint(format!("placeholders: {{{}}}", PLACEHOLDERS.join("}, {"))),
        );
    }
    let names_tenant = pattern.contains("{tenant.name}") || pattern.contains("{tenant.namespace}");
    let per_tenant = names_tenant || (key == "hosts" && pattern.contains("{tenant.domain}"));
    if !per_tenant {
        out.push(
            Diagnostic::new(format!(
                "tenancy.{key} `{pattern}` does not name the tenant: every tenant could claim what it matches"
            ))
            .hint("put {tenant.name} (or {tenant.namespace}, for hosts {tenant.domain}) in the pattern"),
        );
    }
    out
}

/// What is wrong with `tenancy.ssmPrefix` filled in for a sample tenant, if anything.
fn sample_prefix_problem(pattern: &str) -> Option<String> {
    let sample = Placeholders {
        tenant_name: "t",
        tenant_namespace: "t",
        environment_name: "e",
        repo_name: "r",
        ..Placeholders::default()
    };
    let prefix = sample.fill(pattern)?;
    let msg = ssm_segments(prefix.trim_end_matches('/'), true).err()?;
    Some(format!("tenancy.ssmPrefix `{pattern}`: {msg}"))
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
pub(super) struct Claims {
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
    pub(super) fn of(tenant: &Tenant, settings: &RepoSettings, rules: &TenancyRules) -> Claims {
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
            // Only a longer name can hold ours (a length test first: this runs for every app
            // against every tenant of the repository).
            .filter(|other| other.len() > ours.len() && other.contains(ours))
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

/// Checks the value of an annotation that claims an IAM role or DNS names.
fn annotation_value(
    claims: &Claims,
    key: &str,
    value: &str,
    fail: &mut dyn FnMut(Rule, String, String),
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

/// An object's API group (`""` for the core group).
fn group_of(object: &Object) -> &str {
    object.api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

#[cfg(test)]
mod tests;
