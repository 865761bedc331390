//! `stencil bump` against real git repositories: a bare "remote" and clones in temp dirs,
//! checked with the git CLI.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{Run, git};

/// A bare repository served by `git daemon` over git:// on localhost: a real git server,
/// whose receive-pack updates refs atomically (compare-and-swap), as GitHub's does. (A
/// plain path remote would not do: libgit2's local transport force-writes refs.)
struct Remote {
    dir: tempfile::TempDir,
    daemon: std::process::Child,
    port: u16,
}

impl Drop for Remote {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

impl Remote {
    fn new(services: &[&str]) -> Remote {
        let dir = tempfile::tempdir().expect("tempdir");
        git(
            dir.path(),
            &["init", "-q", "--bare", "-b", "main", "remote.git"],
        );
        let seed = dir.path().join("seed");
        git(dir.path(), &["clone", "-q", "remote.git", "seed"]);
        let write = |path: &str, text: &str| {
            let full = seed.join(path);
            std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
            std::fs::write(full, text).expect("write");
        };
        write("stencil.yaml", common::STENCIL_YAML);
        for service in services {
            write(
                &format!("base/{service}/service.yaml"),
                common::SERVICE_YAML,
            );
            write(
                &format!("base/{service}/version.yaml"),
                "# Written by CI. Do not edit by hand.\nkind: Version\nimage:\n  tag: 1.0.0  # the first release\n# end\n",
            );
        }
        write(
            "tenants/acme/tenant.yaml",
            &format!("environment: dev\nservices: [{}]\n", services.join(", ")),
        );
        git(&seed, &["checkout", "-q", "-b", "main"]);
        git(&seed, &["add", "-A"]);
        git(&seed, &["commit", "-q", "-m", "init"]);
        git(&seed, &["push", "-q", "origin", "main"]);
        let port = free_port();
        let daemon = Command::new("git")
            .args([
                "daemon",
                "--reuseaddr",
                "--export-all",
                "--enable=receive-pack",
                "--listen=127.0.0.1",
            ])
            .arg(format!("--port={port}"))
            .arg(format!("--base-path={}", dir.path().display()))
            .arg(dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("git daemon");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Remote { dir, daemon, port }
    }

    /// The bare repository on disk, for checking with the git CLI.
    fn url(&self) -> PathBuf {
        self.dir.path().join("remote.git")
    }

    fn clone(&self, name: &str) -> PathBuf {
        let url = format!("git://127.0.0.1:{}/remote.git", self.port);
        git(self.dir.path(), &["clone", "-q", &url, name]);
        self.dir.path().join(name)
    }

    fn log(&self) -> String {
        git(&self.url(), &["log", "--format=%s", "main"])
    }

    fn show(&self, path: &str) -> String {
        git(&self.url(), &["show", &format!("main:{path}")])
    }
}

fn bump(clone: &Path, args: &[&str]) -> Run {
    let mut cmd = common::stencil(clone);
    cmd.current_dir(clone)
        .arg("bump")
        .args(args)
        .env("GIT_AUTHOR_NAME", "ci")
        .env("GIT_AUTHOR_EMAIL", "ci@example.com");
    Run::from(cmd.output().expect("run stencil"))
}

/// Starts `stencil bump ARGS` in a clone without waiting, for simultaneous bumps.
fn spawn_bump(clone: &Path, args: &[&str]) -> std::process::Child {
    std::process::Command::new(assert_cmd::cargo::cargo_bin!("stencil"))
        .current_dir(clone)
        .arg("bump")
        .args(args)
        .env("GIT_AUTHOR_NAME", "ci")
        .env("GIT_AUTHOR_EMAIL", "ci@example.com")
        .env("HOME", clone.join(".home"))
        .env("XDG_CONFIG_HOME", clone.join(".home/.config"))
        .env_remove("SOPS_AGE_KEY")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn")
}

/// HEAD, index and work tree, to prove a failed bump left everything as it was.
fn snapshot(clone: &Path) -> (String, String, String) {
    (
        git(clone, &["rev-parse", "HEAD"]),
        git(clone, &["ls-files", "-s"]),
        git(clone, &["status", "--porcelain", "--untracked-files=all"])
            + &std::fs::read_to_string(clone.join("base/api/version.yaml")).unwrap_or_default(),
    )
}

#[test]
fn bump_commit_push_lands_one_commit_changing_one_line() {
    let remote = Remote::new(&["api"]);
    let clone = remote.clone("ci");
    std::fs::write(
        clone.join("unrelated.txt"),
        "a local edit that must stay out of the commit\n",
    )
    .expect("write");
    let run = bump(&clone, &["api", "1.1.0", "--push"]).ok();
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert_eq!(remote.log(), "chore(api): bump image to 1.1.0\ninit\n");
    let diff = git(&remote.url(), &["diff", "main~1", "main", "--unified=0"]);
    let changed: Vec<&str> = diff
        .lines()
        .filter(|l| {
            (l.starts_with('+') || l.starts_with('-'))
                && !l.starts_with("+++")
                && !l.starts_with("---")
        })
        .collect();
    assert_eq!(
        changed,
        [
            "-  tag: 1.0.0  # the first release",
            "+  tag: 1.1.0  # the first release"
        ]
    );
    assert_eq!(
        git(&remote.url(), &["show", "--name-only", "--format=", "main"]),
        "base/api/version.yaml\n"
    );
    // The local clone follows, and the unrelated edit is untouched.
    assert_eq!(
        git(&clone, &["rev-parse", "HEAD"]),
        git(&remote.url(), &["rev-parse", "main"])
    );
    assert_eq!(
        git(&clone, &["status", "--porcelain"]),
        "?? unrelated.txt\n"
    );
}

#[test]
fn bumping_to_the_current_tag_is_a_no_op() {
    let remote = Remote::new(&["api"]);
    let clone = remote.clone("ci");
    let before = snapshot(&clone);
    let run = bump(&clone, &["api", "1.0.0", "--push"]).ok();
    assert!(
        run.stderr.contains("already at 1.0.0; nothing to do"),
        "{}",
        run.stderr
    );
    assert_eq!(snapshot(&clone), before);
    assert_eq!(remote.log(), "init\n");
}

#[test]
fn dry_run_prints_the_diff_and_changes_nothing() {
    let remote = Remote::new(&["api"]);
    let clone = remote.clone("ci");
    let before = snapshot(&clone);
    let run = bump(&clone, &["api", "2.0.0", "--dry-run", "--push"]).ok();
    assert!(
        run.stdout
            .contains("--- a/base/api/version.yaml\n+++ b/base/api/version.yaml\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("-  tag: 1.0.0  # the first release\n+  tag: 2.0.0  # the first release\n")
    );
    assert_eq!(snapshot(&clone), before);
    assert_eq!(remote.log(), "init\n");
}

#[test]
fn pinned_tenants_are_listed_and_tenant_bumps_write_their_pin() {
    let remote = Remote::new(&["api"]);
    let clone = remote.clone("ci");
    let pin = clone.join("tenants/acme/api/version.yaml");
    std::fs::create_dir_all(pin.parent().expect("parent")).expect("mkdir");
    std::fs::write(&pin, "image: { tag: 0.9.0 }\n").expect("write");
    git(&clone, &["add", "-A"]);
    git(&clone, &["commit", "-q", "-m", "pin acme"]);
    let run = bump(&clone, &["api", "1.1.0"]).ok();
    assert!(
        run.stderr.contains("not affected: tenants/acme pins 0.9.0"),
        "{}",
        run.stderr
    );
    let run = bump(&clone, &["api", "1.2.0", "--tenant", "ac*", "--commit"]).ok();
    assert!(run.stderr.contains("committed"), "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(&pin).expect("read"),
        "image: { tag: 1.2.0 }\n"
    );
}

#[test]
fn eight_concurrent_bumps_of_eight_services_all_land() {
    let services = ["s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8"];
    let remote = Remote::new(&services);
    let clones: Vec<PathBuf> = services
        .iter()
        .map(|s| remote.clone(&format!("clone-{s}")))
        .collect();
    let children: Vec<_> = services
        .iter()
        .zip(&clones)
        .map(|(service, clone)| spawn_bump(clone, &[service, "2.0.0", "--push", "--retries", "20"]))
        .collect();
    for child in children {
        let out = child.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let log = remote.log();
    assert_eq!(log.lines().count(), 9, "{log}");
    let merges = git(&remote.url(), &["rev-list", "--merges", "--count", "main"]);
    assert_eq!(merges.trim(), "0", "history is linear");
    for service in services {
        assert!(
            remote
                .show(&format!("base/{service}/version.yaml"))
                .contains("  tag: 2.0.0  # the first release\n"),
            "{service}"
        );
    }
    git(&remote.url(), &["fsck", "--strict"]);
}

#[test]
fn two_concurrent_bumps_of_one_service_to_different_tags_conflict() {
    let remote = Remote::new(&["api"]);
    let first = remote.clone("first");
    let second = remote.clone("second");
    // `second` read 1.0.0; `first` lands 1.1.0 before `second` pushes.
    bump(&first, &["api", "1.1.0", "--push"]).ok();
    let before = snapshot(&second);
    let run = bump(&second, &["api", "1.2.0", "--push"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("conflict: someone else set base/api/version.yaml to 1.1.0"),
        "{}",
        run.stderr
    );
    assert_eq!(
        snapshot(&second),
        before,
        "the losing clone is left exactly as it was"
    );
    assert_eq!(remote.log(), "chore(api): bump image to 1.1.0\ninit\n");
    // With --on-conflict ours, ours lands on top.
    bump(
        &second,
        &["api", "1.2.0", "--push", "--on-conflict", "ours"],
    )
    .ok();
    assert!(remote.show("base/api/version.yaml").contains("tag: 1.2.0"));
}

#[test]
fn bad_input_leaves_the_repository_as_it_was() {
    let remote = Remote::new(&["api"]);
    let clone = remote.clone("ci");
    let before = snapshot(&clone);
    let cases: &[(&[&str], &str)] = &[
        (&["apx", "1.1.0", "--push"], "no service `apx`"),
        (&["api", "latest", "--push"], "refusing tag"),
        (&["api", "--", "-bad"], "refusing tag"),
        (
            &["api", "1.1.0", "--sidecar", "nope", "--commit"],
            "service `api` has no sidecar `nope`",
        ),
        (
            &["api", "1.1.0", "--digest", "sha256:abc", "--push"],
            "refusing digest",
        ),
        (
            &["api", "1.1.0", "--tenant", "acne", "--commit"],
            "--tenant acne: no tenant that runs `api` matches",
        ),
        (
            &[
                "api", "1.1.0", "--tenant", "acme", "--tenant", "zz*", "--commit",
            ],
            "--tenant zz*: no tenant that runs `api` matches",
        ),
        (
            &[
                "api",
                "1.1.0",
                "--push",
                "--token-env",
                "STENCIL_TEST_UNSET_TOKEN",
            ],
            "--token-env STENCIL_TEST_UNSET_TOKEN: `STENCIL_TEST_UNSET_TOKEN` is not set",
        ),
    ];
    for (args, needle) in cases {
        let run = bump(&clone, args);
        assert_eq!(run.code, 3, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(needle), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty());
        assert_eq!(snapshot(&clone), before, "{args:?}");
    }

    // A push that cannot reach the remote: no half-made commit.
    git(
        &clone,
        &["remote", "add", "nowhere", "/nonexistent/remote.git"],
    );
    let run = bump(&clone, &["api", "1.1.0", "--push", "nowhere"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("push failed"), "{}", run.stderr);
    assert_eq!(snapshot(&clone), before);

    // A dirty version file is refused, not clobbered.
    let version = clone.join("base/api/version.yaml");
    std::fs::write(&version, "image:\n  tag: 1.0.0 # my local edit\n").expect("write");
    let dirty = snapshot(&clone);
    let run = bump(&clone, &["api", "1.1.0", "--commit"]);
    assert!(
        run.code == 3
            && run
                .stderr
                .contains("base/api/version.yaml has uncommitted changes (modified)"),
        "{}",
        run.stderr
    );
    assert_eq!(snapshot(&clone), dirty);
    git(&clone, &["checkout", "--", "base/api/version.yaml"]);

    // A version.yaml that is not valid YAML: reported with file:line, not "fixed".
    std::fs::write(&version, "image:\n  tag: [1.0.0\n").expect("write");
    git(&clone, &["commit", "-qam", "broken"]);
    let broken = snapshot(&clone);
    let run = bump(&clone, &["api", "1.1.0", "--commit"]);
    assert!(
        run.code == 3 && run.stderr.contains("base/api/version.yaml:"),
        "{}",
        run.stderr
    );
    assert_eq!(snapshot(&clone), broken);

    // Detached HEAD.
    git(&clone, &["checkout", "-q", "--detach", "HEAD~1"]);
    let detached = snapshot(&clone);
    let run = bump(&clone, &["api", "1.1.0", "--commit"]);
    assert!(
        run.code == 3 && run.stderr.contains("HEAD is detached"),
        "{}",
        run.stderr
    );
    assert_eq!(snapshot(&clone), detached);
}

#[test]
fn two_simultaneous_bumps_of_one_service_exactly_one_lands() {
    let remote = Remote::new(&["api"]);
    let clones = [remote.clone("one"), remote.clone("two")];
    let children: Vec<_> = clones
        .iter()
        .zip(["1.1.0", "1.2.0"])
        .map(|(clone, tag)| spawn_bump(clone, &["api", tag, "--push"]))
        .collect();
    let outcomes: Vec<std::process::Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().expect("wait"))
        .collect();
    let landed: Vec<bool> = outcomes.iter().map(|o| o.status.success()).collect();
    assert_eq!(
        landed.iter().filter(|ok| **ok).count(),
        1,
        "exactly one lands: {outcomes:?}"
    );
    let loser = outcomes
        .iter()
        .find(|o| !o.status.success())
        .expect("a loser");
    assert!(
        String::from_utf8_lossy(&loser.stderr)
            .contains("conflict: someone else set base/api/version.yaml"),
        "{loser:?}"
    );
    assert_eq!(remote.log().lines().count(), 2);
}

/// Jobs, cron jobs and init containers run the service's image unless they name their own:
/// a bump moves all of them with the service, and a job's own repository keeps the service's
/// tag too.
#[test]
fn a_bump_moves_the_tag_of_jobs_cron_jobs_and_init_containers() {
    let remote = Remote::new(&["api"]);
    let clone = remote.clone("ci");
    let service = format!(
        "{}initContainers:\n  - name: wait-for-db\n    command: [wait-for, db:5432]\njobs:\n  migrate:\n    hook: {{ phase: PreSync }}\n    command: [migrate]\ncronJobs:\n  report:\n    schedule: \"0 4 * * *\"\n    image: {{ repository: registry.example.com/reports }}\n",
        common::SERVICE_YAML
    );
    std::fs::write(clone.join("base/api/service.yaml"), service).expect("write");
    git(&clone, &["commit", "-qam", "jobs"]);
    bump(&clone, &["api", "2.0.0", "--push"]).ok();
    let mut cmd = common::stencil(&clone);
    let run = Run::from(
        cmd.current_dir(&clone)
            .args(["render", "--output", "json"])
            .output()
            .expect("render"),
    )
    .ok();
    let docs = run.json_items();
    let images: Vec<String> = docs
        .iter()
        .flat_map(|d| {
            let spec = d
                .pointer("/spec/template/spec")
                .or_else(|| d.pointer("/spec/jobTemplate/spec/template/spec"));
            let containers = spec.into_iter().flat_map(|s| {
                ["initContainers", "containers"]
                    .into_iter()
                    .filter_map(|k| s.get(k).and_then(|c| c.as_array()))
                    .flatten()
            });
            containers
                .map(|c| {
                    format!(
                        "{}={}",
                        c["name"].as_str().unwrap_or(""),
                        c["image"].as_str().unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let mut images = images;
    images.sort();
    assert_eq!(
        images,
        [
            "api=registry.example.com/api:2.0.0",
            "migrate=registry.example.com/api:2.0.0",
            "report=registry.example.com/reports:2.0.0",
            "wait-for-db=registry.example.com/api:2.0.0",
        ]
    );
}

/// What `actions/checkout` leaves in `.git/config` for the default `GITHUB_TOKEN`.
fn checkout_header(token: &str) -> String {
    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("x-access-token:{token}"));
    format!("AUTHORIZATION: basic {basic}")
}

/// A clone whose `origin` is the remote served over smart HTTP by a server that demands
/// `checkout_header("s3cret")`.
fn http_clone(remote: &Remote) -> (common::http_git::HttpGit, PathBuf, String) {
    let server = common::http_git::HttpGit::serve(
        remote.dir.path(),
        checkout_header("s3cret").trim_start_matches("AUTHORIZATION: "),
    );
    let clone = remote.clone("ci");
    let base = format!("http://127.0.0.1:{}/", server.port);
    git(
        &clone,
        &["remote", "set-url", "origin", &format!("{base}remote.git")],
    );
    (server, clone, base)
}

#[test]
fn push_authenticates_with_the_header_actions_checkout_leaves() {
    let remote = Remote::new(&["api"]);
    let (server, clone, base) = http_clone(&remote);
    git(
        &clone,
        &[
            "config",
            &format!("http.{base}.extraheader"),
            &checkout_header("s3cret"),
        ],
    );
    let run = bump(&clone, &["api", "2.0.0", "--push"]);
    assert_eq!(run.code, 0, "{}\n{:?}", run.stderr, server.requests());
    assert!(remote.show("base/api/version.yaml").contains("tag: 2.0.0"));
    assert_eq!(remote.log().lines().count(), 2);
    let requests = server.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("200 POST /remote.git/git-receive-pack")),
        "{requests:?}"
    );
    assert!(
        !requests.iter().any(|r| r.starts_with("401")),
        "{requests:?}"
    );
    assert!(!run.stderr.contains("s3cret") && !run.stderr.contains(&checkout_header("s3cret")));
}

#[test]
fn push_without_the_header_is_refused_and_leaves_everything_as_it_was() {
    let remote = Remote::new(&["api"]);
    let (server, clone, base) = http_clone(&remote);
    // A header for another host, and a wrong token for this one: neither opens it.
    git(
        &clone,
        &[
            "config",
            "http.http://127.0.0.2/.extraheader",
            &checkout_header("s3cret"),
        ],
    );
    let before = snapshot(&clone);
    let run = bump(&clone, &["api", "2.0.0", "--push"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("push failed"), "{}", run.stderr);
    assert!(run.stdout.is_empty());
    assert_eq!(snapshot(&clone), before);
    assert!(server.requests().iter().all(|r| r.starts_with("401")));

    git(
        &clone,
        &[
            "config",
            &format!("http.{base}.extraheader"),
            &checkout_header("wrong"),
        ],
    );
    let run = bump(&clone, &["api", "2.0.0", "--push"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(snapshot(&clone), before);
    assert_eq!(remote.log().lines().count(), 1);
}

#[test]
fn push_asks_git_askpass_and_takes_a_token_env_after_a_challenge() {
    let remote = Remote::new(&["api"]);
    let (server, clone, _) = http_clone(&remote);
    // GIT_ASKPASS: the prompt is the only argument, as git calls it.
    let askpass = clone.join(".askpass");
    std::fs::write(
        &askpass,
        "#!/bin/sh\ncase \"$1\" in Username*) echo x-access-token;; Password*) echo s3cret;; esac\n",
    )
    .unwrap();
    std::fs::set_permissions(
        &askpass,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let mut cmd = common::stencil(&clone);
    cmd.current_dir(&clone)
        .args(["bump", "api", "2.0.0", "--push"])
        .env("GIT_ASKPASS", &askpass)
        .env("GIT_AUTHOR_NAME", "ci")
        .env("GIT_AUTHOR_EMAIL", "ci@example.com");
    let run = Run::from(cmd.output().unwrap());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(remote.show("base/api/version.yaml").contains("tag: 2.0.0"));

    let mut cmd = common::stencil(&clone);
    cmd.current_dir(&clone)
        .args([
            "bump",
            "api",
            "3.0.0",
            "--push",
            "--token-env",
            "DEPLOY_TOKEN",
        ])
        .env("DEPLOY_TOKEN", "s3cret")
        .env("GIT_AUTHOR_NAME", "ci")
        .env("GIT_AUTHOR_EMAIL", "ci@example.com");
    let run = Run::from(cmd.output().unwrap());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(remote.show("base/api/version.yaml").contains("tag: 3.0.0"));
    assert!(!run.stderr.contains("s3cret"));
    let requests = server.requests();
    assert!(
        requests.iter().any(|r| r.starts_with("401")),
        "challenged first: {requests:?}"
    );
}

#[test]
fn the_github_bump_workflow_pushes_with_the_token_checkout_leaves() {
    let remote = Remote::new(&["api"]);
    let (server, clone, base) = http_clone(&remote);
    // What actions/checkout@v4 leaves behind with persist-credentials (its default).
    git(
        &clone,
        &[
            "config",
            &format!("http.{base}.extraheader"),
            &checkout_header("s3cret"),
        ],
    );
    let workflow = crate::workflows::example("github/bump.yml");
    let script = crate::workflows::github_step(&workflow, "bump", "Bump");
    let out = crate::workflows::run_script(
        &clone,
        &script,
        &[
            ("SERVICE", "api"),
            ("TAG", "2.0.0"),
            ("TENANTS", ""),
            ("GIT_AUTHOR_NAME", "github-actions[bot]"),
            ("GIT_AUTHOR_EMAIL", "bot@example.com"),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(remote.show("base/api/version.yaml").contains("tag: 2.0.0"));
    assert!(!server.requests().iter().any(|r| r.starts_with("401")));

    // With tenants: each glob becomes a --tenant.
    let out = crate::workflows::run_script(
        &clone,
        &script,
        &[
            ("SERVICE", "api"),
            ("TAG", "2.1.0"),
            ("TENANTS", "acme"),
            ("GIT_AUTHOR_NAME", "b"),
            ("GIT_AUTHOR_EMAIL", "b@example.com"),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        remote
            .show("tenants/acme/api/version.yaml")
            .contains("2.1.0")
    );
}

#[test]
fn the_gitlab_bump_job_pushes_with_the_push_token() {
    let remote = Remote::new(&["api"]);
    let (server, clone, _) = http_clone(&remote);
    // GitLab's checkout: a detached commit, the remote URL holding the (job) credentials.
    let head = git(&clone, &["rev-parse", "HEAD"]);
    git(&clone, &["checkout", "-q", "--detach", head.trim()]);
    let ci = crate::workflows::example("gitlab/.gitlab-ci.yml");
    let script = crate::workflows::gitlab_script(&ci, "stencil-bump");
    let port = server.port.to_string();
    let out = crate::workflows::run_script(
        &clone,
        &script,
        &[
            ("SERVICE", "api"),
            ("TAG", "2.0.0"),
            ("CI_COMMIT_BRANCH", "main"),
            ("CI_SERVER_PROTOCOL", "http"),
            ("CI_SERVER_HOST", "127.0.0.1"),
            ("CI_SERVER_PORT", &port),
            ("CI_PROJECT_PATH", "remote"),
            ("STENCIL_PUSH_TOKEN", "s3cret"),
            ("GIT_AUTHOR_NAME", "stencil-bump"),
            ("GIT_AUTHOR_EMAIL", "bump@example.com"),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(remote.show("base/api/version.yaml").contains("tag: 2.0.0"));
}
