//! Argo CD: `argocd generate` run the way cmp-server runs it (a copy of the repository
//! without `.git`, the Application's source folder as the working directory, the build and
//! plugin environment), `argocd apps` and `argocd plugin-config`.

use crate::common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::common::{Repo, Run};

/// One Application as `stencil argocd apps` writes it.
#[derive(Debug, Clone)]
struct App {
    name: String,
    path: String,
    env: Vec<(String, String)>,
    destination_namespace: String,
    generate_paths: Vec<String>,
}

impl App {
    fn tenant(&self) -> &str {
        self.var("TENANT").expect("TENANT")
    }

    fn service(&self) -> Option<&str> {
        self.var("SERVICE")
    }

    fn var(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The equivalent `stencil render` selection.
    fn render_args(&self) -> Vec<String> {
        let mut args = vec!["render".into(), "--tenant".into(), self.tenant().into()];
        match self.service() {
            Some(s) => args.extend(["--service".into(), s.into()]),
            None => args.push("--workspace".into()),
        }
        args
    }

    /// Whether `manifest-generate-paths` covers a repository path, as Argo CD matches it:
    /// the path itself or anything under a listed folder.
    fn covers(&self, path: &str) -> bool {
        self.generate_paths.iter().any(|p| {
            let p = p.trim_start_matches('/');
            path == p || path.starts_with(&format!("{p}/"))
        })
    }
}

fn apps(repo: &Repo) -> Vec<App> {
    let run = repo.run(&["argocd", "apps"]).ok();
    run.docs()
        .into_iter()
        .filter(|d| d["kind"] == "Application")
        .map(|d| App {
            name: d["metadata"]["name"].as_str().expect("name").to_owned(),
            path: d["spec"]["source"]["path"]
                .as_str()
                .expect("path")
                .to_owned(),
            env: d["spec"]["source"]["plugin"]["env"]
                .as_array()
                .expect("env")
                .iter()
                .map(|e| {
                    (
                        e["name"].as_str().expect("env name").to_owned(),
                        e["value"].as_str().expect("env value").to_owned(),
                    )
                })
                .collect(),
            destination_namespace: d["spec"]["destination"]["namespace"]
                .as_str()
                .expect("namespace")
                .to_owned(),
            generate_paths:
                d["metadata"]["annotations"]["argocd.argoproj.io/manifest-generate-paths"]
                    .as_str()
                    .expect("manifest-generate-paths")
                    .split(';')
                    .map(str::to_owned)
                    .collect(),
        })
        .collect()
}

/// Runs `stencil argocd generate` as cmp-server does: in the Application's source folder,
/// with the build environment and the plugin env prefixed `ARGOCD_ENV_`, no `--repo`.
fn generate(root: &Path, app: &App, extra: &[(&str, Option<&str>)]) -> Run {
    let mut cmd = common::stencil(root);
    cmd.current_dir(root.join(&app.path))
        .env_remove("STENCIL_REPO")
        .env("ARGOCD_APP_NAME", &app.name)
        .env("ARGOCD_APP_NAMESPACE", &app.destination_namespace)
        .env("ARGOCD_APP_SOURCE_PATH", &app.path)
        .env(
            "ARGOCD_APP_REVISION",
            "0123456789abcdef0123456789abcdef01234567",
        )
        .env("KUBE_VERSION", "1.33.1")
        .env("KUBE_API_VERSIONS", "v1,apps/v1,autoscaling/v2")
        .arg("-vv")
        .args(["argocd", "generate"]);
    for (name, value) in &app.env {
        cmd.env(format!("ARGOCD_ENV_{name}"), value);
    }
    for (key, value) in extra {
        match value {
            Some(v) => cmd.env(key, v),
            None => cmd.env_remove(key),
        };
    }
    Run::from(cmd.output().expect("run stencil"))
}

/// Every secret value of the example, decrypted.
fn secret_values(repo: &Repo) -> Vec<String> {
    let mut values = Vec::new();
    for tenant in ["momcorp", "planet-express", "slurm"] {
        let file = repo
            .path()
            .join(format!("tenants/{tenant}/apiserver/secrets.enc.yaml"));
        let run = repo
            .run(&["secrets", "decrypt", file.to_str().expect("utf-8")])
            .ok();
        let map: serde_yaml::Mapping = serde_yaml::from_str(&run.stdout).expect("plaintext");
        for (_, v) in map {
            if let Some(s) = v.as_str()
                && s.len() >= 6
            {
                values.push(s.to_owned());
            }
        }
    }
    assert!(!values.is_empty(), "the example has secrets");
    values
}

#[test]
fn generate_in_a_copy_without_git_equals_render_for_every_app() {
    let repo = Repo::example();
    assert!(!repo.path().join(".git").exists());
    let apps = apps(&repo);
    // 4 tenants: 4 workspaces and 14 tenant-services.
    assert_eq!(apps.len(), 18, "{apps:#?}");
    let secrets = secret_values(&repo);
    for app in &apps {
        let run = generate(repo.path(), app, &[]).ok();
        let args = app.render_args();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let render = repo.run(&args).ok();
        assert!(!run.stdout.is_empty(), "{}", app.name);
        assert_eq!(
            run.stdout, render.stdout,
            "{}: generate differs from render",
            app.name
        );
        for secret in &secrets {
            assert!(
                !run.stderr.contains(secret.as_str()),
                "{}: a secret value reached stderr",
                app.name
            );
        }
        let kinds: BTreeSet<String> = run
            .docs()
            .iter()
            .map(|d| d["kind"].as_str().unwrap_or_default().to_owned())
            .collect();
        match app.service() {
            // The workspace kit, and nothing of a service; metric templates where canaries
            // run (prod).
            None => {
                let mut expected: BTreeSet<String> = [
                    "LimitRange",
                    "Namespace",
                    "NetworkPolicy",
                    "ResourceQuota",
                    "RoleBinding",
                ]
                .map(str::to_owned)
                .into();
                if ["momcorp", "planet-express"].contains(&app.tenant()) {
                    expected.insert("MetricTemplate".to_owned());
                }
                assert_eq!(kinds, expected, "{}", app.name);
            }
            Some(_) => {
                assert!(
                    kinds.contains("Deployment") || kinds.contains("StatefulSet"),
                    "{}: {kinds:?}",
                    app.name
                );
                assert!(
                    !kinds.contains("Namespace"),
                    "{}: one owner per object",
                    app.name
                );
            }
        }
    }
}

#[test]
fn generate_in_a_git_clone_reads_the_files_not_git() {
    let repo = Repo::example();
    let git = |args: &[&str]| common::git(repo.path(), args);
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "example"]);
    let app = apps(&repo)
        .into_iter()
        .find(|a| a.name == "momcorp-apiserver")
        .expect("momcorp-apiserver");
    let with_git = generate(repo.path(), &app, &[]).ok();
    // File modes arrive reset: nothing executable, nothing needed beyond read access.
    std::fs::remove_dir_all(repo.path().join(".git")).expect("rm .git");
    let without_git = generate(repo.path(), &app, &[]).ok();
    assert_eq!(with_git.stdout, without_git.stdout);
}

