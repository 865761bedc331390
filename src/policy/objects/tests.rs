//! Every rule [`check_objects`] reports, on objects built in-process: the rule id, the
//! location (the origin of the patch or extra object that made the object) and the message,
//! and a benign object that passes.

use serde_json::{Value, json};

use super::check_objects;
use crate::policy::infra::fixtures::{Reported, object, origin, platform, problems};

/// Where the patch or extra object under test was written.
const AT: &str = "tenants/acme/api/patches.yaml:3:5";

fn at() -> Option<crate::origin::Origin> {
    Some(origin("tenants/acme/api/patches.yaml", 3, 5))
}

/// `patch` merged into `base` (objects key by key; `null` removes a key).
fn merged(mut base: Value, patch: &Value) -> Value {
    if let (Some(b), Some(p)) = (base.as_object_mut(), patch.as_object()) {
        for (k, v) in p {
            if v.is_null() {
                b.remove(k);
            } else {
                let old = b.remove(k).unwrap_or(Value::Null);
                b.insert(k.clone(), merged(old, v));
            }
        }
        return base;
    }
    patch.clone()
}

/// A container every rule accepts.
fn good_container(name: &str) -> Value {
    json!({
        "name": name, "image": "registry.example.com/api:1.4.2",
        "securityContext": {
            "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
            "runAsNonRoot": true, "runAsUser": 1000,
            "capabilities": { "drop": ["ALL"] },
            "seccompProfile": { "type": "RuntimeDefault" }
        },
        "resources": { "requests": { "cpu": "100m", "memory": "128Mi" }, "limits": { "memory": "256Mi" } },
        "startupProbe": { "httpGet": { "path": "/", "port": 8080 } }
    })
}

/// stencil's Deployment of service `api`, its pod spec merged with `pod`.
fn deployment(pod: Value) -> Value {
    let spec = merged(json!({ "containers": [good_container("api")] }), &pod);
    json!({ "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": { "name": "api", "namespace": "acme" },
        "spec": { "template": { "metadata": { "labels": { "app": "api" } }, "spec": spec } } })
}

/// The Deployment with its main container merged with `container`.
fn with_container(container: Value) -> Value {
    deployment(json!({ "containers": [merged(good_container("api"), &container)] }))
}

/// What `check_objects` reports for one object (patched into stencil's output, or extra).
fn check(value: Value, extra: bool, stencil_yaml: &str) -> Vec<Reported> {
    let objects = [object(value, at(), extra)];
    problems(check_objects(
        &objects,
        "acme",
        "api",
        &platform(stencil_yaml),
    ))
}

/// Asserts exactly one problem: `rule` at [`AT`], its message ending with `tail`.
fn assert_one(found: &[Reported], rule: &str, tail: &str, case: &str) {
    assert_eq!(found.len(), 1, "{case}: {found:#?}");
    let (id, location, message) = &found[0];
    assert_eq!((id.as_str(), location.as_str()), (rule, AT), "{case}");
    assert!(message.ends_with(tail), "{case}: {message}");
}

#[test]
fn a_benign_deployment_and_its_sidecars_pass() {
    let pod = json!({
        "containers": [good_container("api"), good_container("proxy")],
        "initContainers": [good_container("migrate")],
        "securityContext": { "runAsNonRoot": true, "seccompProfile": { "type": "RuntimeDefault" } },
        "volumes": [{ "name": "tmp", "emptyDir": {} }]
    });
    assert_eq!(check(deployment(pod), false, ""), Vec::<Reported>::new());
}

#[test]
fn a_main_container_with_a_port_needs_a_startup_probe_in_a_stateful_set_too() {
    let unprobed =
        json!({ "startupProbe": null, "ports": [{ "name": "http", "containerPort": 8080 }] });
    let mut set = with_container(unprobed);
    set["kind"] = json!("StatefulSet");
    let found = check(set, false, "");
    assert_one(
        &found,
        "startup-probe",
        "container `api`: must have a startup probe",
        "statefulset",
    );
    // A worker's main container has no port, so nothing to probe.
    let worker = with_container(json!({ "startupProbe": null }));
    assert_eq!(check(worker, false, ""), Vec::<Reported>::new());
}

