//! Runs the stages for a selection of tenant x services:
//! `resolve -> template -> policy -> build -> policy (objects)`, in parallel across
//! tenant-services, collecting results in input order so output is byte-identical run to
//! run. Every failure is collected; any failure means no output.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::atomic::{AtomicBool, Ordering};

use globset::{Glob, GlobSet, GlobSetBuilder};
use rayon::prelude::*;
use tracing::{debug, info_span};

use crate::build::{self, Object};
use crate::error::{Diagnostic, Error, Result};
use crate::load::{Loader, Repo, Tenant};
use crate::model::Rule;
use crate::origin::Origin;
use crate::policy::{self, Platform};
use crate::resolve::{self, Resolved};
use crate::secrets::{self, Keys};
use crate::source::RepoPath;
use crate::template::{self, Vars};

/// Which tenants and tenant x services to render.
///
/// A tenant's own objects (its workspace kit) belong to the tenant, not to any service: they are
/// selected when no service filter is given, or alone with [`Selection::workspace_only`]. This
/// is how Argo CD gets exactly one owner per object: one workspace Application per tenant and
/// one Application per tenant x service.
#[derive(Debug, Default)]
pub struct Selection {
    tenants: Option<GlobSet>,
    services: Option<GlobSet>,
    environment: Option<String>,
    workspace_only: bool,
    /// The patterns as given, each with its own glob, for [`Selection::check`].
    patterns: Vec<(&'static str, String, Option<globset::GlobMatcher>)>,
}

fn globset(patterns: &[String]) -> Result<Option<GlobSet>> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut builder = GlobSetBuilder::new();
    for p in patterns {
        builder.add(Glob::new(p).map_err(|e| Diagnostic::new(format!("invalid glob `{p}`: {e}")))?);
    }
    Ok(Some(
        builder
            .build()
            .map_err(|e| Diagnostic::new(e.to_string()))?,
    ))
}

impl Selection {
    pub fn new(
        tenants: &[String],
        services: &[String],
        environment: Option<String>,
    ) -> Result<Self> {
        let mut patterns = Vec::new();
        for (flag, list) in [("--tenant", tenants), ("--service", services)] {
            for p in list {
                let matcher = Glob::new(p).ok().map(|g| g.compile_matcher());
                patterns.push((flag, p.clone(), matcher));
            }
        }
        Ok(Selection {
            tenants: globset(tenants)?,
            services: globset(services)?,
            environment,
            workspace_only: false,
            patterns,
        })
    }

    /// Every `--tenant` and `--service` pattern matches something in one of `repos`, and
    /// `--environment` is one of `stencil.yaml`'s: a mistyped name is an error naming the
    /// nearest one, not an empty success.
    pub fn check(&self, repos: &[&Repo]) -> Result<()> {
        let mut problems = Vec::new();
        if let Some(env) = &self.environment {
            let known: Vec<&str> = repos
                .iter()
                .flat_map(|r| r.settings.environments.keys())
                .map(String::as_str)
                .collect();
            if !known.contains(&env.as_str()) {
                problems.push(unknown("--environment", env, &known));
            }
        }
        for (flag, pattern, matcher) in &self.patterns {
            let names: Vec<&str> = match *flag {
                "--tenant" => repos
                    .iter()
                    .flat_map(|r| r.tenants.iter().map(|t| t.name.as_str()))
                    .collect(),
                _ => repos
                    .iter()
                    .flat_map(|r| r.services.iter().map(String::as_str))
                    .collect(),
            };
            let matched = matcher
                .as_ref()
                .is_some_and(|m| names.iter().any(|n| m.is_match(n)));
            if !matched {
                problems.push(unknown(flag, pattern, &names));
            }
        }
        Error::unless(problems.into_iter().map(Error::from).collect(), ())
    }

    /// Only the tenants' own objects, no service.
    #[must_use]
    pub fn workspace_only(mut self) -> Self {
        self.workspace_only = true;
        self
    }

    /// Whether the tenants' own objects (the workspace kit) are selected.
    pub fn includes_tenant_objects(&self) -> bool {
        self.workspace_only || self.services.is_none()
    }

