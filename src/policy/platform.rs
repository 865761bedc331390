//! The platform's own settings, checked once per render: quota defaults within their
//! ceiling, valid quantities, roles, network sources and canary minimums. And per tenant:
//! the tenant's quota within the ceiling, its groups bound to roles the platform defines.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::infra::TenancyRules;
use super::{Exceptions, origin_of};
use crate::error::{Diagnostic, Error, Result, did_you_mean};
use crate::load::Tenant;
use crate::model::{
    CanarySettings, RepoSettings, Rule, WorkspaceSettings, duration_ms, service_namespace,
};
use crate::names::{check_dns_label, check_qualified_name, check_quantity};
use crate::node::Node;
use crate::origin::Origin;

/// Everything `stencil.yaml` says about guardrails, checked: exceptions, and the minimums
/// the canary checks compare against.
pub struct Platform {
    pub exceptions: Exceptions,
    /// `canary.minInterval` in milliseconds, when `canary:` is set.
    pub(super) min_interval_ms: Option<u64>,
    /// `extraObjects` in `stencil.yaml`: platform-owned kinds and bindable ClusterRoles.
    pub(super) extra_objects: crate::model::ExtraObjectsSettings,
    /// `tenancy:`, compiled.
    pub(super) tenancy: TenancyRules,
    /// The platform's namespaces (built-in and those `stencil.yaml` names; `kube-*` too):
    /// a tenant's custom resource may name these besides its own (a shared Gateway).
    pub(super) platform_namespaces: Vec<String>,
    /// What pods may use: storage classes, CSI drivers, tolerations, priority classes.
    pub(super) placement: Placement,
    settings_node: Arc<Node>,
}

/// The lists of `tenancy:` that bound what a pod may use (rules `storage`, `tolerations`,
/// `priority-classes`).
#[derive(Debug, Clone, Default)]
pub(super) struct Placement {
    pub storage_classes: Vec<String>,
    pub csi_drivers: Vec<String>,
    pub tolerations: Vec<crate::model::TolerationRule>,
    pub priority_classes: Vec<String>,
}

impl Platform {
    /// Names every tenant of the repository, for the shared-infrastructure claims (see
    /// [`TenancyRules::know_tenants`]).
    pub fn know_tenants(&mut self, names: Vec<String>) {
        self.tenancy.know_tenants(names);
    }

    /// Checks the platform settings: every problem in `stencil.yaml` at once.
    pub fn new(settings: &RepoSettings, node: &Arc<Node>) -> Result<Platform> {
        let mut problems: Vec<Error> = Vec::new();
        let exceptions = Exceptions::new(settings, node).unwrap_or_else(|e| {
            problems.push(e);
            Exceptions::none()
        });
        let mut out = Vec::new();
        for rule in SETTINGS_RULES {
            rule(settings, node, &mut out);
        }
        let min_interval_ms = settings
            .canary
            .as_ref()
            .and_then(|c| check_canary_settings(c, node, &mut out));
        super::kinds::check_settings(settings, node, &mut |d| out.push(d));
        let tenancy = TenancyRules::new(settings, node, &mut |d| out.push(d));
        problems.extend(out.into_iter().map(Error::from));
        let platform = Platform {
            exceptions,
            min_interval_ms,
            extra_objects: settings.extra_objects.clone(),
            tenancy,
            platform_namespaces: platform_namespaces(settings),
            placement: Placement {
                storage_classes: settings.tenancy.storage_classes.clone(),
                csi_drivers: settings.tenancy.csi_drivers.clone(),
                tolerations: settings.tenancy.tolerations.clone(),
                priority_classes: settings.tenancy.priority_classes.clone(),
            },
            settings_node: Arc::clone(node),
        };
        Error::unless(problems, platform)
    }

    /// Where a setting is in `stencil.yaml` (its nearest parent present when it is a default).
    pub fn setting(&self, path: &[&str]) -> Origin {
        origin_of(&self.settings_node, path)
    }
}

