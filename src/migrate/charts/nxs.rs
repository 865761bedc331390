//! nxs-universal-chart 2.x values mapped to stencil's service model. The chart renders maps
//! of named objects; a service is one `deployments.<name>` (its key is the service), with
//! the ConfigMaps, PVCs, Service, Ingress, ServiceMonitor, PDB, HPA, cron jobs
//! (`cronJobs.<name>-<job>`) and hooks (`hooks.<name>-<job>`) that belong to it. Names are
//! the keys when `releasePrefix: "-"`, stencil's own names: `<service>`, `<service>-<job>`.

use serde_json::{Map, Value, json};

use super::kube;
use super::{Mapping, take, take_path};

/// nxs has no way to name the deployment's image from a job: a job without `image` runs it.
fn is_service_image(_value: &Value) -> bool {
    false
}

pub(crate) fn map(m: &mut Mapping) {
    for key in ["releasePrefix", "generic"] {
        if let Some(v) = take(&mut m.v, key) {
            keep_generic(m, key, v);
        }
    }
    image(m);
    let mut configs = take_path(&mut m.v, &["configMaps"]);
    let mut pvcs = take_path(&mut m.v, &["pvcs"]);
    let mut done = false;
    for section in ["deployments", "statefulSets"] {
        let mut rest = Map::new();
        for (name, body) in take_path(&mut m.v, &[section]) {
            let Value::Object(mut d) = body else { continue };
            // One service, one workload: the first; any other stays (reported).
            if done {
                rest.insert(name, Value::Object(d));
                continue;
            }
            done = true;
            if section == "statefulSets" {
                stateful_set(m, &name, &mut d, &mut pvcs);
            }
            workload(m, &name, &mut d, &mut configs, &mut pvcs);
            if !d.is_empty() {
                rest.insert(name, Value::Object(d));
            }
        }
        if !rest.is_empty() {
            m.keep(section, Value::Object(rest));
        }
    }
    for (key, rest) in [("configMaps", configs), ("pvcs", pvcs)] {
        if !rest.is_empty() {
            m.keep(key, Value::Object(rest));
        }
    }
}

/// One workload `name` and the objects of the chart that belong to it. A Deployment no
/// `services.<name>` exposes is a worker.
fn workload(
    m: &mut Mapping,
    name: &str,
    d: &mut Map<String, Value>,
    configs: &mut Map<String, Value>,
    pvcs: &mut Map<String, Value>,
) {
    deployment(m, d, configs, pvcs);
    let exposed = m.v.get("services").and_then(|s| s.get(name)).is_some();
    if !exposed && !m.out.contains_key("workload") {
        m.out.insert("workload".into(), json!("worker"));
    }
    one_of(m, "services", name, service);
    one_of(m, "ingresses", name, ingress);
    one_of(m, "serviceAccount", name, service_account);
    one_of(m, "serviceMonitors", name, service_monitor);
    one_of(m, "pdbs", name, pdb);
    one_of(m, "hpas", name, hpa);
    jobs(m, "cronJobs", "cronJobs", name);
    jobs(m, "hooks", "jobs", name);
}

/// `statefulSets.<name>`: `workload: statefulSet` behind `<name>-headless` (stencil's
/// headless Service), its `volumeClaimTemplates` as claims mounted like the chart's PVCs.
fn stateful_set(
    m: &mut Mapping,
    name: &str,
    d: &mut Map<String, Value>,
    pvcs: &mut Map<String, Value>,
) {
    m.out.insert("workload".into(), json!("statefulSet"));
    if d.get("serviceName").and_then(Value::as_str) == Some(&format!("{name}-headless")) {
        d.remove("serviceName");
    }
    if let Some(policy) = take(d, "podManagementPolicy") {
        m.out.insert(
            "statefulSet".into(),
            json!({ "podManagementPolicy": policy }),
        );
    }
    let Some(Value::Array(templates)) = take(d, "volumeClaimTemplates") else {
        return;
    };
    let mut volumes = match take(d, "volumes") {
        Some(Value::Array(v)) => v,
        _ => Vec::new(),
    };
    for t in templates {
        let Some(claim_name) = t.pointer("/metadata/name").and_then(Value::as_str) else {
            continue;
        };
        let spec = t.get("spec").cloned().unwrap_or_default();
        pvcs.insert(
            claim_name.to_owned(),
            json!({
                "accessModes": spec.get("accessModes"),
                "size": spec.pointer("/resources/requests/storage"),
                "storageClassName": spec.get("storageClassName"),
            }),
        );
        volumes.push(json!({ "type": "pvc", "name": claim_name }));
    }
    d.insert("volumes".into(), Value::Array(volumes));
}

