//! The `resolve` stage: follow `extends` chains and merge every layer of one tenant x service
//! into a single tree, in this order (later wins):
//!
//! 1. the `extends` chain of the tenant's `values.yaml`, base first (a tenant without a
//!    `values.yaml`, or one without `extends:`, builds on `base/<service>`);
//! 2. `tenants/<t>/<s>/values.yaml`;
//! 3. `tenants/<t>/<s>/env.yaml` (into `env`);
//! 4. `base/<s>/version.yaml`, then `tenants/<t>/<s>/version.yaml` (a tenant pin).
//!
//! Cycles, missing targets and paths that leave the repository are errors that print the chain.
//! `extends` stays inside the tenant boundary: a tenant's file builds on `base/` and the
//! tenant's own files, a base file on `base/` only, checked on the path before anything is
//! read (rule `extends-boundary`).

pub mod files;
pub mod merge;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::error::{Diagnostic, Error, Result, did_you_mean};
use crate::load::{Loader, Role, Tenant};
use crate::node::{Node, Value};
use crate::origin::Origin;
use crate::source::{EntryKind, RepoPath, lock};

pub use merge::merge;

/// Deepest `extends` chain accepted.
pub const MAX_EXTENDS_DEPTH: usize = 16;

/// Files a tenant's service folder may hold.
pub const TENANT_SERVICE_FILES: [&str; 4] = [
    "values.yaml",
    "env.yaml",
    "version.yaml",
    "secrets.enc.yaml",
];

/// The merged tree of one tenant x service and the files it was built from, in merge order.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub tree: Node,
    pub layers: Vec<RepoPath>,
}

/// A chain resolved for one file: the merged tree and the files merged, in order.
#[derive(Debug)]
pub(crate) struct Chain {
    tree: Node,
    layers: Vec<RepoPath>,
}

/// Resolved `extends` chains, by file: a base chain shared by a thousand tenants is resolved
/// once per run. Owned next to the [`Loader`] by whoever renders (one per run), so that
/// loading does not depend on resolving.
#[derive(Debug, Default)]
pub struct ChainCache {
    chains: Mutex<HashMap<RepoPath, Arc<Chain>>>,
}

impl ChainCache {
    fn get(&self, file: &RepoPath) -> Option<Arc<Chain>> {
        lock(&self.chains).get(file).cloned()
    }

    fn insert(&self, file: &RepoPath, chain: &Arc<Chain>) {
        lock(&self.chains).insert(file.clone(), Arc::clone(chain));
    }

    fn forget(&self, file: &RepoPath) {
        lock(&self.chains).remove(file);
    }
}

pub fn resolve(
    loader: &Loader<'_>,
    chains: &ChainCache,
    tenant: &Tenant,
    service: &str,
) -> Result<Resolved> {
    let base_dir = path(&format!("base/{service}"))?;
    let dir = path(&format!("tenants/{}/{service}", tenant.name))?;
    // The folder's listing answers which of its files exist: no system call for the absent
    // ones (most tenants have no values.yaml, many no env.yaml or version.yaml).
    let listing = check_tenant_service_files(loader, &dir)?;
    let present = |name: &str| listing.iter().any(|(n, _)| n == name);
    let first = if listing
        .iter()
        .any(|(n, kind)| n == "values.yaml" && *kind == EntryKind::File)
    {
        dir.join("values.yaml")
    } else {
        base_dir.join("service.yaml")
    };
    let chain = resolve_chain(loader, chains, &first, &[])?;
    let (mut tree, mut layers) = owned(chains, &first, chain, &dir);

    let env = dir.join("env.yaml");
    if present("env.yaml")
        && let Some(node) = loader.load(&env, Role::Env)?
    {
        let mut wrapper = Node::empty_map(node.origin.clone());
        if let Some(map) = wrapper.as_map_mut() {
            map.insert("env".to_owned(), (*node).clone());
        }
        merge(&mut tree, wrapper);
        layers.push(env);
    }
    let own_version = present("version.yaml").then(|| dir.join("version.yaml"));
    for version in std::iter::once(base_dir.join("version.yaml")).chain(own_version) {
        if let Some(node) = loader.load(&version, Role::Version)? {
            let mut node = (*node).clone();
            if let Some(map) = node.as_map_mut() {
                map.shift_remove("kind");
            }
            drop_pins_of_absent_sidecars(&tree, &mut node);
            merge(&mut tree, node);
            layers.push(version);
        }
    }
    if let Some(map) = tree.as_map_mut() {
        map.shift_remove("kind");
        map.shift_remove("name");
    }
    Ok(Resolved { tree, layers })
}

