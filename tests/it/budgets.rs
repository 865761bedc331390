//! Issue 17, items 9 to 11: budgets on what a tenant's input may expand to, Secrets at rest
//! under `render --out-dir`, and the small ones (closed stdout, duplicate Argo CD
//! parameters, stencil's own labels, megabyte values in errors).

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::common::{Repo, STENCIL_YAML, demo_key};

/// Runs stencil through bash with `prefix` before it (`ulimit -v …;`) and `suffix` after the
/// arguments (`>&-; echo $?`), as the platform's CI would.
fn bash(repo: &Repo, prefix: &str, args: &[&str], suffix: &str) -> Output {
    let script = format!("{prefix} \"$0\" \"$@\" {suffix}");
    Command::new("bash")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_stencil"))
        .arg("--repo")
        .arg(repo.path())
        .args(args)
        .env_remove("STENCIL_LOG")
        .env_remove("SOPS_AGE_KEY")
        .env("HOME", repo.path().join(".home"))
        .env("XDG_CONFIG_HOME", repo.path().join(".home/.config"))
        .env("SOPS_AGE_KEY_FILE", demo_key())
        .stdin(Stdio::null())
        .output()
        .expect("bash")
}

/// `render` under a 1.5 GB address-space limit: an expansion that is not stopped early
/// dies (an allocation failure aborts) instead of exiting 3 with a budget error.
#[track_caller]
fn render_bounded(repo: &Repo, needles: &[&str]) -> String {
    let out = bash(repo, "ulimit -v 1500000;", &["render"], "");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{:?}; stderr:\n{stderr}",
        out.status
    );
    assert!(out.stdout.is_empty(), "stdout must be empty on error");
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "stderr lacks {needle:?}:\n{stderr}"
        );
    }
    stderr
}

fn with_budgets(repo: Repo, budgets: &str) -> Repo {
    repo.file(
        "stencil.yaml",
        format!("{STENCIL_YAML}budgets: {budgets}\n"),
    )
}

// ---- Item 9: amplification ----

/// A chain of `copy` ops, each doubling the ConfigMap: 2^30 times 100 bytes if nothing stops
/// it. It stops at the object budget, after the op that passes it.
#[test]
fn a_json_patch_copy_chain_stops_at_the_object_budget() {
    let mut values = String::from(
        "patches:\n  - target: { kind: ConfigMap }\n    type: json\n    patch:\n      - { op: add, path: /data/a, value: '",
    );
    values.push_str(&"x".repeat(100));
    values.push_str("' }\n");
    for i in 0..30 {
        values.push_str(&format!(
            "      - {{ op: copy, from: /data, path: /data/b{i} }}\n"
        ));
    }
    assert!(values.len() < 2000, "{} bytes of input", values.len());
    let repo = Repo::new().file("tenants/acme/api/values.yaml", &values);
    let stderr = render_bounded(
        &repo,
        &[
            "error: budget tenants/acme/api/values.yaml:2 after operation",
            "(`copy` at /data/b",
            "ConfigMap acme/api-env reaches",
            "over the object budget of 1.0 MiB (1048576 bytes)",
            "raise `budgets.objectBytes` in stencil.yaml",
        ],
    );
    assert!(stderr.len() < 4000, "{stderr}");
}