/// `releasePrefix: "-"` (names are the keys, as stencil's) and
/// `generic.usePredefinedAffinity: false` (no implicit affinity, as stencil) say what stencil
/// does anyway; `generic.serviceAccountName` naming the service's own account too.
fn keep_generic(m: &mut Mapping, key: &str, value: Value) {
    match (key, value) {
        ("releasePrefix", Value::String(p)) if p == "-" => {}
        ("generic", Value::Object(mut g)) => {
            if g.get("usePredefinedAffinity") == Some(&Value::Bool(false)) {
                g.remove("usePredefinedAffinity");
            }
            let own = g.get("serviceAccountName").cloned();
            if let Some(Value::String(sa)) = own
                && m.v.get("deployments").and_then(|d| d.get(&sa)).is_some()
            {
                g.remove("serviceAccountName");
            }
            m.keep("generic", Value::Object(g));
        }
        (key, value) => m.keep(key, value),
    }
}

fn image(m: &mut Mapping) {
    let mut image = Map::new();
    for (from, to) in [
        ("defaultImage", "repository"),
        ("defaultImageTag", "tag"),
        ("defaultImagePullPolicy", "pullPolicy"),
    ] {
        if let Some(v) = take(&mut m.v, from) {
            let v = match v {
                Value::Number(n) => Value::String(n.to_string()),
                other => other,
            };
            image.insert(to.into(), v);
        }
    }
    if !image.is_empty() {
        m.out.insert("image".into(), Value::Object(image));
    }
}

/// Moves `section.<name>` through `f` (what `f` leaves stays for `helmPassthrough`).
fn one_of(
    m: &mut Mapping,
    section: &str,
    name: &str,
    f: fn(&mut Mapping, &mut Map<String, Value>),
) {
    let Some(Value::Object(mut all)) = take(&mut m.v, section) else {
        return;
    };
    if let Some(Value::Object(mut body)) = all.remove(name) {
        f(m, &mut body);
        if !body.is_empty() {
            all.insert(name.to_owned(), Value::Object(body));
        }
    }
    if !all.is_empty() {
        m.keep(section, Value::Object(all));
    }
}

fn deployment(
    m: &mut Mapping,
    d: &mut Map<String, Value>,
    configs: &mut Map<String, Value>,
    pvcs: &mut Map<String, Value>,
) {
    for (from, to) in [
        ("replicas", "replicas"),
        (
            "terminationGracePeriodSeconds",
            "terminationGracePeriodSeconds",
        ),
        ("podAnnotations", "podAnnotations"),
    ] {
        if let Some(v) = take(d, from) {
            m.out.insert(to.into(), v);
        }
    }
    super::shared::scheduling(m, d);
    let volumes = match take(d, "volumes") {
        Some(Value::Array(v)) => v,
        _ => Vec::new(),
    };
    if let Some(Value::Array(mut containers)) = take(d, "containers") {
        if !containers.is_empty()
            && let Value::Object(mut main) = containers.remove(0)
        {
            container(m, &mut main, configs);
            mounts(m, &mut main, &volumes, configs, pvcs);
            main.remove("name");
            if !main.is_empty() {
                d.insert("containers".into(), json!([main]));
            }
        }
        if !containers.is_empty() {
            d.insert("sidecars".into(), Value::Array(containers));
        }
    }
    init_containers(m, d);
}

