//! Secrets bound to their tenant and service (issue 17 item 7) and private keys kept out of
//! processes that do not decrypt (item 10): the real binary against fixture repositories.

use crate::common;

use std::path::Path;

use crate::common::{Repo, Run, demo_recipient, git};

const SERVICE_B: &str = "\
kind: Service
image: { repository: registry.example.com/worker }
port: 9000
resources:
  requests: { cpu: 100m, memory: 128Mi }
  limits: { memory: 256Mi }
";

/// Two tenants (`acme`, `other`) running `api` and `worker`, secrets encrypted for the demo
/// key by one `.sops.yaml` rule (the shared-recipient case).
fn two_tenants() -> Repo {
    Repo::new()
        .file("base/worker/service.yaml", SERVICE_B)
        .file("base/worker/version.yaml", common::VERSION_YAML)
        .file(
            "tenants/acme/tenant.yaml",
            "kind: Tenant\nenvironment: dev\nservices: [api, worker]\n",
        )
        .file(
            "tenants/other/tenant.yaml",
            "kind: Tenant\nenvironment: dev\nservices: [api, worker]\n",
        )
        .with_sops_rule()
}

fn copy(repo: &Repo, from: &str, to: &str) {
    let dest = repo.path().join(to);
    std::fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir");
    std::fs::copy(repo.path().join(from), dest).expect("copy");
}

fn base64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[track_caller]
fn no_secret_in(run: &Run, secrets: &[&str]) {
    for secret in secrets {
        assert!(
            !run.stderr.contains(secret) && !run.stderr.contains(&base64(secret)),
            "a secret value in stderr:\n{}",
            run.stderr
        );
    }
}

const OTHER_DB: &str = "other-db-password-1d9f";

#[test]
fn a_secrets_file_copied_from_another_tenant_is_refused() {
    let repo = two_tenants();
    repo.set_secret(
        "tenants/other/api/secrets.enc.yaml",
        "DB_PASSWORD",
        OTHER_DB,
    );
    repo.run(&["render"]).ok();
    // Byte for byte into acme: the same recipient decrypts it, the binding refuses it.
    for target in [
        "tenants/acme/api/secrets.enc.yaml",
        "tenants/acme/worker/secrets.enc.yaml",
    ] {
        copy(&repo, "tenants/other/api/secrets.enc.yaml", target);
        let run = repo.run(&["render"]).fails(&[
            &format!("error: secrets-binding {target}:1 "),
            "belongs to tenants/other/api, not to",
            &target.replace("/secrets.enc.yaml", ""),
            "stencil secrets set",
        ]);
        no_secret_in(&run, &[OTHER_DB]);
        // Every command that reads it says the same; a tenant-only render too.
        repo.run(&["render", "--tenant", "acme"])
            .fails(&["secrets-binding"]);
        let validate = repo.run(&["validate"]);
        assert_ne!(validate.code, 0);
        assert!(
            validate.stderr.contains("secrets-binding"),
            "{}",
            validate.stderr
        );
        std::fs::remove_file(repo.path().join(target)).expect("rm");
    }
    // `set` on the copy refuses to re-bind it; the copy is left as it was.
    copy(
        &repo,
        "tenants/other/api/secrets.enc.yaml",
        "tenants/acme/api/secrets.enc.yaml",
    );
    let before = repo.read("tenants/acme/api/secrets.enc.yaml");
    let run = repo.run_stdin(
        &[
            "secrets",
            "set",
            "tenants/acme/api/secrets.enc.yaml",
            "X",
            "--from-stdin",
        ],
        "x",
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("belongs to tenants/other/api"),
        "{}",
        run.stderr
    );
    assert_eq!(repo.read("tenants/acme/api/secrets.enc.yaml"), before);
    // ... and so does `bind`.
    let run = repo.run_stdin(&["secrets", "bind"], "");
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("secrets-binding"), "{}", run.stderr);
    assert_eq!(repo.read("tenants/acme/api/secrets.enc.yaml"), before);
}

