//! The `policy` stage: guardrails are defaults, not options.
//!
//! [`check_spec`] turns a resolved, templated tree into a [`Workload`] only if it can be
//! rendered safely: an immutable image tag (never `latest` or empty; the error names the file
//! that set it), a valid digest, a port, valid names. [`check_objects`] runs on the built and
//! patched objects, so a patch or an extra object cannot switch a guardrail off unless
//! `stencil.yaml` grants a named exception with a reason.

mod canary;
mod exposure;
mod fields;
mod infra;
pub(crate) mod kinds;
mod objects;
mod platform;
mod pod_security;
mod rbac;

use std::collections::BTreeMap;

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::error::{Diagnostic, Error, Result};
use crate::load::Tenant;
use crate::load::de::from_node;
use crate::model::{ImageSpec, PatchSpec, RepoSettings, Rule, ServiceSpec};
use crate::names::{Digest, Tag, check_dns_label, check_env_name};
use crate::node::Node;
use crate::origin::Origin;
pub use canary::CanaryPlan;
pub use exposure::{is_kubernetes_reserved, is_pod_security_label};
use fields::{
    check_int_or_percent, check_metadata_map, check_probes, check_quantities, check_resources,
};
pub use infra::HostClaims;
pub use objects::check_objects;
pub use platform::{Platform, WorkspacePlan, check_group, check_workspace, quantity_value};

/// A tenant x service that passed the guardrails and can be built.
#[derive(Debug, Clone)]
pub struct Workload {
    pub service: String,
    pub spec: ServiceSpec,
    pub image: ImageRef,
    pub port: u16,
    /// One per `spec.sidecars` entry, same order.
    pub sidecar_images: Vec<ImageRef>,
    pub patches: Vec<(PatchSpec, Origin)>,
    pub extra_objects: Vec<(serde_json::Value, Origin)>,
    /// Decrypted `secrets.enc.yaml`, if the tenant has one.
    pub secrets: Option<crate::secrets::Secrets>,
    /// The canary analysis, when the service declares `canary:` (and it is not disabled).
    pub canary: Option<CanaryPlan>,
    /// Where the service is defined, for hints.
    pub origin: Origin,
}

/// Checks what built objects (patches, extra objects) claim of the shared infrastructure:
/// SSM paths, hosts, platform annotations, IAM roles.
pub fn check_shared_infra(
    objects: &[crate::build::Object],
    workload: &Workload,
    tenant: &Tenant,
    settings: &RepoSettings,
    platform: &Platform,
) -> Result<()> {
    infra::check_objects(
        objects,
        &workload.spec,
        tenant,
        &workload.service,
        settings,
        &platform.tenancy,
        &platform.exceptions,
    )
}

/// A checked image reference.
#[derive(Debug, Clone)]
pub struct ImageRef {
    pub repository: String,
    pub tag: Tag,
    pub digest: Option<Digest>,
}

impl ImageRef {
    /// `repository:tag` or `repository:tag@sha256:…`.
    pub fn reference(&self) -> String {
        match &self.digest {
            Some(d) => format!("{}:{}@{}", self.repository, self.tag, d),
            None => format!("{}:{}", self.repository, self.tag),
        }
    }
}

/// Looks up a node by a path of map keys.
fn lookup<'a>(tree: &'a Node, path: &[&str]) -> Option<&'a Node> {
    path.iter().try_fold(tree, |node, key| node.get(key))
}

fn origin_of(tree: &Node, path: &[&str]) -> Origin {
    let mut node = tree;
    for key in path {
        match node.get(key) {
            Some(n) => node = n,
            None => break,
        }
    }
    node.origin.clone()
}

