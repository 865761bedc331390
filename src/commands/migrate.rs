//! `stencil migrate --from DIR [--to DIR]`: converts the symlinked "universal Helm chart"
//! values layout (`prod/<base>/`, `<tenant>/` with symlinks to it, `dev/<service>/`) to
//! stencil's, with `extends:` where there were symlinks; `--check` proves that every tenant
//! resolves to the values it had. Symlinks that leave `--from`, dangle or loop are refused
//! before anything is written; secrets files are copied byte for byte, never decrypted.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;

use serde_json::{Map, Value};

use super::{EXIT_FOUND, Outcome, write_atomic, write_stdout};
use crate::cli::{Global, MigrateArgs};
use crate::error::{Diagnostic, Error, Result};
use crate::load::file::Schema;
use crate::load::{Loader, de, load_repo};
use crate::migrate::{helm_merge, leaf_paths, map_env, map_values, overrides};
use crate::model::ServiceSpec;
use crate::names::DnsLabel;
use crate::resolve;
use crate::source::Worktree;
use crate::yaml::write as yaml;

/// A symlink found in the old layout, checked.
struct Link {
    /// Relative to `--from`.
    path: String,
    target: String,
    /// What it resolves to, relative to `--from`.
    resolved: String,
}

fn rel(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Every symlink under `root`, each checked: it must stay inside `root`, exist and not loop.
fn check_links(root: &Path) -> Result<Vec<Link>> {
    let mut links = Vec::new();
    let mut problems = Vec::new();
    walk_links(root, root, &mut links, &mut problems)?;
    Error::unless(problems, links)
}

fn walk_links(
    root: &Path,
    dir: &Path,
    links: &mut Vec<Link>,
    problems: &mut Vec<Error>,
) -> Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(format_args!("cannot list {}", dir.display()), &e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        let meta = std::fs::symlink_metadata(&path)
            .map_err(|e| Error::io(format_args!("cannot read {}", path.display()), &e))?;
        if meta.file_type().is_symlink() {
            match check_link(root, &path)? {
                Ok(link) => links.push(link),
                Err(problem) => problems.push(problem),
            }
        } else if meta.is_dir() {
            walk_links(root, &path, links, problems)?;
        }
    }
    Ok(())
}

/// One symlink, checked: `Ok(Err(problem))` when it leaves `--from`, dangles or loops.
fn check_link(root: &Path, path: &Path) -> Result<std::result::Result<Link, Error>> {
    let name = rel(root, path);
    let target = std::fs::read_link(path)
        .map_err(|e| Error::io(format_args!("cannot read the symlink {name}"), &e))?;
    let target_text = target.to_string_lossy().into_owned();
    if leaves_lexically(root, path, &target) {
        return Ok(Err(Diagnostic::new(format!("{name} -> {target_text} points outside {}", root.display()))
            .hint("the migration only follows symlinks inside --from (as Argo CD refuses out-of-bounds symlinks); copy the file in, or point --from at a folder that holds it")
            .into()));
    }
    if let Some(problem) = unfollowable(path, &name, &target_text)? {
        return Ok(Err(problem));
    }
    // Report the real file behind chains of links.
    let real = path
        .canonicalize()
        .map_err(|e| Error::io(format_args!("cannot follow {name}"), &e))?;
    let root_real = root
        .canonicalize()
        .map_err(|e| Error::io(format_args!("cannot resolve {}", root.display()), &e))?;
    if !real.starts_with(&root_real) {
        return Ok(Err(Diagnostic::new(format!(
            "{name} -> {target_text} resolves outside {}",
            root.display()
        ))
        .hint("the migration only follows symlinks inside --from")
        .into()));
    }
    Ok(Ok(Link {
        path: name,
        target: target_text,
        resolved: rel(&root_real, &real),
    }))
}

/// Lexically: does the link's target leave `--from`?
fn leaves_lexically(root: &Path, path: &Path, target: &Path) -> bool {
    let mut resolved: Vec<String> = rel(root, path.parent().unwrap_or(root))
        .split('/')
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    let mut outside = target.is_absolute();
    for part in target.components() {
        match part {
            // The guard pops: `..` climbs one level, or leaves --from at the top.
            Component::ParentDir if resolved.pop().is_none() => outside = true,
            Component::Normal(p) => resolved.push(p.to_string_lossy().into_owned()),
            _ => {}
        }
    }
    outside
}