#[test]
fn a_secrets_file_moved_between_services_of_one_tenant_is_refused() {
    let repo = two_tenants();
    repo.set_secret(
        "tenants/acme/api/secrets.enc.yaml",
        "API_TOKEN",
        "tok-api-77",
    );
    std::fs::create_dir_all(repo.path().join("tenants/acme/worker")).expect("mkdir");
    std::fs::rename(
        repo.path().join("tenants/acme/api/secrets.enc.yaml"),
        repo.path().join("tenants/acme/worker/secrets.enc.yaml"),
    )
    .expect("move");
    let run = repo.run(&["render"]).fails(&[
        "error: secrets-binding tenants/acme/worker/secrets.enc.yaml:1",
        "belongs to tenants/acme/api, not to tenants/acme/worker",
    ]);
    no_secret_in(&run, &["tok-api-77"]);
}

#[test]
fn the_bound_example_renders_and_the_binding_is_no_secret() {
    let repo = Repo::example();
    for file in [
        "tenants/momcorp/apiserver/secrets.enc.yaml",
        "tenants/momcorp/auth/secrets.enc.yaml",
        "tenants/planet-express/apiserver/secrets.enc.yaml",
        "tenants/slurm/apiserver/secrets.enc.yaml",
    ] {
        let text = repo.read(file);
        let line = text
            .lines()
            .find(|l| l.starts_with("stencil.dev/scope: "))
            .unwrap_or_else(|| panic!("{file} is not bound"));
        assert!(line.contains("ENC[AES256_GCM,"), "{line}");
        // `secrets decrypt` shows it, as `sops -d` does.
        let run = repo
            .run(&[
                "secrets",
                "decrypt",
                &repo.path().join(file).display().to_string(),
            ])
            .ok();
        let scope = file.trim_end_matches("/secrets.enc.yaml");
        assert!(
            run.stdout.contains(&format!("stencil.dev/scope: {scope}")),
            "{}",
            run.stdout
        );
    }
    let run = repo.run(&["render"]).ok();
    let secrets: Vec<_> = run
        .docs()
        .into_iter()
        .filter(|d| d["kind"] == "Secret")
        .collect();
    assert_eq!(secrets.len(), 4);
    for secret in &secrets {
        let data = secret["data"].as_object().expect("data");
        assert!(
            !data.is_empty() && !data.contains_key("stencil.dev/scope"),
            "{secret}"
        );
    }
    assert!(!run.stdout.contains("stencil.dev/scope"));
    assert!(!run.stdout.contains(&base64("tenants/momcorp/apiserver")));
    // Not in diff output either (no change: no output).
    let diff = repo
        .run(&["diff", "--from-dir", &repo.path().display().to_string()])
        .ok();
    assert!(
        !diff.stdout.contains("stencil.dev/scope"),
        "{}",
        diff.stdout
    );
}

/// A file encrypted by an older stencil (or `sops`): no binding. Made by encrypting outside
/// `tenants/` (where nothing is bound) and moving it in.
fn unbound(repo: &Repo, target: &str, plain: &str) {
    std::fs::write(repo.path().join("legacy.enc.yaml"), plain).expect("write");
    repo.run_stdin(
        &[
            "secrets",
            "encrypt",
            "--age",
            &demo_recipient(),
            "legacy.enc.yaml",
        ],
        "",
    )
    .ok();
    assert!(!repo.read("legacy.enc.yaml").contains("stencil.dev/scope"));
    let dest = repo.path().join(target);
    std::fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir");
    std::fs::rename(repo.path().join("legacy.enc.yaml"), dest).expect("move");
}