/// The built-in platform namespaces and those `stencil.yaml` names.
fn platform_namespaces(settings: &RepoSettings) -> Vec<String> {
    let builtin = crate::model::BUILTIN_RESERVED_NAMESPACES
        .iter()
        .map(|ns| (*ns).to_owned());
    let named = crate::model::platform_namespaces(settings)
        .into_iter()
        .map(|(ns, _)| ns);
    builtin.chain(named).collect()
}

/// A check of `stencil.yaml`: reads the settings and their nodes, pushes its findings.
type SettingsRule = fn(&RepoSettings, &Node, &mut Vec<Diagnostic>);

/// The checks of `stencil.yaml` that return nothing but findings, in the order they report.
const SETTINGS_RULES: &[SettingsRule] = &[
    workspace_quantities,
    default_quota_ceiling,
    limit_range_bounds,
    cpu_limit_default,
    roles,
    ingress_from,
    canary_environments,
    smoke_test_namespace,
];

/// Quantities of the quota and the LimitRange parse, are usable amounts and name valid
/// resources.
fn workspace_quantities(settings: &RepoSettings, node: &Node, out: &mut Vec<Diagnostic>) {
    let ws = &settings.workspace;
    let lists = [
        (&ws.quota.default, "quota", "default"),
        (&ws.quota.ceiling, "quota", "ceiling"),
        (
            &ws.limit_range.default_request,
            "limitRange",
            "defaultRequest",
        ),
        (&ws.limit_range.default, "limitRange", "default"),
        (&ws.limit_range.max, "limitRange", "max"),
    ];
    for (list, group, field) in lists {
        for (name, value) in list {
            let at = origin_of(node, &["workspace", group, field, name]);
            if let Err(msg) = check_quantity(value) {
                out.push(Diagnostic::new(msg).at(&at));
            } else if !quantity_value(value).is_some_and(|v| v.is_finite() && v >= 0.0) {
                out.push(
                    Diagnostic::new(format!(
                        "`{name}: {value}` is not a usable amount (negative or too large)"
                    ))
                    .at(&at),
                );
            }
            if let Err(msg) = check_qualified_name(name) {
                out.push(Diagnostic::new(format!("resource name {msg}")).at(&at));
            }
        }
    }
}

/// Guardrail `quota-ceiling` for the platform itself: the default quota is within it.
fn default_quota_ceiling(settings: &RepoSettings, node: &Node, out: &mut Vec<Diagnostic>) {
    let quota = &settings.workspace.quota;
    for (name, value) in &quota.default {
        let Some(ceiling) = quota.ceiling.get(name) else {
            continue;
        };
        if exceeds(value, ceiling) {
            out.push(
                Diagnostic::new(format!(
                    "the default quota `{name}: {value}` is above its ceiling {ceiling}"
                ))
                .at(&origin_of(node, &["workspace", "quota", "default", name]))
                .rule(Rule::QuotaCeiling.name())
                .note(format!(
                    "ceiling set at {}",
                    origin_of(node, &["workspace", "quota", "ceiling", name])
                ))
                .hint("raise the ceiling or lower the default"),
            );
        }
    }
}

/// The API server refuses a LimitRange whose defaults are above its maximum.
fn limit_range_bounds(settings: &RepoSettings, node: &Node, out: &mut Vec<Diagnostic>) {
    let lr = &settings.workspace.limit_range;
    for (name, request) in &lr.default_request {
        let limit = lr.default.get(name).map(|l| ("default", l));
        let max = lr.max.get(name).map(|m| ("max", m));
        for (field, bound) in limit.into_iter().chain(max) {
            if exceeds(request, bound) {
                out.push(
                    Diagnostic::new(format!(
                        "limitRange.defaultRequest `{name}: {request}` is above limitRange.{field} {bound}"
                    ))
                    .at(&origin_of(node, &["workspace", "limitRange", "defaultRequest", name])),
                );
            }
        }
    }
    for (name, limit) in &lr.default {
        if let Some(max) = lr.max.get(name)
            && exceeds(limit, max)
        {
            out.push(
                Diagnostic::new(format!(
                    "limitRange.default `{name}: {limit}` is above limitRange.max {max}"
                ))
                .at(&origin_of(
                    node,
                    &["workspace", "limitRange", "default", name],
                )),
            );
        }
    }
}