    /// The selected tenants, by name.
    pub fn tenants<'r>(&self, repo: &'r Repo) -> Vec<&'r Tenant> {
        repo.tenants
            .iter()
            .filter(|tenant| {
                self.tenants
                    .as_ref()
                    .is_none_or(|g| g.is_match(tenant.name.as_str()))
                    && self
                        .environment
                        .as_ref()
                        .is_none_or(|e| *e == tenant.spec.environment)
            })
            .collect()
    }

    /// Whether the selection renders nothing at all.
    pub fn is_empty(&self, repo: &Repo) -> bool {
        let tenants = self.tenants(repo);
        tenants.is_empty() || (!self.includes_tenant_objects() && self.apps(repo).is_empty())
    }

    /// The selected (tenant, service) pairs, tenants by name then services by name.
    pub fn apps<'r>(&self, repo: &'r Repo) -> Vec<(&'r Tenant, &'r str)> {
        let mut out = Vec::new();
        if self.workspace_only {
            return out;
        }
        for tenant in self.tenants(repo) {
            let mut services: Vec<&str> = tenant.spec.services.iter().map(String::as_str).collect();
            services.sort_unstable();
            for service in services {
                if self.services.as_ref().is_some_and(|g| !g.is_match(service)) {
                    continue;
                }
                out.push((tenant, service));
            }
        }
        out
    }
}

/// `FLAG VALUE` matches nothing: the nearest name, or the names there are.
fn unknown(flag: &str, value: &str, names: &[&str]) -> Diagnostic {
    let what = flag.trim_start_matches("--");
    let hint = match crate::error::did_you_mean(value, names.iter().copied()) {
        Some(near) => format!("did you mean `{near}`?"),
        None => {
            let mut sorted: Vec<&str> = names.to_vec();
            sorted.sort_unstable();
            sorted.dedup();
            sorted.truncate(20);
            format!("the {what}s: {}", sorted.join(", "))
        }
    };
    Diagnostic::new(format!(
        "{flag} `{}` matches no {what}",
        crate::error::clip(value, 80)
    ))
    .hint(hint)
}

/// How a render treats secrets and what it keeps: set once, when the renderer is made.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// Replace Secret values (and `sensitiveEnv` values) with fingerprints.
    pub redact_secrets: bool,
    /// Key of those fingerprints: a per-run key for `diff`; `None` uses each secrets file's
    /// data key (stable across runs, for `render --redact-secrets`).
    pub fingerprint_key: Option<Vec<u8>>,
    /// Read a secrets file no key can open as digests of its ciphertext instead of failing.
    pub seal_secrets: bool,
    /// Emit each object as YAML as soon as its app is rendered, keeping only the text (for
    /// YAML output: a large render then needs a fraction of the memory).
    pub yaml_only: bool,
    /// The old side of a diff: secrets files from before `stencil secrets bind` are compared,
    /// not refused (a binding that names another place still is).
    pub unbound_secrets_ok: bool,
}

/// Everything a render needs that is shared across tenant-services.
pub struct Renderer<'a> {
    pub loader: &'a Loader<'a>,
    /// Resolved `extends` chains, shared by every tenant-service of this render.
    pub chains: resolve::ChainCache,
    pub repo: &'a Repo,
    pub engine: template::Engine,
    pub platform: Platform,
    pub keys: &'a Keys,
    options: RenderOptions,
    sealed: AtomicBool,
    sensitive: Option<GlobSet>,
    /// The platform's `.sops.yaml`: the recipients each secrets file may be encrypted for.
    sops_rules: secrets::SopsRules,
    /// The hosts each tenant serves, so that no two tenants claim one.
    hosts: policy::HostClaims,
    /// Values under `helmPassthrough` the rendered apps carry (nothing renders them):
    /// (dotted path, where it is written).
    passthrough: std::sync::Mutex<std::collections::BTreeSet<(String, String)>>,
}

impl<'a> Renderer<'a> {
    /// A renderer with the default options: secrets rendered, unreadable secrets an error.
    pub fn new(loader: &'a Loader<'a>, repo: &'a Repo, keys: &'a Keys) -> Result<Self> {
        Renderer::with_options(loader, repo, keys, RenderOptions::default())
    }

    pub fn with_options(
        loader: &'a Loader<'a>,
        repo: &'a Repo,
        keys: &'a Keys,
        options: RenderOptions,
    ) -> Result<Self> {
        let mut platform = Platform::new(&repo.settings, &repo.settings_node)?;
        // Every tenant folder, not only the loaded tenants (`argocd generate` loads one): a
        // tenant's name may hold another's, and what it may claim depends on them.
        let mut names = crate::load::tenant_folders(loader.source()).unwrap_or_default();
        names.extend(repo.tenants.iter().map(|t| t.name.as_str().to_owned()));
        names.sort();
        names.dedup();
        platform.know_tenants(names);
        Ok(Renderer {
            loader,
            chains: resolve::ChainCache::default(),
            repo,
            keys,
            options,
            sealed: AtomicBool::new(false),
            sensitive: sensitive_env(repo)?,
            sops_rules: secrets::SopsRules::read(loader.source()),
            hosts: policy::HostClaims::default(),
            passthrough: std::sync::Mutex::default(),
            engine: template::engine(),
            platform,
        })
    }

