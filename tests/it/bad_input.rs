//! Bad input: every case exits 3 with nothing on stdout and a located, hinted error on
//! stderr. The messages are UI: each is pinned by a snapshot. Every case is then run again
//! with real secrets beside it, through `render -vv` and through `argocd generate` as Argo CD
//! runs it: both fail with nothing on stdout, and no secret value appears in what they print.

use crate::common;

use std::sync::OnceLock;

use crate::common::{Repo, SERVICE_YAML};

const SECRET: &str = "sk_live_CORPUS_VALUE_THAT_MUST_NOT_LEAK";
const OTHER_SECRET: &str = "corpus-session-VALUE-THAT-MUST-NOT-LEAK";

/// A SOPS file holding two secrets for tenant acme's `api`, encrypted (once per test run)
/// with `stencil secrets set` for the demo key.
fn secrets_file() -> &'static str {
    static FILE: OnceLock<String> = OnceLock::new();
    FILE.get_or_init(|| {
        let repo = Repo::new().with_sops_rule();
        for (key, value) in [("API_TOKEN", SECRET), ("SESSION_SECRET", OTHER_SECRET)] {
            repo.set_secret("tenants/acme/api/secrets.enc.yaml", key, value);
        }
        repo.read("tenants/acme/api/secrets.enc.yaml")
    })
}

/// Renders, checks the failure contract, snapshots stderr; then the same with secrets, also
/// through `argocd generate`.
#[track_caller]
fn fails(name: &str, repo: Repo, needles: &[&str]) {
    let run = repo.refused(needles);
    insta::assert_snapshot!(name, run.stderr);
}

trait Corpus {
    /// `render` fails (exit 3, nothing on stdout, every needle on stderr); with secrets
    /// added, `render -vv` and `argocd generate` of `acme/api` fail too, print nothing on
    /// stdout and no secret value anywhere. Returns the first render.
    fn refused(self, needles: &[&str]) -> common::Run;
    /// [`Corpus::refused`], with `argocd generate` run for the broken app `tenant/service`
    /// (a generate reads one tenant: a broken tenant does not block the others' apps).
    fn refused_app(self, needles: &[&str], tenant: &str, service: &str) -> common::Run;
}

impl Corpus for Repo {
    #[track_caller]
    fn refused(self, needles: &[&str]) -> common::Run {
        self.refused_app(needles, "acme", "api")
    }

    #[track_caller]
    fn refused_app(self, needles: &[&str], tenant: &str, service: &str) -> common::Run {
        let first = self.run(&["render"]).fails(needles);
        let repo = self.file("tenants/acme/api/secrets.enc.yaml", secrets_file());
        let render = repo.run(&["-vv", "render"]);
        let generate = repo.generate(tenant, service);
        for (command, run) in [("render -vv", &render), ("argocd generate", &generate)] {
            assert_ne!(
                run.code, 0,
                "{command} succeeded on a broken repository; stderr:\n{}",
                run.stderr
            );
            assert!(
                run.stdout.is_empty(),
                "{command} printed on stdout although it failed:\n{}",
                run.stdout
            );
            for secret in [SECRET, OTHER_SECRET] {
                assert!(
                    !run.stderr.contains(secret),
                    "{command} leaked a secret value:\n{}",
                    run.stderr
                );
            }
        }
        first
    }
}

#[test]
fn malformed_yaml_unclosed_quote() {
    fails(
        "unclosed_quote",
        Repo::new().file(
            "tenants/acme/api/values.yaml",
            "env:\n  A: \"unclosed\nreplicas: 2\n",
        ),
        &["invalid YAML", "tenants/acme/api/values.yaml:", "hint:"],
    );
}

#[test]
fn malformed_yaml_tabs() {
    fails(
        "tabs",
        Repo::new().file("tenants/acme/api/values.yaml", "env:\n\tA: b\n"),
        &["invalid YAML", "tenants/acme/api/values.yaml:2", "spaces"],
    );
}

#[test]
fn duplicate_keys() {
    fails(
        "duplicate_key",
        Repo::new().file(
            "tenants/acme/api/values.yaml",
            "replicas: 2\nenv: {}\nreplicas: 3\n",
        ),
        &[
            "duplicate key `replicas`",
            "tenants/acme/api/values.yaml:3:1",
            "first set at tenants/acme/api/values.yaml:1:1",
        ],
    );
}

