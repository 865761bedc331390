//! Every merge rule, end to end: a layered fixture repo rendered by the real binary.

use crate::common;

use crate::common::Repo;
use serde_json::json;

fn config(run: &common::Run) -> serde_json::Value {
    run.object("ConfigMap", "api-env")["data"].clone()
}

fn container(run: &common::Run, index: usize) -> serde_json::Value {
    run.object("Deployment", "api")["spec"]["template"]["spec"]["containers"][index].clone()
}

#[test]
fn maps_merge_deeply_and_scalars_replace() {
    let run = Repo::new()
        .file(
            "base/api/prod.yaml",
            "extends: base/api/service.yaml\nresources: { requests: { cpu: 500m } }\n",
        )
        .file(
            "tenants/acme/api/values.yaml",
            "extends: base/api/prod.yaml\nresources: { limits: { memory: 1Gi } }\n",
        )
        .run(&["render"])
        .ok();
    assert_eq!(
        container(&run, 0)["resources"],
        json!({"requests": {"cpu": "500m", "memory": "128Mi"}, "limits": {"memory": "1Gi"}})
    );
}

#[test]
fn later_layers_win_in_the_documented_order() {
    // chain (service -> prod) -> values -> env.yaml -> base version -> tenant version
    let run = Repo::new()
        .file(
            "base/api/prod.yaml",
            "extends: base/api\nenv: { A: prod, B: prod, C: prod }\nreplicas: 3\n",
        )
        .file(
            "tenants/acme/api/values.yaml",
            "extends: base/api/prod.yaml\nenv: { B: values, C: values }\nreplicas: 4\n",
        )
        .file("tenants/acme/api/env.yaml", "C: env\n")
        .file("tenants/acme/api/version.yaml", "image: { tag: 0.9.0 }\n")
        .run(&["render"])
        .ok();
    let data = config(&run);
    assert_eq!(data["LOG_LEVEL"], "info");
    assert_eq!(data["A"], "prod");
    assert_eq!(data["B"], "values");
    assert_eq!(data["C"], "env");
    assert_eq!(run.object("Deployment", "api")["spec"]["replicas"], 4);
    assert_eq!(
        container(&run, 0)["image"],
        "registry.example.com/api:0.9.0"
    );
}

#[test]
fn base_version_applies_without_a_pin() {
    let run = Repo::new().run(&["render"]).ok();
    assert_eq!(
        container(&run, 0)["image"],
        "registry.example.com/api:1.0.0"
    );
}

#[test]
fn a_tenant_without_values_builds_on_the_base() {
    let run = Repo::new().run(&["render"]).ok();
    assert_eq!(config(&run), json!({"LOG_LEVEL": "info"}));
}

#[test]
fn values_without_extends_build_on_the_base() {
    let run = Repo::new()
        .file("tenants/acme/api/values.yaml", "replicas: 5\n")
        .run(&["render"])
        .ok();
    assert_eq!(run.object("Deployment", "api")["spec"]["replicas"], 5);
    assert_eq!(config(&run)["LOG_LEVEL"], "info");
}

#[test]
fn extends_a_list_later_entries_win() {
    let run = Repo::new()
        .file(
            "base/api/big.yaml",
            "replicas: 10\nenv: { SIZE: big, BIG: 'yes' }\n",
        )
        .file("base/api/small.yaml", "replicas: 1\nenv: { SIZE: small }\n")
        .file(
            "tenants/acme/api/values.yaml",
            "extends: [base/api, base/api/big.yaml, base/api/small.yaml]\n",
        )
        .run(&["render"])
        .ok();
    assert_eq!(run.object("Deployment", "api")["spec"]["replicas"], 1);
    assert_eq!(
        config(&run),
        json!({"LOG_LEVEL": "info", "SIZE": "small", "BIG": "yes"})
    );
}

#[test]
fn plain_lists_replace() {
    let run = Repo::new()
        .file(
            "base/api/service.yaml",
            format!("{}args: [a, b, c]\n", common::SERVICE_YAML),
        )
        .file("tenants/acme/api/values.yaml", "args: [z]\n")
        .run(&["render"])
        .ok();
    assert_eq!(container(&run, 0)["args"], json!(["z"]));
}

