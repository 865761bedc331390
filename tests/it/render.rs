//! The example repository rendered end to end, and the render contract: deterministic,
//! all-or-nothing, JSON and directory output, filters, guardrails after patching.

use crate::common;

use crate::common::Repo;

#[test]
fn example_render_is_pinned() {
    let run = Repo::example().run(&["render"]).ok();
    insta::assert_snapshot!("example_render", run.stdout);
}

#[test]
fn example_explain_is_pinned() {
    let run = Repo::example().run(&["explain", "momcorp/apiserver"]).ok();
    insta::assert_snapshot!("example_explain_momcorp_apiserver", run.stdout);
}

#[test]
fn explain_in_the_three_level_chain_names_tag_replicas_and_env() {
    let repo = Repo::example();
    let run = repo
        .run(&["explain", "planet-express/apiserver", "image.tag"])
        .ok();
    assert!(
        run.stdout.contains(
            "image.tag: 2026.11.20-4f9c2ab\n    set at base/apiserver/version.yaml:5:3\n"
        ),
        "{}",
        run.stdout
    );
    let run = repo
        .run(&["explain", "planet-express/apiserver", "replicas"])
        .ok();
    assert!(
        run.stdout.contains("replicas: 4\n    set at tenants/planet-express/apiserver/values.yaml:6:1\n    overrides base/apiserver/service.yaml:10:1\n"),
        "{}",
        run.stdout
    );
    let run = repo
        .run(&["explain", "planet-express/apiserver", "env.LOG_LEVEL"])
        .ok();
    assert!(
        run.stdout.contains("env.LOG_LEVEL: warning\n    set at base/apiserver/prod.yaml:8:3\n    overrides base/apiserver/service.yaml:61:3\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "#   2. base/apiserver/prod.yaml\n#   3. tenants/planet-express/apiserver/values.yaml\n"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn explain_unknown_key_suggests() {
    Repo::example()
        .run(&["explain", "momcorp/apiserver", "replicsa"])
        .fails(&["has no value at `replicsa`", "did you mean `replicas`?"]);
}

#[test]
fn render_is_byte_identical_run_to_run() {
    let repo = Repo::example();
    let first = repo.run(&["render"]).ok().stdout;
    for _ in 0..3 {
        assert_eq!(repo.run(&["render"]).ok().stdout, first);
    }
    let json = repo.run(&["render", "--output", "json"]).ok().stdout;
    assert_eq!(repo.run(&["render", "--output", "json"]).ok().stdout, json);
}

#[test]
fn the_stream_is_in_documented_order() {
    let run = Repo::example().run(&["render"]).ok();
    let order: Vec<String> = run
        .docs()
        .iter()
        .filter(|d| {
            d["metadata"]["namespace"] == "tenant-momcorp"
                || d["metadata"]["name"] == "tenant-momcorp"
        })
        .map(common::kind_and_name)
        .collect();
    let expected = [
        "Namespace tenant-momcorp",
        "ResourceQuota tenant-quota",
        "LimitRange tenant-limits",
        "NetworkPolicy allow-ingress",
        "NetworkPolicy default-deny-ingress",
        "RoleBinding tenant-developer",
        "RoleBinding tenant-viewer",
        "MetricTemplate stencil-error-rate",
        "MetricTemplate stencil-latency-p99",
        "ServiceAccount apiserver",
        "ConfigMap apiserver-env",
        "ConfigMap apiserver-files",
        "Secret apiserver-secrets",
        "ExternalSecret apiserver-feature-flags",
        "ExternalSecret apiserver-ssm",
        "Service apiserver",
        "Deployment apiserver",
        "Job apiserver-migrate",
        "CronJob apiserver-purge-sessions",
        "HorizontalPodAutoscaler apiserver",
        "PodDisruptionBudget apiserver",
        "Ingress apiserver",
        "ServiceMonitor apiserver",
        "PrometheusRule apiserver",
        "ServiceAccount auth",
    ];
    assert_eq!(&order[..expected.len()], expected);
    let tenants: Vec<String> = run
        .docs()
        .iter()
        .filter(|d| d["kind"] == "Namespace")
        .map(|d| {
            d["metadata"]["labels"]["stencil.dev/tenant"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    assert_eq!(
        tenants,
        ["mars-university", "momcorp", "planet-express", "slurm"]
    );
}

#[test]
fn json_output_holds_the_same_objects() {
    let repo = Repo::example();
    let yaml = repo.run(&["render"]).ok().docs();
    let json = repo.run(&["render", "-o", "json"]).ok();
    assert_eq!(yaml, json.json_items());
    // A v1 List, as kubectl prints several objects: the envelope first, then the items.
    assert!(json.stdout.starts_with("{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"List\",\n  \"metadata\": {},\n  \"items\": ["), "{}", &json.stdout[..80]);
}

#[test]
fn filters_select_tenants_services_and_environments() {
    let repo = Repo::example();
    let kinds = |args: &[&str]| -> Vec<String> {
        repo.run(args)
            .ok()
            .docs()
            .iter()
            .filter(|d| d["kind"] == "Deployment")
            .map(|d| {
                format!(
                    "{}/{}",
                    d["metadata"]["namespace"].as_str().unwrap_or(""),
                    d["metadata"]["name"].as_str().unwrap_or("")
                )
            })
            .collect()
    };
    assert_eq!(
        kinds(&["render", "--tenant", "slurm"]),
        ["slurm/apiserver", "slurm/frontend"]
    );
    assert_eq!(
        kinds(&["render", "-t", "m*", "-s", "auth"]),
        ["mars-university/auth", "tenant-momcorp/auth"]
    );
    assert_eq!(
        kinds(&["render", "--environment", "dev", "--service", "frontend"]),
        ["mars-university/frontend", "slurm/frontend"]
    );
    // A pattern that matches nothing is a mistake, named with the nearest name.
    repo.run(&["render", "--tenant", "nobody"]).fails(&[
        "--tenant `nobody` matches no tenant",
        "the tenants: mars-university, momcorp",
    ]);
    repo.run(&["render", "--tenant", "slrum"]).fails(&[
        "--tenant `slrum` matches no tenant",
        "did you mean `slurm`?",
    ]);
    repo.run(&["render", "-s", "frontnd"]).fails(&[
        "--service `frontnd` matches no service",
        "did you mean `frontend`?",
    ]);
    repo.run(&["render", "-e", "prd"]).fails(&[
        "--environment `prd` matches no environment",
        "did you mean `prod`?",
    ]);
    // Patterns that each match, but not together: nothing to render, also an error.
    repo.run(&["render", "-t", "slurm", "-s", "auth"])
        .fails(&["matches nothing to render"]);
    let dir = repo.path().to_str().expect("utf-8").to_owned();
    for args in [
        vec!["validate"],
        vec!["diff", "--from-dir", &dir, "--to-dir", &dir],
        vec!["affected", "--from-dir", &dir, "--to-dir", &dir],
    ] {
        let command = args[0];
        let mut args = args.clone();
        args.extend(["--tenant", "slrum"]);
        let run = repo.run(&args);
        assert_eq!(run.code, 3, "{command}: {}", run.stderr);
        assert!(
            run.stderr.contains("did you mean `slurm`?"),
            "{command}: {}",
            run.stderr
        );
    }
}

#[test]
fn repo_is_found_by_walking_up() {
    let repo = Repo::example();
    let run = repo
        .run_in(
            "tenants/momcorp/apiserver",
            &["render", "-t", "momcorp", "-s", "auth"],
        )
        .ok();
    assert!(run.stdout.contains("kind: Deployment"));
}

#[test]
fn out_dir_writes_one_file_per_object_and_replaces_whole() {
    let repo = Repo::example();
    let out = repo.path().join("out");
    let out_arg = out.to_string_lossy().into_owned();
    let run = repo.run(&["render", "--out-dir", &out_arg]).ok();
    assert!(run.stdout.is_empty());
    let deployment =
        std::fs::read_to_string(out.join("momcorp/apiserver/deployment-apiserver.yaml"))
            .expect("deployment file");
    assert!(deployment.starts_with("---\napiVersion: apps/v1\n"));
    assert!(out.join("momcorp/namespace-tenant-momcorp.yaml").is_file());
    assert!(
        out.join("planet-express/apiserver/networkpolicy-apiserver-ingress.yaml")
            .is_file()
    );

    // A second render with a filter replaces the directory: nothing stale is left.
    repo.run(&["render", "--tenant", "slurm", "--out-dir", &out_arg])
        .ok();
    assert!(!out.join("momcorp").exists());
    assert!(
        out.join("slurm/frontend/deployment-frontend.yaml")
            .is_file()
    );

    // A directory stencil did not write is never clobbered.
    let mine = repo.path().join("mine");
    std::fs::create_dir_all(&mine).expect("mkdir");
    std::fs::write(mine.join("notes.txt"), "precious").expect("write");
    repo.run(&["render", "--out-dir", &mine.to_string_lossy()])
        .fails(&["is not empty and was not written by stencil"]);
    assert_eq!(
        std::fs::read_to_string(mine.join("notes.txt")).expect("read"),
        "precious"
    );
}

#[test]
fn one_broken_tenant_means_no_output_at_all() {
    Repo::example()
        .file(
            "tenants/slurm/apiserver/version.yaml",
            "image: { tag: latest }\n",
        )
        .run(&["render"])
        .fails(&[
            "refusing image tag",
            "tenants/slurm/apiserver/version.yaml:1:10",
        ]);
}

#[test]
fn guardrails_hold_after_patching() {
    let patch = "\
patches:
  - target: { kind: Deployment, name: api }
    type: json
    patch:
      - { op: replace, path: /spec/template/spec/containers/0/securityContext/readOnlyRootFilesystem, value: false }
";
    Repo::new()
        .file("tenants/acme/api/values.yaml", patch)
        .run(&["render"])
        .fails(&[
            "Deployment acme/api: container `api`: must set readOnlyRootFilesystem: true",
            "error: read-only-root-filesystem tenants/acme/api/values.yaml:2 Deployment acme/api",
            "tenants/acme/api/values.yaml:2:5",
        ]);

    let exception = format!(
        "{}policy:\n  exceptions:\n    - rule: read-only-root-filesystem\n      tenants: [acme]\n      services: [api]\n      reason: legacy app writes its PID file to /var/run; fix tracked in PLAT-123\n",
        common::STENCIL_YAML
    );
    let run = Repo::new()
        .file("stencil.yaml", exception)
        .file("tenants/acme/api/values.yaml", patch)
        .run(&["render"])
        .ok();
    let container = &run.object("Deployment", "api")["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        container["securityContext"]["readOnlyRootFilesystem"],
        false
    );
}

#[test]
fn a_patch_cannot_set_latest_or_a_bad_field() {
    Repo::new()
        .file(
            "tenants/acme/api/values.yaml",
            "patches:\n  - target: { kind: Deployment }\n    type: json\n    patch: [{ op: replace, path: /spec/template/spec/containers/0/image, value: 'registry.example.com/api:latest' }]\n",
        )
        .run(&["render"])
        .fails(&["container `api`", "mutable", "tenants/acme/api/values.yaml:2:5"]);
    Repo::new()
        .file(
            "tenants/acme/api/values.yaml",
            "patches:\n  - target: { kind: Deployment }\n    type: merge\n    patch: { spec: { template: { spec: { nodeSelektor: { a: b } } } } }\n",
        )
        .run(&["render"])
        .fails(&["after patching, Deployment acme/api is invalid: `spec.template.spec.nodeSelektor` is not a field"]);
    Repo::new()
        .file(
            "tenants/acme/api/values.yaml",
            "patches:\n  - target: { kind: Deploymnet }\n    type: merge\n    patch: {}\n",
        )
        .run(&["render"])
        .fails(&[
            "patch targets Deploymnet (any name), which this service does not render",
            "Deployment api",
        ]);
}

#[test]
fn extra_objects_stay_in_the_tenant_namespace_and_pass_guardrails() {
    let run = Repo::new()
        .file(
            "tenants/acme/api/values.yaml",
            "extraObjects:\n  - { apiVersion: v1, kind: ConfigMap, metadata: { name: extra }, data: { a: b } }\n",
        )
        .run(&["render"])
        .ok();
    assert_eq!(
        run.object("ConfigMap", "extra")["metadata"]["namespace"],
        "acme"
    );
    Repo::new()
        .file(
            "tenants/acme/api/values.yaml",
            "extraObjects:\n  - { apiVersion: v1, kind: ConfigMap, metadata: { name: extra, namespace: kube-system } }\n",
        )
        .run(&["render"])
        .fails(&["it is in namespace `kube-system`, but tenant `acme` owns only `acme`"]);
    Repo::new()
        .file(
            "tenants/acme/api/values.yaml",
            "extraObjects:\n  - apiVersion: batch/v1\n    kind: Job\n    metadata: { name: migrate }\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n          containers: [{ name: m, image: 'r/m:1' }]\n",
        )
        .run(&["render"])
        .fails(&["Job acme/migrate: container `m`: must set allowPrivilegeEscalation: false", "tenants/acme/api/values.yaml:2:5"]);
}

#[test]
fn hardened_defaults_are_rendered() {
    let run = Repo::new()
        .file(
            "tenants/acme/api/values.yaml",
            "autoscaling: { minReplicas: 2, maxReplicas: 5 }\n",
        )
        .run(&["render"])
        .ok();
    let deployment = run.object("Deployment", "api");
    let pod = &deployment["spec"]["template"]["spec"];
    let c = &pod["containers"][0];
    assert_eq!(
        c["securityContext"],
        serde_json::json!({"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "runAsNonRoot": true,
            "runAsUser": 1000, "runAsGroup": 1000, "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}})
    );
    assert_eq!(
        c["volumeMounts"],
        serde_json::json!([{"name": "tmp", "mountPath": "/tmp"}])
    );
    assert_eq!(c["startupProbe"]["periodSeconds"], 5);
    assert_eq!(c["startupProbe"]["failureThreshold"], 60);
    assert_eq!(
        deployment["spec"]["strategy"]["rollingUpdate"],
        serde_json::json!({"maxSurge": "25%", "maxUnavailable": 0})
    );
    assert!(
        deployment["spec"]["replicas"].is_null(),
        "the HPA owns replicas"
    );
    assert_eq!(
        pod["topologySpreadConstraints"][0]["topologyKey"],
        "topology.kubernetes.io/zone"
    );
    let checksum = deployment["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    assert_eq!(checksum.len(), 64);
    let hpa = run.object("HorizontalPodAutoscaler", "api");
    assert_eq!(hpa["spec"]["maxReplicas"], 5);

    // An env change changes the checksum, which rolls the pods.
    let changed = Repo::new()
        .file("tenants/acme/api/values.yaml", "autoscaling: { minReplicas: 2, maxReplicas: 5 }\n")
        .file("tenants/acme/api/env.yaml", "NEW: value\n")
        .run(&["render"])
        .ok()
        .object("Deployment", "api")["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
        .clone();
    assert_ne!(changed.as_str().unwrap_or(""), checksum);
}

#[test]
fn digests_pin_the_image() {
    let digest = format!("sha256:{}", "ab".repeat(32));
    let run = Repo::new()
        .file(
            "base/api/version.yaml",
            format!("image: {{ tag: 1.0.0, digest: '{digest}' }}\n"),
        )
        .run(&["render"])
        .ok();
    let c = &run.object("Deployment", "api")["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        c["image"],
        format!("registry.example.com/api:1.0.0@{digest}")
    );
}

#[test]
fn crlf_and_bom_inputs_work() {
    let run = Repo::new()
        .file(
            "tenants/acme/api/values.yaml",
            "\u{feff}replicas: 3\r\nenv:\r\n  A: b\r\n",
        )
        .run(&["render"])
        .ok();
    assert_eq!(run.object("Deployment", "api")["spec"]["replicas"], 3);
    assert_eq!(run.object("ConfigMap", "api-env")["data"]["A"], "b");
}

#[test]
fn logs_go_to_stderr_with_a_span_per_tenant_service() {
    let run = Repo::new()
        .run(&["render", "-vv", "--log-format", "json"])
        .ok();
    assert!(
        run.stdout
            .starts_with("---\napiVersion: v1\nkind: Namespace\n")
    );
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("\"rendered\"") && l.contains("\"objects\""))
        .unwrap_or_else(|| panic!("no per-app log line in:\n{}", run.stderr));
    let event: serde_json::Value = serde_json::from_str(line).expect("JSON log line");
    assert_eq!(event["span"]["tenant"], "acme");
    assert_eq!(event["span"]["service"], "api");
    let quiet = Repo::new().run(&["render", "-q"]).ok();
    assert!(quiet.stderr.is_empty(), "{}", quiet.stderr);
}

#[test]
fn a_removed_sidecar_stays_removed_despite_its_version_pin() {
    let sidecar = "sidecars:\n  - name: helper\n    image: { repository: r/helper }\n    resources: { requests: { cpu: 1m, memory: 1Mi }, limits: { memory: 2Mi } }\n";
    let run = Repo::new()
        .file(
            "base/api/service.yaml",
            format!("{}{sidecar}", common::SERVICE_YAML),
        )
        .file(
            "base/api/version.yaml",
            "image: { tag: 1.0.0 }\nsidecars:\n  - { name: helper, image: { tag: '2.0' } }\n",
        )
        .file("tenants/acme/api/values.yaml", "sidecars: []\n")
        .file(
            "tenants/zeta/tenant.yaml",
            "environment: dev\nservices: [api]\n",
        )
        .run(&["render"])
        .ok();
    let deployments: Vec<serde_json::Value> = run
        .docs()
        .into_iter()
        .filter(|d| d["kind"] == "Deployment")
        .collect();
    let containers = |i: usize| {
        deployments[i]["spec"]["template"]["spec"]["containers"]
            .as_array()
            .map_or(0, Vec::len)
    };
    assert_eq!(deployments[0]["metadata"]["namespace"], "acme");
    assert_eq!(containers(0), 1, "acme removed the sidecar");
    assert_eq!(containers(1), 2, "zeta keeps it");
    assert_eq!(
        deployments[1]["spec"]["template"]["spec"]["containers"][1]["image"],
        "r/helper:2.0"
    );
}

#[test]
fn sidecar_port_names_must_not_collide() {
    let sidecars = "sidecars:\n  - { name: metrics-exporter-a, port: 9100, image: { repository: r/a, tag: '1' }, resources: { requests: { cpu: 1m, memory: 1Mi }, limits: { memory: 2Mi } } }\n  - { name: metrics-exporter-b, port: 9101, image: { repository: r/b, tag: '1' }, resources: { requests: { cpu: 1m, memory: 1Mi }, limits: { memory: 2Mi } } }\n";
    Repo::new()
        .file("tenants/acme/api/values.yaml", sidecars)
        .run(&["render"])
        .fails(&["sidecars `metrics-exporter-a` and `metrics-exporter-b` would both name their port `metrics-exporte`"]);
}

#[test]
fn extra_objects_cannot_be_cluster_scoped() {
    Repo::new()
        .file(
            "tenants/acme/api/values.yaml",
            "extraObjects:\n  - apiVersion: rbac.authorization.k8s.io/v1\n    kind: ClusterRoleBinding\n    metadata: { name: acme-admin }\n    roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin }\n    subjects: [{ kind: ServiceAccount, name: api, namespace: acme }]\n",
        )
        .run(&["render"])
        .fails(&["ClusterRoleBinding is cluster-scoped", "tenants/acme/api/values.yaml:2:5"]);
}

#[test]
fn a_mutable_tag_needs_a_named_exception() {
    let repo = Repo::new().file("tenants/acme/api/version.yaml", "image: { tag: latest }\n");
    repo.run(&["render"])
        .fails(&["refusing image tag of `api`"]);
    let settings = format!(
        "{}policy:\n  exceptions:\n    - rule: mutable-image-tag\n      tenants: [acme]\n      reason: sandbox tenant tracks the nightly build\n",
        common::STENCIL_YAML
    );
    let run = repo.file("stencil.yaml", settings).run(&["render"]).ok();
    assert_eq!(
        run.object("Deployment", "api")["spec"]["template"]["spec"]["containers"][0]["image"],
        "registry.example.com/api:latest"
    );
}

#[test]
fn autoscaling_needs_max_replicas() {
    Repo::new()
        .file(
            "tenants/acme/api/values.yaml",
            "autoscaling: { minReplicas: 2 }\n",
        )
        .run(&["render"])
        .fails(&[
            "autoscaling needs maxReplicas",
            "tenants/acme/api/values.yaml:1:1",
        ]);
}

#[test]
fn patches_cannot_move_or_rename_objects_out_of_bounds() {
    let patch = |p: &str| {
        format!("patches:\n  - target: {{ kind: ConfigMap }}\n    type: merge\n    patch: {p}\n")
    };
    Repo::new()
        .file(
            "tenants/acme/api/values.yaml",
            patch("{ metadata: { name: '/../../../../tmp/escaped' } }"),
        )
        .run(&["render", "--out-dir", "/tmp/never-written"])
        .fails(&["after patching, `/../../../../tmp/escaped` is not a valid object name"]);
    assert!(!std::path::Path::new("/tmp/never-written").exists());
    Repo::new()
        .file(
            "tenants/acme/api/values.yaml",
            patch("{ metadata: { namespace: kube-system } }"),
        )
        .run(&["render"])
        .fails(&[
            "a patch moved ConfigMap kube-system/api-env out of the tenant's namespace `acme`",
        ]);
}

#[test]
fn guardrails_cover_every_pod_template_and_added_capabilities() {
    let rc = "extraObjects:\n  - apiVersion: v1\n    kind: ReplicationController\n    metadata: { name: rc }\n    spec:\n      template:\n        spec:\n          containers: [{ name: c, image: 'r/c:latest', securityContext: { privileged: true } }]\n";
    Repo::new()
        .file("tenants/acme/api/values.yaml", rc)
        .run(&["render"])
        .fails(&[
            "ReplicationController acme/rc: container `c`",
            "mutable",
            "must set allowPrivilegeEscalation: false and not be privileged",
        ]);
    let add = "patches:\n  - target: { kind: Deployment }\n    type: json\n    patch: [{ op: add, path: /spec/template/spec/containers/0/securityContext/capabilities/add, value: [SYS_ADMIN] }]\n";
    Repo::new()
        .file("tenants/acme/api/values.yaml", add)
        .run(&["render"])
        .fails(&[
            "container `api`: must not add capabilities",
            "error: drop-all-capabilities tenants/acme/api/values.yaml:2 ",
        ]);
    let store = "extraObjects:\n  - { apiVersion: external-secrets.io/v1, kind: ClusterSecretStore, metadata: { name: s }, spec: {} }\n";
    Repo::new()
        .file("tenants/acme/api/values.yaml", store)
        .run(&["render"])
        .fails(&["ClusterSecretStore is cluster-scoped"]);
}

#[test]
fn the_main_container_is_found_by_name() {
    // Remove the main container's startup probe and put a hardened decoy first.
    let decoy = "patches:\n  - target: { kind: Deployment }\n    type: json\n    patch:\n      - { op: remove, path: /spec/template/spec/containers/0/startupProbe }\n      - op: add\n        path: /spec/template/spec/containers/0\n        value:\n          name: decoy\n          image: r/d:1\n          startupProbe: { tcpSocket: { port: 1 } }\n          resources: { requests: { cpu: 1m, memory: 1Mi }, limits: { memory: 1Mi } }\n          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: [ALL] } }\n";
    Repo::new()
        .file("tenants/acme/api/values.yaml", decoy)
        .run(&["render"])
        .fails(&["container `api`: must have a startup probe"]);
}

#[test]
fn a_merge_patch_null_deletes_a_field() {
    let run = Repo::new()
        .file(
            "tenants/acme/api/values.yaml",
            "patches:\n  - name: no-history\n    target: { kind: Deployment }\n    type: merge\n    patch: { spec: { revisionHistoryLimit: null } }\n",
        )
        .run(&["render"])
        .ok();
    let spec = &run.object("Deployment", "api")["spec"];
    assert!(spec.get("revisionHistoryLimit").is_none(), "{spec}");
    assert_eq!(spec["replicas"], 2);
}

#[test]
fn out_dir_refuses_two_objects_for_one_file() {
    // A custom resource named like a built-in kind (the platform declares it).
    let settings = format!(
        "{}extraObjects:\n  customResources:\n    - {{ apiVersion: example.com/v1, kind: Deployment }}\n",
        common::STENCIL_YAML
    );
    let repo = Repo::new().file("stencil.yaml", settings).file(
        "tenants/acme/api/values.yaml",
        "extraObjects:\n  - { apiVersion: example.com/v1, kind: Deployment, metadata: { name: api }, spec: {} }\n",
    );
    // The stream holds both (different API groups); one directory cannot.
    assert_eq!(
        repo.run(&["render"])
            .ok()
            .docs()
            .iter()
            .filter(|d| d["kind"] == "Deployment")
            .count(),
        2
    );
    let out = repo.path().join("out");
    repo.run(&["render", "--out-dir", &out.to_string_lossy()])
        .fails(&["Deployment acme/api and Deployment acme/api would both be written to acme/api/deployment-api.yaml"]);
    assert!(!out.exists());
}