pub fn check_spec(
    tree: &Node,
    tenant: &Tenant,
    service: &str,
    settings: &RepoSettings,
    platform: &Platform,
    secrets: Option<crate::secrets::Secrets>,
) -> Result<Workload> {
    let exceptions = &platform.exceptions;
    let spec: ServiceSpec =
        from_node(tree).map_err(|e| e.into_diagnostic("invalid service definition"))?;
    let mut problems: Vec<Error> = Vec::new();
    let mut problem = |d: Diagnostic| problems.push(d.into());

    let allow_mutable = exceptions.allows(Rule::MutableImageTag, tenant.name.as_str(), service);
    let image = check_image(
        tree,
        &["image"],
        spec.image.as_ref(),
        service,
        allow_mutable,
        &mut problem,
    );
    let port = match spec.port {
        Some(0) => {
            problem(
                Diagnostic::new("port 0 is not a valid container port")
                    .at(&origin_of(tree, &["port"]))
                    .hint("use a port between 1 and 65535"),
            );
            None
        }
        Some(p) => Some(p),
        None => {
            problem(
                Diagnostic::new(format!("service `{service}` has no port"))
                    .at(&tree.origin)
                    .hint(format!("set `port:` in base/{service}/service.yaml")),
            );
            None
        }
    };
    for name in spec.env.iter().flat_map(|e| e.keys()) {
        if let Err(msg) = check_env_name(name) {
            problem(Diagnostic::new(msg).at(&origin_of(tree, &["env", name])));
        }
        if secrets
            .as_ref()
            .is_some_and(|s| s.values.contains_key(name))
        {
            problem(
                Diagnostic::new(format!("`{name}` is set both in env and in secrets.enc.yaml"))
                    .at(&origin_of(tree, &["env", name]))
                    .hint("a variable comes from one place; remove it from env (with `null` in an overlay) or from the secrets"),
            );
        }
    }
    // Every environment variable comes from exactly one place.
    let mut sources: BTreeMap<&str, &str> = BTreeMap::new();
    for name in spec.env.iter().flat_map(|e| e.keys()) {
        sources.insert(name, "env");
    }
    for name in secrets.iter().flat_map(|s| s.values.keys()) {
        if let Some(other) = sources.insert(name, "secrets.enc.yaml")
            && other != "env"
        {
            problem(Diagnostic::new(format!(
                "`{name}` is set in both {other} and secrets.enc.yaml"
            )));
        }
    }
    for (name, path) in spec.ssm_secrets.iter().flatten() {
        let at = origin_of(tree, &["ssmSecrets", name]);
        if let Err(msg) = check_env_name(name) {
            problem(Diagnostic::new(msg).at(&at));
        }
        if !path.starts_with('/') {
            problem(
                Diagnostic::new(format!("SSM parameter path `{path}` must start with `/`")).at(&at),
            );
        }
        if let Some(other) = sources.insert(name, "ssmSecrets") {
            problem(
                Diagnostic::new(format!("`{name}` is set in both {other} and ssmSecrets"))
                    .at(&at)
                    .hint("a variable comes from one place; remove one of them (with `null` in an overlay)"),
            );
        }
    }
    if let Some(prefix) = spec
        .feature_flags
        .as_ref()
        .and_then(|f| f.ssm_prefix.as_ref())
        && !prefix.starts_with('/')
    {
        problem(
            Diagnostic::new(format!(
                "featureFlags.ssmPrefix `{prefix}` must start with `/`"
            ))
            .at(&origin_of(tree, &["featureFlags", "ssmPrefix"])),
        );
    }
    infra::check_spec(
        tree,
        &spec,
        tenant,
        service,
        settings,
        &platform.tenancy,
        exceptions,
        &mut problem,
    );
    let instance = format!("{}-{service}", tenant.name);
    if let Err(msg) = check_dns_label(&instance, 63) {
        problem(
            Diagnostic::new(format!("tenant x service name {msg}"))
                .at(&tenant.node.origin)
                .hint("the label app.kubernetes.io/instance is `<tenant>-<service>`; shorten the tenant or service name"),
        );
    }
    check_probes(tree, &["probes"], spec.probes.as_ref(), &mut problem);
    if !exceptions.allows(Rule::Resources, tenant.name.as_str(), service) {
        check_resources(tree, spec.resources.as_ref(), service, &mut problem);
    }
    check_quantities(tree, spec.resources.as_ref(), &mut problem);
    check_metadata_map(tree, &["labels"], spec.labels.as_ref(), true, &mut problem);
    for (field, map) in [
        ("labels", spec.labels.as_ref()),
        ("podAnnotations", spec.pod_annotations.as_ref()),
    ] {
        for key in map.into_iter().flatten().map(|(k, _)| k) {
            let reserved =
                field == "labels" && is_kubernetes_reserved(key) && !is_pod_security_label(key);
            if reserved || crate::names::is_platform_owned(key) {
                let at = tree
                    .get(field)
                    .and_then(|m| m.get(key))
                    .map_or_else(|| tree.origin.clone(), |n| n.origin.clone());
                problem(
                    Diagnostic::new(format!(
                        "{field}: `{}` {}",
                        crate::error::clip(key, 120),
                        if reserved {
                            "has a prefix Kubernetes reserves for its own components"
                        } else {
                            "is stencil's or Argo CD's: it says which tenant, service and Application an object belongs to"
                        }
                    ))
                    .at(&at)
                    .rule(Rule::PlatformLabels.name())
                    .hint("stencil.dev/*, argocd.argoproj.io/* and app.kubernetes.io/{managed-by,part-of,name,instance} are set by stencil only; use a prefix of your own"),
                );
            }
        }
        for (finding, at) in pod_security::check_input_map(tree, field, map) {
            if finding.rule == Rule::PodSecurityLabels {
                problem(pod_security::label_diagnostic(&finding, &at));
            } else if !exceptions.allows(finding.rule, tenant.name.as_str(), service) {
                problem(
                    Diagnostic::new(finding.message)
                        .at(&at)
                        .rule(finding.rule.name())
                        .hint("if this is really needed, grant an exception with a reason under policy.exceptions in stencil.yaml"),
                );
            }
        }
    }
    check_metadata_map(
        tree,
        &["podAnnotations"],
        spec.pod_annotations.as_ref(),
        false,
        &mut problem,
    );
    if let Some(ingress) = &spec.ingress {
        check_metadata_map(
            tree,
            &["ingress", "annotations"],
            ingress.annotations.as_ref(),
            false,
            &mut problem,
        );
    }
    if let Some(sa) = &spec.service_account {
        check_metadata_map(
            tree,
            &["serviceAccount", "annotations"],
            sa.annotations.as_ref(),
            false,
            &mut problem,
        );
    }
    if let Some(strategy) = &spec.strategy {
        check_int_or_percent(
            tree,
            &["strategy", "maxSurge"],
            strategy.max_surge.as_ref(),
            &mut problem,
        );
        check_int_or_percent(
            tree,
            &["strategy", "maxUnavailable"],
            strategy.max_unavailable.as_ref(),
            &mut problem,
        );
        let zero = |v: &Option<crate::model::IntOrString>| {
            matches!(v, Some(crate::model::IntOrString::Int(0)))
                || matches!(v, Some(crate::model::IntOrString::String(s)) if s == "0" || s == "0%")
        };
        if zero(&strategy.max_surge) && zero(&strategy.max_unavailable) {
            problem(
                Diagnostic::new("strategy.maxSurge and strategy.maxUnavailable cannot both be 0")
                    .at(&origin_of(tree, &["strategy"]))
                    .hint("a rollout could never start; the defaults are maxSurge 25% and maxUnavailable 0"),
            );
        }
    }
    if let Some(pdb) = &spec.pod_disruption_budget {
        check_int_or_percent(
            tree,
            &["podDisruptionBudget", "minAvailable"],
            pdb.min_available.as_ref(),
            &mut problem,
        );
        check_int_or_percent(
            tree,
            &["podDisruptionBudget", "maxUnavailable"],
            pdb.max_unavailable.as_ref(),
            &mut problem,
        );
        if pdb.min_available.is_some() && pdb.max_unavailable.is_some() {
            problem(
                Diagnostic::new(
                    "podDisruptionBudget takes minAvailable or maxUnavailable, not both",
                )
                .at(&origin_of(tree, &["podDisruptionBudget"]))
                .hint("remove one; set the other to null in an overlay to switch between them"),
            );
        }
    }
    if let Some(ingress) = &spec.ingress {
        let enabled = ingress.enabled.unwrap_or(ingress.host.is_some());
        if enabled && ingress.host.as_deref().is_none_or(str::is_empty) {
            problem(
                Diagnostic::new("ingress is enabled but has no host")
                    .at(&origin_of(tree, &["ingress"]))
                    .hint("set `ingress.host`, e.g. \"{{ service.name }}.{{ tenant.domain }}\", or `ingress.enabled: false`"),
            );
        }
        if let Some(path) = &ingress.path
            && !path.starts_with('/')
        {
            problem(
                Diagnostic::new(format!("ingress path `{path}` must start with `/`"))
                    .at(&origin_of(tree, &["ingress", "path"])),
            );
        }
    }
    if let Some(a) = &spec.autoscaling {
        let min = a.min_replicas.unwrap_or(1);
        if a.enabled != Some(false) {
            match a.max_replicas {
                None => problem(
                    Diagnostic::new("autoscaling needs maxReplicas")
                        .at(&origin_of(tree, &["autoscaling"]))
                        .hint("set autoscaling.maxReplicas, or `autoscaling.enabled: false` to use `replicas`"),
                ),
                Some(max) if min == 0 || max < min => problem(
                    Diagnostic::new(format!(
                        "autoscaling needs 1 <= minReplicas <= maxReplicas (got {min} and {max})"
                    ))
                    .at(&origin_of(tree, &["autoscaling"])),
                ),
                Some(_) => {}
            }
        }
    }

    let canary = canary::check_service(
        tree,
        &spec,
        tenant,
        service,
        settings,
        platform,
        &mut problem,
    );

    let mut sidecar_images = Vec::new();
    let sidecar_nodes = tree.get("sidecars").and_then(Node::as_seq).unwrap_or(&[]);
    let mut seen_names = vec![service.to_owned()];
    let mut port_names: Vec<(String, String)> = vec![("http".to_owned(), service.to_owned())];
    for (i, sidecar) in spec.sidecars.iter().flatten().enumerate() {
        let node = sidecar_nodes.get(i).unwrap_or(tree);
        let at = |key: &str| {
            node.get(key)
                .map_or_else(|| node.origin.clone(), |n| n.origin.clone())
        };
        // The sidecar's /tmp volume is `tmp-<name>`, itself a 63-character label.
        if let Err(msg) = check_dns_label(&sidecar.name, 59) {
            problem(
                Diagnostic::new(format!(
                    "sidecar name {msg} (its /tmp volume is named tmp-<name>)"
                ))
                .at(&at("name")),
            );
        }
        check_quantities(node, sidecar.resources.as_ref(), &mut problem);
        if seen_names.contains(&sidecar.name) {
            problem(
                Diagnostic::new(format!("container name `{}` is used twice", sidecar.name))
                    .at(&at("name"))
                    .hint("the main container is named after the service; give every sidecar its own name"),
            );
        }
        seen_names.push(sidecar.name.clone());
        if let Some(img) = check_image(
            node,
            &["image"],
            sidecar.image.as_ref(),
            &sidecar.name,
            allow_mutable,
            &mut problem,
        ) {
            sidecar_images.push(img);
        }
        if sidecar.port.is_some() {
            let port_name = crate::build::sidecar_port_name(&sidecar.name);
            if let Err(msg) = crate::names::check_port_name(&port_name) {
                problem(
                    Diagnostic::new(format!("sidecar `{}` would name its port {msg}", sidecar.name))
                        .at(&at("name"))
                        .hint("the port is named after the first 15 characters of the sidecar name; rename the sidecar"),
                );
            }
            if let Some((_, other)) = port_names.iter().find(|(p, _)| *p == port_name) {
                problem(
                    Diagnostic::new(format!(
                        "sidecars `{other}` and `{}` would both name their port `{port_name}`",
                        sidecar.name
                    ))
                    .at(&at("name"))
                    .hint("port names are the first 15 characters of the sidecar name; make those differ"),
                );
            }
            port_names.push((port_name, sidecar.name.clone()));
        }
        if sidecar.port == Some(0) {
            problem(Diagnostic::new("port 0 is not a valid container port").at(&at("port")));
        }
        if let Some(path) = &sidecar.ingress_path {
            if !path.starts_with('/') {
                problem(
                    Diagnostic::new(format!("ingressPath `{path}` must start with `/`"))
                        .at(&at("ingressPath")),
                );
            }
            if sidecar.port.is_none() {
                problem(
                    Diagnostic::new(format!(
                        "sidecar `{}` has an ingressPath but no port",
                        sidecar.name
                    ))
                    .at(&at("ingressPath"))
                    .hint("set the sidecar's `port:` so the Service and Ingress can route to it"),
                );
            }
        }
        if Some(sidecar.port) == Some(spec.port) && sidecar.port.is_some() {
            problem(
                Diagnostic::new(format!(
                    "sidecar `{}` uses port {}, the main container's port",
                    sidecar.name,
                    sidecar.port.unwrap_or_default()
                ))
                .at(&at("port")),
            );
        }
        for name in sidecar.env.iter().flat_map(|e| e.keys()) {
            if let Err(msg) = check_env_name(name) {
                problem(Diagnostic::new(msg).at(
                    &lookup(node, &["env", name]).map_or_else(|| at("env"), |n| n.origin.clone()),
                ));
            }
        }
        check_probes(node, &["probes"], sidecar.probes.as_ref(), &mut problem);
        if !exceptions.allows(Rule::Resources, tenant.name.as_str(), service) {
            check_resources(
                node,
                sidecar.resources.as_ref(),
                &sidecar.name,
                &mut problem,
            );
        }
    }

    let patch_nodes = tree.get("patches").and_then(Node::as_seq).unwrap_or(&[]);
    let patches = spec
        .patches
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, p)| {
            (
                p.clone(),
                patch_nodes
                    .get(i)
                    .map_or_else(|| tree.origin.clone(), |n| n.origin.clone()),
            )
        })
        .collect();
    let extra_nodes = tree
        .get("extraObjects")
        .and_then(Node::as_seq)
        .unwrap_or(&[]);
    let extra_objects = extra_nodes
        .iter()
        .map(|n| (n.to_json(), n.origin.clone()))
        .collect();

    if let Some(err) = Error::collect(problems) {
        return Err(err);
    }
    match (image, port) {
        (Some(image), Some(port)) => Ok(Workload {
            service: service.to_owned(),
            spec,
            image,
            port,
            sidecar_images,
            patches,
            extra_objects,
            secrets,
            canary,
            origin: tree.origin.clone(),
        }),
        // Each `None` pushed a problem, so `problems` was not empty and we returned above.
        _ => Err(Diagnostic::new(format!("service `{service}` cannot be rendered")).into()),
    }
}