#[test]
fn bind_migrates_unbound_files_once() {
    let repo = two_tenants();
    unbound(
        &repo,
        "tenants/acme/api/secrets.enc.yaml",
        "DB_PASSWORD: acme-db-0001\nAPI_KEY: acme-key-0002\n",
    );
    // Before the migration: a loud error with the command that fixes it.
    let run = repo.run(&["render"]).fails(&[
        "error: secrets-binding tenants/acme/api/secrets.enc.yaml:1",
        "is not bound to tenants/acme/api",
        "stencil secrets bind tenants/acme/api/secrets.enc.yaml",
    ]);
    no_secret_in(&run, &["acme-db-0001", "acme-key-0002"]);
    let before = repo.read("tenants/acme/api/secrets.enc.yaml");
    let old = tempfile::tempdir().expect("tempdir");
    copy_tree(repo.path(), old.path());
    let value_line = |text: &str, name: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{name}: ")))
            .map(str::to_owned)
            .expect("line")
    };

    // The migration, run from the repository.
    let run = repo.run_stdin(&["secrets", "bind"], "").ok();
    assert!(
        run.stderr
            .contains("bound tenants/acme/api/secrets.enc.yaml to tenants/acme/api")
            || run.stderr.contains("to tenants/acme/api"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("1 file bound, 0 already bound, 0 refused"),
        "{}",
        run.stderr
    );
    let after = repo.read("tenants/acme/api/secrets.enc.yaml");
    // In place: the other values keep their ciphertexts (the data key is kept).
    for name in ["DB_PASSWORD", "API_KEY"] {
        assert_eq!(value_line(&before, name), value_line(&after, name));
    }
    assert!(
        after.starts_with("stencil.dev/scope: ENC[AES256_GCM,"),
        "{after}"
    );
    let run = repo.run(&["render"]).ok();
    let secret = run.object("Secret", "api-secrets");
    assert_eq!(secret["data"]["DB_PASSWORD"], base64("acme-db-0001"));
    assert!(secret["data"].get("stencil.dev/scope").is_none());

    // The migration's own diff compares the unbound old side with the bound new one.
    let run = repo
        .run(&["diff", "--from-dir", &old.path().display().to_string()])
        .ok();
    assert!(!run.stderr.contains("secrets-binding"), "{}", run.stderr);
    assert!(!run.stdout.contains("acme-db-0001"), "{}", run.stdout);

    // A second run changes nothing.
    let run = repo
        .run(&[
            "secrets",
            "bind",
            &repo
                .path()
                .join("tenants/acme/api/secrets.enc.yaml")
                .display()
                .to_string(),
        ])
        .ok();
    assert!(
        run.stderr.contains("0 files bound, 1 already bound"),
        "{}",
        run.stderr
    );
    assert_eq!(repo.read("tenants/acme/api/secrets.enc.yaml"), after);

    // Files outside tenants/<tenant>/<service>/ are not bound.
    std::fs::write(repo.path().join("x.enc.yaml"), "A: b\n").expect("write");
    repo.run_stdin(
        &[
            "secrets",
            "encrypt",
            "--age",
            &demo_recipient(),
            "x.enc.yaml",
        ],
        "",
    )
    .ok();
    let run = repo.run(&[
        "secrets",
        "bind",
        &repo.path().join("x.enc.yaml").display().to_string(),
    ]);
    assert_eq!(run.code, 3);
    assert!(
        run.stderr.contains("not a tenant service's secrets file"),
        "{}",
        run.stderr
    );

    // The real sops CLI still decrypts the bound file, binding included.
    if let Some(out) = sops_decrypt(&repo.path().join("tenants/acme/api/secrets.enc.yaml")) {
        assert!(out.contains("stencil.dev/scope: tenants/acme/api"), "{out}");
        assert!(out.contains("DB_PASSWORD: acme-db-0001"), "{out}");
    }
}

