//! Every workload a service may run (issue 19), rendered by the binary end to end: workers,
//! StatefulSets, jobs and cron jobs, init containers, lifecycle, envFrom, extra ports,
//! files and secret files, volumes, scheduling, ingress hosts and TLS, HTTPRoute,
//! ServiceMonitor and PrometheusRule; and the refusals that keep each the platform's call.

use serde_json::{Value, json};

use crate::common::{self, Repo, Run};

const VALUES: &str = "tenants/acme/api/values.yaml";

/// `stencil.yaml` with the placement lists of `tenancy:` filled in.
fn stencil_yaml() -> String {
    format!(
        "{}tenancy:\n  storageClasses: [gp3, efs-sc]\n  csiDrivers: [secrets-store.csi.k8s.io]\n  tolerations:\n    - {{ key: spot, value: \"true\", effect: NoSchedule }}\n    - {{ key: dedicated }}\n  priorityClasses: [tenant-high]\n",
        common::STENCIL_YAML
    )
}

/// The test repository with the placement lists, and `values` as the tenant's values.yaml.
fn repo(values: &str) -> Repo {
    Repo::new()
        .file("stencil.yaml", stencil_yaml())
        .file(VALUES, values)
}

fn render(values: &str) -> Run {
    repo(values).run(&["render", "--service", "api"]).ok()
}

fn kinds(run: &Run) -> Vec<String> {
    run.kinds_and_names()
}

#[test]
fn a_worker_has_no_service_ingress_or_probes() {
    let run = render("workload: worker\nport: null\ningress: { enabled: false }\n");
    let kinds = kinds(&run);
    assert!(
        !kinds.iter().any(|k| k.starts_with("Service ")),
        "{kinds:?}"
    );
    let deployment = run.object("Deployment", "api");
    let main = &deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(main["ports"], Value::Null);
    assert_eq!(main["startupProbe"], Value::Null);
    assert_eq!(main["livenessProbe"], Value::Null);
}

#[test]
fn a_worker_cannot_serve() {
    repo("workload: worker\ningress: { host: api.example.com }\n")
        .run(&["render"])
        .fails(&["a worker cannot have `ingress`", "values.yaml:2"]);
    repo("workload: worker\nmonitoring: { serviceMonitor: {} }\n")
        .run(&["render"])
        .fails(&["a worker cannot have `monitoring`"]);
}

#[test]
fn a_service_without_a_port_must_say_it_is_a_worker() {
    repo("port: null\n")
        .run(&["render"])
        .fails(&["has no port", "`workload: worker`"]);
}

#[test]
fn a_stateful_set_has_a_headless_service_and_claim_templates() {
    let run = render(
        "workload: statefulSet\nstatefulSet: { podManagementPolicy: Parallel }\nvolumes:\n  data:\n    mountPath: /var/lib/data\n    claim: { storageClassName: gp3, size: 10Gi }\n",
    );
    let set = run.object("StatefulSet", "api");
    assert_eq!(set["spec"]["serviceName"], "api-headless");
    assert_eq!(set["spec"]["podManagementPolicy"], "Parallel");
    let template = &set["spec"]["volumeClaimTemplates"][0];
    assert_eq!(template["metadata"]["name"], "data");
    assert_eq!(template["spec"]["storageClassName"], "gp3");
    assert_eq!(template["spec"]["resources"]["requests"]["storage"], "10Gi");
    assert_eq!(template["spec"]["accessModes"], json!(["ReadWriteOnce"]));
    // Mounted from the template, not declared as a pod volume.
    let pod = &set["spec"]["template"]["spec"];
    assert!(
        pod["volumes"]
            .as_array()
            .expect("volumes")
            .iter()
            .all(|v| v["name"] != "data"),
        "{pod}"
    );
    let mounts = &pod["containers"][0]["volumeMounts"];
    assert!(
        mounts
            .as_array()
            .expect("mounts")
            .iter()
            .any(|m| m["name"] == "data" && m["mountPath"] == "/var/lib/data")
    );
    let headless = run.object("Service", "api-headless");
    assert_eq!(headless["spec"]["clusterIP"], "None");
    assert_eq!(headless["spec"]["publishNotReadyAddresses"], true);
    run.object("Service", "api");
    assert!(!kinds(&run).iter().any(|k| k.starts_with("Deployment ")));
    // Autoscaled, the HPA scales the StatefulSet.
    let scaled = render("workload: statefulSet\nautoscaling: { minReplicas: 2, maxReplicas: 4 }\n");
    let hpa = scaled.object("HorizontalPodAutoscaler", "api");
    assert_eq!(hpa["spec"]["scaleTargetRef"]["kind"], "StatefulSet");
    assert!(
        !kinds(&run)
            .iter()
            .any(|k| k.starts_with("PersistentVolumeClaim "))
    );
}

