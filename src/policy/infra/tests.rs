//! The shared-infrastructure rules, on inputs built in-process: every rule on a service
//! definition (its rule id and the file:line:col of the value), every rule on built objects
//! (the object and the origin of the patch or extra object), benign inputs that pass, and
//! the glob and SSM path helpers.

use serde_json::{Value, json};

use super::fixtures::{
    Reported, collected, definition, definition_at, object, origin, platform, problems, settings,
    tenancy, tenant, tenant_named,
};
use super::*;
use crate::policy::Exceptions;

/// What `check_spec` reports for a definition read from `path` (`stencil` appended to the
/// test stencil.yaml).
fn spec_problems(path: &str, text: &str, stencil: &str) -> Vec<Reported> {
    let (settings, stencil_tree) = settings(stencil);
    let rules = tenancy(&settings, &stencil_tree);
    let exceptions = Exceptions::new(&settings, &stencil_tree).expect("valid exceptions");
    let (tree, spec) = definition_at(path, text);
    collected(|problem| {
        check_spec(
            &tree,
            &spec,
            &tenant(),
            "api",
            &settings,
            &rules,
            &exceptions,
            &mut |d| {
                problem(d);
            },
        );
    })
}

/// A definition that claims what is another tenant's, one line per rule.
const GREEDY: &str = "ssmSecrets:
  DB_PASSWORD: /ramparts/prod/tenants/globex/db
featureFlags:
  ssmPrefix: /other/
ingress:
  host: api.globex.example.com
  className: internal
  groupName: shared
  annotations:
    alb.ingress.kubernetes.io/group.order: \"1\"
serviceAccount:
  iamRoleArn: arn:aws:iam::012345678901:role/globex-api
  annotations:
    eks.amazonaws.com/role-arn: arn:aws:iam::012345678901:role/globex-x
podAnnotations:
  external-dns.alpha.kubernetes.io/hostname: www.globex.example.com
";

#[test]
fn each_definition_rule_points_at_the_line_that_set_the_value() {
    let found = spec_problems(fixtures::VALUES, GREEDY, "");
    let expected = [
        (
            "ssm-prefix",
            2,
            3,
            "ssmSecrets.DB_PASSWORD: `/ramparts/prod/tenants/globex/db` is not under the tenant's SSM prefix `/ramparts/prod/tenants/acme/`",
        ),
        (
            "ssm-prefix",
            4,
            3,
            "featureFlags.ssmPrefix: `/other` is not under the tenant's SSM prefix `/ramparts/prod/tenants/acme/`",
        ),
        (
            "tenant-hosts",
            6,
            3,
            "ingress.host: host `api.globex.example.com` is not one of tenant `acme`'s",
        ),
        (
            "platform-annotations",
            7,
            3,
            "ingress.className `internal` is the platform's to choose: an IngressClass (and its IngressClassParams) decides which load balancer and group the Ingress joins",
        ),
        (
            "platform-annotations",
            8,
            3,
            "ingress.groupName (alb.ingress.kubernetes.io/group.name) is the platform's: it decides which shared load balancer the Ingress joins",
        ),
        (
            "platform-annotations",
            10,
            5,
            "annotation `alb.ingress.kubernetes.io/group.order` is the platform's",
        ),
        (
            "iam-role-arn",
            14,
            5,
            "annotation `eks.amazonaws.com/role-arn`: IAM role `arn:aws:iam::012345678901:role/globex-x` is not one of tenant `acme`'s",
        ),
        (
            "tenant-hosts",
            16,
            3,
            "annotation `external-dns.alpha.kubernetes.io/hostname`: host `www.globex.example.com` is not one of tenant `acme`'s",
        ),
        (
            "iam-role-arn",
            12,
            3,
            "serviceAccount.iamRoleArn: IAM role `arn:aws:iam::012345678901:role/globex-api` is not one of tenant `acme`'s",
        ),
    ];
    let expected: Vec<Reported> = expected
        .iter()
        .map(|(rule, line, col, msg)| {
            (
                (*rule).to_owned(),
                format!("{}:{line}:{col}", fixtures::VALUES),
                (*msg).to_owned(),
            )
        })
        .collect();
    assert_eq!(found, expected);
}

