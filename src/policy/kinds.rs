//! Which kinds a tenant may add with `extraObjects`: an allow-list, never a deny-list.
//!
//! A tenant's extra object is accepted only if its exact `apiVersion` and `kind` name a kind
//! known to be namespaced: a built-in Kubernetes kind (from `k8s-openapi`'s resource types,
//! whose scope the compiler checks), a custom resource `stencil.yaml` declares under
//! `extraObjects.customResources`, or a platform-owned kind (refused later by rule
//! `platform-objects`, unless excepted). Everything else — cluster-scoped kinds, List kinds,
//! misspelt kinds, unknown CRDs — is refused (rule `allowed-kinds`). `apiVersion` and `kind`
//! are checked against Kubernetes' grammar first, so no unchecked text reaches a file name.

use k8s_openapi::api::{
    apps, autoscaling, batch, coordination, core, discovery, events, networking, policy, rbac,
    resource,
};
use k8s_openapi::{ClusterResourceScope, NamespaceResourceScope, Resource};

use super::origin_of;
use crate::error::{Diagnostic, did_you_mean};
use crate::model::{ExtraObjectsSettings, KindRef, RepoSettings, Rule};
use crate::node::Node;
use serde_json::Value;

const fn namespaced<T: Resource<Scope = NamespaceResourceScope>>() -> (&'static str, &'static str) {
    (T::API_VERSION, T::KIND)
}

const fn cluster<T: Resource<Scope = ClusterResourceScope>>() -> (&'static str, &'static str) {
    (T::API_VERSION, T::KIND)
}

/// Built-in namespaced kinds a tenant may add (Kubernetes 1.33). The compiler checks each
/// is namespaced. Not here: `Binding` (puts a pod on a node of the tenant's choosing),
/// `LocalSubjectAccessReview` (a question, not an object), `CSIStorageCapacity` (read
/// cluster-wide by the scheduler), sub-resources (`Eviction`, `Scale`, `TokenRequest`) and
/// every `*List`.
pub(crate) const BUILT_IN: [(&str, &str); 34] = [
    namespaced::<core::v1::ConfigMap>(),
    namespaced::<core::v1::Endpoints>(),
    namespaced::<core::v1::Event>(),
    namespaced::<core::v1::LimitRange>(),
    namespaced::<core::v1::PersistentVolumeClaim>(),
    namespaced::<core::v1::Pod>(),
    namespaced::<core::v1::PodTemplate>(),
    namespaced::<core::v1::ReplicationController>(),
    namespaced::<core::v1::ResourceQuota>(),
    namespaced::<core::v1::Secret>(),
    namespaced::<core::v1::Service>(),
    namespaced::<core::v1::ServiceAccount>(),
    namespaced::<apps::v1::ControllerRevision>(),
    namespaced::<apps::v1::DaemonSet>(),
    namespaced::<apps::v1::Deployment>(),
    namespaced::<apps::v1::ReplicaSet>(),
    namespaced::<apps::v1::StatefulSet>(),
    namespaced::<autoscaling::v1::HorizontalPodAutoscaler>(),
    namespaced::<autoscaling::v2::HorizontalPodAutoscaler>(),
    namespaced::<batch::v1::CronJob>(),
    namespaced::<batch::v1::Job>(),
    namespaced::<coordination::v1::Lease>(),
    namespaced::<discovery::v1::EndpointSlice>(),
    namespaced::<events::v1::Event>(),
    namespaced::<networking::v1::Ingress>(),
    namespaced::<networking::v1::NetworkPolicy>(),
    namespaced::<policy::v1::PodDisruptionBudget>(),
    namespaced::<rbac::v1::Role>(),
    namespaced::<rbac::v1::RoleBinding>(),
    namespaced::<resource::v1beta1::ResourceClaim>(),
    namespaced::<resource::v1beta1::ResourceClaimTemplate>(),
    namespaced::<resource::v1beta2::ResourceClaim>(),
    namespaced::<resource::v1beta2::ResourceClaimTemplate>(),
    namespaced::<coordination::v1beta1::LeaseCandidate>(),
];

