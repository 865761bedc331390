//! stakater/application (9.x) values mapped to stencil's service model. The chart's keys
//! and shapes are in its `values.yaml`; what this maps is the table in `docs/migrate.md`.
//! Values rendered through the chart's `tpl` that name the deployment's own image
//! (`{{ .Values.deployment.image.* }}`) become stencil's inheritance: a job or init container
//! without an image of its own.

use serde_json::{Map, Value, json};

use super::kube;
use super::{Mapping, take, take_path};

/// Whether a value names the deployment's own image through the chart's `tpl`.
fn is_service_image(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|s| s.contains(".Values.deployment.image"))
}

pub(crate) fn map(m: &mut Mapping) {
    take(&mut m.v, "applicationName");
    files_and_persistence(m);
    if let Some(Value::Object(mut d)) = take(&mut m.v, "deployment") {
        take_true(&mut d, "enabled");
        deployment(m, &mut d);
        m.keep("deployment", Value::Object(d));
    }
    service(m);
    ingress(m);
    http_route(m);
    service_account(m);
    monitoring(m);
    if let Some(Value::Object(mut pdb)) = take(&mut m.v, "pdb") {
        let mut out = Map::new();
        if let Some(e) = take(&mut pdb, "enabled") {
            out.insert("enabled".into(), e);
        }
        for key in ["minAvailable", "maxUnavailable"] {
            if let Some(v) = take(&mut pdb, key) {
                out.insert(key.into(), v);
            }
        }
        m.out
            .insert("podDisruptionBudget".into(), Value::Object(out));
        m.keep("pdb", Value::Object(pdb));
    }
    autoscaling(m);
    jobs(m, "cronJob", "cronJobs");
    jobs(m, "job", "jobs");
}

/// Removes `key` when it is `true` (the chart's default of an enabled feature).
fn take_true(map: &mut Map<String, Value>, key: &str) {
    if map.get(key) == Some(&Value::Bool(true)) {
        map.remove(key);
    }
}

fn deployment(m: &mut Mapping, d: &mut Map<String, Value>) {
    if let Some(Value::Object(mut image)) = take(d, "image") {
        let mut out = Map::new();
        for key in ["repository", "tag", "digest", "pullPolicy"] {
            if let Some(v) = take(&mut image, key) {
                out.insert(key.into(), text(v));
            }
        }
        m.out.insert("image".into(), Value::Object(out));
        if !image.is_empty() {
            d.insert("image".into(), Value::Object(image));
        }
    }
    for (from, to) in [
        ("replicas", "replicas"),
        ("command", "command"),
        ("args", "args"),
        ("resources", "resources"),
        (
            "terminationGracePeriodSeconds",
            "terminationGracePeriodSeconds",
        ),
        ("additionalPodAnnotations", "podAnnotations"),
    ] {
        if let Some(v) = take(d, from) {
            m.out.insert(to.into(), v);
        }
    }
    container(m, d);
    init_containers(m, d);
    super::shared::scheduling(m, d);
    // stencil's hardened pod supersedes the chart's security contexts (it sets at least
    // what the chart sets: read-only root, non-root); the comparison shows the difference.
    for key in ["securityContext", "containerSecurityContext"] {
        if let Some(v) = take(d, key) {
            drop(v);
            m.superseded(&format!("deployment.{key}"));
        }
    }
}

fn text(v: Value) -> Value {
    match v {
        Value::Number(n) => Value::String(n.to_string()),
        other => other,
    }
}

/// Ports, env, envFrom, probes and lifecycle of the main container.
fn container(m: &mut Mapping, d: &mut Map<String, Value>) {
    super::shared::ports(m, d);
    if let Some(raw) = take(d, "env") {
        let (env, rest) = kube::env(raw);
        m.out.insert("env".into(), Value::Object(env));
        if let Some(rest) = rest {
            d.insert("env".into(), rest);
        }
    }
    if let Some(Value::Object(sources)) = take(d, "envFrom") {
        let (mapped, rest) = env_from(sources);
        if !mapped.is_empty() {
            m.out.insert("envFrom".into(), Value::Array(mapped));
        }
        if !rest.is_empty() {
            d.insert("envFrom".into(), Value::Object(rest));
        }
    }
    super::shared::probes(m, d);
    super::shared::lifecycle(m, d);
}

