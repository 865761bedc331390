//! Kubernetes shapes as the universal charts take them (raw container fields), mapped to
//! stencil's model: probes, lifecycle handlers, anti-affinity, env lists, ports. Each returns
//! `None` (or leaves the value in the caller's rest) when the shape has no stencil
//! equivalent, so that it lands in `helmPassthrough` and is reported.

use serde_json::{Map, Value, json};

use super::super::values::map_env;

/// A raw probe (`httpGet` or `tcpSocket` on the main port, with timings); `None` for what
/// stencil cannot express (`exec`, `grpc`, another named port).
pub(crate) fn probe(raw: &Value) -> Option<Value> {
    let probe = raw.as_object()?;
    let mut out = Map::new();
    let port = match (probe.get("httpGet"), probe.get("tcpSocket")) {
        (Some(http), None) => {
            out.insert("path".into(), http.get("path")?.clone());
            http.get("port")
        }
        (None, Some(tcp)) => tcp.get("port"),
        _ => return None,
    };
    match port {
        Some(Value::String(name)) if name == "http" => {}
        Some(Value::Number(n)) => {
            out.insert("port".into(), Value::Number(n.clone()));
        }
        _ => return None,
    }
    for field in [
        "initialDelaySeconds",
        "periodSeconds",
        "timeoutSeconds",
        "failureThreshold",
        "successThreshold",
    ] {
        if let Some(v) = probe.get(field) {
            out.insert(field.into(), v.clone());
        }
    }
    let known = [
        "httpGet",
        "tcpSocket",
        "enabled",
        "initialDelaySeconds",
        "periodSeconds",
        "timeoutSeconds",
        "failureThreshold",
        "successThreshold",
    ];
    if probe.keys().any(|k| !known.contains(&k.as_str())) {
        return None;
    }
    Some(Value::Object(out))
}

/// A raw lifecycle handler: `exec.command`, `sleep.seconds` or `httpGet.path` on `http`.
fn handler(raw: &Value) -> Option<Value> {
    let h = raw.as_object()?;
    if h.len() != 1 {
        return None;
    }
    if let Some(command) = h.get("exec").and_then(|e| e.get("command")) {
        return Some(json!({ "exec": command }));
    }
    if let Some(seconds) = h.get("sleep").and_then(|s| s.get("seconds")) {
        return Some(json!({ "sleepSeconds": seconds }));
    }
    let http = h.get("httpGet")?;
    (http.get("port").and_then(Value::as_str) == Some("http"))
        .then(|| json!({ "httpGet": http.get("path") }))
}

/// A raw `Lifecycle` (`preStop`, `postStart`).
pub(crate) fn lifecycle(raw: &Value) -> Option<Value> {
    let l = raw.as_object()?;
    let mut out = Map::new();
    for (key, value) in l {
        if !matches!(key.as_str(), "preStop" | "postStart") {
            return None;
        }
        out.insert(key.clone(), handler(value)?);
    }
    Some(Value::Object(out))
}

/// A raw `affinity` that is exactly one pod anti-affinity term on the node or the zone,
/// selecting the service's own pods (`selects` says whether a selector does): stencil's
/// `antiAffinity` preset.
pub(crate) fn anti_affinity(raw: &Value, selects: impl Fn(&Value) -> bool) -> Option<Value> {
    let a = raw.as_object()?;
    if a.len() != 1 {
        return None;
    }
    let anti = a.get("podAntiAffinity")?.as_object()?;
    if anti.len() != 1 {
        return None;
    }
    let (required, term) = match (
        anti.get("requiredDuringSchedulingIgnoredDuringExecution"),
        anti.get("preferredDuringSchedulingIgnoredDuringExecution"),
    ) {
        (Some(Value::Array(terms)), None) if terms.len() == 1 => (true, terms[0].clone()),
        (None, Some(Value::Array(terms))) if terms.len() == 1 => {
            (false, terms[0].get("podAffinityTerm")?.clone())
        }
        _ => return None,
    };
    let topology = match term.get("topologyKey")?.as_str()? {
        "kubernetes.io/hostname" => "node",
        "topology.kubernetes.io/zone" => "zone",
        _ => return None,
    };
    if !selects(term.get("labelSelector")?) {
        return None;
    }
    Some(json!({ "topology": topology, "required": required }))
}

/// A container's env (a list of `name`/`value`, or the chart's map of bodies): stencil's map,
/// and what it cannot express.
pub(crate) fn env(raw: Value) -> (Map<String, Value>, Option<Value>) {
    match raw {
        // stakater: NAME -> { value: .. } or { valueFrom: .. }
        Value::Object(map) if map.values().all(Value::is_object) => {
            let mut plain = Map::new();
            let mut rest = Map::new();
            for (name, body) in map {
                match body.get("value") {
                    Some(v) if body.as_object().is_some_and(|b| b.len() == 1) => {
                        plain.insert(name, v.clone());
                    }
                    _ => {
                        rest.insert(name, body);
                    }
                }
            }
            let (mapped, _) = map_env(Value::Object(plain));
            (mapped, (!rest.is_empty()).then_some(Value::Object(rest)))
        }
        other => map_env(other),
    }
}

/// Container ports: `http` is the main port, the others stencil's `ports`; `None` when a
/// port is not TCP or has no name.
pub(crate) fn ports(raw: &Value) -> Option<(Option<Value>, Map<String, Value>)> {
    let mut main = None;
    let mut more = Map::new();
    for p in raw.as_array()? {
        let name = p.get("name")?.as_str()?;
        let number = p.get("containerPort")?.clone();
        if p.get("protocol")
            .and_then(Value::as_str)
            .is_some_and(|t| t != "TCP")
        {
            return None;
        }
        if name == "http" {
            main = Some(number);
        } else {
            more.insert(name.to_owned(), number);
        }
    }
    Some((main, more))
}

/// Whether Service ports are exactly the container ports by name (port = container port,
/// targetPort the name or the number): what stencil's Service does.
pub(crate) fn service_ports_match(
    raw: &Value,
    main: Option<&Value>,
    more: &Map<String, Value>,
) -> bool {
    let Some(ports) = raw.as_array() else {
        return false;
    };
    ports.iter().all(|p| {
        let Some(name) = p.get("name").and_then(Value::as_str) else {
            return false;
        };
        let number = if name == "http" { main } else { more.get(name) };
        let target_ok = match p.get("targetPort") {
            None => true,
            Some(Value::String(t)) => t == name,
            Some(t) => Some(t) == number,
        };
        number.is_some() && p.get("port") == number && target_ok
    })
}