fn check_image(
    tree: &Node,
    path: &[&str],
    image: Option<&ImageSpec>,
    container: &str,
    allow_mutable: bool,
    problem: &mut impl FnMut(Diagnostic),
) -> Option<ImageRef> {
    let mut key = path.to_vec();
    let repository = match image.and_then(|i| i.repository.as_deref()) {
        Some(r) if !r.is_empty() && !r.contains(char::is_whitespace) => Some(r.to_owned()),
        Some(r) => {
            key.push("repository");
            problem(
                Diagnostic::new(format!("`{r}` is not a valid image repository"))
                    .at(&origin_of(tree, &key)),
            );
            None
        }
        None => {
            problem(
                Diagnostic::new(format!("container `{container}` has no image repository"))
                    .at(&origin_of(tree, path))
                    .hint("set `image.repository`"),
            );
            None
        }
    };
    let mut tag_key = path.to_vec();
    tag_key.push("tag");
    let tag = match image.and_then(|i| i.tag.as_deref()) {
        None => {
            problem(
                Diagnostic::new(format!("container `{container}` has no image tag"))
                    .at(&origin_of(tree, path))
                    .hint("set `image.tag` in the service's version.yaml (CI writes it with `stencil bump`)"),
            );
            None
        }
        Some(text) => match if allow_mutable {
            Tag::parse_allowing_mutable(text)
        } else {
            Tag::parse(text)
        } {
            Ok(tag) => Some(tag),
            Err(msg) => {
                let origin = origin_of(tree, &tag_key);
                problem(
                    Diagnostic::new(format!("refusing image tag of `{container}`: {msg}"))
                        .at(&origin)
                        .rule(Rule::MutableImageTag.name())
                        .hint(format!(
                            "set an immutable tag (a version or commit SHA) in {}",
                            origin.path()
                        )),
                );
                None
            }
        },
    };
    let mut digest_key = path.to_vec();
    digest_key.push("digest");
    let digest = match image.and_then(|i| i.digest.as_deref()) {
        None => Ok(None),
        Some(text) => Digest::parse(text).map(Some).map_err(|msg| {
            problem(Diagnostic::new(msg).at(&origin_of(tree, &digest_key)));
        }),
    };
    match (repository, tag, digest) {
        (Some(repository), Some(tag), Ok(digest)) => Some(ImageRef {
            repository,
            tag,
            digest,
        }),
        _ => None,
    }
}