#[test]
fn bind_re_encrypts_files_of_other_shapes() {
    // Empty values (left unencrypted by sops) take the re-encrypting path.
    let repo = two_tenants();
    unbound(
        &repo,
        "tenants/acme/api/secrets.enc.yaml",
        "DB_PASSWORD: acme-db-0003\nEMPTY: ''\n",
    );
    repo.run_stdin(&["secrets", "bind"], "").ok();
    let run = repo.run(&["render"]).ok();
    let secret = run.object("Secret", "api-secrets");
    assert_eq!(secret["data"]["DB_PASSWORD"], base64("acme-db-0003"));
    assert_eq!(secret["data"]["EMPTY"], "");
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// `sops -d FILE` with the demo key, or `None` when the sops CLI is not installed.
fn sops_decrypt(file: &Path) -> Option<String> {
    let out = std::process::Command::new("sops")
        .arg("-d")
        .arg(file)
        .env("SOPS_AGE_KEY_FILE", common::demo_key())
        .env_remove("SOPS_AGE_KEY")
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "sops -d: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn tampering_with_the_binding_is_refused() {
    let repo = two_tenants();
    repo.set_secret(
        "tenants/acme/api/secrets.enc.yaml",
        "DB_PASSWORD",
        "acme-db-9",
    );
    repo.set_secret(
        "tenants/other/api/secrets.enc.yaml",
        "DB_PASSWORD",
        OTHER_DB,
    );
    repo.run(&["render"]).ok();
    let own = repo.read("tenants/acme/api/secrets.enc.yaml");
    let foreign = repo.read("tenants/other/api/secrets.enc.yaml");
    let scope_line = |text: &str| {
        text.lines()
            .find(|l| l.starts_with("stencil.dev/scope: "))
            .map(str::to_owned)
            .expect("bound")
    };
    let cases = [
        // The other file with acme's binding value pasted in: another data key.
        (
            "binding from another file",
            foreign.replace(&scope_line(&foreign), &scope_line(&own)),
        ),
        // The other file with its binding removed: the MAC covers it.
        (
            "binding removed",
            foreign.replace(&format!("{}\n", scope_line(&foreign)), ""),
        ),
        // The other file with a plaintext binding naming acme.
        (
            "plaintext binding",
            foreign.replace(&scope_line(&foreign), "stencil.dev/scope: tenants/acme/api"),
        ),
        // The other file with a binding value from elsewhere in itself (another AAD).
        (
            "a value moved onto the binding",
            foreign.replace(
                &scope_line(&foreign),
                &format!(
                    "stencil.dev/scope: {}",
                    foreign
                        .lines()
                        .find_map(|l| l.strip_prefix("DB_PASSWORD: "))
                        .expect("value")
                ),
            ),
        ),
    ];
    for (what, text) in cases {
        assert_ne!(text, foreign, "{what}");
        let repo = repo.path();
        std::fs::write(repo.join("tenants/acme/api/secrets.enc.yaml"), &text).expect("write");
        let run = common::stencil(repo)
            .arg("--repo")
            .arg(repo)
            .arg("render")
            .output()
            .expect("run");
        let run = Run::from(run).fails(&["tenants/acme/api/secrets.enc.yaml"]);
        assert!(
            run.stderr.contains("MAC check")
                || run.stderr.contains("not encrypted")
                || run.stderr.contains("not a valid ENC[...] value"),
            "{what}: {}",
            run.stderr
        );
        no_secret_in(&run, &[OTHER_DB, "acme-db-9"]);
    }
}

/// An age identity and its recipient.
fn age_key() -> (String, String) {
    use age::secrecy::ExposeSecret as _;
    let identity = age::x25519::Identity::generate();
    (
        identity.to_string().expose_secret().to_owned(),
        identity.to_public().to_string(),
    )
}

#[test]
fn per_tenant_recipients_in_sops_yaml_are_honoured() {
    let (a_key, a) = age_key();
    let (b_key, b) = age_key();
    let platform = demo_recipient();
    let repo = two_tenants().file(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - path_regex: ^tenants/acme/.*secrets\\.enc\\.yaml$\n    age: {a},{platform}\n  - path_regex: ^tenants/other/.*secrets\\.enc\\.yaml$\n    age: [{b}, {platform}]\n"
        ),
    );
    // The runner holds every key: decryption alone would succeed everywhere.
    let keys = format!("{a_key}\n{b_key}\n");
    let env = [("SOPS_AGE_KEY", Some(keys.as_str()))];
    let set = |file: &str, extra: &[&str]| {
        let mut args = vec!["secrets", "set", file, "DB_PASSWORD", "--from-stdin"];
        args.extend_from_slice(extra);
        let mut cmd = common::stencil(repo.path());
        cmd.current_dir(repo.path())
            .args(&args)
            .env("SOPS_AGE_KEY", &keys)
            .write_stdin(OTHER_DB);
        Run::from(cmd.output().expect("run")).ok();
    };
    set("tenants/other/api/secrets.enc.yaml", &[]);
    repo.run_env(&["render"], &env).ok();

    // B's file in A's folder: encrypted for B, which A's rule does not list.
    copy(
        &repo,
        "tenants/other/api/secrets.enc.yaml",
        "tenants/acme/api/secrets.enc.yaml",
    );
    let run = repo.run_env(&["render"], &env).fails(&[
        "error: secrets-recipients tenants/acme/api/secrets.enc.yaml:",
        &format!("is encrypted for {b}"),
        "creation rule 1",
        "stencil secrets updatekeys",
    ]);
    no_secret_in(&run, &[OTHER_DB]);
    // Without any key too (the check needs none).
    repo.run_env(
        &["render", "--tenant", "acme"],
        &[("SOPS_AGE_KEY_FILE", None)],
    )
    .fails(&["secrets-recipients"]);
    std::fs::remove_file(repo.path().join("tenants/acme/api/secrets.enc.yaml")).expect("rm");

    // A's own, bound file encrypted for B's key (`--age`): refused until updatekeys.
    set("tenants/acme/api/secrets.enc.yaml", &["--age", &b]);
    repo.run_env(&["render"], &env)
        .fails(&["secrets-recipients", &format!("is encrypted for {b}")]);
    let mut cmd = common::stencil(repo.path());
    cmd.current_dir(repo.path())
        .args(["secrets", "updatekeys", "tenants/acme/api/secrets.enc.yaml"])
        .env("SOPS_AGE_KEY", &keys);
    Run::from(cmd.output().expect("run")).ok();
    repo.run_env(&["render"], &env).ok();
}