/// Under a `limits.cpu` quota every container needs a CPU limit, which stencil's pods only
/// get from the LimitRange (they declare requests and a memory limit).
fn cpu_limit_default(settings: &RepoSettings, node: &Node, out: &mut Vec<Diagnostic>) {
    let ws = &settings.workspace;
    let quotas_cpu_limits =
        ws.quota.default.contains_key("limits.cpu") || ws.quota.ceiling.contains_key("limits.cpu");
    if quotas_cpu_limits && !ws.limit_range.default.contains_key("cpu") {
        out.push(
            Diagnostic::new("the quota limits `limits.cpu`, but limitRange.default sets no cpu: every pod would be refused admission")
                .at(&origin_of(node, &["workspace", "quota"]))
                .hint("add `cpu` to workspace.limitRange.default, or drop limits.cpu from the quota"),
        );
    }
}

/// `workspace.roles` are valid names bound to a ClusterRole; `teamRole` is one of them.
fn roles(settings: &RepoSettings, node: &Node, out: &mut Vec<Diagnostic>) {
    let ws = &settings.workspace;
    for (role, cluster_role) in &ws.roles {
        let at = origin_of(node, &["workspace", "roles", role]);
        if let Err(msg) = check_dns_label(role, 55) {
            out.push(Diagnostic::new(format!("role name {msg}")).at(&at));
        }
        if cluster_role.trim().is_empty() {
            out.push(Diagnostic::new(format!("role `{role}` names no ClusterRole")).at(&at));
        }
    }
    if let Some(team_role) = &ws.team_role
        && !ws.roles.contains_key(team_role)
    {
        out.push(
            Diagnostic::new(format!(
                "workspace.teamRole `{team_role}` is not one of workspace.roles"
            ))
            .at(&origin_of(node, &["workspace", "teamRole"]))
            .hint(role_hint(team_role, &ws.roles)),
        );
    }
}

/// `workspace.ingressFrom` names valid namespaces and CIDR blocks.
fn ingress_from(settings: &RepoSettings, node: &Node, out: &mut Vec<Diagnostic>) {
    let from = &settings.workspace.ingress_from;
    for (i, ns) in from.namespaces.iter().enumerate() {
        if let Err(msg) = check_dns_label(ns, 63) {
            let at = item_origin(node, &["workspace", "ingressFrom", "namespaces"], i);
            out.push(Diagnostic::new(format!("namespace {msg}")).at(&at));
        }
    }
    for (i, cidr) in from.cidrs.iter().enumerate() {
        if !is_cidr(cidr) {
            let at = item_origin(node, &["workspace", "ingressFrom", "cidrs"], i);
            out.push(
                Diagnostic::new(format!("`{cidr}` is not a CIDR block (e.g. 10.0.0.0/16)")).at(&at),
            );
        }
    }
}

/// `canary.environments` names environments `stencil.yaml` defines.
fn canary_environments(settings: &RepoSettings, node: &Node, out: &mut Vec<Diagnostic>) {
    let environments = settings.canary.iter().flat_map(|c| c.environments.iter());
    for (i, env) in environments.enumerate() {
        if settings.environments.contains_key(env) {
            continue;
        }
        let hint = match did_you_mean(env, settings.environments.keys().map(String::as_str)) {
            Some(e) => format!("did you mean `{e}`?"),
            None => "list environments defined under `environments:`".into(),
        };
        out.push(
            Diagnostic::new(format!(
                "canary.environments names unknown environment `{env}`"
            ))
            .at(&item_origin(node, &["canary", "environments"], i))
            .hint(hint),
        );
    }
}

