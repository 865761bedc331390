//! The `load` stage: read files from a [`Source`], parse them into [`Node`] trees with
//! positions, and check each against the typed model for its role (unknown keys, wrong
//! types), reporting file:line:col. Parsed files are cached: a base file shared by a thousand
//! tenants is read and checked once.
//!
//! [`load_repo`] reads the repository skeleton: `stencil.yaml`, the services under `base/` and
//! the tenants under `tenants/`.

pub mod de;
pub mod file;
pub mod parse;
pub mod yaml11;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use crate::error::{Diagnostic, Error, Result, did_you_mean};
use crate::model::{EnvFile, RepoSettings, ServiceSpec, TenantSpec, VersionSpec};
use crate::names::DnsLabel;
use crate::node::{Node, Value};
use crate::origin::{Origin, SourceFile};
use crate::source::{EntryKind, RepoPath, Source};

pub use parse::Limits;

/// Largest input file accepted, in bytes.
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;

/// What a file is, which decides the typed model it is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Settings,
    Tenant,
    /// A service definition layer: base `service.yaml`, a profile, or a tenant `values.yaml`.
    ServiceLayer,
    Version,
    Env,
}

impl Role {
    const ALL: [Role; 5] = [
        Role::Settings,
        Role::Tenant,
        Role::ServiceLayer,
        Role::Version,
        Role::Env,
    ];

    /// Whether a file at `path` (repository-relative) can be an input in this role. Decided on
    /// the path alone, before the file is read.
    pub fn admits(self, path: &str) -> bool {
        let parts: Vec<&str> = path.split('/').collect();
        if parts.iter().any(|p| p.is_empty() || p.starts_with('.')) {
            return false;
        }
        match (self, parts.as_slice()) {
            (Role::Settings, ["stencil.yaml"]) => true,
            (Role::Tenant, ["tenants", _, "tenant.yaml"]) => true,
            (Role::Env, ["tenants", _, _, "env.yaml"]) => true,
            (Role::Version, ["base" | "tenants", .., "version.yaml"]) => {
                matches!(parts.as_slice(), ["base", _, _] | ["tenants", _, _, _])
            }
            (Role::ServiceLayer, ["base", .., name]) => layer_name(name, false),
            (Role::ServiceLayer, ["tenants", _, .., name]) => {
                parts.len() >= 3 && layer_name(name, true)
            }
            _ => false,
        }
    }

    /// Whether any role admits `path`: the files whose lines a message may quote.
    pub fn any_admits(path: &str) -> bool {
        Role::ALL.iter().any(|role| role.admits(path))
    }

    fn expected(self) -> &'static str {
        match self {
            Role::Settings => "settings are read from stencil.yaml only",
            Role::Tenant => "a tenant is read from tenants/<tenant>/tenant.yaml",
            Role::ServiceLayer => {
                "service layers are .yaml files under base/ or a tenant's own folder, other than tenant.yaml, env.yaml, version.yaml and SOPS files"
            }
            Role::Version => {
                "version files are base/<service>/version.yaml and tenants/<tenant>/<service>/version.yaml"
            }
            Role::Env => "env files are tenants/<tenant>/<service>/env.yaml",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Role::Settings => "invalid stencil.yaml",
            Role::Tenant => "invalid tenant definition",
            Role::ServiceLayer => "invalid service definition",
            Role::Version => "invalid version file",
            Role::Env => "invalid env file",
        }
    }
}

type Cached = Arc<Result<Option<Arc<Node>>>>;

/// Reads, parses and checks files, once each.
pub struct Loader<'s> {
    source: &'s dyn Source,
    limits: Limits,
    files: Mutex<HashMap<(RepoPath, Role), Cached>>,
    /// Resolved `extends` chains, by file (filled by the `resolve` stage).
    pub(crate) chains: Mutex<HashMap<RepoPath, Arc<crate::resolve::Chain>>>,
}

impl<'s> Loader<'s> {
    pub fn new(source: &'s dyn Source) -> Self {
        Self {
            source,
            limits: Limits::default(),
            files: Mutex::new(HashMap::new()),
            chains: Mutex::new(HashMap::new()),
        }
    }