const SIDECARS: &str = "\
sidecars:
  - name: one
    image: { repository: r/one, tag: '1' }
    port: 3000
    env: { X: x }
    resources: { requests: { cpu: 1m, memory: 1Mi }, limits: { memory: 2Mi } }
  - name: two
    image: { repository: r/two, tag: '2' }
    resources: { requests: { cpu: 1m, memory: 1Mi }, limits: { memory: 2Mi } }
";

#[test]
fn named_lists_merge_by_name() {
    let run = Repo::new()
        .file("base/api/service.yaml", format!("{}{SIDECARS}", common::SERVICE_YAML))
        .file(
            "tenants/acme/api/values.yaml",
            "sidecars:\n  - { name: two, image: { tag: '2.1' } }\n  - name: three\n    image: { repository: r/three, tag: '3' }\n    resources: { requests: { cpu: 1m, memory: 1Mi }, limits: { memory: 2Mi } }\n  - { name: one, env: { Y: y } }\n",
        )
        .run(&["render"])
        .ok();
    let names: Vec<String> = (0..4)
        .map(|i| container(&run, i)["name"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(names, ["api", "one", "two", "three"]);
    assert_eq!(
        container(&run, 1)["env"],
        json!([{"name": "X", "value": "x"}, {"name": "Y", "value": "y"}])
    );
    assert_eq!(container(&run, 2)["image"], "r/two:2.1");
    assert_eq!(container(&run, 3)["image"], "r/three:3");
}

#[test]
fn an_empty_list_clears_and_replace_tag_replaces() {
    let base = Repo::new().file(
        "base/api/service.yaml",
        format!("{}{SIDECARS}", common::SERVICE_YAML),
    );
    let run = base
        .file("tenants/acme/api/values.yaml", "sidecars: []\n")
        .run(&["render"])
        .ok();
    assert!(container(&run, 1).is_null());

    let run = Repo::new()
        .file("base/api/service.yaml", format!("{}{SIDECARS}", common::SERVICE_YAML))
        .file(
            "tenants/acme/api/values.yaml",
            "sidecars: !replace\n  - name: two\n    image: { repository: r/other, tag: '9' }\n    resources: { requests: { cpu: 1m, memory: 1Mi }, limits: { memory: 2Mi } }\nenv: !replace { ONLY: this }\n",
        )
        .run(&["render"])
        .ok();
    assert_eq!(container(&run, 1)["image"], "r/other:9");
    assert!(container(&run, 2).is_null());
    assert_eq!(config(&run), json!({"ONLY": "this"}));
}

#[test]
fn null_deletes_a_key() {
    let run = Repo::new()
        .file(
            "tenants/acme/api/values.yaml",
            "env: { LOG_LEVEL: null, NEW: 'n' }\n",
        )
        .file("tenants/acme/api/env.yaml", "NEW: ~\nOTHER: 1\n")
        .run(&["render"])
        .ok();
    assert_eq!(config(&run), json!({"OTHER": "1"}));
}

#[test]
fn scalars_keep_the_text_written() {
    let run = Repo::new()
        .file(
            "tenants/acme/api/env.yaml",
            "VERSION: 1.10\nPORT: 8080\nDEBUG: true\nHEX: 0x1F\n",
        )
        .run(&["render"])
        .ok();
    assert_eq!(
        config(&run),
        json!({"LOG_LEVEL": "info", "VERSION": "1.10", "PORT": "8080", "DEBUG": "true", "HEX": "0x1F"})
    );
}

#[test]
fn templates_see_repo_environment_tenant_and_service() {
    let run = Repo::new()
        .file("tenants/acme/tenant.yaml", "environment: dev\nservices: [api]\ndomain: acme.example.com\nvars: { replicas: 3 }\n")
        .file(
            "tenants/acme/api/values.yaml",
            "env:\n  WHO: \"{{ service.name }}@{{ tenant.name }}.{{ environment.name }}.{{ repo.domain }}\"\n  HOST: \"{{ tenant.domain }}\"\nreplicas: \"{{ tenant.vars.replicas }}\"\n",
        )
        .run(&["render"])
        .ok();
    assert_eq!(config(&run)["WHO"], "api@acme.dev.example.com");
    assert_eq!(config(&run)["HOST"], "acme.example.com");
    assert_eq!(run.object("Deployment", "api")["spec"]["replicas"], 3);
}

#[test]
fn explain_shows_where_each_value_was_set_and_what_it_overrode() {
    let run = Repo::new()
        .file("base/api/prod.yaml", "extends: base/api\nreplicas: 3\n")
        .file(
            "tenants/acme/api/values.yaml",
            "extends: base/api/prod.yaml\nreplicas: 4\n",
        )
        .file("tenants/acme/api/env.yaml", "LOG_LEVEL: debug\n")
        .run(&["explain", "acme/api"])
        .ok();
    assert!(run.stdout.contains(
        "replicas: 4\n    set at tenants/acme/api/values.yaml:2:1\n    overrides base/api/prod.yaml:2:1\n    overrides base/api/service.yaml:4:1\n"
    ), "{}", run.stdout);
    assert!(run.stdout.contains(
        "env.LOG_LEVEL: debug\n    set at tenants/acme/api/env.yaml:1:1\n    overrides base/api/service.yaml:9:3\n"
    ), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("image.tag: 1.0.0\n    set at base/api/version.yaml:1:10\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_shared_ancestor_is_applied_once() {
    // prod and highmem both extend the base; the base must not undo prod's replicas.
    let repo = Repo::new()
        .file("base/api/prod.yaml", "extends: base/api\nreplicas: 5\n")
        .file(
            "base/api/highmem.yaml",
            "extends: base/api\nresources: { limits: { memory: 4Gi } }\n",
        )
        .file(
            "tenants/acme/api/values.yaml",
            "extends: [base/api/prod.yaml, base/api/highmem.yaml]\n",
        );
    let run = repo.run(&["render"]).ok();
    assert_eq!(run.object("Deployment", "api")["spec"]["replicas"], 5);
    assert_eq!(container(&run, 0)["resources"]["limits"]["memory"], "4Gi");
    let explain = repo.run(&["explain", "acme/api", "replicas"]).ok();
    assert!(
        explain.stdout.contains("#   1. base/api/service.yaml\n#   2. base/api/prod.yaml\n#   3. base/api/highmem.yaml\n#   4. tenants/acme/api/values.yaml\n"),
        "{}",
        explain.stdout
    );
    assert!(explain.stdout.contains("replicas: 5\n    set at base/api/prod.yaml:2:1\n    overrides base/api/service.yaml:4:1\n"), "{}", explain.stdout);
}

#[test]
fn a_file_resolves_the_same_wherever_it_is_reached_from() {
    // acme's web/values.yaml builds on base/web implicitly, also when acme's api extends it
    // (a tenant may build on its own files; another tenant's are refused, tests/it/tenantfs.rs).
    // Rendered many times in parallel, the output never changes.
    let repo = Repo::new()
        .file(
            "base/api/service.yaml",
            format!("{}  FROM_BASE: '1'\n", common::SERVICE_YAML),
        )
        .file(
            "base/web/service.yaml",
            format!("{}  FROM_BASE: '1'\n", common::SERVICE_YAML),
        )
        .file("base/web/version.yaml", common::VERSION_YAML)
        .file(
            "tenants/acme/tenant.yaml",
            "environment: dev\nservices: [api, web]\n",
        )
        .file("tenants/acme/web/values.yaml", "replicas: 3\n")
        .file(
            "tenants/acme/api/values.yaml",
            "extends: [base/api, tenants/acme/web/values.yaml]\n",
        );
    let first = repo.run(&["render"]).ok();
    for run in first.docs().iter().filter(|d| d["kind"] == "ConfigMap") {
        assert_eq!(run["data"]["FROM_BASE"], "1", "{run}");
    }
    for _ in 0..10 {
        assert_eq!(repo.run(&["render"]).ok().stdout, first.stdout);
    }
}