/// The tree and layers of a resolved chain, to merge the rest into. A chain that starts in
/// the tenant's own folder serves this app only ([`forget`] drops it next): it is taken out
/// of the cache and used as it is, not copied (a copy of the whole tree per app).
fn owned(
    chains: &ChainCache,
    first: &RepoPath,
    chain: Arc<Chain>,
    dir: &RepoPath,
) -> (Node, Vec<RepoPath>) {
    if *first == dir.join("values.yaml") {
        chains.forget(first);
    }
    match Arc::try_unwrap(chain) {
        Ok(chain) => (chain.tree, chain.layers),
        Err(shared) => (shared.tree.clone(), shared.layers.clone()),
    }
}

/// Drops the caches of one tenant x service's own files (parsed files and `extends` chains),
/// once its app is rendered.
pub fn forget(
    loader: &Loader<'_>,
    chains: &ChainCache,
    tenant: &Tenant,
    service: &str,
) -> Result<()> {
    let dir = path(&format!("tenants/{}/{service}", tenant.name))?;
    for name in TENANT_SERVICE_FILES {
        loader.forget(&dir.join(name));
        chains.forget(&dir.join(name));
    }
    Ok(())
}

/// Where a tenant x service's `extends` chain starts: its `values.yaml`, or the base (as
/// [`resolve`] decides from the folder's listing).
fn start(loader: &Loader<'_>, dir: &RepoPath, base_dir: &RepoPath) -> Result<RepoPath> {
    let values = dir.join("values.yaml");
    Ok(if loader.source().kind(&values)? == Some(EntryKind::File) {
        values
    } else {
        base_dir.join("service.yaml")
    })
}

/// The repository paths whose content feeds one tenant x service's render, for Argo CD's
/// `manifest-generate-paths`: `stencil.yaml`, the tenant's `tenant.yaml`, the tenant's service
/// folder (every file in it, present or future), the base `version.yaml`, every file of the
/// `extends` chain, the folder of each layer that mounts a file `from:` it, and `.sops.yaml`
/// when there is a secrets file. Nothing else is read: a
/// change anywhere else cannot change the render.
pub fn inputs(
    loader: &Loader<'_>,
    chains: &ChainCache,
    tenant: &Tenant,
    service: &str,
) -> Result<Vec<RepoPath>> {
    let base_dir = path(&format!("base/{service}"))?;
    let dir = path(&format!("tenants/{}/{service}", tenant.name))?;
    let mut out = vec![
        path("stencil.yaml")?,
        path(&format!("tenants/{}/tenant.yaml", tenant.name))?,
        dir.clone(),
    ];
    // The chain's files (cached); the folder covers values, env, version and secrets.
    let chain = resolve_chain(loader, chains, &start(loader, &dir, &base_dir)?, &[])?;
    let inside = format!("{dir}/");
    let layers = chain
        .layers
        .iter()
        .cloned()
        .chain([base_dir.join("version.yaml")]);
    for layer in layers {
        if !layer.as_str().starts_with(&inside) && !out.contains(&layer) {
            out.push(layer);
        }
    }
    // `files.*.from` reads a file inside the folder of the layer that names it: that folder.
    for folder in files::from_folders(&chain.tree) {
        let folder = path(&folder)?;
        if !folder.as_str().starts_with(&inside) && folder != dir && !out.contains(&folder) {
            out.push(folder);
        }
    }
    // A secrets file is checked against the recipients `.sops.yaml` lists for it.
    if loader.source().kind(&dir.join("secrets.enc.yaml"))? == Some(EntryKind::File) {
        out.push(path(".sops.yaml")?);
    }
    Ok(out)
}

