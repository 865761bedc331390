//! Pods and Services (issue 17, item 4): every pod template of the output passes Pod Security
//! `restricted`, whether it comes from stencil's Deployment after a patch or from an extra
//! object (Pod, Job, CronJob, StatefulSet, ...), in containers, init containers and ephemeral
//! containers; pods are not pinned to nodes; Services get no externalIPs and no node or
//! load-balancer exposure; `pod-security.kubernetes.io/*` labels are the platform's.

use crate::common;

use crate::common::Repo;
use serde_json::{Value, json};

const VALUES: &str = "tenants/acme/api/values.yaml";

/// Where a case changes the pod: the pod spec, its first container, or the pod template's
/// annotations.
#[derive(Clone, Copy, Debug)]
enum Scope {
    Pod,
    Container,
    Annotations,
}

/// One way of breaking a control: a JSON-pointer-like path (relative to the scope; `-`
/// appends to a list, `~1` is a `/`), the value put there, and the rule expected.
struct Case {
    rule: &'static str,
    scope: Scope,
    path: &'static str,
    value: Value,
    /// A word the message must contain (the field).
    field: String,
}

fn case(rule: &'static str, scope: Scope, path: &'static str, value: Value) -> Case {
    let field = path
        .rsplit('/')
        .find(|p| *p != "-")
        .unwrap_or(path)
        .replace("~1", "/");
    Case {
        rule,
        scope,
        path,
        value,
        field,
    }
}

/// One case per control of Pod Security Standards (baseline and restricted, v1.33, plus the
/// v1.34 probe host), and the scheduling bypass.
fn cases() -> Vec<Case> {
    use Scope::{Annotations, Container, Pod};
    vec![
        case(
            "pss-host-process",
            Pod,
            "securityContext/windowsOptions",
            json!({ "hostProcess": true }),
        ),
        case(
            "pss-host-process",
            Container,
            "securityContext/windowsOptions",
            json!({ "hostProcess": true }),
        ),
        case("pss-host-namespaces", Pod, "hostNetwork", json!(true)),
        case("pss-host-namespaces", Pod, "hostPID", json!(true)),
        case("pss-host-namespaces", Pod, "hostIPC", json!(true)),
        case(
            "pss-privileged",
            Container,
            "securityContext/privileged",
            json!(true),
        ),
        case(
            "pss-capabilities",
            Container,
            "securityContext/capabilities/add",
            json!(["SYS_ADMIN"]),
        ),
        case(
            "pss-capabilities",
            Container,
            "securityContext/capabilities/add",
            json!(["NET_RAW"]),
        ),
        case(
            "pss-host-path",
            Pod,
            "volumes/-",
            json!({ "name": "root", "hostPath": { "path": "/" } }),
        ),
        case(
            "pss-host-ports",
            Container,
            "ports/-",
            json!({ "name": "host", "containerPort": 9000, "hostPort": 9000 }),
        ),
        case(
            "pss-apparmor",
            Annotations,
            "container.apparmor.security.beta.kubernetes.io~1c",
            json!("unconfined"),
        ),
        case(
            "pss-apparmor",
            Pod,
            "securityContext/appArmorProfile",
            json!({ "type": "Unconfined" }),
        ),
        case(
            "pss-apparmor",
            Container,
            "securityContext/appArmorProfile",
            json!({ "type": "Unconfined" }),
        ),
        case(
            "pss-selinux",
            Container,
            "securityContext/seLinuxOptions",
            json!({ "type": "spc_t" }),
        ),
        case(
            "pss-selinux",
            Pod,
            "securityContext/seLinuxOptions",
            json!({ "user": "system_u" }),
        ),
        case(
            "pss-selinux",
            Container,
            "securityContext/seLinuxOptions",
            json!({ "role": "sysadm_r" }),
        ),
        case(
            "pss-proc-mount",
            Container,
            "securityContext/procMount",
            json!("Unmasked"),
        ),
        case(
            "seccomp-runtime-default",
            Pod,
            "securityContext/seccompProfile",
            json!({ "type": "Unconfined" }),
        ),
        case(
            "seccomp-runtime-default",
            Container,
            "securityContext/seccompProfile",
            json!({ "type": "Unconfined" }),
        ),
        case(
            "seccomp-runtime-default",
            Annotations,
            "seccomp.security.alpha.kubernetes.io~1pod",
            json!("unconfined"),
        ),
        case(
            "pss-sysctls",
            Pod,
            "securityContext/sysctls",
            json!([{ "name": "kernel.msgmax", "value": "65536" }]),
        ),
        case(
            "pss-volume-types",
            Pod,
            "volumes/-",
            json!({ "name": "share", "nfs": { "server": "10.0.0.1", "path": "/" } }),
        ),
        case(
            "pss-volume-types",
            Pod,
            "volumes/-",
            json!({ "name": "repo", "gitRepo": { "repository": "https://example.com/x.git" } }),
        ),
        case(
            "no-privilege-escalation",
            Container,
            "securityContext/allowPrivilegeEscalation",
            json!(true),
        ),
        case(
            "run-as-non-root",
            Container,
            "securityContext/runAsNonRoot",
            json!(false),
        ),
        case(
            "run-as-non-root",
            Container,
            "securityContext/runAsUser",
            json!(0),
        ),
        case(
            "run-as-non-root",
            Pod,
            "securityContext/runAsUser",
            json!(0),
        ),
        case(
            "run-as-non-root",
            Pod,
            "securityContext/runAsNonRoot",
            json!(false),
        ),
        case(
            "pss-host-probes",
            Container,
            "livenessProbe",
            json!({ "tcpSocket": { "port": 80, "host": "169.254.169.254" } }),
        ),
        case(
            "pss-host-probes",
            Container,
            "lifecycle",
            json!({ "preStop": { "httpGet": { "port": 80, "host": "10.0.0.1", "path": "/" } } }),
        ),
        case("node-placement", Pod, "nodeName", json!("ip-10-0-0-1")),
        case(
            "node-placement",
            Pod,
            "priorityClassName",
            json!("system-cluster-critical"),
        ),
        case(
            "node-placement",
            Pod,
            "tolerations",
            json!([{ "operator": "Exists" }]),
        ),
    ]
}

