//! `tenancy:` in `stencil.yaml`: what a tenant may claim of the shared infrastructure. Its
//! SSM parameters, hosts and IAM roles are patterns with placeholders (`{tenant.name}`,
//! `{tenant.namespace}`, `{tenant.domain}`, `{environment.name}`, `{environment.domain}`,
//! `{repo.name}`, `{repo.domain}`, `{registry.account}`), filled in per tenant. Every
//! default is the safe one: an unset setting never widens what a tenant may claim.
//!
//! Also the namespaces no tenant may render into: [`BUILTIN_RESERVED_NAMESPACES`], every
//! namespace `stencil.yaml` names, and its `reservedNamespaces`.

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::RepoSettings;
use crate::names::check_dns_label;

/// Namespaces of the cluster's own machinery, reserved whatever `stencil.yaml` says (besides
/// every `kube-*` namespace).
pub const BUILTIN_RESERVED_NAMESPACES: [&str; 24] = [
    "default",
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "argocd",
    "argo-rollouts",
    "cert-manager",
    "external-secrets",
    "external-dns",
    "monitoring",
    "prometheus",
    "grafana",
    "logging",
    "flagger",
    "flagger-system",
    "gateway-system",
    "ingress-nginx",
    "istio-system",
    "linkerd",
    "kyverno",
    "gatekeeper-system",
    "karpenter",
    "amazon-cloudwatch",
    "aws-load-balancer-controller",
];

/// What a tenant may claim of the shared infrastructure.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TenancySettings {
    /// The SSM Parameter Store path every `ssmSecrets` parameter, `featureFlags.ssmPrefix` and
    /// extra ExternalSecret/PushSecret key of a tenant must lie under (as a path: segment by
    /// segment). Must name the tenant (`{tenant.name}` or `{tenant.namespace}`).
    #[serde(default = "default_ssm_prefix")]
    pub ssm_prefix: String,
    /// Host names a tenant may serve (Ingress rules and TLS, Gateway API route hostnames,
    /// canary hosts, external-dns hostnames). `*` stands for one or more characters within
    /// one DNS label. A pattern whose placeholder has no value (a tenant without `domain`)
    /// matches nothing.
    #[serde(default = "default_hosts")]
    pub hosts: Vec<String>,
    /// Annotation keys (globs) only the platform sets: not in a tenant's `ingress.annotations`
    /// or `serviceAccount.annotations`, patches or extra objects. The ALB group decides which
    /// load balancer an Ingress joins and in which order its rules are evaluated.
    #[serde(default = "default_platform_annotations")]
    pub platform_annotations: Vec<String>,
    /// IAM role ARNs a tenant's service accounts may assume (`serviceAccount.iamRoleArn`, the
    /// `eks.amazonaws.com/role-arn` and `iam.amazonaws.com/role` annotations). `*` does not
    /// match `/` or `:`. `{registry.account}` is the AWS account of an ECR `registry`; without
    /// one, the default matches no role.
    #[serde(default = "default_iam_role_arns")]
    pub iam_role_arns: Vec<String>,
    /// Host names of the platform's own (Argo CD, Grafana, ...): no tenant serves one (nor a
    /// wildcard over one), and no tenant's `domain` is one or above one. Host names
    /// `stencil.yaml` names elsewhere (the environments' clusters, `argocd.repoURL`, the
    /// canary's metrics server and load tester) are reserved too.
    #[serde(default)]
    pub reserved_hosts: Vec<String>,
    /// StorageClasses a PersistentVolumeClaim (or volumeClaimTemplate) may name. None
    /// listed: only claims without a class (the cluster's default).
    #[serde(default)]
    pub storage_classes: Vec<String>,
    /// CSI drivers an inline `csi` volume may use (e.g. `efs.csi.aws.com`).
    #[serde(default)]
    pub csi_drivers: Vec<String>,
    /// Taints a pod may tolerate: a toleration must name one of these keys (and, when the
    /// entry sets them, its value and effect). Control-plane taints are never tolerated.
    #[serde(default)]
    pub tolerations: Vec<TolerationRule>,
    /// PriorityClasses a pod may use (`system-*` never).
    #[serde(default)]
    pub priority_classes: Vec<String>,
}

/// A taint tenants may tolerate.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TolerationRule {
    pub key: String,
    /// Only this value (default: any).
    pub value: Option<String>,
    /// Only this effect (default: any).
    pub effect: Option<String>,
}