    pub fn source(&self) -> &'s dyn Source {
        self.source
    }

    /// Loads a file in a role; `Ok(None)` when it does not exist. Top-level `null` (an empty
    /// file) loads as an empty mapping.
    pub fn load(&self, path: &RepoPath, role: Role) -> Result<Option<Arc<Node>>> {
        let key = (path.clone(), role);
        if let Some(hit) = lock(&self.files).get(&key) {
            return (**hit).clone();
        }
        let result = self.load_uncached(path, role);
        let cached = Arc::new(result);
        lock(&self.files).insert(key, Arc::clone(&cached));
        (*cached).clone()
    }

    /// Drops what is cached for `path` (in every role, and its resolved `extends` chain). A
    /// tenant's own files are read by one app only: a large render need not keep them. A
    /// file read again after this is simply read and parsed again.
    pub fn forget(&self, path: &RepoPath) {
        let mut files = lock(&self.files);
        for role in Role::ALL {
            files.remove(&(path.clone(), role));
        }
        drop(files);
        lock(&self.chains).remove(path);
    }

    fn load_uncached(&self, path: &RepoPath, role: Role) -> Result<Option<Arc<Node>>> {
        // Decided on the path, before anything is read: a file that is no stencil input is
        // never parsed, so no message can quote it.
        if !role.admits(path.as_str()) {
            return Err(Diagnostic::new(format!(
                "{path} is not a stencil input ({})",
                role.expected()
            ))
            .hint("stencil reads stencil.yaml, base/<service>/*.yaml and the files of tenants/<tenant>/")
            .into());
        }
        let Some(bytes) = self.source.read(path, MAX_FILE_BYTES as u64)? else {
            return Ok(None);
        };
        let file = decode(path, bytes)?;
        let mut node = parse::parse(&file, self.limits)?;
        match &node.value {
            Value::Map(_) => {}
            Value::Null => node = Node::empty_map(Origin::file_start(&file)),
            _ => {
                return Err(Diagnostic::new(format!(
                    "{}: expected a mapping at the top level, found {}",
                    role.describe(),
                    node.type_name()
                ))
                .at(&node.origin)
                .into());
            }
        }
        check_role(&node, role)?;
        if role == Role::ServiceLayer {
            mark_patch_bodies(&mut node);
        }
        Ok(Some(Arc::new(node)))
    }
}

/// A file name a service layer may have: YAML, and not a file of another role (in a tenant's
/// folder: `tenant.yaml`, `env.yaml`; anywhere: `version.yaml`, SOPS files).
fn layer_name(name: &str, tenant: bool) -> bool {
    let yaml = name.ends_with(".yaml") || name.ends_with(".yml");
    let sops = name.ends_with(".enc.yaml") || name.ends_with(".enc.yml");
    let other_role =
        name == "version.yaml" || (tenant && matches!(name, "tenant.yaml" | "env.yaml"));
    yaml && !sops && !other_role
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means another render thread panicked; the cache itself is still
    // consistent (entries are inserted whole), so keep going.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Bytes to text: bounded size, UTF-8 (naming the line of the first bad byte).
fn decode(path: &RepoPath, bytes: Vec<u8>) -> Result<Arc<SourceFile>> {
    file::decode(path.as_str(), bytes)
}

/// Patch bodies are taken as written by merging (see [`Node::verbatim`]).
fn mark_patch_bodies(node: &mut Node) {
    for patch in node.seq_mut("patches").into_iter().flatten() {
        if let Some(body) = patch.as_map_mut().and_then(|m| m.get_mut("patch")) {
            body.verbatim = true;
        }
    }
}

/// Checks a parsed file against the typed model of its role.
fn check_role(node: &Node, role: Role) -> Result<()> {
    // `key: null` deletes what a lower layer set; for checking what this file sets, drop it.
    let mut stripped = node.clone();
    stripped.strip_nulls();
    stripped.mark_templates();
    let what = role.describe();
    let result = match role {
        Role::Settings => de::from_node::<RepoSettings>(&stripped).map(drop),
        Role::Tenant => de::from_node::<TenantSpec>(&stripped).map(drop),
        Role::ServiceLayer => de::from_node::<ServiceSpec>(&stripped).map(drop),
        Role::Version => de::from_node::<VersionSpec>(&stripped).map(drop),
        Role::Env => de::from_node::<EnvFile>(node).map(drop),
    };
    result.map_err(|e| e.into_diagnostic(what).into())
}

/// A tenant, as read from `tenants/<name>/tenant.yaml`.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub name: DnsLabel,
    pub namespace: DnsLabel,
    pub spec: TenantSpec,
    pub node: Arc<Node>,
}