/// Adds `value` at `path` under `target`, creating maps (and lists for `-`) on the way.
fn put(target: &mut Value, path: &str, value: Value) {
    let parts: Vec<String> = path
        .split('/')
        .map(|p| p.replace("~1", "/").replace("~0", "~"))
        .collect();
    put_parts(target, &parts, value);
}

fn put_parts(node: &mut Value, parts: &[String], value: Value) {
    let Some((part, rest)) = parts.split_first() else {
        *node = value;
        return;
    };
    let fresh = || match rest.first().map(String::as_str) {
        Some("-") => json!([]),
        _ => json!({}),
    };
    if part == "-" {
        if !node.is_array() {
            *node = json!([]);
        }
        let list = node.as_array_mut().expect("list");
        list.push(if rest.is_empty() {
            Value::Null
        } else {
            fresh()
        });
        let last = list.last_mut().expect("pushed");
        return put_parts(last, rest, value);
    }
    if node.is_array() {
        let index: usize = part.parse().expect("an index into a list");
        let item = node.get_mut(index).expect("index in range");
        return put_parts(item, rest, value);
    }
    if !node.is_object() {
        *node = json!({});
    }
    let map = node.as_object_mut().expect("map");
    let child = map.entry(part.clone()).or_insert_with(fresh);
    put_parts(child, rest, value);
}

