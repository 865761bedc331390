//! Issue 17, items 3 and 5: a tenant's `extraObjects` are allow-listed by kind (namespaced
//! built-in kinds plus the custom resources `stencil.yaml` declares), their identity is
//! checked against Kubernetes' grammar before any use, platform-owned kinds (CNI policies
//! included) stay the platform's, and tenant Roles cannot escalate.

use crate::common::{Repo, STENCIL_YAML};

const VALUES: &str = "tenants/acme/api/values.yaml";

/// A repository whose tenant `acme` adds `objects` (YAML list items, one per line) to `api`.
fn extra(objects: &[&str]) -> Repo {
    Repo::new().file(VALUES, values(objects))
}

fn values(objects: &[&str]) -> String {
    let mut text = String::from("extraObjects:\n");
    for o in objects {
        text.push_str("  - ");
        text.push_str(o);
        text.push('\n');
    }
    text
}

/// [`extra`] with `settings` added to `stencil.yaml`.
fn extra_with(settings: &str, objects: &[&str]) -> Repo {
    extra(objects).file("stencil.yaml", format!("{STENCIL_YAML}{settings}"))
}

const CUSTOM: &str = "\
extraObjects:
  customResources:
    - { apiVersion: external-secrets.io/v1, kind: ExternalSecret }
    - { apiVersion: monitoring.coreos.com/v1, kind: ServiceMonitor }
    - { apiVersion: cilium.io/v2, kind: CiliumNetworkPolicy }
    - { apiVersion: crd.projectcalico.org/v1, kind: NetworkPolicy }
";

