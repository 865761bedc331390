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

use tracing::{info, warn};

use super::super::{Outcome, find_root, write_stdout};
use crate::build::argocd::{ENV_APPS, ENV_SERVICE, ENV_TENANT};
use crate::cli::{AppsMode, Global};
use crate::emit;
use crate::error::{Diagnostic, Error, Result, did_you_mean};
use crate::load::{Loader, load_one_tenant, load_repo};
use crate::names::DnsLabel;
use crate::pipeline::{Renderer, Selection};
use crate::secrets::Keys;
use crate::source::Worktree;

/// Parameter names announced in the plugin config.
const PARAMETERS: [&str; 3] = ["tenant", "service", "apps"];

/// What one generate renders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Target {
    /// A tenant's workspace (`service: None`) or one tenant x service.
    App {
        tenant: String,
        service: Option<String>,
    },
    /// The Applications themselves (the root app of apps).
    Apps(AppsMode),
}

/// The environment Argo CD's cmp-server gives the command.
#[derive(Debug, Default)]
pub(super) struct CmpEnv {
    pub app_name: Option<String>,
    pub app_namespace: Option<String>,
    pub source_path: Option<String>,
    pub revision: Option<String>,
    pub kube_version: Option<String>,
    pub tenant: Option<String>,
    pub service: Option<String>,
    pub apps: Option<String>,
    pub parameters: Option<String>,
}

impl CmpEnv {
    /// Reads the variables; empty values count as unset (Argo CD drops empty plugin env).
    pub(super) fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> CmpEnv {
        let mut env = CmpEnv::default();
        for (key, value) in vars {
            if value.is_empty() {
                continue;
            }
            let slot = match key.as_str() {
                "ARGOCD_APP_NAME" => &mut env.app_name,
                "ARGOCD_APP_NAMESPACE" => &mut env.app_namespace,
                "ARGOCD_APP_SOURCE_PATH" => &mut env.source_path,
                "ARGOCD_APP_REVISION" => &mut env.revision,
                "KUBE_VERSION" => &mut env.kube_version,
                "ARGOCD_APP_PARAMETERS" => &mut env.parameters,
                other => match other.strip_prefix("ARGOCD_ENV_") {
                    Some(ENV_TENANT) => &mut env.tenant,
                    Some(ENV_SERVICE) => &mut env.service,
                    Some(ENV_APPS) => &mut env.apps,
                    _ => continue,
                },
            };
            *slot = Some(value);
        }
        env
    }