fn hardened_container(name: &str) -> Value {
    json!({
        "name": name,
        "image": "registry.example.com/tool:1.2.3",
        "resources": { "requests": { "cpu": "10m", "memory": "16Mi" }, "limits": { "memory": "16Mi" } },
        "securityContext": {
            "allowPrivilegeEscalation": false,
            "readOnlyRootFilesystem": true,
            "runAsNonRoot": true,
            "runAsUser": 1000,
            "capabilities": { "drop": ["ALL"] },
            "seccompProfile": { "type": "RuntimeDefault" }
        }
    })
}

/// A pod template that passes every rule: the starting point of every extra-object case.
fn hardened_template() -> Value {
    json!({
        "metadata": { "labels": { "app": "tool" } },
        "spec": {
            "restartPolicy": "Never",
            "securityContext": { "runAsNonRoot": true, "seccompProfile": { "type": "RuntimeDefault" } },
            "containers": [hardened_container("c")]
        }
    })
}

/// Applies a case to a pod template (`metadata` + `spec`).
fn break_template(template: &mut Value, case: &Case, container_list: &str) {
    let (scope, path) = match case.scope {
        Scope::Pod => ("spec".to_owned(), case.path.to_owned()),
        Scope::Container => (format!("spec/{container_list}/0"), case.path.to_owned()),
        Scope::Annotations => ("metadata/annotations".to_owned(), case.path.to_owned()),
    };
    put(template, &format!("{scope}/{path}"), case.value.clone());
}

/// An extra object of `kind` around `template`.
fn workload(kind: &str, template: Value) -> Value {
    let selector = json!({ "matchLabels": { "app": "tool" } });
    match kind {
        "Pod" => {
            json!({ "apiVersion": "v1", "kind": "Pod", "metadata": { "name": "tool", "annotations": template["metadata"].get("annotations") }, "spec": template["spec"] })
        }
        "Job" => {
            json!({ "apiVersion": "batch/v1", "kind": "Job", "metadata": { "name": "tool" }, "spec": { "template": template } })
        }
        "CronJob" => {
            json!({ "apiVersion": "batch/v1", "kind": "CronJob", "metadata": { "name": "tool" },
            "spec": { "schedule": "0 * * * *", "jobTemplate": { "spec": { "template": template } } } })
        }
        "StatefulSet" => {
            json!({ "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": { "name": "tool" },
            "spec": { "serviceName": "tool", "selector": selector, "template": template } })
        }
        "Deployment" => {
            json!({ "apiVersion": "apps/v1", "kind": "Deployment", "metadata": { "name": "tool" },
            "spec": { "selector": selector, "template": template } })
        }
        "ReplicaSet" => {
            json!({ "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": { "name": "tool" },
            "spec": { "selector": selector, "template": template } })
        }
        "ReplicationController" => {
            json!({ "apiVersion": "v1", "kind": "ReplicationController", "metadata": { "name": "tool" },
            "spec": { "template": template } })
        }
        "PodTemplate" => {
            json!({ "apiVersion": "v1", "kind": "PodTemplate", "metadata": { "name": "tool" }, "template": template })
        }
        // A custom resource that embeds a pod template (Argo Rollouts, Knative, KEDA, ...).
        "Rollout" => {
            json!({ "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": { "name": "tool" },
            "spec": { "selector": selector, "template": template } })
        }
        _ => unreachable!("{kind}"),
    }
}

fn extra_objects(objects: &[Value]) -> String {
    let mut out = String::from("extraObjects:\n");
    for o in objects {
        out.push_str(&format!("  - {o}\n"));
    }
    out
}

const KINDS: [&str; 9] = [
    "Pod",
    "Job",
    "CronJob",
    "StatefulSet",
    "Deployment",
    "ReplicaSet",
    "ReplicationController",
    "PodTemplate",
    "Rollout",
];

#[track_caller]
/// The test repository, with the Argo Rollout custom resource declared so that tenants may
/// add one (the allow-list refuses undeclared kinds before any pod check).
fn repo() -> Repo {
    Repo::new().file(
        "stencil.yaml",
        format!(
            "{}extraObjects:\n  customResources:\n    - {{ apiVersion: argoproj.io/v1alpha1, kind: Rollout }}\n",
            common::STENCIL_YAML
        ),
    )
}