/// A version pin for a sidecar the merged definition does not have (a tenant removed it)
/// must not bring the sidecar back as a bare pin: drop it.
fn drop_pins_of_absent_sidecars(tree: &Node, version: &mut Node) {
    let present: Vec<&str> = tree
        .get("sidecars")
        .and_then(Node::as_seq)
        .unwrap_or(&[])
        .iter()
        .filter_map(|s| s.get("name").and_then(Node::as_scalar_text))
        .collect();
    let Some(pins) = version.seq_mut("sidecars") else {
        return;
    };
    pins.retain(|pin| {
        let name = pin.get("name").and_then(Node::as_scalar_text);
        let keep = name.is_some_and(|n| present.contains(&n));
        if !keep {
            tracing::debug!(sidecar = name.unwrap_or("?"), at = %pin.origin, "version pin for a sidecar this service does not run: ignored");
        }
        keep
    });
}

fn path(text: &str) -> Result<RepoPath> {
    RepoPath::parse(text).map_err(|m| Diagnostic::new(m).into())
}

/// Refuses unknown YAML files in a tenant's service folder (`value.yaml` must not be ignored).
/// Refuses YAML files stencil does not read in a tenant's service folder; the listing
/// otherwise.
fn check_tenant_service_files(
    loader: &Loader<'_>,
    dir: &RepoPath,
) -> Result<Vec<(String, EntryKind)>> {
    let listing = loader.source().list(dir)?;
    let mut problems = Vec::new();
    for (name, kind) in &listing {
        let (name, kind) = (name.as_str(), *kind);
        let yaml = name.ends_with(".yaml") || name.ends_with(".yml");
        if kind != EntryKind::File || !yaml || TENANT_SERVICE_FILES.contains(&name) {
            continue;
        }
        let hint = match did_you_mean(name, TENANT_SERVICE_FILES) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!(
                "the files stencil reads here are {}",
                TENANT_SERVICE_FILES.join(", ")
            ),
        };
        problems.push(Error::from(
            Diagnostic::new(format!("{dir}/{name} is not a file stencil reads")).hint(hint),
        ));
    }
    Error::unless(problems, listing)
}

fn chain_note(stack: &[RepoPath], last: &RepoPath) -> String {
    let mut parts: Vec<&str> = stack.iter().map(RepoPath::as_str).collect();
    parts.push(last.as_str());
    format!("extends chain: {}", parts.join(" -> "))
}

/// What a file without `extends:` builds on: a tenant's `values.yaml` builds on its
/// service's base; every other file builds on nothing. A property of the file, so the
/// resolved chain of a file is the same wherever it is reached from.
fn implicit_base(file: &RepoPath) -> Option<RepoPath> {
    let parts: Vec<&str> = file.as_str().split('/').collect();
    match parts.as_slice() {
        ["tenants", _, service, "values.yaml"] => {
            RepoPath::parse(&format!("base/{service}/service.yaml")).ok()
        }
        _ => None,
    }
}

/// A layer's own content: the file without its `extends:`.
fn own_layer(loader: &Loader<'_>, file: &RepoPath) -> Result<Node> {
    let node = loader
        .load(file, Role::ServiceLayer)?
        .ok_or_else(|| Diagnostic::new(format!("{file} does not exist")))?;
    let mut node = (*node).clone();
    if let Some(map) = node.as_map_mut() {
        map.shift_remove("extends");
    }
    Ok(node)
}

