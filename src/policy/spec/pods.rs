//! The pod beyond its main container's basics: the workload kind (what a worker or a
//! StatefulSet may not have), more named ports, lifecycle handlers, `envFrom`, init
//! containers (checked like sidecars: image, resources, env names) and scheduling.

use super::SpecCtx;
use super::jobs::inherited_image;
use crate::error::Diagnostic;
use crate::model::{HandlerSpec, Rule, WorkloadKind};
use crate::names::{check_dns_label, check_env_name, check_port_name, check_qualified_name};
use crate::node::Node;
use crate::policy::ImageRef;
use crate::policy::fields::{check_quantities, check_resources};

/// A worker serves nothing: no Service, so no ingress, route, canary or ServiceMonitor.
/// A StatefulSet is not a canary target (Flagger rolls Deployments).
pub(super) fn workload_kind(ctx: &SpecCtx, out: &mut Vec<Diagnostic>) {
    let kind = ctx.spec.workload.unwrap_or_default();
    let s = ctx.spec;
    let serving: [(&str, bool); 4] = [
        (
            "ingress",
            s.ingress
                .as_ref()
                .is_some_and(|i| i.enabled.unwrap_or(i.host.is_some()) && i.host.is_some()),
        ),
        (
            "httpRoute",
            s.http_route
                .as_ref()
                .is_some_and(|r| r.enabled != Some(false)),
        ),
        (
            "canary",
            s.canary.as_ref().is_some_and(|c| c.enabled != Some(false)),
        ),
        (
            "monitoring",
            s.monitoring
                .as_ref()
                .and_then(|m| m.service_monitor.as_ref())
                .is_some_and(|m| m.enabled != Some(false)),
        ),
    ];
    for (key, set) in serving {
        let refused = match kind {
            WorkloadKind::Worker => set,
            WorkloadKind::StatefulSet => set && key == "canary",
            WorkloadKind::Deployment => false,
        };
        if refused {
            out.push(
                Diagnostic::new(format!(
                    "a {} cannot have `{key}`",
                    kind.as_str()
                ))
                .at(&ctx.at(&[key]))
                .hint(match kind {
                    WorkloadKind::Worker => "a worker has no Service; use `workload: deployment` to serve traffic",
                    _ => "Flagger's canary rolls a Deployment; use `workload: deployment` or disable the canary",
                }),
            );
        }
    }
}

/// A StatefulSet's headless Service `<service>-headless` is a valid name.
pub(super) fn headless_name(ctx: &SpecCtx, out: &mut Vec<Diagnostic>) {
    if ctx.spec.workload == Some(WorkloadKind::StatefulSet) && ctx.service.len() > 54 {
        out.push(
            Diagnostic::new(format!(
                "service `{}` is {} characters; its StatefulSet's Service `<service>-headless` may have 54",
                ctx.service,
                ctx.service.len()
            ))
            .at(&ctx.at(&["workload"])),
        );
    }
}

/// The main container's port is set (and not 0) unless the service is a worker.
pub(super) fn main_port(ctx: &SpecCtx, out: &mut Vec<Diagnostic>) -> Option<u16> {
    match ctx.spec.port {
        Some(0) => {
            out.push(
                Diagnostic::new("port 0 is not a valid container port")
                    .at(&ctx.at(&["port"]))
                    .hint("use a port between 1 and 65535"),
            );
            None
        }
        Some(p) => Some(p),
        None if ctx.spec.workload == Some(WorkloadKind::Worker) => None,
        None => {
            out.push(
                Diagnostic::new(format!("service `{}` has no port", ctx.service))
                    .at(&ctx.at(&["port"]))
                    .hint(format!(
                        "set `port:` in base/{}/service.yaml, or `workload: worker` for a service that serves nothing",
                        ctx.service
                    )),
            );
            None
        }
    }
}