/// The smoke test calls the canary from the load tester's namespace, through the tenant's
/// default-deny ingress: that namespace must be let in.
fn smoke_test_namespace(settings: &RepoSettings, node: &Node, out: &mut Vec<Diagnostic>) {
    let Some(canary) = &settings.canary else {
        return;
    };
    let Some(ns) = service_namespace(&canary.smoke_test.url) else {
        return;
    };
    if !settings.workspace.ingress_from.namespaces.contains(&ns) {
        out.push(
            Diagnostic::new(format!(
                "the smoke test's load tester runs in namespace `{ns}`, which the tenant network policies do not let in"
            ))
            .at(&origin_of(node, &["canary", "smokeTest", "url"]))
            .hint(format!("add `{ns}` to workspace.ingressFrom.namespaces")),
        );
    }
}

/// Checks `canary:` and returns the minimum interval in milliseconds.
fn check_canary_settings(
    canary: &CanarySettings,
    node: &Node,
    out: &mut Vec<Diagnostic>,
) -> Option<u64> {
    canary_traffic(canary, node, out);
    canary_slos(canary, node, out);
    canary_endpoints(canary, node, out);
    match duration_ms(&canary.min_interval) {
        Some(ms) if ms > 0 => Some(ms),
        _ => {
            out.push(
                Diagnostic::new(format!(
                    "`{}` is not a duration (e.g. 30s, 1m)",
                    canary.min_interval
                ))
                .at(&origin_of(node, &["canary", "minInterval"])),
            );
            None
        }
    }
}

/// The provider's gateway, the step weight and the steps a service must reach.
fn canary_traffic(canary: &CanarySettings, node: &Node, out: &mut Vec<Diagnostic>) {
    let at = |key: &str| origin_of(node, &["canary", key]);
    if canary.provider.is_gateway_api() && canary.gateway.is_none() {
        out.push(
            Diagnostic::new(format!(
                "canary provider `{}` needs `canary.gateway` (name and namespace)",
                canary.provider.as_str()
            ))
            .at(&at("provider")),
        );
    }
    if !(1..=100).contains(&canary.step_weight) {
        out.push(
            Diagnostic::new("canary.stepWeight must be between 1 and 100 (percent)")
                .at(&at("stepWeight")),
        );
    }
    if canary.provider.shifts_traffic()
        && canary.step_weight.saturating_mul(canary.min_iterations) > 100
    {
        out.push(
            Diagnostic::new(format!(
                "canary.minIterations {} steps of canary.stepWeight {}% go past 100%: no service could meet them",
                canary.min_iterations, canary.step_weight
            ))
            .at(&at("minIterations")),
        );
    }
}

/// The loosest SLOs a service may declare, and the analysis counts.
fn canary_slos(canary: &CanarySettings, node: &Node, out: &mut Vec<Diagnostic>) {
    let at = |key: &str| origin_of(node, &["canary", key]);
    if !(0.0..=100.0).contains(&canary.max_error_rate) {
        out.push(
            Diagnostic::new("canary.maxErrorRate must be a percentage between 0 and 100")
                .at(&at("maxErrorRate")),
        );
    }
    if duration_ms(&canary.max_latency_p99).is_none_or(|ms| ms == 0) {
        out.push(
            Diagnostic::new(format!(
                "`{}` is not a duration (e.g. 500ms, 2s)",
                canary.max_latency_p99
            ))
            .at(&at("maxLatencyP99")),
        );
    }
    if canary.min_iterations == 0 || canary.max_threshold == 0 {
        out.push(
            Diagnostic::new("canary.minIterations and canary.maxThreshold must be at least 1")
                .at(&at("minIterations")),
        );
    }
}

