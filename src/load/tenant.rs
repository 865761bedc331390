//! Reading one tenant: `tenants/<name>/tenant.yaml`, checked field by field. Each check is a
//! small function that pushes its problems; every problem of the file is reported together,
//! in the order of the checks (name, environment, namespace, domain, labels, services,
//! folders), each at the line of the key it is about.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::{Loader, Role, Tenant, de, tenants_dir};
use crate::error::{Diagnostic, Error, Result, did_you_mean};
use crate::model::{RepoSettings, Rule, TenantSpec};
use crate::names::{self, DnsLabel};
use crate::node::Node;
use crate::origin::Origin;
use crate::source::{EntryKind, RepoPath};

/// A parsed `tenant.yaml` and where it lives: what every check reads.
struct TenantFile<'a> {
    /// The folder name under `tenants/`.
    name: &'a str,
    dir: &'a RepoPath,
    path: &'a RepoPath,
    node: &'a Node,
    spec: &'a TenantSpec,
}

impl TenantFile<'_> {
    /// Where `key` is written, or the file's start when it is not.
    fn at(&self, key: &str) -> Origin {
        self.node
            .get(key)
            .map_or_else(|| self.node.origin.clone(), |n| n.origin.clone())
    }
}

/// Reads and checks `tenants/<name>/tenant.yaml`; with `services`, also that every service it
/// names exists under `base/`.
pub(super) fn load_tenant(
    loader: &Loader<'_>,
    name: &str,
    settings: &RepoSettings,
    services: Option<&BTreeSet<String>>,
) -> Result<Tenant> {
    let dir = tenants_dir()?.join(name);
    let path = dir.join("tenant.yaml");
    let node = read(loader, &dir, &path)?;
    let spec: TenantSpec =
        de::from_node(&node).map_err(|e| e.into_diagnostic(Role::Tenant.describe()))?;
    let file = TenantFile {
        name,
        dir: &dir,
        path: &path,
        node: &node,
        spec: &spec,
    };
    let mut problems: Vec<Error> = Vec::new();
    let tenant_name = check_name(&file, &mut problems);
    check_declared_name(&file, &mut problems);
    check_environment(&file, settings, &mut problems);
    let namespace = namespace(&file, tenant_name.as_ref(), &mut problems);
    if let Some(ns) = &namespace {
        check_reserved_namespace(&file, settings, ns, &mut problems);
    }
    check_domain(&file, settings, &mut problems);
    for (key, value) in &spec.labels {
        check_label(&file, key, value, &mut problems);
    }
    check_services(&file, services, &mut problems);
    check_service_folders(loader, &file, &mut problems)?;
    if let Some(err) = Error::collect(problems) {
        return Err(err);
    }
    match (tenant_name, namespace) {
        (Some(name), Some(namespace)) => Ok(Tenant {
            name,
            namespace,
            spec,
            node,
        }),
        // Both `None` cases pushed a problem above, so this branch is never taken.
        _ => Err(Diagnostic::new(format!("invalid tenant {name}")).into()),
    }
}

/// Loads `tenant.yaml` as a tenant; a tenant folder without one is an error.
fn read(loader: &Loader<'_>, dir: &RepoPath, path: &RepoPath) -> Result<Arc<Node>> {
    Ok(loader.load(path, Role::Tenant)?.ok_or_else(|| {
        Diagnostic::new(format!("{dir}/ has no tenant.yaml"))
            .hint("every folder under tenants/ is a tenant and needs a tenant.yaml (kind: Tenant)")
    })?)
}

/// The folder name is the tenant name: a DNS label.
fn check_name(file: &TenantFile<'_>, problems: &mut Vec<Error>) -> Option<DnsLabel> {
    match DnsLabel::parse(file.name) {
        Ok(n) => Some(n),
        Err(msg) => {
            problems.push(
                Diagnostic::new(format!("invalid tenant name: {msg}"))
                    .at(&file.node.origin)
                    .hint("the tenant folder name becomes a namespace and label value; rename the folder")
                    .into(),
            );
            None
        }
    }
}

/// A `name:` in the file, if any, is the folder's name.
fn check_declared_name(file: &TenantFile<'_>, problems: &mut Vec<Error>) {
    let name = file.name;
    if let Some(declared) = &file.spec.name
        && declared != name
    {
        problems.push(
            Diagnostic::new(format!(
                "tenant.yaml says `name: {declared}` but its folder is tenants/{name}"
            ))
            .at(&file.at("name"))
            .hint("the folder name is the tenant name; make them equal or remove `name:`")
            .into(),
        );
    }
}

/// The environment is one `stencil.yaml` defines.
fn check_environment(file: &TenantFile<'_>, settings: &RepoSettings, problems: &mut Vec<Error>) {
    let environment = &file.spec.environment;
    if settings.environments.contains_key(environment) {
        return;
    }
    let known: Vec<&str> = settings.environments.keys().map(String::as_str).collect();
    let hint = match did_you_mean(environment, known.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!("environments in stencil.yaml: {}", known.join(", ")),
    };
    problems.push(
        Diagnostic::new(format!("unknown environment `{environment}`"))
            .at(&file.at("environment"))
            .hint(hint)
            .into(),
    );
}