/// Built-in cluster-scoped kinds, for the message only (anything not allowed is refused).
const CLUSTER: [(&str, &str); 24] = {
    use k8s_openapi::api::{
        admissionregistration, certificates, flowcontrol, node, scheduling, storage,
    };
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions;
    use k8s_openapi::kube_aggregator::pkg::apis::apiregistration;
    [
        cluster::<core::v1::Namespace>(),
        cluster::<core::v1::Node>(),
        cluster::<core::v1::PersistentVolume>(),
        cluster::<rbac::v1::ClusterRole>(),
        cluster::<rbac::v1::ClusterRoleBinding>(),
        cluster::<admissionregistration::v1::MutatingWebhookConfiguration>(),
        cluster::<admissionregistration::v1::ValidatingWebhookConfiguration>(),
        cluster::<admissionregistration::v1::ValidatingAdmissionPolicy>(),
        cluster::<admissionregistration::v1::ValidatingAdmissionPolicyBinding>(),
        cluster::<certificates::v1::CertificateSigningRequest>(),
        cluster::<flowcontrol::v1::FlowSchema>(),
        cluster::<flowcontrol::v1::PriorityLevelConfiguration>(),
        cluster::<networking::v1::IngressClass>(),
        cluster::<networking::v1::IPAddress>(),
        cluster::<networking::v1::ServiceCIDR>(),
        cluster::<node::v1::RuntimeClass>(),
        cluster::<scheduling::v1::PriorityClass>(),
        cluster::<storage::v1::CSIDriver>(),
        cluster::<storage::v1::CSINode>(),
        cluster::<storage::v1::StorageClass>(),
        cluster::<storage::v1::VolumeAttachment>(),
        cluster::<resource::v1beta2::DeviceClass>(),
        cluster::<apiextensions::v1::CustomResourceDefinition>(),
        cluster::<apiregistration::v1::APIService>(),
    ]
};

/// Well-known cluster-scoped custom resources, for the message only.
const CLUSTER_CUSTOM: [&str; 7] = [
    "AdminNetworkPolicy",
    "BaselineAdminNetworkPolicy",
    "CiliumClusterwideNetworkPolicy",
    "GlobalNetworkPolicy",
    "GlobalNetworkSet",
    "GatewayClass",
    "HostEndpoint",
];