#[test]
fn a_rule_that_gains_a_recipient_only_warns() {
    let (_, extra) = age_key();
    let platform = demo_recipient();
    let repo = two_tenants();
    repo.set_secret(
        "tenants/acme/api/secrets.enc.yaml",
        "DB_PASSWORD",
        "acme-db-5",
    );
    let repo = repo.file(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - path_regex: secrets\\.enc\\.yaml$\n    age: {platform},{extra}\n"
        ),
    );
    let run = repo.run(&["render"]).ok();
    assert!(
        run.stderr
            .contains(&format!("is not encrypted for {extra}"))
            && run.stderr.contains("updatekeys"),
        "{}",
        run.stderr
    );
}

#[test]
fn tenant_add_writes_bound_secrets_files() {
    let repo = Repo::example();
    repo.run(&["tenant", "add", "kif", "-e", "dev", "-s", "apiserver"])
        .ok();
    let text = repo.read("tenants/kif/apiserver/secrets.enc.yaml");
    assert!(text.starts_with("stencil.dev/scope: ENC["), "{text}");
    let run = repo
        .run(&[
            "secrets",
            "decrypt",
            &repo
                .path()
                .join("tenants/kif/apiserver/secrets.enc.yaml")
                .display()
                .to_string(),
        ])
        .ok();
    assert_eq!(run.stdout, "stencil.dev/scope: tenants/kif/apiserver\n");
    repo.run(&["render", "--tenant", "kif"]).ok();
}

/// A FIFO nobody writes to: opening it for reading blocks. A command that reads its key
/// file hangs (and times out); one that does not, finishes.
fn blocking_key_file(dir: &Path) -> std::path::PathBuf {
    let fifo = dir.join("key.fifo");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(status.success());
    fifo
}

#[test]
fn commands_that_decrypt_nothing_read_no_key() {
    let repo = Repo::new();
    let fifo = blocking_key_file(repo.path());
    let run = |args: &[&str]| {
        let mut cmd = common::stencil(repo.path());
        cmd.arg("--repo")
            .arg(repo.path())
            .args(args)
            .env("SOPS_AGE_KEY_FILE", &fifo)
            .timeout(std::time::Duration::from_secs(20));
        Run::from(cmd.output().expect("run"))
    };
    let help = run(&["--help"]);
    assert_eq!(help.code, 0, "--help read the key file: {}", help.stderr);
    assert!(help.stdout.contains("Usage"));
    run(&["render"]).ok();
    run(&["validate"]).ok();
    run(&["policy", "list"]).ok();
    // A missing key file is no problem for a render that needs no key either...
    repo.run_env(
        &["render"],
        &[("SOPS_AGE_KEY_FILE", Some("/nonexistent/keys.txt"))],
    )
    .ok();
}