fn default_ssm_prefix() -> String {
    "/{repo.name}/{environment.name}/tenants/{tenant.name}/".into()
}

fn default_hosts() -> Vec<String> {
    vec![
        "{tenant.domain}".into(),
        "*.{tenant.domain}".into(),
        "*-{tenant.name}.{environment.domain}".into(),
        "*-{tenant.name}.{repo.domain}".into(),
    ]
}

fn default_platform_annotations() -> Vec<String> {
    [
        "group.name",
        "group.order",
        "conditions.*",
        "actions.*",
        "load-balancer-name",
        // Settings of the whole load balancer (the controller applies one Ingress's value to
        // the group's ALB): access logs to any S3 bucket, security groups, subnets, WAF,
        // TLS and mTLS policy, listener attributes. One tenant's value is every tenant's.
        "load-balancer-attributes",
        "listener-attributes.*",
        "security-groups",
        "security-group-prefix-lists",
        "manage-backend-security-group-rules",
        "inbound-cidrs",
        "subnets",
        "ip-address-type",
        "customer-owned-ipv4-pool",
        "ipam-ipv4-pool-id",
        "wafv2-acl-arn",
        "waf-acl-id",
        "shield-advanced-protection",
        "ssl-policy",
        "mutual-authentication",
        "minimum-load-balancer-capacity",
    ]
    .iter()
    .map(|k| format!("alb.ingress.kubernetes.io/{k}"))
    .collect()
}

fn default_iam_role_arns() -> Vec<String> {
    vec!["arn:aws:iam::{registry.account}:role/{tenant.name}-*".into()]
}

impl Default for TenancySettings {
    fn default() -> Self {
        TenancySettings {
            ssm_prefix: default_ssm_prefix(),
            hosts: default_hosts(),
            platform_annotations: default_platform_annotations(),
            iam_role_arns: default_iam_role_arns(),
            reserved_hosts: Vec::new(),
            storage_classes: Vec::new(),
            csi_drivers: Vec::new(),
            tolerations: Vec::new(),
            priority_classes: Vec::new(),
        }
    }
}

/// The values the placeholders of `tenancy:` patterns stand for, for one tenant.
#[derive(Debug, Clone, Default)]
pub struct Placeholders<'a> {
    pub tenant_name: &'a str,
    pub tenant_namespace: &'a str,
    pub tenant_domain: Option<&'a str>,
    pub environment_name: &'a str,
    pub environment_domain: Option<&'a str>,
    pub repo_name: &'a str,
    pub repo_domain: Option<&'a str>,
    pub registry_account: Option<&'a str>,
}

impl Placeholders<'_> {
    /// The pattern with its placeholders filled in; `None` when one has no value (the
    /// pattern then matches nothing) or is unknown.
    pub fn fill(&self, pattern: &str) -> Option<String> {
        let mut out = String::new();
        let mut rest = pattern;
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let end = rest[start..].find('}')? + start;
            let value = match &rest[start + 1..end] {
                "tenant.name" => Some(self.tenant_name),
                "tenant.namespace" => Some(self.tenant_namespace),
                "tenant.domain" => self.tenant_domain,
                "environment.name" => Some(self.environment_name),
                "environment.domain" => self.environment_domain,
                "repo.name" => Some(self.repo_name),
                "repo.domain" => self.repo_domain,
                "registry.account" => self.registry_account,
                _ => None,
            }?;
            if value.is_empty() {
                return None;
            }
            out.push_str(value);
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        Some(out)
    }
}

/// Every placeholder a `tenancy:` pattern may use.
pub const PLACEHOLDERS: [&str; 8] = [
    "tenant.name",
    "tenant.namespace",
    "tenant.domain",
    "environment.name",
    "environment.domain",
    "repo.name",
    "repo.domain",
    "registry.account",
];

/// The AWS account of an ECR registry (`<account>.dkr.ecr.<region>.amazonaws.com[/…]`).
pub fn ecr_account(registry: &str) -> Option<&str> {
    let host = registry.split('/').next()?;
    let (account, rest) = host.split_once('.')?;
    (account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && rest.starts_with("dkr.ecr.")
        && (rest.ends_with(".amazonaws.com") || rest.ends_with(".amazonaws.com.cn")))
    .then_some(account)
}