    /// The parameters set on the Application (`[{"name": ..., "string": ...}]`).
    fn parameters(&self) -> Result<Vec<(String, String)>> {
        let Some(text) = &self.parameters else {
            return Ok(Vec::new());
        };
        let bad = |msg: String| -> Error {
            Diagnostic::new(format!("ARGOCD_APP_PARAMETERS: {msg}"))
                .hint("set parameters in the Application as `plugin.parameters: [{name: tenant, string: <name>}]`")
                .into()
        };
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| bad(format!("not JSON: {e}")))?;
        let items = value
            .as_array()
            .ok_or_else(|| bad("expected a JSON array of parameters".into()))?;
        let mut out = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for item in items {
            let name = item
                .get("name")
                .and_then(|n| n.as_str())
                .ok_or_else(|| bad("a parameter has no name".into()))?;
            // Which of two entries wins is up to whoever reads them: refuse the ambiguity.
            if !seen.insert(name) {
                return Err(bad(format!(
                    "parameter `{}` is given more than once",
                    crate::error::clip(name, 64)
                )));
            }
            if !PARAMETERS.contains(&name) {
                let hint = match did_you_mean(name, PARAMETERS) {
                    Some(s) => format!(" (did you mean `{s}`?)"),
                    None => format!(" (stencil reads {})", PARAMETERS.join(", ")),
                };
                return Err(bad(format!("unknown parameter `{name}`{hint}")));
            }
            let value = item
                .get("string")
                .and_then(|v| v.as_str())
                .ok_or_else(|| bad(format!("parameter `{name}` must be a string")))?;
            if !value.is_empty() {
                out.push((name.to_owned(), value.to_owned()));
            }
        }
        Ok(out)
    }

    /// Works out what to render from the plugin env, the parameters and the source folder
    /// (`rel`, relative to the repository root). Sources that are given must agree.
    pub(super) fn target(&self, rel: &Path) -> Result<Target> {
        let parameters = self.parameters()?;
        let param = |name: &str| {
            parameters
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let (path_tenant, path_service) = match parts.as_slice() {
            [t, tenant] if t == "tenants" => (Some(tenant.clone()), None),
            [t, tenant, service, ..] if t == "tenants" => {
                (Some(tenant.clone()), Some(service.clone()))
            }
            _ => (None, None),
        };
        let apps = agree(
            "apps",
            [
                (format!("ARGOCD_ENV_{ENV_APPS}"), self.apps.clone()),
                ("parameter `apps`".into(), param("apps")),
            ],
        )?;
        let env_tenant = (format!("ARGOCD_ENV_{ENV_TENANT}"), self.tenant.clone());
        let env_service = (format!("ARGOCD_ENV_{ENV_SERVICE}"), self.service.clone());
        if let Some(mode) = apps {
            if self.tenant.is_some() || self.service.is_some() || param("tenant").is_some() {
                return Err(Diagnostic::new(
                    "APPS renders the Applications of every tenant; it cannot be combined with TENANT or SERVICE",
                )
                .hint("the root Application sets only APPS; tenant Applications set TENANT and SERVICE")
                .into());
            }
            return match mode.as_str() {
                "applications" => Ok(Target::Apps(AppsMode::Applications)),
                "applicationset" => Ok(Target::Apps(AppsMode::Applicationset)),
                other => Err(Diagnostic::new(format!("unknown APPS mode `{other}`"))
                    .hint("use `applications` or `applicationset`")
                    .into()),
            };
        }
        let at_path = || {
            format!(
                "the source path {}",
                if parts.is_empty() {
                    ".".into()
                } else {
                    parts.join("/")
                }
            )
        };
        let tenant = agree(
            "tenant",
            [
                env_tenant,
                ("parameter `tenant`".into(), param("tenant")),
                (at_path(), path_tenant),
            ],
        )?;
        let service = agree(
            "service",
            [
                env_service,
                ("parameter `service`".into(), param("service")),
                (at_path(), path_service),
            ],
        )?;
        let Some(tenant) = tenant else {
            return Err(Diagnostic::new(format!(
                "no tenant to render: ARGOCD_ENV_{ENV_TENANT} is not set and {} is not under tenants/<tenant>",
                at_path()
            ))
            .hint("set `plugin.env: [{name: TENANT, value: <tenant>}, {name: SERVICE, value: <service>}]` in the Application, or point its path at tenants/<tenant>/<service>")
            .into());
        };
        DnsLabel::parse(&tenant)
            .map_err(|m| Diagnostic::new(format!("invalid tenant name `{tenant}`: {m}")))?;
        if let Some(service) = &service {
            DnsLabel::parse(service)
                .map_err(|m| Diagnostic::new(format!("invalid service name `{service}`: {m}")))?;
        }
        Ok(Target::App { tenant, service })
    }
}

/// The one value the given sources agree on, or an error naming the two that differ.
fn agree<const N: usize>(
    what: &str,
    sources: [(String, Option<String>); N],
) -> Result<Option<String>> {
    let mut chosen: Option<(String, String)> = None;
    for (from, value) in sources {
        let Some(value) = value else { continue };
        match &chosen {
            None => chosen = Some((from, value)),
            Some((first_from, first)) if *first != value => {
                return Err(Diagnostic::new(format!(
                    "the {what} is `{first}` from {first_from} but `{value}` from {from}"
                ))
                .hint("make the Application's plugin env, parameters and source path name the same tenant and service")
                .into());
            }
            Some(_) => {}
        }
    }
    Ok(chosen.map(|(_, v)| v))
}

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