/// The chart's `envFrom` map (`label -> {type, name, optional}`) as stencil's list, by label.
fn env_from(sources: Map<String, Value>) -> (Vec<Value>, Map<String, Value>) {
    let mut mapped = Vec::new();
    let mut rest = Map::new();
    for (label, source) in sources {
        let kind = match source.get("type").and_then(Value::as_str) {
            Some("configmap") => "configMap",
            Some("secret") => "secret",
            _ => {
                rest.insert(label, source);
                continue;
            }
        };
        let Some(name) = source.get("name").cloned() else {
            rest.insert(label, source);
            continue;
        };
        let mut out = Map::from_iter([(kind.to_owned(), name)]);
        if let Some(optional) = source.get("optional") {
            out.insert("optional".into(), optional.clone());
        }
        mapped.push(Value::Object(out));
    }
    (mapped, rest)
}

/// `initContainers` (a map by name); an image that is the deployment's own is inherited.
fn init_containers(m: &mut Mapping, d: &mut Map<String, Value>) {
    let Some(Value::Object(inits)) = take(d, "initContainers") else {
        return;
    };
    let mut out = Vec::new();
    let mut rest = Map::new();
    for (name, body) in inits {
        let Value::Object(mut c) = body else {
            rest.insert(name, body);
            continue;
        };
        let mut init = Map::from_iter([("name".to_owned(), Value::String(name.clone()))]);
        if c.get("image").is_some_and(is_service_image) {
            c.remove("image");
        }
        for key in ["command", "args", "resources"] {
            if let Some(v) = take(&mut c, key) {
                init.insert(key.into(), v);
            }
        }
        if let Some(raw) = take(&mut c, "env") {
            let (env, unmapped) = kube::env(raw);
            init.insert("env".into(), Value::Object(env));
            if let Some(u) = unmapped {
                c.insert("env".into(), u);
            }
        }
        out.push(Value::Object(init));
        if !c.is_empty() {
            rest.insert(name, Value::Object(c));
        }
    }
    m.out.insert("initContainers".into(), Value::Array(out));
    if !rest.is_empty() {
        d.insert("initContainers".into(), Value::Object(rest));
    }
}

/// `deployment.volumes`/`volumeMounts` (maps by volume name), the chart's ConfigMaps
/// (`configMap.files.<suffix>`) mounted by `subPath` as stencil's `files`, and
/// `persistence` as a `data` claim.
fn files_and_persistence(m: &mut Mapping) {
    let mut volumes = take_path(&mut m.v, &["deployment", "volumes"]);
    let mut mounts = take_path(&mut m.v, &["deployment", "volumeMounts"]);
    let mut config = take_path(&mut m.v, &["configMap", "files"]);
    let mut files = Map::new();
    let mut ours = Map::new();
    let mut used: Vec<(String, String)> = Vec::new();
    for (name, mount) in mounts.clone() {
        let Some(volume) = volumes.get(&name).cloned() else {
            continue;
        };
        let Some(path) = mount.get("mountPath").cloned() else {
            continue;
        };
        if let Some((suffix, key, file)) = config_file(&volume, &mount, &config) {
            files.insert(text_of(&path), json!({ "content": file }));
            used.push((suffix, key));
        } else if let Some(mut v) = volume_source(&volume) {
            let plain = mount
                .as_object()
                .is_some_and(|o| o.keys().all(|k| k == "mountPath" || k == "readOnly"));
            if !plain {
                continue;
            }
            v.insert("mountPath".into(), path);
            if let Some(ro) = mount.get("readOnly") {
                v.insert("readOnly".into(), ro.clone());
            }
            ours.insert(name.clone(), Value::Object(v));
        } else {
            continue;
        }
        volumes.remove(&name);
        mounts.remove(&name);
    }
    // What was mounted as files is stencil's `<service>-files` now; the rest stays.
    for (suffix, key) in &used {
        if let Some(Value::Object(data)) = config.get_mut(suffix) {
            data.remove(key);
        }
    }
    config.retain(|_, data| data.as_object().is_none_or(|d| !d.is_empty()));
    persistence(m, &mut ours);
    if !files.is_empty() {
        m.out.insert("files".into(), Value::Object(files));
    }
    if !ours.is_empty() {
        m.out.insert("volumes".into(), Value::Object(ours));
    }
    for (key, rest) in [
        ("deployment.volumes", volumes),
        ("deployment.volumeMounts", mounts),
        ("configMap.files", config),
    ] {
        if !rest.is_empty() {
            m.keep(key, Value::Object(rest));
        }
    }
    if let Some(Value::Object(mut cm)) = take(&mut m.v, "configMap") {
        take_true(&mut cm, "enabled");
        m.keep("configMap", Value::Object(cm));
    }
}

