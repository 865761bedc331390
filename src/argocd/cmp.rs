//! The Config Management Plugin side of Argo CD: what one `stencil argocd generate` renders,
//! read from the environment Argo CD's cmp-server gives the command (the app's source path,
//! `ARGOCD_ENV_*` variables, plugin parameters), which must all agree; and the cluster's
//! Kubernetes version, which must be one stencil renders for.

use tracing::warn;

use super::AppsMode;
use super::manifests::{ENV_APPS, ENV_SERVICE, ENV_TENANT};
use std::path::Path;

use crate::error::{Diagnostic, Error, Result, did_you_mean};
use crate::names::DnsLabel;

/// Parameter names announced in the plugin config.
const PARAMETERS: [&str; 3] = ["tenant", "service", "apps"];

/// What one generate renders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
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
pub(crate) struct CmpEnv {
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
    pub(crate) fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> CmpEnv {
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
    pub(crate) fn target(&self, rel: &Path) -> Result<Target> {
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

/// Kubernetes minor versions before 1.23 lack `autoscaling/v2`.
pub(crate) fn check_kube_version(version: &str) -> Result<()> {
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