#[test]
fn each_container_rule_reports_the_object_where_it_was_made() {
    let cases = [
        (
            json!({ "image": null }),
            "-",
            "container `api`: has no image",
        ),
        (
            json!({ "image": "registry.example.com/api:latest" }),
            "mutable-image-tag",
            "container `api`: the image tag `latest` is mutable: it resolves to different images on different nodes and cannot be rolled back",
        ),
        (
            json!({ "image": "registry.example.com/api" }),
            "mutable-image-tag",
            "has no tag (it would pull `latest`)",
        ),
        (
            json!({ "securityContext": { "allowPrivilegeEscalation": true } }),
            "no-privilege-escalation",
            "container `api`: must set allowPrivilegeEscalation: false and not be privileged",
        ),
        (
            json!({ "securityContext": { "readOnlyRootFilesystem": false } }),
            "read-only-root-filesystem",
            "must set readOnlyRootFilesystem: true (mount an emptyDir where it writes)",
        ),
        (
            json!({ "securityContext": { "runAsNonRoot": null } }),
            "run-as-non-root",
            "must run as a non-root user (runAsNonRoot: true, runAsUser != 0)",
        ),
        (
            json!({ "securityContext": { "runAsUser": 0 } }),
            "run-as-non-root",
            "must run as a non-root user (runAsNonRoot: true, runAsUser != 0)",
        ),
        (
            json!({ "securityContext": { "capabilities": { "drop": ["NET_RAW"] } } }),
            "drop-all-capabilities",
            "container `api`: must drop ALL capabilities",
        ),
        (
            json!({ "securityContext": { "capabilities": { "add": ["NET_BIND_SERVICE"] } } }),
            "drop-all-capabilities",
            "container `api`: must not add capabilities",
        ),
        (
            json!({ "securityContext": { "seccompProfile": null } }),
            "seccomp-runtime-default",
            "must use the RuntimeDefault (or Localhost) seccompProfile",
        ),
        (
            json!({ "resources": { "limits": null } }),
            "resources",
            "must declare resources.requests.cpu, resources.requests.memory and resources.limits.memory",
        ),
        (
            json!({ "startupProbe": null, "ports": [{ "name": "http", "containerPort": 8080 }] }),
            "startup-probe",
            "container `api`: must have a startup probe",
        ),
        (
            json!({ "name": "renamed" }),
            "startup-probe",
            "container `api`: is missing: a patch may change the main container but not remove or rename it",
        ),
    ];
    for (container, rule, tail) in cases {
        let found = check(with_container(container.clone()), false, "");
        assert_one(&found, rule, tail, &container.to_string());
        assert!(
            found[0].2.starts_with("Deployment acme/api: "),
            "{container}"
        );
    }
}