    /// Resolves and templates one tenant x service: the tree `explain` shows and `policy`
    /// checks. Also returns the tree before templating.
    pub fn resolve(&self, tenant: &Tenant, service: &str) -> Result<(Resolved, Resolved)> {
        let resolved = resolve::resolve(self.loader, &self.chains, tenant, service)?;
        let templated = self.template(tenant, service, resolved.clone())?;
        Ok((resolved, templated))
    }

    fn template(&self, tenant: &Tenant, service: &str, mut tree: Resolved) -> Result<Resolved> {
        let vars = Vars::new(&self.repo.settings, tenant, service).ok_or_else(|| {
            Diagnostic::new(format!("unknown environment `{}`", tenant.spec.environment))
        })?;
        template::render_tree(
            &self.engine,
            &vars,
            &mut tree.tree,
            &self.repo.settings.budgets,
        )?;
        Ok(tree)
    }

    /// All objects of one tenant x service, checked.
    pub fn render_app(&self, tenant: &Tenant, service: &str) -> Result<Vec<Object>> {
        let resolved = resolve::resolve(self.loader, &self.chains, tenant, service)?;
        let mut resolved = self.template(tenant, service, resolved)?;
        resolve::files::inline(self.loader.source(), &mut resolved.tree)?;
        if let Some(pass) = resolved.tree.get("helmPassthrough") {
            let mut leaves = Vec::new();
            passthrough_leaves(pass, "helmPassthrough".to_owned(), &mut leaves);
            crate::source::lock(&self.passthrough).extend(leaves);
        }
        let secrets_path = RepoPath::parse(&format!(
            "tenants/{}/{service}/secrets.enc.yaml",
            tenant.name
        ))
        .map_err(Diagnostic::new)?;
        let exceptions = &self.platform.exceptions;
        let checks = secrets::Checks {
            rules: &self.sops_rules,
            history: self.options.unbound_secrets_ok,
            allow_unbound: exceptions.allows(Rule::SecretsBinding, tenant.name.as_str(), service),
            allow_recipients: exceptions.allows(
                Rule::SecretsRecipients,
                tenant.name.as_str(),
                service,
            ),
        };
        let secrets = match secrets::load_or_seal(
            self.loader.source(),
            &secrets_path,
            self.keys,
            self.options.seal_secrets,
            &checks,
        )? {
            Some((secrets, sealed)) => {
                if sealed {
                    self.sealed.store(true, Ordering::Relaxed);
                }
                Some(secrets)
            }
            None => None,
        };
        let workload = policy::check_spec(
            &resolved.tree,
            tenant,
            service,
            &self.repo.settings,
            &self.platform,
            secrets,
        )?;
        let mut objects = build::build_service(&workload, tenant, &self.repo.settings)?;
        policy::check_objects(&objects, tenant.name.as_str(), service, &self.platform)?;
        policy::check_shared_infra(
            &objects,
            &workload,
            tenant,
            &self.repo.settings,
            &self.platform,
        )?;
        self.hosts
            .record(tenant, &objects, &resolved.tree, &self.platform);
        if self.options.redact_secrets {
            build::redact(
                &mut objects,
                workload.secrets.as_ref(),
                self.options.fingerprint_key.as_deref(),
                self.sensitive.as_ref(),
            );
        }
        build::sort(&mut objects);
        Ok(objects)
    }

    /// A tenant's workspace kit (Namespace, quota, limits, network policies, role bindings,
    /// metric templates), checked against the platform's ceilings.
    pub fn render_workspace(&self, tenant: &Tenant) -> Result<Vec<Object>> {
        let plan =
            policy::check_workspace(tenant, &self.repo.settings, &self.platform).map_err(|e| {
                e.with_note(format!("while rendering the workspace of {}", tenant.name))
            })?;
        let mut objects = build::workspace(tenant, &self.repo.settings, &plan)?;
        build::sort(&mut objects);
        Ok(objects)
    }

    /// Renders the selection: the tenants' workspace kits and every selected tenant-service, in
    /// stream order. Any problem anywhere fails the whole render, listing every problem.
    pub fn render(&self, selection: &Selection) -> Result<Vec<Object>> {
        let mut objects = Vec::new();
        self.render_each(selection, |mut batch| {
            objects.append(&mut batch);
            Ok(())
        })?;
        Ok(objects)
    }

