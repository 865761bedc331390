//! `stencil argocd generate`: the Config Management Plugin's generate command.
//!
//! Argo CD's cmp-server unpacks the repository (with or without `.git`, file modes reset)
//! into a fresh directory per request and runs this in the Application's source folder with
//! the build environment (`ARGOCD_APP_*`, `KUBE_VERSION`) and the Application's plugin env
//! (prefixed `ARGOCD_ENV_`). Its stdout must be the whole manifest stream or nothing: an empty
//! successful output makes Argo CD prune the tenant's workloads. So everything is rendered in
//! memory and written at once, and every problem is an error with a non-zero exit. Nothing
//! is written to disk and nothing from the repository is executed, so any number may run at
//! once on one sidecar. Only the one tenant is read: another tenant's broken file never
//! blocks this tenant's deploys.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tracing::info;

use super::super::{Outcome, find_root, write_stdout};
use crate::argocd::cmp::{CmpEnv, Target, check_kube_version};
use crate::cli::Global;
use crate::emit;
use crate::error::{Diagnostic, Error, Result};
use crate::load::{Loader, load_one_tenant, load_repo};
use crate::pipeline::{Renderer, Selection};
use crate::secrets::Keys;
use crate::source::Worktree;

/// The repository root: `--repo`; else, when Argo CD names the source path, the folder that
/// many levels up (it must hold `stencil.yaml`); else the nearest folder upwards with one.
fn repo_root(global: &Global, cwd: &Path, source_path: Option<&str>) -> Result<PathBuf> {
    let Some(source_path) = source_path.filter(|_| global.repo.is_none()) else {
        return find_root(global.repo.as_deref());
    };
    let depth = Path::new(source_path)
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .count();
    let root = cwd.ancestors().nth(depth).ok_or_else(|| {
        Diagnostic::new(format!(
            "ARGOCD_APP_SOURCE_PATH `{source_path}` is deeper than the current directory {}",
            cwd.display()
        ))
    })?;
    if !root.join("stencil.yaml").is_file() {
        return Err(Diagnostic::new(format!(
            "no stencil.yaml at the repository root {} (ARGOCD_APP_SOURCE_PATH `{source_path}`)",
            root.display()
        ))
        .hint("stencil.yaml must be at the root of the repository the Application points at; if Argo CD sends only manifest-generate-paths, they must include /stencil.yaml")
        .into());
    }
    Ok(root.to_path_buf())
}

pub(super) fn run(global: &Global, keys: &Keys) -> Outcome {
    let env = CmpEnv::from_vars(std::env::vars());
    let cwd =
        std::env::current_dir().map_err(|e| Error::io("cannot read the current directory", &e))?;
    let root = repo_root(global, &cwd, env.source_path.as_deref())?;
    let source = Worktree::open(&root)?;
    // The app is the path Argo CD names, not where the kernel says we are: in a symlinked
    // app folder the current directory is the folder it points to, maybe another tenant's.
    let rel: PathBuf = match env.source_path.as_deref().filter(|_| global.repo.is_none()) {
        Some(path) => Path::new(path)
            .components()
            .filter(|c| !matches!(c, std::path::Component::CurDir))
            .collect(),
        None => {
            let cwd = cwd.canonicalize().unwrap_or(cwd);
            cwd.strip_prefix(source.root())
                .unwrap_or(Path::new(""))
                .to_path_buf()
        }
    };
    let target = env.target(&rel)?;
    info!(
        app = env.app_name.as_deref().unwrap_or("-"),
        revision = env.revision.as_deref().unwrap_or("-"),
        ?target,
        "generate"
    );
    if let Some(version) = &env.kube_version {
        check_kube_version(version)?;
    }
    let loader = Loader::new(&source);
    let objects = match &target {
        Target::Apps(mode) => {
            let repo = load_repo(&loader)?;
            let argocd = &repo.settings.argocd.namespace;
            if let Some(namespace) = env.app_namespace.as_ref().filter(|ns| *ns != argocd) {
                return Err(Diagnostic::new(format!(
                    "the Application's destination namespace is `{namespace}` (ARGOCD_APP_NAMESPACE) but the Applications live in `{argocd}`"
                ))
                .hint("point the root Application's spec.destination.namespace at argocd.namespace of stencil.yaml")
                .into());
            }
            super::apps::objects(&loader, &repo, *mode)?
        }
        Target::App { tenant, service } => {
            let repo = load_one_tenant(&loader, tenant)?;
            let Some(loaded) = repo.tenants.first() else {
                return Err(Diagnostic::new(format!("no tenant `{tenant}`")).into());
            };
            let selection = match service {
                Some(service) => {
                    loaded.check_runs(service)?;
                    Selection::new(
                        &[globset::escape(tenant)],
                        &[globset::escape(service)],
                        None,
                    )?
                }
                None => Selection::new(&[globset::escape(tenant)], &[], None)?.workspace_only(),
            };
            if let Some(namespace) = &env.app_namespace
                && namespace != loaded.namespace.as_str()
            {
                // Argo CD would apply the objects' own namespace, but the Application (and
                // its AppProject) must be the one meant for this tenant's namespace.
                let at = loaded
                    .node
                    .get("namespace")
                    .map_or_else(|| loaded.node.origin.clone(), |n| n.origin.clone());
                return Err(Diagnostic::new(format!(
                    "the Application's destination namespace is `{namespace}` (ARGOCD_APP_NAMESPACE) but tenant `{tenant}` renders into `{}`",
                    loaded.namespace
                ))
                .at(&at)
                .hint("point the Application's spec.destination.namespace at the tenant's namespace (`stencil argocd apps` writes it so)")
                .into());
            }
            Renderer::new(&loader, &repo, keys)?.render(&selection)?
        }
    };
    if objects.is_empty() {
        // Never hand Argo CD an empty success: it would prune everything the app owns.
        return Err(Diagnostic::new(
            "the render produced no objects; refusing to print an empty manifest stream",
        )
        .into());
    }
    info!(objects = objects.len(), "rendered");
    write_stdout(&emit::stream(&objects, emit::Format::Yaml)?)?;
    Ok(ExitCode::SUCCESS)
}