#[test]
fn a_pod_inherits_and_ephemeral_containers_are_refused() {
    // Non-root and seccomp may come from the pod's securityContext.
    let container = json!({ "securityContext": { "runAsNonRoot": null, "seccompProfile": null } });
    let pod = json!({
        "containers": [merged(good_container("api"), &container)],
        "securityContext": { "runAsNonRoot": true, "seccompProfile": { "type": "Localhost", "localhostProfile": "p.json" } }
    });
    assert!(check(deployment(pod), false, "").is_empty());
    // An ephemeral container needs no resources, but is refused in a template.
    let mut ephemeral = good_container("debug");
    ephemeral["resources"] = Value::Null;
    ephemeral["startupProbe"] = Value::Null;
    let found = check(
        deployment(json!({ "ephemeralContainers": [ephemeral] })),
        false,
        "",
    );
    assert_one(
        &found,
        "-",
        "spec.template.spec.ephemeralContainers: ephemeral containers are not allowed in a pod template or a new pod (kubectl debug adds them to a running pod)",
        "ephemeral",
    );
    let found = check(
        deployment(json!({ "containers": [{ "name": "api", "image": 5 }] })),
        false,
        "",
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!((found[0].0.as_str(), found[0].1.as_str()), ("-", AT));
    assert!(
        found[0]
            .2
            .contains("spec.template.spec: invalid pod spec: ")
    );
}

#[test]
fn each_pod_security_standard_reports_the_object_where_it_was_made() {
    let cases = [
        (
            json!({ "hostNetwork": true }),
            "pss-host-namespaces",
            "spec.template.spec.hostNetwork: true shares the node's namespace",
        ),
        (
            json!({ "nodeName": "n1" }),
            "node-placement",
            "spec.template.spec.nodeName: `n1` pins the pod to a node, bypassing the scheduler",
        ),
        (
            json!({ "securityContext": { "runAsNonRoot": true, "windowsOptions": { "hostProcess": true } } }),
            "pss-host-process",
            "spec.template.spec.securityContext.windowsOptions.hostProcess: true runs the pod on the Windows node",
        ),
        (
            json!({ "securityContext": { "runAsNonRoot": true, "appArmorProfile": { "type": "Unconfined" } } }),
            "pss-apparmor",
            "spec.template.spec.securityContext.appArmorProfile.type: `Unconfined` (only RuntimeDefault or Localhost)",
        ),
        (
            json!({ "securityContext": { "runAsNonRoot": true, "seLinuxOptions": { "type": "spc_t" } } }),
            "pss-selinux",
            "(only container_t, container_init_t, container_kvm_t, container_engine_t or none)",
        ),
        (
            json!({ "securityContext": { "runAsNonRoot": true, "sysctls": [{ "name": "vm.swappiness", "value": "1" }] } }),
            "pss-sysctls",
            "spec.template.spec.securityContext.sysctls: vm.swappiness not in the safe set",
        ),
        (
            json!({ "volumes": [{ "name": "h", "hostPath": { "path": "/" } }] }),
            "pss-host-path",
            "spec.template.spec.volumes[0] `h`: hostPath mounts the node's filesystem",
        ),
        (
            json!({ "volumes": [{ "name": "n", "nfs": { "server": "s", "path": "/" } }] }),
            "pss-volume-types",
            "spec.template.spec.volumes[0] `n`: volume type `nfs` (only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret)",
        ),
    ];
    for (pod, rule, tail) in cases {
        assert_one(
            &check(deployment(pod.clone()), false, ""),
            rule,
            tail,
            &pod.to_string(),
        );
    }
}

#[test]
fn each_container_security_standard_reports_the_object_where_it_was_made() {
    let container_cases = [
        (
            json!({ "securityContext": { "capabilities": { "drop": ["ALL"], "add": ["SYS_ADMIN"] } } }),
            "pss-capabilities",
            "securityContext.capabilities.add: SYS_ADMIN beyond the baseline set",
        ),
        (
            json!({ "securityContext": { "procMount": "Unmasked" } }),
            "pss-proc-mount",
            "container `api`: securityContext.procMount: `Unmasked` (only Default)",
        ),
        (
            json!({ "ports": [{ "containerPort": 80, "hostPort": 80 }] }),
            "pss-host-ports",
            "container `api`: ports[0].hostPort: 80 binds a port of the node",
        ),
        (
            json!({ "readinessProbe": { "httpGet": { "port": 80, "host": "10.0.0.1" } } }),
            "pss-host-probes",
            "readinessProbe: host `10.0.0.1`: the kubelet would connect to it from the node",
        ),
    ];
    for (container, rule, tail) in container_cases {
        let found = check(with_container(container.clone()), false, "");
        // Adding a capability is `drop-all-capabilities`' too.
        let found: Vec<Reported> = found
            .into_iter()
            .filter(|f| f.0 != "drop-all-capabilities")
            .collect();
        assert_one(&found, rule, tail, &container.to_string());
    }
    let found = check(
        with_container(json!({ "securityContext": { "privileged": true } })),
        false,
        "",
    );
    let rules: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(rules, ["no-privilege-escalation", "pss-privileged"]);
    assert!(found.iter().all(|f| f.1 == AT));
}

#[test]
fn each_object_rule_reports_the_object_where_it_was_made() {
    let role_binding = json!({ "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": { "name": "b", "namespace": "acme" },
        "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "other" },
        "subjects": [{ "kind": "ServiceAccount", "name": "api", "namespace": "acme" }] });
    let cases = [
        (
            json!({ "apiVersion": "v1", "kind": "ResourceQuota", "metadata": { "name": "q", "namespace": "acme" } }),
            true,
            "platform-objects",
            "ResourceQuota acme/q: a tenant's ResourceQuota comes from the platform, not from extraObjects",
        ),
        (
            role_binding,
            true,
            "platform-objects",
            "it binds Role `other`, which this service's extraObjects do not define",
        ),
        (
            json!({ "apiVersion": "flagger.app/v1beta1", "kind": "Canary", "metadata": { "name": "api", "namespace": "acme" } }),
            false,
            "platform-objects",
            "Canary acme/api: a patch may not change the Canary stencil renders",
        ),
        (
            json!({ "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": { "name": "r", "namespace": "acme" },
                "rules": [{ "apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "impersonate"] }] }),
            true,
            "rbac-escalation",
            "Role acme/r: rules[0] grants verb `impersonate`, which lets its holder grant or assume more access than it has",
        ),
        (
            json!({ "apiVersion": "v1", "kind": "Service", "metadata": { "name": "s", "namespace": "acme" }, "spec": { "externalIPs": ["1.2.3.4"] } }),
            true,
            "external-ips",
            "(CVE-2020-8554)",
        ),
        (
            json!({ "apiVersion": "v1", "kind": "Service", "metadata": { "name": "s", "namespace": "acme" }, "spec": { "type": "NodePort" } }),
            true,
            "service-type",
            "spec.type: NodePort exposes the service outside the platform's ingress (only ClusterIP)",
        ),
        (
            json!({ "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": { "name": "d", "namespace": "acme" } }),
            true,
            "node-placement",
            "node agents are the platform's",
        ),
        (
            json!({ "apiVersion": "v1", "kind": "ConfigMap", "metadata": { "name": "c", "namespace": "acme", "labels": { "pod-security.kubernetes.io/enforce": "privileged" } } }),
            true,
            "pod-security-labels",
            "metadata.labels: `pod-security.kubernetes.io/enforce` is the platform's (it sets the namespace's Pod Security level)",
        ),
        (
            json!({ "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": { "name": "w", "namespace": "acme" }, "spec": { "hostNetwork": true } }),
            true,
            "pss-host-namespaces",
            "spec.hostNetwork: shares the node's namespace (a pod field outside a pod template)",
        ),
        (
            json!({ "apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": { "name": "m", "namespace": "acme" }, "spec": { "namespaceSelector": { "any": true } } }),
            true,
            "-",
            "spec.namespaceSelector: reaches namespaces beyond `acme`: a tenant's custom resource names only its own namespace (or the platform's), and a namespaceSelector only as `matchNames: [acme]`",
        ),
    ];
    for (value, extra, rule, tail) in cases {
        let case = value.to_string();
        assert_one(&check(value, extra, ""), rule, tail, &case);
    }
}

#[test]
fn extra_role_bindings_bind_only_the_services_roles_to_its_service_accounts() {
    let binding = |role_ref: Value, subject: Value| {
        json!({ "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": { "name": "b", "namespace": "acme" }, "roleRef": role_ref, "subjects": [subject] })
    };
    let sa = json!({ "kind": "ServiceAccount", "name": "api", "namespace": "acme" });
    let cluster_role = |name: &str| json!({ "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name });
    let cases = [
        (
            binding(
                cluster_role("view"),
                json!({ "kind": "Group", "name": "everyone" }),
            ),
            "subject Group `everyone` is not a service account of this namespace; people get access through the tenant's team and groups",
        ),
        (
            binding(
                cluster_role("view"),
                json!({ "kind": "ServiceAccount", "name": "x", "namespace": "globex" }),
            ),
            "subject ServiceAccount `x` is not a service account of this namespace; people get access through the tenant's team and groups",
        ),
        (
            binding(
                json!({ "apiGroup": "example.com", "kind": "Role", "name": "r" }),
                sa.clone(),
            ),
            "roleRef.apiGroup must be rbac.authorization.k8s.io",
        ),
        (
            binding(cluster_role("admin"), sa.clone()),
            "it binds ClusterRole `admin`, which is not in extraObjects.bindableClusterRoles in stencil.yaml",
        ),
        (
            binding(
                json!({ "apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "u" }),
                sa.clone(),
            ),
            "roleRef.kind `User` is neither Role nor ClusterRole",
        ),
    ];
    let bindable = "extraObjects:\n  bindableClusterRoles: [view]\n";
    for (value, tail) in cases {
        let case = value.to_string();
        assert_one(
            &check(value, true, bindable),
            "platform-objects",
            tail,
            &case,
        );
    }
    assert!(check(binding(cluster_role("view"), sa), true, bindable).is_empty());
}

#[test]
fn a_role_that_is_not_a_role_is_refused() {
    let role = json!({ "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": { "name": "r", "namespace": "acme" }, "rules": "everything" });
    let found = check(role, true, "");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(
        (found[0].0.as_str(), found[0].1.as_str()),
        ("rbac-escalation", AT)
    );
    assert!(
        found[0].2.starts_with("Role acme/r: is not a valid Role: "),
        "{}",
        found[0].2
    );
}

#[test]
fn benign_objects_pass() {
    let benign = [
        json!({ "apiVersion": "v1", "kind": "Service", "metadata": { "name": "s", "namespace": "acme" }, "spec": { "type": "ClusterIP" } }),
        json!({ "apiVersion": "v1", "kind": "ConfigMap", "metadata": { "name": "c", "namespace": "acme", "labels": { "team": "a" } } }),
        json!({ "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": { "name": "r", "namespace": "acme" },
            "rules": [{ "apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "update"] }] }),
        json!({ "apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": { "name": "m", "namespace": "acme" },
            "spec": { "namespaceSelector": { "matchNames": ["acme"] } } }),
    ];
    for value in benign {
        let case = value.to_string();
        assert_eq!(check(value, true, ""), Vec::<Reported>::new(), "{case}");
    }
    // A RoleBinding of the service's own Role to its own service account.
    let role = json!({ "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": { "name": "own", "namespace": "acme" }, "rules": [] });
    let binding = json!({ "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": { "name": "b", "namespace": "acme" },
        "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "own" },
        "subjects": [{ "kind": "ServiceAccount", "name": "api" }] });
    let objects = [object(role, at(), true), object(binding, at(), true)];
    assert!(problems(check_objects(&objects, "acme", "api", &platform(""))).is_empty());
}

#[test]
fn an_exception_relaxes_a_rule_for_its_tenant_and_service_only() {
    let excepted = "policy:\n  exceptions:\n    - rule: read-only-root-filesystem\n      tenants: [acme]\n      services: [api]\n      reason: writes its cache to /\n";
    let writes =
        || with_container(json!({ "securityContext": { "readOnlyRootFilesystem": false } }));
    assert!(check(writes(), false, excepted).is_empty());
    let objects = [object(writes(), at(), false)];
    let found = problems(check_objects(&objects, "acme", "web", &platform(excepted)));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].0, "read-only-root-filesystem");
}