/// The metrics server and the smoke test.
fn canary_endpoints(canary: &CanarySettings, node: &Node, out: &mut Vec<Diagnostic>) {
    if canary.metrics_server.trim().is_empty() || canary.smoke_test.url.trim().is_empty() {
        out.push(
            Diagnostic::new("canary.metricsServer and canary.smokeTest.url must be URLs")
                .at(&origin_of(node, &["canary", "metricsServer"])),
        );
    }
    if duration_ms(&canary.smoke_test.timeout).is_none() {
        out.push(
            Diagnostic::new(format!(
                "`{}` is not a duration (e.g. 30s, 1m)",
                canary.smoke_test.timeout
            ))
            .at(&origin_of(node, &["canary", "smokeTest", "timeout"])),
        );
    }
}

/// The tenant's workspace, checked: its ResourceQuota and RoleBindings.
#[derive(Debug, Clone, Default)]
pub struct WorkspacePlan {
    /// `hard` of the ResourceQuota: the platform default with the tenant's values over it.
    pub quota: BTreeMap<String, String>,
    /// Role name -> (ClusterRole, groups).
    pub bindings: BTreeMap<String, (String, Vec<String>)>,
    /// The Pod Security level the Namespace enforces (see `pod_security::enforce_level`).
    pub pod_security: &'static str,
}

/// Checks a tenant's `quota`, `team` and `groups` against the platform's settings.
pub fn check_workspace(
    tenant: &Tenant,
    settings: &RepoSettings,
    platform: &Platform,
) -> Result<WorkspacePlan> {
    let ws = &settings.workspace;
    let mut out = Vec::new();
    let quota = tenant_quota(tenant, ws, platform, &mut out);
    let mut bindings = Bindings::new();
    team_binding(tenant, ws, platform, &mut bindings, &mut out);
    group_bindings(tenant, ws, platform, &mut bindings, &mut out);
    for (_, groups) in bindings.values_mut() {
        groups.sort();
    }
    let pod_security =
        super::pod_security::enforce_level(&platform.exceptions, tenant.name.as_str());
    let plan = WorkspacePlan {
        quota,
        bindings,
        pod_security,
    };
    Error::unless(out.into_iter().map(Error::from).collect(), plan)
}

/// Role name -> (ClusterRole, groups).
type Bindings = BTreeMap<String, (String, Vec<String>)>;

/// The tenant's quota: the platform default with the tenant's values over it, each a
/// usable amount within its ceiling (guardrail `quota-ceiling`).
fn tenant_quota(
    tenant: &Tenant,
    ws: &WorkspaceSettings,
    platform: &Platform,
    out: &mut Vec<Diagnostic>,
) -> BTreeMap<String, String> {
    let relaxed = platform
        .exceptions
        .allows_tenant(Rule::QuotaCeiling, tenant.name.as_str());
    let mut quota = ws.quota.default.clone();
    for (resource, value) in &tenant.spec.quota {
        let at = origin_of(&tenant.node, &["quota", resource]);
        if let Err(msg) = check_quantity(value) {
            out.push(Diagnostic::new(msg).at(&at));
            continue;
        }
        if !quantity_value(value).is_some_and(|v| v.is_finite() && v >= 0.0) {
            out.push(
                Diagnostic::new(format!(
                    "quota `{resource}: {value}` is not a usable amount (negative or too large)"
                ))
                .at(&at),
            );
            continue;
        }
        if !relaxed {
            out.extend(quota_ceiling(ws, platform, resource, value, &at));
        }
        quota.insert(resource.clone(), value.clone());
    }
    quota
}

