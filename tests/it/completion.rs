//! `stencil completion SHELL` and `stencil man`: generated from the command line itself.

use std::process::Command;

use crate::common::{Repo, Run};

#[test]
fn completion_scripts_cover_every_command_and_bash_parses_them() {
    let repo = Repo::new();
    let bash = repo.run(&["completion", "bash"]).ok();
    for command in [
        "render",
        "explain",
        "validate",
        "diff",
        "affected",
        "migrate",
        "bump",
        "secrets",
        "argocd",
        "tenant",
        "policy",
        "completion",
        "man",
    ] {
        assert!(bash.stdout.contains(command), "{command}");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("stencil.bash");
    std::fs::write(&script, &bash.stdout).expect("write");
    let checked = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .expect("bash");
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let run = repo.run(&["completion", shell]).ok();
        assert!(run.stdout.contains("stencil"), "{shell}");
    }
    let unknown = repo.run(&["completion", "tcsh"]);
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
}

#[test]
fn man_pages_are_written_for_every_command() {
    let repo = Repo::new();
    let out = tempfile::tempdir().expect("tempdir");
    let dir = out.path().join("man1");
    let run: Run = repo
        .run(&["man", "--out-dir", dir.to_str().expect("utf-8")])
        .ok();
    assert!(run.stdout.is_empty());
    for page in [
        "stencil.1",
        "stencil-render.1",
        "stencil-secrets-set.1",
        "stencil-argocd-generate.1",
    ] {
        let text = std::fs::read_to_string(dir.join(page)).expect(page);
        assert!(text.contains(".TH"), "{page}");
    }
}

#[test]
fn an_invalid_log_filter_is_a_usage_error() {
    let run = Repo::new().run_env(&["render"], &[("STENCIL_LOG", Some("stencil=["))]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr
            .contains("STENCIL_LOG `stencil=[` is not a tracing filter"),
        "{}",
        run.stderr
    );
}

#[test]
fn with_json_logs_errors_are_json_too() {
    let run = Repo::new()
        .file("tenants/acme/api/values.yaml", "replicas: many\n")
        .run(&["--log-format", "json", "render"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("\"ERROR\""))
        .expect("an error line");
    let error: serde_json::Value = serde_json::from_str(line).expect("JSON");
    assert_eq!(error["file"], "tenants/acme/api/values.yaml");
    assert_eq!(error["line"], 1);
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{error}"
    );
}

#[test]
fn diff_takes_output_like_every_command_and_format_still() {
    let repo = Repo::new();
    let dir = repo.path().to_str().expect("utf-8").to_owned();
    let with = |flag: &str| {
        repo.run(&["diff", "--from-dir", &dir, "--to-dir", &dir, flag, "json"])
            .ok()
            .stdout
    };
    let output = with("-o");
    assert!(
        output.trim_start().starts_with('{') || output.trim_start().starts_with('['),
        "{output}"
    );
    assert_eq!(output, with("--output"));
    assert_eq!(output, with("--format"));
}

#[test]
fn out_dir_and_json_output_together_are_a_usage_error() {
    let repo = Repo::new();
    let out = repo.path().join("out");
    let run = repo.run(&[
        "render",
        "-o",
        "json",
        "--out-dir",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("--out-dir writes one YAML file per object"),
        "{}",
        run.stderr
    );
    assert!(!out.exists(), "nothing written");
}

#[test]
fn version_names_the_commit() {
    let run = Repo::new().run(&["--version"]).ok();
    let version = run.stdout.trim();
    assert!(
        version.starts_with(concat!("stencil ", env!("CARGO_PKG_VERSION"), " (")),
        "{version}"
    );
    assert!(
        version.ends_with(')') && !version.ends_with("()"),
        "{version}"
    );
}