/// The main container: command, args, ports, env (its `envConfigmaps` of the chart's own
/// ConfigMaps become `env`), resources, probes, lifecycle.
fn container(m: &mut Mapping, c: &mut Map<String, Value>, configs: &mut Map<String, Value>) {
    for key in ["command", "args", "resources"] {
        if let Some(v) = take(c, key) {
            m.out.insert(key.into(), v);
        }
    }
    super::shared::ports(m, c);
    let mut env = Map::new();
    if let Some(Value::Array(names)) = take(c, "envConfigmaps") {
        let mut foreign = Vec::new();
        for name in names {
            let own = name.as_str().and_then(|n| configs.remove(n));
            match own
                .as_ref()
                .and_then(|cm| cm.get("data"))
                .and_then(Value::as_object)
            {
                Some(data) => env.extend(kube::env(Value::Object(data.clone())).0),
                None => foreign.push(json!({ "configMap": name })),
            }
        }
        if !foreign.is_empty() {
            m.out.insert("envFrom".into(), Value::Array(foreign));
        }
    }
    if let Some(raw) = take(c, "env") {
        let (plain, rest) = kube::env(raw);
        env.extend(plain);
        if let Some(rest) = rest {
            c.insert("env".into(), rest);
        }
    }
    if !env.is_empty() {
        m.out.insert("env".into(), Value::Object(env));
    }
    super::shared::probes(m, c);
    super::shared::lifecycle(m, c);
}

/// The main container's mounts of the pod's typed volumes: a chart ConfigMap key by
/// `subPath` is a file, a chart PVC a claim, an emptyDir an emptyDir.
fn mounts(
    m: &mut Mapping,
    c: &mut Map<String, Value>,
    volumes: &[Value],
    configs: &mut Map<String, Value>,
    pvcs: &mut Map<String, Value>,
) {
    let Some(Value::Array(list)) = take(c, "volumeMounts") else {
        return;
    };
    let mut files = Map::new();
    let mut ours = Map::new();
    let mut rest = Vec::new();
    for mount in list {
        match mount_one(&mount, volumes, configs, pvcs) {
            Some(Mounted::File(path, content)) => {
                files.insert(path, json!({ "content": content }));
            }
            Some(Mounted::Volume(name, v)) => {
                ours.insert(name, v);
            }
            None => rest.push(mount),
        }
    }
    configs.retain(|_, cm| {
        cm.get("data")
            .and_then(Value::as_object)
            .is_none_or(|d| !d.is_empty())
    });
    if !files.is_empty() {
        m.out.insert("files".into(), Value::Object(files));
    }
    if !ours.is_empty() {
        m.out.insert("volumes".into(), Value::Object(ours));
    }
    if !rest.is_empty() {
        c.insert("volumeMounts".into(), Value::Array(rest));
    }
}

enum Mounted {
    File(String, Value),
    Volume(String, Value),
}

fn mount_one(
    mount: &Value,
    volumes: &[Value],
    configs: &mut Map<String, Value>,
    pvcs: &mut Map<String, Value>,
) -> Option<Mounted> {
    let name = mount.get("name")?.as_str()?;
    let path = mount.get("mountPath")?.as_str()?.to_owned();
    let volume = volumes
        .iter()
        .find(|v| v.get("name").and_then(Value::as_str) == Some(name))?;
    let target = volume
        .get("originalName")
        .and_then(Value::as_str)
        .unwrap_or(name);
    let read_only = mount.get("readOnly").cloned();
    match volume.get("type")?.as_str()? {
        "configMap" => {
            let key = mount.get("subPath")?.as_str()?;
            let data = configs.get_mut(target)?.get_mut("data")?.as_object_mut()?;
            let content = data.remove(key)?;
            Some(Mounted::File(path, content))
        }
        "pvc" => {
            let mut v = match pvcs.remove(target) {
                Some(Value::Object(pvc)) => json!({ "mountPath": path, "claim": claim(&pvc) }),
                _ => json!({ "mountPath": path, "existingClaim": target }),
            };
            if let Some(ro) = read_only {
                v["readOnly"] = ro;
            }
            Some(Mounted::Volume(name.to_owned(), v))
        }
        "emptyDir" => {
            let mut empty = Map::new();
            for key in ["sizeLimit", "medium"] {
                if let Some(x) = volume.get(key) {
                    empty.insert(key.into(), x.clone());
                }
            }
            Some(Mounted::Volume(
                name.to_owned(),
                json!({ "mountPath": path, "emptyDir": empty }),
            ))
        }
        _ => None,
    }
}

