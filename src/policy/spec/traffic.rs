//! Traffic and monitoring beyond the main Ingress: more ingress hosts and paths, TLS, the
//! Gateway API HTTPRoute and the Prometheus Operator ServiceMonitor and alerting rules.
//! Which hosts a tenant may serve is rule `tenant-hosts`, checked on the built objects.

use super::SpecCtx;
use crate::error::Diagnostic;
use crate::names::check_dns_label;

/// More hosts are host names, more paths absolute; a TLS Secret name is valid.
pub(super) fn ingress_extras(ctx: &SpecCtx, out: &mut Vec<Diagnostic>) {
    let Some(ingress) = &ctx.spec.ingress else {
        return;
    };
    for host in ingress.hosts.iter().flatten() {
        if crate::policy::kinds::check_subdomain(host).is_err() {
            out.push(
                Diagnostic::new(format!(
                    "ingress host `{}` is not a host name",
                    crate::error::clip(host, 80)
                ))
                .at(&ctx.at(&["ingress", "hosts"])),
            );
        }
    }
    for path in ingress.paths.iter().flatten() {
        if let Err(msg) = check_path(path) {
            out.push(
                Diagnostic::new(format!("ingress path {msg}")).at(&ctx.at(&["ingress", "paths"])),
            );
        }
    }
    if let Some(name) = ingress.tls.as_ref().and_then(|t| t.secret_name.as_deref())
        && crate::policy::kinds::check_subdomain(name).is_err()
    {
        out.push(
            Diagnostic::new(format!(
                "TLS secretName `{}` is not a valid Secret name",
                crate::error::clip(name, 80)
            ))
            .at(&ctx.at(&["ingress", "tls", "secretName"])),
        );
    }
}

/// An HTTPRoute has hosts, a Gateway to attach to, and absolute paths.
pub(super) fn http_route(ctx: &SpecCtx, out: &mut Vec<Diagnostic>) {
    let Some(route) = &ctx.spec.http_route else {
        return;
    };
    if route.enabled == Some(false) {
        return;
    }
    let at = |key: &str| ctx.at(&["httpRoute", key]);
    if route.hosts.is_empty() {
        out.push(Diagnostic::new("httpRoute needs at least one host").at(&at("hosts")));
    }
    for host in &route.hosts {
        if crate::policy::kinds::check_subdomain(host).is_err() {
            out.push(
                Diagnostic::new(format!(
                    "httpRoute host `{}` is not a host name",
                    crate::error::clip(host, 80)
                ))
                .at(&at("hosts")),
            );
        }
    }
    for name in [&route.gateway.name, &route.gateway.namespace] {
        if let Err(msg) = check_dns_label(name, 63) {
            out.push(Diagnostic::new(format!("httpRoute gateway {msg}")).at(&at("gateway")));
        }
    }
    for path in route.paths.iter().flatten() {
        if let Err(msg) = check_path(path) {
            out.push(Diagnostic::new(format!("httpRoute path {msg}")).at(&at("paths")));
        }
    }
    if route.hosts.len() > 16 {
        out.push(
            Diagnostic::new("httpRoute has more than 16 hosts (the Gateway API's limit)")
                .at(&at("hosts")),
        );
    }
    if ctx
        .spec
        .ingress
        .as_ref()
        .is_some_and(|i| i.enabled.unwrap_or(i.host.is_some()))
    {
        out.push(
            Diagnostic::new("both an Ingress and an HTTPRoute serve the service")
                .at(&ctx.at(&["httpRoute"]))
                .hint("choose one: `ingress.enabled: false` or `httpRoute.enabled: false`"),
        );
    }
}

/// An HTTP path prefix the Ingress and Gateway API controllers accept: absolute, without
/// empty, `.` or `..` segments, encoded slashes, a query or a fragment.
pub(crate) fn check_path(path: &str) -> Result<(), String> {
    let shown = crate::error::clip(path, 120);
    if !path.starts_with('/') {
        return Err(format!("`{shown}` must start with `/`"));
    }
    let lower = path.to_ascii_lowercase();
    let bad_segment = path.split('/').skip(1).enumerate().any(|(i, s)| {
        (s.is_empty() && i + 1 < path.split('/').count() - 1) || s == "." || s == ".."
    });
    if bad_segment
        || lower.contains("%2f")
        || lower.contains("%5c")
        || path.contains(['?', '#', '\\'])
        || path.contains(char::is_whitespace)
    {
        return Err(format!(
            "`{shown}` is not a plain path prefix (no `//`, `.` or `..` segments, encoded slashes, `?`, `#` or spaces)"
        ));
    }
    Ok(())
}

