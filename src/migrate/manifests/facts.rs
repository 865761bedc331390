//! One app's rendered objects, Helm's or stencil's, as comparable facts: `Kind/name path`
//! -> value. Both sides go through the same normalisation, so that what differs is what a
//! cluster would run differently, not how each tool spells it:
//!
//! - env is what the container sees: inline values, and the keys of the ConfigMaps its
//!   `envFrom` loads (from the same render), by variable name;
//! - a mount is what the container reads at its path: a file's content (a ConfigMap key by
//!   `subPath`), an emptyDir and its size, a claim, a CSI volume;
//! - probes name their port (a number the container declares is its name);
//! - Helm hook annotations are the Argo CD hooks they become;
//! - a plain Job's content-hash suffix (stencil's) is dropped from its name;
//! - ConfigMaps and Secrets are compared through what pods read of them.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

/// `Kind/name path` -> the value, as JSON text.
pub(crate) type Facts = BTreeMap<String, String>;

/// The facts of one app's objects.
pub(crate) fn facts(objects: &[Value]) -> Facts {
    let configs = config_maps(objects);
    let scaled = autoscaled(objects);
    let mut out = Facts::new();
    for object in objects {
        let kind = object
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some(mut view) = view(kind, object, &configs) else {
            continue;
        };
        let target = format!(
            "{kind}/{}",
            object
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
        );
        if scaled.contains(&target)
            && let Some(replicas) = view.get_mut("replicas")
        {
            // With an HPA, the HPA owns the count (stencil does not write it at all).
            *replicas = json!("<the HPA's>");
        }
        if scaled.contains(&target) && view.get("replicas").is_none() {
            view["replicas"] = json!("<the HPA's>");
        }
        let name = object_name(kind, object);
        flatten(&format!("{kind}/{name}"), "", &view, &mut out);
    }
    out
}

/// `Kind/name` of every workload an HPA of the render scales.
fn autoscaled(objects: &[Value]) -> Vec<String> {
    objects
        .iter()
        .filter(|o| o.get("kind").and_then(Value::as_str) == Some("HorizontalPodAutoscaler"))
        .filter_map(|o| {
            let target = o.pointer("/spec/scaleTargetRef")?;
            Some(format!(
                "{}/{}",
                target.get("kind")?.as_str()?,
                target.get("name")?.as_str()?
            ))
        })
        .collect()
}

/// ConfigMaps of the render by name: their data.
fn config_maps(objects: &[Value]) -> BTreeMap<String, Map<String, Value>> {
    objects
        .iter()
        .filter(|o| o.get("kind").and_then(Value::as_str) == Some("ConfigMap"))
        .filter_map(|o| {
            let name = o.pointer("/metadata/name")?.as_str()?.to_owned();
            let data = o
                .get("data")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            Some((name, data))
        })
        .collect()
}

/// The name an object is compared under: a plain Job's hash suffix dropped.
fn object_name(kind: &str, object: &Value) -> String {
    let name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let hook = object
        .pointer("/metadata/annotations/argocd.argoproj.io~1hook")
        .is_some();
    if kind == "Job"
        && !hook
        && let Some((head, tail)) = name.rsplit_once('-')
        && tail.len() == 8
        && tail.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return head.to_owned();
    }
    name.to_owned()
}

fn pick(from: &Value, keys: &[&str]) -> Map<String, Value> {
    keys.iter()
        .filter_map(|k| Some(((*k).to_owned(), from.get(*k)?.clone())))
        .collect()
}