impl Tenant {
    /// Fails unless the tenant lists `service` in its `services:`.
    pub fn check_runs(&self, service: &str) -> Result<()> {
        if self.spec.services.iter().any(|s| s == service) {
            return Ok(());
        }
        let hint = match did_you_mean(service, self.spec.services.iter().map(String::as_str)) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!(
                "tenant `{}` runs: {}",
                self.name,
                self.spec.services.join(", ")
            ),
        };
        let origin = self
            .node
            .get("services")
            .map_or_else(|| self.node.origin.clone(), |n| n.origin.clone());
        Err(
            Diagnostic::new(format!("tenant `{}` does not run `{service}`", self.name))
                .at(&origin)
                .hint(hint)
                .into(),
        )
    }
}

/// The repository skeleton: settings, services and tenants.
#[derive(Debug)]
pub struct Repo {
    pub settings: RepoSettings,
    pub settings_node: Arc<Node>,
    /// Names of the folders under `base/` that hold a `service.yaml`.
    pub services: BTreeSet<String>,
    /// Tenants sorted by name.
    pub tenants: Vec<Tenant>,
}

impl Repo {
    pub fn tenant(&self, name: &str) -> Option<&Tenant> {
        self.tenants.iter().find(|t| t.name.as_str() == name)
    }
}

/// Reads `stencil.yaml`, lists services and reads every `tenant.yaml`. Any problem is an
/// error, listing every problem found, not just the first.
pub fn load_repo(loader: &Loader<'_>) -> Result<Repo> {
    let (repo, problems) = load_repo_lenient(loader)?;
    match problems {
        Some(err) => Err(err),
        None => Ok(repo),
    }
}

/// Like [`load_repo`], but returns the tenants that loaded cleanly together with the problems
/// of the others, so that `validate` can go on checking everything else. Fails outright only
/// when `stencil.yaml` itself is missing or broken.
pub fn load_repo_lenient(loader: &Loader<'_>) -> Result<(Repo, Option<Error>)> {
    let (settings, settings_node) = load_settings(loader)?;
    let mut problems: Vec<Error> = Vec::new();
    let services = list_services(loader, &mut problems)?;
    let mut tenants = Vec::new();
    for (name, kind) in loader.source().list(&tenants_dir()?)? {
        if kind != EntryKind::Dir || name.starts_with('.') {
            continue;
        }
        match load_tenant(loader, &name, &settings, Some(&services)) {
            Ok(tenant) => tenants.push(tenant),
            Err(e) => problems.push(e),
        }
    }
    check_namespaces(&tenants, &mut problems);
    check_domains(&tenants, &mut problems);
    let repo = Repo {
        settings,
        settings_node,
        services,
        tenants,
    };
    Ok((repo, Error::collect(problems)))
}

/// Reads `stencil.yaml` and one tenant only: what one Argo CD Application needs. Other
/// tenants are not read, so a broken tenant never blocks another tenant's deploys, and the
/// tenant's service names are not checked against `base/` (Argo CD may send only the files
/// of one app). `services` holds the tenant's services.
pub fn load_one_tenant(loader: &Loader<'_>, name: &str) -> Result<Repo> {
    let (settings, settings_node) = load_settings(loader)?;
    let dir = tenants_dir()?;
    if loader.source().kind(&dir.join(name))? != Some(EntryKind::Dir) {
        let known: Vec<String> = loader
            .source()
            .list(&dir)?
            .into_iter()
            .filter(|(n, k)| *k == EntryKind::Dir && !n.starts_with('.'))
            .map(|(n, _)| n)
            .collect();
        let hint = match did_you_mean(name, known.iter().map(String::as_str)) {
            Some(s) => format!("did you mean `{s}`?"),
            None => "tenants are the folders under tenants/".to_owned(),
        };
        return Err(
            Diagnostic::new(format!("no tenant `{name}` (no folder tenants/{name}/)"))
                .hint(hint)
                .into(),
        );
    }
    let tenant = load_tenant(loader, name, &settings, None)?;
    // A namespace that is another tenant's name is most likely that tenant's namespace too:
    // read that one tenant to be sure (the whole-repository load checks every pair).
    let namespace = tenant.namespace.as_str();
    let tenant = if namespace != name
        && loader.source().kind(&dir.join(namespace))? == Some(EntryKind::Dir)
    {
        let pair = [load_tenant(loader, namespace, &settings, None)?, tenant];
        let mut problems = Vec::new();
        check_namespaces(&pair, &mut problems);
        if let Some(err) = Error::collect(problems) {
            return Err(err);
        }
        let [_, tenant] = pair;
        tenant
    } else {
        tenant
    };
    Ok(Repo {
        settings,
        settings_node,
        services: tenant.spec.services.iter().cloned().collect(),
        tenants: vec![tenant],
    })
}

