//! Examiner's attacks on issue 17 (output integrity and what reaches the cluster): custom
//! resources the platform declares that embed pod fields in shapes of their own.
mod common;

use common::{Repo, STENCIL_YAML};

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