/// A merge patch, an extra object and a copy into another object are measured the same way.
#[test]
fn merge_patches_and_extra_objects_are_measured() {
    let big = "y".repeat(300_000);
    let merge = format!(
        "patches:\n  - target: {{ kind: ConfigMap }}\n    type: merge\n    patch: {{ data: {{ big: '{big}' }} }}\n"
    );
    with_budgets(Repo::new(), "{ objectBytes: 200000 }")
        .file("tenants/acme/api/values.yaml", &merge)
        .run(&["render"])
        .fails(&[
            "error: budget tenants/acme/api/values.yaml:2 after this merge patch, ConfigMap acme/api-env reaches",
            "over the object budget of 195.3 KiB (200000 bytes)",
        ]);
    // Within the default budget, the same patch renders.
    Repo::new()
        .file("tenants/acme/api/values.yaml", &merge)
        .run(&["render"])
        .ok();
    let extra = format!(
        "extraObjects:\n  - {{ apiVersion: v1, kind: ConfigMap, metadata: {{ name: big }}, data: {{ a: '{big}' }} }}\n"
    );
    with_budgets(Repo::new(), "{ objectBytes: 200000 }")
        .file("tenants/acme/api/values.yaml", &extra)
        .run(&["render"])
        .fails(&[
            "error: budget tenants/acme/api/values.yaml:2 ConfigMap acme/big reaches",
            "budgets.objectBytes",
        ]);
}

/// 2.7 KB of aliased templates, each rendering 100 KB: the tree after templating passes the
/// budget of the tenant x service, and the render stops there.
#[test]
fn aliases_multiplied_through_templates_stop_at_the_app_budget() {
    let mut values = String::from("env:\n  A0: &a \"{{ 'y' * 100000 }}\"\n");
    for i in 1..250 {
        values.push_str(&format!("  A{i}: *a\n"));
    }
    assert!(values.len() < 3000, "{} bytes of input", values.len());
    let repo = Repo::new().file("tenants/acme/api/values.yaml", &values);
    render_bounded(
        &repo,
        &[
            "error: budget tenants/acme/api/values.yaml:",
            "the values of this tenant x service, at `env.A",
            "over the budget of one tenant x service of 8.0 MiB",
            "budgets.appBytes",
        ],
    );
}

/// One template may not write more than the object budget, however few instructions it
/// takes.
#[test]
fn one_template_string_is_bounded() {
    let repo = Repo::new().file(
        "tenants/acme/api/values.yaml",
        "podAnnotations:\n  big: \"{{ 'x' * 2000000 }}\"\n",
    );
    render_bounded(
        &repo,
        &[
            "error: budget tenants/acme/api/values.yaml:2 the template of `podAnnotations.big`",
            "budgets.objectBytes",
        ],
    );
}

/// Without templates, a long string aliased many times is stopped by the loader.
#[test]
fn a_long_string_aliased_many_times_is_refused_when_loaded() {
    let mut values = format!("env:\n  A0: &a \"{}\"\n", "x".repeat(100_000));
    for i in 1..3000 {
        values.push_str(&format!("  A{i}: *a\n"));
    }
    let repo = Repo::new().file("tenants/acme/api/values.yaml", &values);
    render_bounded(
        &repo,
        &[
            "YAML aliases expand to more than 4.0 MiB",
            "tenants/acme/api/values.yaml:",
        ],
    );
}

