//! Shared infrastructure (issue 17, item 8): a tenant keeps out of the platform's
//! namespaces, reads only its own SSM parameters, claims only its own hosts, leaves the
//! shared ALB's group annotations alone, assumes only its own IAM roles, and `argocd
//! generate` renders only into the Application's destination namespace.

use crate::common;

use crate::common::{Repo, STENCIL_YAML};

/// The test repository (platform `plat`, tenant `acme` in `dev`, domain `dev.example.com`)
/// with `settings` added to its stencil.yaml.
fn with_settings(settings: &str) -> Repo {
    Repo::new().file(
        "stencil.yaml",
        format!("{STENCIL_YAML}{DECLARED}{settings}"),
    )
}

/// The custom resources these tests add as extra objects, declared as a platform would
/// (the `allowed-kinds` allow-list refuses undeclared ones before the rules tested here).
const DECLARED: &str = "extraObjects:\n  customResources:\n    - { apiVersion: external-secrets.io/v1, kind: ExternalSecret }\n    - { apiVersion: external-secrets.io/v1, kind: SecretStore }\n    - { apiVersion: external-secrets.io/v1alpha1, kind: PushSecret }\n    - { apiVersion: generators.external-secrets.io/v1alpha1, kind: ECRAuthorizationToken }\n    - { apiVersion: gateway.networking.k8s.io/v1, kind: HTTPRoute }\n    - { apiVersion: gateway.networking.k8s.io/v1, kind: GRPCRoute }\n    - { apiVersion: gateway.networking.k8s.io/v1, kind: Gateway }\n    - { apiVersion: elbv2.k8s.aws/v1beta1, kind: TargetGroupBinding }\n";

/// The test repository with the custom resources above declared.
fn repo() -> Repo {
    with_settings("")
}

/// The test repository with tenant `acme`'s `values.yaml` for service `api`.
fn with_values(values: &str) -> Repo {
    repo().file("tenants/acme/api/values.yaml", values)
}

/// Tenant `acme` with its own domain.
fn acme_with_domain(values: &str) -> Repo {
    with_values(values).file(
        "tenants/acme/tenant.yaml",
        "kind: Tenant\nenvironment: dev\ndomain: acme.dev.example.com\nservices: [api]\n",
    )
}

// ---------------------------------------------------------------------------------------
// 1. Reserved namespaces

#[test]
fn platform_namespaces_are_reserved_without_any_setting() {
    for ns in [
        "argocd",
        "monitoring",
        "flagger",
        "gateway-system",
        "cert-manager",
        "external-secrets",
        "kyverno",
        "ingress-nginx",
        "kube-system",
        "default",
    ] {
        repo()
            .file(
                "tenants/acme/tenant.yaml",
                format!("kind: Tenant\nenvironment: dev\nnamespace: {ns}\nservices: [api]\n"),
            )
            .run(&["render"])
            .fails(&[
                "reserved-namespace tenants/acme/tenant.yaml:3",
                &format!("reserved namespace `{ns}`"),
            ]);
    }
}

