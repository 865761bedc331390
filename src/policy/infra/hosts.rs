//! Hosts: rule `tenant-hosts` on built objects (an Ingress, a Gateway API route or
//! Gateway, a DNSEndpoint serves only the tenant's hosts, and nothing serves every host of
//! the shared load balancer), and [`HostClaims`], which refuses a host two tenants claim.
//!
//! Kinds are matched by API group and kind; what serves hosts is read from the JSON, so a
//! field the typed API does not know is seen too.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::Value;

use super::objects::{Context, Fail};
use super::{EXTERNAL_DNS, group_of};
use crate::error::{Diagnostic, Error};
use crate::load::Tenant;
use crate::model::Rule;
use crate::node::Node;
use crate::object::{Object, Pointer as _};
use crate::origin::Origin;
use crate::policy::Platform;

/// The elements of the array at `ptr` (none if it is not an array).
fn array<'v>(v: &'v Value, ptr: &str) -> impl Iterator<Item = &'v Value> {
    v.at(ptr).and_then(Value::as_array).into_iter().flatten()
}

/// The strings of an array (a non-string as the empty string).
fn strings(value: Option<&Value>) -> impl Iterator<Item = &str> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|v| v.as_str().unwrap_or(""))
}

/// The hosts an object claims, and what in it serves every host, if anything.
#[derive(Default)]
struct Claimed<'v> {
    hosts: Vec<&'v str>,
    catch_all: Option<&'static str>,
}

/// `tenant-hosts`: the hosts an Ingress, a Gateway API route or a Gateway serves are the
/// tenant's; a rule, route or listener without one serves every host of its load balancer.
pub(super) fn check_object_hosts(object: &Object, ctx: &Context<'_>, fail: &mut Fail<'_>) {
    let claimed = claimed_hosts(object);
    if let Some(what) = claimed.catch_all {
        fail(
            Rule::TenantHosts,
            format!("{what} serves every host of the shared load balancer"),
            ctx.claims.host_hint(),
        );
    }
    for host in claimed.hosts {
        if let Err(msg) = ctx.claims.host(host) {
            fail(Rule::TenantHosts, msg, ctx.claims.host_hint());
        }
    }
}

fn claimed_hosts(object: &Object) -> Claimed<'_> {
    let v = &object.value;
    match (group_of(object), object.kind.to_ascii_lowercase().as_str()) {
        ("networking.k8s.io" | "extensions", "ingress") => ingress_claims(v),
        ("gateway.networking.k8s.io", "httproute" | "grpcroute" | "tlsroute") => {
            let hosts: Vec<&str> = strings(v.at("/spec/hostnames")).collect();
            let catch_all = hosts.is_empty().then_some("a route with no hostnames");
            Claimed { hosts, catch_all }
        }
        ("gateway.networking.k8s.io", "gateway" | "listenerset") => named_entries(
            array(v, "/spec/listeners"),
            "hostname",
            "a Gateway listener with no hostname",
        ),
        // external-dns publishes every name of a DNSEndpoint, as of its annotations.
        ("externaldns.k8s.io", "dnsendpoint") => named_entries(
            array(v, "/spec/endpoints"),
            "dnsName",
            "a DNSEndpoint endpoint without a dnsName",
        ),
        // Registers the tenant's pods into any target group (another tenant's included) of
        // the shared load balancers, whatever the hosts.
        ("elbv2.k8s.aws", "targetgroupbinding") => Claimed {
            hosts: Vec::new(),
            catch_all: Some("a TargetGroupBinding (target groups are the platform's)"),
        },
        _ => Claimed::default(),
    }
}

/// An Ingress's rule and TLS hosts; a rule without a host, or a default backend, serves
/// every host.
fn ingress_claims(v: &Value) -> Claimed<'_> {
    let mut claimed = Claimed::default();
    for rule in array(v, "/spec/rules") {
        match rule.get("host").and_then(Value::as_str) {
            Some(h) if !h.is_empty() => claimed.hosts.push(h),
            _ => claimed.catch_all = Some("an Ingress rule without a host"),
        }
    }
    for tls in array(v, "/spec/tls") {
        claimed.hosts.extend(strings(tls.get("hosts")));
    }
    if v.at("/spec/defaultBackend").is_some() || v.at("/spec/backend").is_some() {
        claimed.catch_all = Some("an Ingress default backend");
    }
    claimed
}