/// Guardrail `quota-ceiling` for one resource of a tenant's quota.
fn quota_ceiling(
    ws: &WorkspaceSettings,
    platform: &Platform,
    resource: &str,
    value: &str,
    at: &Origin,
) -> Option<Diagnostic> {
    let ceilings = &ws.quota.ceiling;
    let Some(ceiling) = ceilings.get(resource) else {
        let hint = match did_you_mean(resource, ceilings.keys().map(String::as_str)) {
            Some(known) => format!("did you mean `{known}`?"),
            None => {
                "the platform adds a ceiling for it under workspace.quota.ceiling in stencil.yaml"
                    .into()
            }
        };
        return Some(
            Diagnostic::new(format!(
                "quota `{resource}` has no ceiling, so a tenant cannot set it"
            ))
            .at(at)
            .rule(Rule::QuotaCeiling.name())
            .note(format!(
                "the ceilings are set at {}",
                platform.setting(&["workspace", "quota", "ceiling"])
            ))
            .hint(hint),
        );
    };
    exceeds(value, ceiling).then(|| {
        Diagnostic::new(format!(
            "quota `{resource}: {value}` is above the platform ceiling {ceiling}"
        ))
        .at(at)
        .rule(Rule::QuotaCeiling.name())
        .note(format!(
            "ceiling set at {}",
            platform.setting(&["workspace", "quota", "ceiling", resource])
        ))
        .hint(format!(
            "ask for at most {ceiling}; only the platform can raise the ceiling (workspace.quota.ceiling in stencil.yaml)"
        ))
    })
}

/// `team:` binds the tenant's team to the platform's `workspace.teamRole`.
fn team_binding(
    tenant: &Tenant,
    ws: &WorkspaceSettings,
    platform: &Platform,
    bindings: &mut Bindings,
    out: &mut Vec<Diagnostic>,
) {
    let Some(team) = &tenant.spec.team else {
        return;
    };
    let at = origin_of(&tenant.node, &["team"]);
    match ws
        .team_role
        .as_ref()
        .and_then(|r| Some((r, ws.roles.get(r)?)))
    {
        Some((role, cluster_role)) => bindings
            .entry(role.clone())
            .or_insert_with(|| (cluster_role.clone(), Vec::new()))
            .1
            .push(team.clone()),
        None => out.push(
            Diagnostic::new(format!(
                "tenant `{}` names team `{team}`, but stencil.yaml sets no workspace.teamRole",
                tenant.name
            ))
            .at(&at)
            .note(format!(
                "workspace settings at {}",
                platform.setting(&["workspace"])
            ))
            .hint("the platform sets workspace.roles and workspace.teamRole in stencil.yaml"),
        ),
    }
    if let Err(msg) = check_group(team) {
        out.push(Diagnostic::new(msg).at(&at));
    }
}

/// `groups:` binds groups to roles the platform defines.
fn group_bindings(
    tenant: &Tenant,
    ws: &WorkspaceSettings,
    platform: &Platform,
    bindings: &mut Bindings,
    out: &mut Vec<Diagnostic>,
) {
    for (role, groups) in &tenant.spec.groups {
        let at = origin_of(&tenant.node, &["groups", role]);
        let Some(cluster_role) = ws.roles.get(role) else {
            out.push(
                Diagnostic::new(format!("`{role}` is not a role the platform defines"))
                    .at(&at)
                    .note(format!(
                        "roles are set at {}",
                        platform.setting(&["workspace", "roles"])
                    ))
                    .hint(role_hint(role, &ws.roles)),
            );
            continue;
        };
        let entry = bindings
            .entry(role.clone())
            .or_insert_with(|| (cluster_role.clone(), Vec::new()));
        for group in groups {
            if let Err(msg) = check_group(group) {
                out.push(Diagnostic::new(msg).at(&at));
            } else if !entry.1.contains(group) {
                entry.1.push(group.clone());
            }
        }
    }
}

/// A group a tenant may bind: not empty, and not one of Kubernetes' own `system:` groups
/// (`system:authenticated` would be every user of the cluster).
pub fn check_group(group: &str) -> Result<(), String> {
    if group.trim().is_empty() {
        return Err("a group name is empty".into());
    }
    if group.starts_with("system:") {
        return Err(format!(
            "`{group}` is a Kubernetes system group; a tenant binds its own groups only"
        ));
    }
    if group.chars().any(char::is_control) {
        return Err(format!("{group:?} is not a group name"));
    }
    Ok(())
}