#[test]
fn cron_jobs_get_the_platform_defaults_and_their_own_settings() {
    let run = render(
        "cronJobs:\n  report:\n    schedule: \"*/15 * * * *\"\n    timeZone: Europe/Berlin\n    command: [report]\n  nightly:\n    schedule: \"@daily\"\n    concurrencyPolicy: Replace\n    suspend: true\n    successfulJobsHistoryLimit: 1\n    backoffLimit: 0\n",
    );
    let report = run.object("CronJob", "api-report");
    let spec = &report["spec"];
    assert_eq!(spec["schedule"], "*/15 * * * *");
    assert_eq!(spec["timeZone"], "Europe/Berlin");
    assert_eq!(spec["concurrencyPolicy"], "Forbid");
    assert_eq!(spec["successfulJobsHistoryLimit"], 3);
    assert_eq!(spec["failedJobsHistoryLimit"], 1);
    let job = &spec["jobTemplate"]["spec"];
    assert_eq!(job["backoffLimit"], 2);
    assert_eq!(job["activeDeadlineSeconds"], 3600);
    let pod = &job["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never");
    assert_eq!(pod["serviceAccountName"], "api");
    let c = &pod["containers"][0];
    assert_eq!(c["name"], "report");
    assert_eq!(c["image"], "registry.example.com/api:1.0.0");
    assert_eq!(c["command"], json!(["report"]));
    assert_eq!(c["envFrom"][0]["configMapRef"]["name"], "api-env");
    assert_eq!(
        c["resources"]["limits"]["memory"], "256Mi",
        "the service's resources"
    );
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(c["volumeMounts"][0]["mountPath"], "/tmp");
    // Job pods are not the service's: its Service and PDB must not select them.
    let labels = &job["template"]["metadata"]["labels"];
    assert_eq!(labels["app.kubernetes.io/name"], "api-report");
    let nightly = run.object("CronJob", "api-nightly");
    assert_eq!(nightly["spec"]["concurrencyPolicy"], "Replace");
    assert_eq!(nightly["spec"]["suspend"], true);
    assert_eq!(nightly["spec"]["successfulJobsHistoryLimit"], 1);
    assert_eq!(nightly["spec"]["jobTemplate"]["spec"]["backoffLimit"], 0);
}

#[test]
fn a_hook_job_carries_argo_cd_annotations_and_a_plain_job_a_content_name() {
    let run = render(
        "jobs:\n  migrate:\n    hook: { phase: PreSync, syncWave: -1 }\n    command: [migrate]\n  seed:\n    command: [seed]\n    ttlSecondsAfterFinished: 600\n",
    );
    let migrate = run.object("Job", "api-migrate");
    let notes = &migrate["metadata"]["annotations"];
    assert_eq!(notes["argocd.argoproj.io/hook"], "PreSync");
    assert_eq!(
        notes["argocd.argoproj.io/hook-delete-policy"],
        "BeforeHookCreation"
    );
    assert_eq!(notes["argocd.argoproj.io/sync-wave"], "-1");
    let seeds: Vec<String> = kinds(&run)
        .into_iter()
        .filter(|k| k.starts_with("Job api-seed-"))
        .collect();
    assert_eq!(seeds.len(), 1, "{seeds:?}");
    let seed_name = seeds[0].trim_start_matches("Job ").to_owned();
    assert_eq!(seed_name.len(), "api-seed-".len() + 8, "{seed_name}");
    let seed = run.object("Job", &seed_name);
    assert_eq!(seed["spec"]["ttlSecondsAfterFinished"], 600);
    assert_eq!(seed["metadata"]["annotations"], Value::Null);
    // A new tag is a new Job (a Job's template cannot change in place).
    let bumped = repo("jobs:\n  seed:\n    command: [seed]\n    ttlSecondsAfterFinished: 600\n")
        .file("base/api/version.yaml", "image: { tag: 1.0.1 }\n")
        .run(&["render", "--service", "api"])
        .ok();
    assert!(!kinds(&bumped).contains(&format!("Job {seed_name}")));
}

