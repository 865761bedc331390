//! In-process tests of every guardrail the spec side reports: [`check_spec`] (with the
//! canary and shared-infrastructure rules it runs), [`Platform::new`] and
//! [`check_workspace`]. Each case builds minimal inputs from YAML text with the crate's
//! own loader (so every value has its `file:line:col`), runs the check, and asserts the
//! rule id and the location reported; the benign inputs pass.

use std::sync::Arc;

use super::{Platform, check_spec, check_workspace};
use crate::error::{Error, rules_and_places as found};
use crate::load::de::from_node;
use crate::load::{Limits, Tenant};
use crate::model::RepoSettings;
use crate::names::DnsLabel;
use crate::node::Node;
use crate::origin::SourceFile;
use crate::yaml::read::parse;

const STENCIL: &str = "\
kind: Stencil
name: plat
domain: example.com
environments:
  dev: { cluster: https://dev.example.com, domain: dev.example.com }
";

/// `STENCIL` with canary settings (nginx shifts the ingress's traffic).
const CANARY_STENCIL: &str = "\
kind: Stencil
name: plat
domain: example.com
environments:
  dev: { cluster: https://dev.example.com, domain: dev.example.com }
workspace:
  ingressFrom: { namespaces: [test] }
canary:
  provider: nginx
  metricsServer: http://prometheus.monitoring:9090
  minInterval: 1m
  minIterations: 5
  stepWeight: 10
  maxThreshold: 5
  maxErrorRate: 2
  maxLatencyP99: 1s
  smokeTest: { url: http://flagger-loadtester.test/ }
";

/// `STENCIL` with a quota ceiling.
const QUOTA_STENCIL: &str = "\
kind: Stencil
name: plat
domain: example.com
environments:
  dev: { cluster: https://dev.example.com, domain: dev.example.com }
workspace:
  quota:
    default: { requests.cpu: '4' }
    ceiling: { requests.cpu: '8' }
";

const TENANT: &str = "\
kind: Tenant
environment: dev
domain: acme.example.com
services: [api]
";

const SERVICE: &str = "\
kind: Service
image: { repository: registry.example.com/api, tag: 1.0.0 }
port: 8000
resources:
  requests: { cpu: 100m, memory: 128Mi }
  limits: { memory: 256Mi }
";

/// [`SERVICE`] with what a canary needs: an ingress host and an autoscaler.
const CANARY_SERVICE: &str = "\
kind: Service
image: { repository: registry.example.com/api, tag: 1.0.0 }
port: 8000
resources:
  requests: { cpu: 100m, memory: 128Mi }
  limits: { memory: 256Mi }
ingress: { host: api.acme.example.com }
autoscaling: { minReplicas: 2, maxReplicas: 4 }
";

fn node(path: &str, text: &str) -> Node {
    parse(&SourceFile::new(path, text), Limits::default()).expect("test YAML parses")
}

fn platform(stencil: &str) -> (RepoSettings, Result<Platform, Error>) {
    let node = Arc::new(node("stencil.yaml", stencil));
    let settings: RepoSettings = from_node(&node).expect("stencil.yaml deserializes");
    let platform = Platform::new(&settings, &node);
    (settings, platform)
}

fn tenant(text: &str) -> Tenant {
    let node = node("tenants/acme/tenant.yaml", text);
    Tenant {
        name: DnsLabel::parse("acme").expect("tenant name"),
        namespace: DnsLabel::parse("acme").expect("namespace"),
        spec: from_node(&node).expect("tenant.yaml deserializes"),
        node: Arc::new(node),
    }
}

/// Runs `check_spec` on `service` for tenant `acme` under `stencil`.
fn spec(stencil: &str, service: &str) -> Vec<(Option<&'static str>, String)> {
    spec_in("base/api/service.yaml", stencil, service)
}

/// Runs `check_spec` on `service`, read from `path`.
fn spec_in(path: &str, stencil: &str, service: &str) -> Vec<(Option<&'static str>, String)> {
    let (settings, platform) = platform(stencil);
    let platform = platform.expect("the platform settings are valid");
    let tree = node(path, service);
    let tenant = tenant(TENANT);
    found(check_spec(&tree, &tenant, "api", &settings, &platform, None).map(drop))
}

/// Runs `check_workspace` on `tenant_text` under `stencil`.
fn workspace(stencil: &str, tenant_text: &str) -> Vec<(Option<&'static str>, String)> {
    let (settings, platform) = platform(stencil);
    let platform = platform.expect("the platform settings are valid");
    found(check_workspace(&tenant(tenant_text), &settings, &platform).map(drop))
}

/// Asserts that exactly one diagnostic names `rule`, at `at`.
#[track_caller]
fn assert_rule(found: &[(Option<&'static str>, String)], rule: &str, at: &str) {
    let hits: Vec<_> = found.iter().filter(|(r, _)| *r == Some(rule)).collect();
    assert_eq!(hits.len(), 1, "one `{rule}` finding expected in {found:?}");
    assert_eq!(hits[0].1, at, "`{rule}` at the wrong place in {found:?}");
}

/// A benign service `base` with `extra` appended; a top-level key of `extra` replaces the
/// same key of `base` (with its indented lines).
fn service_with(base: &str, extra: &str) -> String {
    let key = |line: &str| {
        (!line.starts_with(' '))
            .then(|| line.split_once(':').map(|(k, _)| k.to_owned()))
            .flatten()
    };
    let replaced: Vec<String> = extra.lines().filter_map(key).collect();
    let mut out = String::new();
    let mut dropping = false;
    for line in base.lines() {
        if let Some(k) = key(line) {
            dropping = replaced.contains(&k);
        }
        if !dropping {
            out.push_str(line);
            out.push('\n');
        }
    }
    out + extra
}

#[test]
fn benign_inputs_pass() {
    assert_eq!(spec(STENCIL, SERVICE), []);
    assert_eq!(spec(CANARY_STENCIL, CANARY_SERVICE), []);
    let canary = "canary: { maxErrorRate: 1, maxLatencyP99: 500ms }\n";
    assert_eq!(
        spec(CANARY_STENCIL, &service_with(CANARY_SERVICE, canary)),
        []
    );
    assert!(platform(QUOTA_STENCIL).1.is_ok());
    assert!(platform(CANARY_STENCIL).1.is_ok());
    let quota = "quota: { requests.cpu: '6' }\n";
    assert_eq!(workspace(QUOTA_STENCIL, &format!("{TENANT}{quota}")), []);
}

/// `(rule, what to append to SERVICE, where the rule reports it)`, under `STENCIL`. The
/// service is read from the file `where` names.
const SPEC_CASES: &[(&str, &str, &str)] = &[
    (
        "mutable-image-tag",
        "image: { repository: registry.example.com/api, tag: latest }\n",
        "base/api/service.yaml:6:48",
    ),
    (
        "mutable-image-tag",
        "sidecars:\n  - name: proxy\n    image: { repository: envoy, tag: latest }\n    resources: { requests: { cpu: 10m, memory: 8Mi }, limits: { memory: 8Mi } }\n",
        "base/api/service.yaml:9:33",
    ),
    (
        "resources",
        "resources: { requests: { cpu: 100m, memory: null } }\n",
        "base/api/service.yaml:4:1",
    ),
    (
        "resources",
        "sidecars:\n  - name: proxy\n    image: { repository: envoy, tag: v1 }\n",
        "base/api/service.yaml:8:5",
    ),
    (
        "platform-labels",
        "labels: { stencil.dev/tenant: globex }\n",
        "base/api/service.yaml:7:11",
    ),
    (
        "platform-labels",
        "labels: { kubernetes.io/metadata.name: x }\n",
        "base/api/service.yaml:7:11",
    ),
    (
        "platform-labels",
        "podAnnotations: { argocd.argoproj.io/sync-wave: '1' }\n",
        "base/api/service.yaml:7:19",
    ),
    (
        "pod-security-labels",
        "labels: { pod-security.kubernetes.io/enforce: privileged }\n",
        "base/api/service.yaml:7:11",
    ),
    (
        "pss-apparmor",
        "podAnnotations: { container.apparmor.security.beta.kubernetes.io/api: unconfined }\n",
        "base/api/service.yaml:7:19",
    ),
    (
        "seccomp-runtime-default",
        "podAnnotations: { seccomp.security.alpha.kubernetes.io/pod: unconfined }\n",
        "base/api/service.yaml:7:19",
    ),
    (
        "ssm-prefix",
        "ssmSecrets: { DB_PASSWORD: /plat/dev/tenants/globex/db }\n",
        "base/api/service.yaml:7:15",
    ),
    (
        "tenant-hosts",
        "ingress: { host: api.globex.example.com }\n",
        "base/api/service.yaml:7:12",
    ),
    (
        "platform-annotations",
        "ingress:\n  host: api.acme.example.com\n  annotations: { alb.ingress.kubernetes.io/group.name: shared }\n",
        "tenants/acme/api.yaml:9:18",
    ),
    (
        "iam-role-arn",
        "serviceAccount: { iamRoleArn: 'arn:aws:iam::123456789012:role/globex' }\n",
        "base/api/service.yaml:7:19",
    ),
];

#[test]
fn each_spec_rule_reports_its_id_where_the_value_is() {
    for (rule, extra, at) in SPEC_CASES {
        let path = at.split(':').next().unwrap_or_default();
        let found = spec_in(path, STENCIL, &service_with(SERVICE, extra));
        assert_rule(&found, rule, at);
        assert_eq!(found.len(), 1, "only `{rule}` expected: {found:?}");
    }
}

/// `(rule, what to append to CANARY_SERVICE, where)`, under `CANARY_STENCIL`.
const CANARY_CASES: &[(&str, &str, &str)] = &[
    (
        "canary-minimum",
        "canary: { maxErrorRate: 5, maxLatencyP99: 500ms }\n",
        "base/api/service.yaml:9:11",
    ),
    (
        "canary-minimum",
        "canary: { maxErrorRate: 1, maxLatencyP99: 2s }\n",
        "base/api/service.yaml:9:28",
    ),
    (
        "canary-minimum",
        "canary: { maxErrorRate: 1, maxLatencyP99: 500ms, interval: 30s }\n",
        "base/api/service.yaml:9:50",
    ),
    (
        "canary-minimum",
        "canary: { maxErrorRate: 1, maxLatencyP99: 500ms, maxWeight: 20 }\n",
        "base/api/service.yaml:9:50",
    ),
    (
        "canary-minimum",
        "canary: { maxErrorRate: 1, maxLatencyP99: 500ms, threshold: 9 }\n",
        "base/api/service.yaml:9:50",
    ),
    (
        "canary-minimum",
        "canary:\n  enabled: false\n  maxErrorRate: 1\n",
        "base/api/service.yaml:10:3",
    ),
];

#[test]
fn each_canary_minimum_reports_the_value_below_the_platform() {
    for (rule, extra, at) in CANARY_CASES {
        let found = spec(CANARY_STENCIL, &service_with(CANARY_SERVICE, extra));
        assert_rule(&found, rule, at);
        assert_eq!(found.len(), 1, "only `{rule}` expected: {found:?}");
    }
}

/// `stencil` with one exception for `rule` appended.
fn excepted(stencil: &str, rule: &str) -> String {
    format!(
        "{stencil}policy:\n  exceptions:\n    - {{ rule: {rule}, tenants: [acme], reason: a test }}\n"
    )
}

#[test]
fn an_exception_relaxes_a_relaxable_spec_rule() {
    let relaxable = SPEC_CASES
        .iter()
        .filter(|(rule, _, _)| !matches!(*rule, "platform-labels" | "pod-security-labels"));
    for (rule, extra, at) in relaxable {
        let path = at.split(':').next().unwrap_or_default();
        let found = spec_in(
            path,
            &excepted(STENCIL, rule),
            &service_with(SERVICE, extra),
        );
        assert_eq!(found, [], "an exception for `{rule}` relaxes it");
    }
    for (rule, extra, _) in CANARY_CASES {
        let stencil = excepted(CANARY_STENCIL, rule);
        let found = spec(&stencil, &service_with(CANARY_SERVICE, extra));
        assert_eq!(found, [], "an exception for `{rule}` relaxes it");
    }
}

#[test]
fn a_service_cannot_relax_what_is_the_platforms() {
    let (_, platform) = platform(&excepted(STENCIL, "platform-labels"));
    let err = platform.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("`platform-labels` has no exceptions"), "{err}");
    assert!(err.contains("stencil.yaml:8:7"), "{err}");
    let labels = "labels: { pod-security.kubernetes.io/enforce: privileged }\n";
    let found = spec(
        &excepted(STENCIL, "pss-privileged"),
        &service_with(SERVICE, labels),
    );
    assert_rule(&found, "pod-security-labels", "base/api/service.yaml:7:11");
}

#[test]
fn a_default_quota_above_its_ceiling_is_refused() {
    let stencil = QUOTA_STENCIL.replace(
        "default: { requests.cpu: '4' }",
        "default: { requests.cpu: '16' }",
    );
    let Err(err) = platform(&stencil).1 else {
        panic!("a default above the ceiling is refused");
    };
    let found = found(Err(err));
    assert_rule(&found, "quota-ceiling", "stencil.yaml:8:16");
}

#[test]
fn a_tenant_quota_stays_within_the_ceiling() {
    let above = format!("{TENANT}quota: {{ requests.cpu: '16' }}\n");
    assert_rule(
        &workspace(QUOTA_STENCIL, &above),
        "quota-ceiling",
        "tenants/acme/tenant.yaml:5:10",
    );
    let unceiled = format!("{TENANT}quota:\n  limits.memory: 1Gi\n");
    assert_rule(
        &workspace(QUOTA_STENCIL, &unceiled),
        "quota-ceiling",
        "tenants/acme/tenant.yaml:6:3",
    );
    let relaxed = excepted(QUOTA_STENCIL, "quota-ceiling");
    assert_eq!(workspace(&relaxed, &above), []);
    assert_eq!(workspace(&relaxed, &unceiled), []);
}

/// `(what the message says, what to append to SERVICE, where)`: checks with no rule id.
const FIELD_CASES: &[(&str, &str, &str)] = &[
    ("port 0", "port: 0\n", "base/api/service.yaml:6:1"),
    (
        "LOG LEVEL",
        "env: { LOG LEVEL: info }\n",
        "base/api/service.yaml:7:8",
    ),
    (
        "set in both env and ssmSecrets",
        "env: { A: '1' }\nssmSecrets: { A: /plat/dev/tenants/acme/a }\n",
        "base/api/service.yaml:8:15",
    ),
    (
        "must start with `/`",
        "ssmSecrets: { A: plat/a }\n",
        "base/api/service.yaml:7:15",
    ),
    (
        "featureFlags.ssmPrefix",
        "featureFlags: { ssmPrefix: flags }\n",
        "base/api/service.yaml:7:17",
    ),
    (
        "cannot both be 0",
        "strategy: { maxSurge: 0, maxUnavailable: '0%' }\n",
        "base/api/service.yaml:7:1",
    ),
    (
        "non-negative integer",
        "strategy: { maxSurge: -1 }\n",
        "base/api/service.yaml:7:13",
    ),
    (
        "not both",
        "podDisruptionBudget: { minAvailable: 1, maxUnavailable: 1 }\n",
        "base/api/service.yaml:7:1",
    ),
    (
        "has no host",
        "ingress: { enabled: true }\n",
        "base/api/service.yaml:7:1",
    ),
    (
        "ingress path",
        "ingress: { host: api.acme.example.com, path: api }\n",
        "base/api/service.yaml:7:40",
    ),
    (
        "minReplicas <= maxReplicas",
        "autoscaling: { minReplicas: 3, maxReplicas: 2 }\n",
        "base/api/service.yaml:7:1",
    ),
    (
        "needs maxReplicas",
        "autoscaling: { minReplicas: 3 }\n",
        "base/api/service.yaml:7:1",
    ),
    (
        "probe port 0",
        "probes: { startup: { port: 0 } }\n",
        "base/api/service.yaml:7:22",
    ),
    (
        "used twice",
        "sidecars:\n  - name: api\n    image: { repository: envoy, tag: v1 }\n    resources: { requests: { cpu: 10m, memory: 8Mi }, limits: { memory: 8Mi } }\n",
        "base/api/service.yaml:8:5",
    ),
    (
        "both name their port",
        "sidecars:\n  - { name: metrics-exporter-a, port: 9000, image: { repository: e, tag: v1 }, resources: { requests: { cpu: 1m, memory: 1Mi }, limits: { memory: 1Mi } } }\n  - { name: metrics-exporter-b, port: 9001, image: { repository: e, tag: v1 }, resources: { requests: { cpu: 1m, memory: 1Mi }, limits: { memory: 1Mi } } }\n",
        "base/api/service.yaml:9:7",
    ),
    (
        "the main container's port",
        "sidecars:\n  - { name: proxy, port: 8000, image: { repository: e, tag: v1 }, resources: { requests: { cpu: 1m, memory: 1Mi }, limits: { memory: 1Mi } } }\n",
        "base/api/service.yaml:8:20",
    ),
    (
        "ingressPath but no port",
        "sidecars:\n  - { name: proxy, ingressPath: /x, image: { repository: e, tag: v1 }, resources: { requests: { cpu: 1m, memory: 1Mi }, limits: { memory: 1Mi } } }\n",
        "base/api/service.yaml:8:20",
    ),
];

#[test]
fn each_field_check_reports_where_the_value_is() {
    for (what, extra, at) in FIELD_CASES {
        let (settings, platform) = platform(STENCIL);
        let platform = platform.expect("the platform settings are valid");
        let tree = node("base/api/service.yaml", &service_with(SERVICE, extra));
        let result = check_spec(&tree, &tenant(TENANT), "api", &settings, &platform, None);
        let err = result
            .err()
            .unwrap_or_else(|| panic!("`{what}` is refused"));
        let hit = err.diagnostics().iter().find(|d| d.message.contains(what));
        let origin = hit.and_then(|d| d.origin.as_ref()).map(ToString::to_string);
        assert_eq!(origin.as_deref(), Some(*at), "`{what}` in {err}");
    }
}
