//! Comparing two renders of a repository (two revisions, or a revision and the work tree),
//! app by app and object by object, for `diff` and `affected`.
//!
//! An app is a tenant's workspace (its Namespace) or one tenant x service. Only apps whose
//! input files changed are rendered: the paths that differ between the two sources are
//! matched against each app's inputs on both sides ([`resolve::inputs`], the same list Argo
//! CD's `manifest-generate-paths` gets, tested to cover everything a render reads). Every app
//! rendered is compared in full, so the result is exactly the set of apps whose output
//! differs: a base change that every tenant overrides changes nothing.

mod sides;

pub(crate) use sides::{Comparison, Range, compare_range};

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::load::{Repo, Tenant};
use crate::object::Object;
use crate::pipeline::{Renderer, Selection};
use crate::resolve;
use crate::source::{EntryKind, RepoPath, Source};

/// One app: `service` is `None` for the tenant's workspace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct AppId {
    pub tenant: String,
    pub service: Option<String>,
}

impl std::fmt::Display for AppId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.service {
            Some(s) => write!(f, "{}/{s}", self.tenant),
            None => write!(f, "{} (namespace)", self.tenant),
        }
    }
}

/// One object that differs: `before`/`after` are its YAML, `None` where it does not exist.
#[derive(Debug, Clone)]
pub(crate) struct ObjectChange {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl ObjectChange {
    pub(crate) fn describe(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {ns}/{}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }
}

/// Whether something exists on the old side, the new side, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Status {
    Added,
    Changed,
    Removed,
}

impl Status {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Status::Added => "added",
            Status::Changed => "changed",
            Status::Removed => "removed",
        }
    }
}

impl ObjectChange {
    pub(crate) fn status(&self) -> Status {
        match (&self.before, &self.after) {
            (None, _) => Status::Added,
            (_, None) => Status::Removed,
            _ => Status::Changed,
        }
    }
}

/// One app whose render differs.
#[derive(Debug, Clone)]
pub(crate) struct AppChange {
    pub app: AppId,
    pub status: Status,
    pub objects: Vec<ObjectChange>,
}

/// One side of a comparison.
pub(crate) struct Side<'a> {
    pub renderer: Renderer<'a>,
    /// Shown in errors: which side, which revision.
    pub label: String,
}

/// The paths (files, relative to the stencil root) that differ between two sources: added,
/// removed or changed, among `stencil.yaml`, `base/` and `tenants/`.
pub(crate) fn changed_paths(from: &dyn Source, to: &dyn Source) -> Result<BTreeSet<String>> {
    let mut files_from = BTreeMap::new();
    let mut files_to = BTreeMap::new();
    for top in ["stencil.yaml", "base", "tenants"] {
        let path = RepoPath::parse(top).map_err(crate::error::Diagnostic::new)?;
        walk(from, &path, &mut files_from)?;
        walk(to, &path, &mut files_to)?;
    }
    let mut changed = BTreeSet::new();
    for path in files_from.keys().chain(files_to.keys()) {
        if changed.contains(path.as_str()) {
            continue;
        }
        let differs = match (files_from.get(path), files_to.get(path)) {
            (Some(a), Some(b)) => same_file(from, to, a, b).map(|same| !same)?,
            _ => true,
        };
        if differs {
            changed.insert(path.as_str().to_owned());
        }
    }
    Ok(changed)
}

fn walk(source: &dyn Source, path: &RepoPath, out: &mut BTreeMap<String, RepoPath>) -> Result<()> {
    match source.kind(path)? {
        Some(EntryKind::File) => {
            out.insert(path.as_str().to_owned(), path.clone());
        }
        Some(EntryKind::Dir) => {
            for (name, _) in source.list(path)? {
                walk(source, &path.join(&name), out)?;
            }
        }
        None => {}
    }
    Ok(())
}

