//! The `policy` stage: guardrails are defaults, not options.
//!
//! [`check_spec`] turns a resolved, templated tree into a [`Workload`] only if it can be
//! rendered safely: an immutable image tag (never `latest` or empty; the error names the file
//! that set it), a valid digest, a port, valid names. Each of its guardrails is a small rule
//! over a context under `spec/` (the canary's in `canary.rs`), run in a fixed order.
//! [`Platform::new`] checks `stencil.yaml` and [`check_workspace`] a tenant's quota and
//! bindings, each a list of small checks in `platform.rs`. [`check_objects`] runs on the
//! built and patched objects, so a patch or an extra object cannot switch a guardrail off
//! unless `stencil.yaml` grants a named exception with a reason. What a rule is called and
//! why it exists is one table, `model::Rule`; `rule_tests.rs` pins the id and the
//! `file:line:col` each spec-side rule reports.

mod canary;
mod exposure;
mod fields;
mod infra;
pub(crate) mod kinds;
mod objects;
mod platform;
mod pod_security;
mod rbac;
#[cfg(test)]
mod rule_tests;
mod spec;

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::error::{Diagnostic, Result};
use crate::load::Tenant;
use crate::model::{PatchSpec, RepoSettings, Rule, ServiceSpec};
use crate::names::{Digest, Tag};
use crate::node::Node;
use crate::origin::Origin;
pub use canary::CanaryPlan;
pub use exposure::{is_kubernetes_reserved, is_pod_security_label};
pub use infra::HostClaims;
pub use objects::check_objects;
pub use platform::{Platform, WorkspacePlan, check_group, check_workspace, quantity_value};
pub use spec::check_spec;

/// A tenant x service that passed the guardrails and can be built.
#[derive(Debug, Clone)]
pub struct Workload {
    pub service: String,
    pub spec: ServiceSpec,
    pub image: ImageRef,
    /// The main container's port; `None` for a worker without one.
    pub port: Option<u16>,
    /// One per `spec.sidecars` entry, same order.
    pub sidecar_images: Vec<ImageRef>,
    /// One per `spec.initContainers` entry, same order.
    pub init_images: Vec<ImageRef>,
    /// Cron jobs, then jobs, each by name.
    pub jobs: Vec<JobPlan>,
    pub patches: Vec<(PatchSpec, Origin)>,
    pub extra_objects: Vec<(serde_json::Value, Origin)>,
    /// Decrypted `secrets.enc.yaml`, if the tenant has one.
    pub secrets: Option<crate::secrets::Secrets>,
    /// The canary analysis, when the service declares `canary:` (and it is not disabled).
    pub canary: Option<CanaryPlan>,
    /// Where the service is defined, for hints.
    pub origin: Origin,
}

impl Workload {
    /// The workload kind (`deployment` unless the service says otherwise).
    pub fn kind(&self) -> crate::model::WorkloadKind {
        self.spec.workload.unwrap_or_default()
    }

    /// Whether the service has a Service (everything but a worker does).
    pub fn serves(&self) -> bool {
        self.kind() != crate::model::WorkloadKind::Worker
    }
}

/// A checked job or cron job.
#[derive(Debug, Clone)]
pub struct JobPlan {
    pub name: String,
    /// Declared under `cronJobs:` (a CronJob), not `jobs:` (a Job).
    pub scheduled: bool,
    pub spec: crate::model::JobSpec,
    /// Its own image, or the service's (see `spec/jobs.rs`).
    pub image: ImageRef,
}

/// Checks what built objects (patches, extra objects) claim of the shared infrastructure:
/// SSM paths, hosts, platform annotations, IAM roles.
pub fn check_shared_infra(
    objects: &[crate::object::Object],
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
