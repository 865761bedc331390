//! Issue 17, item 6: no cross-tenant reads. A tenant's inputs come only from its own folder,
//! `base/` and `stencil.yaml`: symlinks may not cross a tenant folder (nor lead from `base/`
//! into `tenants/`), `extends` names only `base/` or the tenant's own files, checked before
//! anything is read, and an error never quotes a line of a file that is not a stencil input.
//! Each case runs the real binary, on the work tree and, where it applies, on a git revision.

use crate::common;

use crate::common::{Repo, Run, git};

const VICTIM_SECRET: &str = "victim-db-password-4f1c";

/// A repository with two tenants, `acme` (the attacker) and `victim`, both running `api`;
/// the victim has a real SOPS secrets file and a values.yaml of its own.
fn two_tenants() -> Repo {
    let repo = Repo::new()
        .with_sops_rule()
        .file(
            "tenants/victim/tenant.yaml",
            "kind: Tenant\nenvironment: prod\nservices: [api]\n",
        )
        .file(
            "tenants/victim/api/values.yaml",
            "replicas: 7\nenv:\n  VICTIM_ONLY: victim-value\n",
        )
        .file(
            "tenants/victim/api/env.yaml",
            "VICTIM_ENV: victim-env-value\n",
        )
        .file("tenants/victim/api/version.yaml", "image: { tag: 9.9.9 }\n");
    repo.set_secret(
        "tenants/victim/api/secrets.enc.yaml",
        "DB_PASSWORD",
        VICTIM_SECRET,
    );
    repo
}

/// Fails like every refused input (exit 3, nothing on stdout), naming `needles`, and never
/// showing the victim's data.
#[track_caller]
fn refused(run: Run, needles: &[&str]) -> Run {
    let run = run.fails(needles);
    for leak in [
        VICTIM_SECRET,
        "victim-value",
        "victim-env-value",
        "AGE-SECRET-KEY",
    ] {
        assert!(
            !run.stderr.contains(leak),
            "stderr leaks {leak}:\n{}",
            run.stderr
        );
    }
    run
}

fn symlink_refused(repo: &Repo, path: &str) {
    for args in [
        &["render"][..],
        &["render", "--tenant", "acme"],
        &["validate"],
    ] {
        let run = repo.run(args);
        if args == ["validate"] {
            // validate reports every problem and exits non-zero.
            assert_ne!(run.code, 0, "{}", run.stderr);
            assert!(run.stderr.contains("symlink-boundary"), "{}", run.stderr);
            assert!(!run.stderr.contains(VICTIM_SECRET), "{}", run.stderr);
            continue;
        }
        refused(run, &["error: symlink-boundary", path, "hint:"]);
    }
    refused(
        repo.generate("acme", "api"),
        &["error: symlink-boundary", path],
    );
}

#[test]
fn secrets_symlinked_to_another_tenant_are_refused() {
    let repo = two_tenants().symlink(
        "tenants/acme/api/secrets.enc.yaml",
        "../../victim/api/secrets.enc.yaml",
    );
    symlink_refused(&repo, "tenants/acme/api/secrets.enc.yaml");
}

#[test]
fn absolute_symlinks_are_refused() {
    let repo = two_tenants();
    let target = repo.path().join("tenants/victim/api/secrets.enc.yaml");
    let repo = repo.symlink("tenants/acme/api/secrets.enc.yaml", &target);
    symlink_refused(&repo, "tenants/acme/api/secrets.enc.yaml");
    // Even into the tenant's own folder: an absolute target means something else on every
    // checkout (Argo CD refuses absolute symlinks too).
    let repo = Repo::new().file("tenants/acme/own.yaml", "replicas: 3\n");
    let target = repo.path().join("tenants/acme/own.yaml");
    let repo = repo.symlink("tenants/acme/api/values.yaml", &target);
    refused(
        repo.run(&["render"]),
        &["tenants/acme/api/values.yaml", "absolute symlink", "hint:"],
    );
}

