//! `stencil migrate` on a legacy layout built with real symlinks and real SOPS files.

use crate::common;

use std::path::{Path, PathBuf};

use crate::common::{Run, legacy_layout};

fn migrate(dir: &Path, args: &[&str]) -> Run {
    Run::from(
        common::stencil(dir)
            .current_dir(dir)
            .arg("migrate")
            .args(args)
            .output()
            .expect("run stencil"),
    )
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        let meta = std::fs::symlink_metadata(&path).expect("meta");
        assert!(
            !meta.file_type().is_symlink(),
            "{} is a symlink",
            path.display()
        );
        if meta.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn migrates_the_symlinked_layout_and_proves_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let helm = legacy_layout(tmp.path());
    let run = migrate(
        tmp.path(),
        &["--from", "helm", "--to", "out", "--name", "chene"],
    )
    .ok();
    assert!(
        run.stderr.contains("symlink: tenant-1/values.yaml -> ../prod/devops-demo-base/values.yaml: replaced by extends: base/devops-demo"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("unmapped: prod/devops-demo-base: affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution"), "{}", run.stderr);
    let out = tmp.path().join("out");

    // No symlink anywhere in the result.
    let mut written = Vec::new();
    files(&out, &mut written);
    assert!(written.len() >= 15, "{written:?}");

    // Secrets: the same bytes.
    for (old, new) in [
        ("tenant-1", "tenants/tenant-1/devops-demo"),
        ("tenant-3", "tenants/tenant-3/devops-demo"),
        ("dev/devops-demo", "tenants/dev/devops-demo"),
    ] {
        assert_eq!(
            std::fs::read(helm.join(old).join("secrets.enc.yaml")).expect("old"),
            std::fs::read(out.join(new).join("secrets.enc.yaml")).expect("new"),
            "{old}"
        );
    }

    // A symlinked tenant is just `extends:`.
    let t1: serde_json::Value = serde_yaml::from_str(
        &std::fs::read_to_string(out.join("tenants/tenant-1/devops-demo/values.yaml"))
            .expect("values"),
    )
    .expect("YAML");
    assert_eq!(t1, serde_json::json!({"extends": "base/devops-demo"}));

    // The real file with 2 diverging keys: extends plus exactly those 2.
    let t3: serde_json::Value = serde_yaml::from_str(
        &std::fs::read_to_string(out.join("tenants/tenant-3/devops-demo/values.yaml"))
            .expect("values"),
    )
    .expect("YAML");
    assert_eq!(
        t3,
        serde_json::json!({
            "extends": "base/devops-demo",
            "replicas": 4,
            "resources": {"limits": {"memory": "512Mi"}},
        })
    );
    // Its own version became a pin; the linked ones did not.
    assert!(
        out.join("tenants/tenant-3/devops-demo/version.yaml")
            .exists()
    );
    assert!(
        !out.join("tenants/tenant-1/devops-demo/version.yaml")
            .exists()
    );

    // --check: every tenant OK.
    let check = migrate(tmp.path(), &["--from", "helm", "--to", "out", "--check"]).ok();
    for tenant in ["tenant-1", "tenant-2", "tenant-3", "dev"] {
        assert!(
            check
                .stdout
                .lines()
                .any(|l| l.starts_with(tenant) && l.ends_with(" OK")),
            "{tenant}:\n{}",
            check.stdout
        );
    }
    assert!(
        check
            .stdout
            .contains("4 of 4 tenant services resolve to the values they had")
    );

    // Secrets files were copied byte for byte, so they are not bound to their new place
    // yet: `secrets bind` (with the demo key) is the migration step for that.
    Run::from(
        common::stencil(tmp.path())
            .args(["--repo"])
            .arg(&out)
            .args(["secrets", "bind"])
            .output()
            .expect("bind"),
    )
    .ok();
    // The result renders (with the demo key: the secrets are still SOPS).
    let render = Run::from(
        common::stencil(tmp.path())
            .args(["--repo"])
            .arg(&out)
            .arg("render")
            .output()
            .expect("render"),
    )
    .ok();
    assert!(render.stdout.contains("name: devops-demo"));
    let secret = render
        .docs()
        .into_iter()
        .find(|d| d["kind"] == "Secret" && d["metadata"]["namespace"] == "tenant-2")
        .expect("tenant-2 Secret");
    let encoded = secret["data"]["DB_PASSWORD"].as_str().expect("DB_PASSWORD");
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect("base64");
    assert_eq!(
        decoded, b"t2-db-password",
        "secrets decrypt after migration"
    );
    // tenant-2's env list dropped LOG_FORMAT (Helm replaces lists): still dropped.
    let t2_env = render
        .docs()
        .into_iter()
        .find(|d| d["kind"] == "ConfigMap" && d["metadata"]["namespace"] == "tenant-2")
        .expect("tenant-2 ConfigMap");
    assert!(t2_env["data"].get("LOG_FORMAT").is_none(), "{t2_env}");
    assert_eq!(t2_env["data"]["MAX_UPLOAD_MB"], "50");
    // What the mapping left in helmPassthrough renders nowhere: validate names it, once.
    let validate = Run::from(
        common::stencil(tmp.path())
            .args(["--repo"])
            .arg(&out)
            .arg("validate")
            .output()
            .expect("validate"),
    )
    .ok();
    let not_rendered: Vec<&str> = validate
        .stderr
        .lines()
        .filter(|l| l.starts_with("not rendered: "))
        .collect();
    assert!(
        not_rendered.iter().any(|l| l.starts_with(
            "not rendered: helmPassthrough.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution at base/devops-demo/service.yaml:"
        )),
        "{}",
        validate.stderr
    );
    assert!(
        validate
            .stderr
            .contains("value in helmPassthrough not rendered")
            || validate
                .stderr
                .contains("values in helmPassthrough not rendered"),
        "{}",
        validate.stderr
    );
    // Under --strict they are errors; render warns about them.
    let strict = Run::from(
        common::stencil(tmp.path())
            .args(["--repo"])
            .arg(&out)
            .args(["validate", "--strict"])
            .output()
            .expect("validate --strict"),
    );
    assert_eq!(strict.code, 1, "{}", strict.stderr);
    assert!(
        strict
            .stderr
            .contains("error: not rendered: helmPassthrough.affinity"),
        "{}",
        strict.stderr
    );
    assert!(
        render
            .stderr
            .contains("not rendered: helmPassthrough.affinity"),
        "render warns: {}",
        render.stderr
    );
}

#[test]
fn check_reports_a_tenant_that_changed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    legacy_layout(tmp.path());
    migrate(tmp.path(), &["--from", "helm", "--to", "out"]).ok();
    let values = tmp
        .path()
        .join("out/tenants/tenant-1/devops-demo/values.yaml");
    let text = std::fs::read_to_string(&values).expect("values");
    std::fs::write(&values, format!("{text}replicas: 9\n")).expect("write");
    let run = migrate(tmp.path(), &["--from", "helm", "--to", "out", "--check"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("tenant-1") && l.contains("DIFF replicas")),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("3 of 4 tenant services"));
}