#[test]
fn jobs_are_checked_where_they_are_written() {
    let cases: [(&str, &[&str]); 7] = [
        (
            "cronJobs:\n  r:\n    command: [r]\n",
            &["cron job `r` has no schedule", "values.yaml:2"],
        ),
        (
            "cronJobs:\n  r:\n    schedule: \"* * *\"\n",
            &["has 3 fields", "values.yaml:3"],
        ),
        (
            "cronJobs:\n  r:\n    schedule: \"CRON_TZ=UTC * * * * *\"\n",
            &["time zone in the schedule"],
        ),
        (
            "cronJobs:\n  r:\n    schedule: \"@daily\"\n    hook: { phase: PreSync }\n",
            &[
                "`hook` does not apply to cronJobs",
                "declare it under `jobs:`",
            ],
        ),
        (
            "jobs:\n  m:\n    schedule: \"@daily\"\n",
            &["job `m` has a schedule", "`cronJobs:`"],
        ),
        (
            "jobs:\n  m:\n    concurrencyPolicy: Allow\n",
            &["`concurrencyPolicy` does not apply to jobs"],
        ),
        (
            "jobs:\n  Bad_Name: {}\n",
            &["job name `Bad_Name` is not a valid Kubernetes name"],
        ),
    ];
    for (values, needles) in cases {
        repo(values).run(&["render"]).fails(needles);
    }
}

#[test]
fn a_job_with_a_latest_tag_is_refused() {
    repo("jobs:\n  m:\n    image: { tag: latest }\n")
        .run(&["render"])
        .fails(&[
            "mutable-image-tag",
            "refusing image tag of `m`",
            "values.yaml:3",
        ]);
    repo("cronJobs:\n  r:\n    schedule: \"@daily\"\n    image: { repository: registry.example.com/tool }\n")
        .file("base/api/version.yaml", "image: { tag: latest }\n")
        .run(&["render"])
        .fails(&["mutable-image-tag"]);
}

#[test]
fn init_containers_lifecycle_env_from_and_ports_render() {
    let run = render(
        "ports: { metrics: 9100 }\nlifecycle:\n  preStop: { sleepSeconds: 10 }\ninitContainers:\n  - name: wait\n    command: [wait-for, db]\n    env: { TIMEOUT: \"30\" }\nenvFrom:\n  - configMap: shared-settings\n    prefix: SHARED_\n  - secret: vendor-keys\n    optional: true\n",
    );
    let d = run.object("Deployment", "api");
    let pod = &d["spec"]["template"]["spec"];
    let main = &pod["containers"][0];
    assert_eq!(main["lifecycle"]["preStop"]["sleep"]["seconds"], 10);
    assert_eq!(
        main["ports"],
        json!([{ "containerPort": 8000, "name": "http", "protocol": "TCP" }, { "containerPort": 9100, "name": "metrics", "protocol": "TCP" }])
    );
    let env_from = main["envFrom"].as_array().expect("envFrom");
    assert!(
        env_from.contains(
            &json!({ "configMapRef": { "name": "shared-settings" }, "prefix": "SHARED_" })
        )
    );
    assert!(
        env_from.contains(&json!({ "secretRef": { "name": "vendor-keys", "optional": true } }))
    );
    let init = &pod["initContainers"][0];
    assert_eq!(init["name"], "wait");
    assert_eq!(init["image"], "registry.example.com/api:1.0.0");
    assert_eq!(init["env"], json!([{ "name": "TIMEOUT", "value": "30" }]));
    assert_eq!(init["securityContext"]["allowPrivilegeEscalation"], false);
    assert_eq!(init["resources"]["requests"]["cpu"], "100m");
    assert_eq!(
        init["volumeMounts"],
        json!([{ "mountPath": "/tmp", "name": "tmp-wait" }])
    );
    let service = run.object("Service", "api");
    assert_eq!(service["spec"]["ports"][1]["name"], "metrics");
}

#[test]
fn files_are_mounted_from_a_config_map_and_roll_the_pods() {
    let values = "files:\n  /etc/app/settings.toml: { content: \"mode = 'fast'\\n\" }\n  /etc/app/nginx.conf: { from: nginx.conf }\n";
    let run = repo(values)
        .file(
            "tenants/acme/api/nginx.conf",
            "worker_processes 1; # {{ not a template }}\n",
        )
        .run(&["render", "--service", "api"])
        .ok();
    let cm = run.object("ConfigMap", "api-files");
    assert_eq!(
        cm["data"],
        json!({ "etc_app_nginx.conf": "worker_processes 1; # {{ not a template }}\n", "etc_app_settings.toml": "mode = 'fast'\n" })
    );
    let d = run.object("Deployment", "api");
    let mounts = d["spec"]["template"]["spec"]["containers"][0]["volumeMounts"].clone();
    assert!(mounts.as_array().expect("mounts").contains(&json!({ "mountPath": "/etc/app/nginx.conf", "name": "files", "readOnly": true, "subPath": "etc_app_nginx.conf" })));
    let checksum = |run: &Run| {
        run.object("Deployment", "api")["spec"]["template"]["metadata"]["annotations"]["checksum/config"].clone()
    };
    let changed = repo(values)
        .file("tenants/acme/api/nginx.conf", "worker_processes 2;\n")
        .run(&["render", "--service", "api"])
        .ok();
    assert_ne!(checksum(&run), checksum(&changed));
}

