//! The benchmark's peer layouts: the synthetic tenants written for kustomize and for Helm,
//! rendering the same object identities (apiVersion, kind, namespace, name) as stencil does
//! for the same tenants. One app per tenant workspace (its Namespace) and per tenant x service,
//! as Argo CD would run them.
//!
//! - `kustomize/`: `base/<svc>` (plain manifests, image tags in the `versions/<svc>`
//!   component: version.yaml's counterpart), `profiles/prod/<svc>` (overlay of the base),
//!   `tenants/<t>/<svc>` (overlay of the profile or base: namespace, labels, env and secret
//!   generators, JSON patches for what the base cannot know, such as hosts and SSM paths),
//!   `tenants/<t>/workspace`; `all/` aggregates every overlay; `apps.txt` lists the overlays.
//! - `helm/`: `chart/` (a universal chart), `environments/<env>.yaml`, `base/<svc>/values.yaml`
//!   and `version.yaml`, `prod/<svc>/values.yaml`, `tenants/<t>/<svc>/{values,env,secrets}.yaml`
//!   layered with `-f` like seed 003, `tenants/<t>/workspace.yaml`; `apps.txt` holds one
//!   `helm template` argument list per app.
//!
//! The peers get their secrets as plaintext (no sops/KSOPS/helm-secrets step), which favours
//! them: stencil decrypts every file.

use std::fmt::Write as _;
use std::path::Path;

use super::{Tenant, write};
use stencil::error::{Diagnostic, Error, Result};

/// The services the static peer files describe: the example repository's `base/`.
pub(super) const SERVICES: [&str; 3] = ["apiserver", "auth", "frontend"];