#[test]
fn symlink_chains_are_followed_to_the_end() {
    // Through a file of the tenant's own folder, then out.
    // (The hop itself is found first, when stencil lists the tenant's folder.)
    let repo = two_tenants()
        .symlink("tenants/acme/api/secrets.enc.yaml", "../hop.yaml")
        .symlink("tenants/acme/hop.yaml", "../victim/api/secrets.enc.yaml");
    symlink_refused(&repo, "tenants/acme/hop.yaml");
    // Through the victim's folder and back: the tenant would read through a link the other
    // tenant controls.
    let repo = two_tenants()
        .file("tenants/acme/mine.yaml", "replicas: 3\n")
        .symlink("tenants/victim/link.yaml", "../acme/mine.yaml")
        .symlink("tenants/acme/api/values.yaml", "../../victim/link.yaml");
    // (A full render stops at the victim's own link first; the plugin reads acme only.)
    refused(
        repo.generate("acme", "api"),
        &[
            "error: symlink-boundary",
            "tenants/acme/api/values.yaml",
            "tenants/victim/link.yaml",
        ],
    );
    // Through base/ into another tenant.
    let repo = two_tenants()
        .symlink(
            "base/api/shared.yaml",
            "../../tenants/victim/api/values.yaml",
        )
        .symlink(
            "tenants/acme/api/values.yaml",
            "../../../base/api/shared.yaml",
        );
    refused(
        repo.run(&["render"]),
        &["error: symlink-boundary", "tenants/acme/api/values.yaml"],
    );
}

#[test]
fn service_folder_symlinked_to_another_tenant_is_refused() {
    let repo = two_tenants().symlink("tenants/acme/api", "../victim/api");
    symlink_refused(&repo, "tenants/acme/api");
    // A folder on the way, not the service folder itself.
    let repo = two_tenants()
        .symlink(
            "tenants/acme/api/secrets.enc.yaml",
            "../shared/secrets.enc.yaml",
        )
        .symlink("tenants/acme/shared", "../victim/api");
    refused(
        repo.run(&["render"]),
        &["error: symlink-boundary", "tenants/acme/"],
    );
}

#[test]
fn tenant_folder_symlinked_to_another_tenant_is_refused() {
    // `copycat` is a symlink to the victim's folder: it would render the victim's secrets
    // into the copycat namespace.
    let repo = two_tenants().symlink("tenants/copycat", "victim");
    for args in [&["render"][..], &["render", "--tenant", "copycat"]] {
        refused(
            repo.run(args),
            &["error: symlink-boundary", "tenants/copycat"],
        );
    }
    refused(
        repo.generate("copycat", "api"),
        &["error: symlink-boundary", "tenants/copycat"],
    );
    // The whole tenants/ folder may not be a symlink either.
    let repo = two_tenants();
    std::fs::rename(
        repo.path().join("tenants"),
        repo.path().join("real-tenants"),
    )
    .expect("mv");
    let repo = repo.symlink("tenants", "real-tenants");
    refused(
        repo.run(&["render"]),
        &["error: symlink-boundary", "tenants"],
    );
}

#[test]
fn tenant_files_symlinked_to_another_tenant_are_refused() {
    for file in ["values.yaml", "env.yaml", "version.yaml"] {
        let path = format!("tenants/acme/api/{file}");
        let repo = two_tenants().symlink(&path, format!("../../victim/api/{file}"));
        symlink_refused(&repo, &path);
    }
    let repo = two_tenants()
        .remove("tenants/acme/tenant.yaml")
        .symlink("tenants/acme/tenant.yaml", "../victim/tenant.yaml");
    refused(
        repo.run(&["render"]),
        &["error: symlink-boundary", "tenants/acme/tenant.yaml"],
    );
}

#[test]
fn base_symlinks_may_not_lead_into_tenants() {
    let repo = two_tenants()
        .symlink("base/api/prod.yaml", "../../tenants/victim/api/values.yaml")
        .file(
            "tenants/acme/api/values.yaml",
            "extends: base/api/prod.yaml\n",
        );
    refused(
        repo.run(&["render"]),
        &[
            "error: symlink-boundary tenants/acme/api/values.yaml:1 ",
            "--> tenants/acme/api/values.yaml:1:1",
            "base/api/prod.yaml",
            "base/",
        ],
    );
    // A base service's own file.
    let repo = two_tenants().remove("base/api/version.yaml").symlink(
        "base/api/version.yaml",
        "../../tenants/victim/api/version.yaml",
    );
    refused(
        repo.run(&["render"]),
        &["error: symlink-boundary", "base/api/version.yaml"],
    );
    // stencil.yaml is the platform's: it may not be read from a tenant's folder.
    let repo = two_tenants()
        .file("tenants/victim/stencil.yaml", common::STENCIL_YAML)
        .remove("stencil.yaml")
        .symlink("stencil.yaml", "tenants/victim/stencil.yaml");
    refused(
        repo.run(&["render"]),
        &["error: symlink-boundary", "stencil.yaml"],
    );
}