/// The normalised view of one object, or `None` for a kind compared through others.
fn view(kind: &str, o: &Value, configs: &BTreeMap<String, Map<String, Value>>) -> Option<Value> {
    let spec = o.get("spec").cloned().unwrap_or(Value::Null);
    let mut v = match kind {
        "Deployment" | "StatefulSet" => {
            let mut v = pick(
                &spec,
                &[
                    "replicas",
                    "strategy",
                    "revisionHistoryLimit",
                    "minReadySeconds",
                    "progressDeadlineSeconds",
                    "serviceName",
                    "podManagementPolicy",
                    "updateStrategy",
                ],
            );
            if let Some(Value::Array(templates)) = spec.get("volumeClaimTemplates") {
                let claims: Map<String, Value> = templates
                    .iter()
                    .filter_map(|t| {
                        Some((
                            t.pointer("/metadata/name")?.as_str()?.to_owned(),
                            claim(t.get("spec")?),
                        ))
                    })
                    .collect();
                v.insert("volumeClaimTemplates".into(), Value::Object(claims));
            }
            v.insert("pod".into(), pod(spec.get("template")?, configs));
            v
        }
        "CronJob" => {
            let mut v = pick(
                &spec,
                &[
                    "schedule",
                    "timeZone",
                    "concurrencyPolicy",
                    "suspend",
                    "successfulJobsHistoryLimit",
                    "failedJobsHistoryLimit",
                    "startingDeadlineSeconds",
                ],
            );
            let job = spec.pointer("/jobTemplate/spec")?;
            v.insert(
                "job".into(),
                Value::Object(pick(
                    job,
                    &[
                        "backoffLimit",
                        "activeDeadlineSeconds",
                        "ttlSecondsAfterFinished",
                    ],
                )),
            );
            v.insert("pod".into(), pod(job.get("template")?, configs));
            v
        }
        "Job" => {
            let mut v = pick(
                &spec,
                &[
                    "backoffLimit",
                    "activeDeadlineSeconds",
                    "ttlSecondsAfterFinished",
                ],
            );
            v.insert("pod".into(), pod(spec.get("template")?, configs));
            v
        }
        "Service" => service(&spec),
        "Ingress" => ingress(o, &spec),
        "HTTPRoute" => pick(&spec, &["parentRefs", "hostnames", "rules"]),
        "HorizontalPodAutoscaler" => pick(
            &spec,
            &["minReplicas", "maxReplicas", "metrics", "behavior"],
        ),
        "PodDisruptionBudget" => pick(&spec, &["minAvailable", "maxUnavailable"]),
        "ServiceMonitor" => service_monitor(&spec),
        "PrometheusRule" => prometheus_rule(&spec),
        "PersistentVolumeClaim" => claim(&spec).as_object()?.clone(),
        "ServiceAccount" => pick(o, &["automountServiceAccountToken"]),
        _ => return None,
    };
    let meta = o.get("metadata").cloned().unwrap_or(Value::Null);
    if let Some(Value::Object(labels)) = meta.get("labels") {
        v.insert("labels".into(), Value::Object(labels.clone()));
    }
    if let Some(Value::Object(notes)) = meta.get("annotations") {
        v.insert("annotations".into(), Value::Object(argo_hooks(notes)));
    }
    Some(Value::Object(v))
}

fn claim(spec: &Value) -> Value {
    json!({
        "storageClassName": spec.get("storageClassName"),
        "accessModes": spec.get("accessModes"),
        "storage": spec.pointer("/resources/requests/storage"),
    })
}

/// Helm hook annotations as the Argo CD hook annotations Argo CD maps them to.
fn argo_hooks(notes: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in notes {
        let text = value.as_str().unwrap_or_default();
        let (key, value) = match key.as_str() {
            "helm.sh/hook" => {
                let phase = if text.contains("pre-") {
                    "PreSync"
                } else if text.contains("post-") {
                    "PostSync"
                } else {
                    text
                };
                ("argocd.argoproj.io/hook", json!(phase))
            }
            "helm.sh/hook-weight" => ("argocd.argoproj.io/sync-wave", value.clone()),
            "helm.sh/hook-delete-policy" => {
                let policy = match text {
                    "before-hook-creation" => "BeforeHookCreation",
                    "hook-succeeded" => "HookSucceeded",
                    "hook-failed" => "HookFailed",
                    other => other,
                };
                ("argocd.argoproj.io/hook-delete-policy", json!(policy))
            }
            other => (other, value.clone()),
        };
        out.insert(key.to_owned(), value);
    }
    out
}

