//! Secrets end to end: `stencil secrets` round trips, Secrets and ExternalSecrets in the
//! render, keyed checksums, and every bad-input case failing loudly without printing a
//! secret value.

use crate::common;

use crate::common::{Repo, demo_recipient};

const STRIPE: &str = "sk_test_VALUE_THAT_MUST_NOT_LEAK_4242";
const SESSION: &str = "session-VALUE-THAT-MUST-NOT-LEAK";

/// A repo whose tenant `acme` has two secrets, encrypted with `stencil secrets set`.
fn repo_with_secrets() -> Repo {
    let repo = Repo::new().file(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - path_regex: ^tenants/.*/secrets\\.enc\\.yaml$\n    age: {}\n",
            demo_recipient()
        ),
    );
    set(&repo, "STRIPE_API_KEY", STRIPE);
    set(&repo, "SESSION_SECRET", SESSION);
    repo
}

fn set(repo: &Repo, key: &str, value: &str) {
    repo.set_secret("tenants/acme/api/secrets.enc.yaml", key, value);
}

/// Fails like every bad input must, and leaks neither value anywhere.
#[track_caller]
fn fails_without_leaking(run: common::Run, needles: &[&str]) {
    let run = run.fails(needles);
    for secret in [STRIPE, SESSION] {
        assert!(
            !run.stderr.contains(secret),
            "secret leaked into stderr:\n{}",
            run.stderr
        );
    }
}

/// The same repository through `argocd generate` as Argo CD runs it: it fails as well, with
/// nothing on stdout and neither value in its (debug) log.
#[track_caller]
fn generate_fails_without_leaking(repo: &Repo, env: &[(&str, Option<&str>)]) {
    let run = repo.generate_env("acme", "api", env);
    assert_ne!(run.code, 0, "generate succeeded; stderr:\n{}", run.stderr);
    assert!(run.stdout.is_empty(), "stdout on error:\n{}", run.stdout);
    for secret in [STRIPE, SESSION] {
        assert!(
            !run.stderr.contains(secret),
            "secret leaked:\n{}",
            run.stderr
        );
    }
}

#[test]
fn set_writes_no_plaintext_and_decrypt_reads_it_back() {
    let repo = repo_with_secrets();
    let file = repo.read("tenants/acme/api/secrets.enc.yaml");
    assert!(
        !file.contains(STRIPE) && !file.contains(SESSION),
        "plaintext on disk:\n{file}"
    );
    assert!(file.contains("ENC[AES256_GCM,") && file.contains("version: 3.9.4"));
    let run = repo
        .run(&[
            "secrets",
            "decrypt",
            &repo
                .path()
                .join("tenants/acme/api/secrets.enc.yaml")
                .to_string_lossy(),
        ])
        .ok();
    assert_eq!(
        run.stdout,
        format!(
            "stencil.dev/scope: tenants/acme/api\nSTRIPE_API_KEY: {STRIPE}\nSESSION_SECRET: {SESSION}\n"
        )
    );
    assert!(run.stderr.is_empty());
}