#[test]
fn only_the_manifest_generate_paths_are_enough() {
    // With `--plugin-use-manifest-generate-paths`, Argo CD sends the plugin only those
    // paths: the render must not need anything else.
    let repo = Repo::example();
    for app in apps(&repo) {
        let full = generate(repo.path(), &app, &[]).ok();
        let partial = tempfile::tempdir().expect("tempdir");
        for path in &app.generate_paths {
            let rel = path.trim_start_matches('/');
            let from = repo.path().join(rel);
            if from.is_dir() {
                copy_dir(&from, &partial.path().join(rel));
            } else if from.is_file() {
                let to = partial.path().join(rel);
                std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
                std::fs::copy(&from, &to).expect("copy");
            }
        }
        std::fs::create_dir_all(partial.path().join(&app.path)).expect("app path");
        let run = generate(partial.path(), &app, &[]).ok();
        assert_eq!(run.stdout, full.stdout, "{}", app.name);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
        }
    }
}

fn files(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files(root, &path, out);
        } else {
            let rel = path.strip_prefix(root).expect("under root");
            out.push(rel.to_string_lossy().into_owned());
        }
    }
}

#[test]
fn manifest_generate_paths_cover_every_file_that_changes_a_render() {
    let repo = Repo::example();
    let apps = apps(&repo);
    let baseline: Vec<String> = apps
        .iter()
        .map(|app| generate(repo.path(), app, &[]).ok().stdout)
        .collect();
    // Every file of the repository, plus the files a tenant or base could add that stencil
    // would read (a pin, an env file, secrets, values, a base version).
    let mut candidates = Vec::new();
    files(repo.path(), repo.path(), &mut candidates);
    for app in &apps {
        if let Some(service) = app.service() {
            for file in [
                "values.yaml",
                "env.yaml",
                "version.yaml",
                "secrets.enc.yaml",
            ] {
                candidates.push(format!("tenants/{}/{service}/{file}", app.tenant()));
            }
            candidates.push(format!("base/{service}/version.yaml"));
        }
    }
    candidates.sort();
    candidates.dedup();
    let mut feeds: Vec<BTreeSet<String>> = vec![BTreeSet::new(); apps.len()];
    for candidate in &candidates {
        let path = repo.path().join(candidate);
        let before = std::fs::read(&path).ok();
        // A broken file: any render that reads it changes (it fails).
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, "kind: [broken\n").expect("break");
        for (i, app) in apps.iter().enumerate() {
            let run = generate(repo.path(), app, &[]);
            if run.code != 0 || run.stdout != baseline[i] {
                assert!(
                    run.code == 0 || run.stdout.is_empty(),
                    "{}: failed with output on stdout",
                    app.name
                );
                feeds[i].insert(candidate.clone());
                assert!(
                    app.covers(candidate),
                    "{}: changing {candidate} changes its render, but manifest-generate-paths {:?} do not cover it",
                    app.name,
                    app.generate_paths
                );
            }
        }
        match before {
            Some(bytes) => std::fs::write(&path, bytes).expect("restore"),
            None => std::fs::remove_file(&path).expect("remove"),
        }
    }
    // And nothing more: every file listed feeds the app (folders stand for the files in them).
    for (app, feeds) in apps.iter().zip(&feeds) {
        for listed in &app.generate_paths {
            let listed = listed.trim_start_matches('/');
            if repo.path().join(listed).is_file() {
                assert!(
                    feeds.contains(listed),
                    "{}: lists {listed}, which does not change its render",
                    app.name
                );
            }
        }
    }
}