/// The static half of both layouts, from `bench/peers/`.
const STATIC_FILES: &[(&str, &str)] = &[
    (
        "helm/chart/Chart.yaml",
        include_str!("../../../bench/peers/helm/chart/Chart.yaml"),
    ),
    (
        "helm/chart/values.yaml",
        include_str!("../../../bench/peers/helm/chart/values.yaml"),
    ),
    (
        "helm/chart/templates/_helpers.tpl",
        include_str!("../../../bench/peers/helm/chart/templates/_helpers.tpl"),
    ),
    (
        "helm/chart/templates/configmap.yaml",
        include_str!("../../../bench/peers/helm/chart/templates/configmap.yaml"),
    ),
    (
        "helm/chart/templates/deployment.yaml",
        include_str!("../../../bench/peers/helm/chart/templates/deployment.yaml"),
    ),
    (
        "helm/chart/templates/externalsecret.yaml",
        include_str!("../../../bench/peers/helm/chart/templates/externalsecret.yaml"),
    ),
    (
        "helm/chart/templates/hpa.yaml",
        include_str!("../../../bench/peers/helm/chart/templates/hpa.yaml"),
    ),
    (
        "helm/chart/templates/ingress.yaml",
        include_str!("../../../bench/peers/helm/chart/templates/ingress.yaml"),
    ),
    (
        "helm/chart/templates/namespace.yaml",
        include_str!("../../../bench/peers/helm/chart/templates/namespace.yaml"),
    ),
    (
        "helm/chart/templates/pdb.yaml",
        include_str!("../../../bench/peers/helm/chart/templates/pdb.yaml"),
    ),
    (
        "helm/chart/templates/secret.yaml",
        include_str!("../../../bench/peers/helm/chart/templates/secret.yaml"),
    ),
    (
        "helm/chart/templates/service.yaml",
        include_str!("../../../bench/peers/helm/chart/templates/service.yaml"),
    ),
    (
        "helm/chart/templates/serviceaccount.yaml",
        include_str!("../../../bench/peers/helm/chart/templates/serviceaccount.yaml"),
    ),
    (
        "helm/environments/dev.yaml",
        include_str!("../../../bench/peers/helm/environments/dev.yaml"),
    ),
    (
        "helm/environments/prod.yaml",
        include_str!("../../../bench/peers/helm/environments/prod.yaml"),
    ),
    (
        "helm/base/apiserver/values.yaml",
        include_str!("../../../bench/peers/helm/base/apiserver/values.yaml"),
    ),
    (
        "helm/base/auth/values.yaml",
        include_str!("../../../bench/peers/helm/base/auth/values.yaml"),
    ),
    (
        "helm/base/frontend/values.yaml",
        include_str!("../../../bench/peers/helm/base/frontend/values.yaml"),
    ),
    (
        "helm/prod/apiserver/values.yaml",
        include_str!("../../../bench/peers/helm/prod/apiserver/values.yaml"),
    ),
    (
        "helm/prod/auth/values.yaml",
        include_str!("../../../bench/peers/helm/prod/auth/values.yaml"),
    ),
    (
        "helm/prod/frontend/values.yaml",
        include_str!("../../../bench/peers/helm/prod/frontend/values.yaml"),
    ),
    (
        "kustomize/base/apiserver/kustomization.yaml",
        include_str!("../../../bench/peers/kustomize/base/apiserver/kustomization.yaml"),
    ),
    (
        "kustomize/base/apiserver/deployment.yaml",
        include_str!("../../../bench/peers/kustomize/base/apiserver/deployment.yaml"),
    ),
    (
        "kustomize/base/apiserver/externalsecrets.yaml",
        include_str!("../../../bench/peers/kustomize/base/apiserver/externalsecrets.yaml"),
    ),
    (
        "kustomize/base/apiserver/hpa.yaml",
        include_str!("../../../bench/peers/kustomize/base/apiserver/hpa.yaml"),
    ),
    (
        "kustomize/base/apiserver/ingress.yaml",
        include_str!("../../../bench/peers/kustomize/base/apiserver/ingress.yaml"),
    ),
    (
        "kustomize/base/apiserver/pdb.yaml",
        include_str!("../../../bench/peers/kustomize/base/apiserver/pdb.yaml"),
    ),
    (
        "kustomize/base/apiserver/service.yaml",
        include_str!("../../../bench/peers/kustomize/base/apiserver/service.yaml"),
    ),
    (
        "kustomize/base/apiserver/serviceaccount.yaml",
        include_str!("../../../bench/peers/kustomize/base/apiserver/serviceaccount.yaml"),
    ),
    (
        "kustomize/base/auth/kustomization.yaml",
        include_str!("../../../bench/peers/kustomize/base/auth/kustomization.yaml"),
    ),
    (
        "kustomize/base/auth/deployment.yaml",
        include_str!("../../../bench/peers/kustomize/base/auth/deployment.yaml"),
    ),
    (
        "kustomize/base/auth/ingress.yaml",
        include_str!("../../../bench/peers/kustomize/base/auth/ingress.yaml"),
    ),
    (
        "kustomize/base/auth/pdb.yaml",
        include_str!("../../../bench/peers/kustomize/base/auth/pdb.yaml"),
    ),
    (
        "kustomize/base/auth/service.yaml",
        include_str!("../../../bench/peers/kustomize/base/auth/service.yaml"),
    ),
    (
        "kustomize/base/auth/serviceaccount.yaml",
        include_str!("../../../bench/peers/kustomize/base/auth/serviceaccount.yaml"),
    ),
    (
        "kustomize/base/frontend/kustomization.yaml",
        include_str!("../../../bench/peers/kustomize/base/frontend/kustomization.yaml"),
    ),
    (
        "kustomize/base/frontend/deployment.yaml",
        include_str!("../../../bench/peers/kustomize/base/frontend/deployment.yaml"),
    ),
    (
        "kustomize/base/frontend/ingress.yaml",
        include_str!("../../../bench/peers/kustomize/base/frontend/ingress.yaml"),
    ),
    (
        "kustomize/base/frontend/pdb.yaml",
        include_str!("../../../bench/peers/kustomize/base/frontend/pdb.yaml"),
    ),
    (
        "kustomize/base/frontend/service.yaml",
        include_str!("../../../bench/peers/kustomize/base/frontend/service.yaml"),
    ),
    (
        "kustomize/base/frontend/serviceaccount.yaml",
        include_str!("../../../bench/peers/kustomize/base/frontend/serviceaccount.yaml"),
    ),
    (
        "kustomize/profiles/prod/apiserver/kustomization.yaml",
        include_str!("../../../bench/peers/kustomize/profiles/prod/apiserver/kustomization.yaml"),
    ),
    (
        "kustomize/profiles/prod/auth/kustomization.yaml",
        include_str!("../../../bench/peers/kustomize/profiles/prod/auth/kustomization.yaml"),
    ),
    (
        "kustomize/profiles/prod/frontend/kustomization.yaml",
        include_str!("../../../bench/peers/kustomize/profiles/prod/frontend/kustomization.yaml"),
    ),
];

