//! Examiner's attacks on issue 17 (output integrity and what reaches the cluster): custom
//! resources the platform declares that embed pod fields in shapes of their own, and custom
//! resources that reach into other namespaces.
use crate::common;

use crate::common::{Repo, STENCIL_YAML};

/// The platform declares CRDs whose controllers make pods (Argo Workflows, Tekton) or read
/// other namespaces (Prometheus Operator), and runs a shared Gateway in `edge-gw`.
fn repo() -> Repo {
    Repo::new().file(
        "stencil.yaml",
        format!(
            "{STENCIL_YAML}reservedNamespaces: [edge-gw]\nextraObjects:\n  customResources:\n    - {{ apiVersion: argoproj.io/v1alpha1, kind: Workflow }}\n    - {{ apiVersion: tekton.dev/v1, kind: TaskRun }}\n    - {{ apiVersion: monitoring.coreos.com/v1, kind: ServiceMonitor }}\n    - {{ apiVersion: monitoring.coreos.com/v1, kind: PodMonitor }}\n    - {{ apiVersion: gateway.networking.k8s.io/v1, kind: HTTPRoute }}\n"
        ),
    )
}

fn values(body: &str) -> Repo {
    repo().file("tenants/acme/api/values.yaml", body)
}

const WORKFLOW: &str = "extraObjects:\n  - apiVersion: argoproj.io/v1alpha1\n    kind: Workflow\n    metadata: { name: wf }\n    spec:\n      entrypoint: main\n";

#[test]
fn a_workflow_cannot_embed_host_access() {
    for (spec, rule) in [
        ("      hostNetwork: true\n", "pss-host-namespaces"),
        ("      hostPID: true\n", "pss-host-namespaces"),
        (
            "      volumes: [{ name: root, hostPath: { path: / } }]\n",
            "pss-host-path",
        ),
        (
            "      templates:\n        - name: main\n          container: { image: \"busybox:1.0\", securityContext: { privileged: true } }\n",
            "pss-privileged",
        ),
        (
            "      templates:\n        - name: main\n          container: { image: \"busybox:1.0\", ports: [{ containerPort: 80, hostPort: 80 }] }\n",
            "pss-host-ports",
        ),
        (
            "      templates:\n        - name: main\n          podSpecPatch: '{\"hostNetwork\": true}'\n",
            "pss-host-namespaces",
        ),
        ("      nodeName: ip-10-0-0-1\n", "node-placement"),
        (
            "      templates:\n        - name: main\n          container: { image: \"busybox:1.0\", securityContext: { allowPrivilegeEscalation: true } }\n",
            "no-privilege-escalation",
        ),
    ] {
        values(&format!("{WORKFLOW}{spec}"))
            .run(&["render"])
            .fails(&[rule, "Workflow acme/wf"]);
    }
    // Safe values of the same fields pass.
    values(&format!(
        "{WORKFLOW}      hostNetwork: false\n      templates:\n        - name: main\n          container: {{ image: \"busybox:1.0\", securityContext: {{ privileged: false, allowPrivilegeEscalation: false }} }}\n"
    ))
    .run(&["render"])
    .ok();
}

#[test]
fn a_taskrun_pod_template_cannot_share_the_node() {
    values("extraObjects:\n  - apiVersion: tekton.dev/v1\n    kind: TaskRun\n    metadata: { name: tr }\n    spec:\n      podTemplate: { hostNetwork: true }\n      taskSpec: { steps: [{ name: s, image: \"busybox:1.0\" }] }\n")
        .run(&["render"])
        .fails(&["pss-host-namespaces", "spec.podTemplate.hostNetwork"]);
}

