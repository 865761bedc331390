//! The Applications stencil manages, one per tenant workspace and one per tenant x service,
//! with the repository paths that feed each (its `manifest-generate-paths`).

use std::collections::HashMap;

use tracing::warn;

use crate::argocd::{self, App, ROOT_INPUTS};
use crate::cli::AppsMode;
use crate::error::{Diagnostic, Error, Result};
use crate::load::{Loader, Repo};
use crate::object::Object;
use crate::resolve;
use crate::source::{EntryKind, RepoPath};

/// Application names double as the `app.kubernetes.io/instance` label value in Argo CD's
/// label tracking, which is limited to 63 characters.
const MAX_APP_NAME: usize = 63;

/// Every Application, tenants by name, each tenant's workspace before its services.
pub(super) fn list(loader: &Loader<'_>, repo: &Repo) -> Result<Vec<App>> {
    let mut apps = Vec::new();
    let chains = resolve::ChainCache::default();
    for tenant in &repo.tenants {
        let Some(environment) = repo.settings.environments.get(&tenant.spec.environment) else {
            // load_repo refuses tenants of unknown environments.
            return Err(Diagnostic::new(format!(
                "unknown environment `{}`",
                tenant.spec.environment
            ))
            .into());
        };
        let t = tenant.name.as_str();
        let app = |service: Option<&str>, path: String, inputs: Vec<String>| App {
            name: match service {
                Some(s) => format!("{t}-{s}"),
                None => format!("{t}-workspace"),
            },
            tenant: t.to_owned(),
            service: service.map(str::to_owned),
            environment: tenant.spec.environment.clone(),
            cluster: environment.cluster.clone(),
            namespace: tenant.namespace.to_string(),
            path,
            inputs,
        };
        apps.push(app(
            None,
            format!("tenants/{t}"),
            vec!["stencil.yaml".into(), format!("tenants/{t}/tenant.yaml")],
        ));
        let mut services: Vec<&str> = tenant.spec.services.iter().map(String::as_str).collect();
        services.sort_unstable();
        for service in services {
            let inputs = match resolve::inputs(loader, &chains, tenant, service) {
                Ok(paths) => paths.iter().map(|p| p.as_str().to_owned()).collect(),
                Err(err) => {
                    // The app still exists (leaving it out would make Argo CD prune it); its
                    // own render reports the problem. Until then, any change refreshes it.
                    warn!(
                        tenant = t,
                        service, "cannot resolve: refreshing on any change\n{err}"
                    );
                    ROOT_INPUTS.iter().map(|p| (*p).to_owned()).collect()
                }
            };
            // Argo CD needs the source path to exist; a tenant may run a service as is,
            // without a folder of its own.
            let dir =
                RepoPath::parse(&format!("tenants/{t}/{service}")).map_err(Diagnostic::new)?;
            let path = if loader.source().kind(&dir)? == Some(EntryKind::Dir) {
                dir.to_string()
            } else {
                format!("tenants/{t}")
            };
            apps.push(app(Some(service), path, inputs));
        }
    }
    check_names(&apps)?;
    Ok(apps)
}

fn check_names(apps: &[App]) -> Result<()> {
    let mut problems = Vec::new();
    let mut seen: HashMap<&str, &App> = HashMap::new();
    let what = |app: &App| match &app.service {
        Some(s) => format!("tenant `{}` service `{s}`", app.tenant),
        None => format!("the workspace of tenant `{}`", app.tenant),
    };
    for app in apps {
        if app.name.len() > MAX_APP_NAME {
            problems.push(Error::from(
                Diagnostic::new(format!(
                    "the Application name `{}` of {} is {} characters long; Argo CD allows {MAX_APP_NAME}",
                    app.name,
                    what(app),
                    app.name.len()
                ))
                .hint("shorten the tenant or service name"),
            ));
        }
        if let Some(first) = seen.insert(app.name.as_str(), app) {
            problems.push(Error::from(
                Diagnostic::new(format!(
                    "{} and {} would both be the Application `{}`",
                    what(first),
                    what(app),
                    app.name
                ))
                .hint("Applications are named <tenant>-<service> and <tenant>-workspace; rename a tenant or service"),
            ));
        }
    }
    Error::unless(problems, ())
}

/// The output of `stencil argocd apps --mode <mode>`: per tenant its AppProject, then either
/// the Applications or (after all AppProjects) one ApplicationSet.
pub(super) fn objects(loader: &Loader<'_>, repo: &Repo, mode: AppsMode) -> Result<Vec<Object>> {
    let apps = list(loader, repo)?;
    let settings = &repo.settings;
    let mut objects = Vec::new();
    // Each tenant's workspace comes first among its apps: its AppProject goes before it.
    for app in &apps {
        if app.service.is_none() {
            let team = repo
                .tenant(&app.tenant)
                .and_then(|t| t.spec.team.as_deref());
            objects.push(argocd::app_project(settings, app, team)?);
        }
        if mode == AppsMode::Applications {
            objects.push(argocd::application(settings, app)?);
        }
    }
    if mode == AppsMode::Applicationset {
        objects.push(argocd::application_set(settings, &apps)?);
    }
    if objects.is_empty() {
        return Err(
            Diagnostic::new("the repository has no tenants: no Applications to write")
                .hint("add a tenant under tenants/")
                .into(),
        );
    }
    Ok(objects)
}