/// Resolves one file's `extends` chain.
///
/// The files of the chain are linearized depth-first, base first, each file once: with
/// `extends: [prod.yaml, highmem.yaml]` where both extend `service.yaml`, the layers are
/// service, prod, highmem, then the file, so the shared base is applied once and cannot
/// undo what `prod.yaml` set.
fn resolve_chain(
    loader: &Loader<'_>,
    chains: &ChainCache,
    file: &RepoPath,
    stack: &[RepoPath],
) -> Result<Arc<Chain>> {
    if let Some(hit) = chains.get(file) {
        return Ok(hit);
    }
    let loaded = loader.load(file, Role::ServiceLayer)?.ok_or_else(|| {
        Diagnostic::new(format!("{file} does not exist")).note(chain_note(stack, file))
    })?;
    let extends = match loaded.get("extends") {
        Some(value) => extends_targets(value)?,
        None => match implicit_base(file) {
            Some(base) if base != *file => vec![(base.as_str().to_owned(), loaded.origin.clone())],
            _ => Vec::new(),
        },
    };
    let mut inner: Vec<RepoPath> = stack.to_vec();
    inner.push(file.clone());

    let mut layers: Vec<RepoPath> = Vec::new();
    let mut parents: Vec<Arc<Chain>> = Vec::new();
    for (text, origin) in extends {
        let target = extends_target(loader, &text, &origin, &inner)?;
        if let Some(pos) = inner.iter().position(|p| *p == target) {
            let cycle: Vec<&str> = inner[pos..]
                .iter()
                .map(RepoPath::as_str)
                .chain(std::iter::once(target.as_str()))
                .collect();
            return Err(
                Diagnostic::new(format!("`extends` cycle: {}", cycle.join(" -> ")))
                    .at(&origin)
                    .note(chain_note(stack, file))
                    .hint("a file cannot build on itself; remove one `extends` entry of the cycle")
                    .into(),
            );
        }
        if inner.len() >= MAX_EXTENDS_DEPTH {
            return Err(Diagnostic::new(format!(
                "`extends` chain is deeper than {MAX_EXTENDS_DEPTH} files"
            ))
            .at(&origin)
            .note(chain_note(&inner, &target))
            .hint("flatten the chain; a few profile layers are enough")
            .into());
        }
        let parent = resolve_chain(loader, chains, &target, &inner)
            .map_err(|e| locate(e, &origin, &inner))?;
        for layer in &parent.layers {
            if !layers.contains(layer) {
                layers.push(layer.clone());
            }
        }
        parents.push(parent);
    }

    // Start from the longest parent chain that is a prefix of the linearization (usually
    // the only parent), then apply the remaining layers' own content in order.
    let start = parents
        .iter()
        .filter(|p| layers.starts_with(&p.layers))
        .max_by_key(|p| p.layers.len());
    let mut tree = match start {
        Some(parent) => parent.tree.clone(),
        None => Node::empty_map(loaded.origin.clone()),
    };
    let applied = start.map_or(0, |p| p.layers.len());
    for layer in &layers[applied..] {
        merge(&mut tree, own_layer(loader, layer)?);
    }
    merge(&mut tree, own_layer(loader, file)?);
    layers.push(file.clone());

    let chain = Arc::new(Chain { tree, layers });
    chains.insert(file, &chain);
    Ok(chain)
}

/// Gives a location to errors that have none (e.g. a symlink escape found while reading).
fn locate(err: Error, origin: &Origin, stack: &[RepoPath]) -> Error {
    let diagnostics = err
        .into_diagnostics()
        .into_iter()
        .map(|d| {
            if d.origin.is_some() {
                d
            } else {
                let note = format!(
                    "extends chain: {}",
                    stack
                        .iter()
                        .map(RepoPath::as_str)
                        .collect::<Vec<_>>()
                        .join(" -> ")
                );
                d.at(origin).note(note)
            }
        })
        .map(Error::from);
    Error::collect(diagnostics).unwrap_or_else(|| Diagnostic::new("unknown error").into())
}

/// The entries of an `extends:` value with their positions.
fn extends_targets(value: &Node) -> Result<Vec<(String, Origin)>> {
    let bad = |n: &Node| -> Error {
        Diagnostic::new(format!(
            "`extends` takes a path or a list of paths, found {}",
            n.type_name()
        ))
        .at(&n.origin)
        .hint("e.g. `extends: base/apiserver/prod.yaml`")
        .into()
    };
    match &value.value {
        Value::Scalar(s) => Ok(vec![(s.text.clone(), value.origin.clone())]),
        Value::Seq(items) => items
            .iter()
            .map(|item| match &item.value {
                Value::Scalar(s) => Ok((s.text.clone(), item.origin.clone())),
                _ => Err(bad(item)),
            })
            .collect(),
        Value::Null => Ok(Vec::new()),
        Value::Map(_) => Err(bad(value)),
    }
}

