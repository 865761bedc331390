//! Service and Ingress. The Service exposes the main port as `http` and every sidecar port;
//! the Ingress (AWS Load Balancer Controller) routes the main path to `http` and each sidecar
//! `ingressPath` to that sidecar's port, most specific paths first.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, ServiceBackendPort,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::Labels;
use super::annotations;
use super::workload::meta;
use crate::names::sidecar_port_name;
use crate::policy::Workload;

pub(super) fn service(w: &Workload, ns: &str, labels: &Labels) -> Service {
    let mut ports = vec![ServicePort {
        name: Some("http".into()),
        port: i32::from(w.port),
        target_port: Some(IntOrString::String("http".into())),
        protocol: Some("TCP".into()),
        ..ServicePort::default()
    }];
    for sidecar in w.spec.sidecars.iter().flatten() {
        if let Some(port) = sidecar.port {
            let name = sidecar_port_name(&sidecar.name);
            ports.push(ServicePort {
                name: Some(name.clone()),
                port: i32::from(port),
                target_port: Some(IntOrString::String(name)),
                protocol: Some("TCP".into()),
                ..ServicePort::default()
            });
        }
    }
    Service {
        metadata: meta(&w.service, ns, labels),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: Some(labels.selector.clone()),
            ports: Some(ports),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

fn backend(service: &str, port: &str) -> IngressBackend {
    IngressBackend {
        service: Some(IngressServiceBackend {
            name: service.to_owned(),
            port: Some(ServiceBackendPort {
                name: Some(port.to_owned()),
                ..ServiceBackendPort::default()
            }),
        }),
        ..IngressBackend::default()
    }
}

pub(super) fn ingress(w: &Workload, ns: &str, labels: &Labels) -> Option<Ingress> {
    let spec = w.spec.ingress.as_ref()?;
    if !spec.enabled.unwrap_or(spec.host.is_some()) {
        return None;
    }
    let host = spec.host.clone()?;
    let mut paths: Vec<(String, String)> = w
        .spec
        .sidecars
        .iter()
        .flatten()
        .filter(|s| s.port.is_some())
        .filter_map(|s| Some((s.ingress_path.clone()?, sidecar_port_name(&s.name))))
        .collect();
    paths.push((
        spec.path.clone().unwrap_or_else(|| "/".into()),
        "http".into(),
    ));
    // The ALB evaluates rules in order: the longest prefix must come first.
    paths.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));

    let mut notes: BTreeMap<String, String> = BTreeMap::new();
    let alb = |k: &str| format!("alb.ingress.kubernetes.io/{k}");
    notes.insert(
        alb("scheme"),
        spec.scheme.map_or("internet-facing", |s| s.as_str()).into(),
    );
    notes.insert(alb("target-type"), "ip".into());
    let health_path = w
        .spec
        .probes
        .as_ref()
        .and_then(|p| p.readiness.as_ref().or(p.liveness.as_ref()))
        .and_then(|p| p.path.clone());
    if let Some(path) = health_path {
        notes.insert(alb("healthcheck-path"), path);
    }
    if let Some(arn) = &spec.certificate_arn {
        notes.insert(alb("certificate-arn"), arn.clone());
        notes.insert(alb("listen-ports"), r#"[{"HTTP":80},{"HTTPS":443}]"#.into());
        notes.insert(alb("ssl-redirect"), "443".into());
    } else {
        notes.insert(alb("listen-ports"), r#"[{"HTTP":80}]"#.into());
    }
    if let Some(group) = &spec.group_name {
        notes.insert(alb("group.name"), group.clone());
    }
    for (k, v) in spec.annotations.iter().flatten() {
        notes.insert(k.clone(), v.clone());
    }
    let mut metadata = meta(&w.service, ns, labels);
    metadata.annotations = annotations(notes);
    Some(Ingress {
        metadata,
        spec: Some(IngressSpec {
            ingress_class_name: Some(spec.class_name.clone().unwrap_or_else(|| "alb".into())),
            rules: Some(vec![IngressRule {
                host: Some(host),
                http: Some(HTTPIngressRuleValue {
                    paths: paths
                        .into_iter()
                        .map(|(path, port)| HTTPIngressPath {
                            path: Some(path),
                            path_type: "Prefix".into(),
                            backend: backend(&w.service, &port),
                        })
                        .collect(),
                }),
            }]),
            ..IngressSpec::default()
        }),
        ..Ingress::default()
    })
}