/// A pod template: what the pod runs and where.
fn pod(template: &Value, configs: &BTreeMap<String, Map<String, Value>>) -> Value {
    let spec = template.get("spec").cloned().unwrap_or(Value::Null);
    let mut v = pick(
        &spec,
        &[
            "serviceAccountName",
            "automountServiceAccountToken",
            "nodeSelector",
            "affinity",
            "priorityClassName",
            "terminationGracePeriodSeconds",
            "restartPolicy",
            "securityContext",
            "topologySpreadConstraints",
            "enableServiceLinks",
            "hostNetwork",
            "dnsPolicy",
        ],
    );
    if let Some(Value::Array(tolerations)) = spec.get("tolerations") {
        let by_taint: Map<String, Value> = tolerations
            .iter()
            .map(|t| {
                let s = |k: &str| t.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
                (
                    format!("{}={}:{}", s("key"), s("value"), s("effect")),
                    json!(t.get("operator").and_then(Value::as_str).unwrap_or("Equal")),
                )
            })
            .collect();
        v.insert("tolerations".into(), Value::Object(by_taint));
    }
    let meta = template.get("metadata").cloned().unwrap_or(Value::Null);
    for key in ["labels", "annotations"] {
        if let Some(m) = meta.get(key) {
            v.insert(key.into(), m.clone());
        }
    }
    if let Some(affinity) = v.get_mut("affinity") {
        own_pods(affinity, meta.get("labels"));
    }
    let volumes: Vec<Value> = spec
        .get("volumes")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for (list, key) in [("containers", "containers"), ("initContainers", "init")] {
        let containers: Map<String, Value> = spec
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|c| {
                let name = c
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                (name, container(c, &volumes, configs))
            })
            .collect();
        if !containers.is_empty() {
            v.insert(key.into(), Value::Object(containers));
        }
    }
    Value::Object(v)
}

/// Pod (anti-)affinity terms whose selector picks the pod's own labels select "own pods":
/// each tool labels its pods its own way.
fn own_pods(affinity: &mut Value, labels: Option<&Value>) {
    let own = |selector: &Value| {
        selector
            .get("matchLabels")
            .and_then(Value::as_object)
            .is_some_and(|m| {
                !m.is_empty()
                    && m.iter()
                        .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
            })
            && selector.get("matchExpressions").is_none()
    };
    match affinity {
        Value::Object(map) => {
            if map.get("labelSelector").is_some_and(own) {
                map.insert("labelSelector".into(), json!("<own pods>"));
            }
            for v in map.values_mut() {
                own_pods(v, labels);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| own_pods(v, labels)),
        _ => {}
    }
}

fn container(
    c: &Value,
    volumes: &[Value],
    configs: &BTreeMap<String, Map<String, Value>>,
) -> Value {
    let mut v = pick(
        c,
        &[
            "image",
            "imagePullPolicy",
            "command",
            "args",
            "resources",
            "lifecycle",
            "securityContext",
            "workingDir",
        ],
    );
    let ports: Map<String, Value> = c
        .get("ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| {
            (
                p.get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                p.get("containerPort").cloned().unwrap_or(Value::Null),
            )
        })
        .collect();
    for key in ["startupProbe", "livenessProbe", "readinessProbe"] {
        if let Some(p) = c.get(key) {
            v.insert(key.into(), probe(p, &ports));
        }
    }
    if !ports.is_empty() {
        v.insert("ports".into(), Value::Object(ports));
    }
    let env = env(c, configs);
    if !env.is_empty() {
        v.insert("env".into(), Value::Object(env));
    }
    let mounts = mounts(c, volumes, configs);
    if !mounts.is_empty() {
        v.insert("mounts".into(), Value::Object(mounts));
    }
    Value::Object(v)
}

