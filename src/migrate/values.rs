//! `stencil migrate`: the "universal Helm chart" values layout (seed 003) mapped to stencil's
//! model. This module holds the pure parts: Helm's values merge, the mapping of Helm values
//! keys to the service model (the table in docs/migrate.md), and the minimal overrides between
//! two mapped trees. Reading the old layout and writing the new one is the command's job.
//!
//! | Helm values                                   | stencil service              |
//! |-----------------------------------------------|------------------------------|
//! | `image.repository`, `.tag`, `.pullPolicy`     | `image.*`                    |
//! | `replicaCount`                                | `replicas`                   |
//! | `containerPort`, else `service.targetPort`, else `service.port` | `port`     |
//! | `resources`                                   | `resources`                  |
//! | `{startup,liveness,readiness}Probe.httpGet.path/.port` and timings | `probes.*` |
//! | `ingress.enabled`, `.className`, `.annotations`, `.host` or `.hosts[0].host`, `.hosts[0].paths[0].path` | `ingress.*` |
//! | `autoscaling.enabled/minReplicas/maxReplicas/targetCPUUtilizationPercentage/targetMemoryUtilizationPercentage` | `autoscaling.*` (`targetCPUUtilization`, `targetMemoryUtilization`) |
//! | `podDisruptionBudget.enabled/minAvailable/maxUnavailable` | `podDisruptionBudget.*` |
//! | `serviceAccount.annotations["eks.amazonaws.com/role-arn"]` | `serviceAccount.iamRoleArn` |
//! | `env` (a map, or a list of `name`/`value`)    | `env`                        |
//! | `podAnnotations`, `command`, `args`, `terminationGracePeriodSeconds` | same   |
//! | anything else                                 | `helmPassthrough.<key>` (reported, not rendered) |

use serde_json::{Map, Value};

/// Helm's merge of values files (`-f a -f b`): maps merge key by key, everything else
/// (lists included) is replaced, `null` deletes.
pub(crate) fn helm_merge(base: &mut Value, overlay: &Value) {
    match (base, overlay) {
        (Value::Object(base), Value::Object(overlay)) => {
            for (key, value) in overlay {
                if value.is_null() {
                    base.remove(key);
                } else if let Some(slot) = base.get_mut(key) {
                    helm_merge(slot, value);
                } else {
                    base.insert(key.clone(), value.clone());
                }
            }
        }
        (base, overlay) => *base = overlay.clone(),
    }
}