/// The `field` of every entry (a listener's hostname, an endpoint's dnsName); an entry
/// without one is `catch_all`.
fn named_entries<'v>(
    entries: impl Iterator<Item = &'v Value>,
    field: &str,
    catch_all: &'static str,
) -> Claimed<'v> {
    let mut claimed = Claimed::default();
    for entry in entries {
        match entry.get(field).and_then(Value::as_str) {
            Some(h) => claimed.hosts.push(h),
            None => claimed.catch_all = Some(catch_all),
        }
    }
    claimed
}

/// The hosts an object serves, for [`HostClaims`].
pub(super) fn served_hosts(object: &Object) -> Vec<String> {
    let v = &object.value;
    let mut out: Vec<&str> = match (group_of(object), object.kind.as_str()) {
        ("networking.k8s.io" | "extensions", "Ingress") => {
            field_of(array(v, "/spec/rules"), "host")
        }
        // A Gateway's (or ListenerSet's) listeners serve their hostnames too.
        ("gateway.networking.k8s.io", _) => strings(v.at("/spec/hostnames"))
            .chain(field_of(array(v, "/spec/listeners"), "hostname"))
            .collect(),
        ("externaldns.k8s.io", "DNSEndpoint") => field_of(array(v, "/spec/endpoints"), "dnsName"),
        ("flagger.app", "Canary") => strings(v.at("/spec/service/hosts")).collect(),
        _ => Vec::new(),
    };
    out.extend(external_dns_names(v));
    out.into_iter()
        .filter(|h| !h.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The string `field` of each entry that has one.
fn field_of<'v>(entries: impl Iterator<Item = &'v Value>, field: &str) -> Vec<&'v str> {
    entries
        .filter_map(|e| e.get(field).and_then(Value::as_str))
        .collect()
}

/// The names in the object's external-dns annotations (comma-separated).
fn external_dns_names(v: &Value) -> Vec<&str> {
    let notes = v
        .at("/metadata/annotations")
        .and_then(Value::as_object)
        .into_iter()
        .flatten();
    notes
        .filter(|(key, _)| EXTERNAL_DNS.contains(&key.as_str()))
        .flat_map(|(_, value)| value.as_str().unwrap_or("").split(',').map(str::trim))
        .collect()
}

/// Which tenant claims which host, across a render: two tenants never serve one host.
#[derive(Default)]
pub struct HostClaims {
    /// Host -> tenant -> where it claims it (the first object's origin, else the line that
    /// set `ingress.host`).
    hosts: Mutex<BTreeMap<String, BTreeMap<String, Option<Origin>>>>,
}

impl HostClaims {
    /// Records the hosts a tenant's objects serve; `tree` is the service definition they
    /// were built from. A `tenant-hosts` exception leaves them out.
    pub fn record(&self, tenant: &Tenant, objects: &[Object], tree: &Node, platform: &Platform) {
        let tenant = tenant.name.as_str();
        let service = objects
            .iter()
            .find_map(|o| o.service.as_deref())
            .unwrap_or("");
        if platform
            .exceptions
            .allows(Rule::TenantHosts, tenant, service)
        {
            return;
        }
        let mut hosts = match self.hosts.lock() {
            Ok(h) => h,
            Err(poisoned) => poisoned.into_inner(),
        };
        let host_line = tree
            .get("ingress")
            .and_then(|i| i.get("host"))
            .map(|n| n.origin.clone());
        for object in objects {
            for host in served_hosts(object) {
                let at = object.origin.clone().or_else(|| host_line.clone());
                hosts
                    .entry(host)
                    .or_default()
                    .entry(tenant.to_owned())
                    .or_insert(at);
            }
        }
    }

    /// Every host more than one tenant claims, in host order.
    pub fn conflicts(&self) -> Vec<Error> {
        let hosts = match self.hosts.lock() {
            Ok(h) => h,
            Err(poisoned) => poisoned.into_inner(),
        };
        hosts
            .iter()
            .filter(|(_, tenants)| tenants.len() > 1)
            .map(|(host, tenants)| {
                let names: Vec<&str> = tenants.keys().map(String::as_str).collect();
                let last = tenants.values().last().and_then(Option::as_ref);
                let mut d = Diagnostic::new(format!(
                    "host `{host}` is claimed by tenants {}",
                    names.join(", ")
                ))
                .at_opt(last)
                .rule(Rule::TenantHosts.name())
                .hint("a host belongs to one tenant; rename one (tenancy.hosts in stencil.yaml says which hosts are whose)");
                for (tenant, at) in tenants {
                    d = d.note(match at {
                        Some(at) => format!("tenant {tenant} at {at}"),
                        None => format!("tenant {tenant}"),
                    });
                }
                Error::from(d)
            })
            .collect()
    }
}