#[test]
fn a_file_from_outside_the_layer_folder_is_refused() {
    for from in [
        "../../../stencil.yaml",
        "/etc/passwd",
        "../other/secrets.enc.yaml",
    ] {
        repo(&format!("files:\n  /etc/x: {{ from: \"{from}\" }}\n"))
            .run(&["render"])
            .fails(&["relative path without `..`", "values.yaml:2"]);
    }
    repo("files:\n  /etc/x: { from: missing.conf }\n")
        .run(&["render"])
        .fails(&["tenants/acme/api/missing.conf does not exist"]);
    repo("files:\n  /etc/x: { from: a.conf, content: x }\n")
        .file("tenants/acme/api/a.conf", "x")
        .run(&["render"])
        .fails(&["both `content` and `from`"]);
    // A symlink to another folder of the same tenant is refused too: `from:` stays in the
    // folder of the file that names it.
    repo("files:\n  /etc/x: { from: dir/other.conf }\n")
        .file("tenants/acme/tenant.yaml", "kind: Tenant\nenvironment: dev\nservices: [api, web]\n")
        .file("base/web/service.yaml", common::SERVICE_YAML)
        .file("base/web/version.yaml", common::VERSION_YAML)
        .file("tenants/acme/web/other.conf", "web's")
        .symlink("tenants/acme/api/dir", "../web")
        .run(&["render"])
        .fails(&[
            "tenants/acme/api/dir/other.conf is a symlink to tenants/acme/web/other.conf, outside tenants/acme/api/",
            "values.yaml:2",
        ]);
    // All the files together fit one ConfigMap (1 MiB): reading stops there.
    let big = "x".repeat(700 << 10);
    repo("files:\n  /etc/a: { from: a.conf }\n  /etc/b: { from: b.conf }\n")
        .file("tenants/acme/api/a.conf", &big)
        .file("tenants/acme/api/b.conf", &big)
        .run(&["render"])
        .fails(&["files./etc/b.from"]);
    // A symlink out of the tenant's folder is refused by the source (rule symlink-boundary).
    repo("files:\n  /etc/x: { from: link.conf }\n")
        .file("base/api/private.conf", "platform only")
        .symlink(
            "tenants/acme/api/link.conf",
            "../../../base/api/private.conf",
        )
        .run(&["render"])
        .fails(&["symlink"]);
}

#[test]
fn mount_paths_are_absolute_and_used_once() {
    let cases: [(&str, &str); 4] = [
        ("files:\n  etc/x: { content: a }\n", "must be absolute"),
        ("files:\n  /tmp/x: { content: a }\n", "under /tmp"),
        (
            "files:\n  /etc/a/../b: { content: a }\n",
            "must be normalised",
        ),
        (
            "files:\n  /data: { content: a }\nvolumes:\n  d: { mountPath: /data, emptyDir: {} }\n",
            "`/data` is mounted twice",
        ),
    ];
    for (values, needle) in cases {
        repo(values).run(&["render"]).fails(&[needle]);
    }
}

#[test]
fn volumes_render_with_their_defaults() {
    let run = render(
        "volumes:\n  scratch: { mountPath: /scratch, emptyDir: {} }\n  shared:\n    mountPath: /shared\n    claim: { storageClassName: efs-sc, size: 5Gi, accessModes: [ReadWriteMany] }\n  legacy: { mountPath: /legacy, existingClaim: legacy-data, readOnly: true }\n  certs:\n    mountPath: /certs\n    csi: { driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: { secretProviderClass: certs } }\n",
    );
    let pvc = run.object("PersistentVolumeClaim", "api-shared");
    assert_eq!(pvc["spec"]["storageClassName"], "efs-sc");
    assert_eq!(pvc["spec"]["accessModes"], json!(["ReadWriteMany"]));
    assert_eq!(
        pvc["metadata"]["annotations"]["argocd.argoproj.io/sync-options"],
        "Prune=false"
    );
    let d = run.object("Deployment", "api");
    let volumes = d["spec"]["template"]["spec"]["volumes"]
        .as_array()
        .expect("volumes")
        .clone();
    let by_name = |n: &str| volumes.iter().find(|v| v["name"] == n).cloned().expect(n);
    assert_eq!(by_name("scratch")["emptyDir"]["sizeLimit"], "1Gi");
    assert_eq!(
        by_name("shared")["persistentVolumeClaim"]["claimName"],
        "api-shared"
    );
    assert_eq!(
        by_name("legacy")["persistentVolumeClaim"],
        json!({ "claimName": "legacy-data", "readOnly": true })
    );
    assert_eq!(
        by_name("certs")["csi"]["driver"],
        "secrets-store.csi.k8s.io"
    );
}