/// The result of mapping one Helm values tree.
#[derive(Debug, Default)]
pub(crate) struct Mapped {
    /// The service model tree.
    pub service: Map<String, Value>,
    /// Dotted paths of the values kept in `helmPassthrough`.
    pub unmapped: Vec<String>,
    /// Dotted paths of values stencil's guardrails supersede (dropped: stencil sets at
    /// least as much, e.g. the chart's security contexts).
    pub superseded: Vec<String>,
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Removes `key` from `map` and returns it.
fn take(map: &mut Map<String, Value>, key: &str) -> Option<Value> {
    map.remove(key)
}

fn keep(rest: &mut Map<String, Value>, key: &str, value: Value) {
    if !matches!(&value, Value::Object(m) if m.is_empty()) {
        rest.insert(key.to_owned(), value);
    }
}

fn map_probe(value: Value, rest: &mut Map<String, Value>, key: &str) -> Option<Value> {
    let Value::Object(mut probe) = value else {
        keep(rest, key, value);
        return None;
    };
    let mut out = Map::new();
    if let Some(Value::Object(mut http)) = take(&mut probe, "httpGet") {
        if let Some(path) = take(&mut http, "path") {
            out.insert("path".into(), path);
        }
        match take(&mut http, "port") {
            Some(port @ Value::Number(_)) => {
                out.insert("port".into(), port);
            }
            Some(other) => {
                http.insert("port".into(), other);
            }
            None => {}
        }
        if !http.is_empty() {
            probe.insert("httpGet".into(), Value::Object(http));
        }
    }
    for field in [
        "initialDelaySeconds",
        "periodSeconds",
        "timeoutSeconds",
        "failureThreshold",
        "successThreshold",
    ] {
        if let Some(v) = take(&mut probe, field) {
            out.insert(field.into(), v);
        }
    }
    keep(rest, key, Value::Object(probe));
    (!out.is_empty()).then_some(Value::Object(out))
}

/// Maps a Helm values tree to the service model; what has no place goes to
/// `helmPassthrough`, listed in [`Mapped::unmapped`].
pub(crate) fn map_values(values: &Value) -> Mapped {
    let Value::Object(values) = values else {
        return Mapped::default();
    };
    let mut m = Mapper {
        v: values.clone(),
        out: Map::new(),
        rest: Map::new(),
    };
    m.image();
    if let Some(x) = take(&mut m.v, "replicaCount") {
        m.out.insert("replicas".into(), x);
    }
    m.port();
    for key in [
        "resources",
        "podAnnotations",
        "command",
        "args",
        "terminationGracePeriodSeconds",
    ] {
        if let Some(x) = take(&mut m.v, key) {
            m.out.insert(key.into(), x);
        }
    }
    m.probes();
    m.ingress();
    m.autoscaling();
    m.pod_disruption_budget();
    m.service_account();
    m.env();
    m.finish()
}

/// The mapping in progress: Helm values not taken yet (`v`), the service model (`out`), and
/// what has no place in it (`rest`, the future `helmPassthrough`).
struct Mapper {
    v: Map<String, Value>,
    out: Map<String, Value>,
    rest: Map<String, Value>,
}

/// The `(from, to)` keys of `from` moved to a new map; the rest stays in `from`.
fn pick(from: &mut Map<String, Value>, keys: &[(&str, &str)]) -> Map<String, Value> {
    let mut mapped = Map::new();
    for (key, to) in keys {
        if let Some(x) = take(from, key) {
            mapped.insert((*to).into(), x);
        }
    }
    mapped
}

impl Mapper {
    /// `image`: repository, tag (as text), digest, pullPolicy.
    fn image(&mut self) {
        let Some(image) = take(&mut self.v, "image") else {
            return;
        };
        let Value::Object(mut image) = image else {
            keep(&mut self.rest, "image", image);
            return;
        };
        let mut mapped = pick(
            &mut image,
            &[
                ("repository", "repository"),
                ("tag", "tag"),
                ("digest", "digest"),
                ("pullPolicy", "pullPolicy"),
            ],
        );
        if let Some(tag) = mapped.get_mut("tag")
            && let Some(text) = scalar_text(tag)
        {
            *tag = Value::String(text);
        }
        if !mapped.is_empty() {
            self.out.insert("image".into(), Value::Object(mapped));
        }
        keep(&mut self.rest, "image", Value::Object(image));
    }

    /// `containerPort`, else the first numeric `service.targetPort`/`service.port`.
    fn port(&mut self) {
        let mut port = take(&mut self.v, "containerPort");
        if let Some(Value::Object(mut service)) = take(&mut self.v, "service") {
            for key in ["targetPort", "port"] {
                match service.get(key) {
                    Some(Value::Number(_)) if port.is_none() => port = take(&mut service, key),
                    Some(Value::Number(_)) => {
                        take(&mut service, key);
                    }
                    _ => {}
                }
            }
            if service.get("type").and_then(Value::as_str) == Some("ClusterIP") {
                take(&mut service, "type");
            }
            keep(&mut self.rest, "service", Value::Object(service));
        }
        if let Some(p) = port {
            self.out.insert("port".into(), p);
        }
    }

    fn probes(&mut self) {
        let mut probes = Map::new();
        for (helm, ours) in [
            ("startupProbe", "startup"),
            ("livenessProbe", "liveness"),
            ("readinessProbe", "readiness"),
        ] {
            if let Some(probe) = take(&mut self.v, helm)
                && let Some(mapped) = map_probe(probe, &mut self.rest, helm)
            {
                probes.insert(ours.into(), mapped);
            }
        }
        if !probes.is_empty() {
            self.out.insert("probes".into(), Value::Object(probes));
        }
    }

    /// `ingress`, with a single host (and at most one path) flattened to `host`/`path`.
    fn ingress(&mut self) {
        let Some(Value::Object(mut ingress)) = take(&mut self.v, "ingress") else {
            return;
        };
        let keys = ["enabled", "className", "annotations", "host", "path"].map(|k| (k, k));
        let mut mapped = pick(&mut ingress, &keys);
        if let Some(Value::Array(hosts)) = ingress.get("hosts").cloned()
            && hosts.len() == 1
        {
            let host = &hosts[0];
            let paths = host.get("paths").and_then(Value::as_array);
            let simple_paths = paths.is_none_or(|p| p.len() <= 1);
            if simple_paths {
                if let Some(h) = host.get("host") {
                    mapped.insert("host".into(), h.clone());
                }
                if let Some(path) = paths.and_then(|p| p.first()).and_then(|p| p.get("path")) {
                    mapped.insert("path".into(), path.clone());
                }
                take(&mut ingress, "hosts");
            }
        }
        if !mapped.is_empty() {
            self.out.insert("ingress".into(), Value::Object(mapped));
        }
        keep(&mut self.rest, "ingress", Value::Object(ingress));
    }