#[test]
fn dry_run_writes_nothing_and_existing_files_need_force() {
    let tmp = tempfile::tempdir().expect("tempdir");
    legacy_layout(tmp.path());
    let run = migrate(tmp.path(), &["--from", "helm", "--to", "out", "--dry-run"]).ok();
    assert!(
        run.stdout
            .contains("would write out/tenants/tenant-1/devops-demo/values.yaml"),
        "{}",
        run.stdout
    );
    assert!(!tmp.path().join("out").exists());
    assert!(
        run.stdout.contains("would update out/schemas"),
        "{}",
        run.stdout
    );
    migrate(tmp.path(), &["--from", "helm", "--to", "out"]).ok();
    // The `$schema` lines of the files written resolve.
    for kind in ["stencil", "tenant", "service", "version", "env"] {
        let schema = tmp.path().join(format!("out/schemas/{kind}.schema.json"));
        assert!(schema.is_file(), "{}", schema.display());
    }
    let service =
        std::fs::read_to_string(tmp.path().join("out/base/devops-demo/service.yaml")).unwrap();
    assert!(
        service.contains("$schema=../../schemas/service.schema.json"),
        "{service}"
    );
    migrate(tmp.path(), &["--from", "helm", "--to", "out"]).fails(&["exist in out", "--force"]);
    migrate(tmp.path(), &["--from", "helm", "--to", "out", "--force"]).ok();
}

#[test]
fn bad_symlinks_each_have_their_own_error_and_nothing_is_written() {
    let cases: [(&str, &str, &str); 3] = [
        ("outside", "../../outside.yaml", "points outside"),
        (
            "dangling",
            "../prod/devops-demo-base/nope.yaml",
            "dangling symlink",
        ),
        ("loop", "values.yaml", "symlink loop"),
    ];
    for (what, target, needle) in cases {
        let tmp = tempfile::tempdir().expect("tempdir");
        let helm = legacy_layout(tmp.path());
        std::fs::write(tmp.path().join("outside.yaml"), "replicaCount: 1\n").expect("write");
        let dir = helm.join("tenant-9");
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::os::unix::fs::symlink(target, dir.join("values.yaml")).expect("symlink");
        let run = migrate(tmp.path(), &["--from", "helm", "--to", "out"])
            .fails(&[needle, "tenant-9/values.yaml"]);
        assert!(
            !tmp.path().join("out").exists(),
            "{what}: something was written"
        );
        drop(run);
    }
}