#[test]
fn storage_the_platform_does_not_list_is_refused() {
    repo("volumes:\n  d: { mountPath: /d, claim: { storageClassName: io2-fast, size: 1Ti } }\n")
        .run(&["render"])
        .fails(&[
            "storage",
            "volume `d`: storage class `io2-fast` is not one the platform offers tenants (gp3, efs-sc)",
            "values.yaml:2",
        ]);
    repo("workload: statefulSet\nvolumes:\n  d: { mountPath: /d, claim: { storageClassName: io2-fast, size: 1Ti } }\n")
        .run(&["render"])
        .fails(&["storage class `io2-fast`", "values.yaml:3"]);
    repo("volumes:\n  d: { mountPath: /d, csi: { driver: efs.csi.aws.com } }\n")
        .run(&["render"])
        .fails(&["CSI driver `efs.csi.aws.com` is not one the platform offers tenants"]);
    // A patch cannot slip a class past the rule either: it runs on the built objects too.
    repo("volumes:\n  d: { mountPath: /d, claim: { storageClassName: gp3, size: 1Gi } }\npatches:\n  - target: { kind: PersistentVolumeClaim, name: api-d }\n    type: merge\n    patch: { spec: { storageClassName: io2-fast } }\n")
        .run(&["render"])
        .fails(&["spec.storageClassName: storage class `io2-fast`"]);
    // A StatefulSet patched likewise is caught on its volumeClaimTemplates.
    repo("workload: statefulSet\nvolumes:\n  d: { mountPath: /d, claim: { storageClassName: gp3, size: 1Gi } }\npatches:\n  - target: { kind: StatefulSet, name: api }\n    type: json\n    patch: [{ op: replace, path: /spec/volumeClaimTemplates/0/spec/storageClassName, value: io2-fast }]\n")
        .run(&["render"])
        .fails(&["spec.volumeClaimTemplates[0].spec.storageClassName"]);
    // Without a class, the cluster's default: always allowed.
    render("volumes:\n  d: { mountPath: /d, claim: { size: 1Gi } }\n");
}

#[test]
fn scheduling_renders_and_stays_within_the_platform_lists() {
    let run = render(
        "scheduling:\n  nodeSelector: { kubernetes.io/arch: arm64 }\n  tolerations:\n    - { key: spot, value: \"true\", effect: NoSchedule }\n    - { key: dedicated, operator: Exists }\n  antiAffinity: { topology: zone, required: true }\n  priorityClassName: tenant-high\ncronJobs:\n  r: { schedule: \"@daily\" }\n",
    );
    let pod = run.object("Deployment", "api")["spec"]["template"]["spec"].clone();
    assert_eq!(
        pod["nodeSelector"],
        json!({ "kubernetes.io/arch": "arm64" })
    );
    assert_eq!(pod["priorityClassName"], "tenant-high");
    assert_eq!(
        pod["tolerations"][1],
        json!({ "key": "dedicated", "operator": "Exists" })
    );
    let term =
        &pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0];
    assert_eq!(term["topologyKey"], "topology.kubernetes.io/zone");
    assert_eq!(
        term["labelSelector"]["matchLabels"]["app.kubernetes.io/name"],
        "api"
    );
    // A job's pod gets the placement but no anti-affinity (it has no replicas to spread).
    let job =
        run.object("CronJob", "api-r")["spec"]["jobTemplate"]["spec"]["template"]["spec"].clone();
    assert_eq!(job["tolerations"], pod["tolerations"]);
    assert_eq!(job["affinity"], Value::Null);
}

#[test]
fn placement_the_platform_does_not_grant_is_refused() {
    let cases: [(&str, &[&str]); 5] = [
        (
            "scheduling:\n  tolerations: [{ key: node-role.kubernetes.io/control-plane, operator: Exists }]\n",
            &[
                "node-placement",
                "lets the pod onto control-plane nodes",
                "values.yaml:2",
            ],
        ),
        (
            "scheduling:\n  tolerations: [{ key: gpu, operator: Exists }]\n",
            &[
                "tolerations",
                "toleration of `gpu` is not one the platform lets tenants use (spot, dedicated)",
                "values.yaml:2",
            ],
        ),
        (
            // `spot` is granted for value "true" only: Exists would tolerate every value.
            "scheduling:\n  tolerations: [{ key: spot, operator: Exists, effect: NoSchedule }]\n",
            &["tolerations", "toleration of `spot` is not one"],
        ),
        (
            "scheduling:\n  priorityClassName: system-cluster-critical\n",
            &[
                "node-placement",
                "would preempt other tenants' pods",
                "values.yaml:2",
            ],
        ),
        (
            "scheduling:\n  priorityClassName: batch-high\n",
            &[
                "priority-classes",
                "priority class `batch-high` is not one the platform offers tenants (tenant-high)",
                "values.yaml:2",
            ],
        ),
    ];
    for (values, needles) in cases {
        repo(values).run(&["render"]).fails(needles);
    }
}

