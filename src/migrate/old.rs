//! The old layout, read: the symlinked "universal Helm chart" values folders (`prod/<base>/`,
//! `<tenant>/` with symlinks to it, `dev/<service>/`). Symlinks that leave `--from`, dangle or
//! loop are refused before anything is written. Values files are read as Helm reads them
//! (YAML 1.1, through stencil's loader).

use std::collections::BTreeMap;
use std::io;
use std::path::{Component, Path, PathBuf};

use serde_json::{Map, Value};

use super::Options;
use super::charts::Flavor;
use super::values::helm_merge;
use crate::error::{Diagnostic, Error, Result};
use crate::load::file::Schema;
use crate::names::DnsLabel;
use crate::yaml::write as yaml;

/// A symlink found in the old layout, checked.
pub(crate) struct Link {
    /// Relative to `--from`.
    pub(crate) path: String,
    pub(crate) target: String,
    /// What it resolves to, relative to `--from`.
    pub(crate) resolved: String,
}

pub(crate) fn rel(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Every symlink under `root`, each checked: it must stay inside `root`, exist and not loop.
pub(crate) fn check_links(root: &Path) -> Result<Vec<Link>> {
    let mut links = Vec::new();
    let mut problems = Vec::new();
    walk_links(root, root, &mut links, &mut problems)?;
    Error::unless(problems, links)
}

pub(crate) fn walk_links(
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
pub(crate) fn check_link(root: &Path, path: &Path) -> Result<std::result::Result<Link, Error>> {
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
pub(crate) fn leaves_lexically(root: &Path, path: &Path, target: &Path) -> bool {
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
pub(crate) fn unfollowable(path: &Path, name: &str, target_text: &str) -> Result<Option<Error>> {
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
pub(crate) fn read_yaml(root: &Path, rel_path: &str) -> Result<Option<Value>> {
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
pub(crate) struct OldApp {
    pub(crate) tenant: String,
    pub(crate) environment: &'static str,
    pub(crate) service: String,
    /// Folder relative to `--from`.
    pub(crate) dir: String,
    pub(crate) base: String,
}

/// `prod/<base>/values.yaml` folders: base folder -> service name.
pub(crate) fn read_bases(root: &Path, args: &Options) -> Result<BTreeMap<String, String>> {
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
pub(crate) struct Old {
    pub(crate) root: PathBuf,
    /// Base folder (under `prod/`) -> service name.
    pub(crate) bases: BTreeMap<String, String>,
    pub(crate) apps: Vec<OldApp>,
    pub(crate) links: Vec<Link>,
    /// The chart the values were written for (from the first base's values.yaml).
    pub(crate) flavor: Flavor,
}

impl Old {
    pub(crate) fn link(&self, path: &str) -> Option<&Link> {
        self.links.iter().find(|l| l.path == path)
    }

    pub(crate) fn read(args: &Options) -> Result<Old> {
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
        let flavor = match bases.keys().next() {
            Some(base) => Flavor::detect(
                &read_yaml(&root, &format!("prod/{base}/values.yaml"))?.unwrap_or_default(),
            ),
            None => Flavor::Generic,
        };
        let mut old = Old {
            root,
            bases,
            apps: Vec::new(),
            links,
            flavor,
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
    pub(crate) fn dev_app(&self, service_dir: &str) -> Result<OldApp> {
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
    pub(crate) fn tenant_app(&self, dir: String) -> Result<OldApp> {
        DnsLabel::parse(&dir).map_err(|m| {
            Diagnostic::new(format!("tenant folder {dir}/: {m}"))
                .hint("tenant names become namespaces; rename the folder before migrating")
        })?;
        let base = self.base_of(&dir).ok_or_else(|| {
            Diagnostic::new(format!(
                "{dir}/values.yaml is not a symlink and prod/ holds several bases: which one does it build on?"
            ))
            .hint(format!("make {dir}/version.yaml a symlink to its base, or migrate one base at a time"))
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
    pub(crate) fn base_of(&self, dir: &str) -> Option<String> {
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

    pub(crate) fn values(&self, rel_path: &str) -> Result<Value> {
        Ok(read_yaml(&self.root, rel_path)?.unwrap_or(Value::Object(Map::new())))
    }

    /// Helm's effective values of an app: values.yaml, then env.yaml, then version.yaml.
    pub(crate) fn effective(&self, app: &OldApp) -> Result<Value> {
        let mut values = self.values(&format!("{}/values.yaml", app.dir))?;
        for file in ["env.yaml", "version.yaml"] {
            helm_merge(&mut values, &self.values(&format!("{}/{file}", app.dir))?);
        }
        Ok(values)
    }
}

pub(crate) fn dirs(path: &Path) -> Result<Vec<String>> {
    let mut out: Vec<String> = std::fs::read_dir(path)
        .map_err(|e| Error::io(format_args!("cannot list {}", path.display()), &e))?
        .filter_map(std::result::Result::ok)
        .filter(|e| e.path().is_dir() && !e.file_name().to_string_lossy().starts_with('.'))
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    out.sort();
    Ok(out)
}

/// The `image` pin of a values tree written for `flavor`, as a stencil version file.
pub(crate) fn version_of(values: &Value, flavor: Flavor) -> Option<Value> {
    let mapped = super::charts::map_values(values, flavor).service;
    let image = mapped.get("image")?;
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

pub(crate) fn without_version(mut service: Map<String, Value>) -> Map<String, Value> {
    if let Some(Value::Object(image)) = service.get_mut("image") {
        image.remove("tag");
        image.remove("digest");
        if image.is_empty() {
            service.remove("image");
        }
    }
    service
}

pub(crate) fn doc(header: &str, value: Value) -> String {
    format!("{header}{}", yaml::document(&value))
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
