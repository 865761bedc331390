//! Test inputs for the rules over service definitions and built objects, built in-process:
//! a `stencil.yaml`, a tenant, a service definition parsed from text (so origins are real
//! file:line:col), objects with an origin, and the diagnostics a check reports.

use std::sync::Arc;

use serde_json::Value;

use super::TenancyRules;
use crate::error::{Diagnostic, Error};
use crate::load::Tenant;
use crate::load::de::from_node;
use crate::model::{RepoSettings, ServiceSpec};
use crate::names::DnsLabel;
use crate::node::Node;
use crate::object::Object;
use crate::origin::{Origin, SourceFile};
use crate::policy::Platform;
use crate::yaml::read::{Limits, parse};

/// The `stencil.yaml` every fixture starts from; `extra` is appended (top-level keys).
const STENCIL: &str = "kind: Stencil
name: ramparts
domain: ramparts.example.com
registry: 012345678901.dkr.ecr.us-east-1.amazonaws.com
environments:
  prod:
    cluster: https://prod.eks.ramparts.example.com
    domain: ramparts.example.com
";

/// The file a tenant's service definition is read from in these tests.
pub(crate) const VALUES: &str = "tenants/acme/api/values.yaml";

/// A YAML file parsed into a node tree.
pub(crate) fn node(path: &str, text: &str) -> Node {
    parse(&SourceFile::new(path, text), Limits::default()).expect("test YAML parses")
}

/// `stencil.yaml` with `extra` appended.
pub(crate) fn settings(extra: &str) -> (RepoSettings, Arc<Node>) {
    let tree = node("stencil.yaml", &format!("{STENCIL}{extra}"));
    let settings = from_node(&tree).expect("test stencil.yaml is valid");
    (settings, Arc::new(tree))
}

/// The platform of `stencil.yaml` with `extra` appended.
pub(crate) fn platform(extra: &str) -> Platform {
    let (settings, tree) = settings(extra);
    Platform::new(&settings, &tree).expect("test stencil.yaml is accepted")
}

/// `tenancy:` of `stencil.yaml` with `extra` appended, compiled.
pub(crate) fn tenancy(settings: &RepoSettings, tree: &Node) -> TenancyRules {
    TenancyRules::new(settings, tree, &mut |d| panic!("tenancy: {}", d.message))
}

/// Tenant `acme` (environment `prod`, domain `acme.example.com`), running `api`.
pub(crate) fn tenant() -> Tenant {
    tenant_named("acme", "acme.example.com")
}

/// Tenant `name` (environment `prod`, domain `domain`), running `api`.
pub(crate) fn tenant_named(name: &str, domain: &str) -> Tenant {
    let tree = node(
        &format!("tenants/{name}/tenant.yaml"),
        &format!("environment: prod\ndomain: {domain}\nservices: [api]\n"),
    );
    Tenant {
        name: DnsLabel::parse(name).expect("valid"),
        namespace: DnsLabel::parse(name).expect("valid"),
        spec: from_node(&tree).expect("valid tenant"),
        node: Arc::new(tree),
    }
}

/// A service definition read from [`VALUES`].
pub(crate) fn definition(text: &str) -> (Node, ServiceSpec) {
    definition_at(VALUES, text)
}

/// A service definition read from `path`.
pub(crate) fn definition_at(path: &str, text: &str) -> (Node, ServiceSpec) {
    let tree = node(path, text);
    let spec = from_node(&tree).expect("valid service definition");
    (tree, spec)
}

/// Line `line`, column `col` of `path`.
pub(crate) fn origin(path: &str, line: u32, col: u32) -> Origin {
    Origin::new(&SourceFile::new(path, ""), line, col)
}

/// An object of tenant `acme`, service `api`, made at `at` (`None`: stencil's own, unpatched).
pub(crate) fn object(value: Value, at: Option<Origin>, extra: bool) -> Object {
    Object::from_value(value, "acme", Some("api"), at, extra).expect("test object is valid")
}

/// One reported problem: rule id (`-` for none), where (`-` for nowhere), message.
pub(crate) type Reported = (String, String, String);

fn reported(d: &Diagnostic) -> Reported {
    (
        d.rule.unwrap_or("-").to_owned(),
        d.origin
            .as_ref()
            .map_or_else(|| "-".to_owned(), Origin::to_string),
        d.message.clone(),
    )
}

/// What a check reported (nothing when it passed).
pub(crate) fn problems(result: Result<(), Error>) -> Vec<Reported> {
    match result {
        Ok(()) => Vec::new(),
        Err(e) => e.diagnostics().iter().map(reported).collect(),
    }
}

/// What a check that reports through a callback reported.
pub(crate) fn collected(run: impl FnOnce(&mut dyn FnMut(Diagnostic))) -> Vec<Reported> {
    let mut out = Vec::new();
    run(&mut |d| out.push(reported(&d)));
    out
}