#[test]
fn a_monitor_cannot_scrape_other_namespaces() {
    let monitor = |kind: &str, selector: &str| {
        format!(
            "extraObjects:\n  - apiVersion: monitoring.coreos.com/v1\n    kind: {kind}\n    metadata: {{ name: m }}\n    spec:\n      selector: {{}}\n{selector}"
        )
    };
    for selector in [
        "      namespaceSelector: { any: true }\n",
        "      namespaceSelector: { matchNames: [globex] }\n",
        "      namespaceSelector: { matchNames: [acme, globex] }\n",
        "      namespaceSelector: {}\n",
        "      namespaceSelector: { matchLabels: { team: x } }\n",
    ] {
        for kind in ["ServiceMonitor", "PodMonitor"] {
            values(&monitor(kind, selector))
                .run(&["render"])
                .fails(&["spec.namespaceSelector", "reaches namespaces beyond `acme`"]);
        }
    }
    // A reference into another tenant's namespace, at any depth.
    values(&monitor(
        "ServiceMonitor",
        "      endpoints: [{ port: http, authorization: { credentials: { name: token, key: t } }, oauth2: { clientId: { secret: { name: s, key: k } }, namespace: globex } }]\n",
    ))
    .run(&["render"])
    .fails(&["spec.endpoints[0].oauth2.namespace"]);
    // The own namespace, by name, passes.
    values(&monitor(
        "ServiceMonitor",
        "      namespaceSelector: { matchNames: [acme] }\n      endpoints: [{ port: http }]\n",
    ))
    .run(&["render"])
    .ok();
}

#[test]
fn a_route_may_name_the_platform_gateway_but_not_another_tenant() {
    let route = |ns: &str| {
        format!(
            "extraObjects:\n  - apiVersion: gateway.networking.k8s.io/v1\n    kind: HTTPRoute\n    metadata: {{ name: r }}\n    spec:\n      hostnames: [api.acme.dev.example.com]\n      parentRefs: [{{ name: public, namespace: {ns} }}]\n      rules: [{{ backendRefs: [{{ name: api, port: 8000 }}] }}]\n"
        )
    };
    let with_domain = |body: &str| {
        values(body).file(
            "tenants/acme/tenant.yaml",
            "kind: Tenant\nenvironment: dev\ndomain: acme.dev.example.com\nservices: [api]\n",
        )
    };
    with_domain(&route("edge-gw")).run(&["render"]).ok();
    with_domain(&route("globex"))
        .run(&["render"])
        .fails(&["spec.parentRefs[0].namespace"]);
}

/// base/ is the platform's: its custom resources may name other namespaces.
#[test]
fn the_platform_may_name_other_namespaces() {
    repo()
        .file(
            "base/api/service.yaml",
            format!(
                "{}extraObjects:\n  - apiVersion: monitoring.coreos.com/v1\n    kind: ServiceMonitor\n    metadata: {{ name: m }}\n    spec:\n      selector: {{}}\n      namespaceSelector: {{ any: true }}\n",
                common::SERVICE_YAML
            ),
        )
        .run(&["render"])
        .ok();
}