#[test]
fn a_render_that_needs_a_key_says_why_it_has_none() {
    let repo = Repo::new().with_sops_rule();
    repo.set_secret("tenants/acme/api/secrets.enc.yaml", "A", "value-1");
    repo.run_env(
        &["render"],
        &[("SOPS_AGE_KEY_FILE", Some("/nonexistent/keys.txt"))],
    )
    .fails(&[
        "tenants/acme/api/secrets.enc.yaml cannot be decrypted",
        "cannot read /nonexistent/keys.txt (SOPS_AGE_KEY_FILE)",
    ]);
}

/// An HTTP "git server" that asks for credentials on every request and never accepts them.
fn unauthorized_server() -> u16 {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let _ = stream.write_all(
                b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"git\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    port
}

#[test]
fn a_credential_helper_run_by_bump_sees_no_key() {
    let repo = Repo::new().with_sops_rule().file(
        "base/api/version.yaml",
        "kind: Version\nimage:\n  tag: 1.0.0\n",
    );
    repo.set_secret("tenants/acme/api/secrets.enc.yaml", "A", "value-1");
    let dir = repo.path();
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "init"]);
    let port = unauthorized_server();
    git(
        dir,
        &[
            "remote",
            "add",
            "origin",
            &format!("http://127.0.0.1:{port}/repo.git"),
        ],
    );
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let dump = elsewhere.path().join("helper-env");
    let helper = format!(
        "!f() {{ env > '{}'; echo username=u; echo password=p; }}; f",
        dump.display()
    );
    git(dir, &["config", "credential.helper", &helper]);
    let key = std::fs::read_to_string(common::demo_key()).expect("key");
    let mut cmd = common::stencil(dir);
    cmd.current_dir(dir)
        .args(["bump", "api", "1.1.0", "--push", "--retries", "0"])
        .env("SOPS_AGE_KEY", &key)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_AUTHOR_NAME", "ci")
        .env("GIT_AUTHOR_EMAIL", "ci@example.com")
        .env("GIT_COMMITTER_NAME", "ci")
        .env("GIT_COMMITTER_EMAIL", "ci@example.com")
        .timeout(std::time::Duration::from_secs(60));
    let run = Run::from(cmd.output().expect("run"));
    assert_ne!(run.code, 0, "the server refuses every push");
    let env = std::fs::read_to_string(&dump)
        .unwrap_or_else(|_| panic!("the credential helper did not run: {}", run.stderr));
    assert!(env.contains("PATH="), "{env}");
    assert!(
        !env.contains("AGE-SECRET-KEY-"),
        "a private key reached the helper"
    );
    assert!(!env.contains("ROPS_AGE"), "{env}");
}

#[test]
fn an_exception_tolerates_unbound_files_but_never_a_foreign_binding() {
    let settings = format!(
        "{}policy:\n  exceptions:\n    - rule: secrets-binding\n      tenants: [acme]\n      reason: secrets bind runs in PLAT-42\n",
        common::STENCIL_YAML
    );
    let repo = two_tenants().file("stencil.yaml", &settings);
    unbound(
        &repo,
        "tenants/acme/api/secrets.enc.yaml",
        "DB_PASSWORD: acme-db-0007\n",
    );
    let run = repo.run(&["render"]).ok();
    assert!(
        run.stderr
            .contains("secrets-binding tenants/acme/api/secrets.enc.yaml:1")
            && run.stderr.contains("allowed by a policy exception"),
        "{}",
        run.stderr
    );
    // Not for another tenant.
    unbound(
        &repo,
        "tenants/other/api/secrets.enc.yaml",
        "DB_PASSWORD: other-db-0008\n",
    );
    repo.run(&["render"])
        .fails(&["secrets-binding tenants/other/api/secrets.enc.yaml:1"]);
    std::fs::remove_file(repo.path().join("tenants/other/api/secrets.enc.yaml")).expect("rm");
    // A file bound elsewhere is refused even where unbound files are tolerated.
    repo.set_secret(
        "tenants/other/worker/secrets.enc.yaml",
        "DB_PASSWORD",
        OTHER_DB,
    );
    copy(
        &repo,
        "tenants/other/worker/secrets.enc.yaml",
        "tenants/acme/worker/secrets.enc.yaml",
    );
    let run = repo
        .run(&["render"])
        .fails(&["belongs to tenants/other/worker, not to tenants/acme/worker"]);
    no_secret_in(&run, &[OTHER_DB]);
}