fn refused(values: &str, rule: &str, needles: &[&str]) {
    let mut all = vec![format!("error: {rule} {VALUES}:")];
    all.extend(needles.iter().map(|n| (*n).to_owned()));
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    repo().file(VALUES, values).run(&["render"]).fails(&all);
}

#[test]
fn hardened_extra_workloads_render() {
    let objects: Vec<Value> = KINDS
        .iter()
        .filter(|k| **k != "Deployment") // one object per kind and name
        .map(|k| workload(k, hardened_template()))
        .collect();
    let run = repo()
        .file(VALUES, extra_objects(&objects))
        .run(&["render"])
        .ok();
    assert!(run.stdout.contains("kind: CronJob"), "{}", run.stdout);
    // Values the standards allow pass: Localhost profiles, the safe sysctls, the core
    // volume types, an SELinux container type.
    let mut t = hardened_template();
    put(
        &mut t,
        "spec/securityContext/sysctls",
        json!([{ "name": "net.ipv4.ping_group_range", "value": "0 1" }, { "name": "net.ipv4.tcp_keepalive_time", "value": "60" }]),
    );
    put(
        &mut t,
        "spec/securityContext/seLinuxOptions",
        json!({ "type": "container_t", "level": "s0:c1,c2" }),
    );
    put(
        &mut t,
        "spec/securityContext/appArmorProfile",
        json!({ "type": "RuntimeDefault" }),
    );
    put(
        &mut t,
        "spec/containers/0/securityContext/seccompProfile",
        json!({ "type": "Localhost", "localhostProfile": "profiles/tool.json" }),
    );
    put(
        &mut t,
        "spec/containers/0/securityContext/procMount",
        json!("Default"),
    );
    put(
        &mut t,
        "metadata/annotations/container.apparmor.security.beta.kubernetes.io~1c",
        json!("localhost/tool"),
    );
    put(
        &mut t,
        "spec/volumes",
        json!([
            { "name": "a", "emptyDir": {} },
            { "name": "b", "configMap": { "name": "x" } },
            { "name": "c", "secret": { "secretName": "x" } },
            { "name": "d", "persistentVolumeClaim": { "claimName": "x" } },
            { "name": "e", "projected": { "sources": [] } },
            { "name": "f", "downwardAPI": { "items": [] } },
            { "name": "g", "csi": { "driver": "secrets-store.csi.k8s.io" } },
            { "name": "h", "ephemeral": { "volumeClaimTemplate": { "spec": { "accessModes": ["ReadWriteOnce"] } } } }
        ]),
    );
    put(
        &mut t,
        "spec/containers/0/livenessProbe",
        json!({ "httpGet": { "port": 8080, "path": "/healthz" } }),
    );
    // The CSI driver is one the platform offers (rule `storage`, tests/it/workloads.rs).
    Repo::new()
        .file(
            "stencil.yaml",
            format!(
                "{}tenancy:\n  csiDrivers: [secrets-store.csi.k8s.io]\n",
                common::STENCIL_YAML
            ),
        )
        .file(VALUES, extra_objects(&[workload("Job", t)]))
        .run(&["render"])
        .ok();
}

#[test]
fn every_control_is_enforced_on_every_extra_workload_kind() {
    for case in cases() {
        for kind in KINDS {
            let mut template = hardened_template();
            break_template(&mut template, &case, "containers");
            let values = extra_objects(&[workload(kind, template)]);
            refused(
                &values,
                case.rule,
                &[&format!("{kind} acme/tool"), &case.field],
            );
        }
    }
}