/// A Prometheus label or annotation name: `[a-zA-Z_][a-zA-Z0-9_]*`, not reserved (`__`).
fn is_label_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with("__")
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A Prometheus duration (`30s`, `1m`, `1h30m`).
pub(crate) fn is_duration(text: &str) -> bool {
    let mut rest = text;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        rest = &rest[digits..];
        let unit = ["ms", "s", "m", "h", "d", "w", "y"]
            .into_iter()
            .find(|u| rest.starts_with(u));
        match unit {
            Some(u) => rest = &rest[u.len()..],
            None => return false,
        }
    }
    true
}

/// The ServiceMonitor scrapes a port the main container has, on an absolute path, at
/// valid durations.
pub(super) fn monitoring(ctx: &SpecCtx, out: &mut Vec<Diagnostic>) {
    let Some(m) = &ctx.spec.monitoring else {
        return;
    };
    if let Some(sm) = m
        .service_monitor
        .as_ref()
        .filter(|s| s.enabled != Some(false))
    {
        let at = |key: &str| ctx.at(&["monitoring", "serviceMonitor", key]);
        let port = sm.port.as_deref().unwrap_or("http");
        let known = port == "http"
            || ctx
                .spec
                .ports
                .as_ref()
                .is_some_and(|p| p.contains_key(port));
        if !known {
            out.push(
                Diagnostic::new(format!(
                    "serviceMonitor scrapes port `{port}`, which the service does not name"
                ))
                .at(&at("port"))
                .hint("name it under `ports:` (e.g. `metrics: 9090`), or scrape `http`"),
            );
        }
        if sm.path.as_deref().is_some_and(|p| !p.starts_with('/')) {
            out.push(Diagnostic::new("serviceMonitor path must start with `/`").at(&at("path")));
        }
        for (key, value) in [
            ("interval", &sm.interval),
            ("scrapeTimeout", &sm.scrape_timeout),
        ] {
            if value.as_deref().is_some_and(|v| !is_duration(v)) {
                out.push(
                    Diagnostic::new(format!(
                        "serviceMonitor {key} is not a duration such as `30s`"
                    ))
                    .at(&at(key)),
                );
            }
        }
    }
}

/// Every alert has an expression, valid names and durations, and none of stencil's owner
/// labels.
pub(super) fn alerts(ctx: &SpecCtx, out: &mut Vec<Diagnostic>) {
    let Some(m) = &ctx.spec.monitoring else {
        return;
    };
    for (name, alert) in m.alerts.iter().flatten() {
        let at = ctx.at(&["monitoring", "alerts", name]);
        let valid_name = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if !valid_name {
            out.push(
                Diagnostic::new(format!(
                    "alert name `{}` is not a Prometheus name (letters, digits, `_`)",
                    crate::error::clip(name, 80)
                ))
                .at(&at),
            );
        }
        if alert.expr.trim().is_empty() {
            out.push(Diagnostic::new(format!("alert `{name}` has no expr")).at(&at));
        }
        let keys = alert
            .labels
            .iter()
            .flatten()
            .chain(alert.annotations.iter().flatten())
            .map(|(k, _)| k);
        for key in keys {
            if !is_label_name(key) {
                out.push(Diagnostic::new(format!("alert `{name}`: `{}` is not a Prometheus label name (letters, digits, `_`; not `__`)", crate::error::clip(key, 80))).at(&at));
            } else if key.starts_with(crate::names::ALERT_OWNER_PREFIX) {
                out.push(
                    Diagnostic::new(format!("alert `{name}`: label `{key}` is stencil's"))
                        .at(&at)
                        .hint("stencil labels every alert with its tenant and service; use your own label names"),
                );
            }
        }
        if alert.for_.as_deref().is_some_and(|v| !is_duration(v)) {
            out.push(
                Diagnostic::new(format!(
                    "alert `{name}`: `for` is not a duration such as `5m`"
                ))
                .at(&at),
            );
        }
    }
}