    /// Renders the selection in batches of tenants, handing each batch's objects to `sink` in
    /// stream order as soon as it is checked, and keeping nothing of it but object identities:
    /// memory does not grow with the repository. Once a problem is found, nothing more goes
    /// to `sink`, but rendering goes on to report every problem; the caller must discard what
    /// it was given when this returns an error.
    pub fn render_each(
        &self,
        selection: &Selection,
        mut sink: impl FnMut(Vec<Object>) -> Result<()> + Send,
    ) -> Result<()> {
        let tenants = selection.tenants(self.repo);
        let apps = selection.apps(self.repo);
        let kits = selection.includes_tenant_objects();
        let one = |job: &Job<'_>| match *job {
            Job::Workspace(tenant) => self.render_workspace(tenant).map(|kit| self.finish(kit)),
            Job::App(tenant, service) => {
                let span = info_span!("render", tenant = tenant.name.as_str(), service);
                let _guard = span.enter();
                let result = self
                    .render_app(tenant, service)
                    .map(|objects| self.finish(objects));
                if apps.len() > 1 {
                    // Nothing else reads this app's own files.
                    resolve::forget(self.loader, &self.chains, tenant, service)?;
                }
                match &result {
                    Ok(objects) => debug!(objects = objects.len(), "rendered"),
                    Err(e) => debug!(problems = e.diagnostics().len(), "failed"),
                }
                result
                    .map_err(|e| e.with_note(format!("while rendering {}/{service}", tenant.name)))
            }
        };

        let mut seen = Identities::default();
        let mut problems = Vec::new();
        let mut rest = apps.as_slice();
        let mut groups = tenants.chunks(TENANTS_PER_BATCH);
        // The objects of the batch before, passed on while this batch renders.
        let mut previous: Option<Vec<Object>> = None;
        loop {
            let group = groups.next().unwrap_or(&[]);
            // This group's jobs in stream order: each tenant's kit, then its apps (apps come
            // in tenant order: this group's are the next ones).
            let mut jobs = Vec::new();
            for tenant in group {
                if kits {
                    jobs.push(Job::Workspace(tenant));
                }
                while let Some((t, service)) = rest.first().filter(|(t, _)| t.name == tenant.name) {
                    jobs.push(Job::App(t, service));
                    rest = &rest[1..];
                }
            }
            let clean = problems.is_empty();
            let render_batch = || -> Vec<Result<Vec<Object>>> {
                if jobs.len() > 1 {
                    jobs.par_iter().map(one).collect()
                } else {
                    jobs.iter().map(one).collect()
                }
            };
            let mut pass_on = || -> Vec<Error> {
                let Some(objects) = previous.take() else {
                    return Vec::new();
                };
                let mut found = seen.check(&objects);
                if clean
                    && found.is_empty()
                    && let Err(e) = sink(objects)
                {
                    found.push(e);
                }
                found
            };
            // One app (an Argo CD generate) does not pay for starting the thread pool.
            let (results, found) = if jobs.len() > 1 {
                rayon::join(render_batch, pass_on)
            } else {
                (render_batch(), pass_on())
            };
            problems.extend(found);
            if group.is_empty() {
                break;
            }
            let mut objects = Vec::new();
            for result in results {
                match result {
                    Ok(mut part) => objects.append(&mut part),
                    Err(e) => problems.push(e),
                }
            }
            previous = Some(objects);
        }
        problems.extend(self.hosts.conflicts());
        Error::unless(problems, ())
    }
}

/// One unit of a render: a tenant's workspace kit or one tenant x service.
enum Job<'r> {
    Workspace(&'r Tenant),
    App(&'r Tenant, &'r str),
}

/// How many tenants are rendered together before their objects go on: enough apps to keep
/// every core busy, few enough that a batch's objects stay a few megabytes.
const TENANTS_PER_BATCH: usize = 128;

impl Renderer<'_> {
    fn finish(&self, objects: Vec<Object>) -> Vec<Object> {
        if self.options.yaml_only {
            objects.into_iter().map(Object::into_yaml).collect()
        } else {
            objects
        }
    }

    /// Whether some secrets file was read sealed (no key could open it).
    pub fn sealed_secrets(&self) -> bool {
        self.sealed.load(Ordering::Relaxed)
    }

    /// The values under `helmPassthrough` of the apps rendered so far, which nothing
    /// renders: (dotted path, `file:line:col`), each once.
    pub fn passthrough(&self) -> Vec<(String, String)> {
        crate::source::lock(&self.passthrough)
            .iter()
            .cloned()
            .collect()
    }
}