#[test]
fn a_definition_of_the_tenants_own_passes() {
    let own = "ssmSecrets:
  DB_PASSWORD: /ramparts/prod/tenants/acme/db
featureFlags:
  ssmPrefix: /ramparts/prod/tenants/acme/flags/
ingress:
  host: api.acme.example.com
  className: alb
serviceAccount:
  iamRoleArn: arn:aws:iam::012345678901:role/acme-api
podAnnotations:
  external-dns.alpha.kubernetes.io/hostname: www.acme.example.com, api-acme.ramparts.example.com
";
    assert_eq!(
        spec_problems(fixtures::VALUES, own, ""),
        Vec::<Reported>::new()
    );
    // base/ chooses the class, the group and the platform's annotations.
    let platform_set = "ingress:
  className: internal
  groupName: shared
  annotations:
    alb.ingress.kubernetes.io/group.order: \"1\"
";
    assert!(spec_problems("base/api/prod.yaml", platform_set, "").is_empty());
}

#[test]
fn an_exception_relaxes_a_definition_rule() {
    let excepted = "policy:\n  exceptions:\n    - rule: tenant-hosts\n      tenants: [acme]\n      reason: migrating globex's hosts\n";
    let found = spec_problems(fixtures::VALUES, GREEDY, excepted);
    assert!(found.iter().all(|f| f.0 != "tenant-hosts"), "{found:#?}");
    assert_eq!(found.len(), 7);
}

/// Where the extra object or patch under test was written.
const AT: &str = "tenants/acme/api/extra.yaml:2:3";

/// What `check_objects` reports for one object made at [`AT`], for a service defined by
/// `definition_text` (read from base/).
fn object_problems(value: Value, extra: bool, definition_text: &str) -> Vec<Reported> {
    let (settings, stencil_tree) = settings("");
    let rules = tenancy(&settings, &stencil_tree);
    let (_, spec) = definition_at("base/api/service.yaml", definition_text);
    let objects = [object(
        value,
        Some(origin("tenants/acme/api/extra.yaml", 2, 3)),
        extra,
    )];
    let result = check_objects(
        &objects,
        &spec,
        &tenant(),
        "api",
        &settings,
        &rules,
        &Exceptions::none(),
    );
    problems(result)
}

fn meta(name: &str) -> Value {
    json!({ "name": name, "namespace": "acme" })
}