/// A service's image versions, read from the stencil repository's `base/<svc>/version.yaml`
/// so the peers deploy what stencil deploys.
struct Version {
    tag: String,
    digest: Option<String>,
    sidecars: Vec<(String, String)>,
}

fn read_version(root: &Path, service: &str) -> Result<Version> {
    let path = root.join(format!("base/{service}/version.yaml"));
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::io(format_args!("cannot read {}", path.display()), &e))?;
    let doc = super::read_yaml(&path.display().to_string(), text)?.to_json();
    let text_at =
        |v: &serde_json::Value, key: &str| v.get(key).and_then(|x| x.as_str()).map(str::to_owned);
    let image = doc.get("image").cloned().unwrap_or_default();
    let tag = text_at(&image, "tag").ok_or_else(|| {
        Diagnostic::new(format!("{}: no image.tag for the peers", path.display()))
    })?;
    let sidecars = doc
        .get("sidecars")
        .and_then(|s| s.as_array())
        .map(|list| {
            list.iter()
                .filter_map(|s| {
                    let name = text_at(s, "name")?;
                    let tag = text_at(s.get("image")?, "tag")?;
                    Some((name, tag))
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Version {
        digest: text_at(&image, "digest"),
        tag,
        sidecars,
    })
}

/// The variables stencil's base templates per tenant, which a kustomize base cannot: each
/// overlay spells them out.
fn templated_env(service: &str, tenant: &Tenant) -> Vec<(&'static str, String)> {
    match service {
        "apiserver" => vec![
            (
                "AUTH_URL",
                format!("http://auth.{}.svc.cluster.local:9000", tenant.namespace),
            ),
            ("TENANT", tenant.name.clone()),
            ("ENVIRONMENT", tenant.environment.to_owned()),
        ],
        "auth" => vec![("ISSUER", format!("https://auth.{}", tenant.domain))],
        "frontend" => vec![
            ("API_URL", format!("https://api.{}", tenant.domain)),
            ("AUTH_URL", format!("https://auth.{}", tenant.domain)),
        ],
        _ => Vec::new(),
    }
}

fn host(service: &str, tenant: &Tenant) -> String {
    match service {
        "apiserver" => format!("api.{}", tenant.domain),
        "auth" => format!("auth.{}", tenant.domain),
        _ => tenant.domain.clone(),
    }
}

pub(super) fn write_all(dir: &Path, root: &Path, tenants: &[Tenant]) -> Result<()> {
    for (path, text) in STATIC_FILES {
        write(&dir.join(path), text)?;
    }
    let mut versions = Vec::new();
    for service in SERVICES {
        let version = read_version(root, service)?;
        write_versions(dir, service, &version)?;
        versions.push(version);
    }
    let mut kustomize_apps = String::new();
    let mut helm_apps = String::new();
    for tenant in tenants {
        write_kustomize_tenant(dir, tenant)?;
        write_helm_tenant(dir, tenant)?;
        let _ = writeln!(kustomize_apps, "tenants/{}/workspace", tenant.name);
        let _ = writeln!(
            helm_apps,
            "{0}-workspace chart --namespace {1} -f tenants/{0}/workspace.yaml",
            tenant.name, tenant.namespace
        );
        for app in &tenant.apps {
            let (t, s, e) = (&tenant.name, &app.service, tenant.environment);
            let _ = writeln!(kustomize_apps, "tenants/{t}/{s}");
            let profile = if e == "prod" {
                format!(" -f prod/{s}/values.yaml")
            } else {
                String::new()
            };
            let _ = writeln!(
                helm_apps,
                "{t}-{s} chart --namespace {ns} -f environments/{e}.yaml -f base/{s}/values.yaml{profile} -f tenants/{t}/{s}/values.yaml -f tenants/{t}/{s}/env.yaml -f base/{s}/version.yaml -f tenants/{t}/{s}/secrets.yaml",
                ns = tenant.namespace
            );
        }
    }
    let mut all = String::from(
        "# Every overlay in one build: one `kubectl kustomize all` renders the whole repository.\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n",
    );
    for line in kustomize_apps.lines() {
        let _ = writeln!(all, "  - ../{line}");
    }
    write(&dir.join("kustomize/all/kustomization.yaml"), &all)?;
    write(&dir.join("kustomize/apps.txt"), &kustomize_apps)?;
    write(&dir.join("helm/apps.txt"), &helm_apps)?;
    Ok(())
}

fn write_versions(dir: &Path, service: &str, version: &Version) -> Result<()> {
    // kustomize: a component holding the `images:` of the service (and its sidecars).
    let registry = "012345678901.dkr.ecr.us-east-1.amazonaws.com";
    let mut k = format!(
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nimages:\n  - name: {service}\n    newName: {registry}/{service}\n    newTag: \"{}\"\n",
        version.tag
    );
    if let Some(digest) = &version.digest {
        let _ = writeln!(k, "    digest: {digest}");
    }
    // helm: version.yaml, layered after the values.
    let mut h = format!("image:\n  tag: \"{}\"\n", version.tag);
    if let Some(digest) = &version.digest {
        let _ = writeln!(h, "  digest: {digest}");
    }
    if !version.sidecars.is_empty() {
        h.push_str("sidecarTags:\n");
    }
    for (name, tag) in &version.sidecars {
        // The sidecars' images are named after their repository in the kustomize base.
        let image = match name.as_str() {
            "copilotkit-runtime" => "copilotkit-sidecar",
            other => other,
        };
        let _ = write!(
            k,
            "  - name: {image}\n    newName: {registry}/{image}\n    newTag: \"{tag}\"\n"
        );
        let _ = writeln!(h, "  {name}: \"{tag}\"");
    }
    write(
        &dir.join(format!("kustomize/versions/{service}/kustomization.yaml")),
        &k,
    )?;
    write(&dir.join(format!("helm/base/{service}/version.yaml")), &h)
}

fn write_kustomize_tenant(dir: &Path, tenant: &Tenant) -> Result<()> {
    let base = dir.join(format!("kustomize/tenants/{}", tenant.name));
    write(
        &base.join("workspace/kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - namespace.yaml\n  - network-policies.yaml\n",
    )?;
    write(
        &base.join("workspace/network-policies.yaml"),
        &format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: default-deny-ingress\n  namespace: {ns}\nspec:\n  podSelector: {{}}\n  policyTypes: [Ingress]\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: allow-ingress\n  namespace: {ns}\nspec:\n  podSelector: {{}}\n  policyTypes: [Ingress]\n  ingress:\n    - from:\n        - podSelector: {{}}\n",
            ns = tenant.namespace
        ),
    )?;
    write(
        &base.join("workspace/namespace.yaml"),
        &format!(
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {}\n  labels:\n    pod-security.kubernetes.io/enforce: restricted\n    pod-security.kubernetes.io/audit: restricted\n    pod-security.kubernetes.io/warn: restricted\n    tenant: {}\n    environment: {}\n    example.com/cost-center: {}\n  annotations:\n    argocd.argoproj.io/sync-options: Prune=false,Delete=false\n",
            tenant.namespace, tenant.name, tenant.environment, tenant.cost_center
        ),
    )?;
    for app in &tenant.apps {
        let s = &app.service;
        let parent = if tenant.environment == "prod" {
            format!("../../../profiles/prod/{s}")
        } else {
            format!("../../../base/{s}")
        };
        let mut k = format!(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: {ns}\nresources:\n  - {parent}\nlabels:\n  - pairs:\n      app.kubernetes.io/instance: {t}-{s}\n    includeSelectors: true\n  - pairs:\n      tenant: {t}\n      environment: {e}\n      example.com/cost-center: {cc}\n      example.com/team: {team}\n    includeTemplates: true\nconfigMapGenerator:\n  - name: {s}-env\n    behavior: merge\n    envs: [env.env]\nsecretGenerator:\n  - name: {s}-secrets\n    type: Opaque\n    envs: [secrets.env]\ngeneratorOptions:\n  disableNameSuffixHash: true\npatches:\n  - target: {{ kind: Ingress, name: {s} }}\n    patch: |-\n      - {{ op: replace, path: /spec/rules/0/host, value: {host} }}\n",
            ns = tenant.namespace,
            t = tenant.name,
            e = tenant.environment,
            cc = tenant.cost_center,
            team = tenant.team,
            host = host(s, tenant),
        );
        if s != "frontend" {
            let _ = write!(
                k,
                "  - target: {{ kind: ServiceAccount, name: {s} }}\n    patch: |-\n      - {{ op: replace, path: /metadata/annotations/eks.amazonaws.com~1role-arn, value: \"arn:aws:iam::012345678901:role/{t}-{s}\" }}\n",
                t = tenant.name
            );
        }
        if s == "apiserver" {
            let prefix = format!(
                "/ramparts/{}/tenants/{}/apiserver",
                tenant.environment, tenant.name
            );
            let _ = write!(
                k,
                "  - target: {{ kind: ExternalSecret, name: apiserver-ssm }}\n    patch: |-\n      - {{ op: replace, path: /spec/data/0/remoteRef/key, value: {prefix}/DATABASE_URL }}\n      - {{ op: replace, path: /spec/data/1/remoteRef/key, value: {prefix}/REDIS_PASSWORD }}\n  - target: {{ kind: ExternalSecret, name: apiserver-feature-flags }}\n    patch: |-\n      - {{ op: replace, path: /spec/dataFrom/0/find/path, value: {prefix} }}\n"
            );
        }
        if let Some(memory) = app.memory_limit {
            let _ = write!(
                k,
                "  - patch: |-\n      apiVersion: apps/v1\n      kind: Deployment\n      metadata: {{ name: {s} }}\n      spec:\n        template:\n          spec:\n            containers:\n              - name: {s}\n                resources:\n                  limits: {{ memory: {memory} }}\n"
            );
        }
        let dir = base.join(s);
        write(&dir.join("kustomization.yaml"), &k)?;
        let mut env = String::new();
        for (key, value) in templated_env(s, tenant) {
            let _ = writeln!(env, "{key}={value}");
        }
        for (key, value) in &app.env {
            let _ = writeln!(env, "{key}={value}");
        }
        write(&dir.join("env.env"), &env)?;
        let secrets: String = app
            .secrets
            .iter()
            .map(|(k, v)| format!("{k}={v}\n"))
            .collect();
        write(&dir.join("secrets.env"), &secrets)?;
    }
    Ok(())
}

fn write_helm_tenant(dir: &Path, tenant: &Tenant) -> Result<()> {
    let base = dir.join(format!("helm/tenants/{}", tenant.name));
    let identity = format!(
        "tenant:\n  name: {}\n  namespace: {}\n  domain: {}\n  environment: {}\n  costCenter: {}\n",
        tenant.name, tenant.namespace, tenant.domain, tenant.environment, tenant.cost_center
    );
    write(
        &base.join("workspace.yaml"),
        &format!("workspace: true\n{identity}"),
    )?;
    for app in &tenant.apps {
        let dir = base.join(&app.service);
        let mut values = identity.clone();
        let _ = write!(values, "labels:\n  example.com/team: {}\n", tenant.team);
        if let Some(memory) = app.memory_limit {
            let _ = write!(values, "resources:\n  limits: {{ memory: {memory} }}\n");
        }
        write(&dir.join("values.yaml"), &values)?;
        let mut env = String::from("env:\n");
        for (key, value) in &app.env {
            let _ = writeln!(env, "  {key}: {value}");
        }
        write(&dir.join("env.yaml"), &env)?;
        let mut secrets = String::from("secrets:\n");
        for (key, value) in &app.secrets {
            let _ = writeln!(secrets, "  {key}: {value}");
        }
        write(&dir.join("secrets.yaml"), &secrets)?;
    }
    Ok(())
}