/// The tenant's namespace: `namespace:` when set (a DNS label), else the tenant name.
fn namespace(
    file: &TenantFile<'_>,
    tenant_name: Option<&DnsLabel>,
    problems: &mut Vec<Error>,
) -> Option<DnsLabel> {
    let Some(ns) = &file.spec.namespace else {
        return tenant_name.cloned();
    };
    match DnsLabel::parse(ns) {
        Ok(n) => Some(n),
        Err(msg) => {
            problems.push(
                Diagnostic::new(format!("invalid namespace: {msg}"))
                    .at(&file.at("namespace"))
                    .into(),
            );
            None
        }
    }
}

/// No tenant renders into a namespace the platform keeps (rule `reserved-namespace`).
fn check_reserved_namespace(
    file: &TenantFile<'_>,
    settings: &RepoSettings,
    ns: &DnsLabel,
    problems: &mut Vec<Error>,
) {
    let Some(why) = crate::model::reserved_namespace(settings, ns.as_str()) else {
        return;
    };
    problems.push(
        Diagnostic::new(format!("tenant `{}` would render into the reserved namespace `{ns}`: {why}", file.name))
            .at(&file.at("namespace"))
            .rule(Rule::ReservedNamespace.name())
            .hint("`default`, `kube-*`, the platform's own namespaces, every namespace stencil.yaml names and its reservedNamespaces belong to the platform; give the tenant a namespace of its own (`namespace:` in tenant.yaml)")
            .into(),
    );
}

/// The tenant's domain is one `tenancy.hosts` allows (rule `tenant-hosts`).
fn check_domain(file: &TenantFile<'_>, settings: &RepoSettings, problems: &mut Vec<Error>) {
    let Some(domain) = &file.spec.domain else {
        return;
    };
    if let Err(msg) = crate::model::check_tenant_domain(domain, settings) {
        problems.push(
            Diagnostic::new(msg)
                .at(&file.at("domain"))
                .rule(Rule::TenantHosts.name())
                .hint("a tenant's domain is its own: a subdomain such as <tenant>.<environment domain>; its hosts are those tenancy.hosts in stencil.yaml allows under it")
                .into(),
        );
    }
}

/// One tenant label: a valid key and value, and a key that is neither Kubernetes',
/// stencil's, Argo CD's nor Pod Security Admission's (they go on the tenant's Namespace).
fn check_label(file: &TenantFile<'_>, key: &str, value: &str, problems: &mut Vec<Error>) {
    let at = file
        .node
        .get("labels")
        .and_then(|l| l.get(key))
        .map_or_else(|| file.at("labels"), |n| n.origin.clone());
    if let Err(msg) =
        names::check_qualified_name(key).and_then(|()| names::check_label_value(key, value))
    {
        problems.push(Diagnostic::new(msg).at(&at).into());
    }
    if names::is_kubernetes_reserved(key) && !names::is_pod_security_label(key) {
        problems.push(
            Diagnostic::new(format!(
                "label `{}` has a prefix Kubernetes reserves for its own components; on the tenant's Namespace it can switch cluster behaviour on (resource.k8s.io/admin-access opens other tenants' devices)",
                crate::error::clip(key, 120)
            ))
            .at(&at)
            .rule(Rule::PlatformLabels.name())
            .hint("kubernetes.io/ and k8s.io/ prefixes (but app.kubernetes.io/) are the cluster's; use a prefix of your own")
            .into(),
        );
    }
    if names::is_platform_owned(key) {
        problems.push(
            Diagnostic::new(format!(
                "label `{}` is stencil's or Argo CD's: it says which tenant, service and Application an object belongs to",
                crate::error::clip(key, 120)
            ))
            .at(&at)
            .rule(Rule::PlatformLabels.name())
            .hint("tenant labels go on every object of the tenant, its Namespace included; use a prefix of your own")
            .into(),
        );
    }
    if names::is_pod_security_label(key) {
        problems.push(
            Diagnostic::new(format!(
                "label `{key}` is the platform's: it sets the namespace's Pod Security level"
            ))
            .at(&at)
            .rule(Rule::PodSecurityLabels.name())
            .hint("the platform labels every tenant Namespace pod-security.kubernetes.io/{enforce,audit,warn}: restricted; remove this label")
            .into(),
        );
    }
}