fn tenants_dir() -> Result<RepoPath> {
    Ok(RepoPath::parse("tenants").map_err(Diagnostic::new)?)
}

/// Reads and checks `stencil.yaml`.
pub fn load_settings(loader: &Loader<'_>) -> Result<(RepoSettings, Arc<Node>)> {
    let settings_path = RepoPath::parse("stencil.yaml").map_err(Diagnostic::new)?;
    let settings_node = loader
        .load(&settings_path, Role::Settings)?
        .ok_or_else(|| {
            Diagnostic::new(format!("no stencil.yaml in {}", loader.source().describe()))
                .hint("run stencil in a stencil repository or pass --repo DIR")
        })?;
    let settings: RepoSettings =
        de::from_node(&settings_node).map_err(|e| e.into_diagnostic(Role::Settings.describe()))?;
    Ok((settings, settings_node))
}

fn list_services(loader: &Loader<'_>, problems: &mut Vec<Error>) -> Result<BTreeSet<String>> {
    let base = RepoPath::parse("base").map_err(Diagnostic::new)?;
    let mut services = BTreeSet::new();
    for (name, kind) in loader.source().list(&base)? {
        if kind != EntryKind::Dir || name.starts_with('.') {
            continue;
        }
        let dir = base.join(&name);
        if loader.source().kind(&dir.join("service.yaml"))? != Some(EntryKind::File) {
            problems.push(
                Diagnostic::new(format!("{dir}/ has no service.yaml"))
                    .hint("every folder under base/ is a service and needs a service.yaml")
                    .into(),
            );
            continue;
        }
        if let Err(msg) = DnsLabel::parse(&name) {
            problems.push(
                Diagnostic::new(format!("service folder {dir}/: {msg}"))
                    .hint("service names become Kubernetes object names; rename the folder")
                    .into(),
            );
            continue;
        }
        services.insert(name);
    }
    Ok(services)
}