/// Kinds only the platform renders into a tenant namespace, with the versions stencil knows:
/// an extra object of one of them could widen the tenant's quota, network, traffic or
/// analysis. They pass the allow-list (so that a reasoned `platform-objects` exception can
/// let one through) and are refused by rule `platform-objects`, whatever their version.
pub(crate) const PLATFORM_OWNED: [(&str, &str); 12] = [
    ("v1", "ResourceQuota"),
    ("v1", "LimitRange"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    // Endpoints a tenant writes can send a Service's traffic anywhere (CVE-2021-25740).
    ("v1", "Endpoints"),
    ("discovery.k8s.io/v1", "EndpointSlice"),
    ("flagger.app/v1beta1", "Canary"),
    ("flagger.app/v1beta1", "MetricTemplate"),
    // CNI network policies: Cilium, Calico (both API groups); Calico network sets feed
    // the platform's policies with addresses.
    ("cilium.io/v2", "CiliumNetworkPolicy"),
    ("crd.projectcalico.org/v1", "NetworkPolicy"),
    ("crd.projectcalico.org/v1", "NetworkSet"),
    ("projectcalico.org/v3", "NetworkPolicy"),
    ("projectcalico.org/v3", "NetworkSet"),
];

/// The API group of an apiVersion (`""` for the core group).
pub(crate) fn group(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// Whether `(group, kind)` is platform-owned: built in, or added by `stencil.yaml`.
pub(crate) fn platform_owned(
    group_name: &str,
    kind: &str,
    settings: &ExtraObjectsSettings,
) -> bool {
    PLATFORM_OWNED
        .iter()
        .copied()
        .chain(
            settings
                .platform_kinds
                .iter()
                .map(|k| (k.api_version.as_str(), k.kind.as_str())),
        )
        .any(|(api, k)| k == kind && group(api) == group_name)
}

/// Every `(apiVersion, kind)` a tenant may add, in a fixed order.
fn allowed(settings: &ExtraObjectsSettings) -> impl Iterator<Item = (&str, &str)> {
    BUILT_IN.iter().chain(PLATFORM_OWNED.iter()).copied().chain(
        settings
            .custom_resources
            .iter()
            .chain(&settings.platform_kinds)
            .map(|k| (k.api_version.as_str(), k.kind.as_str())),
    )
}

/// Checks an `apiVersion`: `v1` (the core group), or `<group>/<version>` with a DNS-1123
/// subdomain group and a Kubernetes version (`v1`, `v2beta1`, `v1alpha3`).
pub(crate) fn check_api_version(text: &str) -> Result<(), String> {
    let bad = || {
        format!(
            "apiVersion `{}` is not a valid apiVersion (`v1`, or `<group>/<version>` with a lowercase DNS group and a version such as `v1` or `v2beta1`)",
            shown(text)
        )
    };
    let (group, version) = match text.split_once('/') {
        Some((g, v)) => (Some(g), v),
        None => (None, text),
    };
    if !is_version(version) {
        return Err(bad());
    }
    match group {
        None if version != "v1" => Err(bad()),
        Some(g) if check_subdomain(g).is_err() => Err(bad()),
        _ => Ok(()),
    }
}

/// `v` then a number from 1, optionally `alpha` or `beta` and another number from 1.
fn is_version(text: &str) -> bool {
    fn number(text: &str) -> bool {
        text.len() <= 9
            && text.bytes().all(|b| b.is_ascii_digit())
            && text.bytes().next().is_some_and(|b| b != b'0')
    }
    let Some(rest) = text.strip_prefix('v') else {
        return false;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let (major, suffix) = rest.split_at(digits);
    if !number(major) {
        return false;
    }
    if suffix.is_empty() {
        return true;
    }
    suffix
        .strip_prefix("alpha")
        .or_else(|| suffix.strip_prefix("beta"))
        .is_some_and(number)
}

/// Checks a kind: an upper-case ASCII letter, then ASCII letters and digits, at most 63.
pub(crate) fn check_kind(text: &str) -> Result<(), String> {
    let mut bytes = text.bytes();
    let ok = text.len() <= 63
        && bytes.next().is_some_and(|b| b.is_ascii_uppercase())
        && bytes.all(|b| b.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "kind `{}` is not a Kubernetes kind (an upper-case letter, then letters and digits, at most 63)",
            shown(text)
        ))
    }
}

/// DNS-1123 subdomain: labels joined by dots, at most 253 characters.
pub(crate) fn check_subdomain(name: &str) -> Result<(), String> {
    if name.len() > 253 {
        return Err(format!(
            "name `{}` is longer than 253 characters",
            shown(name)
        ));
    }
    for part in name.split('.') {
        crate::names::check_dns_label(part, 63).map_err(|_| {
            format!(
                "`{}` is not a valid object name (lowercase DNS-1123 subdomain)",
                shown(name)
            )
        })?;
    }
    Ok(())
}

/// Tenant text as a message quotes it: at most 64 characters, control characters escaped
/// (an error never echoes a huge value or moves the terminal's cursor).
pub(crate) fn shown(text: &str) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == 64 {
            out.push('…');
            break;
        }
        if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A kind's spelling as tenants may write it, if `kind` is one in another case
/// (`configmap` -> `ConfigMap`).
pub(crate) fn spelling(kind: &str, settings: &ExtraObjectsSettings) -> Option<String> {
    let kinds: Vec<&str> = allowed(settings).map(|(_, k)| k).collect();
    did_you_mean(kind, kinds).map(str::to_owned)
}

/// Whether a tenant may add an object of this exact `apiVersion` and `kind` (both already
/// checked against the grammar): `Err` is the diagnostic's message and hint.
pub(crate) fn check_allowed(
    api_version: &str,
    kind: &str,
    settings: &ExtraObjectsSettings,
) -> Result<(), Diagnostic> {
    if allowed(settings).any(|(a, k)| a == api_version && k == kind) {
        return Ok(());
    }
    let what = format!("`{api_version} {kind}` is not a kind tenants may add");
    let group_name = group(api_version);
    let cluster_scoped = CLUSTER.iter().any(|(_, k)| *k == kind)
        || CLUSTER_CUSTOM.contains(&kind)
        || kind.starts_with("Cluster")
        || kind.starts_with("Global");
    let message = if kind == "List" || kind.ends_with("List") {
        format!("{what}: a List holds other objects, which would escape every check")
    } else if cluster_scoped {
        format!("{what}: {kind} is cluster-scoped; a tenant's objects live in its namespace only")
    } else {
        format!("{what} in extraObjects")
    };
    let mut hint = String::from("Tenants");
    if !cluster_scoped {
        let same_kind = allowed(settings)
            .filter(|(_, k)| *k == kind)
            .max_by_key(|(a, _)| group(a) == group_name);
        let suggestion = same_kind.or_else(|| {
            let kinds: Vec<&str> = allowed(settings).map(|(_, k)| k).collect();
            let close = did_you_mean(kind, kinds)?;
            allowed(settings)
                .filter(|(_, k)| *k == close)
                .max_by_key(|(a, _)| group(a) == group_name)
        });
        if let Some((a, k)) = suggestion {
            hint = format!("did you mean `{a} {k}`? Tenants");
        }
    }
    hint.push_str(" may add namespaced built-in kinds and the custom resources the platform declares under extraObjects.customResources in stencil.yaml");
    Err(Diagnostic::new(message)
        .rule(Rule::AllowedKinds.name())
        .hint(hint))
}

/// Checks `extraObjects` in `stencil.yaml`: every declared kind well-formed, namespaced as
/// far as stencil can tell, and no List.
pub(crate) fn check_settings(
    settings: &RepoSettings,
    node: &Node,
    problem: &mut impl FnMut(Diagnostic),
) {
    let lists = [
        (&settings.extra_objects.custom_resources, "customResources"),
        (&settings.extra_objects.platform_kinds, "platformKinds"),
    ];
    for (list, field) in lists {
        let items = node
            .get("extraObjects")
            .and_then(|e| e.get(field))
            .and_then(Node::as_seq)
            .unwrap_or(&[]);
        for (i, entry) in list.iter().enumerate() {
            let at = items.get(i).map_or_else(
                || origin_of(node, &["extraObjects", field]),
                |n| n.origin.clone(),
            );
            if let Err(msg) = check_declared(entry) {
                problem(
                    Diagnostic::new(format!("extraObjects.{field}: {msg}"))
                        .at(&at)
                        .hint("list namespaced custom resources as `{ apiVersion: <group>/<version>, kind: <Kind> }`, one entry per version"),
                );
            }
        }
    }
    for (i, role) in settings
        .extra_objects
        .bindable_cluster_roles
        .iter()
        .enumerate()
    {
        // RBAC object names are path segments (`system:aggregate-to-view` is one).
        let bad = role.is_empty() || role == "." || role == ".." || role.contains(['/', '%']);
        if bad {
            let msg = format!("`{}` is not a valid ClusterRole name", shown(role));
            let at = node
                .get("extraObjects")
                .and_then(|e| e.get("bindableClusterRoles"))
                .and_then(Node::as_seq)
                .and_then(|s| s.get(i))
                .map_or_else(|| node.origin.clone(), |n| n.origin.clone());
            problem(Diagnostic::new(format!("extraObjects.bindableClusterRoles: {msg}")).at(&at));
        }
    }
}

fn check_declared(entry: &KindRef) -> Result<(), String> {
    check_api_version(&entry.api_version)?;
    check_kind(&entry.kind)?;
    let group_name = group(&entry.api_version);
    if group_name.is_empty() {
        return Err(format!(
            "`{}` is the core group; custom resources have an API group",
            entry.api_version
        ));
    }
    if !group_name.contains('.') {
        return Err(format!(
            "group `{group_name}` is not a custom resource group (a domain with at least one dot)"
        ));
    }
    if entry.kind == "List" || entry.kind.ends_with("List") {
        return Err(format!(
            "`{}` is a List kind; a List holds other objects and is never allowed",
            entry.kind
        ));
    }
    if CLUSTER
        .iter()
        .chain(BUILT_IN.iter())
        .any(|(a, k)| group(a) == group_name && *k == entry.kind)
    {
        return Err(format!(
            "`{} {}` is a built-in kind, not a custom resource",
            entry.api_version, entry.kind
        ));
    }
    Ok(())
}

/// Whether `apiVersion` and `kind` name a built-in kind a tenant may add (typed, checked);
/// anything else that reaches the policy stage is a custom resource.
pub(crate) fn is_built_in(api_version: &str, kind: &str) -> bool {
    BUILT_IN.contains(&(api_version, kind))
}

/// The fields of a custom resource that name a namespace not `allowed` (the tenant's own
/// and the platform's): `namespace`, `targetNamespace`, `namespaces` and `namespaceSelector`
/// at any depth (but the object's own `metadata`, checked before, and pod templates, whose
/// affinity terms only schedule). A controller acting on such a resource reaches into that
/// namespace for the tenant (a ServiceMonitor's `namespaceSelector: {any: true}` scrapes
/// every tenant's pods). A `namespaceSelector` is accepted only as `{matchNames: [...]}`
/// (and `any: false`): an empty or label selector means all namespaces (or some) to some
/// controllers and the own one to others. `...File` fields (a path in the controller's
/// filesystem) are refused too.
pub(crate) fn other_namespaces(
    object: &Value,
    own: &str,
    allowed: &dyn Fn(&str) -> bool,
) -> Vec<String> {
    let mut out = Vec::new();
    if let Value::Object(map) = object {
        for (key, value) in map.iter().filter(|(k, _)| *k != "metadata") {
            scan_namespaces(key, value, key, own, allowed, &mut out);
        }
    }
    out
}

/// Whether field `key` holding `value` names a namespace not `allowed`.
fn reaches_other(key: &str, value: &Value, allowed: &dyn Fn(&str) -> bool) -> bool {
    let is_own = |v: &Value| v.as_str().is_some_and(allowed);
    match key {
        "namespace" | "targetNamespace" => !value.is_null() && !is_own(value),
        "namespaces" => match value {
            Value::Null => false,
            Value::Array(items) => !items.iter().all(is_own),
            _ => true,
        },
        "namespaceSelector" => match value {
            Value::Null => false,
            Value::Object(sel) => {
                !sel.iter().all(|(k, v)| match k.as_str() {
                    "matchNames" => v
                        .as_array()
                        .is_some_and(|names| !names.is_empty() && names.iter().all(is_own)),
                    "any" => v == &Value::Bool(false),
                    _ => false,
                }) || !sel.contains_key("matchNames")
            }
            _ => true,
        },
        _ => false,
    }
}

fn scan_namespaces(
    key: &str,
    value: &Value,
    path: &str,
    own: &str,
    allowed: &dyn Fn(&str) -> bool,
    out: &mut Vec<String>,
) {
    if reaches_other(key, value, allowed) {
        out.push(format!(
            "{path}: reaches namespaces beyond `{own}`: a tenant's custom resource names only its own namespace (or the platform's), and a namespaceSelector only as `matchNames: [{own}]`"
        ));
        return;
    }
    // `bearerTokenFile`, `caFile`, `keyFile`, `passwordFile`, ...: a file of the
    // controller's own filesystem, which it reads for the tenant (Prometheus sends its
    // service-account token to the tenant's endpoint with `bearerTokenFile`).
    if key.len() > 4 && key.ends_with("File") && value.as_str().is_some_and(|s| !s.is_empty()) {
        out.push(format!(
            "{path}: names a file of the controller's own filesystem, which it would read for the tenant (its credentials); use the Secret references of the kind instead"
        ));
        return;
    }
    match value {
        Value::Object(map) => {
            let pod = map
                .get("spec")
                .is_some_and(|s| s.get("containers").is_some_and(Value::is_array));
            for (k, v) in map {
                if pod && k == "spec" {
                    continue;
                }
                scan_namespaces(k, v, &format!("{path}.{k}"), own, allowed, out);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                scan_namespaces("", item, &format!("{path}[{i}]"), own, allowed, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(custom: &[(&str, &str)]) -> ExtraObjectsSettings {
        ExtraObjectsSettings {
            custom_resources: custom
                .iter()
                .map(|(a, k)| KindRef {
                    api_version: (*a).to_owned(),
                    kind: (*k).to_owned(),
                })
                .collect(),
            ..ExtraObjectsSettings::default()
        }
    }

    #[test]
    fn the_built_in_table_is_namespaced_and_has_no_lists() {
        for (api, kind) in BUILT_IN {
            assert!(check_api_version(api).is_ok(), "{api}");
            assert!(check_kind(kind).is_ok(), "{kind}");
            assert!(!kind.ends_with("List"), "{kind}");
            assert!(!CLUSTER.iter().any(|(_, k)| *k == kind), "{kind}");
        }
        assert!(BUILT_IN.contains(&("v1", "ConfigMap")));
        assert!(BUILT_IN.contains(&("rbac.authorization.k8s.io/v1", "Role")));
        assert!(!BUILT_IN.iter().any(|(_, k)| *k == "Binding"));
    }

    /// Whatever passes the grammar is one plain path component: `<kind>-<name>.yaml` can
    /// never leave its directory (xorshift over a hostile alphabet, fixed seed).
    #[test]
    fn checked_identities_are_plain_path_components() {
        let alphabet: Vec<char> = "aZ0.-/\\\0\n %:_~é\u{2028}".chars().collect();
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut passed = 0;
        for _ in 0..50_000 {
            let len = (next() % 8) as usize;
            let text: String = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let ok_kind = check_kind(&text).is_ok();
            let ok_name = check_subdomain(&text).is_ok();
            if ok_kind || ok_name {
                passed += 1;
                let file = format!("{}-{}.yaml", text.to_ascii_lowercase(), text);
                let mut parts = std::path::Path::new(&file).components();
                assert!(
                    matches!(parts.next(), Some(std::path::Component::Normal(_)))
                        && parts.next().is_none(),
                    "{text:?}"
                );
                assert!(
                    text.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
                );
                assert!(!text.starts_with('.') && !text.contains(".."), "{text:?}");
            }
        }
        assert!(
            passed > 1_000,
            "the generator must also produce valid names"
        );
    }

    #[test]
    fn quoted_text_is_short_and_inert() {
        assert_eq!(shown("ConfigMap"), "ConfigMap");
        assert_eq!(shown("a\nb\u{1b}[2J"), "a\\nb\\u{1b}[2J");
        let long = "x".repeat(1_000_000);
        assert_eq!(shown(&long).chars().count(), 65);
        assert!(check_kind(&long).unwrap_err().len() < 200);
        assert!(check_subdomain(&long).unwrap_err().len() < 200);
        assert!(check_api_version(&long).unwrap_err().len() < 300);
    }

    #[test]
    fn api_versions_follow_the_grammar() {
        for ok in [
            "v1",
            "apps/v1",
            "external-secrets.io/v1beta1",
            "x.io/v2alpha3",
            "a/v10",
        ] {
            assert!(check_api_version(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "v2",
            "v0",
            "1",
            "apps",
            "apps/",
            "/v1",
            "Apps/v1",
            "apps/v1/x",
            "apps/V1",
            "apps/v01",
            "apps/v1alpha",
            "apps/v1gamma1",
            "apps/v1beta0",
            "../v1",
            "a..b/v1",
            "apps/v1 ",
            "a_b/v1",
        ] {
            assert!(check_api_version(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn kinds_follow_the_grammar() {
        for ok in ["ConfigMap", "APIService", "V1", "X"] {
            assert!(check_kind(ok).is_ok(), "{ok}");
        }
        let long = format!("A{}", "b".repeat(63));
        for bad in [
            "",
            "configMap",
            "1Kind",
            "../../x",
            "Config Map",
            "Config-Map",
            "Kind\0",
            long.as_str(),
        ] {
            assert!(check_kind(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn only_allowed_kinds_pass_exactly() {
        let s = settings(&[("external-secrets.io/v1", "ExternalSecret")]);
        assert!(check_allowed("v1", "ConfigMap", &s).is_ok());
        assert!(check_allowed("external-secrets.io/v1", "ExternalSecret", &s).is_ok());
        assert!(check_allowed("flagger.app/v1beta1", "Canary", &s).is_ok());
        for (api, kind) in [
            ("external-secrets.io/v1beta1", "ExternalSecret"),
            ("external-secrets.io/v1", "Externalsecret"),
            ("v1", "List"),
            ("v1", "ConfigMapList"),
            ("v1", "Namespace"),
            ("v1", "Binding"),
            ("apps/v1beta1", "Deployment"),
            ("node.k8s.io/v1", "RuntimeClass"),
            ("example.com/v1", "Widget"),
        ] {
            let d = check_allowed(api, kind, &s).unwrap_err();
            assert_eq!(d.rule, Some("allowed-kinds"), "{api} {kind}");
            // Located by the caller, at the extra object (see `build/extra.rs`).
            assert!(d.origin.is_none(), "{api} {kind}");
        }
        let d = check_allowed("apps/v1beta1", "Deployment", &s).unwrap_err();
        assert!(
            d.hint
                .unwrap_or_default()
                .starts_with("did you mean `apps/v1 Deployment`?")
        );
        let d =
            check_allowed("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", &s).unwrap_err();
        assert!(
            d.message.contains("ClusterRoleBinding is cluster-scoped"),
            "{}",
            d.message
        );
        assert!(!d.hint.unwrap_or_default().contains("did you mean"));
    }

    #[test]
    fn declarations_are_custom_namespaced_kinds() {
        let entry = |a: &str, k: &str| KindRef {
            api_version: a.to_owned(),
            kind: k.to_owned(),
        };
        assert!(check_declared(&entry("external-secrets.io/v1", "ExternalSecret")).is_ok());
        for (a, k) in [
            ("v1", "Widget"),
            ("example/v1", "Widget"),
            ("example.com/v1", "WidgetList"),
            ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
            ("networking.k8s.io/v1", "Ingress"),
            ("example.com/v1", "widget"),
        ] {
            assert!(check_declared(&entry(a, k)).is_err(), "{a} {k}");
        }
    }

    #[test]
    fn platform_owned_kinds_match_any_version() {
        let s = ExtraObjectsSettings::default();
        assert!(platform_owned("cilium.io", "CiliumNetworkPolicy", &s));
        assert!(platform_owned("crd.projectcalico.org", "NetworkPolicy", &s));
        assert!(platform_owned("projectcalico.org", "NetworkPolicy", &s));
        assert!(platform_owned("networking.k8s.io", "NetworkPolicy", &s));
        assert!(!platform_owned("example.com", "NetworkPolicy", &s));
        let mut s = ExtraObjectsSettings::default();
        s.platform_kinds.push(KindRef {
            api_version: "kyverno.io/v1".into(),
            kind: "Policy".into(),
        });
        assert!(platform_owned("kyverno.io", "Policy", &s));
    }
}
