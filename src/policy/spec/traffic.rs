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
        if !path.starts_with('/') {
            out.push(
                Diagnostic::new(format!("ingress path `{path}` must start with `/`"))
                    .at(&ctx.at(&["ingress", "paths"])),
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
        if !path.starts_with('/') {
            out.push(
                Diagnostic::new(format!("httpRoute path `{path}` must start with `/`"))
                    .at(&at("paths")),
            );
        }
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
/// valid durations; every alert has an expression and valid names.
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