fn claim(pvc: &Map<String, Value>) -> Value {
    let mut out = Map::new();
    for (from, to) in [
        ("storageClassName", "storageClassName"),
        ("size", "size"),
        ("accessModes", "accessModes"),
    ] {
        if let Some(v) = pvc.get(from) {
            out.insert(to.into(), v.clone());
        }
    }
    Value::Object(out)
}

fn init_containers(m: &mut Mapping, d: &mut Map<String, Value>) {
    let Some(Value::Array(inits)) = take(d, "initContainers") else {
        return;
    };
    let mut out = Vec::new();
    let mut rest = Vec::new();
    for init in inits {
        let Value::Object(mut c) = init else { continue };
        let mut mapped = Map::new();
        for key in ["name", "command", "args", "resources"] {
            if let Some(v) = take(&mut c, key) {
                mapped.insert(key.into(), v);
            }
        }
        if let Some(raw) = take(&mut c, "env") {
            mapped.insert("env".into(), Value::Object(kube::env(raw).0));
        }
        out.push(Value::Object(mapped));
        if !c.is_empty() {
            rest.push(Value::Object(c));
        }
    }
    m.out.insert("initContainers".into(), Value::Array(out));
    if !rest.is_empty() {
        d.insert("initContainers".into(), Value::Array(rest));
    }
}

fn service(m: &mut Mapping, s: &mut Map<String, Value>) {
    super::shared::service_ports(m, s);
    if let Some(t) = take(s, "type").filter(|t| t != "ClusterIP") {
        m.out.insert("serviceType".into(), t);
    }
}

fn ingress(m: &mut Mapping, i: &mut Map<String, Value>) {
    let mut out = Map::new();
    if let Some(c) = take(i, "ingressClassName") {
        out.insert("className".into(), c);
    }
    if let Some(Value::Object(a)) = take(i, "annotations") {
        out.insert("annotations".into(), Value::Object(a));
    }
    super::shared::hosts_and_paths(i, &mut out, "hostname");
    let issuer = i.get("certManager").and_then(|c| {
        (c.get("issuerType").and_then(Value::as_str) == Some("cluster-issuer"))
            .then(|| c.get("originalIssuerName").cloned())
            .flatten()
    });
    if let (Some(issuer), Some(tls)) = (issuer, i.get("tlsName").and_then(Value::as_str)) {
        out.insert(
            "tls".into(),
            json!({ "clusterIssuer": issuer, "secretName": format!("{tls}-tls") }),
        );
        i.remove("certManager");
        i.remove("tlsName");
    }
    m.out.insert("ingress".into(), Value::Object(out));
}