fn extends_refused(repo: &Repo, target: &str) -> Run {
    let run = refused(
        repo.run(&["render"]),
        &[
            "error: extends-boundary tenants/acme/api/values.yaml:1 ",
            "--> tenants/acme/api/values.yaml:1:1",
            target,
            "hint:",
        ],
    );
    refused(
        repo.run(&["explain", "acme/api"]),
        &["error: extends-boundary", target],
    );
    run
}

#[test]
fn extends_into_another_tenant_is_refused() {
    for target in [
        "tenants/victim/api/values.yaml",
        "tenants/victim/api",
        "./tenants//victim/api/values.yaml",
        "tenants/victim/api/secrets.enc.yaml",
        "tenants/victim/api/env.yaml",
    ] {
        let repo = two_tenants().file(
            "tenants/acme/api/values.yaml",
            format!("extends: {target}\n"),
        );
        extends_refused(&repo, "tenants/victim/api");
    }
    // In a list, after a valid entry.
    let repo = two_tenants().file(
        "tenants/acme/api/values.yaml",
        "extends:\n  - base/api\n  - tenants/victim/api/values.yaml\n",
    );
    refused(
        repo.run(&["render"]),
        &[
            "error: extends-boundary tenants/acme/api/values.yaml:3 ",
            "--> tenants/acme/api/values.yaml:3:5",
            "tenants/victim/api/values.yaml",
        ],
    );
}

#[test]
fn extends_into_platform_files_is_refused_without_reading_them() {
    let key = std::fs::read_to_string(common::demo_key()).expect("demo key");
    let repo = two_tenants().file("keys/demo-age-key.txt", &key);
    git(repo.path(), &["init", "-q", "-b", "main"]);
    for target in [
        "stencil.yaml",
        ".sops.yaml",
        "keys/demo-age-key.txt",
        "keys",
        ".git/config",
        ".git/HEAD",
        "base/../keys/demo-age-key.txt",
    ] {
        let repo = Repo::from_dir_copy(&repo).file(
            "tenants/acme/api/values.yaml",
            format!("extends: {target}\n"),
        );
        let run = repo.run(&["render"]);
        let shown = format!("{}{}", run.stdout, run.stderr);
        assert!(!shown.contains("AGE-SECRET-KEY"), "leaks the key:\n{shown}");
        assert!(!shown.contains("[core]"), "quotes .git/config:\n{shown}");
        assert!(
            !shown.contains("creation_rules"),
            "quotes .sops.yaml:\n{shown}"
        );
        if target.contains("..") {
            refused(run, &["tenants/acme/api/values.yaml:1:1", "`..`"]);
        } else {
            refused(
                run,
                &[
                    "error: extends-boundary tenants/acme/api/values.yaml:1 ",
                    "--> tenants/acme/api/values.yaml:1:1",
                    target,
                ],
            );
        }
    }
}

#[test]
fn extends_to_files_under_base_that_are_not_layers_is_refused() {
    for (file, text) in [
        (
            "base/api/README.md",
            "# notes\nAGE-SECRET-KEY-1NOTAREALKEY\n",
        ),
        ("base/api/notes.txt", "AGE-SECRET-KEY-1NOTAREALKEY\n"),
        ("base/api/.hidden.yaml", "AGE-SECRET-KEY-1NOTAREALKEY: x\n"),
        (
            "base/api/secrets.enc.yaml",
            "AGE-SECRET-KEY-1NOTAREALKEY: x\n",
        ),
    ] {
        let repo = Repo::new()
            .file(file, text)
            .file("tenants/acme/api/values.yaml", format!("extends: {file}\n"));
        refused(
            repo.run(&["render"]),
            &[
                "error: extends-boundary tenants/acme/api/values.yaml:1 ",
                "--> tenants/acme/api/values.yaml:1:1",
                file,
            ],
        );
    }
}