fn ingress(spec: Value) -> Value {
    json!({ "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta("web"), "spec": spec })
}

fn external_secret(spec: Value) -> Value {
    json!({ "apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "metadata": meta("es"), "spec": spec })
}

/// Asserts that each extra object, made at [`AT`], reports exactly its rule and message.
fn assert_reports<const N: usize>(cases: [(Value, &str, &str); N]) {
    for (value, rule, message) in cases {
        let case = value.to_string();
        let found = object_problems(value, true, "{}");
        let expected = vec![(rule.to_owned(), AT.to_owned(), message.to_owned())];
        assert_eq!(found, expected, "{case}");
    }
}

/// `tenant-hosts`: hosts of another tenant, and what serves every host.
#[test]
fn each_host_rule_reports_the_object_where_it_was_made() {
    assert_reports([
        (
            ingress(json!({ "rules": [{ "host": "api.globex.example.com" }] })),
            "tenant-hosts",
            "Ingress acme/web: host `api.globex.example.com` is not one of tenant `acme`'s",
        ),
        (
            ingress(json!({ "rules": [{ "http": {} }] })),
            "tenant-hosts",
            "Ingress acme/web: an Ingress rule without a host serves every host of the shared load balancer",
        ),
        (
            ingress(json!({ "defaultBackend": { "service": { "name": "s" } } })),
            "tenant-hosts",
            "Ingress acme/web: an Ingress default backend serves every host of the shared load balancer",
        ),
        (
            ingress(json!({ "tls": [{ "hosts": ["globex.example.com"] }] })),
            "tenant-hosts",
            "Ingress acme/web: host `globex.example.com` is not one of tenant `acme`'s",
        ),
        (
            json!({ "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": meta("r"), "spec": {} }),
            "tenant-hosts",
            "HTTPRoute acme/r: a route with no hostnames serves every host of the shared load balancer",
        ),
        (
            json!({ "apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": meta("g"), "spec": { "listeners": [{ "name": "l" }] } }),
            "tenant-hosts",
            "Gateway acme/g: a Gateway listener with no hostname serves every host of the shared load balancer",
        ),
        (
            json!({ "apiVersion": "externaldns.k8s.io/v1alpha1", "kind": "DNSEndpoint", "metadata": meta("d"), "spec": { "endpoints": [{ "dnsName": "globex.example.com" }] } }),
            "tenant-hosts",
            "DNSEndpoint acme/d: host `globex.example.com` is not one of tenant `acme`'s",
        ),
        (
            json!({ "apiVersion": "elbv2.k8s.aws/v1beta1", "kind": "TargetGroupBinding", "metadata": meta("t") }),
            "tenant-hosts",
            "TargetGroupBinding acme/t: a TargetGroupBinding (target groups are the platform's) serves every host of the shared load balancer",
        ),
    ]);
}

/// `platform-annotations` and `iam-role-arn` on built objects.
#[test]
fn each_annotation_rule_reports_the_object_where_it_was_made() {
    assert_reports([
        (
            ingress(
                json!({ "ingressClassName": "internal", "rules": [{ "host": "api.acme.example.com" }] }),
            ),
            "platform-annotations",
            "Ingress acme/web: spec.ingressClassName names another IngressClass than the service's `alb`: the class decides which load balancer and group the Ingress joins",
        ),
        (
            json!({ "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": { "name": "web", "namespace": "acme", "annotations": { "alb.ingress.kubernetes.io/group.name": "shared" } } }),
            "platform-annotations",
            "Ingress acme/web: annotation `alb.ingress.kubernetes.io/group.name` is the platform's",
        ),
        (
            json!({ "apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": { "name": "sa", "namespace": "acme", "annotations": { "eks.amazonaws.com/role-arn": "arn:aws:iam::012345678901:role/globex-api" } } }),
            "iam-role-arn",
            "ServiceAccount acme/sa: annotation `eks.amazonaws.com/role-arn`: IAM role `arn:aws:iam::012345678901:role/globex-api` is not one of tenant `acme`'s",
        ),
    ]);
}

/// `ssm-prefix` on External Secrets Operator objects.
#[test]
fn each_secret_rule_reports_the_object_where_it_was_made() {
    let store = json!({ "name": "aws-parameter-store", "kind": "ClusterSecretStore" });
    assert_reports([
        (
            external_secret(
                json!({ "secretStoreRef": store, "data": [{ "secretKey": "k", "remoteRef": { "key": "/ramparts/prod/tenants/globex/db" } }] }),
            ),
            "ssm-prefix",
            "ExternalSecret acme/es: data[].remoteRef.key: `/ramparts/prod/tenants/globex/db` is not under the tenant's SSM prefix `/ramparts/prod/tenants/acme/`",
        ),
        (
            external_secret(
                json!({ "secretStoreRef": store, "dataFrom": [{ "find": { "name": { "regexp": ".*" } } }] }),
            ),
            "ssm-prefix",
            "ExternalSecret acme/es: dataFrom[].find.path: dataFrom[].find.path names no path, so it searches every parameter the store can read",
        ),
        (
            external_secret(
                json!({ "secretStoreRef": { "name": "other", "kind": "ClusterSecretStore" } }),
            ),
            "ssm-prefix",
            "ExternalSecret acme/es: spec.secretStoreRef names another store than the platform's ClusterSecretStore `aws-parameter-store`",
        ),
        (
            json!({ "apiVersion": "external-secrets.io/v1alpha1", "kind": "PushSecret", "metadata": meta("p"),
            "spec": { "secretStoreRefs": [store], "data": [{ "match": { "remoteRef": { "remoteKey": "/elsewhere/k" } } }] } }),
            "ssm-prefix",
            "PushSecret acme/p: data[].match.remoteRef.remoteKey: `/elsewhere/k` is not under the tenant's SSM prefix `/ramparts/prod/tenants/acme/`",
        ),
        (
            json!({ "apiVersion": "external-secrets.io/v1", "kind": "SecretStore", "metadata": meta("s") }),
            "ssm-prefix",
            "SecretStore acme/s: a tenant's SecretStore would read secrets with the operator's identity, not the tenant's",
        ),
        (
            json!({ "apiVersion": "generators.external-secrets.io/v1alpha1", "kind": "Password", "metadata": meta("pw") }),
            "ssm-prefix",
            "Password acme/pw: a tenant's Password mints credentials with the operator's identity",
        ),
    ]);
}

#[test]
fn objects_of_the_tenants_own_pass() {
    let store = json!({ "name": "aws-parameter-store", "kind": "ClusterSecretStore" });
    let benign = [
        ingress(
            json!({ "ingressClassName": "alb", "rules": [{ "host": "api.acme.example.com" }],
            "tls": [{ "hosts": ["api.acme.example.com"] }] }),
        ),
        json!({ "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": meta("r"),
            "spec": { "hostnames": ["www-acme.ramparts.example.com"] } }),
        external_secret(
            json!({ "secretStoreRef": store, "data": [{ "secretKey": "k", "remoteRef": { "key": "/ramparts/prod/tenants/acme/db" } }],
            "dataFrom": [{ "find": { "path": "/ramparts/prod/tenants/acme" } }] }),
        ),
        json!({ "apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("c") }),
    ];
    for value in benign {
        let case = value.to_string();
        assert_eq!(
            object_problems(value, true, "{}"),
            Vec::<Reported>::new(),
            "{case}"
        );
    }
    // stencil's own objects, unpatched, are looked at only for the hosts they serve (the
    // definition rules checked the rest, with their locations): a second net.
    let (settings, stencil_tree) = settings("");
    let rules = tenancy(&settings, &stencil_tree);
    let (_, spec) = definition("{}");
    let own = |rules_json: Value| [object(ingress(json!({ "rules": rules_json })), None, false)];
    let check = |objects: &[Object]| {
        check_objects(
            objects,
            &spec,
            &tenant(),
            "api",
            &settings,
            &rules,
            &Exceptions::none(),
        )
    };
    assert!(
        check(&own(
            json!([{ "host": "www-acme.ramparts.example.com", "http": {} }])
        ))
        .is_ok()
    );
    let err = check(&own(json!([{ "http": {} }]))).expect_err("a catch-all rule");
    assert!(err.to_string().contains("tenant-hosts"), "{err}");
}

#[test]
fn a_patch_may_keep_the_platform_annotations_the_definition_wrote() {
    let group = json!({ "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": { "name": "web", "namespace": "acme", "annotations": { "alb.ingress.kubernetes.io/group.name": "shared" } } });
    let definition_text = "ingress:\n  groupName: shared\n";
    assert!(object_problems(group.clone(), false, definition_text).is_empty());
    // An extra object may not, whatever the definition says.
    let found = object_problems(group, true, definition_text);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].0, "platform-annotations");
}

#[test]
fn a_host_two_tenants_serve_is_refused_where_it_is_claimed() {
    let claims = HostClaims::default();
    let platform = platform("");
    let tree = fixtures::node("base/api/service.yaml", "port: 8080\n");
    let route = |tenant: &str, line: u32| {
        let value = json!({ "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": { "name": "r", "namespace": tenant }, "spec": { "hostnames": ["shared.example.com"] } });
        let at = origin(&format!("tenants/{tenant}/api/extra.yaml"), line, 3);
        Object::from_value(value, tenant, Some("api"), Some(at), true).expect("valid")
    };
    claims.record(
        &tenant_named("acme", "acme.example.com"),
        &[route("acme", 4)],
        &tree,
        &platform,
    );
    assert!(claims.conflicts().is_empty());
    claims.record(
        &tenant_named("globex", "globex.example.com"),
        &[route("globex", 7)],
        &tree,
        &platform,
    );
    let conflicts = claims.conflicts();
    assert_eq!(conflicts.len(), 1);
    let d = &conflicts[0].diagnostics()[0];
    assert_eq!(d.rule, Some("tenant-hosts"));
    assert_eq!(
        d.message,
        "host `shared.example.com` is claimed by tenants acme, globex"
    );
    assert_eq!(
        d.origin.as_ref().map(Origin::to_string).as_deref(),
        Some("tenants/globex/api/extra.yaml:7:3")
    );
    assert_eq!(
        d.notes,
        [
            "tenant acme at tenants/acme/api/extra.yaml:4:3",
            "tenant globex at tenants/globex/api/extra.yaml:7:3"
        ]
    );
}

#[test]
fn tenancy_patterns_must_name_the_tenant_and_know_their_placeholders() {
    let (settings, tree) =
        settings("tenancy:\n  hosts: [\"*.{tenant.nmae}.example.com\"]\n  ssmPrefix: /shared/\n");
    let found = collected(|problem| {
        TenancyRules::new(&settings, &tree, &mut |d| problem(d));
    });
    let messages: Vec<(&str, &str)> = found.iter().map(|f| (f.1.as_str(), f.2.as_str())).collect();
    assert_eq!(
        messages,
        [
            (
                "stencil.yaml:11:3",
                "tenancy.ssmPrefix `/shared/` does not name the tenant: every tenant could claim what it matches"
            ),
            (
                "stencil.yaml:10:3",
                "tenancy.hosts: unknown placeholder `{tenant.nmae}` in `*.{tenant.nmae}.example.com`"
            ),
            (
                "stencil.yaml:10:3",
                "tenancy.hosts `*.{tenant.nmae}.example.com` does not name the tenant: every tenant could claim what it matches"
            ),
        ]
    );
}

#[test]
fn served_hosts_are_read_by_kind() {
    let served = |value: Value| hosts::served_hosts(&object(value, None, true));
    assert_eq!(
        served(
            json!({ "apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": meta("g"),
            "spec": { "hostnames": ["a.example.com"], "listeners": [{ "hostname": "b.example.com" }, { "name": "x" }] } })
        ),
        ["a.example.com", "b.example.com"]
    );
    assert_eq!(
        served(
            json!({ "apiVersion": "flagger.app/v1beta1", "kind": "Canary",
            "metadata": { "name": "c", "annotations": { "external-dns.alpha.kubernetes.io/hostname": "c.example.com, ,d.example.com" } },
            "spec": { "service": { "hosts": ["e.example.com"] } } })
        ),
        ["e.example.com", "c.example.com", "d.example.com"]
    );
    assert_eq!(
        served(ingress(
            json!({ "rules": [{ "host": "i.example.com" }, {}], "tls": [{ "hosts": ["t.example.com"] }] })
        )),
        ["i.example.com"]
    );
}

#[test]
fn globs_stay_within_a_label() {
    let m = |p: &str, t: &str| glob_match(p.as_bytes(), t.as_bytes(), b".");
    assert!(m("*.acme.example.com", "api.acme.example.com"));
    assert!(m("*.acme.example.com", "*.acme.example.com"));
    assert!(!m("*.acme.example.com", "a.b.acme.example.com"));
    assert!(!m("*.acme.example.com", "acme.example.com"));
    assert!(!m("*.acme.example.com", "evilacme.example.com"));
    assert!(m("*-acme.example.com", "api-acme.example.com"));
    assert!(m("*-acme.example.com", "x-a-acme.example.com"));
    assert!(!m("*-acme.example.com", "-acme.example.com"));
    let arn = |p: &str, t: &str| glob_match(p.as_bytes(), t.as_bytes(), b"/:");
    let p = "arn:aws:iam::012345678901:role/acme-*";
    assert!(arn(p, "arn:aws:iam::012345678901:role/acme-api"));
    assert!(!arn(p, "arn:aws:iam::012345678901:role/acme-x/globex-api"));
    assert!(!arn(p, "arn:aws:iam::012345678901:role/acmex-api"));
}

#[test]
fn ssm_paths_are_checked_segment_by_segment() {
    assert!(ssm_segments("/a/b", false).is_ok());
    for bad in ["a/b", "/a//b", "/a/../b", "/a/./b", "/a/b/", "/a/b c", "/"] {
        assert!(ssm_segments(bad, false).is_err(), "{bad}");
    }
    assert_eq!(ssm_segments("/", true), Ok(Vec::new()));
}