#[test]
fn wrong_type() {
    fails(
        "wrong_type",
        Repo::new().file("tenants/acme/api/values.yaml", "replicas: three\n"),
        &["invalid type", "tenants/acme/api/values.yaml:1:1"],
    );
}

#[test]
fn unknown_key_suggests() {
    fails(
        "unknown_key",
        Repo::new().file(
            "tenants/acme/api/values.yaml",
            "resources:\n  limits: { memory: 1Gi }\nreplcas: 3\n",
        ),
        &[
            "unknown key `replcas`",
            "tenants/acme/api/values.yaml:3:1",
            "did you mean `replicas`?",
        ],
    );
}

#[test]
fn unknown_key_in_tenant_yaml() {
    fails(
        "unknown_key_tenant",
        Repo::new().file(
            "tenants/acme/tenant.yaml",
            "environment: dev\nservices: [api]\nnamspace: x\n",
        ),
        &[
            "unknown key `namspace`",
            "tenants/acme/tenant.yaml:3:1",
            "did you mean `namespace`?",
        ],
    );
}

#[test]
fn missing_extends_target() {
    fails(
        "missing_base",
        Repo::new()
            .file("base/api/prod.yaml", "replicas: 3\n")
            .file(
                "tenants/acme/api/values.yaml",
                "extends: base/api/prd.yaml\n",
            ),
        &[
            "`extends` target base/api/prd.yaml does not exist",
            "tenants/acme/api/values.yaml:1:1",
            "did you mean `base/api/prod.yaml`?",
            "extends chain: tenants/acme/api/values.yaml -> base/api/prd.yaml",
        ],
    );
}

#[test]
fn extends_cycle_of_one() {
    fails(
        "cycle_1",
        Repo::new()
            .file("base/api/prod.yaml", "extends: base/api/prod.yaml\n")
            .file(
                "tenants/acme/api/values.yaml",
                "extends: base/api/prod.yaml\n",
            ),
        &[
            "`extends` cycle: base/api/prod.yaml -> base/api/prod.yaml",
            "base/api/prod.yaml:1:1",
        ],
    );
}

#[test]
fn extends_cycle_of_five() {
    let mut repo = Repo::new();
    for i in 0..5 {
        repo = repo.file(
            &format!("base/api/l{i}.yaml"),
            format!("extends: base/api/l{}.yaml\n", (i + 1) % 5),
        );
    }
    fails(
        "cycle_5",
        repo.file(
            "tenants/acme/api/values.yaml",
            "extends: base/api/l0.yaml\n",
        ),
        &[
            "`extends` cycle: base/api/l0.yaml -> base/api/l1.yaml -> base/api/l2.yaml -> base/api/l3.yaml -> base/api/l4.yaml -> base/api/l0.yaml",
        ],
    );
}

#[test]
fn extends_escaping_with_dotdot() {
    fails(
        "escape_dotdot",
        Repo::new().file(
            "tenants/acme/api/values.yaml",
            "extends: ../../etc/passwd\n",
        ),
        &["uses `..`", "tenants/acme/api/values.yaml:1:1"],
    );
}

#[test]
fn extends_absolute_path() {
    fails(
        "escape_absolute",
        Repo::new().file("tenants/acme/api/values.yaml", "extends: /etc/passwd\n"),
        &["is absolute", "tenants/acme/api/values.yaml:1:1"],
    );
}

#[test]
fn extends_through_a_symlink_leaving_the_repo() {
    let outside = tempfile::tempdir().expect("tempdir");
    std::fs::write(outside.path().join("evil.yaml"), "replicas: 1\n").expect("write");
    let repo = Repo::new()
        .symlink("base/api/evil.yaml", outside.path().join("evil.yaml"))
        .file(
            "tenants/acme/api/values.yaml",
            "extends: base/api/evil.yaml\n",
        );
    let run = repo.refused(&[
        "outside the repository",
        "tenants/acme/api/values.yaml:1:1",
        "extends chain",
    ]);
    // The temp path differs per run; the message is checked above, not snapshotted.
    assert!(run.stderr.contains("base/api/evil.yaml resolves to"));
}

