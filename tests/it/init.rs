//! `stencil init` makes a repository that renders and validates as created, with a new
//! age key that decrypts its tenant's secrets (and the sops-style key file format), or for
//! `--age` recipients; it refuses a folder that already holds a repository and leaves nothing
//! behind when it fails. `stencil schemas` writes what the `$schema` lines point at.

use std::path::Path;

use crate::common::{self, Run};

fn stencil_in(dir: &Path, args: &[&str], key: Option<&Path>) -> Run {
    let mut cmd = common::stencil(dir);
    cmd.current_dir(dir).args(args);
    match key {
        Some(key) => cmd.env("SOPS_AGE_KEY_FILE", key),
        None => cmd.env_remove("SOPS_AGE_KEY_FILE"),
    };
    Run::from(cmd.output().expect("run stencil"))
}

#[test]
fn init_makes_a_repository_that_renders_and_validates() {
    let tmp = tempfile::tempdir().unwrap();
    let run = stencil_in(tmp.path(), &["init", "acme-deploy"], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let repo = tmp.path().join("acme-deploy");
    for file in [
        "stencil.yaml",
        ".sops.yaml",
        "base/hello/service.yaml",
        "base/hello/version.yaml",
        "schemas/service.schema.json",
        ".github/workflows/stencil-preview.yml",
        ".github/workflows/stencil-bump.yml",
        "tenants/demo/tenant.yaml",
        "tenants/demo/hello/secrets.enc.yaml",
        "age.key",
    ] {
        assert!(repo.join(file).is_file(), "{file}");
        assert!(
            run.stdout.contains(&format!("created {file}\n")),
            "{}",
            run.stdout
        );
    }
    // The private key: owner-only, git-ignored, named on stderr with its public half only.
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(repo.join("age.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(
        std::fs::read_to_string(repo.join(".gitignore"))
            .unwrap()
            .lines()
            .last(),
        Some("/age.key")
    );
    let key = std::fs::read_to_string(repo.join("age.key")).unwrap();
    let secret = key.lines().last().unwrap();
    assert!(secret.starts_with("AGE-SECRET-KEY-1"));
    assert!(!run.stderr.contains(secret) && !run.stdout.contains(secret));
    let public = key
        .lines()
        .next()
        .unwrap()
        .trim_start_matches("# public key: ");
    assert!(
        std::fs::read_to_string(repo.join(".sops.yaml"))
            .unwrap()
            .contains(public)
    );

    let key = repo.join("age.key");
    let render = stencil_in(&repo, &["render"], Some(&key));
    assert_eq!(render.code, 0, "{}", render.stderr);
    assert!(render.stdout.contains("kind: Deployment"));
    let validate = stencil_in(&repo, &["validate", "--strict"], Some(&key));
    assert_eq!(validate.code, 0, "{}", validate.stderr);
    let decrypt = stencil_in(
        &repo,
        &["secrets", "decrypt", "tenants/demo/hello/secrets.enc.yaml"],
        Some(&key),
    );
    assert_eq!(decrypt.code, 0, "{}", decrypt.stderr);
    // A tenant added next: its schema lines already resolve, nothing to update.
    let add = stencil_in(
        &repo,
        &["tenant", "add", "beta", "-e", "dev", "-s", "hello"],
        Some(&key),
    );
    assert_eq!(add.code, 0, "{}", add.stderr);
    assert!(!add.stdout.contains("schemas/"), "{}", add.stdout);
}

#[test]
fn init_encrypts_for_the_recipients_given_and_makes_no_key() {
    let tmp = tempfile::tempdir().unwrap();
    let recipient = common::demo_recipient();
    let run = stencil_in(
        tmp.path(),
        &[
            "init",
            "--name",
            "plat",
            "--age",
            &recipient,
            "--no-workflows",
            "--tenant",
            "acme",
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!tmp.path().join("age.key").exists());
    assert!(!tmp.path().join(".github").exists());
    assert!(!tmp.path().join(".gitignore").exists());
    let render = stencil_in(
        tmp.path(),
        &["render", "--tenant", "acme"],
        Some(&common::demo_key()),
    );
    assert_eq!(render.code, 0, "{}", render.stderr);
}

#[test]
fn init_refuses_a_repository_and_bad_names_and_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("stencil.yaml"), "kind: Stencil\n").unwrap();
    std::fs::create_dir(tmp.path().join("base")).unwrap();
    let run = stencil_in(tmp.path(), &["init", "--name", "x"], None);
    assert_eq!(run.code, 3);
    assert!(
        run.stderr.contains("already has stencil.yaml, base"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 2);

    for (args, needle) in [
        (&["init", "new", "--tenant", "Bad_Name"][..], "--tenant"),
        (
            &["init", "new", "--age", "age1nope"][..],
            "is not an age recipient",
        ),
        (
            &["init", "new", "--domain", "exa mple.com"][..],
            "is not a DNS name",
        ),
        (&["init", "Not A Label"][..], "give one with --name"),
    ] {
        let run = stencil_in(tmp.path(), args, None);
        assert_eq!(run.code, 3, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(needle), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty());
        assert!(!tmp.path().join("new").exists(), "{args:?}");
    }
}

#[test]
fn init_that_fails_after_staging_leaves_the_folder_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    // `.github/workflows` is a file: the workflows cannot be moved in, after everything else
    // was made and rendered in the staging folder.
    std::fs::create_dir(tmp.path().join(".github")).unwrap();
    std::fs::write(tmp.path().join(".github/workflows"), "not a folder").unwrap();
    let run = stencil_in(tmp.path(), &["init", "--name", "plat"], None);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(left, [".github"], "{}", run.stderr);
}

#[test]
fn init_for_a_recipient_without_its_key_says_render_needs_it() {
    let tmp = tempfile::tempdir().unwrap();
    let other = age::x25519::Identity::generate().to_public().to_string();
    let run = stencil_in(
        tmp.path(),
        &["init", "fresh", "--age", &other],
        Some(&common::demo_key()),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("render needs a private key"),
        "{}",
        run.stderr
    );
    let render = stencil_in(
        &tmp.path().join("fresh"),
        &["render"],
        Some(&common::demo_key()),
    );
    assert_eq!(render.code, 3);
    assert!(render.stderr.contains(&other), "{}", render.stderr);
}

#[test]
fn schemas_writes_the_files_the_schema_lines_name_and_only_changed_ones() {
    let repo = common::Repo::new();
    let run = repo.run(&["schemas"]).ok();
    assert_eq!(run.stdout.lines().count(), 5, "{}", run.stdout);
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
    for entry in std::fs::read_dir(&committed).unwrap() {
        let name = entry.unwrap().file_name();
        assert_eq!(
            std::fs::read_to_string(committed.join(&name)).unwrap(),
            repo.read(&format!("schemas/{}", name.to_string_lossy())),
        );
    }
    let again = repo.run(&["schemas"]).ok();
    assert!(again.stdout.is_empty());
    assert!(again.stderr.contains("up to date"));
}