#[test]
fn every_control_is_enforced_on_init_and_ephemeral_containers() {
    for case in cases()
        .into_iter()
        .filter(|c| matches!(c.scope, Scope::Container))
    {
        for (list, kind) in [
            ("initContainers", "Job"),
            ("initContainers", "Pod"),
            ("ephemeralContainers", "Pod"),
        ] {
            let mut template = hardened_template();
            put(
                &mut template,
                &format!("spec/{list}/-"),
                hardened_container("helper"),
            );
            break_template(&mut template, &case, list);
            let values = extra_objects(&[workload(kind, template)]);
            refused(&values, case.rule, &["container `helper`", &case.field]);
        }
    }
}

/// The same controls through a JSON patch on the Deployment stencil renders.
#[test]
fn every_control_is_enforced_on_a_patched_deployment() {
    for case in cases() {
        let path = match case.scope {
            Scope::Pod => format!("/spec/template/spec/{}", case.path),
            Scope::Container => format!("/spec/template/spec/containers/0/{}", case.path),
            Scope::Annotations => {
                format!("/spec/template/metadata/annotations/{}", case.path)
            }
        };
        let op = json!([{ "op": "add", "path": path, "value": case.value }]);
        let values = format!(
            "patches:\n  - target: {{ kind: Deployment, name: api }}\n    type: json\n    patch: {op}\n"
        );
        refused(&values, case.rule, &["Deployment acme/api", &case.field]);
    }
    // A merge patch too, and an init container added by a patch.
    refused(
        "patches:\n  - target: { kind: Deployment }\n    type: merge\n    patch: { spec: { template: { spec: { hostNetwork: true, hostPID: true } } } }\n",
        "pss-host-namespaces",
        &["hostNetwork", "hostPID"],
    );
    let mut init = hardened_container("setup");
    put(&mut init, "securityContext/privileged", json!(true));
    let op =
        json!([{ "op": "add", "path": "/spec/template/spec/initContainers", "value": [init] }]);
    refused(
        &format!("patches:\n  - target: {{ kind: Deployment }}\n    type: json\n    patch: {op}\n"),
        "pss-privileged",
        &["container `setup`"],
    );
}

#[test]
fn the_example_repository_rejects_a_patch_to_the_host_network() {
    let values = "patches:\n  - target: { kind: Deployment }\n    type: merge\n    patch: { spec: { template: { spec: { hostNetwork: true } } } }\n";
    let repo = Repo::example().file("tenants/slurm/apiserver/values.yaml", values);
    let needle = "error: pss-host-namespaces tenants/slurm/apiserver/values.yaml:2 Deployment slurm/apiserver";
    repo.run(&["render"]).fails(&[needle]);
    let validate = repo.run(&["validate"]);
    assert_eq!(validate.code, 1, "{}", validate.stderr);
    assert!(validate.stderr.contains(needle), "{}", validate.stderr);
    // As Argo CD runs it: nothing on stdout, so nothing is applied.
    let generate = repo.generate("slurm", "apiserver");
    assert_ne!(generate.code, 0, "{}", generate.stderr);
    assert!(generate.stdout.is_empty(), "{}", generate.stdout);
    assert!(generate.stderr.contains(needle), "{}", generate.stderr);
}