/// A probe, its port by name.
fn probe(p: &Value, ports: &Map<String, Value>) -> Value {
    let mut v = pick(
        p,
        &[
            "initialDelaySeconds",
            "periodSeconds",
            "timeoutSeconds",
            "failureThreshold",
            "successThreshold",
        ],
    );
    for handler in ["httpGet", "tcpSocket", "exec", "grpc"] {
        let Some(h) = p.get(handler) else { continue };
        let mut h = h.as_object().cloned().unwrap_or_default();
        if let Some(port @ Value::Number(_)) = h.get("port").cloned()
            && let Some((name, _)) = ports.iter().find(|(_, n)| **n == port)
        {
            h.insert("port".into(), json!(name));
        }
        if h.get("scheme").and_then(Value::as_str) == Some("HTTP") {
            h.remove("scheme");
        }
        v.insert(handler.into(), Value::Object(h));
    }
    Value::Object(v)
}

/// What the container sees as env: `envFrom` ConfigMaps of the render expanded (others
/// named), then `env` (which wins).
fn env(c: &Value, configs: &BTreeMap<String, Map<String, Value>>) -> Map<String, Value> {
    let mut env = Map::new();
    for source in c
        .get("envFrom")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let prefix = source.get("prefix").and_then(Value::as_str).unwrap_or("");
        if let Some(name) = source.pointer("/configMapRef/name").and_then(Value::as_str) {
            match configs.get(name) {
                Some(data) => {
                    for (k, val) in data {
                        env.insert(format!("{prefix}{k}"), val.clone());
                    }
                }
                None => {
                    env.insert(
                        format!("<envFrom configMap {name}>"),
                        json!(source.pointer("/configMapRef/optional")),
                    );
                }
            }
        }
        if let Some(name) = source.pointer("/secretRef/name").and_then(Value::as_str) {
            env.insert(
                format!("<envFrom secret {name}>"),
                json!(source.pointer("/secretRef/optional")),
            );
        }
    }
    for var in c.get("env").and_then(Value::as_array).into_iter().flatten() {
        let Some(name) = var.get("name").and_then(Value::as_str) else {
            continue;
        };
        let value = match (var.get("value"), var.get("valueFrom")) {
            (Some(v), _) => v.clone(),
            (None, Some(from)) => json!(format!("<from {from}>")),
            (None, None) => json!(""),
        };
        env.insert(name.to_owned(), value);
    }
    env
}

/// What the container reads at each mount path.
fn mounts(
    c: &Value,
    volumes: &[Value],
    configs: &BTreeMap<String, Map<String, Value>>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for m in c
        .get("volumeMounts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (Some(path), Some(name)) = (
            m.get("mountPath").and_then(Value::as_str),
            m.get("name").and_then(Value::as_str),
        ) else {
            continue;
        };
        let volume = volumes
            .iter()
            .find(|v| v.get("name").and_then(Value::as_str) == Some(name));
        let sub_path = m.get("subPath").and_then(Value::as_str);
        let mut what = volume.map_or(json!("<no volume>"), |v| source(v, sub_path, configs));
        if m.get("readOnly") == Some(&Value::Bool(true)) {
            what = json!({ "source": what, "readOnly": true });
        }
        out.insert(path.to_owned(), what);
    }
    out
}

/// A volume as what it shows at a mount: a ConfigMap key's content, an emptyDir's size, a
/// claim's name, a Secret key, a CSI driver.
fn source(
    volume: &Value,
    sub_path: Option<&str>,
    configs: &BTreeMap<String, Map<String, Value>>,
) -> Value {
    if let Some(name) = volume.pointer("/configMap/name").and_then(Value::as_str) {
        return match (configs.get(name), sub_path) {
            (Some(data), Some(key)) => json!({ "file": data.get(key) }),
            (Some(data), None) => json!({ "files": data }),
            (None, _) => json!({ "configMap": name, "subPath": sub_path }),
        };
    }
    if let Some(e) = volume.get("emptyDir") {
        return json!({ "emptyDir": e });
    }
    if let Some(claim) = volume.pointer("/persistentVolumeClaim/claimName") {
        return json!({ "claim": claim });
    }
    if let Some(secret) = volume.get("secret") {
        return json!({ "secret": secret.get("secretName"), "key": sub_path });
    }
    if let Some(csi) = volume.get("csi") {
        return json!({ "csi": csi });
    }
    let mut other = volume.clone();
    if let Some(o) = other.as_object_mut() {
        o.remove("name");
    }
    other
}

