//! `sidecars:`: each extra container is checked like the main one (image, quantities,
//! probes, resources, env names), and the containers of a pod do not clash: names, port
//! names (the first 15 characters of the sidecar name) and ports are each unique.

use super::SpecCtx;
use super::image::check_image;
use crate::error::Diagnostic;
use crate::model::{Rule, SidecarSpec};
use crate::names::{check_dns_label, check_env_name};
use crate::node::Node;
use crate::origin::Origin;
use crate::policy::fields::{check_probes, check_quantities, check_resources};
use crate::policy::{ImageRef, lookup};

/// One sidecar and its node in the resolved tree.
struct Sidecar<'a> {
    spec: &'a SidecarSpec,
    node: &'a Node,
}

impl Sidecar<'_> {
    /// Where the sidecar's `key` is set (the sidecar itself when it is absent).
    fn at(&self, key: &str) -> Origin {
        self.node
            .get(key)
            .map_or_else(|| self.node.origin.clone(), |n| n.origin.clone())
    }
}

/// What the containers checked so far claim: their names, their named ports.
struct Pod {
    names: Vec<String>,
    /// (port name, container name).
    port_names: Vec<(String, String)>,
}

/// Checks every sidecar in order; returns the images of those whose image is valid.
pub(super) fn check(ctx: &SpecCtx, out: &mut Vec<Diagnostic>) -> Vec<ImageRef> {
    let nodes = ctx
        .tree
        .get("sidecars")
        .and_then(Node::as_seq)
        .unwrap_or(&[]);
    let mut pod = Pod {
        names: vec![ctx.service.to_owned()],
        port_names: vec![("http".to_owned(), ctx.service.to_owned())],
    };
    let mut images = Vec::new();
    for (i, spec) in ctx.spec.sidecars.iter().flatten().enumerate() {
        let node = nodes.get(i).unwrap_or(ctx.tree);
        let sidecar = Sidecar { spec, node };
        images.extend(check_one(ctx, &sidecar, &mut pod, out));
    }
    images
}

fn check_one(
    ctx: &SpecCtx,
    sidecar: &Sidecar,
    pod: &mut Pod,
    out: &mut Vec<Diagnostic>,
) -> Option<ImageRef> {
    let (spec, node) = (sidecar.spec, sidecar.node);
    name(sidecar, out);
    check_quantities(node, spec.resources.as_ref(), &mut |d| out.push(d));
    unique_name(sidecar, pod, out);
    let allow_mutable = ctx.allows(Rule::MutableImageTag);
    let image = check_image(node, spec.image.as_ref(), &spec.name, allow_mutable, out);
    port_name(sidecar, pod, out);
    port(ctx, sidecar, out);
    env_names(sidecar, out);
    check_probes(node, &["probes"], spec.probes.as_ref(), &mut |d| {
        out.push(d);
    });
    if !ctx.allows(Rule::Resources) {
        let resources = spec.resources.as_ref();
        check_resources(node, resources, &spec.name, &mut |d| out.push(d));
    }
    image
}

/// The name is a DNS label that leaves room for its `tmp-<name>` volume.
fn name(sidecar: &Sidecar, out: &mut Vec<Diagnostic>) {
    // The sidecar's /tmp volume is `tmp-<name>`, itself a 63-character label.
    if let Err(msg) = check_dns_label(&sidecar.spec.name, 59) {
        out.push(
            Diagnostic::new(format!(
                "sidecar name {msg} (its /tmp volume is named tmp-<name>)"
            ))
            .at(&sidecar.at("name")),
        );
    }
}

/// No two containers of the pod share a name.
fn unique_name(sidecar: &Sidecar, pod: &mut Pod, out: &mut Vec<Diagnostic>) {
    let name = &sidecar.spec.name;
    if pod.names.contains(name) {
        out.push(
            Diagnostic::new(format!("container name `{name}` is used twice"))
                .at(&sidecar.at("name"))
                .hint("the main container is named after the service; give every sidecar its own name"),
        );
    }
    pod.names.push(name.clone());
}

/// A sidecar with a port names it validly, and differently from every other port.
fn port_name(sidecar: &Sidecar, pod: &mut Pod, out: &mut Vec<Diagnostic>) {
    if sidecar.spec.port.is_none() {
        return;
    }
    let name = &sidecar.spec.name;
    let port_name = crate::names::sidecar_port_name(name);
    if let Err(msg) = crate::names::check_port_name(&port_name) {
        out.push(
            Diagnostic::new(format!("sidecar `{name}` would name its port {msg}"))
                .at(&sidecar.at("name"))
                .hint("the port is named after the first 15 characters of the sidecar name; rename the sidecar"),
        );
    }
    if let Some((_, other)) = pod.port_names.iter().find(|(p, _)| *p == port_name) {
        out.push(
            Diagnostic::new(format!(
                "sidecars `{other}` and `{name}` would both name their port `{port_name}`"
            ))
            .at(&sidecar.at("name"))
            .hint("port names are the first 15 characters of the sidecar name; make those differ"),
        );
    }
    pod.port_names.push((port_name, name.clone()));
}

/// The port is valid, routed only when set, and not the main container's.
fn port(ctx: &SpecCtx, sidecar: &Sidecar, out: &mut Vec<Diagnostic>) {
    let spec = sidecar.spec;
    if spec.port == Some(0) {
        out.push(Diagnostic::new("port 0 is not a valid container port").at(&sidecar.at("port")));
    }
    if let Some(path) = &spec.ingress_path {
        ingress_path(sidecar, path, out);
    }
    if let Some(port) = spec.port
        && Some(port) == ctx.spec.port
    {
        out.push(
            Diagnostic::new(format!(
                "sidecar `{}` uses port {port}, the main container's port",
                spec.name
            ))
            .at(&sidecar.at("port")),
        );
    }
}

/// `ingressPath` is absolute and needs a port to route to.
fn ingress_path(sidecar: &Sidecar, path: &str, out: &mut Vec<Diagnostic>) {
    if !path.starts_with('/') {
        out.push(
            Diagnostic::new(format!("ingressPath `{path}` must start with `/`"))
                .at(&sidecar.at("ingressPath")),
        );
    }
    if sidecar.spec.port.is_none() {
        out.push(
            Diagnostic::new(format!(
                "sidecar `{}` has an ingressPath but no port",
                sidecar.spec.name
            ))
            .at(&sidecar.at("ingressPath"))
            .hint("set the sidecar's `port:` so the Service and Ingress can route to it"),
        );
    }
}

/// Every `env:` name is a valid variable name.
fn env_names(sidecar: &Sidecar, out: &mut Vec<Diagnostic>) {
    for name in sidecar.spec.env.iter().flat_map(|e| e.keys()) {
        if let Err(msg) = check_env_name(name) {
            let at = lookup(sidecar.node, &["env", name])
                .map_or_else(|| sidecar.at("env"), |n| n.origin.clone());
            out.push(Diagnostic::new(msg).at(&at));
        }
    }
}
