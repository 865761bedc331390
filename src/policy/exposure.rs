//! What reaches beyond a tenant's pods: Services that take traffic from outside the
//! platform's ingress or from the whole cluster (externalIPs, CVE-2020-8554), DaemonSets that
//! put a pod on every node, and `pod-security.kubernetes.io/*` labels, which set the
//! namespace's Pod Security level and belong to the platform.

use serde_json::Value;

use super::pod_security::{Finding, is_container, push_index, push_key};
use crate::model::Rule;
use crate::object::{Object, Pointer as _};

pub use crate::names::{is_kubernetes_reserved, is_pod_security_label};

/// The object-level rules: Services, DaemonSets, and Pod Security labels anywhere in the
/// object's (or its templates') metadata.
pub(super) fn check_object(object: &Object) -> Vec<Finding> {
    let mut out = Vec::new();
    let v = &object.value;
    if object.kind == "DaemonSet" {
        out.push(Finding {
            rule: Rule::NodePlacement,
            message: "a DaemonSet runs a pod on every node, other tenants' nodes included; node agents are the platform's".into(),
        });
    }
    if object.kind == "Service" && object.api_version == "v1" {
        let ips = v.at("/spec/externalIPs").and_then(Value::as_array);
        if ips.is_some_and(|ips| !ips.is_empty()) {
            out.push(Finding {
                rule: Rule::ExternalIps,
                message: "spec.externalIPs: a Service with external IPs intercepts traffic to those addresses from every pod of the cluster (CVE-2020-8554)".into(),
            });
        }
        if let Some(t) = v.at("/spec/type").and_then(Value::as_str)
            && matches!(t, "NodePort" | "LoadBalancer" | "ExternalName")
        {
            out.push(Finding {
                rule: Rule::ServiceType,
                message: format!(
                    "spec.type: {t} exposes the service outside the platform's ingress (only ClusterIP)"
                ),
            });
        }
    }
    labels(v, &mut String::new(), &mut out);
    out
}

/// `pod-security.kubernetes.io/*` keys in every `metadata.labels` of the object. One path
/// buffer serves the whole walk: a path is copied only into a finding.
fn labels(node: &Value, path: &mut String, out: &mut Vec<Finding>) {
    let depth = path.len();
    match node {
        Value::Object(map) => {
            for (key, value) in map.iter().filter(|(_, v)| is_container(v)) {
                push_key(path, key);
                if key == "metadata"
                    && let Some(labels) = value.get("labels").and_then(Value::as_object)
                {
                    for label in labels.keys().filter(|k| is_pod_security_label(k)) {
                        out.push(Finding {
                            rule: Rule::PodSecurityLabels,
                            message: format!(
                                "{path}.labels: `{label}` is the platform's (it sets the namespace's Pod Security level)"
                            ),
                        });
                    }
                }
                labels(value, path, out);
                path.truncate(depth);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate().filter(|(_, v)| is_container(v)) {
                push_index(path, i);
                labels(item, path, out);
                path.truncate(depth);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Object {
        Object::from_value(value, "t", Some("s"), None, true).expect("object")
    }

    fn object_rules(value: Value) -> Vec<&'static str> {
        check_object(&object(value))
            .iter()
            .map(|f| f.rule.name())
            .collect()
    }

    #[test]
    fn services_daemon_sets_and_labels_have_their_rules() {
        let svc = |spec: Value| json!({ "apiVersion": "v1", "kind": "Service", "metadata": { "name": "s" }, "spec": spec });
        assert_eq!(
            object_rules(svc(json!({ "externalIPs": ["1.2.3.4"] }))),
            ["external-ips"]
        );
        for t in ["NodePort", "LoadBalancer", "ExternalName"] {
            assert_eq!(object_rules(svc(json!({ "type": t }))), ["service-type"]);
        }
        assert!(object_rules(svc(json!({ "type": "ClusterIP", "externalIPs": [] }))).is_empty());
        assert_eq!(
            object_rules(
                json!({ "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": { "name": "d" } })
            ),
            ["node-placement"]
        );
        assert_eq!(
            object_rules(json!({ "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": { "name": "c", "labels": { "Pod-Security.kubernetes.io/enforce": "privileged" } } })),
            ["pod-security-labels"]
        );
        assert_eq!(
            object_rules(
                json!({ "apiVersion": "apps/v1", "kind": "Deployment", "metadata": { "name": "d" },
                "spec": { "template": { "metadata": { "labels": { "pod-security.kubernetes.io/warn-version": "v1.0" } } } } })
            ),
            ["pod-security-labels"]
        );
    }
}