/// Reads and checks `tenants/<name>/tenant.yaml`; with `services`, also that every service it
/// names exists under `base/`.
fn load_tenant(
    loader: &Loader<'_>,
    name: &str,
    settings: &RepoSettings,
    services: Option<&BTreeSet<String>>,
) -> Result<Tenant> {
    let dir = tenants_dir()?.join(name);
    let path = dir.join("tenant.yaml");
    let node = loader.load(&path, Role::Tenant)?.ok_or_else(|| {
        Diagnostic::new(format!("{dir}/ has no tenant.yaml"))
            .hint("every folder under tenants/ is a tenant and needs a tenant.yaml (kind: Tenant)")
    })?;
    let spec: TenantSpec =
        de::from_node(&node).map_err(|e| e.into_diagnostic(Role::Tenant.describe()))?;
    let at = |key: &str| {
        node.get(key)
            .map_or_else(|| node.origin.clone(), |n| n.origin.clone())
    };
    let mut problems: Vec<Error> = Vec::new();

    let tenant_name = match DnsLabel::parse(name) {
        Ok(n) => Some(n),
        Err(msg) => {
            problems.push(
                Diagnostic::new(format!("invalid tenant name: {msg}"))
                    .at(&node.origin)
                    .hint("the tenant folder name becomes a namespace and label value; rename the folder")
                    .into(),
            );
            None
        }
    };
    if let Some(declared) = &spec.name
        && declared != name
    {
        problems.push(
            Diagnostic::new(format!(
                "tenant.yaml says `name: {declared}` but its folder is tenants/{name}"
            ))
            .at(&at("name"))
            .hint("the folder name is the tenant name; make them equal or remove `name:`")
            .into(),
        );
    }
    if !settings.environments.contains_key(&spec.environment) {
        let known: Vec<&str> = settings.environments.keys().map(String::as_str).collect();
        let hint = match did_you_mean(&spec.environment, known.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("environments in stencil.yaml: {}", known.join(", ")),
        };
        problems.push(
            Diagnostic::new(format!("unknown environment `{}`", spec.environment))
                .at(&at("environment"))
                .hint(hint)
                .into(),
        );
    }
    let namespace = match &spec.namespace {
        None => tenant_name.clone(),
        Some(ns) => match DnsLabel::parse(ns) {
            Ok(n) => Some(n),
            Err(msg) => {
                problems.push(
                    Diagnostic::new(format!("invalid namespace: {msg}"))
                        .at(&at("namespace"))
                        .into(),
                );
                None
            }
        },
    };
    if let Some(ns) = &namespace
        && let Some(why) = crate::model::reserved_namespace(settings, ns.as_str())
    {
        problems.push(
            Diagnostic::new(format!("tenant `{name}` would render into the reserved namespace `{ns}`: {why}"))
                .at(&at("namespace"))
                .rule(crate::model::Rule::ReservedNamespace.name())
                .hint("`default`, `kube-*`, the platform's own namespaces, every namespace stencil.yaml names and its reservedNamespaces belong to the platform; give the tenant a namespace of its own (`namespace:` in tenant.yaml)")
                .into(),
        );
    }
    if let Some(domain) = &spec.domain
        && let Err(msg) = crate::model::check_tenant_domain(domain, settings)
    {
        problems.push(
            Diagnostic::new(msg)
                .at(&at("domain"))
                .rule(crate::model::Rule::TenantHosts.name())
                .hint("a tenant's domain is its own: a subdomain such as <tenant>.<environment domain>; its hosts are those tenancy.hosts in stencil.yaml allows under it")
                .into(),
        );
    }
    for (key, value) in &spec.labels {
        let at = node
            .get("labels")
            .and_then(|l| l.get(key))
            .map_or_else(|| at("labels"), |n| n.origin.clone());
        if let Err(msg) = crate::names::check_qualified_name(key)
            .and_then(|()| crate::names::check_label_value(key, value))
        {
            problems.push(Diagnostic::new(msg).at(&at).into());
        }
        if crate::policy::is_kubernetes_reserved(key) && !crate::policy::is_pod_security_label(key)
        {
            problems.push(
                Diagnostic::new(format!(
                    "label `{}` has a prefix Kubernetes reserves for its own components; on the tenant's Namespace it can switch cluster behaviour on (resource.k8s.io/admin-access opens other tenants' devices)",
                    crate::error::clip(key, 120)
                ))
                .at(&at)
                .rule(crate::model::Rule::PlatformLabels.name())
                .hint("kubernetes.io/ and k8s.io/ prefixes (but app.kubernetes.io/) are the cluster's; use a prefix of your own")
                .into(),
            );
        }
        if crate::build::is_platform_owned(key) {
            problems.push(
                Diagnostic::new(format!(
                    "label `{}` is stencil's or Argo CD's: it says which tenant, service and Application an object belongs to",
                    crate::error::clip(key, 120)
                ))
                .at(&at)
                .rule(crate::model::Rule::PlatformLabels.name())
                .hint("tenant labels go on every object of the tenant, its Namespace included; use a prefix of your own")
                .into(),
            );
        }
        if crate::policy::is_pod_security_label(key) {
            problems.push(
                Diagnostic::new(format!(
                    "label `{key}` is the platform's: it sets the namespace's Pod Security level"
                ))
                .at(&at)
                .rule(crate::model::Rule::PodSecurityLabels.name())
                .hint("the platform labels every tenant Namespace pod-security.kubernetes.io/{enforce,audit,warn}: restricted; remove this label")
                .into(),
            );
        }
    }
    let items = node.get("services").and_then(Node::as_seq).unwrap_or(&[]);
    let mut seen = BTreeSet::new();
    for (i, service) in spec.services.iter().enumerate() {
        let origin = items
            .get(i)
            .map_or_else(|| at("services"), |n| n.origin.clone());
        if !seen.insert(service) {
            problems.push(
                Diagnostic::new(format!("service `{service}` is listed twice"))
                    .at(&origin)
                    .into(),
            );
        } else if let Some(services) = services
            && !services.contains(service)
        {
            let hint = match did_you_mean(service, services.iter().map(String::as_str)) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!(
                    "services under base/: {}",
                    services
                        .iter()
                        .map(String::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            problems.push(
                Diagnostic::new(format!(
                    "tenant `{name}` names service `{service}`, which does not exist"
                ))
                .at(&origin)
                .hint(hint)
                .into(),
            );
        }
    }
    // A folder for a service the tenant does not run is a mistake waiting to happen.
    for (entry, kind) in loader.source().list(&dir)? {
        if kind == EntryKind::Dir && !entry.starts_with('.') && !spec.services.contains(&entry) {
            problems.push(
                Diagnostic::new(format!(
                    "{dir}/{entry}/ exists but `{entry}` is not in the tenant's services"
                ))
                .at(&at("services"))
                .hint(format!(
                    "add `{entry}` to services in {path}, or remove the folder"
                ))
                .into(),
            );
        }
    }
    if let Some(err) = Error::collect(problems) {
        return Err(err);
    }
    match (tenant_name, namespace) {
        (Some(name), Some(namespace)) => Ok(Tenant {
            name,
            namespace,
            spec,
            node,
        }),
        // Both `None` cases pushed a problem above, so this branch is never taken.
        _ => Err(Diagnostic::new(format!("invalid tenant {name}")).into()),
    }
}

/// No two tenants have the same domain, nor one under the other's: `*.{tenant.domain}` hosts
/// would overlap. Each domain and its parent domains are looked up: linear in the tenants.
fn check_domains(tenants: &[Tenant], problems: &mut Vec<Error>) {
    let mut owners: HashMap<&str, Vec<&Tenant>> = HashMap::new();
    for tenant in tenants {
        if let Some(domain) = tenant.spec.domain.as_deref() {
            owners.entry(domain).or_default().push(tenant);
        }
    }
    for tenant in tenants {
        let Some(domain) = tenant.spec.domain.as_deref() else {
            continue;
        };
        let same = owners
            .get(domain)
            .and_then(|o| o.iter().find(|t| t.name != tenant.name))
            .map(|t| (*t, domain));
        let parent = || {
            let mut rest = domain;
            while let Some((_, up)) = rest.split_once('.') {
                if let Some(owner) = owners.get(up).and_then(|o| o.first()) {
                    return Some((*owner, up));
                }
                rest = up;
            }
            None
        };
        if let Some((owner, owned)) = same.or_else(parent) {
            let origin = tenant
                .node
                .get("domain")
                .map_or_else(|| tenant.node.origin.clone(), |n| n.origin.clone());
            problems.push(
                Diagnostic::new(format!(
                    "tenant `{}` has domain `{domain}`, which is (under) tenant `{}`'s domain `{owned}`",
                    tenant.name, owner.name
                ))
                .at(&origin)
                .rule(crate::model::Rule::TenantHosts.name())
                .hint("each tenant's domain is its own; neither may be under the other")
                .into(),
            );
        }
    }
}

fn check_namespaces(tenants: &[Tenant], problems: &mut Vec<Error>) {
    let mut owners: HashMap<&str, &Tenant> = HashMap::new();
    for tenant in tenants {
        if let Some(first) = owners.insert(tenant.namespace.as_str(), tenant) {
            let origin = tenant
                .node
                .get("namespace")
                .map_or_else(|| tenant.node.origin.clone(), |n| n.origin.clone());
            problems.push(
                Diagnostic::new(format!(
                    "tenants `{}` and `{}` both render namespace `{}`",
                    first.name, tenant.name, tenant.namespace
                ))
                .at(&origin)
                .hint("each tenant needs a namespace of its own; set `namespace:` in one of the tenant.yaml files")
                .into(),
            );
            owners.insert(first.namespace.as_str(), first);
        }
    }
}