#[test]
fn list_kinds_cannot_smuggle_objects() {
    let crb = "{ apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRoleBinding, metadata: { name: pwn }, roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin }, subjects: [{ kind: Group, apiGroup: rbac.authorization.k8s.io, name: 'system:authenticated' }] }";
    for object in [
        format!("{{ apiVersion: v1, kind: List, metadata: {{ name: l }}, items: [{crb}] }}"),
        format!("{{ apiVersion: v1, kind: List, items: [{crb}] }}"),
        format!(
            "{{ apiVersion: v1, kind: ConfigMapList, metadata: {{ name: l }}, items: [{crb}] }}"
        ),
        format!(
            "{{ apiVersion: rbac.authorization.k8s.io/v1, kind: RoleBindingList, metadata: {{ name: l }}, items: [{crb}] }}"
        ),
        // kubectl and Argo CD read any object with `items` as a list, whatever its kind.
        format!("{{ apiVersion: v1, kind: ConfigMap, metadata: {{ name: l }}, items: [{crb}] }}"),
        format!(
            "{{ apiVersion: external-secrets.io/v1, kind: ExternalSecret, metadata: {{ name: l }}, items: [{crb}] }}"
        ),
    ] {
        let run = extra_with(CUSTOM, &[&object])
            .run(&["render"])
            .fails(&["error: allowed-kinds tenants/acme/api/values.yaml:2 "]);
        assert!(
            run.stderr.contains("List") || run.stderr.contains("`items`"),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn cluster_scoped_kinds_are_refused() {
    for (api, kind) in [
        (
            "admissionregistration.k8s.io/v1",
            "ValidatingAdmissionPolicy",
        ),
        (
            "admissionregistration.k8s.io/v1",
            "ValidatingAdmissionPolicyBinding",
        ),
        (
            "admissionregistration.k8s.io/v1",
            "MutatingWebhookConfiguration",
        ),
        ("policy.networking.k8s.io/v1alpha1", "AdminNetworkPolicy"),
        (
            "policy.networking.k8s.io/v1alpha1",
            "BaselineAdminNetworkPolicy",
        ),
        ("cilium.io/v2", "CiliumClusterwideNetworkPolicy"),
        ("crd.projectcalico.org/v1", "GlobalNetworkPolicy"),
        ("projectcalico.org/v3", "GlobalNetworkPolicy"),
        ("node.k8s.io/v1", "RuntimeClass"),
        ("gateway.networking.k8s.io/v1", "GatewayClass"),
        ("storage.k8s.io/v1", "CSIDriver"),
        ("storage.k8s.io/v1", "StorageClass"),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
        ("rbac.authorization.k8s.io/v1", "ClusterRole"),
        ("v1", "Namespace"),
        ("v1", "Node"),
        ("v1", "PersistentVolume"),
        ("certificates.k8s.io/v1", "CertificateSigningRequest"),
        ("scheduling.k8s.io/v1", "PriorityClass"),
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
        ("apiregistration.k8s.io/v1", "APIService"),
        ("external-secrets.io/v1", "ClusterSecretStore"),
        ("cert-manager.io/v1", "ClusterIssuer"),
    ] {
        let object =
            format!("{{ apiVersion: {api}, kind: {kind}, metadata: {{ name: x }}, spec: {{}} }}");
        extra_with(CUSTOM, &[&object]).run(&["render"]).fails(&[
            "error: allowed-kinds tenants/acme/api/values.yaml:2 ",
            &format!("`{api} {kind}`"),
            "extraObjects.customResources",
        ]);
    }
    // Built-in kinds named in the wrong case are no kinds at all.
    for kind in [
        "clusterrolebinding",
        "CLUSTERROLEBINDING",
        "clusterRoleBinding",
    ] {
        let object = format!(
            "{{ apiVersion: rbac.authorization.k8s.io/v1, kind: {kind}, metadata: {{ name: x }}, roleRef: {{ apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin }} }}"
        );
        extra(&[&object]).run(&["render"]).fails(&[
            &format!("{kind}` is not a"),
            "tenants/acme/api/values.yaml:2:5",
        ]);
    }
    // Every one of them fails `validate` too, with nothing on stdout.
    let run = extra(&[
        "{ apiVersion: node.k8s.io/v1, kind: RuntimeClass, metadata: { name: x }, handler: runc }",
        "{ apiVersion: storage.k8s.io/v1, kind: CSIDriver, metadata: { name: x } }",
    ])
    .run(&["validate"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    assert!(run.stderr.contains("RuntimeClass") && run.stderr.contains("CSIDriver"));
}

#[test]
fn unknown_kinds_and_versions_are_refused_with_a_suggestion() {
    extra(&["{ apiVersion: example.com/v1, kind: Widget, metadata: { name: x }, spec: {} }"])
        .run(&["render"])
        .fails(&[
            "error: allowed-kinds tenants/acme/api/values.yaml:2 ",
            "`example.com/v1 Widget` is not a kind tenants may add",
            "extraObjects.customResources in stencil.yaml",
        ]);
    // The CRD kinds are not allowed unless declared.
    extra(&["{ apiVersion: external-secrets.io/v1, kind: ExternalSecret, metadata: { name: x }, spec: {} }"])
        .run(&["render"])
        .fails(&["`external-secrets.io/v1 ExternalSecret` is not a kind tenants may add"]);
    // Kind and version must match exactly.
    extra(&["{ apiVersion: apps/v1beta1, kind: Deployment, metadata: { name: x }, spec: {} }"])
        .run(&["render"])
        .fails(&[
            "`apps/v1beta1 Deployment`",
            "did you mean `apps/v1 Deployment`?",
        ]);
    extra_with(CUSTOM, &["{ apiVersion: external-secrets.io/v1beta1, kind: ExternalSecret, metadata: { name: x }, spec: {} }"])
        .run(&["render"])
        .fails(&["did you mean `external-secrets.io/v1 ExternalSecret`?"]);
    extra(&["{ apiVersion: v1, kind: ConfigMpa, metadata: { name: x } }"])
        .run(&["render"])
        .fails(&["did you mean `v1 ConfigMap`?"]);
    // A kind of one group under another group's apiVersion.
    extra(&[
        "{ apiVersion: networking.k8s.io/v1, kind: Deployment, metadata: { name: x }, spec: {} }",
    ])
    .run(&["render"])
    .fails(&["did you mean `apps/v1 Deployment`?"]);
    // Built-in namespaced kinds that are no objects of a tenant's.
    for (api, kind) in [
        ("v1", "Binding"),
        ("authorization.k8s.io/v1", "LocalSubjectAccessReview"),
        ("storage.k8s.io/v1", "CSIStorageCapacity"),
        ("policy/v1", "Eviction"),
    ] {
        let object = format!("{{ apiVersion: {api}, kind: {kind}, metadata: {{ name: x }} }}");
        extra(&[&object]).run(&["render"]).fails(&[&format!(
            "error: allowed-kinds tenants/acme/api/values.yaml:2 `{api} {kind}`"
        )]);
    }
}

#[test]
fn identity_fields_must_follow_the_kubernetes_grammar() {
    for (object, needle) in [
        (
            "{ apiVersion: v1, kind: configmap, metadata: { name: x } }",
            "kind `configmap` is not a Kubernetes kind",
        ),
        (
            "{ apiVersion: v1, kind: ../../x, metadata: { name: x } }",
            "kind `../../x` is not a Kubernetes kind",
        ),
        (
            "{ apiVersion: v1, kind: 'Config Map', metadata: { name: x } }",
            "is not a Kubernetes kind",
        ),
        (
            "{ apiVersion: v1, kind: '', metadata: { name: x } }",
            "is not a Kubernetes kind",
        ),
        (
            "{ apiVersion: v1, kind: 12, metadata: { name: x } }",
            "kind must be a string",
        ),
        (
            "{ apiVersion: v1, metadata: { name: x } }",
            "kind must be a string",
        ),
        (
            "{ apiVersion: '../../v1', kind: ConfigMap, metadata: { name: x } }",
            "apiVersion `../../v1` is not",
        ),
        (
            "{ apiVersion: 'Apps/v1', kind: Deployment, metadata: { name: x } }",
            "apiVersion `Apps/v1` is not",
        ),
        (
            "{ apiVersion: 'apps/1', kind: Deployment, metadata: { name: x } }",
            "apiVersion `apps/1` is not",
        ),
        (
            "{ apiVersion: 'apps/v1/x', kind: Deployment, metadata: { name: x } }",
            "apiVersion `apps/v1/x` is not",
        ),
        (
            "{ apiVersion: '/v1', kind: ConfigMap, metadata: { name: x } }",
            "apiVersion `/v1` is not",
        ),
        (
            "{ apiVersion: 'v0', kind: ConfigMap, metadata: { name: x } }",
            "apiVersion `v0` is not",
        ),
        (
            "{ apiVersion: 'v1alpha', kind: ConfigMap, metadata: { name: x } }",
            "apiVersion `v1alpha` is not",
        ),
        (
            "{ apiVersion: 1, kind: ConfigMap, metadata: { name: x } }",
            "apiVersion must be a string",
        ),
        (
            "{ apiVersion: v1, kind: ConfigMap, metadata: { name: ../x } }",
            "`../x` is not a valid object name",
        ),
        (
            "{ apiVersion: v1, kind: ConfigMap, metadata: { name: X } }",
            "`X` is not a valid object name",
        ),
        (
            "{ apiVersion: v1, kind: ConfigMap, metadata: { name: 'a/b' } }",
            "`a/b` is not a valid object name",
        ),
        (
            "{ apiVersion: v1, kind: ConfigMap, metadata: { generateName: x- } }",
            "metadata.generateName",
        ),
        (
            "{ apiVersion: v1, kind: ConfigMap, metadata: { name: x, generateName: x- } }",
            "metadata.generateName",
        ),
        (
            "{ apiVersion: v1, kind: ConfigMap, metadata: { name: x, namespace: ../acme } }",
            "namespace `../acme`",
        ),
        (
            "{ apiVersion: v1, kind: ConfigMap, metadata: { name: x, namespace: other } }",
            "it is in namespace `other`, but tenant `acme` owns only `acme`",
        ),
        (
            "{ apiVersion: v1, kind: ConfigMap, metadata: { name: x, namespace: 7 } }",
            "metadata.namespace must be a string",
        ),
        // A Service's name is a DNS-1035 label: no dots, a letter first.
        (
            "{ apiVersion: v1, kind: Service, metadata: { name: a.b }, spec: {} }",
            "`a.b` is not a valid Service name",
        ),
        (
            "{ apiVersion: v1, kind: Service, metadata: { name: 1a }, spec: {} }",
            "`1a` is not a valid Service name",
        ),
    ] {
        extra(&[object])
            .run(&["render"])
            .fails(&[needle, "tenants/acme/api/values.yaml:2:5"]);
    }
    // A lowercase kind gets its upper-case spelling suggested.
    extra(&["{ apiVersion: v1, kind: configmap, metadata: { name: x } }"])
        .run(&["render"])
        .fails(&["did you mean `ConfigMap`?"]);
}

#[test]
fn out_dir_file_names_cannot_escape() {
    for object in [
        "{ apiVersion: v1, kind: ../../../escaped, metadata: { name: x } }",
        "{ apiVersion: v1, kind: ConfigMap, metadata: { name: ../../../escaped } }",
        "{ apiVersion: v1, kind: ConfigMap, metadata: { name: '..' } }",
        "{ apiVersion: '../../../escaped', kind: ConfigMap, metadata: { name: x } }",
    ] {
        let repo = extra(&[object]).file("a/b/keep", "");
        let before = listing(repo.path());
        let out = repo.path().join("a/b/out");
        repo.run(&["render", "--out-dir", &out.to_string_lossy()])
            .fails(&["tenants/acme/api/values.yaml:2:5"]);
        assert!(!out.exists());
        assert_eq!(listing(repo.path()), before, "a file was written");
    }
}

/// Every path under `dir`, sorted.
fn listing(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir") {
            let path = entry.expect("entry").path();
            out.push(path.to_string_lossy().into_owned());
            if path.is_dir() {
                stack.push(path);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn declared_custom_resources_are_accepted() {
    let repo = extra_with(
        CUSTOM,
        &[
            "{ apiVersion: external-secrets.io/v1, kind: ExternalSecret, metadata: { name: db }, spec: { secretStoreRef: { name: aws-parameter-store, kind: ClusterSecretStore } } }",
            "{ apiVersion: monitoring.coreos.com/v1, kind: ServiceMonitor, metadata: { name: api }, spec: { endpoints: [{ port: http }] } }",
            "{ apiVersion: v1, kind: ConfigMap, metadata: { name: extra }, data: { a: b } }",
        ],
    );
    let run = repo.run(&["render"]).ok();
    assert_eq!(
        run.object("ExternalSecret", "db")["metadata"]["namespace"],
        "acme"
    );
    assert_eq!(
        run.object("ServiceMonitor", "api")["metadata"]["namespace"],
        "acme"
    );
    let out = repo.path().join("out");
    repo.run(&["render", "--out-dir", &out.to_string_lossy()])
        .ok();
    assert!(out.join("acme/api/externalsecret-db.yaml").is_file());
    assert!(out.join("acme/api/servicemonitor-api.yaml").is_file());
    // Several versions of one kind, when the platform lists them.
    let both = "extraObjects:\n  customResources:\n    - { apiVersion: external-secrets.io/v1, kind: ExternalSecret }\n    - { apiVersion: external-secrets.io/v1beta1, kind: ExternalSecret }\n";
    extra_with(both, &["{ apiVersion: external-secrets.io/v1beta1, kind: ExternalSecret, metadata: { name: db }, spec: {} }"])
        .run(&["render"])
        .ok();
    // The match is exact: case matters.
    extra_with(CUSTOM, &["{ apiVersion: external-secrets.io/v1, kind: Externalsecret, metadata: { name: db }, spec: {} }"])
        .run(&["render"])
        .fails(&["did you mean `external-secrets.io/v1 ExternalSecret`?"]);
}

#[test]
fn declarations_in_stencil_yaml_are_checked() {
    for (declaration, needle) in [
        (
            "{ apiVersion: v1, kind: Widget }",
            "custom resources have an API group",
        ),
        (
            "{ apiVersion: example.com/v1, kind: WidgetList }",
            "a List kind",
        ),
        ("{ apiVersion: example.com/v1, kind: List }", "a List kind"),
        (
            "{ apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRoleBinding }",
            "built-in",
        ),
        (
            "{ apiVersion: example.com/v1, kind: widget }",
            "is not a Kubernetes kind",
        ),
        (
            "{ apiVersion: 'example.com/v1/../x', kind: Widget }",
            "is not a valid apiVersion",
        ),
        (
            "{ apiVersion: example/v1, kind: Widget }",
            "a domain with at least one dot",
        ),
    ] {
        let settings = format!("extraObjects:\n  customResources:\n    - {declaration}\n");
        extra_with(&settings, &[])
            .run(&["render"])
            .fails(&[needle, "stencil.yaml:9:7"]);
    }
}

#[test]
fn cni_policies_are_platform_owned() {
    for (api, kind, body) in [
        ("cilium.io/v2", "CiliumNetworkPolicy", "spec: {}"),
        ("crd.projectcalico.org/v1", "NetworkPolicy", "spec: {}"),
        ("projectcalico.org/v3", "NetworkPolicy", "spec: {}"),
        ("projectcalico.org/v3", "NetworkSet", "spec: {}"),
        ("networking.k8s.io/v1", "NetworkPolicy", "spec: {}"),
        (
            "v1",
            "Endpoints",
            "subsets: [{ addresses: [{ ip: 10.0.0.1 }] }]",
        ),
        (
            "discovery.k8s.io/v1",
            "EndpointSlice",
            "addressType: IPv4, endpoints: [{ addresses: [10.0.0.1] }]",
        ),
    ] {
        let object =
            format!("{{ apiVersion: {api}, kind: {kind}, metadata: {{ name: mine }}, {body} }}");
        // Even when the platform declared the kind as an allowed custom resource.
        extra_with(CUSTOM, &[&object]).run(&["render"]).fails(&[&format!(
            "error: platform-objects tenants/acme/api/values.yaml:2 {kind} acme/mine: a tenant's {kind} comes from the platform, not from extraObjects"
        )]);
    }
    // The platform adds its own.
    let settings = "extraObjects:\n  customResources:\n    - { apiVersion: kyverno.io/v1, kind: Policy }\n  platformKinds:\n    - { apiVersion: kyverno.io/v1, kind: Policy }\n";
    let policy = "{ apiVersion: kyverno.io/v1, kind: Policy, metadata: { name: mine }, spec: {} }";
    extra_with(settings, &[policy]).run(&["render"]).fails(&[
        "error: platform-objects tenants/acme/api/values.yaml:2 Policy acme/mine: a tenant's Policy comes from the platform",
    ]);
    // A reasoned exception still lets one through.
    let exception = "policy:\n  exceptions:\n    - rule: platform-objects\n      tenants: [acme]\n      reason: acme runs the cluster's policy engine trial\n";
    extra_with(&format!("{settings}{exception}"), &[policy])
        .run(&["render"])
        .ok();
}

const ROLE: &str = "{ apiVersion: rbac.authorization.k8s.io/v1, kind: Role, metadata: { name: r }, rules: [RULE] }";

fn role(rule: &str) -> String {
    ROLE.replace("RULE", rule)
}

#[test]
fn roles_cannot_escalate() {
    for rule in [
        "{ apiGroups: [rbac.authorization.k8s.io], resources: [roles], verbs: [bind] }",
        "{ apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [escalate] }",
        "{ apiGroups: [''], resources: [serviceaccounts], verbs: [impersonate] }",
        "{ apiGroups: [''], resources: [configmaps], verbs: ['*'] }",
        "{ apiGroups: [''], resources: [namespaces], verbs: [update] }",
        "{ apiGroups: [''], resources: [namespaces/finalize], verbs: [update] }",
        "{ apiGroups: [''], resources: [resourcequotas], verbs: [patch] }",
        "{ apiGroups: [''], resources: [limitranges], verbs: [delete] }",
        "{ apiGroups: [networking.k8s.io], resources: [networkpolicies], verbs: [create] }",
        "{ apiGroups: [cilium.io], resources: [ciliumnetworkpolicies], verbs: [create] }",
        "{ apiGroups: [crd.projectcalico.org], resources: [networkpolicies], verbs: [deletecollection] }",
        "{ apiGroups: [rbac.authorization.k8s.io], resources: [roles], verbs: [create] }",
        "{ apiGroups: [rbac.authorization.k8s.io], resources: [rolebindings], verbs: [update] }",
        "{ apiGroups: ['*'], resources: ['*'], verbs: [create] }",
        "{ apiGroups: [''], resources: ['*'], verbs: [patch] }",
        "{ apiGroups: ['*'], resources: [rolebindings], verbs: [create], resourceNames: [x] }",
    ] {
        extra(&[&role(rule)])
            .run(&["render"])
            .fails(&["error: rbac-escalation tenants/acme/api/values.yaml:2 Role acme/r"]);
    }
    // `validate` reports it too.
    let run = extra(&[&role(
        "{ apiGroups: [''], resources: [namespaces], verbs: [update] }",
    )])
    .run(&["validate"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("rbac-escalation"), "{}", run.stderr);
}

#[test]
fn a_benign_role_and_its_binding_are_accepted() {
    let role = role(
        "{ apiGroups: [''], resources: [configmaps, secrets, pods], verbs: [get, list, watch] }, { apiGroups: [coordination.k8s.io], resources: [leases], verbs: [get, create, update] }, { apiGroups: ['*'], resources: ['*'], verbs: [get, list] }",
    );
    let binding = "{ apiVersion: rbac.authorization.k8s.io/v1, kind: RoleBinding, metadata: { name: r }, roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: r }, subjects: [{ kind: ServiceAccount, name: api }] }";
    let run = extra(&[&role, binding]).run(&["render"]).ok();
    assert_eq!(run.object("Role", "r")["metadata"]["namespace"], "acme");
    assert_eq!(run.object("RoleBinding", "r")["roleRef"]["name"], "r");
}

#[test]
fn role_bindings_bind_only_the_services_roles_or_listed_cluster_roles() {
    let binding = |kind: &str, name: &str| {
        format!(
            "{{ apiVersion: rbac.authorization.k8s.io/v1, kind: RoleBinding, metadata: {{ name: b }}, roleRef: {{ apiGroup: rbac.authorization.k8s.io, kind: {kind}, name: {name} }}, subjects: [{{ kind: ServiceAccount, name: api }}] }}"
        )
    };
    for name in ["admin", "edit", "cluster-admin", "view"] {
        extra(&[&binding("ClusterRole", name)])
            .run(&["render"])
            .fails(&[
                "error: platform-objects tenants/acme/api/values.yaml:2 RoleBinding acme/b",
                &format!("ClusterRole `{name}`"),
                "extraObjects.bindableClusterRoles",
            ]);
    }
    // A Role the service does not define (the platform's, another service's) is not its to bind.
    extra(&[&binding("Role", "someone-elses")])
        .run(&["render"])
        .fails(&[
            "error: platform-objects tenants/acme/api/values.yaml:2 RoleBinding acme/b",
            "Role `someone-elses`, which this service's extraObjects do not define",
        ]);
    // The platform lists the ClusterRoles a service account may get.
    let settings = "extraObjects:\n  bindableClusterRoles: [view]\n";
    extra_with(settings, &[&binding("ClusterRole", "view")])
        .run(&["render"])
        .ok();
    extra_with(settings, &[&binding("ClusterRole", "edit")])
        .run(&["render"])
        .fails(&["ClusterRole `edit`"]);
}

#[test]
fn patches_cannot_change_what_an_object_is() {
    let patch = |target: &str, p: &str| {
        format!("patches:\n  - target: {{ kind: {target} }}\n    type: merge\n    patch: {p}\n")
    };
    for (target, p, needle) in [
        (
            "ConfigMap",
            "{ metadata: { name: renamed } }",
            "a patch may not change metadata.name",
        ),
        (
            "ConfigMap",
            "{ kind: Secret }",
            "a patch may not change apiVersion or kind",
        ),
        (
            "ConfigMap",
            "{ apiVersion: v2 }",
            "a patch may not change apiVersion or kind",
        ),
        (
            "Deployment",
            "{ metadata: { namespace: kube-system } }",
            "out of the tenant's namespace",
        ),
        (
            "ConfigMap",
            "{ items: [{ apiVersion: v1, kind: Namespace, metadata: { name: x } }] }",
            "`items`",
        ),
    ] {
        Repo::new()
            .file(VALUES, patch(target, p))
            .run(&["render"])
            .fails(&[needle, "tenants/acme/api/values.yaml:2:5"]);
    }
}

#[test]
fn policy_list_shows_the_new_rules() {
    let run = Repo::new().run(&["policy", "list"]).ok();
    for id in ["allowed-kinds", "rbac-escalation"] {
        assert!(run.stdout.contains(id), "{}", run.stdout);
    }
    // The allow-list has no exceptions: the platform declares kinds instead.
    let exception = "policy:\n  exceptions:\n    - rule: allowed-kinds\n      reason: because\n";
    extra_with(exception, &[])
        .run(&["render"])
        .fails(&["allowed-kinds", "extraObjects.customResources"]);
}

#[test]
fn hostile_identity_text_is_not_echoed() {
    let huge = format!("A{}", "b".repeat(200_000));
    for object in [
        format!("{{ apiVersion: v1, kind: {huge}, metadata: {{ name: x }} }}"),
        format!(
            "{{ apiVersion: v1, kind: ConfigMap, metadata: {{ name: {} }} }}",
            huge.to_lowercase()
        ),
        "{ apiVersion: v1, kind: \"Config\\e[2JMap\", metadata: { name: x } }".to_owned(),
        "{ apiVersion: \"v1\\e]0;pwned\\a\", kind: ConfigMap, metadata: { name: x } }".to_owned(),
    ] {
        let run = extra(&[&object])
            .run(&["render"])
            .fails(&["tenants/acme/api/values.yaml:2:5"]);
        assert!(
            run.stderr.len() < 4_000,
            "{} bytes of stderr",
            run.stderr.len()
        );
        assert!(!run.stderr.contains('\u{1b}'), "{:?}", run.stderr);
    }
}