/// Kubernetes minor versions before 1.23 lack `autoscaling/v2`.
fn check_kube_version(version: &str) -> Result<()> {
    let text = version.trim_start_matches('v');
    let mut parts = text.split('.');
    let major = parts.next().and_then(|p| p.parse::<u32>().ok());
    let minor = parts.next().map(|p| {
        p.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
    });
    match (major, minor.and_then(|m| m.parse::<u32>().ok())) {
        (Some(1), Some(minor)) if minor < 23 => Err(Diagnostic::new(format!(
            "the destination cluster runs Kubernetes {version}; stencil renders autoscaling/v2 and policy/v1, which need 1.23 or later"
        ))
        .hint("upgrade the cluster, or deploy to a newer one")
        .into()),
        (Some(_), Some(_)) => Ok(()),
        _ => {
            warn!(kube_version = version, "cannot read KUBE_VERSION; not checked");
            Ok(())
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> CmpEnv {
        CmpEnv::from_vars(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())))
    }

    fn app(tenant: &str, service: Option<&str>) -> Target {
        Target::App {
            tenant: tenant.into(),
            service: service.map(Into::into),
        }
    }

    #[test]
    fn target_from_path() {
        let e = env(&[]);
        assert_eq!(
            e.target(Path::new("tenants/momcorp/apiserver")).unwrap(),
            app("momcorp", Some("apiserver"))
        );
        assert_eq!(
            e.target(Path::new("tenants/momcorp")).unwrap(),
            app("momcorp", None)
        );
        let err = e
            .target(Path::new("base/apiserver"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no tenant to render"), "{err}");
    }

    #[test]
    fn target_from_env_and_parameters() {
        let e = env(&[
            ("ARGOCD_ENV_TENANT", "momcorp"),
            ("ARGOCD_ENV_SERVICE", "auth"),
        ]);
        assert_eq!(
            e.target(Path::new("")).unwrap(),
            app("momcorp", Some("auth"))
        );
        let e = env(&[(
            "ARGOCD_APP_PARAMETERS",
            r#"[{"name":"tenant","string":"slurm"},{"name":"service","string":"frontend"}]"#,
        )]);
        assert_eq!(
            e.target(Path::new("")).unwrap(),
            app("slurm", Some("frontend"))
        );
        // Empty values are unset, as Argo CD drops them.
        let e = env(&[("ARGOCD_ENV_TENANT", "slurm"), ("ARGOCD_ENV_SERVICE", "")]);
        assert_eq!(
            e.target(Path::new("tenants/slurm")).unwrap(),
            app("slurm", None)
        );
    }

    #[test]
    fn sources_must_agree() {
        let e = env(&[("ARGOCD_ENV_TENANT", "momcorp")]);
        let err = e
            .target(Path::new("tenants/slurm/auth"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`momcorp` from ARGOCD_ENV_TENANT but `slurm` from the source path tenants/slurm/auth"),
            "{err}"
        );
    }

    #[test]
    fn apps_mode() {
        let e = env(&[("ARGOCD_ENV_APPS", "applicationset")]);
        assert_eq!(
            e.target(Path::new("")).unwrap(),
            Target::Apps(AppsMode::Applicationset)
        );
        let e = env(&[("ARGOCD_ENV_APPS", "all"), ("ARGOCD_ENV_TENANT", "x")]);
        assert!(e.target(Path::new("")).is_err());
        let e = env(&[("ARGOCD_ENV_APPS", "everything")]);
        let err = e.target(Path::new("")).unwrap_err().to_string();
        assert!(err.contains("unknown APPS mode `everything`"), "{err}");
    }

    #[test]
    fn bad_parameters() {
        for (json, needle) in [
            ("{", "not JSON"),
            (r#"{"name":"tenant"}"#, "expected a JSON array"),
            (
                r#"[{"name":"tennant","string":"x"}]"#,
                "did you mean `tenant`",
            ),
            (r#"[{"name":"tenant","array":["x"]}]"#, "must be a string"),
            (
                r#"[{"name":"tenant","string":"a"},{"name":"tenant","string":"b"}]"#,
                "parameter `tenant` is given more than once",
            ),
            (
                r#"[{"name":"tenant","string":"a"},{"name":"tenant","string":""}]"#,
                "parameter `tenant` is given more than once",
            ),
        ] {
            let e = env(&[("ARGOCD_APP_PARAMETERS", json)]);
            let err = e.target(Path::new("")).unwrap_err().to_string();
            assert!(err.contains(needle), "{json}: {err}");
        }
    }

    #[test]
    fn names_are_checked() {
        let e = env(&[("ARGOCD_ENV_TENANT", "Tenant_One")]);
        let err = e.target(Path::new("")).unwrap_err().to_string();
        assert!(err.contains("invalid tenant name `Tenant_One`"), "{err}");
        let e = env(&[("ARGOCD_ENV_TENANT", "a"), ("ARGOCD_ENV_SERVICE", "*")]);
        assert!(e.target(Path::new("")).is_err());
    }

    #[test]
    fn kube_versions() {
        assert!(check_kube_version("1.22").is_err());
        assert!(check_kube_version("v1.22.17+k3s1").is_err());
        assert!(check_kube_version("1.33.1").is_ok());
        assert!(check_kube_version("v1.30.0-eks-1").is_ok());
        assert!(check_kube_version("garbage").is_ok());
    }
}