fn role_hint(role: &str, roles: &BTreeMap<String, String>) -> String {
    match did_you_mean(role, roles.keys().map(String::as_str)) {
        Some(known) => format!("did you mean `{known}`?"),
        None if roles.is_empty() => "stencil.yaml defines no workspace.roles".into(),
        None => format!(
            "the roles are: {}",
            roles.keys().cloned().collect::<Vec<_>>().join(", ")
        ),
    }
}

fn item_origin(node: &Node, path: &[&str], i: usize) -> Origin {
    let mut parent = node;
    for key in path {
        match parent.get(key) {
            Some(n) => parent = n,
            None => return parent.origin.clone(),
        }
    }
    parent
        .as_seq()
        .and_then(|s| s.get(i))
        .map_or_else(|| parent.origin.clone(), |n| n.origin.clone())
}

/// Whether quantity `value` is above `ceiling`. A value that does not parse to a finite
/// number is above any ceiling (fail closed); a ceiling that does not was reported already.
fn exceeds(value: &str, ceiling: &str) -> bool {
    match (quantity_value(value), quantity_value(ceiling)) {
        (Some(v), Some(c)) if v.is_finite() && c.is_finite() => v > c,
        (Some(v), _) if v.is_finite() => false,
        _ => true,
    }
}

/// The numeric value of a Kubernetes quantity (`250m` = 0.25, `2Gi` = 2^31).
pub fn quantity_value(text: &str) -> Option<f64> {
    let body = text.trim();
    let end = body
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(body.len());
    let (number, suffix) = body.split_at(end);
    let number: f64 = number.parse().ok()?;
    let scale = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024.0_f64.powi(2),
        "Gi" => 1024.0_f64.powi(3),
        "Ti" => 1024.0_f64.powi(4),
        "Pi" => 1024.0_f64.powi(5),
        "Ei" => 1024.0_f64.powi(6),
        e => {
            let exp: i32 = e.strip_prefix(['e', 'E'])?.parse().ok()?;
            10f64.powi(exp)
        }
    };
    Some(number * scale)
}

fn is_cidr(text: &str) -> bool {
    let Some((ip, prefix)) = text.split_once('/') else {
        return false;
    };
    let Ok(prefix) = prefix.parse::<u8>() else {
        return false;
    };
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => prefix <= 32,
        Ok(std::net::IpAddr::V6(_)) => prefix <= 128,
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_compare_by_value() {
        assert!(exceeds("64", "32"));
        assert!(exceeds("33Gi", "32Gi"));
        assert!(exceeds("2Gi", "2G"));
        assert!(!exceeds("1500m", "2"));
        assert!(!exceeds("2000m", "2"));
        assert!(exceeds("2001m", "2"));
        assert!(!exceeds("1e3", "1k"));
        assert_eq!(quantity_value("250m"), Some(0.25));
        assert_eq!(quantity_value("x"), None);
    }

    #[test]
    fn in_cluster_namespaces() {
        assert_eq!(
            service_namespace("http://flagger-loadtester.test/").as_deref(),
            Some("test")
        );
        assert_eq!(
            service_namespace("http://lt.flagger.svc:80/").as_deref(),
            Some("flagger")
        );
        assert_eq!(
            service_namespace("http://lt.flagger.svc.cluster.local/").as_deref(),
            Some("flagger")
        );
        assert_eq!(service_namespace("https://loadtester.example.com/"), None);
        assert_eq!(service_namespace("http://loadtester/"), None);
    }

    #[test]
    fn cidrs() {
        assert!(is_cidr("10.0.0.0/16"));
        assert!(is_cidr("fd00::/8"));
        for bad in ["10.0.0.0", "10.0.0.0/33", "x/8", "10.0.0/8"] {
            assert!(!is_cidr(bad), "{bad}");
        }
    }
}
