//! Examiner's attacks on the tenant boundary (issue 17): cross-tenant data and shared
//! infrastructure, across the classes.

use crate::common;

use crate::common::Repo;

/// The example repository with tenants `planet` and `express` added next to
/// `planet-express` (prod): each name is part of another tenant's name.
fn overlapping_names() -> Repo {
    let tenant = |name: &str| {
        format!(
            "kind: Tenant\nenvironment: prod\ndomain: {name}.ramparts.example.com\nservices: [apiserver]\n"
        )
    };
    Repo::example()
        .file("tenants/planet/tenant.yaml", tenant("planet"))
        .file("tenants/express/tenant.yaml", tenant("express"))
}

/// `{tenant.name}-*` and `*-{tenant.name}` patterns: with tenants `planet` and
/// `planet-express`, `planet-*` matches every role of `planet-express`; with `express`,
/// `*-express.<domain>` matches every host of `planet-express`. The longer name owns them.
#[test]
fn a_tenant_whose_name_is_part_of_anothers_claims_none_of_its_roles() {
    let role =
        "serviceAccount:\n  iamRoleArn: arn:aws:iam::012345678901:role/planet-express-apiserver\n";
    let repo = overlapping_names().file("tenants/planet/apiserver/values.yaml", role);
    repo.run(&["render"]).fails(&[
        "iam-role-arn tenants/planet/apiserver/values.yaml:2",
        "is tenant `planet-express`'s",
    ]);
    // Argo CD renders one tenant: the others are still known by their folders.
    repo.generate_env(
        "planet",
        "apiserver",
        &[("ARGOCD_APP_NAMESPACE", Some("planet"))],
    )
    .fails(&["iam-role-arn", "is tenant `planet-express`'s"]);
    // Through an annotation on an extra ServiceAccount too.
    overlapping_names()
        .file(
            "tenants/planet/apiserver/values.yaml",
            "extraObjects:\n  - apiVersion: v1\n    kind: ServiceAccount\n    metadata:\n      name: reports\n      annotations: { eks.amazonaws.com/role-arn: 'arn:aws:iam::012345678901:role/planet-express-apiserver' }\n",
        )
        .run(&["render", "-t", "planet"])
        .fails(&["iam-role-arn", "is tenant `planet-express`'s"]);
    // Each keeps its own roles.
    let own = |t: &str| {
        format!("serviceAccount:\n  iamRoleArn: arn:aws:iam::012345678901:role/{t}-reports\n")
    };
    overlapping_names()
        .file("tenants/planet/apiserver/values.yaml", own("planet"))
        .file(
            "tenants/planet-express/apiserver/values.yaml",
            format!(
                "extends: base/apiserver/prod.yaml\n{}",
                own("planet-express")
            ),
        )
        .run(&["render", "-t", "planet", "-t", "planet-express"])
        .ok();
}

#[test]
fn a_tenant_whose_name_ends_anothers_claims_none_of_its_hosts() {
    let host = "ingress:\n  host: apiserver-planet-express.ramparts.example.com\n";
    let repo = overlapping_names().file("tenants/express/apiserver/values.yaml", host);
    repo.run(&["render"]).fails(&[
        "tenant-hosts tenants/express/apiserver/values.yaml:2",
        "is tenant `planet-express`'s",
    ]);
    repo.generate_env(
        "express",
        "apiserver",
        &[("ARGOCD_APP_NAMESPACE", Some("express"))],
    )
    .fails(&["tenant-hosts", "is tenant `planet-express`'s"]);
    // Through an HTTPRoute's hostnames as well.
    overlapping_names()
        .file(
            "stencil.yaml",
            Repo::example()
                .read("stencil.yaml")
                .replace(
                    "    - { apiVersion: monitoring.coreos.com/v1, kind: ServiceMonitor }\n",
                    "    - { apiVersion: monitoring.coreos.com/v1, kind: ServiceMonitor }\n    - { apiVersion: gateway.networking.k8s.io/v1, kind: HTTPRoute }\n",
                ),
        )
        .file(
            "tenants/express/apiserver/values.yaml",
            "extraObjects:\n  - apiVersion: gateway.networking.k8s.io/v1\n    kind: HTTPRoute\n    metadata: { name: steal }\n    spec:\n      hostnames: [web-planet-express.ramparts.example.com]\n",
        )
        .run(&["render", "-t", "express"])
        .fails(&["tenant-hosts", "is tenant `planet-express`'s"]);
    // Its own hosts stay its own.
    overlapping_names()
        .file(
            "tenants/express/apiserver/values.yaml",
            "ingress:\n  host: apiserver-express.ramparts.example.com\n",
        )
        .run(&["render", "-t", "express"])
        .ok();
}