fn text_of(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

/// The ConfigMap, key and content a `configMap` volume mounted by `subPath` shows, when the
/// ConfigMap is one of the chart's own (`<name>-<suffix>`).
fn config_file(
    volume: &Value,
    mount: &Value,
    config: &Map<String, Value>,
) -> Option<(String, String, Value)> {
    let name = volume.get("configMap")?.get("name")?.as_str()?;
    let key = mount.get("subPath")?.as_str()?;
    let (suffix, data) = config
        .iter()
        .find(|(suffix, _)| name.ends_with(&format!("-{suffix}")))?;
    let content = data.get(key)?.clone();
    Some((suffix.clone(), key.to_owned(), content))
}

/// An emptyDir, an existing claim or a CSI volume, as stencil's volume (no mount path yet).
fn volume_source(volume: &Value) -> Option<Map<String, Value>> {
    let v = volume.as_object()?;
    if v.len() != 1 {
        return None;
    }
    let (kind, body) = v.iter().next()?;
    let out = match kind.as_str() {
        "emptyDir" => json!({ "emptyDir": body }),
        "persistentVolumeClaim" => json!({ "existingClaim": body.get("claimName")? }),
        "csi" => json!({ "csi": body }),
        _ => return None,
    };
    out.as_object().cloned()
}

/// `persistence` (the chart's one PVC `<name>-data`) as a `data` claim.
fn persistence(m: &mut Mapping, ours: &mut Map<String, Value>) {
    let Some(Value::Object(mut p)) = take(&mut m.v, "persistence") else {
        return;
    };
    if p.get("enabled") != Some(&Value::Bool(true)) || p.get("mountPVC") != Some(&Value::Bool(true))
    {
        m.keep("persistence", Value::Object(p));
        return;
    }
    let mut claim = Map::new();
    if let Some(class) = take(&mut p, "storageClass").filter(|c| c.as_str() != Some("-")) {
        claim.insert("storageClassName".into(), class);
    }
    if let Some(size) = take(&mut p, "storageSize") {
        claim.insert("size".into(), size);
    }
    if let Some(mode) = take(&mut p, "accessMode") {
        claim.insert("accessModes".into(), json!([mode]));
    }
    let path = take(&mut p, "mountPath").unwrap_or(json!("/data"));
    for key in ["enabled", "mountPVC"] {
        p.remove(key);
    }
    ours.insert("data".into(), json!({ "mountPath": path, "claim": claim }));
    m.keep("persistence", Value::Object(p));
}

/// `service.ports` that are the container ports (what stencil's Service renders), the type.
fn service(m: &mut Mapping) {
    let Some(Value::Object(mut s)) = take(&mut m.v, "service") else {
        return;
    };
    take_true(&mut s, "enabled");
    if s.get("enabled") == Some(&Value::Bool(false)) && m.out.get("port").is_none() {
        s.remove("enabled");
        m.out.insert("workload".into(), json!("worker"));
    }
    super::shared::service_ports(m, &mut s);
    match take(&mut s, "type") {
        Some(t) if t != "ClusterIP" => {
            m.out.insert("serviceType".into(), t);
        }
        _ => {}
    }
    m.keep("service", Value::Object(s));
}

/// `ingress`: every host serving the same paths; TLS from the cert-manager annotation.
fn ingress(m: &mut Mapping) {
    let Some(Value::Object(mut i)) = take(&mut m.v, "ingress") else {
        return;
    };
    let mut out = Map::new();
    if let Some(e) = take(&mut i, "enabled") {
        out.insert("enabled".into(), e);
    }
    if let Some(c) = take(&mut i, "ingressClassName") {
        out.insert("className".into(), c);
    }
    let mut annotations = match take(&mut i, "annotations") {
        Some(Value::Object(a)) => a,
        _ => Map::new(),
    };
    let issuer = annotations.remove("cert-manager.io/cluster-issuer");
    super::shared::hosts_and_paths(&mut i, &mut out, "host");
    let tls = i.get("tls").and_then(Value::as_array).cloned();
    match tls.as_deref() {
        Some([one]) if one.get("secretName").is_some() => {
            i.remove("tls");
            let mut t = Map::from_iter([("secretName".to_owned(), one["secretName"].clone())]);
            if let Some(issuer) = issuer {
                t.insert("clusterIssuer".into(), issuer);
            }
            out.insert("tls".into(), Value::Object(t));
        }
        _ => {
            if let Some(issuer) = issuer {
                annotations.insert("cert-manager.io/cluster-issuer".into(), issuer);
            }
        }
    }
    if !annotations.is_empty() {
        out.insert("annotations".into(), Value::Object(annotations));
    }
    m.out.insert("ingress".into(), Value::Object(out));
    m.keep("ingress", Value::Object(i));
}

/// `httpRoute` with one parent Gateway, its hostnames, and rules that only send path
/// prefixes to the service (the chart's default rule: `/`).
fn http_route(m: &mut Mapping) {
    let Some(Value::Object(mut r)) = take(&mut m.v, "httpRoute") else {
        return;
    };
    if r.get("enabled") != Some(&Value::Bool(true)) {
        m.keep("httpRoute", Value::Object(r));
        return;
    }
    let parents = r.get("parentRefs").and_then(Value::as_array).cloned();
    let Some([parent]) = parents.as_deref() else {
        m.keep("httpRoute", Value::Object(r));
        return;
    };
    let mut gateway = Map::new();
    for key in ["name", "namespace", "sectionName"] {
        if let Some(v) = parent.get(key) {
            gateway.insert(key.into(), v.clone());
        }
    }
    let paths = match r.get("rules") {
        None => Some(Vec::new()),
        Some(rules) => route_paths(rules),
    };
    let Some(paths) = paths else {
        m.keep("httpRoute", Value::Object(r));
        return;
    };
    let mut out = Map::from_iter([("gateway".to_owned(), Value::Object(gateway))]);
    out.insert("hosts".into(), r.remove("hostnames").unwrap_or(json!([])));
    if !paths.is_empty() {
        out.insert("paths".into(), Value::Array(paths));
    }
    for key in ["enabled", "parentRefs", "rules"] {
        r.remove(key);
    }
    m.out.insert("httpRoute".into(), Value::Object(out));
    // An Ingress beside a route would serve the hosts twice: the chart's is off by default.
    m.keep("httpRoute", Value::Object(r));
}

/// The path prefixes of rules that each match paths only and send them to one backend.
fn route_paths(rules: &Value) -> Option<Vec<Value>> {
    let mut paths = Vec::new();
    for rule in rules.as_array()? {
        let keys_ok = rule
            .as_object()?
            .keys()
            .all(|k| k == "matches" || k == "backendRefs");
        if !keys_ok
            || rule
                .get("backendRefs")
                .and_then(Value::as_array)
                .is_some_and(|b| b.len() != 1)
        {
            return None;
        }
        for m in rule
            .get("matches")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let path = m.get("path")?;
            if m.as_object()?.len() != 1
                || path.get("type").and_then(Value::as_str) != Some("PathPrefix")
            {
                return None;
            }
            paths.push(path.get("value")?.clone());
        }
    }
    Some(paths)
}

