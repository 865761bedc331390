//! Service and Ingress. The Service exposes the main port as `http`, the main container's
//! other named ports and every sidecar port (a StatefulSet also gets a headless Service);
//! the Ingress routes the main paths of every host to `http` and each sidecar `ingressPath`
//! to that sidecar's port, most specific paths first, with the AWS Load Balancer
//! Controller's annotations when its class is `alb` and cert-manager's when it has `tls`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, IngressTLS, ServiceBackendPort,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::Labels;
use super::annotations;
use super::workload::meta;
use crate::names::sidecar_port_name;
use crate::policy::Workload;

/// The Service's ports: the main port as `http`, the main container's other named ports,
/// every sidecar port.
fn service_ports(w: &Workload) -> Vec<ServicePort> {
    let port = |name: &str, number: u16| ServicePort {
        name: Some(name.to_owned()),
        port: i32::from(number),
        target_port: Some(IntOrString::String(name.to_owned())),
        protocol: Some("TCP".into()),
        ..ServicePort::default()
    };
    let mut ports: Vec<ServicePort> = w.port.map(|p| port("http", p)).into_iter().collect();
    for (name, number) in w.spec.ports.iter().flatten() {
        ports.push(port(name, *number));
    }
    for sidecar in w.spec.sidecars.iter().flatten() {
        if let Some(number) = sidecar.port {
            ports.push(port(&sidecar_port_name(&sidecar.name), number));
        }
    }
    ports
}

/// The Service of a Deployment or StatefulSet (`serviceType`, ClusterIP by default; the
/// `service-type` rule refuses others unless the platform grants an exception).
pub(super) fn service(w: &Workload, ns: &str, labels: &Labels) -> Service {
    let type_ = w.spec.service_type.map_or("ClusterIP", |t| t.as_str());
    Service {
        metadata: meta(&w.service, ns, labels),
        spec: Some(ServiceSpec {
            type_: Some(type_.into()),
            selector: Some(labels.selector.clone()),
            ports: Some(service_ports(w)),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

/// The label of a StatefulSet's headless Service: a ServiceMonitor selects the ClusterIP
/// Service only (not every pod twice, not-ready ones included).
pub(super) const HEADLESS: &str = "stencil.dev/headless";

/// The name of a StatefulSet's headless Service.
pub(super) fn headless_name(service: &str) -> String {
    format!("{service}-headless")
}

/// A StatefulSet's headless Service: a stable DNS name per pod
/// (`<service>-0.<service>-headless`), ready or not, so peers find each other at start.
pub(super) fn headless_service(w: &Workload, ns: &str, labels: &Labels) -> Service {
    let mut metadata = meta(&headless_name(&w.service), ns, labels);
    if let Some(l) = metadata.labels.as_mut() {
        l.insert(HEADLESS.into(), "true".into());
    }
    Service {
        metadata,
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            cluster_ip: Some("None".into()),
            publish_not_ready_addresses: Some(true),
            selector: Some(labels.selector.clone()),
            ports: Some(service_ports(w)),
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

/// The main path and every extra path to `http`, each sidecar `ingressPath` to its port,
/// the longest prefix first (the ALB evaluates rules in order).
fn ingress_paths(w: &Workload, spec: &crate::model::IngressSpec) -> Vec<(String, String)> {
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
    for path in spec.paths.iter().flatten() {
        paths.push((path.clone(), "http".into()));
    }
    paths.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
    paths.dedup_by(|a, b| a.0 == b.0);
    paths
}

/// The AWS Load Balancer Controller's annotations, for an Ingress of class `alb`.
fn alb_annotations(
    w: &Workload,
    spec: &crate::model::IngressSpec,
    notes: &mut BTreeMap<String, String>,
) {
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
}

pub(super) fn ingress(w: &Workload, ns: &str, labels: &Labels) -> Option<Ingress> {
    let spec = w.spec.ingress.as_ref()?;
    if !w.serves() || !spec.enabled.unwrap_or(spec.host.is_some()) {
        return None;
    }
    let host = spec.host.clone()?;
    let mut hosts = vec![host];
    for h in spec.hosts.iter().flatten() {
        if !hosts.contains(h) {
            hosts.push(h.clone());
        }
    }
    let class = spec.class_name.clone().unwrap_or_else(|| "alb".into());
    let mut notes: BTreeMap<String, String> = BTreeMap::new();
    if class == "alb" {
        alb_annotations(w, spec, &mut notes);
    }
    let tls = spec.tls.as_ref().map(|tls| {
        if let Some(issuer) = &tls.cluster_issuer {
            notes.insert("cert-manager.io/cluster-issuer".into(), issuer.clone());
        }
        vec![IngressTLS {
            hosts: Some(hosts.clone()),
            secret_name: Some(
                tls.secret_name
                    .clone()
                    .unwrap_or_else(|| format!("{}-tls", w.service)),
            ),
        }]
    });
    for (k, v) in spec.annotations.iter().flatten() {
        notes.insert(k.clone(), v.clone());
    }
    let paths = ingress_paths(w, spec);
    let rule = |host: String| IngressRule {
        host: Some(host),
        http: Some(HTTPIngressRuleValue {
            paths: paths
                .iter()
                .map(|(path, port)| HTTPIngressPath {
                    path: Some(path.clone()),
                    path_type: "Prefix".into(),
                    backend: backend(&w.service, port),
                })
                .collect(),
        }),
    };
    let mut metadata = meta(&w.service, ns, labels);
    metadata.annotations = annotations(notes);
    Some(Ingress {
        metadata,
        spec: Some(IngressSpec {
            ingress_class_name: Some(class),
            rules: Some(hosts.into_iter().map(rule).collect()),
            tls,
            ..IngressSpec::default()
        }),
        ..Ingress::default()
    })
}