fn service_account(m: &mut Mapping, sa: &mut Map<String, Value>) {
    let mut out = Map::new();
    if let Some(Value::Object(mut notes)) = take(sa, "annotations") {
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
}

fn service_monitor(m: &mut Mapping, sm: &mut Map<String, Value>) {
    let endpoints = sm.get("endpoints").and_then(Value::as_array).cloned();
    if let Some([one]) = endpoints.as_deref() {
        sm.remove("endpoints");
        m.out
            .insert("monitoring".into(), json!({ "serviceMonitor": one }));
    }
}

fn pdb(m: &mut Mapping, p: &mut Map<String, Value>) {
    let mut out = Map::new();
    for key in ["minAvailable", "maxUnavailable"] {
        if let Some(v) = take(p, key) {
            out.insert(key.into(), v);
        }
    }
    m.out
        .insert("podDisruptionBudget".into(), Value::Object(out));
}

fn hpa(m: &mut Mapping, h: &mut Map<String, Value>) {
    let mut out = Map::from_iter([("enabled".to_owned(), json!(true))]);
    for key in ["minReplicas", "maxReplicas"] {
        if let Some(v) = take(h, key) {
            out.insert(key.into(), v);
        }
    }
    if h.get("apiVersion").and_then(Value::as_str) == Some("autoscaling/v2") {
        h.remove("apiVersion");
    }
    h.remove("scaleTargetRef");
    if let Some(Value::Array(metrics)) = h.get("metrics").cloned() {
        let cpu = metrics.iter().find_map(|x| {
            let r = x.get("resource")?;
            (r.get("name")?.as_str()? == "cpu")
                .then(|| r.get("target")?.get("averageUtilization").cloned())?
        });
        if let (Some(cpu), 1) = (cpu, metrics.len()) {
            out.insert("targetCPUUtilization".into(), cpu);
            h.remove("metrics");
        }
    }
    m.out.insert("autoscaling".into(), Value::Object(out));
}

/// `cronJobs.<service>-<job>` or `hooks.<service>-<job>` as stencil's `cronJobs.<job>` or
/// `jobs.<job>`; a job's one container gives command, args, env, resources.
fn jobs(m: &mut Mapping, section: &str, ours: &str, service: &str) {
    let Some(Value::Object(all)) = take(&mut m.v, section) else {
        return;
    };
    let prefix = format!("{service}-");
    let inherited = m.out.clone();
    let mut out = Map::new();
    let mut rest = Map::new();
    for (name, body) in all {
        let (Some(short), Value::Object(mut j)) = (name.strip_prefix(&prefix), body.clone()) else {
            rest.insert(name, body);
            continue;
        };
        flatten_container(&mut j);
        if let Some(single) = take(&mut j, "singleOnly") {
            let policy = if single == Value::Bool(true) {
                "Forbid"
            } else {
                "Allow"
            };
            j.insert("concurrencyPolicy".into(), json!(policy));
        } else if section == "cronJobs" {
            j.insert("concurrencyPolicy".into(), json!("Allow"));
        }
        if section == "hooks" {
            hook_annotations(&mut j);
        }
        out.insert(
            short.to_owned(),
            super::job(&mut j, &inherited, is_service_image),
        );
        if !j.is_empty() {
            rest.insert(name, Value::Object(j));
        }
    }
    if !out.is_empty() {
        m.out.insert(ours.into(), Value::Object(out));
    }
    if !rest.is_empty() {
        m.keep(section, Value::Object(rest));
    }
}

/// A job's single container's fields, lifted to the job (the shape `super::job` reads).
fn flatten_container(j: &mut Map<String, Value>) {
    let Some(Value::Array(mut containers)) = take(j, "containers") else {
        return;
    };
    if containers.len() != 1 {
        j.insert("containers".into(), Value::Array(containers));
        return;
    }
    if let Value::Object(mut c) = containers.remove(0) {
        c.remove("name");
        for key in ["command", "args", "env", "resources", "image"] {
            if let Some(v) = take(&mut c, key) {
                j.insert(key.into(), v);
            }
        }
        if !c.is_empty() {
            j.insert("containers".into(), json!([c]));
        }
    }
}

/// nxs hook fields (`kind`, `weight`, `deletePolicy`) as the Helm annotations they render,
/// with the chart's defaults (`pre-install,pre-upgrade`, `5`, `before-hook-creation`).
fn hook_annotations(j: &mut Map<String, Value>) {
    let mut notes = Map::new();
    for (from, to, default) in [
        ("kind", "helm.sh/hook", "pre-install,pre-upgrade"),
        ("weight", "helm.sh/hook-weight", "5"),
        (
            "deletePolicy",
            "helm.sh/hook-delete-policy",
            "before-hook-creation",
        ),
    ] {
        let v = take(j, from).unwrap_or_else(|| json!(default));
        notes.insert(to.into(), v);
    }
    j.insert("annotations".into(), Value::Object(notes));
}