/// stencil's and Argo CD's labels and annotations say which tenant, service and Application
/// an object belongs to: patches could not set them, but tenant.yaml `labels`, a service's
/// `labels` and `podAnnotations`, and extra objects (Argo CD's keys, a CronJob's pods) could.
#[test]
fn ownership_keys_come_from_stencil_only() {
    for label in [
        "argocd.argoproj.io/instance: globex-api",
        "app.kubernetes.io/instance: globex-api",
        "app.kubernetes.io/name: api",
        "stencil.dev/tenant: globex",
    ] {
        Repo::new()
            .file(
                "tenants/acme/tenant.yaml",
                format!("{}labels:\n  {label}\n", common::TENANT_YAML),
            )
            .run(&["render"])
            .fails(&["platform-labels tenants/acme/tenant.yaml:5"]);
        for field in ["labels", "podAnnotations"] {
            values(&format!("{field}:\n  {label}\n"))
                .run(&["render"])
                .fails(&["platform-labels tenants/acme/api/values.yaml:2", field]);
        }
    }
    for metadata in [
        "metadata: { name: x, labels: { argocd.argoproj.io/instance: globex-api } }",
        "metadata: { name: x, annotations: { argocd.argoproj.io/tracking-id: 'globex-api:/ConfigMap:globex/x' } }",
        "metadata: { name: x, labels: { app.kubernetes.io/instance: globex-api } }",
    ] {
        values(&format!(
            "extraObjects:\n  - {{ apiVersion: v1, kind: ConfigMap, {metadata} }}\n"
        ))
        .run(&["render"])
        .fails(&["platform-labels tenants/acme/api/values.yaml:2"]);
    }
    // A CronJob's pods are checked too.
    values("extraObjects:\n  - apiVersion: batch/v1\n    kind: CronJob\n    metadata: { name: c }\n    spec:\n      schedule: '* * * * *'\n      jobTemplate:\n        spec:\n          template:\n            metadata: { labels: { stencil.dev/tenant: globex } }\n            spec: { restartPolicy: Never, containers: [] }\n")
        .run(&["render"])
        .fails(&["platform-labels", "stencil.dev/tenant"]);
    // Labels of the tenant's own, and stencil's values, pass.
    Repo::new()
        .file(
            "tenants/acme/tenant.yaml",
            format!("{}labels:\n  team.acme.io/owner: me\n", common::TENANT_YAML),
        )
        .file(
            "tenants/acme/api/values.yaml",
            "labels: { team.acme.io/cost: x }\nextraObjects:\n  - { apiVersion: v1, kind: ConfigMap, metadata: { name: x, labels: { app.kubernetes.io/instance: acme-api } } }\n",
        )
        .run(&["render"])
        .ok();
}

/// Tenant labels go on the tenant's Namespace, where a Kubernetes-reserved label switches
/// cluster behaviour on: `resource.k8s.io/admin-access: "true"` lets the namespace's
/// ResourceClaims with adminAccess reach devices other tenants' pods use.
#[test]
fn tenant_labels_cannot_use_kubernetes_prefixes() {
    for label in [
        "resource.k8s.io/admin-access: 'true'",
        "kubernetes.io/metadata.name: kube-system",
        "node-restriction.kubernetes.io/x: y",
        "k8s.io/x: y",
    ] {
        Repo::new()
            .file(
                "tenants/acme/tenant.yaml",
                format!("{}labels:\n  {label}\n", common::TENANT_YAML),
            )
            .run(&["render"])
            .fails(&["platform-labels tenants/acme/tenant.yaml:5", "reserves"]);
        values(&format!("labels:\n  {label}\n"))
            .run(&["render"])
            .fails(&["platform-labels tenants/acme/api/values.yaml:2", "reserves"]);
    }
    // The recommended app.kubernetes.io/ labels stay the tenant's (but stencil's own).
    Repo::new()
        .file(
            "tenants/acme/tenant.yaml",
            format!(
                "{}labels:\n  app.kubernetes.io/component: backend\n  example.k8s.io.acme.com/x: y\n",
                common::TENANT_YAML
            ),
        )
        .run(&["render"])
        .ok();
}

/// A monitor's `bearerTokenFile` (or `tlsConfig.keyFile`, ...) makes the shared Prometheus
/// read a file of its own, its service-account token, and send it to the tenant's endpoint.
#[test]
fn a_monitor_cannot_read_the_controllers_files() {
    for endpoint in [
        "{ port: http, bearerTokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token }",
        "{ port: http, tlsConfig: { keyFile: /etc/prometheus/secrets/k, certFile: /c } }",
        "{ port: http, basicAuth: { passwordFile: /etc/passwd } }",
    ] {
        values(&format!(
            "extraObjects:\n  - apiVersion: monitoring.coreos.com/v1\n    kind: ServiceMonitor\n    metadata: {{ name: m }}\n    spec:\n      selector: {{}}\n      endpoints: [{endpoint}]\n"
        ))
        .run(&["render"])
        .fails(&["ServiceMonitor acme/m", "controller's own filesystem"]);
    }
}