#[test]
fn every_failure_prints_nothing_on_stdout() {
    let repo = Repo::example();
    let app = apps(&repo)
        .into_iter()
        .find(|a| a.name == "momcorp-apiserver")
        .expect("app");
    type Env<'a> = Vec<(&'a str, Option<&'a str>)>;
    let cases: Vec<(&str, Env, &str)> = vec![
        (
            "unknown tenant",
            vec![("ARGOCD_ENV_TENANT", Some("momcorpp"))],
            "the tenant is `momcorpp` from ARGOCD_ENV_TENANT but `momcorp` from the source path",
        ),
        (
            "unknown service",
            vec![("ARGOCD_ENV_SERVICE", Some("apiservr"))],
            "the service is `apiservr` from ARGOCD_ENV_SERVICE but `apiserver`",
        ),
        (
            "no key",
            vec![("SOPS_AGE_KEY_FILE", None)],
            "no age key was found",
        ),
        (
            "bad parameters",
            vec![("ARGOCD_APP_PARAMETERS", Some("[{\"name\": \"tenant\""))],
            "ARGOCD_APP_PARAMETERS: not JSON",
        ),
        (
            "old cluster",
            vec![("KUBE_VERSION", Some("v1.21.14"))],
            "need 1.23 or later",
        ),
        (
            "wrong root",
            vec![("ARGOCD_APP_SOURCE_PATH", Some("momcorp/apiserver"))],
            "no stencil.yaml at the repository root",
        ),
    ];
    for (what, env, needle) in cases {
        let run = generate(repo.path(), &app, &env);
        assert_ne!(run.code, 0, "{what}");
        assert!(run.stdout.is_empty(), "{what}: stdout not empty");
        assert!(run.stderr.contains(needle), "{what}: {}", run.stderr);
    }

    // The tenant and service named by env only (source path the repository root).
    let at_root = |tenant: &str, service: &str| App {
        path: ".".into(),
        env: vec![
            ("TENANT".into(), tenant.into()),
            ("SERVICE".into(), service.into()),
        ],
        ..app.clone()
    };
    generate(repo.path(), &at_root("momcorp", "apiserver"), &[]).ok();
    let run = generate(repo.path(), &at_root("nobody", "apiserver"), &[]);
    assert_ne!(run.code, 0);
    assert!(run.stdout.is_empty());
    assert!(run.stderr.contains("no tenant `nobody`"), "{}", run.stderr);
    let run = generate(repo.path(), &at_root("slurm", "auth"), &[]);
    assert_ne!(run.code, 0);
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr.contains("tenant `slurm` does not run `auth`"),
        "{}",
        run.stderr
    );

    // Broken YAML in a file the app reads.
    let broken = Repo::example().file(
        "tenants/momcorp/apiserver/values.yaml",
        "extends: base/apiserver/prod.yaml\nreplicas: [3\n",
    );
    let run = generate(broken.path(), &app, &[]);
    assert_ne!(run.code, 0);
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr.contains("invalid YAML")
            && run
                .stderr
                .contains("tenants/momcorp/apiserver/values.yaml:"),
        "{}",
        run.stderr
    );
}