#[test]
fn base_files_extend_only_base() {
    let repo = two_tenants()
        .file(
            "base/api/prod.yaml",
            "extends: tenants/victim/api/values.yaml\n",
        )
        .file(
            "tenants/acme/api/values.yaml",
            "extends: base/api/prod.yaml\n",
        );
    refused(
        repo.run(&["render"]),
        &[
            "error: extends-boundary base/api/prod.yaml:1 ",
            "--> base/api/prod.yaml:1:1",
            "tenants/victim/api/values.yaml",
        ],
    );
    // Not even the tenant's own files: a base file is shared by every tenant.
    let repo = Repo::new()
        .file("base/api/prod.yaml", "extends: tenants/acme/own.yaml\n")
        .file("tenants/acme/own.yaml", "replicas: 3\n")
        .file(
            "tenants/acme/api/values.yaml",
            "extends: base/api/prod.yaml\n",
        );
    refused(
        repo.run(&["render"]),
        &[
            "error: extends-boundary base/api/prod.yaml:1 ",
            "--> base/api/prod.yaml:1:1",
        ],
    );
}

#[test]
fn a_tenant_builds_on_base_and_on_its_own_files() {
    let repo = Repo::new()
        .file(
            "base/api/prod.yaml",
            "extends: base/api\nreplicas: 5\nenv: { PROFILE: prod }\n",
        )
        .file(
            "base/api/profiles/real.yaml",
            "env: { FROM_LINKED_BASE: 'yes' }\n",
        )
        .symlink("base/api/linked.yaml", "profiles/real.yaml")
        .file(
            "tenants/acme/common.yaml",
            "extends: [base/api/prod.yaml, base/api/linked.yaml]\nenv: { TEAM: acme }\n",
        )
        .file("tenants/acme/shared-env.yaml", "FROM_OWN_LINK: 'yes'\n")
        .symlink("tenants/acme/api/env.yaml", "../shared-env.yaml")
        .file(
            "tenants/acme/api/values.yaml",
            "extends: tenants/acme/common.yaml\nreplicas: 4\n",
        );
    let check = |run: Run| {
        let run = run.ok();
        let deployment = run.object("Deployment", "api");
        assert_eq!(deployment["spec"]["replicas"], 4, "{}", run.stdout);
        for needle in ["PROFILE", "FROM_LINKED_BASE", "TEAM", "FROM_OWN_LINK"] {
            assert!(
                run.stdout.contains(needle),
                "{needle} missing:\n{}",
                run.stdout
            );
        }
    };
    check(repo.run(&["render"]));
    check(repo.generate("acme", "api"));
    // The same from a git revision: in-bounds symlinks resolve as on disk.
    git(repo.path(), &["init", "-q", "-b", "main"]);
    commit(&repo, "one");
    let run = repo.run(&["diff", "--from", "HEAD", "--exit-code"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

fn commit(repo: &Repo, message: &str) {
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-qm", message]);
}

/// `two_tenants()` committed, then `attack` applied and committed: `diff` reads the second
/// revision from the object database, where symlinks are blobs of mode 120000.
fn committed_attack(attack: impl FnOnce(Repo) -> Repo) -> Repo {
    let repo = two_tenants();
    git(repo.path(), &["init", "-q", "-b", "main"]);
    commit(&repo, "two tenants");
    let repo = attack(repo);
    commit(&repo, "attack");
    repo
}

/// A change to a committed repository, committed on top.
type Attack = Box<dyn FnOnce(Repo) -> Repo>;

#[test]
fn diff_reads_revisions_with_the_same_boundary() {
    let cases: Vec<(Attack, &str, &str)> = vec![
        (
            Box::new(|r: Repo| {
                r.symlink(
                    "tenants/acme/api/secrets.enc.yaml",
                    "../../victim/api/secrets.enc.yaml",
                )
            }),
            "symlink-boundary",
            "tenants/acme/api/secrets.enc.yaml",
        ),
        (
            Box::new(|r: Repo| r.symlink("tenants/acme/api", "../victim/api")),
            "symlink-boundary",
            "tenants/acme/api",
        ),
        (
            Box::new(|r: Repo| r.symlink("tenants/copycat", "victim")),
            "symlink-boundary",
            "tenants/copycat",
        ),
        (
            Box::new(|r: Repo| {
                r.symlink(
                    "tenants/acme/api/values.yaml",
                    "../../victim/api/values.yaml",
                )
            }),
            "symlink-boundary",
            "tenants/acme/api/values.yaml",
        ),
        (
            Box::new(|r: Repo| {
                r.symlink("base/api/prod.yaml", "../../tenants/victim/api/values.yaml")
                    .file(
                        "tenants/acme/api/values.yaml",
                        "extends: base/api/prod.yaml\n",
                    )
            }),
            "symlink-boundary",
            "base/api/prod.yaml",
        ),
        (
            Box::new(|r: Repo| {
                r.file(
                    "tenants/acme/api/values.yaml",
                    "extends: tenants/victim/api/values.yaml\n",
                )
            }),
            "extends-boundary",
            "tenants/acme/api/values.yaml:1:1",
        ),
        (
            Box::new(|r: Repo| {
                r.file(
                    "keys/demo-age-key.txt",
                    std::fs::read(common::demo_key()).expect("key"),
                )
                .file(
                    "tenants/acme/api/values.yaml",
                    "extends: keys/demo-age-key.txt\n",
                )
            }),
            "extends-boundary",
            "tenants/acme/api/values.yaml:1:1",
        ),
    ];
    for (attack, rule, path) in cases {
        let repo = committed_attack(attack);
        let run = repo.run(&["diff", "--from", "HEAD~1", "--to", "HEAD"]);
        let run = refused(run, &[&format!("error: {rule}"), path]);
        assert!(!run.stderr.contains("AGE-SECRET-KEY"), "{}", run.stderr);
        // `affected` reads the same revisions.
        refused(
            repo.run(&["affected", "--from", "HEAD~1", "--to", "HEAD"]),
            &[&format!("error: {rule}"), path],
        );
        // The work tree refuses it the same way.
        refused(repo.run(&["render"]), &[&format!("error: {rule}"), path]);
    }
}

#[test]
fn argocd_generate_in_a_symlinked_app_folder_renders_nothing() {
    // Argo CD runs the plugin in the app's folder; the kernel reports the resolved path of a
    // symlinked folder, which must not make stencil render the folder it points to.
    let repo = two_tenants().symlink("tenants/acme/api", "../victim/api");
    let run = repo.generate_env(
        "acme",
        "api",
        &[("ARGOCD_ENV_TENANT", None), ("ARGOCD_ENV_SERVICE", None)],
    );
    refused(run, &["error: symlink-boundary", "tenants/acme/api"]);
}

#[test]
fn policy_list_shows_the_boundary_rules() {
    let run = Repo::new().run(&["policy", "list"]).ok();
    for id in ["symlink-boundary", "extends-boundary"] {
        assert!(run.stdout.contains(id), "{}", run.stdout);
    }
    // They cannot be relaxed by an exception.
    let repo = Repo::new().file(
        "stencil.yaml",
        format!(
            "{}policy:\n  exceptions:\n    - rule: extends-boundary\n      reason: shared values\n",
            common::STENCIL_YAML
        ),
    );
    repo.run(&["render"])
        .fails(&["extends-boundary", "cannot be relaxed", "stencil.yaml:"]);
}

/// Errors quote the line of an input (the guarantee for other files is structural: see
/// `error.rs`, which quotes only files the loader admits as inputs).
#[test]
fn errors_still_quote_input_lines() {
    let run = Repo::new()
        .file("tenants/acme/api/values.yaml", "replcas: 2\n")
        .run(&["render"]);
    refused(run, &["1 | replcas: 2", "tenants/acme/api/values.yaml:1:1"]);
}

trait CopyRepo {
    fn from_dir_copy(repo: &Repo) -> Repo;
}

impl CopyRepo for Repo {
    /// A fresh repository holding a copy of `repo`'s files (`.git` included).
    fn from_dir_copy(repo: &Repo) -> Repo {
        let copy = Repo::empty();
        let status = std::process::Command::new("cp")
            .arg("-a")
            .arg(format!("{}/.", repo.path().display()))
            .arg(copy.path())
            .status()
            .expect("cp");
        assert!(status.success());
        copy
    }
}

/// Errors are UI: the two boundary messages as a tenant sees them.
#[test]
fn boundary_messages() {
    let repo = two_tenants().symlink(
        "tenants/acme/api/secrets.enc.yaml",
        "../../victim/api/secrets.enc.yaml",
    );
    let run = refused(repo.run(&["render"]), &["symlink-boundary"]);
    insta::assert_snapshot!("symlink_boundary", run.stderr);
    let repo = two_tenants().file(
        "tenants/acme/api/values.yaml",
        "# build on the victim's tuning\nextends:\n  - base/api\n  - tenants/victim/api/values.yaml\n",
    );
    let run = refused(repo.run(&["render"]), &["extends-boundary"]);
    insta::assert_snapshot!("extends_boundary", run.stderr);
}