/// A link that cannot be followed: dangling, or a loop.
fn unfollowable(path: &Path, name: &str, target_text: &str) -> Result<Option<Error>> {
    match std::fs::metadata(path) {
        Ok(_) => Ok(None),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Some(
            Diagnostic::new(format!(
                "{name} -> {target_text} is a dangling symlink: the target does not exist"
            ))
            .hint("restore the target or remove the symlink before migrating")
            .into(),
        )),
        // ELOOP (40 on Linux): too many levels of symbolic links.
        Err(e) if e.raw_os_error() == Some(40) => Ok(Some(
            Diagnostic::new(format!("{name} -> {target_text} is a symlink loop"))
                .hint("break the loop: one of the links must point at a real file")
                .into(),
        )),
        Err(e) => Err(Error::io(format_args!("cannot follow {name}"), &e)),
    }
}

/// A Helm values file of the old layout, read by stencil's loader with YAML 1.1 scalars (as
/// Helm's go-yaml reads it); `Ok(None)` when there is none. An empty file is an empty mapping.
fn read_yaml(root: &Path, rel_path: &str) -> Result<Option<Value>> {
    let node =
        crate::load::file::read(&root.join(rel_path), rel_path, Schema::Yaml11).map_err(|e| {
            e.with_note("the old layout's values files must be valid YAML (as Helm reads them)")
        })?;
    Ok(node.map(|node| {
        if node.is_null() {
            Value::Object(Map::new())
        } else {
            node.to_json()
        }
    }))
}

/// One tenant x service of the old layout.
struct OldApp {
    tenant: String,
    environment: &'static str,
    service: String,
    /// Folder relative to `--from`.
    dir: String,
    base: String,
}

/// `prod/<base>/values.yaml` folders: base folder -> service name.
fn read_bases(root: &Path, args: &MigrateArgs) -> Result<BTreeMap<String, String>> {
    let mut bases = BTreeMap::new();
    for dir in dirs(&root.join("prod"))? {
        if root.join("prod").join(&dir).join("values.yaml").is_file() {
            let service = match &args.service {
                Some(s) => s.clone(),
                None => dir.strip_suffix("-base").unwrap_or(&dir).to_owned(),
            };
            bases.insert(dir, service);
        }
    }
    if bases.is_empty() {
        return Err(Diagnostic::new("prod/ holds no <base>/values.yaml").into());
    }
    if args.service.is_some() && bases.len() > 1 {
        return Err(Diagnostic::new("--service names one service, but prod/ holds several bases")
            .hint("leave --service out: each base folder becomes a service (a `-base` suffix dropped)")
            .into());
    }
    Ok(bases)
}

/// The old layout, read.
struct Old {
    root: PathBuf,
    /// Base folder (under `prod/`) -> service name.
    bases: BTreeMap<String, String>,
    apps: Vec<OldApp>,
    links: Vec<Link>,
}

impl Old {
    fn link(&self, path: &str) -> Option<&Link> {
        self.links.iter().find(|l| l.path == path)
    }

    fn read(args: &MigrateArgs) -> Result<Old> {
        let root = args.from.clone();
        if !root.join("prod").is_dir() {
            return Err(Diagnostic::new(format!(
                "{} has no prod/ folder: not the universal-chart values layout",
                root.display()
            ))
            .hint("--from is the folder holding prod/<base>/values.yaml and one folder per tenant (often helm/)")
            .into());
        }
        let links = check_links(&root)?;
        let bases = read_bases(&root, args)?;
        let mut old = Old {
            root,
            bases,
            apps: Vec::new(),
            links,
        };
        for dir in dirs(&old.root)? {
            if dir == "prod" {
                continue;
            }
            if dir == "dev" {
                for service_dir in dirs(&old.root.join("dev"))? {
                    let app = old.dev_app(&service_dir)?;
                    old.apps.push(app);
                }
            } else if old.root.join(&dir).join("values.yaml").exists() {
                let app = old.tenant_app(dir)?;
                old.apps.push(app);
            }
        }
        Ok(old)
    }