/// All objects of a tenant x service together stay within `budgets.appBytes`.
#[test]
fn the_objects_of_an_app_share_one_budget() {
    // 80 KB of values; the ConfigMap doubles its 40 KB with a copy, and the extra object
    // adds 40 KB more: the objects pass 100 KB where the values do not.
    let values = "\
patches:
  - target: { kind: ConfigMap }
    type: json
    patch:
      - { op: add, path: /data/a, value: \"{{ 'x' * 40000 }}\" }
      - { op: copy, from: /data/a, path: /data/b }
extraObjects:
  - { apiVersion: v1, kind: ConfigMap, metadata: { name: c }, data: { a: \"{{ 'x' * 40000 }}\" } }
";
    with_budgets(Repo::new(), "{ appBytes: 100000 }")
        .file("tenants/acme/api/values.yaml", values)
        .run(&["render"])
        .fails(&[
            "error: budget tenants/acme/api/values.yaml:",
            "the objects of this tenant x service reaches",
            "over the budget of one tenant x service of 97.7 KiB (100000 bytes)",
            "budgets.appBytes",
        ]);
    with_budgets(Repo::new(), "{ appBytes: 200000 }")
        .file("tenants/acme/api/values.yaml", values)
        .run(&["render"])
        .ok();
}

/// A legitimately large object passes once the platform raises the budget in stencil.yaml.
#[test]
fn a_raised_budget_lets_a_large_object_through() {
    let values = "extraObjects:\n  - { apiVersion: v1, kind: ConfigMap, metadata: { name: bundle }, data: { ca.crt: \"{{ 'c' * 1500000 }}\" } }\n";
    Repo::new()
        .file("tenants/acme/api/values.yaml", values)
        .run(&["render"])
        .fails(&["budget", "budgets.objectBytes"]);
    let run = with_budgets(Repo::new(), "{ objectBytes: 2097152 }")
        .file("tenants/acme/api/values.yaml", values)
        .run(&["render"])
        .ok();
    let bundle = run.object("ConfigMap", "bundle");
    assert_eq!(
        bundle["data"]["ca.crt"].as_str().map(str::len),
        Some(1_500_000)
    );
}

/// The number of JSON patch operations is bounded, and the bound is the platform's.
#[test]
fn patch_operations_are_counted() {
    let mut values =
        String::from("patches:\n  - target: { kind: ConfigMap }\n    type: json\n    patch:\n");
    for _ in 0..1001 {
        values.push_str("      - { op: test, path: /kind, value: ConfigMap }\n");
    }
    Repo::new()
        .file("tenants/acme/api/values.yaml", &values)
        .run(&["render"])
        .fails(&[
            "error: budget tenants/acme/api/values.yaml:2 the JSON patches of this tenant x service reaches 1001 operations, over the patch operation budget of 1000 operations",
            "budgets.patchOps",
        ]);
    with_budgets(Repo::new(), "{ patchOps: 2000 }")
        .file("tenants/acme/api/values.yaml", &values)
        .run(&["render"])
        .ok();
}

/// Kubernetes refuses more than 256 KiB of annotations on an object: refused at render.
#[test]
fn annotations_stay_under_the_kubernetes_limit() {
    Repo::new()
        .file(
            "tenants/acme/api/values.yaml",
            "podAnnotations:\n  a: \"{{ 'a' * 200000 }}\"\n  b: \"{{ 'b' * 100000 }}\"\n",
        )
        .run(&["render"])
        .fails(&[
            "error: budget the annotations of Deployment acme/api (spec.template.metadata) total 293.0 KiB, over Kubernetes' limit of 256 KiB",
        ]);
}

#[test]
fn budgets_have_no_exceptions_and_are_listed() {
    let settings =
        format!("{STENCIL_YAML}policy:\n  exceptions:\n    - {{ rule: budget, reason: big }}\n");
    Repo::new()
        .file("stencil.yaml", settings)
        .run(&["render"])
        .fails(&["`budget` has no exceptions", "budgets:"]);
    let list = Repo::new().run(&["policy", "list"]).ok();
    assert!(list.stdout.contains("budget"), "{}", list.stdout);
    assert!(list.stdout.contains("platform-labels"), "{}", list.stdout);
}

// ---- Item 10: Secrets at rest under --out-dir ----

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

/// Every entry of `dir` whose name holds `stencil-` (staging and old copies).
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("stencil-"))
        .collect()
}

/// Every file under `dir`, by relative path, with its text.
fn files(dir: &Path) -> Vec<(String, String)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .expect("prefix")
                    .display()
                    .to_string();
                out.push((rel, std::fs::read_to_string(&path).expect("read")));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[test]
fn secret_files_are_private() {
    let repo = Repo::example();
    let out = repo.path().join("out");
    repo.run(&["render", "--out-dir", out.to_str().expect("utf-8")])
        .ok();
    let secret = out.join("momcorp/auth/secret-auth-secrets.yaml");
    assert!(
        std::fs::read_to_string(&secret)
            .expect("secret")
            .contains("kind: Secret")
    );
    assert_eq!(mode(&secret), 0o600);
    assert_eq!(mode(&out), 0o700, "a directory holding Secrets is private");
    assert_eq!(mode(&out.join("momcorp/auth/deployment-auth.yaml")), 0o644);
    // Without Secrets, the output is shared as before.
    let kit = repo.path().join("kit");
    repo.run(&[
        "render",
        "--workspace",
        "--out-dir",
        kit.to_str().expect("utf-8"),
    ])
    .ok();
    assert_eq!(mode(&kit), 0o755);
}

#[test]
fn concurrent_renders_into_one_directory_leave_nothing_behind() {
    let repo = Repo::example();
    let reference = repo.path().join("reference");
    repo.run(&["render", "--out-dir", reference.to_str().expect("utf-8")])
        .ok();
    let out = repo.path().join("out");
    // Rounds of renders started together: without a lock, one renames the directory away
    // while another renames it back, and a copy with plaintext Secrets stays behind.
    for _ in 0..3 {
        let children: Vec<_> = (0..6)
            .map(|_| {
                Command::new(env!("CARGO_BIN_EXE_stencil"))
                    .arg("--repo")
                    .arg(repo.path())
                    .args(["render", "--out-dir"])
                    .arg(&out)
                    .env_remove("SOPS_AGE_KEY")
                    .env("HOME", repo.path().join(".home"))
                    .env("SOPS_AGE_KEY_FILE", demo_key())
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("spawn")
            })
            .collect();
        for child in children {
            let result = child.wait_with_output().expect("wait");
            assert!(
                result.status.success(),
                "{}",
                String::from_utf8_lossy(&result.stderr)
            );
        }
    }
    assert_eq!(leftovers(repo.path()), Vec::<String>::new());
    assert_eq!(files(&out), files(&reference));
}

#[test]
fn leftovers_of_a_killed_render_are_removed() {
    let repo = Repo::new()
        .file(
            ".out.stencil-old-x1/acme/api/secret-api.yaml",
            "password: hunter2\n",
        )
        .file(
            ".out.stencil-new-x2/acme/api/secret-api.yaml",
            "password: hunter2\n",
        )
        .file(".other.stencil-old-x3/keep.yaml", "not ours\n");
    let out = repo.path().join("out");
    repo.run(&["render", "--out-dir", out.to_str().expect("utf-8")])
        .ok();
    assert_eq!(
        leftovers(repo.path()),
        vec![".other.stencil-old-x3".to_owned()]
    );
    assert!(out.join("acme/api/deployment-api.yaml").is_file());
}

// ---- Item 11: the small ones ----

/// With stdout closed, Rust's runtime points it at /dev/null: every command that prints
/// must still fail, not exit 0 having written nothing.
#[test]
fn a_closed_stdout_is_an_error() {
    let repo = Repo::example();
    for args in [
        &["render"][..],
        &["render", "--output", "json"],
        &["policy", "list"],
        &["explain", "momcorp/auth"],
    ] {
        let out = bash(&repo, "", args, ">&-; echo \"exit $?\" >&2");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("cannot write to stdout: it is closed"),
            "{args:?}: {stderr}"
        );
        assert!(stderr.ends_with("exit 3\n"), "{args:?}: {stderr}");
    }
    // Writing to /dev/null on purpose is fine, and a render to a directory prints nothing.
    let out = bash(&repo, "", &["render"], ">/dev/null; echo \"exit $?\" >&2");
    assert!(String::from_utf8_lossy(&out.stderr).ends_with("exit 0\n"));
    let dir = repo.path().join("out");
    let out = bash(
        &repo,
        "",
        &["render", "--out-dir", dir.to_str().expect("utf-8")],
        ">&-; echo \"exit $?\" >&2",
    );
    assert!(String::from_utf8_lossy(&out.stderr).ends_with("exit 0\n"));
}