/// Each service is listed once and, with `services` (those under `base/`), exists.
fn check_services(
    file: &TenantFile<'_>,
    services: Option<&BTreeSet<String>>,
    problems: &mut Vec<Error>,
) {
    let items = file
        .node
        .get("services")
        .and_then(Node::as_seq)
        .unwrap_or(&[]);
    let mut seen = BTreeSet::new();
    for (i, service) in file.spec.services.iter().enumerate() {
        let origin = items
            .get(i)
            .map_or_else(|| file.at("services"), |n| n.origin.clone());
        if !seen.insert(service) {
            problems.push(
                Diagnostic::new(format!("service `{service}` is listed twice"))
                    .at(&origin)
                    .into(),
            );
        } else if let Some(services) = services
            && !services.contains(service)
        {
            problems.push(unknown_service(file.name, service, services, &origin));
        }
    }
}

/// A tenant names a service `base/` does not hold.
fn unknown_service(
    tenant: &str,
    service: &str,
    services: &BTreeSet<String>,
    origin: &Origin,
) -> Error {
    let hint = match did_you_mean(service, services.iter().map(String::as_str)) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!(
            "services under base/: {}",
            services
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    Diagnostic::new(format!(
        "tenant `{tenant}` names service `{service}`, which does not exist"
    ))
    .at(origin)
    .hint(hint)
    .into()
}

/// Every folder in the tenant's folder is one of its services: a folder for a service the
/// tenant does not run is a mistake waiting to happen.
fn check_service_folders(
    loader: &Loader<'_>,
    file: &TenantFile<'_>,
    problems: &mut Vec<Error>,
) -> Result<()> {
    let (dir, path) = (file.dir, file.path);
    for (entry, kind) in loader.source().list(dir)? {
        if kind == EntryKind::Dir && !entry.starts_with('.') && !file.spec.services.contains(&entry)
        {
            problems.push(
                Diagnostic::new(format!(
                    "{dir}/{entry}/ exists but `{entry}` is not in the tenant's services"
                ))
                .at(&file.at("services"))
                .hint(format!(
                    "add `{entry}` to services in {path}, or remove the folder"
                ))
                .into(),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Worktree;

    const STENCIL_YAML: &str = "\
kind: Stencil
name: plat
domain: example.com
environments:
  dev: { cluster: https://dev.example.com, domain: dev.example.com }
";

    /// Loads tenant `acme` from a repository of `files`; every problem as `message @ place`.
    fn problems(files: &[(&str, &str)]) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files.iter().chain(&[("stencil.yaml", STENCIL_YAML)]) {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let source = Worktree::open(dir.path()).unwrap();
        let loader = Loader::new(&source);
        let (settings, _) = super::super::load_settings(&loader).unwrap();
        let services = BTreeSet::from(["api".to_owned()]);
        match load_tenant(&loader, "acme", &settings, Some(&services)) {
            Ok(_) => Vec::new(),
            Err(err) => err
                .diagnostics()
                .iter()
                .map(|d| {
                    let at = d.origin.as_ref().map_or("-".into(), ToString::to_string);
                    format!("{} @ {at}", d.message)
                })
                .collect(),
        }
    }

    #[test]
    fn a_valid_tenant_loads() {
        let tenant = "kind: Tenant\nenvironment: dev\nservices: [api]\n";
        assert!(problems(&[("tenants/acme/tenant.yaml", tenant)]).is_empty());
    }

    #[test]
    fn every_problem_is_reported_in_check_order_at_its_key() {
        let tenant = "\
kind: Tenant
name: other
environment: staging
namespace: kube-system
services: [api, api, web]
labels:
  stencil.dev/tenant: x
";
        let found = problems(&[
            ("tenants/acme/tenant.yaml", tenant),
            ("tenants/acme/db/values.yaml", "{}\n"),
        ]);
        let file = "tenants/acme/tenant.yaml";
        let expected = [
            format!("tenant.yaml says `name: other` but its folder is tenants/acme @ {file}:2:1"),
            format!("unknown environment `staging` @ {file}:3:1"),
            "tenant `acme` would render into the reserved namespace `kube-system`: ".into(),
            format!(
                "label `stencil.dev/tenant` is stencil's or Argo CD's: it says which tenant, service and Application an object belongs to @ {file}:7:3"
            ),
            format!("service `api` is listed twice @ {file}:5:17"),
            format!("tenant `acme` names service `web`, which does not exist @ {file}:5:22"),
            format!(
                "tenants/acme/db/ exists but `db` is not in the tenant's services @ {file}:5:1"
            ),
        ];
        assert_eq!(found.len(), expected.len(), "{found:#?}");
        for (found, expected) in found.iter().zip(&expected) {
            assert!(
                found.starts_with(expected.as_str()),
                "{found}\nwanted {expected}"
            );
        }
        assert!(found[2].ends_with(&format!("@ {file}:4:1")), "{}", found[2]);
    }

    #[test]
    fn an_invalid_namespace_is_reported_at_its_key() {
        let tenant = "kind: Tenant\nenvironment: dev\nnamespace: Bad_NS\nservices: [api]\n";
        let found = problems(&[("tenants/acme/tenant.yaml", tenant)]);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0].starts_with("invalid namespace: ")
                && found[0].ends_with("@ tenants/acme/tenant.yaml:3:1"),
            "{}",
            found[0]
        );
    }
}