#[test]
fn namespaces_stencil_yaml_mentions_are_reserved() {
    let settings = "\
argocd: { namespace: cd-system }
workspace:
  ingressFrom: { namespaces: [probes, lt-ns] }
canary:
  provider: gatewayapi:v1
  gateway: { name: public, namespace: edge-gw }
  metricsServer: http://prometheus.metrics-ns:9090
  smokeTest: { url: http://loadtester.lt-ns/ }
reservedNamespaces: [billing]
";
    for ns in [
        "cd-system",
        "probes",
        "edge-gw",
        "metrics-ns",
        "lt-ns",
        "billing",
    ] {
        with_settings(settings)
            .file(
                "tenants/acme/tenant.yaml",
                format!("kind: Tenant\nenvironment: dev\nnamespace: {ns}\nservices: [api]\n"),
            )
            .run(&["render"])
            .fails(&[
                "reserved-namespace tenants/acme/tenant.yaml:3",
                &format!("`{ns}`"),
                "stencil.yaml",
            ]);
    }
    // A tenant named after a platform namespace is refused too (its namespace is its name).
    with_settings(settings)
        .file("tenants/probes/tenant.yaml", common::TENANT_YAML)
        .run(&["render"])
        .fails(&["reserved-namespace tenants/probes/tenant.yaml", "`probes`"]);
    // Anything else is the tenant's.
    with_settings(settings)
        .file(
            "tenants/acme/tenant.yaml",
            "kind: Tenant\nenvironment: dev\nnamespace: team-acme\nservices: [api]\n",
        )
        .run(&["render"])
        .ok();
}

// ---------------------------------------------------------------------------------------
// 2. SSM parameters under the tenant's prefix

#[test]
fn ssm_secrets_stay_under_the_tenant_prefix() {
    for (path, needle) in [
        // A string prefix is not a path prefix.
        ("/plat/dev/tenants/acme-evil/api/DATABASE_URL", "not under"),
        ("/plat/dev/tenants/acmeevil", "not under"),
        // Another tenant, another environment, the root.
        ("/plat/dev/tenants/globex/api/DATABASE_URL", "not under"),
        ("/plat/prod/tenants/acme/api/DATABASE_URL", "not under"),
        ("/DATABASE_URL", "not under"),
        // Dot segments and empty segments are refused, not normalised.
        ("/plat/dev/tenants/acme/../globex/DATABASE_URL", "`..`"),
        ("/plat/dev/tenants/acme/./DATABASE_URL", "`.`"),
        ("/plat/dev/tenants/acme//DATABASE_URL", "empty segment"),
        ("/plat/dev/tenants//acme/DATABASE_URL", "empty segment"),
        // An ARN names a parameter in any account.
        (
            "arn:aws:ssm:us-east-1:999999999999:parameter/plat/dev/tenants/acme/x",
            "must start with `/`",
        ),
        // The prefix itself is not a parameter of the tenant's.
        ("/plat/dev/tenants/acme", "not under"),
        ("/plat/dev/tenants/acme/", "empty segment"),
    ] {
        with_values(&format!("ssmSecrets:\n  DATABASE_URL: \"{path}\"\n"))
            .run(&["render"])
            .fails(&[
                "ssm-prefix tenants/acme/api/values.yaml:2",
                needle,
                "/plat/dev/tenants/acme/",
                "tenancy.ssmPrefix",
            ]);
    }
    with_values(
        "ssmSecrets:\n  DATABASE_URL: /plat/dev/tenants/acme/api/DATABASE_URL\n  OTHER: /plat/dev/tenants/acme/shared.key_1-x\n",
    )
    .run(&["render"])
    .ok();
}

#[test]
fn feature_flags_stay_under_the_tenant_prefix() {
    for prefix in [
        "/plat/dev/tenants",
        "/plat/dev/tenants/acme-evil",
        "/plat/dev/tenants/acme/../globex",
        "/",
        "/plat/dev/tenants/globex/api",
    ] {
        with_values(&format!("featureFlags:\n  ssmPrefix: \"{prefix}\"\n"))
            .run(&["render"])
            .fails(&["ssm-prefix tenants/acme/api/values.yaml:2"]);
    }
    for prefix in ["/plat/dev/tenants/acme", "/plat/dev/tenants/acme/api"] {
        with_values(&format!("featureFlags:\n  ssmPrefix: \"{prefix}\"\n"))
            .run(&["render"])
            .ok();
    }
}

#[test]
fn the_ssm_prefix_is_a_platform_setting() {
    let repo = with_settings("tenancy:\n  ssmPrefix: \"/ssm/{environment.name}/{tenant.name}/\"\n");
    repo.file(
        "tenants/acme/api/values.yaml",
        "ssmSecrets: { DB: /ssm/dev/acme/db }\n",
    )
    .run(&["render"])
    .ok();
    with_settings("tenancy:\n  ssmPrefix: \"/ssm/{environment.name}/{tenant.name}/\"\n")
        .file(
            "tenants/acme/api/values.yaml",
            "ssmSecrets: { DB: /plat/dev/tenants/acme/db }\n",
        )
        .run(&["render"])
        .fails(&["ssm-prefix", "/ssm/dev/acme/"]);
    // A prefix that is not per tenant would share every parameter.
    with_settings("tenancy:\n  ssmPrefix: /ssm/shared/\n")
        .run(&["render"])
        .fails(&["stencil.yaml:", "tenancy.ssmPrefix", "{tenant.name}"]);
}

/// An extra ExternalSecret with `spec` as given.
fn extra_external_secret(spec: &str) -> String {
    format!(
        "extraObjects:\n  - apiVersion: external-secrets.io/v1\n    kind: ExternalSecret\n    metadata: {{ name: stolen }}\n    spec:\n      secretStoreRef: {{ name: aws-parameter-store, kind: ClusterSecretStore }}\n      target: {{ name: stolen }}\n{spec}"
    )
}

#[test]
fn extra_external_secrets_read_only_the_tenant_prefix() {
    for spec in [
        "      data:\n        - secretKey: DB\n          remoteRef: { key: /plat/dev/tenants/globex/api/DATABASE_URL }\n",
        "      data:\n        - secretKey: DB\n          remoteRef: { key: /plat/dev/tenants/acme-evil/DATABASE_URL }\n",
        "      data:\n        - secretKey: DB\n          remoteRef: { key: /plat/dev/tenants/acme/../globex/DATABASE_URL }\n",
        "      dataFrom:\n        - extract: { key: /plat/dev/tenants/globex/api/config }\n",
        "      dataFrom:\n        - find: { path: /plat/dev/tenants/globex }\n",
        // `find` without a path searches every parameter the store can read.
        "      dataFrom:\n        - find: { name: { regexp: DATABASE_URL } }\n",
        "      dataFrom:\n        - find: { tags: { team: globex } }\n",
        // A generator mints credentials with the operator's identity.
        "      dataFrom:\n        - sourceRef: { generatorRef: { apiVersion: generators.external-secrets.io/v1alpha1, kind: ECRAuthorizationToken, name: ecr } }\n",
    ] {
        with_values(&extra_external_secret(spec))
            .run(&["render"])
            .fails(&[
                "ssm-prefix tenants/acme/api/values.yaml:2",
                "ExternalSecret",
            ]);
    }
    // Whatever the store: the key is what names the parameter.
    with_values(
        &extra_external_secret(
            "      data:\n        - secretKey: DB\n          remoteRef: { key: /plat/dev/tenants/globex/api/DATABASE_URL }\n",
        )
        .replace("kind: ClusterSecretStore", "kind: SecretStore"),
    )
    .run(&["render"])
    .fails(&["ssm-prefix"]);
    with_values(&extra_external_secret(
        "      data:\n        - secretKey: DB\n          remoteRef: { key: /plat/dev/tenants/acme/api/DATABASE_URL }\n      dataFrom:\n        - find: { path: /plat/dev/tenants/acme/api, name: { regexp: ^X_ } }\n",
    ))
    .run(&["render"])
    .ok();
}

#[test]
fn tenants_bring_no_secret_stores_and_push_only_under_their_prefix() {
    for (kind, needle) in [
        ("SecretStore", "ssm-prefix tenants/acme/api/values.yaml:2"),
        // Refused as cluster-scoped already; whichever rule says so, never rendered.
        ("ClusterSecretStore", "tenants/acme/api/values.yaml:2"),
        ("ClusterExternalSecret", "tenants/acme/api/values.yaml:2"),
    ] {
        with_values(&format!(
            "extraObjects:\n  - apiVersion: external-secrets.io/v1\n    kind: {kind}\n    metadata: {{ name: mine }}\n    spec:\n      provider: {{ aws: {{ service: ParameterStore, region: us-east-1 }} }}\n"
        ))
        .run(&["render"])
        .fails(&[needle, kind]);
    }
    // Generators mint credentials with the operator's identity.
    with_values(
        "extraObjects:\n  - apiVersion: generators.external-secrets.io/v1alpha1\n    kind: ECRAuthorizationToken\n    metadata: { name: ecr }\n    spec: { region: us-east-1 }\n",
    )
    .run(&["render"])
    .fails(&["ssm-prefix tenants/acme/api/values.yaml:2", "ECRAuthorizationToken"]);
    let push = |key: &str| {
        format!(
            "extraObjects:\n  - apiVersion: external-secrets.io/v1alpha1\n    kind: PushSecret\n    metadata: {{ name: push }}\n    spec:\n      secretStoreRefs: [{{ name: aws-parameter-store, kind: ClusterSecretStore }}]\n      selector: {{ secret: {{ name: api-env }} }}\n      data:\n        - match: {{ secretKey: X, remoteRef: {{ remoteKey: {key} }} }}\n"
        )
    };
    with_values(&push("/plat/dev/tenants/globex/api/DATABASE_URL"))
        .run(&["render"])
        .fails(&["ssm-prefix", "PushSecret"]);
    with_values(&push("/plat/dev/tenants/acme/api/X"))
        .run(&["render"])
        .ok();
}

#[test]
fn the_example_reads_its_own_parameters() {
    let run = Repo::example().run(&["render"]).ok();
    assert!(
        run.stdout
            .contains("key: /ramparts/prod/tenants/momcorp/apiserver/DATABASE_URL")
    );
    // slurm (dev) pointing at momcorp's database is refused.
    Repo::example()
        .file(
            "tenants/slurm/apiserver/values.yaml",
            "ssmSecrets:\n  DATABASE_URL: /ramparts/prod/tenants/momcorp/apiserver/DATABASE_URL\n",
        )
        .run(&["render"])
        .fails(&[
            "ssm-prefix tenants/slurm/apiserver/values.yaml:2",
            "/ramparts/dev/tenants/slurm/",
        ]);
}

// ---------------------------------------------------------------------------------------
// 3. Hosts

#[test]
fn ingress_hosts_are_the_tenants_own() {
    for host in [
        // Another tenant's domain, the platform's domains, wildcards over them.
        "api.globex.dev.example.com",
        "dev.example.com",
        "example.com",
        "*.example.com",
        "*.dev.example.com",
        // A name that ends like the tenant's domain without being under it.
        "evilacme.dev.example.com",
        // The shared pattern with another tenant's name.
        "api-globex.dev.example.com",
        "api-acme.evil.example.org",
        // Not a host name at all.
        "API.acme.dev.example.com",
        "api.acme.dev.example.com.",
    ] {
        acme_with_domain(&format!("ingress:\n  host: \"{host}\"\n"))
            .run(&["render"])
            .fails(&[
                "tenant-hosts tenants/acme/api/values.yaml:2",
                "tenancy.hosts",
            ]);
    }
    for host in [
        "acme.dev.example.com",
        "api.acme.dev.example.com",
        "*.acme.dev.example.com",
        "api-acme.dev.example.com",
    ] {
        acme_with_domain(&format!("ingress:\n  host: \"{host}\"\n"))
            .run(&["render"])
            .ok();
    }
    // Without a domain of its own, a tenant has the shared pattern only.
    with_values("ingress:\n  host: api-acme.dev.example.com\n")
        .run(&["render"])
        .ok();
    with_values("ingress:\n  host: api.dev.example.com\n")
        .run(&["render"])
        .fails(&["tenant-hosts"]);
}

#[test]
fn extra_objects_and_patches_claim_no_foreign_host() {
    let ingress = |rules: &str| {
        format!(
            "ingress: {{ host: api.acme.dev.example.com }}\nextraObjects:\n  - apiVersion: networking.k8s.io/v1\n    kind: Ingress\n    metadata: {{ name: more }}\n    spec:\n{rules}"
        )
    };
    for spec in [
        "      rules: [{ host: api.globex.dev.example.com }]\n",
        "      tls: [{ hosts: [www.acme.dev.example.com, api.globex.dev.example.com], secretName: x }]\n",
        // No host: every host of the load balancer.
        "      rules: [{ http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: api, port: { name: http } } } }] } }]\n",
        "      defaultBackend: { service: { name: api, port: { name: http } } }\n",
    ] {
        acme_with_domain(&ingress(spec))
            .run(&["render"])
            .fails(&["tenant-hosts tenants/acme/api/values.yaml:3"]);
    }
    acme_with_domain(&ingress(
        "      rules: [{ host: www.acme.dev.example.com }]\n      tls: [{ hosts: [www.acme.dev.example.com], secretName: x }]\n",
    ))
    .run(&["render"])
    .ok();
    // Gateway API routes.
    acme_with_domain(
        "extraObjects:\n  - apiVersion: gateway.networking.k8s.io/v1\n    kind: HTTPRoute\n    metadata: { name: r }\n    spec:\n      hostnames: [api.acme.dev.example.com, login.globex.dev.example.com]\n",
    )
    .run(&["render"])
    .fails(&["tenant-hosts", "login.globex.dev.example.com"]);
    acme_with_domain(
        "extraObjects:\n  - apiVersion: gateway.networking.k8s.io/v1\n    kind: HTTPRoute\n    metadata: { name: r }\n    spec:\n      parentRefs: [{ name: public, namespace: gateway-system }]\n",
    )
    .run(&["render"])
    .fails(&["tenant-hosts", "no hostnames"]);
    // A target group of the shared ALB, whatever the host.
    acme_with_domain(
        "extraObjects:\n  - apiVersion: elbv2.k8s.aws/v1beta1\n    kind: TargetGroupBinding\n    metadata: { name: tgb }\n    spec:\n      serviceRef: { name: api, port: 8000 }\n      targetGroupARN: arn:aws:elasticloadbalancing:us-east-1:012345678901:targetgroup/globex-api/0123456789abcdef\n",
    )
    .run(&["render"])
    .fails(&["tenant-hosts tenants/acme/api/values.yaml:2", "TargetGroupBinding"]);
    // A patch of stencil's own Ingress.
    for patch in [
        "    type: json\n    patch: [{ op: replace, path: /spec/rules/0/host, value: api.globex.dev.example.com }]\n",
        "    type: merge\n    patch: { metadata: { annotations: { external-dns.alpha.kubernetes.io/hostname: api.globex.dev.example.com } } }\n",
    ] {
        acme_with_domain(&format!(
            "ingress: {{ host: api.acme.dev.example.com }}\npatches:\n  - target: {{ kind: Ingress }}\n{patch}"
        ))
        .run(&["render"])
        .fails(&["tenant-hosts tenants/acme/api/values.yaml:3"]);
    }
}

#[test]
fn tenant_domains_do_not_overlap() {
    let tenant = |domain: &str| {
        format!("kind: Tenant\nenvironment: dev\ndomain: {domain}\nservices: [api]\n")
    };
    // The platform's own domains would make every shared host the tenant's.
    for domain in ["example.com", "dev.example.com", "com"] {
        repo()
            .file("tenants/acme/tenant.yaml", tenant(domain))
            .run(&["render"])
            .fails(&["tenant-hosts tenants/acme/tenant.yaml:3", domain]);
    }
    // Another tenant's domain, or one under it.
    for domain in ["globex.dev.example.com", "eu.globex.dev.example.com"] {
        repo()
            .file(
                "tenants/globex/tenant.yaml",
                tenant("globex.dev.example.com"),
            )
            .file("tenants/acme/tenant.yaml", tenant(domain))
            .run(&["render"])
            .fails(&["tenant-hosts", "tenants/acme/tenant.yaml:3", "globex"]);
    }
    repo()
        .file(
            "tenants/globex/tenant.yaml",
            tenant("globex.dev.example.com"),
        )
        .file("tenants/acme/tenant.yaml", tenant("acme.dev.example.com"))
        .run(&["render"])
        .ok();
}

#[test]
fn two_tenants_never_claim_one_host() {
    // `api-a-b` is `api` of tenant `a-b` and `api-a` of tenant `b`, by the shared pattern.
    let repo = repo()
        .file("tenants/a-b/tenant.yaml", common::TENANT_YAML)
        .file("tenants/b/tenant.yaml", common::TENANT_YAML)
        .file(
            "tenants/a-b/api/values.yaml",
            "ingress: { host: api-a-b.dev.example.com }\n",
        )
        .file(
            "tenants/b/api/values.yaml",
            "ingress: { host: api-a-b.dev.example.com }\n",
        );
    // The host is `a-b`'s: `b`'s pattern matches it only because `b` ends `a-b`'s name, so
    // `b` is refused on its own, even rendered alone (see tests/atk2.rs).
    repo.run(&["render"]).fails(&[
        "tenant-hosts tenants/b/api/values.yaml:1",
        "`api-a-b.dev.example.com` is tenant `a-b`'s",
    ]);
    repo.run(&["render", "-t", "b"])
        .fails(&["tenant-hosts tenants/b/api/values.yaml:1"]);
    // `validate` says so too.
    let run = repo.run(&["validate"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("is tenant `a-b`'s"), "{}", run.stderr);
    // Only an exception with a reason lets them (`stencil migrate` writes one, since Helm
    // values often give every tenant the same host).
    let exception = "policy:\n  exceptions:\n    - rule: tenant-hosts\n      tenants: [a-b, b]\n      reason: one shared host until PLAT-7\n";
    let repo = repo.file("stencil.yaml", format!("{STENCIL_YAML}{exception}"));
    repo.run(&["render"]).ok();
    let run = repo.run(&["validate"]).ok();
    let said = format!("{}{}", run.stdout, run.stderr);
    assert!(said.contains("relaxed: tenant-hosts"), "{said}");
}

#[test]
fn the_example_claims_only_its_tenants_hosts() {
    Repo::example().run(&["validate"]).ok();
    Repo::example()
        .file(
            "tenants/slurm/apiserver/values.yaml",
            "ingress:\n  host: api.momcorp.ramparts.example.com\n",
        )
        .run(&["render"])
        .fails(&["tenant-hosts tenants/slurm/apiserver/values.yaml:2"]);
    // A new tenant taking momcorp's domain.
    Repo::example()
        .file(
            "tenants/evil/tenant.yaml",
            "kind: Tenant\nenvironment: prod\ndomain: momcorp.ramparts.example.com\nservices: [frontend]\n",
        )
        .run(&["render"])
        .fails(&["tenant-hosts tenants/evil/tenant.yaml:3", "momcorp"]);
}

// ---------------------------------------------------------------------------------------
// 4. ALB group annotations

#[test]
fn alb_group_annotations_belong_to_the_platform() {
    for values in [
        "ingress:\n  host: api-acme.dev.example.com\n  annotations:\n    alb.ingress.kubernetes.io/group.order: \"-1000\"\n",
        "ingress:\n  host: api-acme.dev.example.com\n  annotations:\n    alb.ingress.kubernetes.io/group.name: ramparts-prod\n",
        "ingress:\n  host: api-acme.dev.example.com\n  annotations:\n    alb.ingress.kubernetes.io/conditions.api: '[{\"field\":\"host-header\",\"hostHeaderConfig\":{\"values\":[\"api.globex.dev.example.com\"]}}]'\n",
        "ingress:\n  host: api-acme.dev.example.com\n  groupName: ramparts-prod\n",
    ] {
        with_values(values).run(&["render"]).fails(&[
            "platform-annotations tenants/acme/api/values.yaml:",
            "alb.ingress.kubernetes.io/",
        ]);
    }
    // By patch, json or merge, and on an extra Ingress.
    for patch in [
        "    type: merge\n    patch: { metadata: { annotations: { alb.ingress.kubernetes.io/group.order: '-1000' } } }\n",
        "    type: json\n    patch: [{ op: add, path: /metadata/annotations/alb.ingress.kubernetes.io~1group.order, value: '-1000' }]\n",
    ] {
        with_values(&format!(
            "ingress: {{ host: api-acme.dev.example.com }}\npatches:\n  - target: {{ kind: Ingress }}\n{patch}"
        ))
        .run(&["render"])
        .fails(&["platform-annotations tenants/acme/api/values.yaml:3", "group.order"]);
    }
    with_values(
        "extraObjects:\n  - apiVersion: networking.k8s.io/v1\n    kind: Ingress\n    metadata:\n      name: more\n      annotations: { alb.ingress.kubernetes.io/group.name: ramparts-prod, alb.ingress.kubernetes.io/group.order: '1' }\n    spec:\n      rules: [{ host: www-acme.dev.example.com }]\n",
    )
    .run(&["render"])
    .fails(&["platform-annotations tenants/acme/api/values.yaml:2", "group.name"]);
}

#[test]
fn the_platform_sets_the_alb_group_in_base() {
    // The example's prod profile (base/apiserver/prod.yaml) sets the group: fine.
    let run = Repo::example()
        .run(&["render", "--tenant", "momcorp", "--service", "apiserver"])
        .ok();
    let ingress = run.object("Ingress", "apiserver");
    assert_eq!(
        ingress["metadata"]["annotations"]["alb.ingress.kubernetes.io/group.name"],
        "ramparts-prod"
    );
    // The platform may set group.order in base/ too.
    repo()
        .file(
            "base/api/service.yaml",
            format!(
                "{}ingress:\n  host: \"api-{{{{ tenant.name }}}}.dev.example.com\"\n  groupName: shared\n  annotations: {{ alb.ingress.kubernetes.io/group.order: '10' }}\n",
                common::SERVICE_YAML
            ),
        )
        .run(&["render"])
        .ok();
    // So may an extra object of base/.
    repo()
        .file(
            "base/api/service.yaml",
            format!(
                "{}extraObjects:\n  - apiVersion: networking.k8s.io/v1\n    kind: Ingress\n    metadata:\n      name: www\n      annotations: {{ alb.ingress.kubernetes.io/group.name: shared }}\n    spec:\n      rules: [{{ host: \"www-{{{{ tenant.name }}}}.dev.example.com\" }}]\n",
                common::SERVICE_YAML
            ),
        )
        .run(&["render"])
        .ok();
    // The platform can list more annotations it owns.
    with_settings("tenancy:\n  platformAnnotations: [\"alb.ingress.kubernetes.io/wafv2-*\"]\n")
        .file(
            "tenants/acme/api/values.yaml",
            "ingress:\n  host: api-acme.dev.example.com\n  annotations: { alb.ingress.kubernetes.io/wafv2-acl-arn: none }\n",
        )
        .run(&["render"])
        .fails(&["platform-annotations", "wafv2-acl-arn"]);
}

// ---------------------------------------------------------------------------------------
// 5. IAM roles

#[test]
fn iam_roles_are_the_tenants_own_in_the_platform_account() {
    for arn in [
        // A foreign account.
        "arn:aws:iam::999999999999:role/slurm-apiserver",
        // Another tenant's role.
        "arn:aws:iam::012345678901:role/momcorp-apiserver",
        // A string prefix is not the tenant's role.
        "arn:aws:iam::012345678901:role/slurmy-apiserver",
        // A path that starts like the tenant's roles.
        "arn:aws:iam::012345678901:role/slurm-x/momcorp-apiserver",
        "arn:aws:iam::012345678901:role/admin",
    ] {
        Repo::example()
            .file(
                "tenants/slurm/apiserver/values.yaml",
                format!("serviceAccount:\n  iamRoleArn: \"{arn}\"\n"),
            )
            .run(&["render"])
            .fails(&[
                "iam-role-arn tenants/slurm/apiserver/values.yaml:2",
                "tenancy.iamRoleArns",
            ]);
    }
    // The same through the annotation.
    Repo::example()
        .file(
            "tenants/slurm/apiserver/values.yaml",
            "serviceAccount:\n  annotations:\n    eks.amazonaws.com/role-arn: arn:aws:iam::999999999999:role/slurm-apiserver\n",
        )
        .run(&["render"])
        .fails(&["iam-role-arn tenants/slurm/apiserver/values.yaml:3"]);
    // The example's own roles are fine.
    Repo::example()
        .file(
            "tenants/slurm/apiserver/values.yaml",
            "serviceAccount:\n  iamRoleArn: arn:aws:iam::012345678901:role/slurm-reports\n",
        )
        .run(&["render"])
        .ok();
}

#[test]
fn iam_roles_through_patches_and_extra_objects() {
    for values in [
        "patches:\n  - target: { kind: ServiceAccount }\n    type: merge\n    patch: { metadata: { annotations: { eks.amazonaws.com/role-arn: 'arn:aws:iam::999999999999:role/slurm-x' } } }\n",
        "patches:\n  - target: { kind: ServiceAccount }\n    type: json\n    patch: [{ op: add, path: /metadata/annotations, value: { eks.amazonaws.com/role-arn: 'arn:aws:iam::012345678901:role/momcorp-apiserver' } }]\n",
        "extraObjects:\n  - apiVersion: v1\n    kind: ServiceAccount\n    metadata:\n      name: reports\n      annotations: { eks.amazonaws.com/role-arn: 'arn:aws:iam::999999999999:role/slurm-reports' }\n",
        // kube2iam / kiam read a pod annotation.
        "patches:\n  - target: { kind: Deployment }\n    type: merge\n    patch: { spec: { template: { metadata: { annotations: { iam.amazonaws.com/role: 'arn:aws:iam::012345678901:role/momcorp-apiserver' } } } } }\n",
    ] {
        Repo::example()
            .file("tenants/slurm/apiserver/values.yaml", values)
            .run(&["render"])
            .fails(&["iam-role-arn tenants/slurm/apiserver/values.yaml:"]);
    }
}

#[test]
fn iam_role_patterns_are_a_platform_setting() {
    // No ECR registry, no pattern: no role is accepted (fail closed).
    with_values("serviceAccount: { iamRoleArn: 'arn:aws:iam::111111111111:role/acme-api' }\n")
        .run(&["render"])
        .fails(&["iam-role-arn", "tenancy.iamRoleArns"]);
    let settings =
        "tenancy:\n  iamRoleArns: [\"arn:aws:iam::111111111111:role/tenants/{tenant.name}-*\"]\n";
    with_settings(settings)
        .file(
            "tenants/acme/api/values.yaml",
            "serviceAccount: { iamRoleArn: 'arn:aws:iam::111111111111:role/tenants/acme-api' }\n",
        )
        .run(&["render"])
        .ok();
    with_settings(settings)
        .file(
            "tenants/acme/api/values.yaml",
            "serviceAccount: { iamRoleArn: 'arn:aws:iam::111111111111:role/acme-api' }\n",
        )
        .run(&["render"])
        .fails(&["iam-role-arn"]);
}

// ---------------------------------------------------------------------------------------
// 6. argocd generate

#[test]
fn generate_refuses_another_destination_namespace() {
    let repo = repo();
    for ns in ["argocd", "kube-system", "globex", "acme-evil"] {
        repo.generate_env("acme", "api", &[("ARGOCD_APP_NAMESPACE", Some(ns))])
            .fails(&[
                &format!("destination namespace is `{ns}`"),
                "`acme`",
                "tenants/acme/tenant.yaml",
            ]);
    }
    repo.generate("acme", "api").ok();
    // The example's momcorp renders into tenant-momcorp.
    let example = Repo::example();
    example
        .generate_env(
            "momcorp",
            "apiserver",
            &[("ARGOCD_APP_NAMESPACE", Some("momcorp"))],
        )
        .fails(&["`tenant-momcorp`"]);
    example
        .generate_env(
            "momcorp",
            "apiserver",
            &[("ARGOCD_APP_NAMESPACE", Some("tenant-momcorp"))],
        )
        .ok();
}

#[test]
fn generate_of_the_applications_renders_only_into_argocds_namespace() {
    let repo = Repo::example();
    let root_app = |ns: &str| {
        repo.generate_env(
            "momcorp",
            "apiserver",
            &[
                ("ARGOCD_ENV_TENANT", None),
                ("ARGOCD_ENV_SERVICE", None),
                ("ARGOCD_ENV_APPS", Some("applications")),
                ("ARGOCD_APP_NAMESPACE", Some(ns)),
            ],
        )
    };
    root_app("tenant-momcorp").fails(&["destination namespace is `tenant-momcorp`", "`argocd`"]);
    let run = root_app("argocd").ok();
    assert!(run.stdout.contains("kind: Application"));
}

// ---------------------------------------------------------------------------------------
// The settings themselves

#[test]
fn tenancy_settings_are_checked_and_exceptions_are_named() {
    for (settings, needle) in [
        (
            "tenancy:\n  hosts: [\"*.example.com\"]\n",
            "tenancy.hosts `*.example.com` does not name the tenant",
        ),
        (
            "tenancy:\n  iamRoleArns: [\"arn:aws:iam::1:role/*\"]\n",
            "tenancy.iamRoleArns",
        ),
        (
            "tenancy:\n  ssmPrefix: \"/{tenant.nme}/\"\n",
            "unknown placeholder `{tenant.nme}`",
        ),
        (
            "tenancy:\n  ssmPrefix: \"/x/../{tenant.name}/\"\n",
            "`..` segment",
        ),
        (
            "policy:\n  exceptions:\n    - rule: reserved-namespace\n      reason: monitoring team\n",
            "reserved-namespace cannot be relaxed",
        ),
    ] {
        with_settings(settings)
            .run(&["render"])
            .fails(&["stencil.yaml:", needle]);
    }
    // An exception with a reason relaxes a rule for the tenants it names.
    let exception = "policy:\n  exceptions:\n    - rule: iam-role-arn\n      tenants: [acme]\n      reason: shared reporting role until PLAT-42\n";
    with_settings(exception)
        .file(
            "tenants/acme/api/values.yaml",
            "serviceAccount: { iamRoleArn: 'arn:aws:iam::111111111111:role/reporting' }\n",
        )
        .run(&["render"])
        .ok();
}

#[test]
fn the_platforms_own_hosts_are_reserved() {
    // The clusters' API servers (environments.*.cluster in the example's stencil.yaml).
    for domain in ["eks.ramparts.example.com", "dev.eks.ramparts.example.com"] {
        Repo::example()
            .file(
                "tenants/evil/tenant.yaml",
                format!("kind: Tenant\nenvironment: dev\ndomain: {domain}\nservices: [frontend]\n"),
            )
            .run(&["render"])
            .fails(&[
                "tenant-hosts tenants/evil/tenant.yaml:3",
                "environments.*.cluster",
            ]);
    }
    // Hosts the platform lists, and wildcards over them.
    let settings = "tenancy:\n  reservedHosts: [login-acme.dev.example.com, grafana.dev.example.com, sso.acme.dev.example.com]\n";
    for host in ["login-acme.dev.example.com", "\"*.acme.dev.example.com\""] {
        with_settings(settings)
            .file(
                "tenants/acme/tenant.yaml",
                "kind: Tenant\nenvironment: dev\ndomain: acme.dev.example.com\nservices: [api]\n",
            )
            .file(
                "tenants/acme/api/values.yaml",
                format!("ingress: {{ host: {host} }}\n"),
            )
            .run(&["render"])
            .fails(&["tenant-hosts", "tenancy.reservedHosts"]);
    }
    with_settings(settings)
        .file(
            "tenants/acme/tenant.yaml",
            "kind: Tenant\nenvironment: dev\ndomain: grafana.dev.example.com\nservices: [api]\n",
        )
        .run(&["render"])
        .fails(&[
            "tenant-hosts tenants/acme/tenant.yaml:3",
            "tenancy.reservedHosts",
        ]);
    with_settings(settings)
        .file(
            "tenants/acme/api/values.yaml",
            "ingress: { host: api-acme.dev.example.com }\n",
        )
        .run(&["render"])
        .ok();
}