#[test]
fn a_symlinked_values_file_leaving_the_repo() {
    let outside = tempfile::tempdir().expect("tempdir");
    std::fs::write(outside.path().join("values.yaml"), "replicas: 1\n").expect("write");
    Repo::new()
        .symlink(
            "tenants/acme/api/values.yaml",
            outside.path().join("values.yaml"),
        )
        .refused(&[
            "tenants/acme/api/values.yaml resolves to",
            "outside the repository",
            "hint:",
        ]);
}

#[test]
fn symlinked_folders_leaving_the_repo() {
    // The files are no symlinks; a folder on their way is.
    let outside = tempfile::tempdir().expect("tempdir");
    std::fs::write(outside.path().join("values.yaml"), "replicas: 1\n").expect("write");
    Repo::new()
        .symlink("tenants/acme/api", outside.path())
        .refused(&["tenants/acme/api", "resolves to", "outside the repository"]);
    Repo::new()
        .symlink("base/api/linked", outside.path())
        .file(
            "tenants/acme/api/values.yaml",
            "extends: base/api/linked/values.yaml\n",
        )
        .refused(&[
            "base/api/linked/values.yaml resolves to",
            "outside the repository",
            "tenants/acme/api/values.yaml:1:1",
        ]);
}

#[test]
fn latest_tag_names_the_file_that_set_it() {
    fails(
        "latest",
        Repo::new().file("tenants/acme/api/version.yaml", "image:\n  tag: latest\n"),
        &[
            "refusing image tag of `api`",
            "tenants/acme/api/version.yaml:2:3",
            "mutable",
        ],
    );
}

#[test]
fn empty_tag() {
    fails(
        "empty_tag",
        Repo::new().file("base/api/version.yaml", "image: { tag: '' }\n"),
        &["the image tag is empty", "base/api/version.yaml:1:10"],
    );
}

#[test]
fn missing_tag() {
    fails(
        "missing_tag",
        Repo::new().remove("base/api/version.yaml"),
        &["container `api` has no image tag", "stencil bump"],
    );
}

#[test]
fn invalid_digest() {
    fails(
        "bad_digest",
        Repo::new().file(
            "base/api/version.yaml",
            "image: { tag: 1.0.0, digest: 'sha256:abc' }\n",
        ),
        &["is not a digest", "base/api/version.yaml:1:22"],
    );
}

#[test]
fn tenant_names_a_missing_service() {
    let run = Repo::new()
        .file(
            "tenants/acme/tenant.yaml",
            "environment: dev\nservices: [api, apx-gateway, aip]\n",
        )
        // The app of the missing service; acme/api itself is fine and renders.
        .refused_app(
            &[
                "names service `aip`, which does not exist",
                "tenants/acme/tenant.yaml:2:30",
                "did you mean `api`?",
                "names service `apx-gateway`",
            ],
            "acme",
            "aip",
        );
    insta::assert_snapshot!("missing_service", run.stderr);
}

#[test]
fn duplicate_object_names() {
    fails(
        "duplicate_object",
        Repo::new().file(
            "tenants/acme/api/values.yaml",
            "extraObjects:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: { name: api-env }\n    data: { a: b }\n",
        ),
        &["two objects are both ConfigMap acme/api-env", "tenants/acme/api/values.yaml:2:5"],
    );
}

#[test]
fn two_tenants_render_the_same_namespace() {
    let run = Repo::new()
        .file(
            "tenants/zeta/tenant.yaml",
            "environment: dev\nnamespace: acme\nservices: [api]\n",
        )
        // zeta's own app finds acme's namespace taken without reading every tenant.
        .refused_app(
            &[
                "tenants `acme` and `zeta` both render namespace `acme`",
                "tenants/zeta/tenant.yaml:2:1",
            ],
            "zeta",
            "api",
        );
    insta::assert_snapshot!("same_namespace", run.stderr);
}

#[test]
fn unknown_environment() {
    fails(
        "unknown_environment",
        Repo::new().file(
            "tenants/acme/tenant.yaml",
            "environment: prd\nservices: [api]\n",
        ),
        &[
            "unknown environment `prd`",
            "tenants/acme/tenant.yaml:1:1",
            "did you mean `prod`?",
        ],
    );
}

#[test]
fn undefined_template_variable() {
    fails(
        "undefined_variable",
        Repo::new().file(
            "tenants/acme/api/values.yaml",
            "env:\n  HOST: \"api.{{ tenant.domian }}\"\n",
        ),
        &[
            "undefined variable `tenant.domian` in the template of `env.HOST`",
            "tenants/acme/api/values.yaml:2:3",
        ],
    );
}