#[test]
fn another_tenants_broken_file_does_not_block_a_generate() {
    let repo = Repo::example().file(
        "tenants/slurm/tenant.yaml",
        "kind: Tenant\nenvironment: [\n",
    );
    let app = App {
        name: "momcorp-apiserver".into(),
        path: "tenants/momcorp/apiserver".into(),
        env: vec![
            ("TENANT".into(), "momcorp".into()),
            ("SERVICE".into(), "apiserver".into()),
        ],
        destination_namespace: "tenant-momcorp".into(),
        generate_paths: Vec::new(),
    };
    let run = generate(repo.path(), &app, &[]).ok();
    assert!(run.stdout.contains("kind: Deployment"));
    // `render` of the whole repository still refuses it.
    repo.run(&["render"]).fails(&["tenants/slurm/tenant.yaml"]);
}

#[test]
fn simultaneous_generates_on_one_checkout_agree() {
    let repo = Repo::example();
    let apps = apps(&repo);
    let expected: Vec<String> = apps
        .iter()
        .map(|a| generate(repo.path(), a, &[]).ok().stdout)
        .collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .flat_map(|_| apps.iter().enumerate())
            .map(|(i, app)| {
                let root: PathBuf = repo.path().to_path_buf();
                scope.spawn(move || (i, generate(&root, app, &[])))
            })
            .collect();
        for handle in handles {
            let (i, run) = handle.join().expect("thread");
            assert_eq!(run.code, 0, "{}", run.stderr);
            assert_eq!(run.stdout, expected[i]);
        }
    });
}

#[test]
fn root_app_renders_the_applications_through_the_plugin() {
    let repo = Repo::example();
    let root = repo.run(&["argocd", "apps", "--root"]).ok();
    let app = root.object("Application", "ramparts-apps");
    let source = &app["spec"]["source"];
    assert_eq!(source["plugin"]["name"], "stencil-v1");
    assert_eq!(source["path"], ".");
    assert_eq!(source["repoURL"], "https://github.com/ramparts/deploy.git");
    assert_eq!(app["spec"]["destination"]["namespace"], "argocd");
    // No cascade: deleting the root leaves every tenant's Applications alone.
    assert!(app["metadata"]["finalizers"].is_null());
    for mode in ["applications", "applicationset"] {
        let root_app = App {
            name: "ramparts-apps".into(),
            path: ".".into(),
            env: vec![("APPS".into(), mode.into())],
            destination_namespace: "argocd".into(),
            generate_paths: Vec::new(),
        };
        let run = generate(repo.path(), &root_app, &[]).ok();
        let direct = repo.run(&["argocd", "apps", "--mode", mode]).ok();
        assert_eq!(run.stdout, direct.stdout, "{mode}");
    }
}