/// `argocd generate`, as the cmp-server runs it, with stdout closed or a pipe closed early.
#[test]
fn generate_fails_when_its_output_cannot_be_written() {
    let repo = Repo::example();
    let dir = repo.path().join("tenants/momcorp/auth");
    let generate = |stdout: Stdio, shell: Option<&str>| {
        let mut cmd = match shell {
            Some(suffix) => {
                let mut c = Command::new("bash");
                c.arg("-c")
                    .arg(format!("\"$0\" argocd generate {suffix}"))
                    .arg(env!("CARGO_BIN_EXE_stencil"));
                c
            }
            None => {
                let mut c = Command::new(env!("CARGO_BIN_EXE_stencil"));
                c.args(["argocd", "generate"]);
                c
            }
        };
        cmd.current_dir(&dir)
            .env_remove("STENCIL_REPO")
            .env("HOME", repo.path().join(".home"))
            .env("SOPS_AGE_KEY_FILE", demo_key())
            .env("ARGOCD_APP_NAME", "momcorp-auth")
            .env("ARGOCD_APP_NAMESPACE", "tenant-momcorp")
            .env("ARGOCD_APP_SOURCE_PATH", "tenants/momcorp/auth")
            .env("ARGOCD_ENV_TENANT", "momcorp")
            .env("ARGOCD_ENV_SERVICE", "auth")
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::piped());
        cmd
    };
    let out = generate(Stdio::null(), Some(">&-; echo \"exit $?\" >&2"))
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot write to stdout: it is closed"),
        "{stderr}"
    );
    assert!(stderr.ends_with("exit 3\n"), "{stderr}");

    // A pipe whose reader is gone: EPIPE.
    let mut child = generate(Stdio::piped(), None).spawn().expect("spawn");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("cannot write to stdout"), "{stderr}");
}