#[test]
fn template_that_loops_forever() {
    fails(
        "template_fuel",
        Repo::new().file("tenants/acme/api/values.yaml", "env:\n  X: \"{% for i in range(10000) %}{% for j in range(10000) %}x{% endfor %}{% endfor %}\"\n"),
        &["ran out of fuel", "tenants/acme/api/values.yaml:2:3"],
    );
}

#[test]
fn template_that_reads_files() {
    fails(
        "template_include",
        Repo::new().file(
            "tenants/acme/api/values.yaml",
            "env:\n  X: \"{% include '/etc/passwd' %}\"\n",
        ),
        &[
            "template error in `env.X`",
            "tenants/acme/api/values.yaml:2:3",
        ],
    );
}

#[test]
fn tenant_name_not_dns() {
    let run = Repo::new()
        .file(
            "tenants/Tenant_One/tenant.yaml",
            "environment: dev\nnamespace: tenant-one\nservices: [api]\n",
        )
        .refused_app(
            &[
                "invalid tenant name",
                "`Tenant_One` is not a valid Kubernetes name",
                "`tenant-one` would be",
                "tenants/Tenant_One/tenant.yaml:1:1",
            ],
            "Tenant_One",
            "api",
        );
    insta::assert_snapshot!("tenant_name", run.stderr);
}

#[test]
fn name_too_long() {
    let long = "a".repeat(64);
    Repo::new()
        .file(
            &format!("tenants/{long}/tenant.yaml"),
            "environment: dev\nnamespace: short\nservices: [api]\n",
        )
        .refused_app(
            &["is 64 characters long; Kubernetes allows at most 63"],
            &long,
            "api",
        );
}

#[test]
fn env_name_with_equals() {
    fails(
        "env_equals",
        Repo::new().file("tenants/acme/api/env.yaml", "\"A=B\": x\n"),
        &[
            "`A=B` is not a valid environment variable name",
            "tenants/acme/api/env.yaml:1:1",
        ],
    );
}

#[test]
fn port_out_of_range() {
    fails(
        "port_range",
        Repo::new().file("tenants/acme/api/values.yaml", "port: 70000\n"),
        &[
            "70000",
            "expected an integer from 0 to 65535",
            "tenants/acme/api/values.yaml:1:1",
        ],
    );
}

#[test]
fn env_value_that_is_a_map() {
    fails(
        "env_map_value",
        Repo::new().file("tenants/acme/api/env.yaml", "A:\n  nested: map\n"),
        &[
            "invalid env file",
            "expected a string, found a mapping",
            "tenants/acme/api/env.yaml:1:1",
        ],
    );
}

#[test]
fn unknown_file_in_tenant_folder() {
    fails(
        "unknown_file",
        Repo::new().file("tenants/acme/api/value.yaml", "replicas: 3\n"),
        &[
            "tenants/acme/api/value.yaml is not a file stencil reads",
            "did you mean `values.yaml`?",
        ],
    );
}

#[test]
fn folder_for_a_service_the_tenant_does_not_run() {
    fails(
        "unlisted_service_folder",
        Repo::new().file("tenants/acme/web/values.yaml", "replicas: 3\n"),
        &["tenants/acme/web/ exists but `web` is not in the tenant's services"],
    );
}

#[test]
fn non_utf8() {
    fails(
        "non_utf8",
        Repo::new().file(
            "tenants/acme/api/values.yaml",
            b"replicas: 2\nenv: { A: \"\xff\xfe\" }\n".as_slice(),
        ),
        &["file is not valid UTF-8", "tenants/acme/api/values.yaml:2:"],
    );
}

#[test]
fn billion_laughs() {
    let mut text = String::from("env:\n  A0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        text.push_str(&format!("  A{i}: &a{i} [{refs}]\n"));
    }
    fails(
        "billion_laughs",
        Repo::new().file("tenants/acme/api/values.yaml", text),
        &["aliases expand to more than", "billion laughs"],
    );
}