/// The leaves under `helmPassthrough`, with where each is written.
fn passthrough_leaves(node: &crate::node::Node, path: String, out: &mut Vec<(String, String)>) {
    match node.as_map() {
        Some(map) if !map.is_empty() => {
            for (key, child) in map {
                passthrough_leaves(child, format!("{path}.{key}"), out);
            }
        }
        _ => out.push((path, node.origin.to_string())),
    }
}

fn sensitive_env(repo: &Repo) -> Result<Option<GlobSet>> {
    let at = repo
        .settings_node
        .get("sensitiveEnv")
        .map_or_else(|| repo.settings_node.origin.clone(), |n| n.origin.clone());
    globset(&repo.settings.sensitive_env).map_err(|e| match e.diagnostics().first() {
        Some(d) => Diagnostic::new(d.message.clone()).at(&at).into(),
        None => e,
    })
}

/// Who made an object, for the message when another object takes its identity.
struct Producer {
    tenant: String,
    service: Option<String>,
    origin: Option<Origin>,
}

impl Producer {
    fn of(object: &Object) -> Producer {
        Producer {
            tenant: object.tenant.clone(),
            service: object.service.clone(),
            origin: object.origin.clone(),
        }
    }
}

impl std::fmt::Display for Producer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.service, &self.origin) {
            (_, Some(origin)) => write!(f, "{origin}"),
            (Some(s), None) => write!(f, "tenant {} service {s}", self.tenant),
            (None, None) => write!(f, "tenant {}", self.tenant),
        }
    }
}

/// The identities of the objects rendered so far, as 128-bit hashes of group, kind,
/// namespace and name (two different identities colliding is not a practical concern), with
/// who made each: a render passes its objects on in batches, and must still refuse two
/// objects with the same identity, which would overwrite each other in the cluster.
#[derive(Default)]
struct Identities {
    seen: HashMap<u128, Producer>,
}

impl Identities {
    fn check(&mut self, objects: &[Object]) -> Vec<Error> {
        let mut problems = Vec::new();
        for object in objects {
            let producer = Producer::of(object);
            let first = match self.seen.entry(identity_hash(object)) {
                Entry::Vacant(slot) => {
                    slot.insert(producer);
                    continue;
                }
                Entry::Occupied(slot) => slot.into_mut(),
            };
            problems.push(Error::from(
                Diagnostic::new(format!("two objects are both {}", object.describe()))
                    .at_opt(object.origin.as_ref().or(first.origin.as_ref()))
                    .note(format!("one from {first}"))
                    .note(format!("one from {producer}"))
                    .hint("object names must be unique per kind and namespace; rename the extra object"),
            ));
        }
        problems
    }
}

fn identity_hash(object: &Object) -> u128 {
    use std::hash::{DefaultHasher, Hash as _, Hasher as _};
    let (group, kind, namespace, name) = object.identity();
    let (mut low, mut high) = (DefaultHasher::new(), DefaultHasher::new());
    // Two hashers with different states: a 128-bit hash. `str`'s hash ends each field, so
    // ("ab", "c") and ("a", "bc") differ.
    high.write_u8(1);
    for part in [&group, &kind, &namespace, &name] {
        part.hash(&mut low);
        part.hash(&mut high);
    }
    (u128::from(high.finish()) << 64) | u128::from(low.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(api_version: &str, kind: &str, name: &str, tenant: &str) -> Object {
        let value = json!({
            "apiVersion": api_version,
            "kind": kind,
            "metadata": {"name": name, "namespace": "shared"},
        });
        Object::from_value(value, tenant, Some("api"), None, false)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn identities_are_remembered_across_batches() {
        let mut seen = Identities::default();
        let first = [object("v1", "ConfigMap", "settings", "acme")];
        assert!(seen.check(&first).is_empty());
        // Another group, another kind or another name is another identity.
        let others = [
            object("example.com/v1", "ConfigMap", "settings", "globex"),
            object("v1", "Secret", "settings", "globex"),
            object("v1", "ConfigMap", "settings-2", "globex"),
        ];
        assert!(seen.check(&others).is_empty());
        // The same identity in a later batch, from another tenant.
        let problems = seen.check(&[object("v1", "ConfigMap", "settings", "initech")]);
        let text = Error::collect(problems)
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            text.contains("two objects are both ConfigMap shared/settings"),
            "{text}"
        );
        assert!(text.contains("one from tenant acme service api"), "{text}");
        assert!(
            text.contains("one from tenant initech service api"),
            "{text}"
        );
    }
}