    /// `dev/<service>/`: the dev environment's app of a service.
    fn dev_app(&self, service_dir: &str) -> Result<OldApp> {
        let rel_dir = format!("dev/{service_dir}");
        let base = self
            .base_of(&rel_dir)
            .or_else(|| {
                self.bases
                    .iter()
                    .find(|(_, s)| *s == service_dir)
                    .map(|(b, _)| b.clone())
            })
            .ok_or_else(|| {
                Diagnostic::new(format!("{rel_dir}/ matches no base under prod/")).hint(
                    "name the dev folder after the service (the prod base folder without `-base`)",
                )
            })?;
        Ok(OldApp {
            tenant: "dev".into(),
            environment: "dev",
            service: self.bases[&base].clone(),
            dir: rel_dir,
            base,
        })
    }

    /// `<tenant>/`: a tenant's prod app.
    fn tenant_app(&self, dir: String) -> Result<OldApp> {
        DnsLabel::parse(&dir).map_err(|m| {
            Diagnostic::new(format!("tenant folder {dir}/: {m}"))
                .hint("tenant names become namespaces; rename the folder before migrating")
        })?;
        let base = self.base_of(&dir).ok_or_else(|| {
            Diagnostic::new(format!(
                "{dir}/values.yaml is not a symlink and prod/ holds several bases: which one does it build on?"
            ))
            .hint("make {dir}/version.yaml a symlink to its base, or migrate one base at a time")
        })?;
        Ok(OldApp {
            tenant: dir.clone(),
            environment: "prod",
            service: self.bases[&base].clone(),
            dir,
            base,
        })
    }

    /// The base a folder builds on: where its values.yaml (or version.yaml) links to, or the
    /// only base.
    fn base_of(&self, dir: &str) -> Option<String> {
        for file in ["values.yaml", "version.yaml"] {
            if let Some(link) = self.link(&format!("{dir}/{file}"))
                && let Some(base) = link
                    .resolved
                    .strip_prefix("prod/")
                    .and_then(|r| r.split('/').next())
                && self.bases.contains_key(base)
            {
                return Some(base.to_owned());
            }
        }
        (self.bases.len() == 1)
            .then(|| self.bases.keys().next().cloned())
            .flatten()
    }

    fn values(&self, rel_path: &str) -> Result<Value> {
        Ok(read_yaml(&self.root, rel_path)?.unwrap_or(Value::Object(Map::new())))
    }

    /// Helm's effective values of an app: values.yaml, then env.yaml, then version.yaml.
    fn effective(&self, app: &OldApp) -> Result<Value> {
        let mut values = self.values(&format!("{}/values.yaml", app.dir))?;
        for file in ["env.yaml", "version.yaml"] {
            helm_merge(&mut values, &self.values(&format!("{}/{file}", app.dir))?);
        }
        Ok(values)
    }
}

fn dirs(path: &Path) -> Result<Vec<String>> {
    let mut out: Vec<String> = std::fs::read_dir(path)
        .map_err(|e| Error::io(format_args!("cannot list {}", path.display()), &e))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir() && !e.file_name().to_string_lossy().starts_with('.'))
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    out.sort();
    Ok(out)
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// The `image` pin of a values tree, as a stencil version file.
fn version_of(values: &Value) -> Option<Value> {
    let image = values.get("image")?;
    let mut pin = Map::new();
    for key in ["tag", "digest"] {
        if let Some(v) = image.get(key) {
            let text = match v {
                Value::Number(n) => n.to_string(),
                other => other.as_str()?.to_owned(),
            };
            pin.insert(key.into(), Value::String(text));
        }
    }
    (!pin.is_empty()).then(|| serde_json::json!({ "image": pin }))
}

fn without_version(mut service: Map<String, Value>) -> Map<String, Value> {
    if let Some(Value::Object(image)) = service.get_mut("image") {
        image.remove("tag");
        image.remove("digest");
        if image.is_empty() {
            service.remove("image");
        }
    }
    service
}

