//! The tenant workspace kit, canaries with platform minimums, the policy rules, and
//! `stencil tenant add/list`, end to end on fixture repositories.

use crate::common;

use crate::common::{Repo, Run, STENCIL_YAML};

/// Platform settings: a quota with a ceiling, limits, network sources, roles, canaries.
const PLATFORM: &str = "\
workspace:
  quota:
    default: { requests.cpu: '4', limits.memory: 8Gi }
    ceiling: { requests.cpu: '16', limits.memory: 32Gi }
  limitRange:
    defaultRequest: { cpu: 50m, memory: 64Mi }
    max: { memory: 4Gi }
  ingressFrom:
    namespaces: [ingress-nginx, test]
    cidrs: [10.0.0.0/16]
  roles: { developer: edit, viewer: view }
  teamRole: developer
canary:
  provider: nginx
  metricsServer: http://prometheus.monitoring:9090
  minInterval: 1m
  minIterations: 5
  stepWeight: 10
  maxThreshold: 5
  smokeTest: { url: http://flagger-loadtester.test/ }
";

/// A service a canary can roll out: an ingress (the nginx provider shifts its traffic) and
/// an autoscaler (Flagger scales the primary).
fn canary_base() -> String {
    format!(
        "{}ingress: {{ host: \"api-{{{{ tenant.name }}}}.example.com\" }}\nautoscaling: {{ maxReplicas: 4 }}\n",
        common::SERVICE_YAML
    )
}

/// The test repository with `settings` added to its stencil.yaml.
fn with_settings(settings: &str) -> Repo {
    Repo::new().file("stencil.yaml", format!("{STENCIL_YAML}{settings}"))
}

fn platform_repo() -> Repo {
    with_settings(PLATFORM).file("base/api/service.yaml", canary_base())
}

/// [`platform_repo`] with tenant `acme` as `tenant_yaml` says.
fn with_tenant(tenant_yaml: &str) -> Repo {
    platform_repo().file("tenants/acme/tenant.yaml", tenant_yaml)
}

/// `validate` found problems: exit 1, nothing on stdout, every needle in stderr.
#[track_caller]
fn validate_finds(repo: &Repo, needles: &[&str]) -> Run {
    let run = repo.run(&["validate"]);
    assert_eq!(run.code, 1, "expected exit 1; stderr:\n{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    for needle in needles {
        assert!(
            run.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            run.stderr
        );
    }
    run
}

#[test]
fn every_tenant_gets_the_workspace_kit() {
    let repo = with_tenant(
        "kind: Tenant\nenvironment: dev\nteam: acme-devs\ngroups: { viewer: [support, auditors] }\nquota: { requests.cpu: '12' }\nservices: [api]\n",
    );
    let run = repo.run(&["render", "--workspace"]).ok();
    let kinds = run.kinds_and_names();
    assert_eq!(
        kinds,
        [
            "Namespace acme",
            "ResourceQuota tenant-quota",
            "LimitRange tenant-limits",
            "NetworkPolicy allow-ingress",
            "NetworkPolicy default-deny-ingress",
            "RoleBinding tenant-developer",
            "RoleBinding tenant-viewer",
            "MetricTemplate stencil-error-rate",
            "MetricTemplate stencil-latency-p99",
        ]
    );
    // The tenant's raise within the ceiling wins over the default; the rest is the default.
    let quota = run.object("ResourceQuota", "tenant-quota");
    assert_eq!(quota["spec"]["hard"]["requests.cpu"], "12");
    assert_eq!(quota["spec"]["hard"]["limits.memory"], "8Gi");
    let limits = run.object("LimitRange", "tenant-limits");
    assert_eq!(limits["spec"]["limits"][0]["type"], "Container");
    assert_eq!(limits["spec"]["limits"][0]["max"]["memory"], "4Gi");
    // Default deny: every pod, ingress, no rule.
    let deny = run.object("NetworkPolicy", "default-deny-ingress");
    assert_eq!(deny["spec"]["podSelector"], serde_json::json!({}));
    assert_eq!(deny["spec"]["policyTypes"], serde_json::json!(["Ingress"]));
    assert!(deny["spec"].get("ingress").is_none());
    let allow = run.object("NetworkPolicy", "allow-ingress");
    assert_eq!(
        allow["spec"]["ingress"][0]["from"],
        serde_json::json!([
            { "podSelector": {} },
            { "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": "ingress-nginx" } } },
            { "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": "test" } } },
            { "ipBlock": { "cidr": "10.0.0.0/16" } },
        ])
    );
    let dev = run.object("RoleBinding", "tenant-developer");
    assert_eq!(dev["roleRef"]["kind"], "ClusterRole");
    assert_eq!(dev["roleRef"]["name"], "edit");
    assert_eq!(dev["subjects"][0]["kind"], "Group");
    assert_eq!(dev["subjects"][0]["name"], "acme-devs");
    let viewer = run.object("RoleBinding", "tenant-viewer");
    let names: Vec<&str> = viewer["subjects"]
        .as_array()
        .map(|s| s.iter().filter_map(|x| x["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, ["auditors", "support"]);
    let template = run.object("MetricTemplate", "stencil-error-rate");
    assert_eq!(template["spec"]["provider"]["type"], "prometheus");
    assert_eq!(
        template["spec"]["provider"]["address"],
        "http://prometheus.monitoring:9090"
    );
    // Every kit object is in the tenant's namespace and labelled as the tenant's.
    for doc in run.docs().iter().skip(1) {
        assert_eq!(doc["metadata"]["namespace"], "acme", "{doc}");
        assert_eq!(
            doc["metadata"]["labels"]["stencil.dev/tenant"], "acme",
            "{doc}"
        );
    }
}

#[test]
fn without_platform_settings_the_kit_is_the_namespace_and_network_isolation() {
    let run = Repo::new().run(&["render", "--workspace"]).ok();
    let kinds: Vec<String> = run
        .docs()
        .iter()
        .map(|d| d["kind"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(kinds, ["Namespace", "NetworkPolicy", "NetworkPolicy"]);
}

#[test]
fn a_quota_over_the_ceiling_fails_validate_naming_both_files() {
    let repo = with_tenant(
        "kind: Tenant\nenvironment: dev\nservices: [api]\nquota:\n  requests.cpu: '64'\n",
    );
    let run = validate_finds(
        &repo,
        &[
            "error: quota-ceiling tenants/acme/tenant.yaml:5 quota `requests.cpu: 64` is above the platform ceiling 16",
            "ceiling set at stencil.yaml:",
        ],
    );
    assert!(run.stderr.contains("1 problem found"), "{}", run.stderr);
    // The same check stops a render, with nothing on stdout.
    repo.run(&["render"])
        .fails(&["quota-ceiling tenants/acme/tenant.yaml:5"]);
    // Quantities compare by value, not as text: 16000m is 16 CPUs.
    with_tenant("kind: Tenant\nenvironment: dev\nservices: [api]\nquota: { requests.cpu: 16000m, limits.memory: 32Gi }\n")
        .run(&["validate"])
        .ok();
    // A resource without a ceiling cannot be raised, with a did-you-mean.
    let repo = with_tenant(
        "kind: Tenant\nenvironment: dev\nservices: [api]\nquota: { requests.cpus: '2' }\n",
    );
    validate_finds(
        &repo,
        &[
            "quota-ceiling tenants/acme/tenant.yaml:4 quota `requests.cpus` has no ceiling",
            "did you mean `requests.cpu`?",
        ],
    );
}

#[test]
fn a_platform_exception_relaxes_the_ceiling_and_validate_prints_it() {
    let exception = "policy:\n  exceptions:\n    - rule: quota-ceiling\n      tenants: [acme]\n      reason: Black Friday load test (CAP-42), until 2026-12-01\n";
    let repo = with_settings(&format!("{PLATFORM}{exception}")).file(
        "tenants/acme/tenant.yaml",
        "kind: Tenant\nenvironment: dev\nservices: [api]\nquota: { requests.cpu: '64' }\n",
    );
    let run = repo.run(&["validate"]).ok();
    assert!(
        run.stderr.contains(
            "relaxed: quota-ceiling relaxed for tenants acme services * at stencil.yaml:29:7: Black Friday load test (CAP-42), until 2026-12-01"
        ),
        "{}",
        run.stderr
    );
    // An exception without a reason is refused.
    let no_reason = "policy:\n  exceptions:\n    - rule: quota-ceiling\n      reason: ' '\n";
    with_settings(&format!("{PLATFORM}{no_reason}"))
        .run(&["render"])
        .fails(&["a guardrail exception needs a reason", "stencil.yaml:29:7"]);
}

#[test]
fn platform_settings_are_checked() {
    // A default above its own ceiling, a bad CIDR, a team role that is no role.
    let bad = PLATFORM
        .replace("requests.cpu: '4'", "requests.cpu: '20'")
        .replace("10.0.0.0/16", "10.0.0.0/33")
        .replace("teamRole: developer", "teamRole: developers");
    with_settings(&bad).run(&["render"]).fails(&[
        "quota-ceiling stencil.yaml:9 the default quota `requests.cpu: 20` is above its ceiling 16",
        "`10.0.0.0/33` is not a CIDR block",
        "workspace.teamRole `developers` is not one of workspace.roles",
        "did you mean `developer`?",
    ]);
    // The Gateway API providers need the gateway.
    let gateway = PLATFORM.replace("provider: nginx", "provider: gatewayapi:v1");
    with_settings(&gateway)
        .run(&["render"])
        .fails(&["canary provider `gatewayapi:v1` needs `canary.gateway`"]);
    // `alb` is not a Flagger provider (the upstream CRD does not list it).
    let alb = PLATFORM.replace("provider: nginx", "provider: alb");
    with_settings(&alb)
        .run(&["render"])
        .fails(&["stencil.yaml:"]);
}

#[test]
fn tenant_groups_need_roles_the_platform_defines() {
    let repo = with_tenant(
        "kind: Tenant\nenvironment: dev\nservices: [api]\ngroups: { viewers: [support] }\n",
    );
    repo.run(&["render"]).fails(&[
        "tenants/acme/tenant.yaml:4",
        "`viewers` is not a role the platform defines",
        "roles are set at stencil.yaml:",
        "did you mean `viewer`?",
    ]);
    Repo::new()
        .file(
            "tenants/acme/tenant.yaml",
            "kind: Tenant\nenvironment: dev\nservices: [api]\nteam: acme-devs\n",
        )
        .run(&["render"])
        .fails(&["names team `acme-devs`, but stencil.yaml sets no workspace.teamRole"]);
}

const CANARY: &str = "\
canary:
  maxErrorRate: 1
  maxLatencyP99: 500ms
";

#[test]
fn a_canary_gets_the_platform_analysis() {
    let repo = platform_repo().file(
        "base/api/service.yaml",
        format!(
            "{}probes: {{ readiness: {{ path: /ready }} }}\n{CANARY}",
            canary_base()
        ),
    );
    let run = repo.run(&["render", "-s", "api"]).ok();
    let canary = run.object("Canary", "api");
    assert_eq!(canary["apiVersion"], "flagger.app/v1beta1");
    let spec = &canary["spec"];
    assert_eq!(spec["provider"], "nginx");
    assert_eq!(spec["targetRef"]["name"], "api");
    assert_eq!(spec["autoscalerRef"]["kind"], "HorizontalPodAutoscaler");
    assert_eq!(spec["ingressRef"]["kind"], "Ingress");
    assert_eq!(spec["service"]["port"], 8000);
    let analysis = &spec["analysis"];
    // The platform's minimum interval, 10% steps to the default 50%, its threshold.
    assert_eq!(analysis["interval"], "1m");
    assert_eq!(analysis["stepWeight"], 10);
    assert_eq!(analysis["maxWeight"], 50);
    assert_eq!(analysis["threshold"], 5);
    assert_eq!(analysis["metrics"][0]["name"], "error-rate");
    assert_eq!(
        analysis["metrics"][0]["templateRef"]["name"],
        "stencil-error-rate"
    );
    assert_eq!(analysis["metrics"][0]["thresholdRange"]["max"], 1.0);
    assert_eq!(analysis["metrics"][1]["name"], "latency-p99");
    assert_eq!(analysis["metrics"][1]["thresholdRange"]["max"], 500.0);
    let hook = &analysis["webhooks"][0];
    assert_eq!(hook["type"], "pre-rollout");
    assert_eq!(hook["url"], "http://flagger-loadtester.test/");
    assert_eq!(
        hook["metadata"]["cmd"],
        "curl -fsS --max-time 10 http://api-canary.acme:8000/ready"
    );
    // Flagger generates the Services of a canary; stencil renders none.
    assert!(
        !run.docs().iter().any(|d| d["kind"] == "Service"),
        "{}",
        run.stdout
    );

    // A service may ask for a longer analysis: kept.
    let longer = format!("{CANARY}  interval: 5m\n  maxWeight: 80\n  threshold: 2\n");
    let run = platform_repo()
        .file(
            "base/api/service.yaml",
            format!("{}{longer}", canary_base()),
        )
        .run(&["render", "-s", "api"])
        .ok();
    let analysis = &run.object("Canary", "api")["spec"]["analysis"];
    assert_eq!(analysis["interval"], "5m");
    assert_eq!(analysis["maxWeight"], 80);
    assert_eq!(analysis["threshold"], 2);
}

#[test]
fn a_canary_under_the_platform_minimum_fails_validate_naming_both_files() {
    let short = format!("{CANARY}  interval: 30s\n");
    let repo = platform_repo().file(
        "tenants/acme/api/values.yaml",
        format!("extends: base/api/service.yaml\n{short}"),
    );
    validate_finds(
        &repo,
        &[
            "error: canary-minimum tenants/acme/api/values.yaml:5 canary interval 30s is shorter than the platform minimum 1m",
            "platform setting canary.minInterval at stencil.yaml:22:3",
        ],
    );
    // Fewer steps than the minimum, and a more tolerant threshold than the maximum.
    let few = format!("{CANARY}  maxWeight: 30\n  threshold: 10\n");
    let repo = platform_repo().file(
        "tenants/acme/api/values.yaml",
        format!("extends: base/api/service.yaml\n{few}"),
    );
    validate_finds(
        &repo,
        &[
            "canary-minimum tenants/acme/api/values.yaml:5 canary maxWeight 30 gives 3 analysis steps of 10%; the platform minimum is 5 (maxWeight >= 50)",
            "platform setting canary.minIterations at stencil.yaml:23:3",
            "canary-minimum tenants/acme/api/values.yaml:6 canary threshold 10 tolerates more failed checks than the platform maximum 5",
            "2 problems found",
        ],
    );
    // The platform may relax it, with a reason.
    let exception = "policy:\n  exceptions:\n    - rule: canary-minimum\n      services: [api]\n      reason: batch API, traffic too low for a long analysis (PLAT-7)\n";
    let run = repo
        .file(
            "stencil.yaml",
            format!("{STENCIL_YAML}{PLATFORM}{exception}"),
        )
        .run(&["validate"])
        .ok();
    assert!(
        run.stderr.contains("relaxed: canary-minimum"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_canary_needs_slos_and_platform_settings() {
    Repo::new()
        .file(
            "base/api/service.yaml",
            format!("{}{CANARY}", common::SERVICE_YAML),
        )
        .run(&["render"])
        .fails(&["this service declares `canary:`, but the platform has no canary settings"]);
    platform_repo()
        .file(
            "base/api/service.yaml",
            format!(
                "{}canary: {{ maxErrorRate: -1, maxLatencyP99: fast }}\n",
                canary_base()
            ),
        )
        .run(&["render"])
        .fails(&[
            "maxErrorRate -1 is not a percentage between 0 and 100",
            "maxLatencyP99 `fast` is not a duration",
        ]);
    platform_repo()
        .file(
            "base/api/service.yaml",
            format!("{}canary: {{ maxErrorRate: 1 }}\n", canary_base()),
        )
        .run(&["render"])
        .fails(&["a canary needs its SLOs: maxLatencyP99 is missing"]);
    // Switching declared SLOs off in an overlay loosens the rollout: a policy violation.
    let off = platform_repo()
        .file(
            "base/api/service.yaml",
            format!("{}{CANARY}", canary_base()),
        )
        .file(
            "tenants/acme/api/values.yaml",
            "extends: base/api/service.yaml\ncanary: { enabled: false }\n",
        );
    off.run(&["render"]).fails(&[
        "canary-minimum tenants/acme/api/values.yaml:2 `canary.enabled: false` switches off the canary analysis of `api`",
    ]);
    // With a reason in stencil.yaml it is off, and the Service is back.
    let exception = "policy:\n  exceptions:\n    - rule: canary-minimum\n      tenants: [acme]\n      reason: internal tool, no traffic to analyse (PLAT-8)\n";
    let run = off
        .file(
            "stencil.yaml",
            format!("{STENCIL_YAML}{PLATFORM}{exception}"),
        )
        .run(&["render", "-s", "api"])
        .ok();
    assert!(!run.docs().iter().any(|d| d["kind"] == "Canary"));
    run.object("Service", "api");
    // SLOs looser than the platform allows.
    platform_repo()
        .file(
            "base/api/service.yaml",
            format!("{}canary: {{ maxErrorRate: 50, maxLatencyP99: 10s }}\n", canary_base()),
        )
        .run(&["render"])
        .fails(&[
            "canary-minimum base/api/service.yaml:12 maxErrorRate 50% is looser than the platform's loosest SLO 5%",
            "canary-minimum base/api/service.yaml:12 maxLatencyP99 10s is looser than the platform's loosest SLO 2s",
            "platform setting canary.maxErrorRate at stencil.yaml:",
        ]);
}

#[test]
fn a_canary_needs_what_flagger_needs() {
    // The nginx provider shifts the ingress's traffic: no ingress, no canary. And Flagger
    // scales the primary through an autoscaler.
    platform_repo()
        .file(
            "base/api/service.yaml",
            format!("{}{CANARY}", common::SERVICE_YAML),
        )
        .run(&["render"])
        .fails(&[
            "a `nginx` canary shifts the traffic of the service's ingress, and `api` has none",
            "a canary needs `autoscaling`",
        ]);
    // A Gateway API canary routes only the main port.
    let gateway = PLATFORM.replace(
        "provider: nginx",
        "provider: gatewayapi:v1\n  gateway: { name: public, namespace: gateways }",
    );
    let sidecar = "sidecars:\n  - name: web\n    image: { repository: r/web, tag: '1' }\n    port: 3000\n    ingressPath: /web\n    resources: { requests: { cpu: 1m, memory: 1Mi }, limits: { memory: 2Mi } }\n";
    let run = with_settings(&gateway)
        .file(
            "base/api/service.yaml",
            format!("{}{CANARY}", canary_base()),
        )
        .run(&["render", "-s", "api"])
        .ok();
    let canary = run.object("Canary", "api");
    assert_eq!(
        canary["spec"]["service"]["gatewayRefs"][0]["name"],
        "public"
    );
    assert_eq!(
        canary["spec"]["service"]["hosts"][0],
        "api-acme.example.com"
    );
    // Flagger's HTTPRoute serves the host: no Ingress.
    assert!(!run.docs().iter().any(|d| d["kind"] == "Ingress"));
    // The PDB protects the primary's pods, which Flagger labels <service>-primary.
    let pdb = run.object("PodDisruptionBudget", "api");
    assert_eq!(
        pdb["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"],
        "api-primary"
    );
    with_settings(&gateway)
        .file("base/api/service.yaml", format!("{}{CANARY}{sidecar}", canary_base()))
        .run(&["render"])
        .fails(&["sidecar `web` has an ingressPath, but with a Gateway API canary Flagger's HTTPRoute routes only the main port"]);
}

#[test]
fn canaries_run_only_in_the_platforms_environments() {
    let prod_only = PLATFORM.replace("provider: nginx", "environments: [prod]\n  provider: nginx");
    let repo = with_settings(&prod_only)
        .file(
            "base/api/service.yaml",
            format!("{}{CANARY}", canary_base()),
        )
        .file(
            "tenants/live/tenant.yaml",
            "kind: Tenant\nenvironment: prod\nservices: [api]\n",
        );
    let run = repo.run(&["render"]).ok();
    let docs = run.docs();
    let canaries: Vec<&str> = docs
        .iter()
        .filter(|d| d["kind"] == "Canary")
        .filter_map(|d| d["metadata"]["namespace"].as_str())
        .collect();
    assert_eq!(canaries, ["live"]);
    // The dev tenant gets its Service and no metric templates.
    let templates: Vec<&str> = docs
        .iter()
        .filter(|d| d["kind"] == "MetricTemplate")
        .filter_map(|d| d["metadata"]["namespace"].as_str())
        .collect();
    assert_eq!(templates, ["live", "live"]);
    assert!(
        run.docs()
            .iter()
            .any(|d| d["kind"] == "Service" && d["metadata"]["namespace"] == "acme")
    );
    let typo = PLATFORM.replace("provider: nginx", "environments: [prd]\n  provider: nginx");
    with_settings(&typo).run(&["render"]).fails(&[
        "canary.environments names unknown environment `prd`",
        "did you mean `prod`?",
    ]);
}

#[test]
fn access_goes_through_the_platform() {
    // A tenant's own Role bound to its own service account is fine.
    let own = "extends: base/api/service.yaml\nextraObjects:\n  - { apiVersion: rbac.authorization.k8s.io/v1, kind: Role, metadata: { name: leader }, rules: [{ apiGroups: [coordination.k8s.io], resources: [leases], verbs: [get, update] }] }\n  - { apiVersion: rbac.authorization.k8s.io/v1, kind: RoleBinding, metadata: { name: leader }, roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: leader }, subjects: [{ kind: ServiceAccount, name: api }] }\n";
    platform_repo()
        .file("tenants/acme/api/values.yaml", own)
        .run(&["render"])
        .ok();
    // A ClusterRole, or people, are the platform's to grant.
    let admin = "extends: base/api/service.yaml\nextraObjects:\n  - { apiVersion: rbac.authorization.k8s.io/v1, kind: RoleBinding, metadata: { name: all }, roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin }, subjects: [{ kind: Group, apiGroup: rbac.authorization.k8s.io, name: everyone }] }\n";
    platform_repo()
        .file("tenants/acme/api/values.yaml", admin)
        .run(&["render"])
        .fails(&["platform-objects tenants/acme/api/values.yaml:3 RoleBinding acme/all: an extra RoleBinding may bind only a Role to the namespace's service accounts"]);
    // Kubernetes' own groups are never a tenant's.
    with_tenant("kind: Tenant\nenvironment: dev\nservices: [api]\ngroups: { developer: [system:authenticated] }\n")
        .run(&["render"])
        .fails(&["`system:authenticated` is a Kubernetes system group"]);
}

#[test]
fn platform_settings_the_api_server_would_refuse_are_errors() {
    let limits = PLATFORM
        .replace(
            "defaultRequest: { cpu: 50m, memory: 64Mi }",
            "defaultRequest: { cpu: 50m, memory: 8Gi }",
        )
        .replace(
            "default: { requests.cpu: '4', limits.memory: 8Gi }",
            "default: { requests.cpu: '4', limits.memory: 8Gi, limits.cpu: '8', pods: '-5' }",
        )
        .replace("stepWeight: 10", "stepWeight: 25");
    with_settings(&limits).run(&["render"]).fails(&[
        "limitRange.defaultRequest `memory: 8Gi` is above limitRange.max 4Gi",
        "`pods: -5` is not a usable amount",
        "the quota limits `limits.cpu`, but limitRange.default sets no cpu",
        "canary.minIterations 5 steps of canary.stepWeight 25% go past 100%",
    ]);
    // The load tester must get through the tenants' default-deny ingress.
    let blocked = PLATFORM.replace(
        "namespaces: [ingress-nginx, test]",
        "namespaces: [ingress-nginx]",
    );
    with_settings(&blocked)
        .run(&["render"])
        .fails(&[
            "the smoke test's load tester runs in namespace `test`, which the tenant network policies do not let in",
            "add `test` to workspace.ingressFrom.namespaces",
        ]);
    // A quota exception is per tenant.
    let exception = "policy:\n  exceptions:\n    - rule: quota-ceiling\n      services: [api]\n      reason: because\n";
    with_settings(&format!("{PLATFORM}{exception}"))
        .run(&["render"])
        .fails(&["a quota-ceiling exception is per tenant: `services` does not apply"]);
    // An amount that is no finite number fails closed.
    with_tenant(
        "kind: Tenant\nenvironment: dev\nservices: [api]\nquota: { requests.cpu: 1e99999999999 }\n",
    )
    .run(&["render"])
    .fails(&["quota `requests.cpu: 1e99999999999` is not a usable amount"]);
}

#[test]
fn neither_extra_objects_nor_patches_get_round_the_platform() {
    for (kind, api, rule) in [
        ("ResourceQuota", "v1", "platform-objects"),
        ("LimitRange", "v1", "platform-objects"),
        ("NetworkPolicy", "networking.k8s.io/v1", "platform-objects"),
        ("Canary", "flagger.app/v1beta1", "platform-objects"),
        ("MetricTemplate", "flagger.app/v1beta1", "platform-objects"),
    ] {
        let values = format!(
            "extends: base/api/service.yaml\nextraObjects:\n  - {{ apiVersion: {api}, kind: {kind}, metadata: {{ name: mine }}, spec: {{}} }}\n"
        );
        platform_repo()
            .file("tenants/acme/api/values.yaml", values)
            .run(&["render"])
            .fails(&[
                &format!("error: {rule} tenants/acme/api/values.yaml:3 {kind} acme/mine: a tenant's {kind} comes from the platform, not from extraObjects"),
            ]);
    }
    let patch = format!(
        "extends: base/api/service.yaml\n{CANARY}patches:\n  - target: {{ kind: Canary }}\n    type: merge\n    patch: {{ spec: {{ analysis: {{ interval: 10s }} }} }}\n"
    );
    platform_repo()
        .file("tenants/acme/api/values.yaml", patch)
        .run(&["render"])
        .fails(&["platform-objects tenants/acme/api/values.yaml:6 Canary acme/api: a patch may not change the Canary stencil renders"]);
}

#[test]
fn policy_list_names_every_rule_with_its_rationale() {
    let run = Repo::new().run(&["policy", "list"]).ok();
    for id in [
        "mutable-image-tag",
        "no-privilege-escalation",
        "read-only-root-filesystem",
        "run-as-non-root",
        "drop-all-capabilities",
        "seccomp-runtime-default",
        "resources",
        "startup-probe",
        "quota-ceiling",
        "canary-minimum",
        "platform-objects",
        "allowed-kinds",
        "rbac-escalation",
        "budget",
        "platform-labels",
        "pss-host-process",
        "pss-host-namespaces",
        "pss-privileged",
        "pss-capabilities",
        "pss-host-path",
        "pss-host-ports",
        "pss-apparmor",
        "pss-selinux",
        "pss-proc-mount",
        "pss-sysctls",
        "pss-volume-types",
        "pss-host-probes",
        "node-placement",
        "external-ips",
        "service-type",
        "pod-security-labels",
        "secrets-binding",
        "secrets-recipients",
        "reserved-namespace",
        "ssm-prefix",
        "tenant-hosts",
        "platform-annotations",
        "iam-role-arn",
    ] {
        assert!(
            run.stdout.lines().any(|l| l.starts_with(&format!("{id} "))),
            "{id} missing:\n{}",
            run.stdout
        );
    }
    // One `why:` per rule.
    assert_eq!(
        run.stdout.matches("why: ").count(),
        stencil::model::Rule::ALL.len(),
        "{}",
        run.stdout
    );
    // JSON, with the exceptions the repository grants under their rule.
    let exception = "policy:\n  exceptions:\n    - rule: resources\n      services: [api]\n      reason: sized by VPA (PLAT-9)\n";
    let run = with_settings(exception)
        .run(&["policy", "list", "--output", "json"])
        .ok();
    let rules: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    let resources = rules
        .as_array()
        .and_then(|r| r.iter().find(|r| r["id"] == "resources"))
        .expect("resources rule");
    assert!(
        resources["rationale"]
            .as_str()
            .is_some_and(|r| !r.is_empty())
    );
    assert_eq!(
        resources["exceptions"][0]["reason"],
        "sized by VPA (PLAT-9)"
    );
    assert_eq!(resources["exceptions"][0]["services"][0], "api");
    assert_eq!(resources["relaxable"], true);
    // The rules no exception can relax say so, in JSON and in the table.
    let fixed: Vec<&str> = rules
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["relaxable"] == false)
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert_eq!(
        fixed,
        [
            "allowed-kinds",
            "budget",
            "platform-labels",
            "pod-security-labels",
            "symlink-boundary",
            "extends-boundary",
            "reserved-namespace",
        ]
    );
    let table = Repo::new().run(&["policy", "list"]).ok();
    assert_eq!(
        table.stdout.matches("no exception can relax it").count(),
        fixed.len()
    );
}

/// Every file under `dir` with its content, sorted.
fn snapshot(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let content = std::fs::read(&path).expect("read");
                out.push((path.display().to_string(), content));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn tenant_add_scaffolds_a_tenant_that_renders_as_it_is() {
    let repo = Repo::example();
    let run = repo
        .run_env(
            &[
                "tenant",
                "add",
                "kif",
                "--environment",
                "prod",
                "--service",
                "apiserver",
                "--service",
                "frontend",
                "--team",
                "kif-devs",
            ],
            // Whoever adds a tenant need not hold a key.
            &[("SOPS_AGE_KEY_FILE", None)],
        )
        .ok();
    assert_eq!(
        run.stdout,
        "created tenants/kif/tenant.yaml\n\
         created tenants/kif/apiserver/values.yaml\n\
         created tenants/kif/apiserver/env.yaml\n\
         created tenants/kif/apiserver/secrets.enc.yaml\n\
         created tenants/kif/frontend/values.yaml\n\
         created tenants/kif/frontend/env.yaml\n\
         created tenants/kif/frontend/secrets.enc.yaml\n\
         updated schemas/stencil.schema.json\n\
         updated schemas/tenant.schema.json\n\
         updated schemas/service.schema.json\n\
         updated schemas/version.schema.json\n\
         updated schemas/env.schema.json\n"
    );
    // The prod profile is what a prod tenant's apiserver extends.
    assert!(
        repo.read("tenants/kif/apiserver/values.yaml")
            .contains("extends: base/apiserver/prod.yaml")
    );
    assert!(
        repo.read("tenants/kif/frontend/values.yaml")
            .contains("extends: base/frontend/service.yaml")
    );
    let tenant = repo.read("tenants/kif/tenant.yaml");
    assert!(
        tenant.contains("domain: kif.ramparts.example.com"),
        "{tenant}"
    );
    assert!(tenant.contains("team: kif-devs"), "{tenant}");
    // The secrets files are SOPS files for .sops.yaml's recipient, and open with the demo key.
    for service in ["apiserver", "frontend"] {
        let file = format!("tenants/kif/{service}/secrets.enc.yaml");
        assert!(repo.read(&file).contains(&common::demo_recipient()));
        let run = repo
            .run(&[
                "secrets",
                "decrypt",
                repo.path().join(&file).to_str().expect("utf-8"),
            ])
            .ok();
        // No secret yet, only the binding to its place.
        assert_eq!(
            run.stdout.trim(),
            format!("stencil.dev/scope: tenants/kif/{service}")
        );
    }
    // It renders and validates with no edit, workspace kit and all.
    repo.run(&["validate"]).ok();
    let run = repo.run(&["render", "-t", "kif"]).ok();
    run.object("ResourceQuota", "tenant-quota");
    run.object("RoleBinding", "tenant-developer");
    run.object("Canary", "frontend");
    run.object("Deployment", "apiserver");

    // A second run refuses and changes nothing.
    let before = snapshot(repo.path());
    repo.run(&[
        "tenant",
        "add",
        "kif",
        "--environment",
        "prod",
        "--service",
        "apiserver",
    ])
    .fails(&["tenant `kif` already exists: tenants/kif"]);
    assert_eq!(snapshot(repo.path()), before);
}

#[test]
fn tenant_add_from_another_tenant_copies_its_overlays() {
    let repo = Repo::example();
    repo.run(&[
        "tenant",
        "add",
        "zapp",
        "--environment",
        "prod",
        "--from",
        "momcorp",
    ])
    .ok();
    let tenant = repo.read("tenants/zapp/tenant.yaml");
    assert!(
        tenant.contains("services: [apiserver, auth, frontend, search, worker]"),
        "{tenant}"
    );
    assert!(
        tenant.contains("ramparts.example.com/cost-center: cc-1042"),
        "{tenant}"
    );
    // Never the other tenant's team, pins or secrets.
    assert!(!tenant.contains("momcorp-devs"), "{tenant}");
    assert!(
        !repo
            .path()
            .join("tenants/zapp/apiserver/version.yaml")
            .exists()
    );
    let values = repo.read("tenants/zapp/apiserver/values.yaml");
    assert!(
        values.starts_with("# Copied from tenants/momcorp/apiserver/values.yaml"),
        "{values}"
    );
    assert!(values.contains("maxReplicas: 40"), "{values}");
    repo.run(&["validate"]).ok();
}

#[test]
fn tenant_add_refuses_bad_requests_and_writes_nothing() {
    let repo = Repo::example();
    let before = snapshot(repo.path());
    for (args, needles) in [
        (
            vec!["Tenant_One", "-e", "prod", "-s", "apiserver"],
            vec!["tenant name", "DNS-1123"],
        ),
        (
            vec!["momcorp", "-e", "prod", "-s", "apiserver"],
            vec!["tenant `momcorp` already exists"],
        ),
        (
            vec!["kif", "-e", "prd", "-s", "apiserver"],
            vec!["unknown environment `prd`", "did you mean `prod`?"],
        ),
        (
            vec!["kif", "-e", "prod", "-s", "apiservr"],
            vec!["unknown service `apiservr`", "did you mean `apiserver`?"],
        ),
        (
            vec!["kif", "-e", "prod"],
            vec!["a tenant needs at least one service"],
        ),
        (
            vec!["kif", "-e", "prod", "--from", "momcrop"],
            vec!["unknown tenant `momcrop`", "did you mean `momcorp`?"],
        ),
        (
            vec![
                "kif",
                "-e",
                "prod",
                "-s",
                "apiserver",
                "--team",
                "system:masters",
            ],
            vec!["--team: `system:masters` is a Kubernetes system group"],
        ),
        (
            vec![
                "kif",
                "-e",
                "prod",
                "-s",
                "apiserver",
                "--domain",
                "Kif Corp",
            ],
            vec!["--domain `Kif Corp` is not a DNS name"],
        ),
        // Renders badly (the instance label would be 64 characters): taken out again.
        (
            vec![
                "a-tenant-name-that-is-long-enough-to-overflow-the-label-x",
                "-e",
                "dev",
                "-s",
                "frontend",
            ],
            vec!["was not created: the new tenant does not render"],
        ),
    ] {
        let mut full = vec!["tenant", "add"];
        full.extend(args);
        repo.run(&full).fails(&needles);
        assert_eq!(
            snapshot(repo.path()),
            before,
            "{full:?} changed the repository"
        );
    }
}

#[test]
fn tenant_list_shows_environments_services_and_pins() {
    let repo = Repo::example();
    let run = repo.run(&["tenant", "list"]).ok();
    let momcorp = run
        .stdout
        .lines()
        .find(|l| l.starts_with("momcorp "))
        .expect("momcorp row");
    assert!(momcorp.contains(" prod "), "{momcorp}");
    assert!(momcorp.contains("tenant-momcorp"), "{momcorp}");
    // momcorp pins its apiserver in tenants/momcorp/apiserver/version.yaml.
    assert!(
        momcorp.contains("apiserver@2026.11.02-8e1d7c0*"),
        "{momcorp}"
    );
    assert!(
        run.stdout
            .contains("(* pinned by the tenant's own version.yaml)")
    );

    let run = repo.run(&["tenant", "list", "--output", "json"]).ok();
    let tenants: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    let names: Vec<&str> = tenants
        .as_array()
        .map(|t| t.iter().filter_map(|x| x["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        names,
        ["mars-university", "momcorp", "planet-express", "slurm"]
    );
    let slurm = &tenants[3];
    assert_eq!(slurm["environment"], "dev");
    assert_eq!(slurm["services"][0]["name"], "apiserver");
    assert_eq!(slurm["services"][0]["pinned"], false);
    assert!(slurm["services"][0]["tag"].as_str().is_some());
}

#[test]
fn the_team_gets_a_role_in_the_tenants_argocd_project() {
    let run = Repo::example().run(&["argocd", "apps"]).ok();
    let project = run.object("AppProject", "momcorp");
    let role = &project["spec"]["roles"][0];
    assert_eq!(role["name"], "team");
    assert_eq!(role["groups"], serde_json::json!(["momcorp-devs"]));
    assert_eq!(
        role["policies"],
        serde_json::json!([
            "p, proj:momcorp:team, applications, get, momcorp/*, allow",
            "p, proj:momcorp:team, applications, sync, momcorp/*, allow",
        ])
    );
    // Still only the tenant's namespace as destination.
    assert_eq!(
        project["spec"]["destinations"],
        serde_json::json!([{ "namespace": "tenant-momcorp", "server": "https://prod.eks.ramparts.example.com" }])
    );
}

#[test]
fn tenant_add_without_a_sops_rule_writes_no_secrets_file() {
    let repo = Repo::new();
    let run = repo
        .run(&["tenant", "add", "beta", "-e", "dev", "-s", "api"])
        .ok();
    assert_eq!(
        run.stdout,
        "created tenants/beta/tenant.yaml\ncreated tenants/beta/api/values.yaml\ncreated tenants/beta/api/env.yaml\nupdated schemas/stencil.schema.json\nupdated schemas/tenant.schema.json\nupdated schemas/service.schema.json\nupdated schemas/version.schema.json\nupdated schemas/env.schema.json\n"
    );
    // The files' `$schema` lines resolve; a second tenant finds them up to date.
    assert!(repo.path().join("schemas/tenant.schema.json").is_file());
    let second = repo
        .run(&["tenant", "add", "gamma", "-e", "dev", "-s", "api"])
        .ok();
    assert!(!second.stdout.contains("schemas"), "{}", second.stdout);
    assert!(
        run.stderr
            .contains("no .sops.yaml creation rule matches tenants/beta/api/secrets.enc.yaml"),
        "{}",
        run.stderr
    );
    assert!(
        repo.read("tenants/beta/tenant.yaml")
            .contains("domain: beta.dev.example.com")
    );
    repo.run(&["validate"]).ok();
    let run = repo.run(&["render", "-t", "beta"]).ok();
    run.object("Deployment", "api");
}

#[test]
fn tenant_add_quotes_what_yaml_would_misread() {
    let repo = platform_repo();
    repo.run(&[
        "tenant", "add", "beta", "-e", "dev", "-s", "api", "--team", "#ops",
    ])
    .ok();
    assert!(
        repo.read("tenants/beta/tenant.yaml")
            .contains("team: \"#ops\"")
    );
    let run = repo.run(&["tenant", "list", "-o", "json"]).ok();
    assert!(run.stdout.contains("\"team\": \"#ops\""), "{}", run.stdout);
}

#[test]
fn a_failed_tenant_add_leaves_no_tenants_folder_it_made() {
    let repo = Repo::empty()
        .file("stencil.yaml", STENCIL_YAML)
        .file("base/api/service.yaml", common::SERVICE_YAML)
        .file("base/api/version.yaml", common::VERSION_YAML);
    let name = "a-tenant-name-that-is-long-enough-to-overflow-the-label-xxxxx";
    repo.run(&["tenant", "add", name, "-e", "dev", "-s", "api"])
        .fails(&["was not created: the new tenant does not render"]);
    assert!(!repo.path().join("tenants").exists());
}