#[test]
fn baseline_rules_hold_where_a_restricted_rule_is_relaxed() {
    let exception = |rule: &str| {
        format!(
            "{}policy:\n  exceptions:\n    - rule: {rule}\n      tenants: [acme]\n      services: [api]\n      reason: needs it (PLAT-1)\n",
            common::STENCIL_YAML
        )
    };
    let add = |caps: &str| {
        format!(
            "patches:\n  - target: {{ kind: Deployment }}\n    type: json\n    patch: [{{ op: add, path: /spec/template/spec/containers/0/securityContext/capabilities/add, value: [{caps}] }}]\n"
        )
    };
    // drop-all-capabilities relaxed: a capability of the baseline set is fine, SYS_ADMIN is not.
    Repo::new()
        .file("stencil.yaml", exception("drop-all-capabilities"))
        .file(VALUES, add("CHOWN"))
        .run(&["render"])
        .ok();
    Repo::new()
        .file("stencil.yaml", exception("drop-all-capabilities"))
        .file(VALUES, add("SYS_ADMIN"))
        .run(&["render"])
        .fails(&[
            "error: pss-capabilities tenants/acme/api/values.yaml:2",
            "SYS_ADMIN",
        ]);
    // no-privilege-escalation relaxed: still not privileged.
    Repo::new()
        .file("stencil.yaml", exception("no-privilege-escalation"))
        .file(
            VALUES,
            "patches:\n  - target: { kind: Deployment }\n    type: json\n    patch: [{ op: add, path: /spec/template/spec/containers/0/securityContext/privileged, value: true }, { op: remove, path: /spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation }]\n",
        )
        .run(&["render"])
        .fails(&["error: pss-privileged "]);
    // pss-volume-types relaxed: an NFS volume passes, a hostPath still does not.
    let volume = |v: &str| {
        format!(
            "patches:\n  - target: {{ kind: Deployment }}\n    type: json\n    patch: [{{ op: add, path: /spec/template/spec/volumes/-, value: {v} }}]\n"
        )
    };
    Repo::new()
        .file("stencil.yaml", exception("pss-volume-types"))
        .file(
            VALUES,
            volume("{ name: n, nfs: { server: nfs.example.com, path: / } }"),
        )
        .run(&["render"])
        .ok();
    Repo::new()
        .file("stencil.yaml", exception("pss-volume-types"))
        .file(VALUES, volume("{ name: h, hostPath: { path: /var/run } }"))
        .run(&["render"])
        .fails(&["error: pss-host-path "]);
}

#[test]
fn an_exception_relaxes_a_pod_security_rule_for_its_tenant_and_service_only() {
    let settings = format!(
        "{}policy:\n  exceptions:\n    - rule: pss-host-namespaces\n      tenants: [acme]\n      services: [api]\n      reason: node exporter style agent (PLAT-7)\n",
        common::STENCIL_YAML
    );
    let patch = "patches:\n  - target: { kind: Deployment }\n    type: merge\n    patch: { spec: { template: { spec: { hostNetwork: true } } } }\n";
    let run = Repo::new()
        .file("stencil.yaml", &settings)
        .file(VALUES, patch)
        .run(&["render"])
        .ok();
    assert_eq!(
        run.object("Deployment", "api")["spec"]["template"]["spec"]["hostNetwork"],
        true
    );
    // Another tenant is not relaxed.
    Repo::new()
        .file("stencil.yaml", &settings)
        .file("tenants/other/tenant.yaml", common::TENANT_YAML)
        .file("tenants/other/api/values.yaml", patch)
        .run(&["render"])
        .fails(&["error: pss-host-namespaces tenants/other/api/values.yaml:2"]);
    // The exception is listed.
    let list = Repo::new()
        .file("stencil.yaml", &settings)
        .run(&["policy", "list"])
        .ok();
    assert!(list.stdout.contains("PLAT-7"), "{}", list.stdout);
}

#[test]
fn a_daemon_set_from_a_tenant_is_refused() {
    let ds = json!({ "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": { "name": "agent" },
        "spec": { "selector": { "matchLabels": { "app": "tool" } }, "template": hardened_template() } });
    refused(
        &extra_objects(&[ds]),
        "node-placement",
        &["DaemonSet acme/agent"],
    );
}

#[test]
fn ephemeral_containers_are_not_part_of_a_pod_template() {
    let mut template = hardened_template();
    put(
        &mut template,
        "spec/ephemeralContainers/-",
        hardened_container("debug"),
    );
    Repo::new()
        .file(VALUES, extra_objects(&[workload("Job", template)]))
        .run(&["render"])
        .fails(&["ephemeralContainers", "kubectl debug"]);
}

fn service(spec: Value) -> Value {
    json!({ "apiVersion": "v1", "kind": "Service", "metadata": { "name": "edge" },
        "spec": spec })
}