/// The namespace of an in-cluster service URL (`http://name.namespace[.svc[.cluster.local]]…`).
pub fn service_namespace(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', ':']).next()?;
    let labels: Vec<&str> = host.split('.').collect();
    let in_cluster = matches!(
        labels.as_slice(),
        [_, _] | [_, _, "svc"] | [_, _, "svc", "cluster", "local"]
    );
    in_cluster.then(|| labels[1].to_owned())
}

/// Why a namespace is reserved, if it is: built in, named somewhere in `stencil.yaml`, or
/// listed in its `reservedNamespaces`. The reason names the setting.
pub fn reserved_namespace(settings: &RepoSettings, namespace: &str) -> Option<String> {
    if namespace.starts_with("kube-") || BUILTIN_RESERVED_NAMESPACES.contains(&namespace) {
        return Some("it runs the cluster's own machinery".into());
    }
    platform_namespaces(settings)
        .into_iter()
        .find(|(ns, _)| ns == namespace)
        .map(|(_, setting)| format!("stencil.yaml names it in {setting}"))
}

/// Every namespace `stencil.yaml` names, with the setting that names it.
pub fn platform_namespaces(settings: &RepoSettings) -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &'static str)> = Vec::new();
    for ns in &settings.reserved_namespaces {
        out.push((ns.clone(), "reservedNamespaces"));
    }
    out.push((settings.argocd.namespace.clone(), "argocd.namespace"));
    for ns in &settings.workspace.ingress_from.namespaces {
        out.push((ns.clone(), "workspace.ingressFrom.namespaces"));
    }
    if let Some(canary) = &settings.canary {
        if let Some(gateway) = &canary.gateway {
            out.push((gateway.namespace.clone(), "canary.gateway.namespace"));
        }
        if let Some(ns) = service_namespace(&canary.metrics_server) {
            out.push((ns, "canary.metricsServer"));
        }
        if let Some(ns) = service_namespace(&canary.smoke_test.url) {
            out.push((ns, "canary.smokeTest.url"));
        }
    }
    let mut seen = BTreeSet::new();
    out.retain(|(ns, _)| seen.insert(ns.clone()));
    out
}

/// A host an Ingress or route may name: a lowercase DNS-1123 subdomain, optionally `*.`
/// first.
pub fn check_host(host: &str) -> Result<(), String> {
    let name = host.strip_prefix("*.").unwrap_or(host);
    if name.is_empty() || name.len() > 253 {
        return Err(format!("`{host}` is not a host name"));
    }
    for label in name.split('.') {
        check_dns_label(label, 63).map_err(|msg| format!("host `{host}`: label {msg}"))?;
    }
    Ok(())
}

/// Checks a tenant's `domain:`: a host name, neither one of the platform's domains nor
/// above one (its `*.{tenant.domain}` would cover every tenant).
pub fn check_tenant_domain(domain: &str, settings: &RepoSettings) -> Result<(), String> {
    if domain.starts_with("*.") {
        return Err(format!("domain `{domain}` is a wildcard; name one domain"));
    }
    check_host(domain)?;
    let platform = settings
        .domain
        .iter()
        .map(|d| ("the repository domain", d))
        .chain(
            settings
                .environments
                .iter()
                .filter_map(|(name, e)| Some((name.as_str(), e.domain.as_ref()?))),
        );
    for (what, platform_domain) in platform {
        if covers(domain, platform_domain) {
            let what = if what == "the repository domain" {
                what.to_owned()
            } else {
                format!("the domain of environment `{what}`")
            };
            return Err(format!(
                "domain `{domain}` covers {what} `{platform_domain}`, which every tenant shares"
            ));
        }
    }
    if let Some((host, setting)) = platform_hosts(settings)
        .into_iter()
        .find(|(h, _)| covers(domain, h))
    {
        return Err(format!(
            "domain `{domain}` overlaps `{host}`, a host of the platform's ({setting} in stencil.yaml)"
        ));
    }
    Ok(())
}

/// The host of a URL (`scheme://[user@]host[:port][/…]`), if it has dots (an in-cluster short
/// name is nobody's DNS name).
fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = host
        .split(':')
        .next()?
        .trim_end_matches('.')
        .to_ascii_lowercase();
    (host.contains('.') && service_namespace(url).is_none()).then_some(host)
}