fn same_file(from: &dyn Source, to: &dyn Source, a: &RepoPath, b: &RepoPath) -> Result<bool> {
    // Two git trees: equal blob ids are equal bytes, without reading either.
    if let (Some(x), Some(y)) = (from.blob_id(a)?, to.blob_id(b)?) {
        return Ok(x == y);
    }
    // Sizes are checked when a file is rendered; a file too big to compare here counts as
    // changed, and its render reports it.
    const LIMIT: u64 = 64 * 1024 * 1024;
    match (from.read(a, LIMIT), to.read(b, LIMIT)) {
        (Ok(x), Ok(y)) => Ok(x == y),
        _ => Ok(false),
    }
}

/// Whether a changed file is one of `inputs` or inside one of its folders.
fn touches(inputs: &[RepoPath], changed: &BTreeSet<String>) -> bool {
    inputs.iter().any(|input| {
        let input = input.as_str();
        changed.contains(input)
            || changed
                .range(format!("{input}/")..)
                .next()
                .is_some_and(|c| c.starts_with(&format!("{input}/")))
    })
}

/// The apps of one side, with the selection applied.
fn apps<'r>(
    repo: &'r Repo,
    selection: &Selection,
) -> BTreeMap<AppId, (&'r Tenant, Option<&'r str>)> {
    let mut out = BTreeMap::new();
    if selection.includes_tenant_objects() {
        for tenant in selection.tenants(repo) {
            out.insert(
                AppId {
                    tenant: tenant.name.to_string(),
                    service: None,
                },
                (tenant, None),
            );
        }
    }
    for (tenant, service) in selection.apps(repo) {
        out.insert(
            AppId {
                tenant: tenant.name.to_string(),
                service: Some(service.to_owned()),
            },
            (tenant, Some(service)),
        );
    }
    out
}

fn inputs(side: &Side<'_>, tenant: &Tenant, service: Option<&str>) -> Option<Vec<RepoPath>> {
    match service {
        Some(service) => {
            resolve::inputs(side.renderer.loader, &side.renderer.chains, tenant, service).ok()
        }
        None => Some(vec![
            RepoPath::parse("stencil.yaml").ok()?,
            RepoPath::parse(&format!("tenants/{}/tenant.yaml", tenant.name)).ok()?,
        ]),
    }
}

/// Drops a side's cache of an app's own files once nothing more reads them (the app was
/// rendered, or its inputs did not change): a diff's memory then does not grow with every
/// tenant's parsed files. A later read would load them again.
fn forget(side: &Side<'_>, tenant: &Tenant, service: Option<&str>) {
    if let Some(service) = service {
        // The path is the tenant's folder, valid once the tenant loaded.
        let _ = resolve::forget(side.renderer.loader, &side.renderer.chains, tenant, service);
    }
}

fn render(side: &Side<'_>, tenant: &Tenant, service: Option<&str>) -> Result<Vec<Object>> {
    let objects = match service {
        Some(service) => side.renderer.render_app(tenant, service),
        None => side.renderer.render_workspace(tenant),
    };
    forget(side, tenant, service);
    objects.map_err(|e| {
        let what = match service {
            Some(s) => format!("{}/{s}", tenant.name),
            None => format!("the workspace of {}", tenant.name),
        };
        e.with_note(format!("while rendering {what} in {}", side.label))
    })
}