fn doc(header: &str, value: Value) -> String {
    format!("{header}{}", yaml::document(&value))
}

/// The files of the new layout, and what the migration reports.
struct Plan {
    files: Vec<(PathBuf, Vec<u8>)>,
    report: String,
}

fn plan(old: &Old, args: &MigrateArgs) -> Result<Plan> {
    let mut plan = Plan {
        files: Vec::new(),
        report: String::new(),
    };
    plan.settings(old, args)?;
    let mapped_bases = plan.bases(old)?;
    plan.tenants(old);
    for app in &old.apps {
        plan.app(old, app, &mapped_bases[app.base.as_str()])?;
    }
    plan.other_links(old);
    Ok(plan)
}

impl Plan {
    fn add(&mut self, path: String, text: impl Into<Vec<u8>>) {
        self.files.push((PathBuf::from(path), text.into()));
    }

    /// stencil.yaml: environments from the folders; what cannot be inferred is marked.
    fn settings(&mut self, old: &Old, args: &MigrateArgs) -> Result<()> {
        let first_base = old.bases.keys().next().cloned().unwrap_or_default();
        let base_values = old.values(&format!("prod/{first_base}/values.yaml"))?;
        let registry = base_values
            .pointer("/image/repository")
            .and_then(Value::as_str)
            .and_then(|r| r.split_once('/'))
            .map(|(host, _)| host.to_owned())
            .filter(|h| h.contains('.'));
        let name = args.name.clone().unwrap_or_else(|| "platform".into());
        let mut environments = Map::new();
        for env in ["dev", "prod"] {
            if old.apps.iter().any(|a| a.environment == env) {
                environments.insert(
                    env.into(),
                    serde_json::json!({ "cluster": "https://kubernetes.default.svc" }),
                );
            }
        }
        let mut settings = serde_json::json!({
            "kind": "Stencil",
            "name": name,
            "environments": environments,
        });
        if let Some(registry) = registry {
            settings["registry"] = Value::String(registry);
        }
        // The Helm values name hosts freely (often one host for every tenant); stencil wants
        // each tenant's hosts under its own domain. Kept as they were, under a reasoned
        // exception.
        settings["policy"] = serde_json::json!({ "exceptions": [{
            "rule": crate::model::Rule::TenantHosts.name(),
            "reason": "migrated: hosts kept as in the Helm values; give each tenant a `domain` (tenant.yaml) and hosts under it, then remove this exception",
        }]});
        self.add(
            "stencil.yaml".into(),
            doc(
                "# yaml-language-server: $schema=schemas/stencil.schema.json\n\
                 # Written by `stencil migrate`. PLACEHOLDERS to set before deploying:\n\
                 #   name: the platform's name (--name)\n\
                 #   environments.*.cluster: each environment's API server URL (in-cluster for now)\n\
                 #   argocd.repoURL: for `stencil argocd apps`\n",
                settings,
            ),
        );
        Ok(())
    }

