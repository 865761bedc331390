//! The `load` stage: read files from a [`Source`], parse them into [`Node`] trees with
//! positions, and check each against the typed model for its role (unknown keys, wrong
//! types), reporting file:line:col. Parsed files are cached: a base file shared by a thousand
//! tenants is read and checked once.
//!
//! [`load_repo`] reads the repository skeleton: `stencil.yaml`, the services under `base/` and
//! the tenants under `tenants/` (each checked in `load/tenant.rs`, one step per field).
//!
//! `load` depends on the foundation only (origin, names, node, error, model, source): what
//! later stages cache (resolved `extends` chains) they keep themselves.

pub mod de;
pub mod file;
pub use crate::yaml::read as parse;
mod tenant;

use rayon::prelude::*;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use crate::error::{Diagnostic, Error, Result, did_you_mean};
use crate::model::{EnvFile, RepoSettings, ServiceSpec, TenantSpec, VersionSpec};
use crate::names::DnsLabel;
use crate::node::{Node, Value};
use crate::origin::{Origin, SourceFile};
use crate::source::{EntryKind, RepoPath, Source, lock};
use tenant::load_tenant;

pub use crate::origin::Role;
pub use parse::Limits;

/// Largest input file accepted, in bytes.
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;

type Cached = Arc<Result<Option<Arc<Node>>>>;

/// Reads, parses and checks files, once each.
pub struct Loader<'s> {
    source: &'s dyn Source,
    limits: Limits,
    files: Mutex<HashMap<(RepoPath, Role), Cached>>,
    shared: Option<&'s SharedFiles>,
}

/// Files parsed by one of two loaders until the other asks for them: the two sides of a
/// `diff` are two revisions whose files are mostly the same blobs, and reading a blob and
/// parsing it was a fifth of a diff. Keyed by path, role and git blob id: what a load
/// produces depends on nothing else (origins name the path; the limits are the same). Kept
/// only between its two uses, so memory does not grow with the repository.
#[derive(Default)]
pub struct SharedFiles {
    files: Mutex<HashMap<(RepoPath, Role, git2::Oid), Arc<Node>>>,
}

impl<'s> Loader<'s> {
    pub fn new(source: &'s dyn Source) -> Self {
        Self {
            source,
            limits: Limits::default(),
            files: Mutex::new(HashMap::new()),
            shared: None,
        }
    }

    /// A loader that hands its files to, and takes them from, another loader's side.
    pub fn sharing(source: &'s dyn Source, shared: &'s SharedFiles) -> Self {
        Self {
            shared: Some(shared),
            ..Loader::new(source)
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
        let result = match self.shared {
            Some(shared) => self.load_shared(shared, path, role),
            None => self.load_uncached(path, role),
        };
        let cached = Arc::new(result);
        lock(&self.files).insert(key, Arc::clone(&cached));
        (*cached).clone()
    }

    /// Drops what is cached for `path` (in every role). A tenant's own files are read by one
    /// app only: a large render need not keep them. A file read again after this is simply
    /// read and parsed again.
    pub fn forget(&self, path: &RepoPath) {
        let mut files = lock(&self.files);
        for role in Role::ALL {
            files.remove(&(path.clone(), role));
        }
    }

    /// A file of a git tree the other side already parsed, or parsed here and left for it.
    /// Only files that loaded are shared; anything else is loaded (and reported) as usual.
    fn load_shared(
        &self,
        shared: &SharedFiles,
        path: &RepoPath,
        role: Role,
    ) -> Result<Option<Arc<Node>>> {
        let Ok(Some(blob)) = self.source.blob_id(path) else {
            return self.load_uncached(path, role);
        };
        let key = (path.clone(), role, blob);
        if let Some(node) = lock(&shared.files).remove(&key) {
            return Ok(Some(node));
        }
        let result = self.load_uncached(path, role);
        if let Ok(Some(node)) = &result {
            lock(&shared.files).insert(key, Arc::clone(node));
        }
        result
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
    let names = tenant_folders(loader.source())?;
    // In parallel (each tenant reads its own files), collected in name order.
    let loaded: Vec<Result<Tenant>> = names
        .par_iter()
        .map(|name| load_tenant(loader, name, &settings, Some(&services)))
        .collect();
    let mut tenants = Vec::new();
    for result in loaded {
        match result {
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
        let known = tenant_folders(loader.source())?;
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

/// The tenants' folders: the folders under `tenants/` not hidden, by name.
pub fn tenant_folders(source: &dyn Source) -> Result<Vec<String>> {
    Ok(source
        .list(&tenants_dir()?)?
        .into_iter()
        .filter(|(name, kind)| *kind == EntryKind::Dir && !name.starts_with('.'))
        .map(|(name, _)| name)
        .collect())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::git::{GitTree, commit_files as commit};

    /// Two revisions' loaders parse a blob they share once, and keep nothing of it after
    /// the second use; a file that differs is parsed on each side, as its own content.
    #[test]
    fn two_revisions_parse_a_shared_blob_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let base = "base/api/service.yaml";
        let env = "tenants/acme/api/env.yaml";
        let old = commit(dir.path(), &[(base, "replicas: 2\n"), (env, "A: one\n")]);
        let new = commit(dir.path(), &[(env, "A: two\n")]);
        let git = dir.path().join(".git");
        let from = GitTree::open(&git, old, "", "old".into()).expect("old");
        let to = GitTree::open(&git, new, "", "new".into()).expect("new");
        let shared = SharedFiles::default();
        let (a, b) = (
            Loader::sharing(&from, &shared),
            Loader::sharing(&to, &shared),
        );
        let path = |p: &str| RepoPath::parse(p).expect("path");

        let first = a.load(&path(base), Role::ServiceLayer).expect("load");
        let second = b.load(&path(base), Role::ServiceLayer).expect("load");
        let (first, second) = (first.expect("file"), second.expect("file"));
        assert!(Arc::ptr_eq(&first, &second), "the same blob is parsed once");
        assert!(
            lock(&shared.files).is_empty(),
            "nothing kept after its second use"
        );

        let old_env = a.load(&path(env), Role::Env).expect("load").expect("file");
        let new_env = b.load(&path(env), Role::Env).expect("load").expect("file");
        let text = |n: &Node| n.get("A").and_then(Node::as_scalar_text).map(str::to_owned);
        assert_eq!(text(&old_env).as_deref(), Some("one"));
        assert_eq!(text(&new_env).as_deref(), Some("two"));
        // Each side's version waits for a taker that will not come: two entries, no more.
        assert_eq!(lock(&shared.files).len(), 2);
    }
}
