//! What both charts spell the same way (raw Kubernetes fields of a container or pod), moved
//! into the service: ports, probes, lifecycle, scheduling. What has no place stays where it
//! was, for `helmPassthrough`.

use serde_json::{Map, Value};

use super::{Mapping, kube, take};

/// Container `ports`: `http` is `port`, the others `ports.<name>`.
pub(crate) fn ports(m: &mut Mapping, c: &mut Map<String, Value>) {
    let Some(raw) = take(c, "ports") else { return };
    match kube::ports(&raw) {
        Some((main, more)) => {
            if let Some(p) = main {
                m.out.insert("port".into(), p);
            }
            if !more.is_empty() {
                m.out.insert("ports".into(), Value::Object(more));
            }
        }
        None => {
            c.insert("ports".into(), raw);
        }
    }
}

/// The startup, liveness and readiness probes (a disabled one is dropped, as the chart does).
pub(crate) fn probes(m: &mut Mapping, c: &mut Map<String, Value>) {
    let mut probes = Map::new();
    for (helm, ours) in [
        ("startupProbe", "startup"),
        ("livenessProbe", "liveness"),
        ("readinessProbe", "readiness"),
    ] {
        let Some(raw) = take(c, helm) else { continue };
        if raw.get("enabled") == Some(&Value::Bool(false)) {
            continue;
        }
        match kube::probe(&raw) {
            Some(p) => {
                probes.insert(ours.into(), p);
            }
            None => {
                c.insert(helm.into(), raw);
            }
        }
    }
    if !probes.is_empty() {
        m.out.insert("probes".into(), Value::Object(probes));
    }
}

pub(crate) fn lifecycle(m: &mut Mapping, c: &mut Map<String, Value>) {
    let Some(raw) = take(c, "lifecycle") else {
        return;
    };
    match kube::lifecycle(&raw) {
        Some(l) => {
            m.out.insert("lifecycle".into(), l);
        }
        None => {
            c.insert("lifecycle".into(), raw);
        }
    }
}

/// `nodeSelector`, `tolerations`, `priorityClassName`, and an `affinity` that is one
/// anti-affinity term on the node or zone over the app's own pods.
pub(crate) fn scheduling(m: &mut Mapping, d: &mut Map<String, Value>) {
    let mut s = Map::new();
    for key in ["nodeSelector", "tolerations", "priorityClassName"] {
        if let Some(v) = take(d, key) {
            s.insert(key.into(), v);
        }
    }
    if let Some(raw) = take(d, "affinity") {
        let selects = |selector: &Value| {
            selector
                .get("matchLabels")
                .and_then(|l| l.get("app.kubernetes.io/name"))
                .is_some()
        };
        match kube::anti_affinity(&raw, selects) {
            Some(a) => {
                s.insert("antiAffinity".into(), a);
            }
            None => {
                d.insert("affinity".into(), raw);
            }
        }
    }
    if !s.is_empty() {
        m.out.insert("scheduling".into(), Value::Object(s));
    }
}

/// An ingress's `hosts` (each `{<key>, paths}`) as stencil's `host`, `hosts`, `path` and
/// `paths`, when every host serves the same paths on the main port; left in `i` otherwise.
pub(crate) fn hosts_and_paths(i: &mut Map<String, Value>, out: &mut Map<String, Value>, key: &str) {
    let Some(hosts) = i.get("hosts").and_then(Value::as_array).cloned() else {
        return;
    };
    let Some((host, more, paths)) = same_paths(&hosts, key) else {
        return;
    };
    i.remove("hosts");
    out.insert("host".into(), host);
    if !more.is_empty() {
        out.insert("hosts".into(), Value::Array(more));
    }
    let mut paths = paths.into_iter();
    if let Some(first) = paths.next() {
        out.insert("path".into(), first);
    }
    let rest: Vec<Value> = paths.collect();
    if !rest.is_empty() {
        out.insert("paths".into(), Value::Array(rest));
    }
}

/// The first host, the others, and their one list of paths, when every host has the same
/// paths (stencil serves the same paths on every host) on the main port.
fn same_paths(hosts: &[Value], key: &str) -> Option<(Value, Vec<Value>, Vec<Value>)> {
    let paths_of = |h: &Value| -> Option<Vec<Value>> {
        h.get("paths")?
            .as_array()?
            .iter()
            .map(|p| {
                let port_ok = p
                    .get("servicePort")
                    .is_none_or(|s| s.as_str() == Some("http"));
                port_ok.then(|| p.get("path").cloned()).flatten()
            })
            .collect()
    };
    let first = hosts.first()?;
    let paths = paths_of(first)?;
    let mut more = Vec::new();
    for h in &hosts[1..] {
        if paths_of(h)? != paths {
            return None;
        }
        more.push(h.get(key)?.clone());
    }
    Some((first.get(key)?.clone(), more, paths))
}

/// Service `ports` that are the container ports by name (what stencil's Service renders
/// from `port` and `ports`): dropped; any other stays.
pub(crate) fn service_ports(m: &Mapping, s: &mut Map<String, Value>) {
    let more = m
        .out
        .get("ports")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some(ports) = s.get("ports")
        && kube::service_ports_match(ports, m.out.get("port"), &more)
    {
        s.remove("ports");
    }
}