/// Two tenants whose names do not hold each other can still meet in one host through the
/// platform's patterns (`a-*` and `*-b` both match `a-b`): the repository-wide render
/// refuses the host both claim.
#[test]
fn two_tenants_meeting_in_one_host_through_the_patterns_are_refused() {
    let settings = format!(
        "{}tenancy:\n  hosts: [\"{{tenant.name}}-*.example.com\", \"*-{{tenant.name}}.example.com\"]\n",
        common::STENCIL_YAML
    );
    let repo = Repo::empty()
        .file("stencil.yaml", settings)
        .file("base/api/service.yaml", common::SERVICE_YAML)
        .file("base/api/version.yaml", common::VERSION_YAML)
        .file("tenants/a/tenant.yaml", common::TENANT_YAML)
        .file("tenants/b/tenant.yaml", common::TENANT_YAML)
        .file(
            "tenants/a/api/values.yaml",
            "ingress: { host: a-b.example.com }\n",
        )
        .file(
            "tenants/b/api/values.yaml",
            "ingress: { host: a-b.example.com }\n",
        );
    repo.run(&["render"]).fails(&[
        "tenant-hosts",
        "`a-b.example.com` is claimed by tenants a, b",
    ]);
    repo.run(&["render", "-t", "a"]).ok();
}

/// An Ingress of the example's slurm (dev) with `spec` as given, as an extra object.
fn extra_ingress(metadata: &str, class: &str) -> String {
    format!(
        "extraObjects:\n  - apiVersion: networking.k8s.io/v1\n    kind: Ingress\n    metadata: {{ name: x{metadata} }}\n    spec:\n{class}      rules: [{{ host: a-slurm.dev.ramparts.example.com, http: {{ paths: [{{ path: /, pathType: Prefix, backend: {{ service: {{ name: apiserver, port: {{ number: 80 }} }} }} }}] }} }}]\n"
    )
}

/// The IngressClass (through its IngressClassParams) picks the load balancer and overrides
/// `group.name`: another class is another way into the platform's ALB groups.
#[test]
fn the_ingress_class_is_the_platforms_like_the_alb_group() {
    let slurm = |values: &str| {
        Repo::example()
            .file("tenants/slurm/apiserver/values.yaml", values)
            .run(&["render", "-t", "slurm"])
    };
    for values in [
        "ingress:\n  className: internal-admin\n".to_owned(),
        "patches:\n  - target: { kind: Ingress }\n    type: merge\n    patch: { spec: { ingressClassName: internal-admin } }\n".to_owned(),
        "patches:\n  - target: { kind: Ingress }\n    type: merge\n    patch: { metadata: { annotations: { kubernetes.io/ingress.class: internal-admin } } }\n".to_owned(),
        extra_ingress("", "      ingressClassName: internal-admin\n"),
        extra_ingress(", annotations: { kubernetes.io/ingress.class: internal-admin }", ""),
    ] {
        slurm(&values).fails(&[
            "platform-annotations tenants/slurm/apiserver/values.yaml:",
            "IngressClass",
        ]);
    }
    // The service's own class, or none (the cluster's default), is fine.
    slurm("ingress:\n  className: alb\n").ok();
    slurm(&extra_ingress("", "      ingressClassName: alb\n")).ok();
    slurm(&extra_ingress("", "")).ok();
    // base/ chooses it; the tenant's Ingresses follow.
    let base = Repo::example()
        .read("base/apiserver/service.yaml")
        .replacen("\ningress:\n", "\ningress:\n  className: alb-internal\n", 1);
    let run = Repo::example()
        .file("base/apiserver/service.yaml", base)
        .file(
            "tenants/slurm/apiserver/values.yaml",
            extra_ingress("", "      ingressClassName: alb-internal\n"),
        )
        .run(&["render", "-t", "slurm"])
        .ok();
    assert_eq!(
        run.object("Ingress", "apiserver")["spec"]["ingressClassName"],
        "alb-internal"
    );
}