#[test]
fn duplicate_argocd_parameters_are_refused() {
    let repo = Repo::new();
    for parameters in [
        r#"[{"name":"tenant","string":"acme"},{"name":"tenant","string":"globex"}]"#,
        r#"[{"name":"tenant","string":"acme"},{"name":"tenant","string":"acme"}]"#,
        r#"[{"name":"service","string":"api"},{"name":"tenant","string":"acme"},{"name":"service","string":""}]"#,
    ] {
        repo.generate_env(
            "acme",
            "api",
            &[("ARGOCD_APP_PARAMETERS", Some(parameters))],
        )
        .fails(&[
            "ARGOCD_APP_PARAMETERS: parameter `",
            "` is given more than once",
        ]);
    }
    repo.generate_env(
        "acme",
        "api",
        &[(
            "ARGOCD_APP_PARAMETERS",
            Some(r#"[{"name":"tenant","string":"acme"},{"name":"service","string":"api"}]"#),
        )],
    )
    .ok();
}

/// stencil's labels, and Argo CD's, are the platform's: no patch adds, changes or removes
/// them, however it is written.
#[test]
fn patches_may_not_touch_platform_labels() {
    let json = |op: &str| {
        format!(
            "patches:\n  - target: {{ kind: Deployment }}\n    type: json\n    patch:\n      - {op}\n"
        )
    };
    let merge = |patch: &str| {
        format!(
            "patches:\n  - target: {{ kind: Deployment }}\n    type: merge\n    patch: {patch}\n"
        )
    };
    for (values, needle) in [
        (
            json("{ op: replace, path: /metadata/labels/stencil.dev~1tenant, value: globex }"),
            "a patch changes metadata.labels[stencil.dev/tenant] of Deployment acme/api",
        ),
        (
            json("{ op: remove, path: /metadata/labels/app.kubernetes.io~1managed-by }"),
            "a patch removes metadata.labels[app.kubernetes.io/managed-by]",
        ),
        (
            json(
                "{ op: add, path: /spec/template/metadata/labels/app.kubernetes.io~1instance, value: globex-api }",
            ),
            "a patch changes spec.template.metadata.labels[app.kubernetes.io/instance]",
        ),
        (
            json(
                "{ op: add, path: /metadata/annotations, value: { argocd.argoproj.io/tracking-id: 'globex-api:apps/Deployment:globex/api' } }",
            ),
            "a patch adds metadata.annotations[argocd.argoproj.io/tracking-id]",
        ),
        (
            merge("{ metadata: { labels: { stencil.dev/service: web } } }"),
            "a patch changes metadata.labels[stencil.dev/service]",
        ),
        (
            merge("{ metadata: { labels: null } }"),
            "a patch removes metadata.labels[",
        ),
        (
            merge("{ metadata: { labels: { stencil.dev/owner: me } } }"),
            "a patch adds metadata.labels[stencil.dev/owner]",
        ),
    ] {
        Repo::new()
            .file("tenants/acme/api/values.yaml", &values)
            .run(&["render"])
            .fails(&[
                "error: platform-labels tenants/acme/api/values.yaml:2",
                needle,
            ]);
    }
    // A label of the tenant's own is fine.
    Repo::new()
        .file(
            "tenants/acme/api/values.yaml",
            merge("{ metadata: { labels: { team.acme.io/owner: me } } }"),
        )
        .run(&["render"])
        .ok();
}

#[test]
fn extra_objects_may_not_claim_stencil_labels() {
    let extra = |labels: &str| {
        format!(
            "extraObjects:\n  - {{ apiVersion: v1, kind: ConfigMap, metadata: {{ name: x, labels: {labels} }} }}\n"
        )
    };
    for (labels, needle) in [
        (
            "{ stencil.dev/tenant: globex }",
            "sets labels `stencil.dev/tenant`, which stencil owns (stencil sets it to `acme` here)",
        ),
        (
            "{ stencil.dev/service: web }",
            "sets labels `stencil.dev/service`",
        ),
        (
            "{ stencil.dev/anything: x }",
            "sets labels `stencil.dev/anything`, which stencil owns (stencil does not set it here)",
        ),
        (
            "{ app.kubernetes.io/managed-by: helm }",
            "sets labels `app.kubernetes.io/managed-by`",
        ),
    ] {
        Repo::new()
            .file("tenants/acme/api/values.yaml", extra(labels))
            .run(&["render"])
            .fails(&[
                "error: platform-labels tenants/acme/api/values.yaml:2",
                needle,
            ]);
    }
    Repo::new()
        .file(
            "tenants/acme/api/values.yaml",
            extra("{ stencil.dev/tenant: acme, stencil.dev/service: api, team: x }"),
        )
        .run(&["render"])
        .ok();
}

/// A megabyte value in a refused input is quoted in a few hundred characters.
#[test]
fn errors_clip_long_values() {
    let huge = "v".repeat(1_000_000);
    for (file, text) in [
        ("values.yaml", format!("labels:\n  team: \"{huge}\"\n")),
        ("version.yaml", format!("image: {{ tag: \"{huge}\" }}\n")),
        (
            "values.yaml",
            format!("podAnnotations:\n  big: \"{huge}\"\n  \"bad key!\": x\n"),
        ),
        ("values.yaml", format!("env:\n  BAD-NAME!: \"{huge}\"\n")),
        (
            "values.yaml",
            format!(
                "extraObjects:\n  - {{ apiVersion: v1, kind: ConfigMap, metadata: {{ name: \"{huge}\" }} }}\n"
            ),
        ),
        ("values.yaml", format!("{huge}\n")),
    ] {
        let path = format!("tenants/acme/api/{file}");
        let run = Repo::new()
            .file(&path, &text)
            .run(&["render"])
            .fails(&[&path]);
        assert!(
            run.stderr.len() < 4000,
            "{} bytes of stderr:\n{}",
            run.stderr.len(),
            &run.stderr[..run.stderr.len().min(3000)]
        );
    }
}