fn service(spec: &Value) -> Map<String, Value> {
    let mut v = Map::new();
    v.insert(
        "type".into(),
        spec.get("type").cloned().unwrap_or(json!("ClusterIP")),
    );
    if let Some(ip) = spec.get("clusterIP") {
        v.insert("clusterIP".into(), ip.clone());
    }
    let ports: Map<String, Value> = spec
        .get("ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| {
            let name = p
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let target = p
                .get("targetPort")
                .cloned()
                .unwrap_or_else(|| p.get("port").cloned().unwrap_or(Value::Null));
            (name, json!({ "port": p.get("port"), "targetPort": target }))
        })
        .collect();
    v.insert("ports".into(), Value::Object(ports));
    v
}

/// An Ingress: its class, each host+path's backend, each TLS host's Secret.
fn ingress(o: &Value, spec: &Value) -> Map<String, Value> {
    let mut v = Map::new();
    let class = spec
        .get("ingressClassName")
        .or_else(|| o.pointer("/metadata/annotations/kubernetes.io~1ingress.class"));
    v.insert("class".into(), json!(class));
    let mut routes = Map::new();
    for rule in spec
        .get("rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let host = rule.get("host").and_then(Value::as_str).unwrap_or("*");
        for p in rule
            .pointer("/http/paths")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let path = p.get("path").and_then(Value::as_str).unwrap_or("/");
            let backend = p.pointer("/backend/service");
            let port = backend.and_then(|b| {
                b.pointer("/port/name")
                    .or_else(|| b.pointer("/port/number"))
            });
            routes.insert(
                format!("{host}{path}"),
                json!({ "service": backend.and_then(|b| b.get("name")), "port": port, "pathType": p.get("pathType") }),
            );
        }
    }
    v.insert("routes".into(), Value::Object(routes));
    let mut tls = Map::new();
    for t in spec
        .get("tls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for host in t
            .get("hosts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            tls.insert(
                host.as_str().unwrap_or("").to_owned(),
                t.get("secretName").cloned().unwrap_or(Value::Null),
            );
        }
    }
    v.insert("tls".into(), Value::Object(tls));
    v
}

fn service_monitor(spec: &Value) -> Map<String, Value> {
    let endpoints: Map<String, Value> = spec
        .get("endpoints")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e.get("port")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                Value::Object(pick(e, &["path", "interval", "scrapeTimeout", "scheme"])),
            )
        })
        .collect();
    Map::from_iter([("endpoints".to_owned(), Value::Object(endpoints))])
}

fn prometheus_rule(spec: &Value) -> Map<String, Value> {
    let mut alerts = Map::new();
    for group in spec
        .get("groups")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for rule in group
            .get("rules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(name) = rule.get("alert").and_then(Value::as_str) {
                alerts.insert(
                    name.to_owned(),
                    Value::Object(pick(rule, &["expr", "for", "labels", "annotations"])),
                );
            }
        }
    }
    Map::from_iter([("alerts".to_owned(), Value::Object(alerts))])
}

/// Leaves of `value` under `object` and `path`; arrays are leaves.
fn flatten(object: &str, path: &str, value: &Value, out: &mut Facts) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                let key = if k.contains('.') || k.contains('/') {
                    format!("[{k}]")
                } else {
                    k.clone()
                };
                let path = if path.is_empty() {
                    key
                } else if key.starts_with('[') {
                    format!("{path}{key}")
                } else {
                    format!("{path}.{key}")
                };
                flatten(object, &path, v, out);
            }
        }
        Value::Null => {}
        _ => {
            out.insert(format!("{object} {path}"), value.to_string());
        }
    }
}