    fn autoscaling(&mut self) {
        let Some(Value::Object(mut scaling)) = take(&mut self.v, "autoscaling") else {
            return;
        };
        let mapped = pick(
            &mut scaling,
            &[
                ("enabled", "enabled"),
                ("minReplicas", "minReplicas"),
                ("maxReplicas", "maxReplicas"),
                ("targetCPUUtilizationPercentage", "targetCPUUtilization"),
                (
                    "targetMemoryUtilizationPercentage",
                    "targetMemoryUtilization",
                ),
            ],
        );
        self.out.insert("autoscaling".into(), Value::Object(mapped));
        keep(&mut self.rest, "autoscaling", Value::Object(scaling));
    }

    fn pod_disruption_budget(&mut self) {
        let Some(Value::Object(mut pdb)) = take(&mut self.v, "podDisruptionBudget") else {
            return;
        };
        let keys = ["enabled", "minAvailable", "maxUnavailable"].map(|k| (k, k));
        let mapped = pick(&mut pdb, &keys);
        self.out
            .insert("podDisruptionBudget".into(), Value::Object(mapped));
        keep(&mut self.rest, "podDisruptionBudget", Value::Object(pdb));
    }

    /// `serviceAccount.annotations`, the EKS role ARN as `iamRoleArn`.
    fn service_account(&mut self) {
        let Some(Value::Object(mut account)) = take(&mut self.v, "serviceAccount") else {
            return;
        };
        let mut mapped = Map::new();
        if let Some(Value::Object(mut annotations)) = take(&mut account, "annotations") {
            if let Some(arn) = annotations.remove("eks.amazonaws.com/role-arn") {
                mapped.insert("iamRoleArn".into(), arn);
            }
            if !annotations.is_empty() {
                mapped.insert("annotations".into(), Value::Object(annotations));
            }
        }
        if !mapped.is_empty() {
            self.out
                .insert("serviceAccount".into(), Value::Object(mapped));
        }
        keep(&mut self.rest, "serviceAccount", Value::Object(account));
    }

    fn env(&mut self) {
        let Some(env) = take(&mut self.v, "env") else {
            return;
        };
        let (mapped, unmapped) = map_env(env);
        if !mapped.is_empty() {
            self.out.insert("env".into(), Value::Object(mapped));
        }
        if let Some(unmapped) = unmapped {
            self.rest.insert("env".into(), unmapped);
        }
    }

    /// Whatever is left goes to `helmPassthrough`, its leaves listed as unmapped.
    fn finish(self) -> Mapped {
        let Mapper {
            v,
            mut out,
            mut rest,
        } = self;
        for (key, value) in v {
            rest.insert(key, value);
        }
        let mut unmapped = Vec::new();
        leaves(&Value::Object(rest.clone()), String::new(), &mut unmapped);
        if !rest.is_empty() {
            out.insert("helmPassthrough".into(), Value::Object(rest));
        }
        Mapped {
            service: out,
            unmapped,
            superseded: Vec::new(),
        }
    }
}

/// Helm `env` (a map, or a list of `name`/`value` entries) to stencil's `NAME: value` map.
/// Entries it cannot express (`valueFrom`) are returned apart.
pub(crate) fn map_env(env: Value) -> (Map<String, Value>, Option<Value>) {
    let mut mapped = Map::new();
    match env {
        Value::Object(map) => {
            let mut rest = Map::new();
            for (name, value) in map {
                match scalar_text(&value) {
                    Some(text) => {
                        mapped.insert(name, Value::String(text));
                    }
                    None if value.is_null() => {
                        mapped.insert(name, Value::Null);
                    }
                    None => {
                        rest.insert(name, value);
                    }
                }
            }
            (mapped, (!rest.is_empty()).then_some(Value::Object(rest)))
        }
        Value::Array(items) => {
            let mut rest = Vec::new();
            for item in items {
                let name = item.get("name").and_then(Value::as_str).map(str::to_owned);
                let value = item.get("value").and_then(scalar_text);
                match (name, value, item.get("valueFrom")) {
                    (Some(name), Some(value), None) => {
                        mapped.insert(name, Value::String(value));
                    }
                    _ => rest.push(item),
                }
            }
            (mapped, (!rest.is_empty()).then_some(Value::Array(rest)))
        }
        other => (mapped, Some(other)),
    }
}

fn leaves(value: &Value, prefix: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                leaves(v, path, out);
            }
        }
        _ => out.push(prefix),
    }
}