#[test]
fn services_get_no_external_ips_and_no_node_or_cloud_exposure() {
    let ports = json!([{ "name": "http", "port": 80, "targetPort": 8000 }]);
    // CVE-2020-8554: externalIPs intercept traffic to any address, cluster-wide.
    refused(
        &extra_objects(&[service(
            json!({ "ports": ports, "externalIPs": ["8.8.8.8"] }),
        )]),
        "external-ips",
        &["Service acme/edge", "externalIPs", "CVE-2020-8554"],
    );
    refused(
        "patches:\n  - target: { kind: Service, name: api }\n    type: merge\n    patch: { spec: { externalIPs: [10.0.0.10] } }\n",
        "external-ips",
        &["Service acme/api"],
    );
    for kind in ["NodePort", "LoadBalancer"] {
        refused(
            &extra_objects(&[service(json!({ "type": kind, "ports": ports }))]),
            "service-type",
            &["Service acme/edge", kind],
        );
        refused(
            &format!(
                "patches:\n  - target: {{ kind: Service }}\n    type: merge\n    patch: {{ spec: {{ type: {kind} }} }}\n"
            ),
            "service-type",
            &["Service acme/api", kind],
        );
    }
    refused(
        &extra_objects(&[service(
            json!({ "type": "ExternalName", "externalName": "api.other-tenant.svc.cluster.local" }),
        )]),
        "service-type",
        &["ExternalName"],
    );
    // A plain ClusterIP or headless Service is fine.
    Repo::new()
        .file(
            VALUES,
            extra_objects(&[
                service(json!({ "ports": ports, "selector": { "app": "x" } })),
                json!({ "apiVersion": "v1", "kind": "Service", "metadata": { "name": "peers" },
                    "spec": { "clusterIP": "None", "ports": ports } }),
            ]),
        )
        .run(&["render"])
        .ok();
}

#[test]
fn a_load_balancer_needs_an_exception() {
    let settings = format!(
        "{}policy:\n  exceptions:\n    - rule: service-type\n      tenants: [acme]\n      reason: partner VPN endpoint (PLAT-12)\n",
        common::STENCIL_YAML
    );
    let lb = service(json!({ "type": "LoadBalancer", "ports": [{ "port": 443 }],
        "loadBalancerSourceRanges": ["203.0.113.0/24"] }));
    Repo::new()
        .file("stencil.yaml", settings)
        .file(VALUES, extra_objects(&[lb]))
        .run(&["render"])
        .ok();
}

#[test]
fn pod_security_labels_belong_to_the_platform() {
    // tenant.yaml labels reach the Namespace.
    for (key, value) in [
        ("pod-security.kubernetes.io/enforce", "privileged"),
        ("pod-security.kubernetes.io/enforce-version", "v1.0"),
        ("pod-security.kubernetes.io/audit", "baseline"),
        ("pod-security.kubernetes.io/warn-version", "v1.22"),
    ] {
        Repo::new()
            .file(
                "tenants/acme/tenant.yaml",
                format!(
                    "{}labels:\n  team: a\n  {key}: {value}\n",
                    common::TENANT_YAML
                ),
            )
            .run(&["render"])
            .fails(&["error: pod-security-labels tenants/acme/tenant.yaml:6", key]);
    }
    // Service labels, and pod annotations that weaken AppArmor or seccomp.
    refused(
        "podAnnotations:\n  container.apparmor.security.beta.kubernetes.io/api: unconfined\n",
        "pss-apparmor",
        &["container.apparmor.security.beta.kubernetes.io/api"],
    );
    refused(
        "podAnnotations:\n  seccomp.security.alpha.kubernetes.io/pod: unconfined\n",
        "seccomp-runtime-default",
        &["seccomp.security.alpha.kubernetes.io/pod"],
    );
    refused(
        "labels:\n  pod-security.kubernetes.io/enforce: privileged\n",
        "pod-security-labels",
        &["pod-security.kubernetes.io/enforce"],
    );
    // A patch, on an object or on the pod template.
    for path in ["/metadata/labels", "/spec/template/metadata/labels"] {
        refused(
            &format!(
                "patches:\n  - target: {{ kind: Deployment }}\n    type: json\n    patch: [{{ op: add, path: '{path}/pod-security.kubernetes.io~1warn', value: privileged }}]\n"
            ),
            "pod-security-labels",
            &["Deployment acme/api", "pod-security.kubernetes.io/warn"],
        );
    }
    // An extra object.
    refused(
        "extraObjects:\n  - { apiVersion: v1, kind: ConfigMap, metadata: { name: c, labels: { pod-security.kubernetes.io/audit-version: v1.0 } } }\n",
        "pod-security-labels",
        &["ConfigMap acme/c"],
    );
    // Not even with an exception.
    Repo::new()
        .file(
            "stencil.yaml",
            format!(
                "{}policy:\n  exceptions:\n    - rule: pod-security-labels\n      reason: we want baseline\n",
                common::STENCIL_YAML
            ),
        )
        .run(&["render"])
        .fails(&["pod-security-labels cannot be relaxed"]);
}