#[test]
fn deeply_nested_document() {
    let text = format!(
        "extraObjects: {}1{}\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    Repo::new()
        .file("tenants/acme/api/values.yaml", text)
        .refused(&[
            "nests too deeply",
            "tenants/acme/api/values.yaml:1:",
            "hint: flatten",
        ]);
}

#[test]
fn oversized_file() {
    let big = format!("env:\n{}", "  K: vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\n".repeat(60_000));
    Repo::new()
        .file("tenants/acme/api/values.yaml", big)
        .refused(&["input files are limited to"]);
}

#[test]
fn yaml_merge_keys() {
    fails(
        "merge_keys",
        Repo::new().file(
            "tenants/acme/api/values.yaml",
            "base: &b { replicas: 2 }\n<<: *b\n",
        ),
        &["YAML merge keys (`<<`) are not supported", "extends"],
    );
}

#[test]
fn several_documents() {
    fails(
        "several_documents",
        Repo::new().file(
            "tenants/acme/api/values.yaml",
            "replicas: 2\n---\nreplicas: 3\n",
        ),
        &["holds several"],
    );
}

#[test]
fn missing_resources() {
    fails(
        "missing_resources",
        Repo::new().file(
            "tenants/acme/api/values.yaml",
            "resources: !replace { requests: { cpu: 1m } }\n",
        ),
        &[
            "container `api` must declare resources.requests.memory, resources.limits.memory",
            "tenants/acme/api/values.yaml:1:1",
        ],
    );
}

#[test]
fn no_stencil_yaml() {
    let repo = Repo::empty().file("base/api/service.yaml", SERVICE_YAML);
    repo.refused(&["no stencil.yaml"]);
}

#[test]
fn validate_reports_every_problem_at_once() {
    let run = four_problems().run(&["validate"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    for needle in [
        "unknown key `replcas`",
        "names service `web`, which does not exist",
        "refusing image tag of `api`",
        "base/api/unused.yaml:1:1",
        "4 problems found",
    ] {
        assert!(
            run.stderr.contains(needle),
            "missing {needle:?} in:\n{}",
            run.stderr
        );
    }
}

fn four_problems() -> Repo {
    Repo::new()
        .file("tenants/acme/api/values.yaml", "replcas: 3\n")
        .file(
            "tenants/beta/tenant.yaml",
            "environment: dev\nservices: [api, web]\n",
        )
        .file(
            "tenants/gamma/tenant.yaml",
            "environment: dev\nservices: [api]\n",
        )
        .file("tenants/gamma/api/version.yaml", "image: { tag: latest }\n")
        .file("base/api/unused.yaml", "replicas: [1]\n")
}

#[test]
fn validate_json_lists_every_problem_with_its_place() {
    let run = four_problems().run(&["validate", "-o", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON on stdout");
    assert_eq!(report["ok"], false);
    let problems = report["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), 4, "{report:#}");
    let typo = problems
        .iter()
        .find(|p| p["message"].as_str().unwrap().contains("replcas"))
        .expect("the typo");
    assert_eq!(typo["file"], "tenants/acme/api/values.yaml");
    assert_eq!(typo["line"], 1);
    assert_eq!(typo["column"], 1);
    let tag = problems
        .iter()
        .find(|p| {
            p["message"]
                .as_str()
                .unwrap()
                .contains("refusing image tag")
        })
        .expect("the tag");
    assert_eq!(tag["rule"], "mutable-image-tag");

    let good = Repo::new().run(&["validate", "-o", "json"]).ok();
    let report: serde_json::Value = serde_json::from_str(&good.stdout).expect("JSON");
    assert_eq!(report["ok"], true);
    assert_eq!(report["objects"], 8);
}

#[test]
fn validate_github_annotates_each_problem_at_its_line() {
    let run = four_problems().run(&["validate", "-o", "github"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", run.stdout);
    assert!(
        lines.contains(&"::error file=tenants/acme/api/values.yaml,line=1,col=1,title=stencil::invalid service definition: unknown key `replcas`%0Anote: while rendering acme/api%0Ahint: did you mean `replicas`?"),
        "{}",
        run.stdout
    );
    assert!(
        lines.iter().any(|l| l.starts_with(
            "::error file=tenants/gamma/api/version.yaml,line=1,col=10,title=stencil (mutable-image-tag)::"
        )),
        "{}",
        run.stdout
    );
    for line in &lines {
        assert!(line.starts_with("::error "), "{line}");
        assert!(!line.contains('\r'));
    }
    assert!(run.stderr.contains("4 problems found"));
}

#[test]
fn validate_passes_a_good_repo() {
    let run = Repo::new().run(&["validate"]).ok();
    assert!(
        run.stderr
            .contains("ok: 1 tenants, 1 tenant services, 8 objects"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_fifo_is_refused_not_waited_on() {
    let repo = Repo::new();
    let fifo = repo.path().join("tenants/acme/api/values.yaml");
    std::fs::create_dir_all(fifo.parent().expect("parent")).expect("mkdir");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(status.success());
    repo.refused(&["tenants/acme/api/values.yaml is not a regular file"]);
}

#[test]
fn a_huge_sparse_file_is_refused_before_reading() {
    let repo = Repo::new();
    let path = repo.path().join("tenants/acme/api/values.yaml");
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    let file = std::fs::File::create(&path).expect("create");
    file.set_len(3 << 30).expect("sparse 3 GiB");
    repo.refused(&["is 3221225472 bytes; input files are limited to 4194304 bytes"]);
}

#[test]
fn values_the_api_server_would_reject() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "tenants/acme/api/values.yaml",
            "resources: { requests: { cpu: lots } }\n",
            "`lots` is not a Kubernetes quantity",
        ),
        (
            "tenants/acme/api/values.yaml",
            "labels: { 'bad key!': x }\n",
            "`bad key!` is not a valid label or annotation key",
        ),
        (
            "tenants/acme/api/values.yaml",
            "labels: { team: 'has space' }\n",
            "is not a valid label value",
        ),
        (
            "tenants/acme/api/values.yaml",
            "podAnnotations: { '': x }\n",
            "`` is not a valid label or annotation key",
        ),
        (
            "tenants/acme/api/values.yaml",
            "strategy: { maxSurge: lots }\n",
            "`strategy.maxSurge` must be a non-negative integer or a percentage",
        ),
        (
            "tenants/acme/api/values.yaml",
            "strategy: { maxSurge: 0, maxUnavailable: 0 }\n",
            "cannot both be 0",
        ),
        (
            "tenants/acme/api/values.yaml",
            "podDisruptionBudget: { minAvailable: 1, maxUnavailable: 1 }\n",
            "not both",
        ),
        (
            "tenants/acme/api/values.yaml",
            "probes: { readiness: { port: 0 } }\n",
            "probe port 0 is not a valid port",
        ),
        (
            "tenants/acme/api/values.yaml",
            "sidecars: [{ name: '9000', port: 1, image: { repository: r, tag: '1' }, resources: { requests: { cpu: 1m, memory: 1Mi }, limits: { memory: 1Mi } } }]\n",
            "would name its port `9000` is not a valid port name",
        ),
        (
            "tenants/acme/api/values.yaml",
            "sidecars: [{ name: a123456789012345678901234567890123456789012345678901234567890, image: { repository: r, tag: '1' } }]\n",
            "(its /tmp volume is named tmp-<name>)",
        ),
        (
            "tenants/acme/tenant.yaml",
            "environment: dev\nservices: [api]\nnamespace: kube-system\n",
            "reserved namespace `kube-system`",
        ),
        (
            "tenants/acme/tenant.yaml",
            "environment: dev\nservices: [api]\nnamespace: default\n",
            "reserved namespace `default`",
        ),
        (
            "tenants/acme/tenant.yaml",
            "environment: dev\nservices: [api]\nlabels: { 'a b': c }\n",
            "`a b` is not a valid label or annotation key",
        ),
        (
            "tenants/acme/api/values.yaml",
            "~: 1\n",
            "a mapping key cannot be null",
        ),
        (
            "tenants/acme/api/values.yaml",
            "replicas: !!int seven\n",
            "`seven` is not a valid !!int",
        ),
    ];
    for (file, text, needle) in cases {
        Repo::new().file(file, *text).refused(&[needle]);
    }
    // stencil.yaml can reserve more namespaces.
    Repo::new()
        .file(
            "stencil.yaml",
            format!("{}reservedNamespaces: [argocd]\n", common::STENCIL_YAML),
        )
        .file(
            "tenants/acme/tenant.yaml",
            "environment: dev\nservices: [api]\nnamespace: argocd\n",
        )
        .refused(&["reserved namespace `argocd`"]);
    // Explicit core tags that agree with the value are fine.
    Repo::new()
        .file("tenants/acme/api/values.yaml", "replicas: !!int \"3\"\n")
        .run(&["render"])
        .ok();
}