#[test]
fn ingress_hosts_paths_and_tls_render() {
    let run = render(
        "ingress:\n  host: api-acme.dev.example.com\n  hosts: [www-acme.dev.example.com]\n  paths: [/v2]\n  tls: { clusterIssuer: letsencrypt }\n",
    );
    let ingress = run.object("Ingress", "api");
    assert_eq!(
        ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"],
        "letsencrypt"
    );
    assert_eq!(
        ingress["spec"]["tls"],
        json!([{ "hosts": ["api-acme.dev.example.com", "www-acme.dev.example.com"], "secretName": "api-tls" }])
    );
    let rules = ingress["spec"]["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[1]["http"]["paths"][0]["path"], "/v2");
}

#[test]
fn an_nginx_ingress_gets_no_load_balancer_annotations() {
    let run = Repo::new()
        .file(
            "base/api/service.yaml",
            format!(
                "{}ingress: {{ host: api-acme.dev.example.com, className: nginx }}\n",
                common::SERVICE_YAML
            ),
        )
        .run(&["render", "--service", "api"])
        .ok();
    let ingress = run.object("Ingress", "api");
    assert_eq!(ingress["spec"]["ingressClassName"], "nginx");
    assert_eq!(ingress["metadata"]["annotations"], Value::Null);
}

#[test]
fn an_http_route_serves_the_service_through_a_gateway() {
    let run = render(
        "httpRoute:\n  gateway: { name: public, namespace: gateway-system, sectionName: https }\n  hosts: [api-acme.dev.example.com]\n  paths: [/api, /v2]\n",
    );
    let route = run.object("HTTPRoute", "api");
    assert_eq!(route["apiVersion"], "gateway.networking.k8s.io/v1");
    assert_eq!(route["spec"]["parentRefs"][0]["sectionName"], "https");
    assert_eq!(
        route["spec"]["rules"][0]["backendRefs"],
        json!([{ "name": "api", "port": 8000 }])
    );
    assert_eq!(
        route["spec"]["rules"][0]["matches"][1]["path"],
        json!({ "type": "PathPrefix", "value": "/v2" })
    );
    // Another tenant's host is refused (rule tenant-hosts).
    repo("httpRoute:\n  gateway: { name: public, namespace: gateway-system }\n  hosts: [api.other.example.com]\n")
        .run(&["render"])
        .fails(&["tenant-hosts", "httpRoute.hosts: host `api.other.example.com`", "values.yaml:3"]);
    repo("ingress:\n  host: api-acme.dev.example.com\n  hosts: [shop.other.example.com]\n")
        .run(&["render"])
        .fails(&[
            "tenant-hosts",
            "ingress.hosts: host `shop.other.example.com`",
        ]);
}

#[test]
fn a_service_monitor_and_alerts_render() {
    let run = render(
        "ports: { metrics: 9100 }\nmonitoring:\n  serviceMonitor: { port: metrics, interval: 15s }\n  alerts:\n    ApiDown:\n      expr: up{job=\"api\"} == 0\n      for: 5m\n      labels: { severity: page }\n",
    );
    let sm = run.object("ServiceMonitor", "api");
    assert_eq!(
        sm["spec"]["endpoints"],
        json!([{ "port": "metrics", "path": "/metrics", "interval": "15s" }])
    );
    let rule = run.object("PrometheusRule", "api");
    let alert = &rule["spec"]["groups"][0]["rules"][0];
    assert_eq!(alert["alert"], "ApiDown");
    assert_eq!(alert["for"], "5m");
    assert_eq!(alert["labels"]["severity"], "page");
    assert_eq!(alert["labels"]["stencil_dev_tenant"], "acme");
    repo("monitoring:\n  serviceMonitor: { port: metrics }\n")
        .run(&["render"])
        .fails(&["scrapes port `metrics`, which the service does not name"]);
}

#[test]
fn a_load_balancer_service_needs_the_platform_s_exception() {
    repo("serviceType: LoadBalancer\n")
        .run(&["render"])
        .fails(&["service-type"]);
    let granted = format!(
        "{}policy:\n  exceptions:\n    - {{ rule: service-type, tenants: [acme], reason: \"partner VPN endpoint\" }}\n",
        stencil_yaml()
    );
    let run = Repo::new()
        .file("stencil.yaml", granted)
        .file(VALUES, "serviceType: LoadBalancer\n")
        .run(&["render", "--service", "api"])
        .ok();
    assert_eq!(run.object("Service", "api")["spec"]["type"], "LoadBalancer");
}

#[test]
fn container_options_are_checked_where_they_are_written() {
    let cases: [(&str, &str); 9] = [
        (
            "ports: { http: 9000 }\n",
            "port name `http` is the main port's",
        ),
        (
            "ports: { metrics: 8000 }\n",
            "port 8000 is already the main container's",
        ),
        (
            "ports: { Metrics_Port: 9000 }\n",
            "is not a valid port name",
        ),
        (
            "lifecycle:\n  preStop: { sleepSeconds: 5, exec: [x] }\n",
            "needs exactly one of exec, sleepSeconds, httpGet",
        ),
        (
            "lifecycle:\n  preStop: { httpGet: drain }\n",
            "must be a path starting with `/`",
        ),
        (
            "envFrom:\n  - { configMap: a, secret: b }\n",
            "names exactly one of configMap, secret",
        ),
        (
            "envFrom:\n  - { configMap: a, prefix: \"1X\" }\n",
            "does not start a valid variable name",
        ),
        (
            "volumes:\n  d: { mountPath: /d, emptyDir: {}, existingClaim: x }\n",
            "needs exactly one of emptyDir, claim, existingClaim, csi",
        ),
        (
            "volumes:\n  tmp: { mountPath: /d, emptyDir: {} }\n",
            "volume name `tmp` is stencil's own",
        ),
    ];
    for (values, needle) in cases {
        repo(values)
            .run(&["render"])
            .fails(&[needle, "values.yaml:"]);
    }
}

#[test]
fn secret_files_mount_keys_of_the_secrets_file() {
    let repo = repo("secretFiles:\n  /etc/stripe/api-key: STRIPE_KEY\n").with_sops_rule();
    let file = repo.path().join("tenants/acme/api/secrets.enc.yaml");
    let file = file.to_str().expect("utf-8");
    repo.set_secret(file, "STRIPE_KEY", "sk_test_123");
    let key = common::demo_key();
    let key = key.to_str().expect("utf-8");
    let env = [("SOPS_AGE_KEY_FILE", Some(key))];
    let run = repo.run_env(&["render", "--service", "api"], &env).ok();
    let d = run.object("Deployment", "api");
    let pod = &d["spec"]["template"]["spec"];
    let volume = pod["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .find(|v| v["name"] == "secret-files")
        .cloned()
        .expect("secret-files volume");
    assert_eq!(
        volume["secret"],
        json!({ "secretName": "api-secrets", "defaultMode": 0o440 })
    );
    let mounts = pod["containers"][0]["volumeMounts"]
        .as_array()
        .expect("mounts")
        .clone();
    assert!(mounts.contains(&json!({ "mountPath": "/etc/stripe/api-key", "name": "secret-files", "readOnly": true, "subPath": "STRIPE_KEY" })));
    // A key the file does not hold is refused where it is named, with the nearest key.
    repo.file(VALUES, "secretFiles:\n  /etc/stripe/api-key: STRIPE_KYE\n")
        .run_env(&["render"], &env)
        .fails(&[
            "names `STRIPE_KYE`, which secrets.enc.yaml does not hold",
            "did you mean `STRIPE_KEY`?",
        ]);
}

#[test]
fn a_patch_cannot_add_placement_the_platform_did_not_grant() {
    let patch = |field: &str| {
        format!(
            "patches:\n  - target: {{ kind: Deployment, name: api }}\n    type: merge\n    patch: {{ spec: {{ template: {{ spec: {{ {field} }} }} }} }}\n"
        )
    };
    repo(&patch("tolerations: [{ key: gpu, operator: Exists }]"))
        .run(&["render"])
        .fails(&["tolerations", "spec.template.spec.tolerations[0]: `gpu` is not a taint the platform lets tenants tolerate"]);
    repo(&patch("priorityClassName: batch-high"))
        .run(&["render"])
        .fails(&[
            "priority-classes",
            "spec.template.spec.priorityClassName: `batch-high`",
        ]);
    repo(&patch(
        "volumes: [{ name: x, csi: { driver: efs.csi.aws.com } }]",
    ))
    .run(&["render"])
    .fails(&[
        "storage",
        "`efs.csi.aws.com` is not a CSI driver the platform offers tenants",
    ]);
}

/// Findings of a review (issue 19): each was rendered with exit 0 before.
#[test]
fn review_findings_are_refused_where_they_are_written() {
    let cases: [(&str, &str); 7] = [
        (
            "ports: { metrics: 9200, dup: 9200 }\n",
            "port 9200 is already the main container's, a sidecar's or another of `ports`",
        ),
        (
            "files:\n  /..a: { content: x }\n",
            "ConfigMap key starting with `..`",
        ),
        (
            "monitoring:\n  alerts:\n    A: { expr: up == 0, labels: { bad-key: x } }\n",
            "`bad-key` is not a Prometheus label name",
        ),
        (
            "monitoring:\n  alerts:\n    A: { expr: up == 0, labels: { stencil_dev_tenant: other } }\n",
            "label `stencil_dev_tenant` is stencil's",
        ),
        (
            "ingress:\n  host: api-acme.dev.example.com\n  paths: [/a//b]\n",
            "is not a plain path prefix",
        ),
        (
            "httpRoute:\n  gateway: { name: gw, namespace: gateway-system }\n  hosts: [api-acme.dev.example.com]\n  paths: [\"/x?y\"]\n",
            "is not a plain path prefix",
        ),
        (
            "cronJobs:\n  r: { schedule: \"99 99 foo bar baz\" }\n",
            "is not a valid minute",
        ),
    ];
    for (values, needle) in cases {
        repo(values)
            .run(&["render"])
            .fails(&[needle, "values.yaml:"]);
    }
}

#[test]
fn a_patch_cannot_retarget_a_service_or_an_alert() {
    repo("patches:\n  - target: { kind: Service, name: api }\n    type: merge\n    patch: { spec: { selector: { app.kubernetes.io/name: api-m } } }\n")
        .run(&["render"])
        .fails(&["platform-labels", "a patch changes spec.selector of Service acme/api"]);
    repo("monitoring:\n  alerts:\n    Boom: { expr: vector(1) }\npatches:\n  - target: { kind: PrometheusRule }\n    type: json\n    patch: [{ op: replace, path: /spec/groups/0/rules/0/labels/stencil_dev_tenant, value: other }]\n")
        .run(&["render"])
        .fails(&["platform-labels", "stencil_dev_tenant"]);
}

#[test]
fn a_plain_job_is_named_after_its_patched_content_and_runs_its_own_command() {
    let name = |arg: &str| {
        let values = format!(
            "jobs:\n  m: {{}}\npatches:\n  - target: {{ kind: Job, name: api-m }}\n    type: json\n    patch: [{{ op: add, path: /spec/template/spec/containers/0/args, value: [{arg}] }}]\n"
        );
        let run = render(&values);
        let jobs: Vec<String> = kinds(&run)
            .into_iter()
            .filter(|k| k.starts_with("Job "))
            .collect();
        assert_eq!(jobs.len(), 1, "{jobs:?}");
        let job = run.object("Job", jobs[0].trim_start_matches("Job "));
        assert_eq!(
            job["spec"]["template"]["spec"]["containers"][0]["command"],
            Value::Null,
            "the image's entrypoint"
        );
        jobs[0].clone()
    };
    assert_ne!(name("one"), name("two"), "a patched pod is a new Job");
}

#[test]
fn a_service_monitor_of_a_stateful_set_skips_its_headless_service() {
    let run = render("workload: statefulSet\nmonitoring: { serviceMonitor: {} }\n");
    assert_eq!(
        run.object("Service", "api-headless")["metadata"]["labels"]["stencil.dev/headless"],
        "true"
    );
    let sm = run.object("ServiceMonitor", "api");
    assert_eq!(
        sm["spec"]["selector"]["matchExpressions"],
        json!([{ "key": "stencil.dev/headless", "operator": "DoesNotExist" }])
    );
}

#[test]
fn every_way_to_name_storage_is_checked() {
    let pvc = |spec: &str, annotations: &str| {
        format!(
            "extraObjects:\n  - apiVersion: v1\n    kind: PersistentVolumeClaim\n    metadata: {{ name: x{annotations} }}\n    spec: {{ accessModes: [ReadWriteOnce], resources: {{ requests: {{ storage: 1Gi }} }}{spec} }}\n"
        )
    };
    repo(&pvc("", ", annotations: { volume.beta.kubernetes.io/storage-class: io2-premium }"))
        .run(&["render"])
        .fails(&["storage", "metadata.annotations[volume.beta.kubernetes.io/storage-class]: storage class `io2-premium`"]);
    repo(&pvc(", volumeName: pv-of-another-tenant", ""))
        .run(&["render"])
        .fails(&[
            "storage",
            "spec.volumeName: binds a PersistentVolume by name",
        ]);
    repo(&pvc(", volumeAttributesClassName: fast", ""))
        .run(&["render"])
        .fails(&["storage", "spec.volumeAttributesClassName"]);
    repo("patches:\n  - target: { kind: Deployment, name: api }\n    type: json\n    patch: [{ op: add, path: /spec/template/spec/volumes/-, value: { name: s, ephemeral: { volumeClaimTemplate: { spec: { storageClassName: io2-premium, accessModes: [ReadWriteOnce], resources: { requests: { storage: 1Gi } } } } } } }]\n")
        .run(&["render"])
        .fails(&["storage", "ephemeral.volumeClaimTemplate.spec.storageClassName: storage class `io2-premium`"]);
}
