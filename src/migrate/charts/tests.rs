//! The chart mappers on small values trees: what each shape becomes, and what stays in
//! `helmPassthrough`.

use serde_json::{Value, json};

use super::{Flavor, map_values};

fn mapped(values: Value) -> (Value, Vec<String>) {
    let flavor = Flavor::detect(&values);
    let m = map_values(&values, flavor);
    (Value::Object(m.service), m.unmapped)
}

#[test]
fn charts_are_told_apart_by_their_keys() {
    assert_eq!(
        Flavor::detect(&json!({ "applicationName": "x" })),
        Flavor::Stakater
    );
    assert_eq!(
        Flavor::detect(&json!({ "deployment": { "image": {} } })),
        Flavor::Stakater
    );
    assert_eq!(Flavor::detect(&json!({ "deployments": {} })), Flavor::Nxs);
    assert_eq!(
        Flavor::detect(&json!({ "replicaCount": 1 })),
        Flavor::Generic
    );
}

#[test]
fn stakater_route_hooks_and_a_worker() {
    let (s, unmapped) = mapped(json!({
        "applicationName": "orders",
        "deployment": { "image": { "repository": "r/orders", "tag": 1.2 } },
        "service": { "enabled": false },
        "httpRoute": { "enabled": true, "parentRefs": [{ "name": "gw", "namespace": "gateway-system" }],
            "hostnames": ["orders.example.com"],
            "rules": [{ "matches": [{ "path": { "type": "PathPrefix", "value": "/api" } }], "backendRefs": [{ "name": "orders", "port": 8080 }] }] },
        "job": { "enabled": true, "jobs": { "migrate": { "annotations": {
            "helm.sh/hook": "post-install,post-upgrade", "helm.sh/hook-weight": "3", "helm.sh/hook-delete-policy": "hook-succeeded" },
            "image": { "repository": "{{ .Values.deployment.image.repository }}", "tag": "{{ .Values.deployment.image.tag }}" } } } },
        "deployment_extra": 1,
    }));
    assert_eq!(
        s["image"],
        json!({ "repository": "r/orders", "tag": "1.2" })
    );
    assert_eq!(s["workload"], "worker");
    assert_eq!(
        s["httpRoute"],
        json!({ "gateway": { "name": "gw", "namespace": "gateway-system" }, "hosts": ["orders.example.com"], "paths": ["/api"] })
    );
    assert_eq!(
        s["jobs"]["migrate"],
        json!({ "hook": { "phase": "PostSync", "syncWave": 3, "deletePolicy": "HookSucceeded" } }),
        "the deployment's image is inherited"
    );
    assert_eq!(unmapped, ["deployment_extra"]);
}

#[test]
fn stakater_affinity_other_than_one_anti_affinity_term_stays() {
    let (s, unmapped) = mapped(json!({
        "applicationName": "orders",
        "deployment": { "image": { "repository": "r/orders" },
            "affinity": { "nodeAffinity": { "requiredDuringSchedulingIgnoredDuringExecution": {} } } },
    }));
    assert_eq!(s.get("scheduling"), None);
    assert_eq!(
        unmapped,
        ["deployment.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"]
    );
}

#[test]
fn nxs_stateful_set_and_hook_defaults() {
    let (s, unmapped) = mapped(json!({
        "releasePrefix": "-",
        "defaultImage": "r/search",
        "defaultImageTag": 7,
        "statefulSets": { "search": {
            "serviceName": "search-headless",
            "podManagementPolicy": "Parallel",
            "containers": [{ "name": "search", "ports": [{ "name": "http", "containerPort": 7700 }],
                "volumeMounts": [{ "name": "data", "mountPath": "/data" }] }],
            "volumeClaimTemplates": [{ "metadata": { "name": "data" },
                "spec": { "accessModes": ["ReadWriteOnce"], "storageClassName": "gp3", "resources": { "requests": { "storage": "10Gi" } } } }],
        } },
        "services": { "search": { "ports": [{ "name": "http", "port": 7700 }] } },
        "hooks": { "search-reindex": { "containers": [{ "name": "reindex", "args": ["reindex"] }] } },
    }));
    assert_eq!(s["workload"], "statefulSet");
    assert_eq!(
        s["statefulSet"],
        json!({ "podManagementPolicy": "Parallel" })
    );
    assert_eq!(s["image"], json!({ "repository": "r/search", "tag": "7" }));
    assert_eq!(s["port"], 7700);
    assert_eq!(
        s["volumes"]["data"],
        json!({ "mountPath": "/data", "claim": { "accessModes": ["ReadWriteOnce"], "size": "10Gi", "storageClassName": "gp3" } })
    );
    assert_eq!(
        s["jobs"]["reindex"],
        json!({ "args": ["reindex"], "hook": { "phase": "PreSync", "syncWave": 5, "deletePolicy": "BeforeHookCreation" } }),
        "the chart's hook defaults, as Argo CD's"
    );
    assert!(unmapped.is_empty(), "{unmapped:?}");
}

#[test]
fn an_nxs_deployment_without_a_service_is_a_worker() {
    let (s, _) = mapped(json!({
        "deployments": { "worker": { "containers": [{ "name": "worker", "command": ["celery"] }] } },
        "cronJobs": { "worker-report": { "schedule": "@daily", "containers": [{ "name": "report" }] } },
    }));
    assert_eq!(s["workload"], "worker");
    assert_eq!(s["command"], json!(["celery"]));
    assert_eq!(
        s["cronJobs"]["report"],
        json!({ "schedule": "@daily", "concurrencyPolicy": "Allow" })
    );
}