/// Compares the selected apps of two sides. With `changed` (the paths that differ), apps
/// whose inputs did not change are not rendered; without it, every app is.
pub(crate) fn compare(
    from: &Side<'_>,
    to: &Side<'_>,
    selection: &Selection,
    changed: Option<&BTreeSet<String>>,
) -> Result<Vec<AppChange>> {
    let before = apps(from.renderer.repo, selection);
    let after = apps(to.renderer.repo, selection);
    let ids: BTreeSet<&AppId> = before.keys().chain(after.keys()).collect();
    let ids: Vec<&AppId> = ids.into_iter().collect();
    // Which apps to render and the renders themselves, in one parallel pass (finding an
    // app's inputs loads the files its render reads next); results stay in id order.
    let results: Vec<Result<Option<AppChange>>> = ids
        .par_iter()
        .filter(|id| {
            let (Some(&(t0, s0)), Some(&(t1, s1))) = (before.get(*id), after.get(*id)) else {
                return true; // added or removed
            };
            let Some(changed) = changed else {
                return true;
            };
            // Unknown inputs (a side does not resolve): render, and report its error.
            let touched = match (inputs(from, t0, s0), inputs(to, t1, s1)) {
                (Some(a), Some(b)) => touches(&a, changed) || touches(&b, changed),
                _ => true,
            };
            if !touched {
                forget(from, t0, s0);
                forget(to, t1, s1);
            }
            touched
        })
        .map(|id| {
            let old = match before.get(*id) {
                Some(&(t, s)) => render(from, t, s)?,
                None => Vec::new(),
            };
            let new = match after.get(*id) {
                Some(&(t, s)) => render(to, t, s)?,
                None => Vec::new(),
            };
            let status = match (before.contains_key(*id), after.contains_key(*id)) {
                (false, _) => Status::Added,
                (_, false) => Status::Removed,
                _ => Status::Changed,
            };
            let objects = diff_objects(&old, &new);
            Ok((!objects.is_empty()).then(|| AppChange {
                app: (*id).clone(),
                status,
                objects,
            }))
        })
        .collect();
    let mut changes = Vec::new();
    let mut problems = Vec::new();
    for result in results {
        match result {
            Ok(Some(change)) => changes.push(change),
            Ok(None) => {}
            Err(e) => problems.push(e),
        }
    }
    Error::unless(problems, changes)
}

type Identity = (String, String, String, String);

fn identity(object: &Object) -> Identity {
    (
        object.api_version.clone(),
        object.kind.clone(),
        object.namespace.clone().unwrap_or_default(),
        object.name.clone(),
    )
}

/// Object-by-object differences, in the new stream order, then removed objects in the old.
fn diff_objects(old: &[Object], new: &[Object]) -> Vec<ObjectChange> {
    let old_docs: BTreeMap<Identity, (&Object, String)> = old
        .iter()
        .map(|o| (identity(o), (o, crate::yaml::write::document(&o.value))))
        .collect();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for object in new {
        let id = identity(object);
        let after = crate::yaml::write::document(&object.value);
        let before = old_docs.get(&id).map(|(_, doc)| doc.clone());
        seen.insert(id);
        if before.as_deref() != Some(after.as_str()) {
            out.push(change(object, before, Some(after)));
        }
    }
    for object in old {
        let id = identity(object);
        if !seen.contains(&id) {
            let before = old_docs.get(&id).map(|(_, doc)| doc.clone());
            out.push(change(object, before, None));
        }
    }
    out
}

fn change(object: &Object, before: Option<String>, after: Option<String>) -> ObjectChange {
    ObjectChange {
        api_version: object.api_version.clone(),
        kind: object.kind.clone(),
        namespace: object.namespace.clone(),
        name: object.name.clone(),
        before,
        after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(list: &[&str]) -> Vec<RepoPath> {
        list.iter().map(|p| RepoPath::parse(p).unwrap()).collect()
    }

    #[test]
    fn touches_files_and_folders() {
        let changed: BTreeSet<String> = ["base/api/service.yaml", "tenants/a-b/api/env.yaml"]
            .map(String::from)
            .into();
        assert!(touches(&paths(&["base/api/service.yaml"]), &changed));
        assert!(touches(&paths(&["tenants/a-b/api"]), &changed));
        assert!(!touches(&paths(&["tenants/a"]), &changed));
        assert!(!touches(&paths(&["tenants/a-b/ap"]), &changed));
        assert!(!touches(
            &paths(&["base/api/version.yaml", "stencil.yaml"]),
            &changed
        ));
    }
}