    /// Each base's service.yaml and version.yaml; returns the mapped service of each base.
    fn bases<'o>(&mut self, old: &'o Old) -> Result<BTreeMap<&'o str, Map<String, Value>>> {
        let mut mapped_bases = BTreeMap::new();
        for (base, service) in &old.bases {
            let values = old.values(&format!("prod/{base}/values.yaml"))?;
            let version = old.values(&format!("prod/{base}/version.yaml"))?;
            let mut effective = values.clone();
            helm_merge(&mut effective, &version);
            let mapped = map_values(&effective);
            for path in &mapped.unmapped {
                let _ = writeln!(
                    self.report,
                    "unmapped: prod/{base}: {path} -> base/{service}/service.yaml helmPassthrough.{path} (not rendered; move it by hand)"
                );
            }
            let service_map = without_version(mapped.service);
            self.add(
                format!("base/{service}/service.yaml"),
                doc(
                    &format!("# yaml-language-server: $schema=../../schemas/service.schema.json\n# Migrated from prod/{base}/values.yaml by `stencil migrate`.\nkind: Service\nname: {service}\n"),
                    Value::Object(service_map.clone()),
                ),
            );
            if let Some(pin) = version_of(&effective) {
                self.add(
                    format!("base/{service}/version.yaml"),
                    doc(
                        "# yaml-language-server: $schema=../../schemas/version.schema.json\n",
                        pin,
                    ),
                );
            }
            mapped_bases.insert(base.as_str(), service_map);
        }
        Ok(mapped_bases)
    }

    /// Each tenant's tenant.yaml: its environment and services.
    fn tenants(&mut self, old: &Old) {
        let mut tenants: BTreeMap<&str, (&str, Vec<&str>)> = BTreeMap::new();
        for app in &old.apps {
            let entry = tenants
                .entry(app.tenant.as_str())
                .or_insert((app.environment, Vec::new()));
            entry.1.push(app.service.as_str());
        }
        for (tenant, (environment, services)) in &tenants {
            self.add(
                format!("tenants/{tenant}/tenant.yaml"),
                doc(
                    "# yaml-language-server: $schema=../../schemas/tenant.schema.json\n",
                    serde_json::json!({ "kind": "Tenant", "environment": environment, "services": services }),
                ),
            );
        }
    }

    /// One tenant x service: values.yaml (what differs from the base), env.yaml, a version
    /// pin of its own, and its secrets file.
    fn app(&mut self, old: &Old, app: &OldApp, base_map: &Map<String, Value>) -> Result<()> {
        let out_dir = format!("tenants/{}/{}", app.tenant, app.service);
        let env = self.app_values(old, app, base_map, &out_dir)?;
        if !env.is_empty() {
            self.add(
                format!("{out_dir}/env.yaml"),
                doc(
                    "# yaml-language-server: $schema=../../../schemas/env.schema.json\n",
                    Value::Object(env),
                ),
            );
        }
        self.app_version(old, app, &out_dir)?;
        // Secrets: the same bytes, still SOPS, never decrypted.
        let secrets = old.root.join(&app.dir).join("secrets.enc.yaml");
        if secrets.exists() {
            let bytes = std::fs::read(&secrets).map_err(|e| {
                Error::io(format_args!("cannot read {}/secrets.enc.yaml", app.dir), &e)
            })?;
            self.add(format!("{out_dir}/secrets.enc.yaml"), bytes);
        }
        Ok(())
    }

    /// The app's values.yaml: `extends` its base plus what differs. Returns env.yaml's own
    /// variables (they go to the new env.yaml).
    fn app_values(
        &mut self,
        old: &Old,
        app: &OldApp,
        base_map: &Map<String, Value>,
        out_dir: &str,
    ) -> Result<Map<String, Value>> {
        let service = &app.service;
        // The tenant's values and env.yaml as Helm merges them (without the version).
        let mut tenant_values = old.values(&format!("{}/values.yaml", app.dir))?;
        let helm_env = old.values(&format!("{}/env.yaml", app.dir))?;
        helm_merge(&mut tenant_values, &helm_env);
        let mapped = map_values(&tenant_values);
        let mut diff = overrides(base_map, &without_version(mapped.service));
        // Values without a place that differ from the base's are the tenant's to move.
        if let Some(Value::Object(pass)) = diff.get("helmPassthrough") {
            for path in leaf_paths(pass) {
                let _ = writeln!(
                    self.report,
                    "unmapped: {}: {path} -> {out_dir}/values.yaml helmPassthrough.{path} (not rendered; move it by hand)",
                    app.dir
                );
            }
        }
        // env.yaml's own variables go to the new env.yaml; what stays in values.yaml are the
        // deletions (Helm replaces lists, so base variables a tenant's env list lacks vanish).
        let env = object(helm_env)
            .remove("env")
            .map(|e| map_env(e).0)
            .unwrap_or_default();
        if let Some(Value::Object(diff_env)) = diff.get_mut("env") {
            diff_env.retain(|k, v| env.get(k) != Some(v));
            if diff_env.is_empty() {
                diff.remove("env");
            }
        }
        let diverging = leaf_paths(&diff);
        let header = format!(
            "# yaml-language-server: $schema=../../../schemas/service.schema.json\nextends: base/{service}\n"
        );
        let text = if diff.is_empty() {
            header
        } else {
            doc(&header, Value::Object(diff))
        };
        self.add(format!("{out_dir}/values.yaml"), text);
        self.report_values(old, app, &diverging);
        Ok(env)
    }

    /// How the app's values.yaml was migrated: a symlink replaced, or a file's divergences.
    fn report_values(&mut self, old: &Old, app: &OldApp, diverging: &[String]) {
        let service = &app.service;
        let _ = match old.link(&format!("{}/values.yaml", app.dir)) {
            Some(link) => writeln!(
                self.report,
                "symlink: {} -> {}: replaced by extends: base/{service}",
                link.path, link.target
            ),
            None => writeln!(
                self.report,
                "file: {}/values.yaml: extends: base/{service} plus {} diverging key{}{}",
                app.dir,
                diverging.len(),
                if diverging.len() == 1 { "" } else { "s" },
                if diverging.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", diverging.join(", "))
                }
            ),
        };
    }

    /// A version of its own (a real file that differs from the base's) becomes a pin.
    fn app_version(&mut self, old: &Old, app: &OldApp, out_dir: &str) -> Result<()> {
        let version_path = format!("{}/version.yaml", app.dir);
        if let Some(link) = old.link(&version_path) {
            let _ = writeln!(
                self.report,
                "symlink: {} -> {}: replaced by the base version",
                link.path, link.target
            );
            return Ok(());
        }
        let own = version_of(&old.values(&version_path)?);
        let base_version = version_of(&old.values(&format!("prod/{}/version.yaml", app.base))?);
        if let Some(pin) = own.filter(|p| Some(p) != base_version.as_ref()) {
            self.add(
                format!("{out_dir}/version.yaml"),
                doc(
                    "# yaml-language-server: $schema=../../../schemas/version.schema.json\n",
                    pin,
                ),
            );
        }
        Ok(())
    }

    /// Symlinks that are no app's values or version file: reported, not migrated.
    fn other_links(&mut self, old: &Old) {
        for link in &old.links {
            let known = old.apps.iter().any(|a| {
                link.path == format!("{}/values.yaml", a.dir)
                    || link.path == format!("{}/version.yaml", a.dir)
            });
            if !known {
                let _ = writeln!(
                    self.report,
                    "symlink: {} -> {}: not migrated (not a values or version file)",
                    link.path, link.target
                );
            }
        }
    }
}