fn service_account(m: &mut Mapping) {
    let Some(Value::Object(mut rbac)) = take(&mut m.v, "rbac") else {
        return;
    };
    take_true(&mut rbac, "enabled");
    if let Some(Value::Object(mut sa)) = take(&mut rbac, "serviceAccount") {
        take_true(&mut sa, "create");
        let mut out = Map::new();
        if let Some(Value::Object(mut notes)) = take(&mut sa, "annotations") {
            if let Some(arn) = notes.remove("eks.amazonaws.com/role-arn") {
                out.insert("iamRoleArn".into(), arn);
            }
            if !notes.is_empty() {
                out.insert("annotations".into(), Value::Object(notes));
            }
        }
        if !out.is_empty() {
            m.out.insert("serviceAccount".into(), Value::Object(out));
        }
        if !sa.is_empty() {
            rbac.insert("serviceAccount".into(), Value::Object(sa));
        }
    }
    m.keep("rbac", Value::Object(rbac));
}

/// `serviceMonitor` with one endpoint, `prometheusRule` alerts.
fn monitoring(m: &mut Mapping) {
    let mut out = Map::new();
    if let Some(Value::Object(mut sm)) = take(&mut m.v, "serviceMonitor") {
        let endpoints = sm.get("endpoints").and_then(Value::as_array).cloned();
        if sm.get("enabled") == Some(&Value::Bool(true))
            && let Some([one]) = endpoints.as_deref()
        {
            sm.remove("enabled");
            sm.remove("endpoints");
            out.insert("serviceMonitor".into(), one.clone());
        }
        m.keep("serviceMonitor", Value::Object(sm));
    }
    if let Some(Value::Object(mut pr)) = take(&mut m.v, "prometheusRule") {
        if pr.get("enabled") == Some(&Value::Bool(true))
            && let Some(alerts) = pr.get("groups").and_then(alerts)
        {
            pr.remove("enabled");
            pr.remove("groups");
            out.insert("alerts".into(), Value::Object(alerts));
        }
        m.keep("prometheusRule", Value::Object(pr));
    }
    if !out.is_empty() {
        m.out.insert("monitoring".into(), Value::Object(out));
    }
}