#[test]
fn apps_write_projects_applications_and_an_application_set() {
    let repo = Repo::example();
    let run = repo.run(&["argocd", "apps"]).ok();
    insta::assert_snapshot!("argocd_apps_applications", run.stdout);

    let project = run.object("AppProject", "momcorp");
    assert_eq!(
        project["spec"]["destinations"],
        serde_json::json!([{"server": "https://prod.eks.ramparts.example.com", "namespace": "tenant-momcorp"}])
    );
    assert_eq!(
        project["spec"]["clusterResourceWhitelist"],
        serde_json::json!([{"group": "", "kind": "Namespace"}])
    );
    assert_eq!(
        project["spec"]["sourceRepos"],
        serde_json::json!(["https://github.com/ramparts/deploy.git"])
    );

    let app = run.object("Application", "momcorp-apiserver");
    assert_eq!(app["spec"]["project"], "momcorp");
    assert_eq!(app["spec"]["syncPolicy"]["automated"]["prune"], true);
    assert_eq!(app["spec"]["syncPolicy"]["automated"]["selfHeal"], true);
    assert_eq!(
        app["spec"]["syncPolicy"]["syncOptions"],
        serde_json::json!(["CreateNamespace=true"])
    );
    assert_eq!(app["metadata"]["labels"]["stencil.dev/tenant"], "momcorp");
    assert_eq!(
        app["metadata"]["labels"]["stencil.dev/service"],
        "apiserver"
    );
    assert_eq!(app["metadata"]["labels"]["stencil.dev/environment"], "prod");
    // Waves: AppProject, then the workspace (Namespace), then the services.
    let wave = |kind: &str, name: &str| {
        run.object(kind, name)["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]
            .as_str()
            .expect("wave")
            .parse::<i32>()
            .expect("number")
    };
    assert!(wave("AppProject", "momcorp") < wave("Application", "momcorp-workspace"));
    assert!(wave("Application", "momcorp-workspace") < wave("Application", "momcorp-apiserver"));

    let set = repo
        .run(&["argocd", "apps", "--mode", "applicationset"])
        .ok();
    insta::assert_snapshot!("argocd_apps_applicationset", set.stdout);
    let appset = set.object("ApplicationSet", "ramparts");
    let steps = appset["spec"]["strategy"]["rollingSync"]["steps"]
        .as_array()
        .expect("steps");
    let order: Vec<String> = steps
        .iter()
        .map(|s| {
            format!(
                "{}/{}",
                s["matchExpressions"][0]["values"][0].as_str().expect("env"),
                s["matchExpressions"][1]["values"][0]
                    .as_str()
                    .expect("component")
            )
        })
        .collect();
    assert_eq!(
        order,
        [
            "dev/workspace",
            "dev/service",
            "prod/workspace",
            "prod/service"
        ]
    );
    let elements = appset["spec"]["generators"][0]["list"]["elements"]
        .as_array()
        .expect("elements");
    assert_eq!(elements.len(), 18);
    assert_eq!(
        set.docs()
            .iter()
            .filter(|d| d["kind"] == "AppProject")
            .count(),
        4
    );
}

#[test]
fn environments_roll_out_in_the_order_stencil_yaml_gives() {
    let repo = Repo::new()
        .file(
            "stencil.yaml",
            "kind: Stencil\nname: plat\nargocd: { repoURL: https://git.example.com/plat.git }\nenvironments:\n  staging: { cluster: https://staging.example.com }\n  canary: { cluster: https://canary.example.com }\n  prod: { cluster: https://prod.example.com }\n",
        )
        .file("tenants/acme/tenant.yaml", "kind: Tenant\nenvironment: prod\nservices: [api]\n")
        .file("tenants/beta/tenant.yaml", "kind: Tenant\nenvironment: canary\nservices: [api]\n")
        .file("tenants/gamma/tenant.yaml", "kind: Tenant\nenvironment: staging\nservices: [api]\n");
    let set = repo
        .run(&["argocd", "apps", "--mode", "applicationset"])
        .ok();
    let appset = set.object("ApplicationSet", "plat");
    let envs: Vec<&str> = appset["spec"]["strategy"]["rollingSync"]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| s["matchExpressions"][0]["values"][0].as_str().expect("env"))
        .collect();
    assert_eq!(
        envs,
        ["staging", "staging", "canary", "canary", "prod", "prod"]
    );
}