#[test]
fn the_namespace_enforces_restricted() {
    let run = Repo::example().run(&["render"]).ok();
    for doc in run.docs().iter().filter(|d| d["kind"] == "Namespace") {
        let labels = &doc["metadata"]["labels"];
        for mode in ["enforce", "audit", "warn"] {
            assert_eq!(
                labels[format!("pod-security.kubernetes.io/{mode}")],
                "restricted",
                "{doc}"
            );
        }
    }
}

/// An exception must hold in the cluster too: the Namespace then enforces the level that
/// admits it (audit and warn stay `restricted`).
#[test]
fn the_namespace_enforces_what_the_exceptions_need() {
    for (rule, level) in [
        ("read-only-root-filesystem", "restricted"),
        ("run-as-non-root", "baseline"),
        ("pss-volume-types", "baseline"),
        ("pss-host-namespaces", "privileged"),
        ("seccomp-runtime-default", "privileged"),
    ] {
        let settings = format!(
            "{}policy:\n  exceptions:\n    - rule: {rule}\n      tenants: [acme]\n      services: [api]\n      reason: PLAT-3\n",
            common::STENCIL_YAML
        );
        let run = Repo::new()
            .file("stencil.yaml", settings)
            .file("tenants/other/tenant.yaml", common::TENANT_YAML)
            .run(&["render"])
            .ok();
        let labels = |ns: &str| run.object("Namespace", ns)["metadata"]["labels"].clone();
        let acme = labels("acme");
        assert_eq!(acme["pod-security.kubernetes.io/enforce"], level, "{rule}");
        assert_eq!(acme["pod-security.kubernetes.io/audit"], "restricted");
        assert_eq!(acme["pod-security.kubernetes.io/warn"], "restricted");
        assert_eq!(
            labels("other")["pod-security.kubernetes.io/enforce"],
            "restricted",
            "{rule}"
        );
    }
}

#[test]
fn policy_list_shows_the_pod_security_rules() {
    let run = Repo::new().run(&["policy", "list"]).ok();
    for id in [
        "pss-host-process",
        "pss-host-namespaces",
        "pss-privileged",
        "pss-capabilities",
        "pss-host-path",
        "pss-host-ports",
        "pss-apparmor",
        "pss-selinux",
        "pss-proc-mount",
        "pss-sysctls",
        "pss-volume-types",
        "pss-host-probes",
        "node-placement",
        "external-ips",
        "service-type",
        "pod-security-labels",
    ] {
        let line = run
            .stdout
            .lines()
            .position(|l| l.starts_with(&format!("{id} ")))
            .unwrap_or_else(|| panic!("{id} missing:\n{}", run.stdout));
        let rest: Vec<&str> = run.stdout.lines().skip(line).take(3).collect();
        assert!(
            rest.iter().any(|l| l.contains("why: ")),
            "{id} has no rationale:\n{}",
            run.stdout
        );
    }
}