/// `ports:` are named validly (not `http`, the main port's name) and differ from the main
/// port and the sidecars' ports.
pub(super) fn ports(ctx: &SpecCtx, out: &mut Vec<Diagnostic>) {
    let sidecars = ctx.spec.sidecars.iter().flatten();
    let sidecar_ports: Vec<(String, u16)> = sidecars
        .filter_map(|s| Some((crate::names::sidecar_port_name(&s.name), s.port?)))
        .collect();
    let mut seen: Vec<u16> = ctx.spec.port.into_iter().collect();
    for (name, port) in ctx.spec.ports.iter().flatten() {
        let at = ctx.at(&["ports", name]);
        if let Err(msg) = check_port_name(name) {
            out.push(Diagnostic::new(msg).at(&at));
        } else if name == "http" {
            out.push(
                Diagnostic::new("port name `http` is the main port's (`port:`)")
                    .at(&at)
                    .hint("name the extra port after what it serves, e.g. `metrics`"),
            );
        } else if sidecar_ports.iter().any(|(n, _)| n == name) {
            out.push(
                Diagnostic::new(format!("port name `{name}` is a sidecar's port name")).at(&at),
            );
        }
        if *port == 0 {
            out.push(Diagnostic::new("port 0 is not a valid container port").at(&at));
        } else if seen.contains(port) || sidecar_ports.iter().any(|(_, p)| p == port) {
            out.push(
                Diagnostic::new(format!(
                    "port {port} is already the main container's, a sidecar's or another of `ports`"
                ))
                .at(&at),
            );
        }
        seen.push(*port);
    }
}

/// Each lifecycle handler does exactly one thing; an HTTP path is absolute.
pub(super) fn lifecycle(ctx: &SpecCtx, out: &mut Vec<Diagnostic>) {
    let Some(lifecycle) = &ctx.spec.lifecycle else {
        return;
    };
    for (key, handler) in [
        ("preStop", &lifecycle.pre_stop),
        ("postStart", &lifecycle.post_start),
    ] {
        let Some(h) = handler else { continue };
        check_handler(ctx, key, h, out);
    }
}

fn check_handler(ctx: &SpecCtx, key: &str, h: &HandlerSpec, out: &mut Vec<Diagnostic>) {
    let at = ctx.at(&["lifecycle", key]);
    let set = [
        h.exec.is_some(),
        h.sleep_seconds.is_some(),
        h.http_get.is_some(),
    ]
    .iter()
    .filter(|s| **s)
    .count();
    if set != 1 {
        out.push(
            Diagnostic::new(format!(
                "lifecycle.{key} needs exactly one of exec, sleepSeconds, httpGet"
            ))
            .at(&at),
        );
    }
    if h.http_get.as_deref().is_some_and(|p| !p.starts_with('/')) {
        out.push(
            Diagnostic::new(format!(
                "lifecycle.{key}.httpGet must be a path starting with `/`"
            ))
            .at(&at),
        );
    }
    if h.exec.as_ref().is_some_and(Vec::is_empty) {
        out.push(Diagnostic::new(format!("lifecycle.{key}.exec is an empty command")).at(&at));
    }
}

/// `envFrom` names exactly one existing ConfigMap or Secret, by a valid name; a prefix is
/// the start of a valid variable name.
pub(super) fn env_from(ctx: &SpecCtx, out: &mut Vec<Diagnostic>) {
    let nodes = ctx
        .tree
        .get("envFrom")
        .and_then(Node::as_seq)
        .unwrap_or(&[]);
    for (i, source) in ctx.spec.env_from.iter().flatten().enumerate() {
        let at = nodes
            .get(i)
            .map_or_else(|| ctx.at(&["envFrom"]), |n| n.origin.clone());
        let ((Some(name), None) | (None, Some(name))) = (&source.config_map, &source.secret) else {
            out.push(
                Diagnostic::new("each envFrom entry names exactly one of configMap, secret")
                    .at(&at),
            );
            continue;
        };
        if let Err(msg) = check_subdomain(name) {
            out.push(Diagnostic::new(msg).at(&at));
        }
        if let Some(prefix) = &source.prefix
            && check_env_name(&format!("{prefix}X")).is_err()
        {
            out.push(
                Diagnostic::new(format!(
                    "envFrom prefix `{prefix}` does not start a valid variable name"
                ))
                .at(&at),
            );
        }
    }
}