/// Host names no tenant may serve, with the setting that reserves each: `tenancy.reservedHosts`
/// and every host `stencil.yaml` names in a URL.
pub fn platform_hosts(settings: &RepoSettings) -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &'static str)> = settings
        .tenancy
        .reserved_hosts
        .iter()
        .map(|h| {
            (
                h.trim_end_matches('.').to_ascii_lowercase(),
                "tenancy.reservedHosts",
            )
        })
        .collect();
    for env in settings.environments.values() {
        out.extend(url_host(&env.cluster).map(|h| (h, "environments.*.cluster")));
    }
    if let Some(url) = &settings.argocd.repo_url {
        out.extend(url_host(url).map(|h| (h, "argocd.repoURL")));
    }
    if let Some(canary) = &settings.canary {
        out.extend(url_host(&canary.metrics_server).map(|h| (h, "canary.metricsServer")));
        out.extend(url_host(&canary.smoke_test.url).map(|h| (h, "canary.smokeTest.url")));
    }
    out
}

/// Whether a host is a reserved host, or a wildcard (`*.x`, which ALB matches at any depth)
/// over one.
pub fn reserved_host<'a>(
    host: &str,
    reserved: &'a [(String, &'static str)],
) -> Option<&'a (String, &'static str)> {
    reserved
        .iter()
        .find(|(r, _)| match host.strip_prefix("*.") {
            Some(parent) => covers(parent, r) && parent != r,
            None => r == host,
        })
}

/// Whether `outer` is `inner` or one of its parent domains.
pub fn covers(outer: &str, inner: &str) -> bool {
    inner == outer
        || inner
            .strip_suffix(outer)
            .is_some_and(|rest| rest.ends_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_fill_or_match_nothing() {
        let p = Placeholders {
            tenant_name: "acme",
            tenant_namespace: "team-acme",
            environment_name: "dev",
            repo_name: "plat",
            repo_domain: Some("example.com"),
            ..Placeholders::default()
        };
        assert_eq!(
            p.fill("/{repo.name}/{environment.name}/tenants/{tenant.name}/")
                .as_deref(),
            Some("/plat/dev/tenants/acme/")
        );
        assert_eq!(
            p.fill("*-{tenant.name}.{repo.domain}").as_deref(),
            Some("*-acme.example.com")
        );
        assert_eq!(p.fill("*-{tenant.name}.{environment.domain}"), None);
        assert_eq!(p.fill("*.{tenant.domain}"), None);
        assert_eq!(p.fill("{registry.account}"), None);
        assert_eq!(p.fill("{tenant.unknown}"), None);
        assert_eq!(p.fill("{tenant.name"), None);
    }

    #[test]
    fn domains_cover_their_subdomains() {
        assert!(covers("example.com", "dev.example.com"));
        assert!(covers("example.com", "example.com"));
        assert!(!covers("example.com", "badexample.com"));
        assert!(!covers("dev.example.com", "example.com"));
    }

    #[test]
    fn platform_hosts_are_reserved() {
        assert_eq!(
            url_host("https://user@Git.Example.com:443/x.git").as_deref(),
            Some("git.example.com")
        );
        assert_eq!(url_host("http://prometheus.monitoring:9090"), None);
        assert_eq!(url_host("https://kubernetes.default.svc"), None);
        let reserved = vec![("argocd.example.com".to_owned(), "tenancy.reservedHosts")];
        for host in ["argocd.example.com", "*.example.com"] {
            assert!(reserved_host(host, &reserved).is_some(), "{host}");
        }
        for host in [
            "grafana.example.com",
            "*.acme.example.com",
            "example.com",
            "x.argocd.example.com",
        ] {
            assert!(reserved_host(host, &reserved).is_none(), "{host}");
        }
    }

    #[test]
    fn ecr_accounts() {
        assert_eq!(
            ecr_account("012345678901.dkr.ecr.us-east-1.amazonaws.com"),
            Some("012345678901")
        );
        assert_eq!(
            ecr_account("012345678901.dkr.ecr.us-east-1.amazonaws.com/team"),
            Some("012345678901")
        );
        assert_eq!(ecr_account("ghcr.io/acme"), None);
        assert_eq!(ecr_account("12345.dkr.ecr.us-east-1.amazonaws.com"), None);
        assert_eq!(ecr_account("012345678901.dkr.ecr.evil.com"), None);
    }
}