/// The example with these custom resources declared by the platform.
fn example_declaring(resources: &[(&str, &str)]) -> Repo {
    let mut declared = String::new();
    for (api_version, kind) in resources {
        declared.push_str(&format!(
            "    - {{ apiVersion: {api_version}, kind: {kind} }}\n"
        ));
    }
    let example = Repo::example();
    let settings = example.read("stencil.yaml").replace(
        "    - { apiVersion: monitoring.coreos.com/v1, kind: ServiceMonitor }\n",
        &format!(
            "    - {{ apiVersion: monitoring.coreos.com/v1, kind: ServiceMonitor }}\n{declared}"
        ),
    );
    example.file("stencil.yaml", settings)
}

/// external-dns publishes a DNSEndpoint's names just as its hostname annotations: a tenant's
/// DNSEndpoint names only the tenant's hosts.
#[test]
fn dns_endpoints_publish_only_the_tenants_hosts() {
    let endpoint = |name: &str| {
        format!(
            "extraObjects:\n  - apiVersion: externaldns.k8s.io/v1alpha1\n    kind: DNSEndpoint\n    metadata: {{ name: dns }}\n    spec:\n      endpoints:\n        - {{ {name}recordType: CNAME, targets: [evil.example.net] }}\n"
        )
    };
    let repo = |values: String| {
        example_declaring(&[("externaldns.k8s.io/v1alpha1", "DNSEndpoint")])
            .file("tenants/slurm/apiserver/values.yaml", values)
    };
    for name in [
        "dnsName: api.planetexpress.ramparts.example.com, ",
        "dnsName: argocd.ramparts.example.com, ",
        "",
    ] {
        repo(endpoint(name))
            .run(&["render", "-t", "slurm"])
            .fails(&[
                "tenant-hosts tenants/slurm/apiserver/values.yaml:2",
                "DNSEndpoint",
            ]);
    }
    repo(endpoint("dnsName: api-slurm.dev.ramparts.example.com, "))
        .run(&["render", "-t", "slurm"])
        .ok();
}

/// Two tenants serving one host through a Gateway listener each are refused like two
/// Ingresses.
#[test]
fn gateway_listeners_count_as_claimed_hosts() {
    let settings = format!(
        "{}extraObjects:\n  customResources:\n    - {{ apiVersion: gateway.networking.k8s.io/v1, kind: Gateway }}\ntenancy:\n  hosts: [\"{{tenant.name}}-*.example.com\", \"*-{{tenant.name}}.example.com\"]\n",
        common::STENCIL_YAML
    );
    let gateway = "extraObjects:\n  - apiVersion: gateway.networking.k8s.io/v1\n    kind: Gateway\n    metadata: { name: gw }\n    spec:\n      gatewayClassName: alb\n      listeners: [{ name: web, hostname: a-b.example.com, port: 443, protocol: HTTPS }]\n";
    let repo = Repo::empty()
        .file("stencil.yaml", settings)
        .file("base/api/service.yaml", common::SERVICE_YAML)
        .file("base/api/version.yaml", common::VERSION_YAML)
        .file("tenants/a/tenant.yaml", common::TENANT_YAML)
        .file("tenants/b/tenant.yaml", common::TENANT_YAML)
        .file("tenants/a/api/values.yaml", gateway)
        .file("tenants/b/api/values.yaml", gateway);
    repo.run(&["render"]).fails(&[
        "tenant-hosts",
        "`a-b.example.com` is claimed by tenants a, b",
    ]);
    repo.run(&["render", "-t", "b"]).ok();
}

