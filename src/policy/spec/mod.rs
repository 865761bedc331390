//! The guardrails of one tenant x service's resolved definition, each a small rule over a
//! [`SpecCtx`] that pushes what it finds.
//!
//! [`check_spec`] is the driver: it deserializes the tree, runs the rules in a fixed order
//! (the order of the messages a user sees), and builds the [`Workload`] only when none
//! found anything. Grouped by concern: `image` (immutable tags, digests), `env` (valid
//! names, one source per variable, SSM paths), `metadata` (names, labels, annotations),
//! `rollout` (probes, resources, strategy, disruption budget, ingress, autoscaling) and
//! `sidecars` (the extra containers, checked like the main one).
//!
//! Invariants: a rule only reads the context and pushes diagnostics, each located at the
//! value at fault (`file:line:col` of the layer that set it); a rule that an exception in
//! `stencil.yaml` relaxes asks [`SpecCtx::allows`].

mod env;
mod image;
mod jobs;
mod metadata;
mod placement;
mod pods;
mod rollout;
mod sidecars;
mod traffic;
mod volumes;

use super::{Platform, Workload, canary, origin_of};
use crate::error::{Diagnostic, Error, Result};
use crate::load::Tenant;
use crate::load::de::from_node;
use crate::model::{RepoSettings, Rule, ServiceSpec};
use crate::node::Node;
use crate::origin::Origin;
use crate::secrets::Secrets;

/// What every spec rule reads: the tenant x service, its resolved tree and the platform.
pub(super) struct SpecCtx<'a> {
    /// The resolved, templated service definition, with the origin of every value.
    pub(super) tree: &'a Node,
    /// The same, typed.
    pub(super) spec: &'a ServiceSpec,
    pub(super) tenant: &'a Tenant,
    pub(super) service: &'a str,
    pub(super) settings: &'a RepoSettings,
    /// Exceptions, canary minimums and tenancy rules from `stencil.yaml`.
    pub(super) platform: &'a Platform,
    /// The decrypted `secrets.enc.yaml`, if the tenant has one.
    pub(super) secrets: Option<&'a Secrets>,
}

impl SpecCtx<'_> {
    /// Whether `stencil.yaml` grants this tenant x service an exception to `rule`.
    pub(super) fn allows(&self, rule: Rule) -> bool {
        self.platform
            .exceptions
            .allows(rule, self.tenant.name.as_str(), self.service)
    }

    /// Where the value at `path` was set (its nearest parent present when it is absent).
    pub(super) fn at(&self, path: &[&str]) -> Origin {
        origin_of(self.tree, path)
    }
}

/// A rule over the spec: reads the context, pushes its findings.
type SpecRule = fn(&SpecCtx, &mut Vec<Diagnostic>);

/// The rules that return nothing but findings, in the order they report.
const RULES: &[SpecRule] = &[
    env::env_names,
    env::one_source,
    env::feature_flags,
    metadata::shared_infra,
    metadata::instance_name,
    rollout::probes,
    rollout::resources,
    rollout::quantities,
    metadata::label_values,
    metadata::platform_keys,
    metadata::annotation_names,
    rollout::strategy,
    rollout::disruption_budget,
    rollout::ingress,
    rollout::autoscaling,
    pods::workload_kind,
    pods::headless_name,
    pods::ports,
    pods::lifecycle,
    pods::env_from,
    pods::scheduling,
    volumes::mount_paths,
    volumes::files,
    volumes::secret_files,
    volumes::volumes,
    traffic::ingress_extras,
    traffic::http_route,
    traffic::monitoring,
    traffic::alerts,
    placement::storage,
    placement::scheduling,
];

/// Checks a resolved service definition and turns it into a [`Workload`], or reports every
/// guardrail it breaks at once.
pub fn check_spec(
    tree: &Node,
    tenant: &Tenant,
    service: &str,
    settings: &RepoSettings,
    platform: &Platform,
    secrets: Option<Secrets>,
) -> Result<Workload> {
    let spec: ServiceSpec =
        from_node(tree).map_err(|e| e.into_diagnostic("invalid service definition"))?;
    let ctx = SpecCtx {
        tree,
        spec: &spec,
        tenant,
        service,
        settings,
        platform,
        secrets: secrets.as_ref(),
    };
    let mut out = Vec::new();
    let image = image::main_image(&ctx, &mut out);
    let port = pods::main_port(&ctx, &mut out);
    for rule in RULES {
        rule(&ctx, &mut out);
    }
    let canary = canary::check_service(&ctx, &mut |d| out.push(d));
    let sidecar_images = sidecars::check(&ctx, &mut out);
    let init_images = pods::init_containers(&ctx, image.as_ref(), &mut out);
    let jobs = jobs::check(&ctx, image.as_ref(), &mut out);
    let (patches, extra_objects) = (patches(tree, &spec), extra_objects(tree));
    if let Some(err) = Error::collect(out.into_iter().map(Error::from)) {
        return Err(err);
    }
    let worker = spec.workload == Some(crate::model::WorkloadKind::Worker);
    let (Some(image), true) = (image, port.is_some() || worker) else {
        // Each `None` pushed a problem, so `out` was not empty and we returned above.
        return Err(Diagnostic::new(format!("service `{service}` cannot be rendered")).into());
    };
    Ok(Workload {
        service: service.to_owned(),
        spec,
        image,
        port,
        sidecar_images,
        init_images,
        jobs,
        patches,
        extra_objects,
        secrets,
        canary,
        origin: tree.origin.clone(),
    })
}

/// `patches:`, each with where it is written.
fn patches(tree: &Node, spec: &ServiceSpec) -> Vec<(crate::model::PatchSpec, Origin)> {
    let nodes = tree.get("patches").and_then(Node::as_seq).unwrap_or(&[]);
    spec.patches
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, p)| {
            let at = nodes
                .get(i)
                .map_or_else(|| tree.origin.clone(), |n| n.origin.clone());
            (p.clone(), at)
        })
        .collect()
}

/// `extraObjects:` as JSON, each with where it is written.
fn extra_objects(tree: &Node) -> Vec<(serde_json::Value, Origin)> {
    tree.get("extraObjects")
        .and_then(Node::as_seq)
        .unwrap_or(&[])
        .iter()
        .map(|n| (n.to_json(), n.origin.clone()))
        .collect()
}