/// Guardrail exceptions from `stencil.yaml`, compiled.
pub struct Exceptions {
    rules: Vec<(Rule, GlobSet, GlobSet)>,
}

impl Exceptions {
    pub fn new(settings: &RepoSettings, origin: &Node) -> Result<Exceptions> {
        let mut rules = Vec::new();
        for (i, e) in settings.policy.exceptions.iter().enumerate() {
            let at = origin
                .get("policy")
                .and_then(|p| p.get("exceptions"))
                .and_then(Node::as_seq)
                .and_then(|s| s.get(i))
                .map_or_else(|| origin.origin.clone(), |n| n.origin.clone());
            if e.reason.trim().is_empty() {
                return Err(Diagnostic::new("a guardrail exception needs a reason")
                    .at(&at)
                    .hint("say why the exception is needed in `reason:`")
                    .into());
            }
            if let Some((message, hint)) = e.rule.fixed() {
                return Err(Diagnostic::new(message).at(&at).hint(hint).into());
            }
            if e.rule == Rule::QuotaCeiling && !e.services.is_empty() {
                return Err(Diagnostic::new(
                    "a quota-ceiling exception is per tenant: `services` does not apply",
                )
                .at(&at)
                .hint("remove `services:`; name the tenants it is for in `tenants:`")
                .into());
            }
            rules.push((e.rule, globs(&e.tenants, &at)?, globs(&e.services, &at)?));
        }
        Ok(Exceptions { rules })
    }