#[test]
fn encrypt_in_place_uses_the_sops_yaml_rule() {
    let repo = Repo::new()
        .file(".sops.yaml", format!("creation_rules:\n  - path_regex: secrets\\.enc\\.yaml$\n    age: {}\n    unencrypted_suffix: _unencrypted\n", demo_recipient()))
        .file("tenants/acme/api/secrets.enc.yaml", format!("TOKEN: {STRIPE}\nNOTE_unencrypted: visible\nEMPTY: ''\n"));
    let mut cmd = common::stencil(repo.path());
    let out = cmd
        .current_dir(repo.path())
        .args(["secrets", "encrypt", "tenants/acme/api/secrets.enc.yaml"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = repo.read("tenants/acme/api/secrets.enc.yaml");
    assert!(!file.contains(STRIPE));
    assert!(
        file.contains("NOTE_unencrypted: visible")
            && file.contains("EMPTY: ''")
            && file.contains("unencrypted_suffix: _unencrypted"),
        "{file}"
    );
    // Encrypting twice is refused, not double-encrypted.
    let again = common::stencil(repo.path())
        .current_dir(repo.path())
        .args(["secrets", "encrypt", "tenants/acme/api/secrets.enc.yaml"])
        .output()
        .expect("run");
    assert_eq!(again.status.code(), Some(3));
}

#[test]
fn render_holds_a_secret_and_keyed_checksum() {
    let run = repo_with_secrets().run(&["render"]).ok();
    let secret = run.object("Secret", "api-secrets");
    use base64::Engine as _;
    let decode = |k: &str| {
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(secret["data"][k].as_str().unwrap_or_default())
                .unwrap_or_default(),
        )
        .unwrap_or_default()
    };
    assert_eq!(decode("STRIPE_API_KEY"), STRIPE);
    assert_eq!(decode("SESSION_SECRET"), SESSION);
    let deployment = run.object("Deployment", "api");
    let env = &deployment["spec"]["template"]["spec"]["containers"][0]["env"];
    assert_eq!(
        env[1],
        serde_json::json!({"name": "STRIPE_API_KEY", "valueFrom": {"secretKeyRef": {"name": "api-secrets", "key": "STRIPE_API_KEY"}}})
    );
    let checksum = deployment["spec"]["template"]["metadata"]["annotations"]["checksum/secrets"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(checksum.len(), 64);
    // Not a plain hash of the values: without the data key, a guess cannot be checked.
    use sha2::Digest as _;
    for candidate in [STRIPE, SESSION] {
        let plain: String = sha2::Sha256::digest(candidate.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_ne!(plain, checksum);
    }
}

#[test]
fn changing_one_value_changes_only_that_tenants_secret_and_checksum() {
    let repo = repo_with_secrets().file(
        "tenants/zeta/tenant.yaml",
        "environment: dev\nservices: [api]\n",
    );
    let mut cmd = common::stencil(repo.path());
    cmd.current_dir(repo.path()).args([
        "secrets",
        "set",
        "tenants/zeta/api/secrets.enc.yaml",
        "OTHER",
        "x",
        "--age",
        &demo_recipient(),
    ]);
    assert!(cmd.output().expect("run").status.success());
    let before = repo.run(&["render"]).ok().stdout;
    set(&repo, "SESSION_SECRET", "a-new-session-secret");
    let after = repo.run(&["render"]).ok().stdout;
    let changed: Vec<(&str, &str)> = before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(before.lines().count(), after.lines().count());
    assert_eq!(changed.len(), 2, "{changed:#?}");
    assert!(
        changed[0].0.starts_with("  SESSION_SECRET: "),
        "{changed:#?}"
    );
    assert!(
        changed[1].0.starts_with("        checksum/secrets: "),
        "{changed:#?}"
    );
    // Both changes are acme's: zeta's objects come after acme's, and its lines are equal.
    let zeta_start = after.find("stencil.dev/tenant: zeta").unwrap_or(0);
    assert!(after.find(changed[1].1).unwrap_or(usize::MAX) < zeta_start);
}

#[test]
fn redact_secrets_prints_fingerprints_only() {
    let repo = repo_with_secrets();
    let run = repo.run(&["render", "--redact-secrets"]).ok();
    assert!(!run.stdout.contains(STRIPE) && !run.stdout.contains(&base64_of(STRIPE)));
    let secret = run.object("Secret", "api-secrets");
    let fingerprint = secret["stringData"]["STRIPE_API_KEY"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        fingerprint.starts_with("<redacted hmac-sha256:")
            && fingerprint.len() == "<redacted hmac-sha256:>".len() + 16,
        "{fingerprint}"
    );
    // Stable run to run.
    assert_eq!(
        repo.run(&["render", "--redact-secrets"]).ok().stdout,
        run.stdout
    );
}

fn base64_of(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[test]
fn external_secrets_for_ssm_and_feature_flags() {
    let run = Repo::new()
        .file(
            "stencil.yaml",
            format!(
                "{}tenancy: {{ ssmPrefix: \"/p/{{tenant.name}}/\" }}\n",
                common::STENCIL_YAML
            ),
        )
        .file(
            "tenants/acme/api/values.yaml",
            "ssmSecrets:\n  DATABASE_URL: \"/p/{{ tenant.name }}/DATABASE_URL\"\nfeatureFlags: { ssmPrefix: \"/p/{{ tenant.name }}\" }\n",
        )
        .run(&["render"])
        .ok();
    let ssm = run.object("ExternalSecret", "api-ssm");
    assert_eq!(ssm["apiVersion"], "external-secrets.io/v1");
    assert_eq!(
        ssm["spec"]["data"],
        serde_json::json!([{"secretKey": "DATABASE_URL", "remoteRef": {"key": "/p/acme/DATABASE_URL"}}])
    );
    assert_eq!(
        ssm["spec"]["secretStoreRef"],
        serde_json::json!({"name": "aws-parameter-store", "kind": "ClusterSecretStore"})
    );
    let flags = run.object("ExternalSecret", "api-feature-flags");
    assert_eq!(flags["spec"]["dataFrom"][0]["find"]["path"], "/p/acme");
    let deployment = run.object("Deployment", "api");
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        container["envFrom"][1],
        serde_json::json!({"secretRef": {"name": "api-feature-flags", "optional": true}})
    );
    assert_eq!(
        container["env"][0]["valueFrom"]["secretKeyRef"]["name"],
        "api-ssm"
    );
    assert_eq!(
        deployment["metadata"]["annotations"]["secret.reloader.stakater.com/reload"],
        "api-ssm,api-feature-flags"
    );
}

#[test]
fn no_key_names_the_recipients() {
    let repo = repo_with_secrets();
    let run = repo.run_env(&["render"], &[("SOPS_AGE_KEY_FILE", None)]);
    fails_without_leaking(
        run,
        &[
            "tenants/acme/api/secrets.enc.yaml cannot be decrypted",
            &demo_recipient(),
            "no age key was found",
            "SOPS_AGE_KEY",
        ],
    );
    generate_fails_without_leaking(&repo, &[("SOPS_AGE_KEY_FILE", None)]);
}

#[test]
fn a_wrong_key_names_both_sides() {
    let repo = repo_with_secrets();
    let other = age::x25519::Identity::generate();
    use age::secrecy::ExposeSecret as _;
    let key = other.to_string().expose_secret().to_owned();
    let run = repo.run_env(
        &["render"],
        &[("SOPS_AGE_KEY_FILE", None), ("SOPS_AGE_KEY", Some(&key))],
    );
    fails_without_leaking(
        run,
        &[
            "cannot be decrypted",
            &demo_recipient(),
            &other.to_public().to_string(),
        ],
    );
    let run = repo.run_env(
        &["render"],
        &[("SOPS_AGE_KEY_FILE", None), ("SOPS_AGE_KEY", Some(&key))],
    );
    assert!(!run.stderr.contains(&key), "a private key leaked");
    let env = [
        ("SOPS_AGE_KEY_FILE", None),
        ("SOPS_AGE_KEY", Some(key.as_str())),
    ];
    generate_fails_without_leaking(&repo, &env);
}

/// Flips the first character of the base64 `data:` of one ENC value (or of the MAC).
fn flip(file: &str, nth: usize) -> Option<String> {
    let mut seen = 0;
    let mut out = String::new();
    let mut done = false;
    for line in file.lines() {
        let mut line = line.to_owned();
        if !done && let Some(pos) = line.find("ENC[AES256_GCM,data:") {
            if seen == nth {
                let at = pos + "ENC[AES256_GCM,data:".len();
                let replacement = if &line[at..=at] == "A" { "B" } else { "A" };
                line.replace_range(at..=at, replacement);
                done = true;
            }
            seen += 1;
        }
        out.push_str(&line);
        out.push('\n');
    }
    done.then_some(out)
}

#[test]
fn flipping_any_encrypted_byte_or_the_mac_fails_the_mac_check() {
    let repo = repo_with_secrets();
    let original = repo.read("tenants/acme/api/secrets.enc.yaml");
    let mut cases = 0;
    while let Some(tampered) = flip(&original, cases) {
        let repo = Repo::new().file("tenants/acme/api/secrets.enc.yaml", &tampered);
        fails_without_leaking(
            repo.run(&["render"]),
            &["tenants/acme/api/secrets.enc.yaml", "MAC"],
        );
        generate_fails_without_leaking(&repo, &[]);
        cases += 1;
    }
    assert_eq!(cases, 4, "the binding, two values and the MAC");
}

#[test]
fn a_plaintext_secrets_file_is_a_loud_error() {
    let repo = Repo::new().file(
        "tenants/acme/api/secrets.enc.yaml",
        format!("STRIPE_API_KEY: {STRIPE}\n"),
    );
    fails_without_leaking(
        repo.run(&["render"]),
        &[
            "tenants/acme/api/secrets.enc.yaml is not encrypted",
            "stencil secrets encrypt",
        ],
    );
    generate_fails_without_leaking(&repo, &[]);
}

#[test]
fn nested_values_and_bad_names_are_refused() {
    let repo = Repo::new().file(
        ".sops.yaml",
        format!("creation_rules:\n  - age: {}\n", demo_recipient()),
    );
    let path = repo.path().join("tenants/acme/api/secrets.enc.yaml");
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    let cases = [
        (
            format!("STRIPE_API_KEY:\n  nested: {STRIPE}\n"),
            "the secret `STRIPE_API_KEY` is a list or mapping",
        ),
        (
            format!("\"BAD=NAME\": {STRIPE}\n"),
            "`BAD=NAME` is not a valid environment variable name",
        ),
    ];
    for (plaintext, needle) in cases {
        std::fs::write(&path, plaintext).expect("write");
        repo.run_in(
            ".",
            &["secrets", "encrypt", "tenants/acme/api/secrets.enc.yaml"],
        )
        .ok();
        fails_without_leaking(repo.run(&["render"]), &[needle]);
        generate_fails_without_leaking(&repo, &[]);
    }
}

#[test]
fn a_variable_set_in_env_and_secrets_is_an_error() {
    let repo = repo_with_secrets().file("tenants/acme/api/env.yaml", "STRIPE_API_KEY: oops\n");
    fails_without_leaking(
        repo.run(&["render"]),
        &["`STRIPE_API_KEY` is set both in env and in secrets.enc.yaml"],
    );
    generate_fails_without_leaking(&repo, &[]);
}

#[test]
fn keys_are_found_where_sops_looks() {
    let repo = repo_with_secrets();
    let demo = std::fs::read_to_string(common::demo_key()).expect("demo key");
    let wrong = {
        use age::secrecy::ExposeSecret as _;
        age::x25519::Identity::generate()
            .to_string()
            .expose_secret()
            .to_owned()
    };
    // SOPS_AGE_KEY may hold several keys, one per line; any of them may match.
    let both = format!("{wrong}\n{demo}");
    repo.run_env(
        &["render"],
        &[("SOPS_AGE_KEY_FILE", None), ("SOPS_AGE_KEY", Some(&both))],
    )
    .ok();
    // The default location: $XDG_CONFIG_HOME/sops/age/keys.txt.
    let config = repo.path().join(".home/.config/sops/age");
    std::fs::create_dir_all(&config).expect("mkdir");
    std::fs::write(config.join("keys.txt"), &demo).expect("write");
    repo.run_env(&["render"], &[("SOPS_AGE_KEY_FILE", None)])
        .ok();
}

#[test]
fn several_recipients_and_updatekeys() {
    let second = age::x25519::Identity::generate();
    let second_key = {
        use age::secrecy::ExposeSecret as _;
        second.to_string().expose_secret().to_owned()
    };
    let repo = Repo::new();
    let file = "tenants/acme/api/secrets.enc.yaml";
    let out = common::stencil(repo.path())
        .current_dir(repo.path())
        .args([
            "secrets",
            "set",
            file,
            "STRIPE_API_KEY",
            STRIPE,
            "--age",
            &demo_recipient(),
            "--age",
            &second.to_public().to_string(),
        ])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Either key alone decrypts.
    repo.run(&["render"]).ok();
    repo.run_env(
        &["render"],
        &[
            ("SOPS_AGE_KEY_FILE", None),
            ("SOPS_AGE_KEY", Some(&second_key)),
        ],
    )
    .ok();

    // updatekeys: drop the second recipient (per .sops.yaml); values and MAC stay byte-identical.
    let before = repo.read(file);
    let repo = repo.file(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - path_regex: secrets\\.enc\\.yaml$\n    age: {}\n",
            demo_recipient()
        ),
    );
    let out = common::stencil(repo.path())
        .current_dir(repo.path())
        .args(["secrets", "updatekeys", file])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = repo.read(file);
    let values = |t: &str| {
        t.lines()
            .filter(|l| l.contains("ENC[") || l.contains("lastmodified"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(values(&before), values(&after));
    assert!(!after.contains(&second.to_public().to_string()));
    repo.run(&["render"]).ok();
    let run = repo.run_env(
        &["render"],
        &[
            ("SOPS_AGE_KEY_FILE", None),
            ("SOPS_AGE_KEY", Some(&second_key)),
        ],
    );
    fails_without_leaking(run, &["cannot be decrypted"]);
}

#[test]
fn the_secret_store_is_configurable() {
    let run = Repo::new()
        .file(
            "stencil.yaml",
            format!("{}externalSecrets: {{ secretStore: ssm-eu, secretStoreKind: SecretStore, refreshInterval: 15m }}\n", common::STENCIL_YAML),
        )
        .file(
            "tenants/acme/api/values.yaml",
            "ssmSecrets: { DB: /plat/dev/tenants/acme/db }\n",
        )
        .run(&["render"])
        .ok();
    let ssm = run.object("ExternalSecret", "api-ssm");
    assert_eq!(
        ssm["spec"]["secretStoreRef"],
        serde_json::json!({"name": "ssm-eu", "kind": "SecretStore"})
    );
    assert_eq!(ssm["spec"]["refreshInterval"], "15m");
}

#[test]
fn sops_age_key_cmd_supplies_keys_as_sops_reads_it() {
    let repo = repo_with_secrets();
    let key = common::demo_key();
    // Split into words like a shell would, but run without one.
    let command = format!("cat '{}'", key.display());
    let run = repo.run_env(
        &["render"],
        &[
            ("SOPS_AGE_KEY_FILE", None),
            ("SOPS_AGE_KEY_CMD", Some(&command)),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("kind: Secret"));

    // A command that fails is named, never its output.
    let run = repo.run_env(
        &["render"],
        &[
            ("SOPS_AGE_KEY_FILE", None),
            ("SOPS_AGE_KEY_CMD", Some("false")),
        ],
    );
    assert_eq!(run.code, 3);
    assert!(
        run.stderr.contains("SOPS_AGE_KEY_CMD `false` failed"),
        "{}",
        run.stderr
    );
    let run = repo.run_env(
        &["render"],
        &[
            ("SOPS_AGE_KEY_FILE", None),
            ("SOPS_AGE_KEY_CMD", Some("echo not-a-key")),
        ],
    );
    assert!(
        run.stderr
            .contains("SOPS_AGE_KEY_CMD: line 1 is not an age secret key"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("not-a-key"), "{}", run.stderr);
}

#[test]
fn sops_age_recipients_names_the_recipients_of_encrypt() {
    let repo = common::Repo::new();
    let other = age::x25519::Identity::generate().to_public().to_string();
    let both = format!("{},{other}", demo_recipient());
    let file = repo.path().join("plain.enc.yaml");
    std::fs::write(&file, "A: one\n").unwrap();
    let run = repo.run_env(
        &["secrets", "encrypt", file.to_str().unwrap()],
        &[("SOPS_AGE_RECIPIENTS", Some(&both))],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let written = repo.read("plain.enc.yaml");
    assert!(
        written.contains(&demo_recipient()) && written.contains(&other),
        "{written}"
    );
}

#[test]
fn set_keeps_master_keys_it_cannot_use_and_the_data_key() {
    let repo = common::Repo::new();
    let file = repo.path().join("kms.enc.yaml");
    std::fs::write(&file, "A: one\n").unwrap();
    let path = file.to_str().unwrap();
    let run = repo.run_env(
        &["secrets", "encrypt", "--age", &demo_recipient(), path],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    // A KMS key besides the age one, as a file made with `sops --kms ... --age ...` has.
    let kms = "  kms:\n  - arn: arn:aws:kms:us-east-1:012345678901:key/0a1b2c3d\n    created_at: \"2026-01-01T00:00:00Z\"\n    enc: AQICAHh0ZXN0\n";
    let text = std::fs::read_to_string(&file).unwrap();
    let with_kms = text.replacen("sops:\n", &format!("sops:\n{kms}"), 1);
    std::fs::write(&file, &with_kms).unwrap();
    let age_block =
        |t: &str| t[t.find("  age:").unwrap()..t.find("  lastmodified:").unwrap()].to_owned();
    let before = age_block(&with_kms);

    let run = repo.run_env(&["secrets", "set", path, "B", "two"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let after = std::fs::read_to_string(&file).unwrap();
    assert!(
        after.contains("arn:aws:kms:us-east-1:012345678901:key/0a1b2c3d"),
        "{after}"
    );
    assert!(after.contains("enc: AQICAHh0ZXN0"), "{after}");
    assert_eq!(
        age_block(&after),
        before,
        "the data key was kept, so was its age wrapping"
    );
    let plain = repo.run_env(&["secrets", "decrypt", path], &[]).ok().stdout;
    assert!(
        plain.contains("A: one") && plain.contains("B: two"),
        "{plain}"
    );
}

#[test]
fn key_groups_and_comment_rules_are_refused_by_name() {
    // A file sops wrote with key groups (Shamir): its metadata holds `key_groups` and no
    // top-level `age`, which once read as "encrypted for no age recipient".
    let repo = common::Repo::new();
    let file = repo.path().join("groups.enc.yaml");
    std::fs::write(&file, "A: one\n").unwrap();
    let path = file.to_str().unwrap();
    repo.run_env(
        &["secrets", "encrypt", "--age", &demo_recipient(), path],
        &[],
    )
    .ok();
    let text = std::fs::read_to_string(&file).unwrap();
    let age_at = text.find("  age:").unwrap();
    let last = text.find("  lastmodified:").unwrap();
    let grouped = format!(
        "{}  key_groups:\n  - age:\n{}  shamir_threshold: 1\n{}",
        &text[..age_at],
        text[age_at..last]
            .replacen("  age:\n", "", 1)
            .replace("\n  ", "\n    ")
            .replacen("  -", "    -", 1),
        &text[last..]
    );
    std::fs::write(&file, grouped).unwrap();
    let run = repo.run_env(&["secrets", "decrypt", path], &[]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "uses key groups (`key_groups`, Shamir secret sharing), which stencil does not support"
        ),
        "{}",
        run.stderr
    );

    for (setting, name) in [
        ("key_groups:\n      - age: [RECIPIENT]", "key_groups"),
        (
            "age: RECIPIENT\n    encrypted_comment_regex: sops:enc",
            "encrypted_comment_regex",
        ),
    ] {
        let rules = format!(
            "creation_rules:\n  - path_regex: \\.enc\\.yaml$\n    {}\n",
            setting.replace("RECIPIENT", &demo_recipient())
        );
        std::fs::write(repo.path().join(".sops.yaml"), rules).unwrap();
        let plain = repo.path().join("new.enc.yaml");
        std::fs::write(&plain, "A: one\n").unwrap();
        let run = repo.run_env(&["secrets", "encrypt", plain.to_str().unwrap()], &[]);
        assert_eq!(run.code, 3, "{}", run.stderr);
        assert!(
            run.stderr.contains(&format!(
                "the creation rule uses `{name}`, which stencil does not support"
            )),
            "{}",
            run.stderr
        );
        assert_eq!(
            std::fs::read_to_string(&plain).unwrap(),
            "A: one\n",
            "left as it was"
        );
    }
}