/// `--check`: every tenant of the old layout against the resolved values of the new one.
fn check(old: &Old, to: &Path) -> Outcome {
    let source = Worktree::open(to)?;
    let loader = Loader::new(&source);
    let repo = load_repo(&loader)?;
    let chains = resolve::ChainCache::default();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<24} {:<12} {:<24} result",
        "tenant", "environment", "service"
    );
    let mut differences = 0;
    for app in &old.apps {
        let expected: Result<ServiceSpec> = serde_json::from_value(Value::Object(without_meta(
            map_values(&old.effective(app)?).service,
        )))
        .map_err(|e| {
            Diagnostic::new(format!(
                "{}: the old values do not fit the service model: {e}",
                app.dir
            ))
            .into()
        });
        let actual: Result<ServiceSpec> = match repo.tenant(&app.tenant) {
            None => {
                Err(Diagnostic::new(format!("no tenant {} in {}", app.tenant, to.display())).into())
            }
            Some(tenant) => {
                resolve::resolve(&loader, &chains, tenant, &app.service).and_then(|r| {
                    de::from_node::<ServiceSpec>(&r.tree)
                        .map_err(|e| e.into_diagnostic("invalid service definition").into())
                })
            }
        };
        let result = match (expected, actual) {
            (Ok(a), Ok(b)) => {
                let (a, b) = (
                    serde_json::to_value(a).unwrap_or_default(),
                    serde_json::to_value(b).unwrap_or_default(),
                );
                let mut paths = Vec::new();
                differing(&a, &b, String::new(), &mut paths);
                if paths.is_empty() {
                    "OK".to_owned()
                } else {
                    differences += 1;
                    format!("DIFF {}", paths.join(", "))
                }
            }
            (Err(e), _) | (_, Err(e)) => {
                differences += 1;
                format!("DIFF {}", e.to_string().lines().next().unwrap_or_default())
            }
        };
        let _ = writeln!(
            out,
            "{:<24} {:<12} {:<24} {result}",
            app.tenant, app.environment, app.service
        );
    }
    let _ = writeln!(
        out,
        "{} of {} tenant services resolve to the values they had",
        old.apps.len() - differences,
        old.apps.len()
    );
    write_stdout(&out)?;
    Ok(if differences == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FOUND)
    })
}

