//! `stencil diff` and `stencil affected` on real git repositories made in temp dirs.

use crate::common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use crate::common::{Repo, Run, git};

/// The example repository, committed on `main`.
fn committed_example() -> Repo {
    let repo = Repo::example();
    git(repo.path(), &["init", "-q", "-b", "main"]);
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-qm", "example"]);
    repo
}

fn commit(repo: &Repo, message: &str) {
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-qm", message]);
}

fn edit(repo: Repo, path: &str, from: &str, to: &str) -> Repo {
    let text = repo.read(path);
    assert!(text.contains(from), "{path} lacks {from:?}");
    let text = text.replacen(from, to, 1);
    repo.file(path, text)
}

/// `stencil affected --output json` as a set of `tenant/service` (`tenant` for a namespace).
fn affected(repo: &Repo, args: &[&str]) -> BTreeSet<String> {
    let mut all = vec!["affected", "--output", "json"];
    all.extend_from_slice(args);
    let run = repo.run(&all).ok();
    let apps: Vec<serde_json::Value> = serde_json::from_str(&run.stdout).expect("JSON");
    apps.iter()
        .map(|a| match a["service"].as_str() {
            Some(s) => format!("{}/{s}", a["tenant"].as_str().expect("tenant")),
            None => a["tenant"].as_str().expect("tenant").to_owned(),
        })
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// Brute force: renders both sides in full (`render --out-dir` of the old commit, checked
/// out with `git worktree`, and of the working tree) and lists the apps whose files differ.
fn brute_force(repo: &Repo, from: &str) -> BTreeSet<String> {
    let tmp = tempfile::tempdir().expect("tempdir");
    let old = tmp.path().join("old");
    git(
        repo.path(),
        &[
            "worktree",
            "add",
            "-q",
            "--detach",
            old.to_str().expect("utf-8"),
            from,
        ],
    );
    let render = |root: &Path, out: &Path| {
        let run = Run::from(
            common::stencil(root)
                .arg("--repo")
                .arg(root)
                .args(["render", "--out-dir"])
                .arg(out)
                .output()
                .expect("render"),
        )
        .ok();
        drop(run);
    };
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    render(&old, &a);
    render(repo.path(), &b);
    git(
        repo.path(),
        &[
            "worktree",
            "remove",
            "--force",
            old.to_str().expect("utf-8"),
        ],
    );
    let mut files = BTreeSet::new();
    for dir in [&a, &b] {
        collect(dir, dir, &mut files);
    }
    let mut apps = BTreeSet::new();
    for file in files {
        let (x, y) = (
            std::fs::read(a.join(&file)).ok(),
            std::fs::read(b.join(&file)).ok(),
        );
        if x != y {
            // <tenant>/<service>/<kind>-<name>.yaml, or <tenant>/namespace-<ns>.yaml
            let parts: Vec<&str> = file.split('/').collect();
            apps.insert(match parts.as_slice() {
                [tenant, _] => (*tenant).to_owned(),
                [tenant, service, _] => format!("{tenant}/{service}"),
                _ => panic!("unexpected file {file}"),
            });
        }
    }
    apps
}

fn collect(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            collect(root, &path, out);
        } else if path.file_name().and_then(|n| n.to_str()) != Some(".stencil-out") {
            out.insert(
                path.strip_prefix(root)
                    .expect("under root")
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
}

/// `diff` must leave the working tree and the index exactly as they were.
fn untouched<T>(repo: &Repo, f: impl FnOnce() -> T) -> T {
    let status = git(
        repo.path(),
        &[
            "--no-optional-locks",
            "status",
            "--porcelain",
            "--untracked-files=all",
        ],
    );
    let index = std::fs::read(repo.path().join(".git/index")).expect("index");
    let out = f();
    assert_eq!(
        git(
            repo.path(),
            &[
                "--no-optional-locks",
                "status",
                "--porcelain",
                "--untracked-files=all"
            ]
        ),
        status
    );
    assert_eq!(
        std::fs::read(repo.path().join(".git/index")).expect("index"),
        index,
        "the index changed"
    );
    out
}

#[test]
fn a_base_change_shows_for_every_tenant_that_inherits_it_and_none_that_pins() {
    let repo = committed_example();
    let repo = edit(
        repo,
        "base/apiserver/version.yaml",
        "tag: ",
        "tag: 2026.12.01-0000001 #",
    );
    let run = untouched(&repo, || repo.run(&["diff", "--color", "never"]).ok());
    // momcorp pins its own apiserver version.
    let expected = set(&[
        "mars-university/apiserver",
        "planet-express/apiserver",
        "slurm/apiserver",
    ]);
    for app in &expected {
        assert!(
            run.stdout.contains(&format!("== {app} (changed")),
            "{app}:\n{}",
            run.stdout
        );
    }
    assert!(
        !run.stdout.contains("== momcorp/apiserver"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("+        image: 012345678901.dkr.ecr.us-east-1.amazonaws.com/apiserver:2026.12.01-0000001"), "{}", run.stdout);
    assert!(
        run.stdout.trim_end().ends_with(
            // Every object carries app.kubernetes.io/version.
            "3 apps changed (0 objects added, 43 changed, 0 removed) across 3 tenants"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(affected(&repo, &[]), expected);
    assert_eq!(brute_force(&repo, "HEAD"), expected);
}

#[test]
fn a_base_change_every_tenant_overrides_affects_no_one() {
    let repo = committed_example().file(
        "tenants/planet-express/apiserver/env.yaml",
        "DELIVERY_REGION: earth\nENABLE_TELEPORTER: false\nLOG_LEVEL: error\n",
    );
    commit(&repo, "planet-express sets its own log level");
    // Both prod tenants set LOG_LEVEL themselves: the profile's value reaches no one.
    let repo = edit(
        repo,
        "base/apiserver/prod.yaml",
        "LOG_LEVEL: warning",
        "LOG_LEVEL: critical",
    );
    assert_eq!(affected(&repo, &[]), set(&[]));
    assert_eq!(brute_force(&repo, "HEAD"), set(&[]));
    let run = repo.run(&["diff", "--exit-code"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "0 apps changed (0 objects added, 0 changed, 0 removed) across 0 tenants\n"
    );
}

#[test]
fn a_tenant_only_change_touches_one_app() {
    let repo = committed_example();
    let repo = edit(
        repo,
        "tenants/slurm/apiserver/env.yaml",
        "WORKERS: 1",
        "WORKERS: 2",
    );
    let run = repo.run(&["diff", "--color", "never"]).ok();
    assert!(
        run.stdout
            .contains("== slurm/apiserver (changed: 4 changed)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("-  WORKERS: '1'\n+  WORKERS: '2'"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .trim_end()
            .ends_with("1 app changed (0 objects added, 4 changed, 0 removed) across 1 tenant"),
        "{}",
        run.stdout
    );
    assert_eq!(affected(&repo, &[]), set(&["slurm/apiserver"]));
    assert_eq!(brute_force(&repo, "HEAD"), set(&["slurm/apiserver"]));
}

#[test]
fn an_added_tenant_shows_as_added_objects() {
    let repo = committed_example().file(
        "tenants/newco/tenant.yaml",
        "kind: Tenant\nenvironment: dev\ndomain: newco.dev.ramparts.example.com\nservices: [frontend]\n",
    );
    let run = repo.run(&["diff", "--format", "markdown"]).ok();
    assert!(run.stdout.contains("| added | 1 | 2 |"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("<summary><code>newco/frontend</code> added:"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("+kind: Namespace"), "{}", run.stdout);
    assert!(
        run.stdout.contains("+++ b/Deployment newco/frontend"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("--- /dev/null"), "{}", run.stdout);
    let last = run.stdout.trim_end().lines().last().expect("summary");
    assert!(
        last.starts_with("2 apps changed (")
            && last.ends_with("0 changed, 0 removed) across 1 tenant"),
        "{last}"
    );
    assert_eq!(affected(&repo, &[]), set(&["newco", "newco/frontend"]));
    assert_eq!(
        brute_force(&repo, "HEAD"),
        set(&["newco", "newco/frontend"])
    );

    // And the other way round: a removed tenant's objects are removed.
    commit(&repo, "newco");
    let run = repo
        .run(&[
            "diff", "--from", "HEAD", "--to", "HEAD~1", "--format", "json",
        ])
        .ok();
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(doc["summary"]["removed"]["apps"], 2);
    assert_eq!(doc["summary"]["removed"]["tenants"], 1);
    assert!(
        doc["apps"]
            .as_array()
            .expect("apps")
            .iter()
            .all(|a| a["status"] == "removed")
    );
    assert!(
        run.stderr
            .contains("2 apps changed (0 objects added, 0 changed,"),
        "{}",
        run.stderr
    );
}

/// Every plaintext value of a secrets file, via `stencil secrets decrypt`.
fn plaintexts(repo: &Repo, file: &str) -> Vec<String> {
    let run = repo
        .run(&[
            "secrets",
            "decrypt",
            repo.path().join(file).to_str().expect("utf-8"),
        ])
        .ok();
    let map: serde_yaml::Mapping = serde_yaml::from_str(&run.stdout).expect("YAML");
    map.values()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .filter(|v| v.len() >= 6)
        .collect()
}

#[test]
fn a_secret_change_shows_a_fingerprint_never_the_value() {
    let repo = committed_example();
    let file = "tenants/slurm/apiserver/secrets.enc.yaml";
    let old_values = plaintexts(&repo, file);
    let value = "n3w-s3cr3t-value-for-slurm";
    repo.run_stdin(
        &["secrets", "set", file, "SESSION_SECRET", "--from-stdin"],
        value,
    )
    .ok();
    for format in ["text", "markdown", "json"] {
        let run = repo
            .run(&["diff", "--format", format, "--color", "never"])
            .ok();
        assert!(
            run.stdout.contains("slurm/apiserver"),
            "{format}: {}",
            run.stdout
        );
        assert!(
            run.stdout.contains("<redacted hmac-sha256:"),
            "{format}: {}",
            run.stdout
        );
        assert!(
            !run.stdout.contains(value) && !run.stderr.contains(value),
            "{format}: the new value leaked"
        );
        for old in &old_values {
            assert!(
                !run.stdout.contains(old.as_str()),
                "{format}: an old value leaked"
            );
        }
    }
    let run = repo.run(&["diff", "--color", "never"]).ok();
    let changed: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("+  SESSION_SECRET:") || l.starts_with("-  SESSION_SECRET:"))
        .collect();
    assert_eq!(changed.len(), 2, "{}", run.stdout);
    assert_ne!(changed[0][1..], changed[1][1..], "the fingerprint changed");
    assert_eq!(affected(&repo, &[]), set(&["slurm/apiserver"]));
    assert_eq!(brute_force(&repo, "HEAD"), set(&["slurm/apiserver"]));

    // Without any key: compared by ciphertext, and said so.
    let run = repo
        .run_env(
            &["diff", "--color", "never"],
            &[("SOPS_AGE_KEY_FILE", None)],
        )
        .ok();
    assert!(
        run.stdout.contains("compared by ciphertext"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("== slurm/apiserver"), "{}", run.stdout);
    assert!(!run.stdout.contains(value));
}

#[test]
fn exit_code_says_whether_anything_differs() {
    let repo = committed_example();
    let run = repo.run(&["diff", "--exit-code"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .ends_with("0 apps changed (0 objects added, 0 changed, 0 removed) across 0 tenants\n")
    );
    let repo = edit(
        repo,
        "tenants/slurm/apiserver/env.yaml",
        "WORKERS: 1",
        "WORKERS: 3",
    );
    let run = repo.run(&["diff", "--exit-code"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(!run.stdout.is_empty());
    // Without --exit-code, differences are not an error.
    repo.run(&["diff"]).ok();
}

#[test]
fn diff_reads_revisions_without_touching_the_work_tree_or_index() {
    let repo = committed_example();
    let repo = edit(
        repo,
        "tenants/slurm/apiserver/env.yaml",
        "WORKERS: 1",
        "WORKERS: 5",
    );
    commit(&repo, "more workers");
    // Uncommitted and staged edits, and an untracked file, stay exactly as they are.
    let repo = edit(repo, "base/frontend/version.yaml", "tag: ", "tag: 9.9.9 #");
    git(repo.path(), &["add", "base/frontend/version.yaml"]);
    let repo = edit(
        repo,
        "tenants/slurm/apiserver/env.yaml",
        "WORKERS: 5",
        "WORKERS: 6",
    );
    let repo = repo.file("notes.txt", "scratch\n");
    let between = untouched(&repo, || {
        affected(&repo, &["--from", "HEAD~1", "--to", "HEAD"])
    });
    assert_eq!(between, set(&["slurm/apiserver"]));
    let to_worktree = untouched(&repo, || affected(&repo, &["--from", "HEAD"]));
    assert!(
        to_worktree.contains("slurm/apiserver") && to_worktree.contains("slurm/frontend"),
        "{to_worktree:?}"
    );
    untouched(&repo, || repo.run(&["diff", "--from", "HEAD~1"]).ok());
}

#[test]
fn the_default_base_is_the_merge_base_with_upstream() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let origin = tmp.path().join("origin.git");
    let repo = committed_example();
    git(
        tmp.path(),
        &["init", "-q", "--bare", origin.to_str().expect("utf-8")],
    );
    git(
        repo.path(),
        &["remote", "add", "origin", origin.to_str().expect("utf-8")],
    );
    git(repo.path(), &["push", "-q", "-u", "origin", "main"]);
    git(
        repo.path(),
        &["checkout", "-q", "-b", "feature", "--track", "origin/main"],
    );
    let repo = edit(
        repo,
        "tenants/slurm/apiserver/env.yaml",
        "WORKERS: 1",
        "WORKERS: 7",
    );
    commit(&repo, "feature");
    // HEAD moved on; the base is still origin/main's commit, so the committed change shows.
    let run = repo.run(&["diff", "--format", "json"]).ok();
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert!(
        doc["from"]
            .as_str()
            .expect("from")
            .contains("merge-base of HEAD and origin/main"),
        "{}",
        doc["from"]
    );
    assert_eq!(doc["apps"][0]["service"], "apiserver");
}

#[test]
fn plain_folders_compare_without_git() {
    let old = Repo::example();
    let new = edit(
        Repo::example(),
        "tenants/slurm/apiserver/env.yaml",
        "WORKERS: 1",
        "WORKERS: 4",
    );
    let run = common::stencil(old.path())
        .args(["affected", "--from-dir"])
        .arg(old.path())
        .arg("--to-dir")
        .arg(new.path())
        .output()
        .expect("run");
    let run = Run::from(run).ok();
    assert_eq!(run.stdout, "slurm/apiserver\n");
}

#[test]
fn filters_limit_the_comparison() {
    let repo = committed_example();
    let repo = edit(
        repo,
        "base/apiserver/version.yaml",
        "tag: ",
        "tag: 2026.12.01-0000002 #",
    );
    assert_eq!(
        affected(&repo, &["--tenant", "slurm"]),
        set(&["slurm/apiserver"])
    );
    assert_eq!(affected(&repo, &["--service", "frontend"]), set(&[]));
    assert_eq!(
        affected(&repo, &["--environment", "prod"]),
        set(&["planet-express/apiserver"])
    );
}

#[test]
fn bad_revisions_and_broken_sides_are_clear_errors() {
    let repo = committed_example();
    repo.run(&["diff", "--from", "no-such-branch"])
        .fails(&["unknown revision `no-such-branch`", "hint"]);
    // The old side is broken: the error names the side and the file.
    let repo = repo.file(
        "tenants/slurm/tenant.yaml",
        "kind: Tenant\nenvironment: [dev\n",
    );
    commit(&repo, "broken");
    let repo = repo.file(
        "tenants/slurm/tenant.yaml",
        "kind: Tenant\nenvironment: dev\nservices: [apiserver, frontend]\n",
    );
    repo.run(&["diff", "--from", "HEAD"]).fails(&[
        "tenants/slurm/tenant.yaml:",
        "in --from",
        "(HEAD)",
    ]);
    // No git at all.
    let plain = Repo::example();
    plain
        .run(&["diff"])
        .fails(&["is not in a git repository", "--from-dir"]);
}

#[test]
fn a_shallow_clone_without_the_merge_base_says_to_fetch_more() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let upstream = committed_example();
    let url = format!("file://{}", upstream.path().display());
    let clone = tmp.path().join("clone");
    git(
        tmp.path(),
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            &url,
            clone.to_str().expect("utf-8"),
        ],
    );
    // The remote moves on twice; the clone fetches only the new tip.
    let upstream = edit(
        upstream,
        "tenants/slurm/apiserver/env.yaml",
        "WORKERS: 1",
        "WORKERS: 2",
    );
    commit(&upstream, "two");
    let upstream = edit(
        upstream,
        "tenants/slurm/apiserver/env.yaml",
        "WORKERS: 2",
        "WORKERS: 3",
    );
    commit(&upstream, "three");
    git(&clone, &["fetch", "-q", "--depth", "1", "origin", "main"]);
    let mut cmd = common::stencil(&clone);
    cmd.current_dir(&clone).args(["diff"]);
    let run = Run::from(cmd.output().expect("run"));
    let run = run.fails(&[
        "no merge-base of HEAD and origin/main",
        "shallow clone",
        "fetch-depth: 0",
    ]);
    drop(run);
}

#[test]
fn sensitive_env_values_show_as_fingerprints() {
    let repo = committed_example();
    let settings = repo.read("stencil.yaml");
    let repo = repo.file(
        "stencil.yaml",
        format!("{settings}sensitiveEnv: [REPORTS_*]\n"),
    );
    commit(&repo, "reports bucket names are sensitive");
    let old = "s3://ramparts-prod-momcorp-reports";
    let new = "s3://ramparts-prod-momcorp-reports-v2";
    let repo = edit(repo, "tenants/momcorp/apiserver/env.yaml", old, new);
    let run = repo.run(&["diff", "--color", "never"]).ok();
    assert!(
        run.stdout
            .contains("-  REPORTS_BUCKET: '<redacted hmac-sha256:"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("+  REPORTS_BUCKET: '<redacted hmac-sha256:"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("s3://ramparts-prod-momcorp"),
        "{}",
        run.stdout
    );
    // `render --redact-secrets` hides it too; plain `render` does not (it is the manifest).
    let redacted = repo
        .run(&[
            "render",
            "-t",
            "momcorp",
            "-s",
            "apiserver",
            "--redact-secrets",
        ])
        .ok();
    assert!(!redacted.stdout.contains("s3://ramparts-prod-momcorp"));
    assert!(
        redacted
            .stdout
            .contains("REPORTS_BUCKET: '<redacted sha256:")
    );
    let plain = repo
        .run(&["render", "-t", "momcorp", "-s", "apiserver"])
        .ok();
    assert!(plain.stdout.contains(new));
}

#[test]
fn a_stencil_root_below_the_git_root_reads_the_right_subtree() {
    let outer = Repo::empty();
    let example = Repo::example();
    let deploy = outer.path().join("deploy");
    let status = Command::new("cp")
        .arg("-r")
        .arg(example.path())
        .arg(&deploy)
        .status()
        .expect("cp");
    assert!(status.success());
    let outer = outer.file("README.md", "not stencil\n");
    git(outer.path(), &["init", "-q", "-b", "main"]);
    git(outer.path(), &["add", "-A"]);
    git(outer.path(), &["commit", "-qm", "init"]);
    let env = deploy.join("tenants/slurm/apiserver/env.yaml");
    let text = std::fs::read_to_string(&env)
        .expect("env")
        .replace("WORKERS: 1", "WORKERS: 8");
    std::fs::write(&env, text).expect("write");
    let run = common::stencil(outer.path())
        .current_dir(deploy.join("tenants"))
        .args(["affected"])
        .output()
        .expect("run");
    assert_eq!(Run::from(run).ok().stdout, "slurm/apiserver\n");
}

#[test]
fn symlinks_in_a_revision_resolve_as_on_disk() {
    // Inside the tenant's folder: followed, so the revision renders like the work tree.
    // (A symlink into another tenant's folder is refused: tests/it/tenantfs.rs.)
    let repo = committed_example();
    let shared = repo.read("tenants/planet-express/apiserver/env.yaml");
    let repo = repo
        .file("tenants/slurm/shared-env.yaml", shared)
        .remove("tenants/slurm/apiserver/env.yaml")
        .symlink("tenants/slurm/apiserver/env.yaml", "../shared-env.yaml");
    commit(&repo, "share an env file");
    let run = repo.run(&["diff", "--from", "HEAD", "--exit-code"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        affected(&repo, &["--from", "HEAD~1", "--to", "HEAD"]),
        set(&["slurm/apiserver"])
    );
    // Leaving the repository: refused, naming the revision.
    let repo = repo.remove("tenants/slurm/apiserver/env.yaml").symlink(
        "tenants/slurm/apiserver/env.yaml",
        "../../../../../etc/hostname",
    );
    commit(&repo, "escape");
    repo.run(&["diff", "--from", "HEAD~1", "--to", "HEAD"])
        .fails(&["tenants/slurm/apiserver/env.yaml", "outside the repository"]);
}

/// `diff` on a terminal (a pseudo-terminal from util-linux `script`): coloured, unless
/// TERM=dumb or NO_COLOR says otherwise.
#[test]
fn automatic_colour_follows_the_terminal_term_and_no_color() {
    let repo = committed_example();
    let repo = edit(repo, "base/frontend/version.yaml", "tag: ", "tag: 9.9.9 # ");
    let bin = assert_cmd::cargo::cargo_bin!("stencil");
    let on_a_terminal = |env: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new("script");
        cmd.args(["-qec", &format!("{} diff", bin.display()), "/dev/null"])
            .current_dir(repo.path())
            .env_remove("NO_COLOR")
            .env("SOPS_AGE_KEY_FILE", crate::common::demo_key());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("script (util-linux)");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let xterm = on_a_terminal(&[("TERM", "xterm-256color")]);
    assert!(xterm.contains("9.9.9"), "{xterm}");
    assert!(xterm.contains("\u{1b}["), "a terminal gets colour: {xterm}");
    for env in [
        &[("TERM", "dumb")][..],
        &[("TERM", "xterm-256color"), ("NO_COLOR", "1")][..],
    ] {
        let plain = on_a_terminal(env);
        assert!(plain.contains("9.9.9"), "{env:?}: {plain}");
        assert!(!plain.contains("\u{1b}["), "{env:?}: no colour: {plain}");
    }
}