/// Alerting rules (no recording rules) of any groups, by alert name.
fn alerts(groups: &Value) -> Option<Map<String, Value>> {
    let mut out = Map::new();
    for group in groups.as_array()? {
        for rule in group.get("rules")?.as_array()? {
            let mut r = rule.as_object()?.clone();
            let name = r.remove("alert")?.as_str()?.to_owned();
            if r.keys()
                .any(|k| !matches!(k.as_str(), "expr" | "for" | "labels" | "annotations"))
            {
                return None;
            }
            out.insert(name, Value::Object(r));
        }
    }
    Some(out)
}

fn autoscaling(m: &mut Mapping) {
    let Some(Value::Object(mut a)) = take(&mut m.v, "autoscaling") else {
        return;
    };
    let mut out = Map::new();
    for key in ["enabled", "minReplicas", "maxReplicas"] {
        if let Some(v) = take(&mut a, key) {
            out.insert(key.into(), v);
        }
    }
    if let Some(metrics) = a.get("metrics").and_then(Value::as_array).cloned() {
        let mapped: Option<Vec<(String, Value)>> = metrics.iter().map(utilization).collect();
        if let Some(mapped) = mapped {
            a.remove("metrics");
            out.extend(mapped);
        }
    }
    m.out.insert("autoscaling".into(), Value::Object(out));
    m.keep("autoscaling", Value::Object(a));
}

/// A CPU or memory utilization metric as stencil's target.
fn utilization(metric: &Value) -> Option<(String, Value)> {
    let r = metric.get("resource")?;
    let target = r.get("target")?;
    if target.get("type")?.as_str()? != "Utilization" {
        return None;
    }
    let key = match r.get("name")?.as_str()? {
        "cpu" => "targetCPUUtilization",
        "memory" => "targetMemoryUtilization",
        _ => return None,
    };
    Some((key.to_owned(), target.get("averageUtilization")?.clone()))
}

/// `cronJob.jobs` or `job.jobs` as stencil's `cronJobs` or `jobs`, Helm hooks as Argo CD's.
fn jobs(m: &mut Mapping, key: &str, ours: &str) {
    let Some(Value::Object(mut section)) = take(&mut m.v, key) else {
        return;
    };
    take_true(&mut section, "enabled");
    let Some(Value::Object(list)) = take(&mut section, "jobs") else {
        m.keep(key, Value::Object(section));
        return;
    };
    let service = m.out.clone();
    let mut out = Map::new();
    let mut rest = Map::new();
    for (name, body) in list {
        let Value::Object(mut j) = body else { continue };
        out.insert(name.clone(), super::job(&mut j, &service, is_service_image));
        if !j.is_empty() {
            rest.insert(name, Value::Object(j));
        }
    }
    m.out.insert(ours.into(), Value::Object(out));
    if !rest.is_empty() {
        section.insert("jobs".into(), Value::Object(rest));
    }
    m.keep(key, Value::Object(section));
}