/// Load-balancer-wide ALB annotations act on the whole shared ALB of the group: access
/// logs of every tenant's requests into the tenant's own S3 bucket, the ALB's security
/// groups, subnets or WAF. They are the platform's, like group.name.
#[test]
fn load_balancer_wide_alb_annotations_are_the_platforms() {
    let slurm = |values: &str| {
        Repo::example()
            .file("tenants/slurm/apiserver/values.yaml", values)
            .run(&["render", "-t", "slurm"])
    };
    let logs = "alb.ingress.kubernetes.io/load-balancer-attributes: 'access_logs.s3.enabled=true,access_logs.s3.bucket=slurm-logs'";
    for values in [
        format!("ingress:\n  annotations: {{ {logs} }}\n"),
        format!("patches:\n  - target: {{ kind: Ingress }}\n    type: merge\n    patch: {{ metadata: {{ annotations: {{ {logs} }} }} }}\n"),
        extra_ingress(&format!(", annotations: {{ {logs} }}"), ""),
        "ingress:\n  annotations: { alb.ingress.kubernetes.io/security-groups: sg-0123456789abcdef0 }\n".to_owned(),
        "ingress:\n  annotations: { alb.ingress.kubernetes.io/inbound-cidrs: 10.0.0.0/8 }\n".to_owned(),
        "ingress:\n  annotations: { alb.ingress.kubernetes.io/listener-attributes.HTTPS-443: routing.http.response.server.enabled=false }\n".to_owned(),
    ] {
        slurm(&values).fails(&[
            "platform-annotations tenants/slurm/apiserver/values.yaml:",
            "alb.ingress.kubernetes.io/",
        ]);
    }
    // base/ may set them.
    let base = Repo::example()
        .read("base/apiserver/service.yaml")
        .replacen(
            "\ningress:\n",
            &format!(
                "\ningress:\n  annotations: {{ {} }}\n",
                logs.replace("slurm-logs", "platform-logs")
            ),
            1,
        );
    let run = Repo::example()
        .file("base/apiserver/service.yaml", base)
        .run(&["render", "-t", "slurm"])
        .ok();
    assert!(
        run.stdout.contains("bucket=platform-logs"),
        "{}",
        run.stdout
    );
}

/// The SSM prefix holds only for the platform's store: a tenant's ExternalSecret or
/// PushSecret naming another ClusterSecretStore (another backend, account or region), or
/// picking stores by label, is refused.
#[test]
fn external_secrets_name_only_the_platforms_store() {
    let settings = format!(
        "{}extraObjects:\n  customResources:\n    - {{ apiVersion: external-secrets.io/v1, kind: ExternalSecret }}\n    - {{ apiVersion: external-secrets.io/v1alpha1, kind: PushSecret }}\n",
        common::STENCIL_YAML
    );
    let key = "/plat/dev/tenants/acme/api/DATABASE_URL";
    let external = |store: &str, item: &str| {
        format!(
            "extraObjects:\n  - apiVersion: external-secrets.io/v1\n    kind: ExternalSecret\n    metadata: {{ name: db }}\n    spec:\n{store}      target: {{ name: db }}\n      data:\n        - secretKey: DB\n          remoteRef: {{ key: {key} }}\n{item}"
        )
    };
    let push = |refs: &str| {
        format!(
            "extraObjects:\n  - apiVersion: external-secrets.io/v1alpha1\n    kind: PushSecret\n    metadata: {{ name: push }}\n    spec:\n      secretStoreRefs: [{refs}]\n      selector: {{ secret: {{ name: api-env }} }}\n      data:\n        - match: {{ secretKey: X, remoteRef: {{ remoteKey: {key} }} }}\n"
        )
    };
    let platform =
        "      secretStoreRef: { name: aws-parameter-store, kind: ClusterSecretStore }\n";
    let run = |values: String| {
        Repo::new()
            .file("stencil.yaml", &settings)
            .file("tenants/acme/api/values.yaml", values)
            .run(&["render"])
    };
    for values in [
        external(
            "      secretStoreRef: { name: platform-secrets-manager, kind: ClusterSecretStore }\n",
            "",
        ),
        // ESO reads a missing kind as a SecretStore of the namespace.
        external("      secretStoreRef: { name: aws-parameter-store }\n", ""),
        external(
            platform,
            "          sourceRef: { storeRef: { name: prod-account-ssm, kind: ClusterSecretStore } }\n",
        ),
        push("{ name: platform-secrets-manager, kind: ClusterSecretStore }"),
        push("{ labelSelector: { matchLabels: { team: platform } }, kind: ClusterSecretStore }"),
    ] {
        run(values).fails(&[
            "ssm-prefix tenants/acme/api/values.yaml:2",
            "another store than the platform's ClusterSecretStore `aws-parameter-store`",
        ]);
    }
    run(external(platform, "")).ok();
    run(push(
        "{ name: aws-parameter-store, kind: ClusterSecretStore }",
    ))
    .ok();
}