    pub fn none() -> Exceptions {
        Exceptions { rules: Vec::new() }
    }

    /// For rules about a tenant as a whole (its quota): the exception's tenant globs only.
    pub fn allows_tenant(&self, rule: Rule, tenant: &str) -> bool {
        self.rules
            .iter()
            .any(|(r, t, _)| *r == rule && t.is_match(tenant))
    }

    pub fn allows(&self, rule: Rule, tenant: &str, service: &str) -> bool {
        self.rules
            .iter()
            .any(|(r, t, s)| *r == rule && t.is_match(tenant) && s.is_match(service))
    }
}

fn globs(patterns: &[String], at: &Origin) -> Result<GlobSet> {
    let mut builder = GlobSetBuilder::new();
    if patterns.is_empty() {
        builder.add(Glob::new("*").map_err(|e| Diagnostic::new(e.to_string()))?);
    }
    for p in patterns {
        builder.add(
            Glob::new(p).map_err(|e| Diagnostic::new(format!("invalid glob `{p}`: {e}")).at(at))?,
        );
    }
    builder
        .build()
        .map_err(|e| Diagnostic::new(format!("invalid globs: {e}")).at(at).into())
}

/// An exception `stencil.yaml` grants, for `validate` and `stencil policy list`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Granted {
    pub rule: &'static str,
    pub tenants: Vec<String>,
    pub services: Vec<String>,
    pub reason: String,
    /// Where it is granted (`stencil.yaml:line:col`).
    pub at: String,
}

impl std::fmt::Display for Granted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let all = |v: &[String]| {
            if v.is_empty() {
                "*".to_owned()
            } else {
                v.join(",")
            }
        };
        write!(
            f,
            "{} relaxed for tenants {} services {} at {}: {}",
            self.rule,
            all(&self.tenants),
            all(&self.services),
            self.at,
            self.reason
        )
    }
}

/// Every exception `stencil.yaml` grants, in file order.
pub fn granted(settings: &RepoSettings, node: &Node) -> Vec<Granted> {
    let items = node
        .get("policy")
        .and_then(|p| p.get("exceptions"))
        .and_then(Node::as_seq)
        .unwrap_or(&[]);
    settings
        .policy
        .exceptions
        .iter()
        .enumerate()
        .map(|(i, e)| Granted {
            rule: e.rule.name(),
            tenants: e.tenants.clone(),
            services: e.services.clone(),
            reason: e.reason.clone(),
            at: items
                .get(i)
                .map_or_else(|| node.origin.clone(), |n| n.origin.clone())
                .to_string(),
        })
        .collect()
}