fn without_meta(mut map: Map<String, Value>) -> Map<String, Value> {
    map.remove("kind");
    map.remove("name");
    map
}

fn differing(a: &Value, b: &Value, at: String, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for key in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                let path = if at.is_empty() {
                    key.clone()
                } else {
                    format!("{at}.{key}")
                };
                differing(
                    x.get(key).unwrap_or(&Value::Null),
                    y.get(key).unwrap_or(&Value::Null),
                    path,
                    out,
                );
            }
        }
        _ if a != b => out.push(at),
        _ => {}
    }
}

pub fn run(_global: &Global, args: &MigrateArgs) -> Outcome {
    let old = Old::read(args)?;
    if args.check {
        return check(&old, &args.to);
    }
    let plan = plan(&old, args)?;
    let existing: Vec<String> = plan
        .files
        .iter()
        .filter(|(p, _)| args.to.join(p).exists())
        .map(|(p, _)| p.display().to_string())
        .collect();
    if args.dry_run {
        let mut out = String::new();
        for (path, _) in &plan.files {
            let note = if existing.contains(&path.display().to_string()) {
                " (exists)"
            } else {
                ""
            };
            let _ = writeln!(out, "would write {}{note}", args.to.join(path).display());
        }
        out.push_str(&plan.report);
        write_stdout(&out)?;
        return Ok(ExitCode::SUCCESS);
    }
    if !existing.is_empty() && !args.force {
        return Err(Diagnostic::new(format!(
            "{} of the files to write exist in {}: {}",
            existing.len(),
            args.to.display(),
            existing.join(", ")
        ))
        .hint("migrate into a new folder, or pass --force to overwrite them")
        .into());
    }
    for (path, bytes) in &plan.files {
        write_bytes(&args.to.join(path), bytes)?;
    }
    eprint!("{}", plan.report);
    eprintln!(
        "wrote {} files to {}; prove it with `stencil migrate --from {} --to {} --check`",
        plan.files.len(),
        args.to.display(),
        args.from.display(),
        args.to.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    match std::str::from_utf8(bytes) {
        Ok(text) => write_atomic(path, text),
        Err(_) => Err(Diagnostic::new(format!("{} is not UTF-8", path.display())).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helm_values_are_read_as_helm_reads_them_and_errors_are_located() {
        let dir = tempfile::tempdir().expect("tempdir");
        let write = |name: &str, text: &str| {
            std::fs::write(dir.path().join(name), text).expect("write");
        };
        write("values.yaml", "enabled: yes\nmode: 0755\nname: 'on'\n");
        let values = read_yaml(dir.path(), "values.yaml")
            .expect("read")
            .expect("exists");
        assert_eq!(
            values,
            serde_json::json!({ "enabled": true, "mode": 493, "name": "on" })
        );
        write("bad.yaml", "a: 1\n b: 2\n");
        let err = read_yaml(dir.path(), "bad.yaml").expect_err("invalid");
        let text = err.diagnostics()[0].render();
        assert!(text.contains("invalid YAML"), "{text}");
        assert!(text.contains("--> bad.yaml:2:"), "{text}");
        assert!(text.contains("as Helm reads them"), "{text}");
        write("empty.yaml", "");
        assert_eq!(
            read_yaml(dir.path(), "empty.yaml").expect("read"),
            Some(Value::Object(Map::new()))
        );
        assert!(
            read_yaml(dir.path(), "missing.yaml")
                .expect("read")
                .is_none()
        );
    }
}