fn check_subdomain(name: &str) -> Result<(), String> {
    crate::policy::kinds::check_subdomain(name).map_err(|_| {
        format!(
            "`{}` is not a valid ConfigMap or Secret name",
            crate::error::clip(name, 80)
        )
    })
}

/// Every init container: a unique valid name, an image (the service's unless it says
/// otherwise, never `latest`), resources when it sets them, valid env names.
pub(super) fn init_containers(
    ctx: &SpecCtx,
    service_image: Option<&ImageRef>,
    out: &mut Vec<Diagnostic>,
) -> Vec<ImageRef> {
    let nodes = ctx
        .tree
        .get("initContainers")
        .and_then(Node::as_seq)
        .unwrap_or(&[]);
    let mut names: Vec<&str> = vec![ctx.service];
    names.extend(ctx.spec.sidecars.iter().flatten().map(|s| s.name.as_str()));
    let mut images = Vec::new();
    for (i, spec) in ctx.spec.init_containers.iter().flatten().enumerate() {
        let node = nodes.get(i).unwrap_or(ctx.tree);
        let at = node
            .get("name")
            .map_or_else(|| node.origin.clone(), |n| n.origin.clone());
        if let Err(msg) = check_dns_label(&spec.name, 59) {
            out.push(Diagnostic::new(format!("init container name {msg}")).at(&at));
        }
        if names.contains(&spec.name.as_str()) {
            out.push(
                Diagnostic::new(format!("container name `{}` is used twice", spec.name)).at(&at),
            );
        }
        names.push(&spec.name);
        for name in spec.env.iter().flat_map(|e| e.keys()) {
            if let Err(msg) = check_env_name(name) {
                out.push(Diagnostic::new(msg).at(&at));
            }
        }
        check_quantities(node, spec.resources.as_ref(), &mut |d| out.push(d));
        if spec.resources.is_some() && !ctx.allows(Rule::Resources) {
            check_resources(node, spec.resources.as_ref(), &spec.name, &mut |d| {
                out.push(d);
            });
        }
        images.extend(inherited_image(
            ctx,
            node,
            spec.image.as_ref(),
            &spec.name,
            service_image,
            out,
        ));
    }
    images
}

/// Scheduling's shape: node selector labels, toleration operators and effects. Which
/// taints and priority classes a tenant may use is checked on the built objects.
pub(super) fn scheduling(ctx: &SpecCtx, out: &mut Vec<Diagnostic>) {
    let Some(s) = &ctx.spec.scheduling else {
        return;
    };
    for (key, value) in s.node_selector.iter().flatten() {
        let at = ctx.at(&["scheduling", "nodeSelector", key]);
        if let Err(msg) =
            check_qualified_name(key).and_then(|()| crate::names::check_label_value(key, value))
        {
            out.push(Diagnostic::new(msg).at(&at));
        }
    }
    let nodes = ctx
        .tree
        .get("scheduling")
        .and_then(|s| s.get("tolerations"))
        .and_then(Node::as_seq)
        .unwrap_or(&[]);
    for (i, t) in s.tolerations.iter().flatten().enumerate() {
        let at = nodes
            .get(i)
            .map_or_else(|| ctx.at(&["scheduling"]), |n| n.origin.clone());
        if !matches!(t.operator.as_deref(), None | Some("Equal" | "Exists")) {
            out.push(Diagnostic::new("toleration operator must be Equal or Exists").at(&at));
        }
        if !matches!(
            t.effect.as_deref(),
            None | Some("NoSchedule" | "PreferNoSchedule" | "NoExecute")
        ) {
            out.push(
                Diagnostic::new(
                    "toleration effect must be NoSchedule, PreferNoSchedule or NoExecute",
                )
                .at(&at),
            );
        }
        if t.operator.as_deref() == Some("Exists") && t.value.is_some() {
            out.push(Diagnostic::new("a toleration with operator Exists has no value").at(&at));
        }
    }
}