/// Turns an `extends` entry into the file it names: a file, or a service folder's
/// `service.yaml`.
fn extends_target(
    loader: &Loader<'_>,
    text: &str,
    origin: &Origin,
    stack: &[RepoPath],
) -> Result<RepoPath> {
    let note = || {
        format!(
            "extends chain: {} -> {text}",
            stack
                .iter()
                .map(RepoPath::as_str)
                .collect::<Vec<_>>()
                .join(" -> ")
        )
    };
    let target = RepoPath::parse(text).map_err(|msg| {
        Diagnostic::new(format!("`extends` path {msg}"))
            .at(origin)
            .note(note())
    })?;
    if let Some(file) = stack.last()
        && let Err((message, hint)) = check_scope(file, &target)
    {
        return Err(Diagnostic::new(message)
            .rule(EXTENDS_RULE)
            .at(origin)
            .note(note())
            .hint(hint)
            .into());
    }
    let kind = loader
        .source()
        .kind(&target)
        .map_err(|e| locate(e, origin, stack))?;
    match kind {
        Some(EntryKind::File) if !Role::ServiceLayer.admits(target.as_str()) => {
            Err(Diagnostic::new(format!(
                "`extends` names {target}, which is not a service layer"
            ))
            .rule(EXTENDS_RULE)
            .at(origin)
            .note(note())
            .hint(LAYER_HINT)
            .into())
        }
        Some(EntryKind::File) => Ok(target),
        Some(EntryKind::Dir) => {
            let file = target.join("service.yaml");
            match loader.source().kind(&file)? {
                Some(EntryKind::File) => Ok(file),
                _ => Err(Diagnostic::new(format!(
                    "`extends` names the folder {target}, which has no service.yaml"
                ))
                .at(origin)
                .note(note())
                .hint(
                    "name a file, e.g. `base/apiserver/prod.yaml`, or a service folder under base/",
                )
                .into()),
            }
        }
        None => {
            let mut d = Diagnostic::new(format!("`extends` target {target} does not exist"))
                .at(origin)
                .note(note());
            if let Some(s) = suggest_path(loader, &target) {
                d = d.hint(format!("did you mean `{s}`?"));
            } else {
                d = d.hint(
                    "paths are relative to the repository root, e.g. `base/apiserver/prod.yaml`",
                );
            }
            Err(d.into())
        }
    }
}

/// The rule `extends` violations are reported under (see `stencil policy list`).
pub const EXTENDS_RULE: &str = crate::model::Rule::ExtendsBoundary.name();

const LAYER_HINT: &str = "`extends` names a service layer: a .yaml file (not tenant.yaml, env.yaml, version.yaml or a SOPS file) or a service folder meaning its service.yaml";

/// Where the file `file` may build on, decided on the paths alone, before anything is read:
/// a tenant's file on `base/` and on the tenant's own folder; a base file on `base/` only.
/// A target of the right place must also be a service layer by name.
fn check_scope(file: &RepoPath, target: &RepoPath) -> Result<(), (String, String)> {
    let mut parts = file.as_str().split('/');
    let own = match (parts.next(), parts.next()) {
        (Some("tenants"), Some(tenant)) => Some(format!("tenants/{tenant}/")),
        _ => None,
    };
    let text = target.as_str();
    let inside = |root: &str| text.starts_with(root);
    if !inside("base/") && !own.as_deref().is_some_and(inside) {
        return Err(match &own {
            Some(own) => (
                format!("`extends` names {target}, outside base/ and {own}"),
                format!(
                    "a tenant builds on base/ (e.g. `extends: base/<service>/prod.yaml`) or on its own files under {own}; ask the platform team to move shared values into base/"
                ),
            ),
            None => (
                format!("`extends` in {file} names {target}, outside base/"),
                "files under base/ are shared by every tenant: they build only on other files under base/".to_owned(),
            ),
        });
    }
    let yaml = text.ends_with(".yaml") || text.ends_with(".yml");
    let hidden = text.split('/').any(|p| p.starts_with('.'));
    if hidden || (yaml && !Role::ServiceLayer.admits(text)) {
        return Err((
            format!("`extends` names {target}, which is not a service layer"),
            LAYER_HINT.to_owned(),
        ));
    }
    Ok(())
}

/// The closest existing sibling of a missing path, if any.
fn suggest_path(loader: &Loader<'_>, missing: &RepoPath) -> Option<String> {
    let text = missing.as_str();
    let (parent, name) = match text.rsplit_once('/') {
        Some((p, n)) => (RepoPath::parse(p).ok(), n),
        None => (None, text),
    };
    let entries = match &parent {
        Some(p) => loader.source().list(p).ok()?,
        None => return None,
    };
    let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    let best = did_you_mean(name, names.iter().copied())?;
    Some(match &parent {
        Some(p) => format!("{p}/{best}"),
        None => best.to_owned(),
    })
}