/// The overrides that turn `base` into `tenant` under stencil's merge for these trees: keys
/// whose values differ (maps recursed into), `null` for keys the tenant does not have.
pub(crate) fn overrides(
    base: &Map<String, Value>,
    tenant: &Map<String, Value>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in tenant {
        match (base.get(key), value) {
            (Some(b), v) if b == v => {}
            (Some(Value::Object(b)), Value::Object(t)) => {
                let inner = overrides(b, t);
                if !inner.is_empty() {
                    out.insert(key.clone(), Value::Object(inner));
                }
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    for key in base.keys() {
        if !tenant.contains_key(key) {
            out.insert(key.clone(), Value::Null);
        }
    }
    out
}

/// Dotted paths of the leaves of a tree, for reports.
pub(crate) fn leaf_paths(value: &Map<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    leaves(&Value::Object(value.clone()), String::new(), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn helm_merges_maps_and_replaces_lists() {
        let mut base = json!({"a": {"b": 1, "c": [1, 2]}, "d": 1});
        helm_merge(&mut base, &json!({"a": {"c": [3], "e": 2}, "d": null}));
        assert_eq!(base, json!({"a": {"b": 1, "c": [3], "e": 2}}));
    }

    #[test]
    fn maps_the_universal_chart_keys() {
        let values = json!({
            "image": {"repository": "r/app", "tag": 1.1, "pullPolicy": "IfNotPresent"},
            "replicaCount": 2,
            "service": {"type": "ClusterIP", "port": 80, "targetPort": 8080},
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
            "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10},
            "ingress": {"enabled": true, "className": "nginx", "hosts": [{"host": "a.example.com", "paths": [{"path": "/", "pathType": "Prefix"}]}], "tls": []},
            "autoscaling": {"enabled": true, "minReplicas": 2, "maxReplicas": 5, "targetCPUUtilizationPercentage": 80},
            "serviceAccount": {"create": true, "annotations": {"eks.amazonaws.com/role-arn": "arn:x"}},
            "env": [{"name": "A", "value": 1}, {"name": "B", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}],
            "affinity": {"podAntiAffinity": {}},
        });
        let mapped = map_values(&values);
        let s = Value::Object(mapped.service);
        assert_eq!(
            s["image"],
            json!({"repository": "r/app", "tag": "1.1", "pullPolicy": "IfNotPresent"})
        );
        assert_eq!(s["replicas"], 2);
        assert_eq!(s["port"], 8080);
        assert_eq!(
            s["probes"]["liveness"],
            json!({"path": "/healthz", "periodSeconds": 10})
        );
        assert_eq!(
            s["ingress"],
            json!({"enabled": true, "className": "nginx", "host": "a.example.com", "path": "/"})
        );
        assert_eq!(s["autoscaling"]["targetCPUUtilization"], 80);
        assert_eq!(s["serviceAccount"]["iamRoleArn"], "arn:x");
        assert_eq!(s["env"], json!({"A": "1"}));
        let pass = &s["helmPassthrough"];
        assert_eq!(pass["affinity"], json!({"podAntiAffinity": {}}));
        assert_eq!(pass["env"][0]["name"], "B");
        assert_eq!(pass["livenessProbe"]["httpGet"]["port"], "http");
        assert!(
            mapped
                .unmapped
                .contains(&"serviceAccount.create".to_owned()),
            "{:?}",
            mapped.unmapped
        );
        assert!(
            mapped.unmapped.contains(&"ingress.tls".to_owned()),
            "{:?}",
            mapped.unmapped
        );
    }

    #[test]
    fn overrides_are_minimal() {
        let base = json!({"a": {"b": 1, "c": 2}, "d": [1], "e": 1});
        let tenant = json!({"a": {"b": 1, "c": 3}, "d": [1], "f": 1});
        let (Value::Object(b), Value::Object(t)) = (base, tenant) else {
            unreachable!()
        };
        assert_eq!(
            Value::Object(overrides(&b, &t)),
            json!({"a": {"c": 3}, "f": 1, "e": null})
        );
    }
}