#[test]
fn apps_need_a_repo_url_and_distinct_names() {
    let repo = Repo::new();
    repo.run(&["argocd", "apps"])
        .fails(&["stencil.yaml has no `argocd.repoURL`", "hint"]);
    let repo = Repo::new()
        .file(
            "stencil.yaml",
            format!(
                "{}argocd: {{ repoURL: https://git.example.com/p.git }}\n",
                common::STENCIL_YAML
            ),
        )
        .file("base/workspace/service.yaml", common::SERVICE_YAML)
        .file("base/workspace/version.yaml", common::VERSION_YAML)
        .file(
            "tenants/acme/tenant.yaml",
            "kind: Tenant\nenvironment: dev\nservices: [workspace]\n",
        );
    repo.run(&["argocd", "apps"]).fails(&[
        "the workspace of tenant `acme` and tenant `acme` service `workspace` would both be the Application `acme-workspace`",
    ]);
}

#[test]
fn plugin_config_names_the_plugin_and_its_command() {
    let repo = Repo::example();
    let run = repo.run(&["argocd", "plugin-config"]).ok();
    let config: serde_json::Value = serde_yaml::from_str(&run.stdout).expect("YAML");
    assert_eq!(config["kind"], "ConfigManagementPlugin");
    assert_eq!(config["metadata"]["name"], "stencil");
    assert_eq!(config["spec"]["version"], "v1");
    assert_eq!(
        config["spec"]["generate"]["command"],
        serde_json::json!(["stencil", "argocd", "generate"])
    );
    assert_eq!(config["spec"]["preserveFileMode"], false);
    assert!(
        config["spec"]["discover"].is_null(),
        "no discovery by default"
    );
    let names: Vec<&str> = config["spec"]["parameters"]["static"]
        .as_array()
        .expect("parameters")
        .iter()
        .map(|p| p["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["tenant", "service"]);

    let run = repo
        .run(&["argocd", "plugin-config", "--with-discovery"])
        .ok();
    let config: serde_json::Value = serde_yaml::from_str(&run.stdout).expect("YAML");
    assert_eq!(config["spec"]["discover"]["fileName"], "./stencil.yaml");

    // The sidecar install ships the same plugin.yaml.
    let shipped = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/argocd/plugin.yaml"),
    )
    .expect("deploy/argocd/plugin.yaml");
    let plain = repo.run(&["argocd", "plugin-config"]).ok();
    assert_eq!(
        shipped, plain.stdout,
        "deploy/argocd/plugin.yaml is stale: `stencil argocd plugin-config > deploy/argocd/plugin.yaml`"
    );
}

#[test]
fn apps_and_explain_print_json_when_asked() {
    let repo = crate::common::Repo::example();
    let yaml = repo.run(&["argocd", "apps"]).ok().docs();
    let json = repo.run(&["argocd", "apps", "-o", "json"]).ok();
    assert_eq!(json.json_items(), yaml);

    let explained = repo
        .run(&["explain", "momcorp/apiserver", "image.tag", "-o", "json"])
        .ok();
    let doc: serde_json::Value = serde_json::from_str(&explained.stdout).expect("JSON");
    assert_eq!(doc["tenant"], "momcorp");
    assert_eq!(doc["layers"].as_array().expect("layers").len(), 6);
    let values = doc["values"].as_array().expect("values");
    assert_eq!(values.len(), 1);
    assert_eq!(values[0]["path"], "image.tag");
    assert_eq!(
        values[0]["setAt"],
        "tenants/momcorp/apiserver/version.yaml:5:3"
    );
    assert_eq!(values[0]["overrides"][0], "base/apiserver/version.yaml:5:3");
    // The text form shows the same facts.
    let text = repo
        .run(&["explain", "momcorp/apiserver", "image.tag"])
        .ok()
        .stdout;
    assert!(
        text.contains("    set at tenants/momcorp/apiserver/version.yaml:5:3"),
        "{text}"
    );
}
