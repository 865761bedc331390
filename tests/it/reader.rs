//! Input integrity: the YAML reader refuses what YAML forbids (and the raw line separators
//! YAML 1.1 and 1.2 readers disagree on) with file:line:col, and never truncates a file.
//! Every case runs the real binary on a tenant file.

use crate::common;

use crate::common::Repo;

const VALUES: &str = "tenants/acme/api/values.yaml";

/// `render` and `validate` both refuse `text` as the tenant's values.yaml, at `line:col`,
/// naming the code point, and neither echoes the raw character.
#[track_caller]
fn refused(text: &str, line: u32, col: u32, code_point: &str) {
    let repo = Repo::new().file(VALUES, text);
    let at = format!("{VALUES}:{line}:{col}");
    let render = repo.run(&["render"]).fails(&[&at, code_point, "hint:"]);
    let validate = problems(repo.run(&["validate"]), &[&at, code_point, "hint:"]);
    for run in [render, validate] {
        let bad =
            char::from_u32(u32::from_str_radix(&code_point[2..], 16).expect("hex")).expect("char");
        assert!(
            !run.stderr.contains(bad),
            "the raw character is echoed in:\n{}",
            run.stderr
        );
    }
}

/// `validate` found problems: exit 1, nothing on stdout, every needle on stderr.
#[track_caller]
fn problems(run: common::Run, needles: &[&str]) -> common::Run {
    assert_eq!(run.code, 1, "expected exit 1, stderr:\n{}", run.stderr);
    assert!(run.stdout.is_empty(), "stdout: {}", run.stdout);
    for needle in needles {
        assert!(
            run.stderr.contains(needle),
            "no {needle:?} in:\n{}",
            run.stderr
        );
    }
    run
}

#[test]
fn nul_in_the_middle_of_a_value_is_refused_not_truncated() {
    refused("env:\n  A: x\0y\n  B: hidden\n", 2, 7, "U+0000");
}

#[test]
fn nul_on_a_line_of_its_own_is_refused_not_truncated() {
    // Today everything after the NUL is dropped and `validate` says ok.
    refused("replicas: 3\n\0\nreplicas: 4\n", 2, 1, "U+0000");
    refused("env:\n  A: b\n\0", 3, 1, "U+0000");
}

#[test]
fn c0_controls_are_refused_in_every_scalar_style() {
    for (c, name) in [
        ('\u{1}', "U+0001"),
        ('\u{1b}', "U+001B"),
        ('\u{8}', "U+0008"),
    ] {
        refused(&format!("env:\n  A: x{c}y\n"), 2, 7, name);
        refused(&format!("env:\n  A: \"x{c}y\"\n"), 2, 8, name);
        refused(&format!("env:\n  A: 'x{c}y'\n"), 2, 8, name);
        refused(&format!("env:\n  A: |\n    x{c}y\n"), 3, 6, name);
        refused(&format!("env:\n  A{c}: y\n"), 2, 4, name);
        refused(&format!("# a comment {c}\nreplicas: 2\n"), 1, 13, name);
    }
}

#[test]
fn del_and_c1_controls_are_refused() {
    refused("env:\n  A: x\u{7f}\n", 2, 7, "U+007F");
    refused("env:\n  A: x\u{9b}31m\n", 2, 7, "U+009B");
    refused("env:\n  A: \"x\u{80}\"\n", 2, 8, "U+0080");
    refused("env:\n  A: x\u{9f}\n", 2, 7, "U+009F");
}

#[test]
fn non_characters_fffe_and_ffff_are_refused() {
    refused("env:\n  A: x\u{fffe}\n", 2, 7, "U+FFFE");
    refused("env:\n  A: 'x\u{ffff}'\n", 2, 8, "U+FFFF");
}

#[test]
fn raw_line_separators_are_refused_with_a_hint_to_escape_them() {
    // YAML 1.1 readers (go-yaml in kubectl and Argo CD, PyYAML) break lines at these; YAML
    // 1.2 readers do not. Raw, they would mean different things to different tools.
    refused(
        "env:\n  A: x\u{2028}metadata:\u{2028}  namespace: kube-system\n",
        2,
        7,
        "U+2028",
    );
    refused("env:\n  A: x\u{2029}y\n", 2, 7, "U+2029");
    refused("env:\n  A: \"x\u{85}y\"\n", 2, 8, "U+0085");
    let run = Repo::new()
        .file(VALUES, "env:\n  A: x\u{2028}y\n")
        .run(&["render"])
        .fails(&[]);
    assert!(run.stderr.contains("\\u2028"), "{}", run.stderr);
}

#[test]
fn escaped_forms_in_double_quotes_are_accepted() {
    let repo = Repo::new().file(
        VALUES,
        "env:\n  A: \"x\\u2028y\\N\\x01\\t\"\n  B: \"tab\there\"\n",
    );
    repo.run(&["validate"]).ok();
    assert_eq!(env_value(&repo, "A"), "x\u{2028}y\u{85}\u{1}\t");
    assert_eq!(env_value(&repo, "B"), "tab\there");
}

#[test]
fn a_byte_order_mark_is_accepted_only_at_the_start() {
    let repo = Repo::new().file(VALUES, "\u{feff}env:\n  A: b\n");
    repo.run(&["validate"]).ok();
    refused("env:\n  A: b\n\u{feff}replicas: 3\n", 3, 1, "U+FEFF");
    refused("env:\n  \u{feff}A: b\n", 2, 3, "U+FEFF");
}

#[test]
fn forbidden_characters_are_refused_in_every_input_file() {
    let repo = Repo::new().file(
        "tenants/acme/tenant.yaml",
        "kind: Tenant\nenvironment: dev\nservices: [api]\n# \u{1b}[2J\n",
    );
    problems(
        repo.run(&["validate"]),
        &["tenants/acme/tenant.yaml:4:3", "U+001B"],
    );
    let repo = Repo::new().file("base/api/service.yaml", "kind: Service\n\0\n");
    repo.run(&["render"])
        .fails(&["base/api/service.yaml:2:1", "U+0000"]);
}

/// The value of env var `name` (in the app's ConfigMap), from `render --output json`.
fn env_value(repo: &Repo, name: &str) -> serde_json::Value {
    let docs = repo.run(&["render", "--output", "json"]).ok().json_items();
    let config = docs
        .iter()
        .find(|d| d["kind"] == "ConfigMap")
        .expect("a ConfigMap");
    config["data"][name].clone()
}

fn env_value_of(values: &str, name: &str) -> serde_json::Value {
    env_value(&Repo::new().file(VALUES, values), name)
}

#[test]
fn an_empty_block_scalar_at_the_end_of_a_file_is_empty() {
    for text in [
        "env:\n  A: |\n",
        "env:\n  A: >\n",
        "env:\n  A: |\n\n\n",
        "env:\n  A: |-\n",
        "env:\n  A: |",
    ] {
        assert_eq!(env_value_of(text, "A"), "", "for {text:?}");
    }
    assert_eq!(env_value_of("env:\n  A: |\n    x\n", "A"), "x\n");
    assert_eq!(env_value_of("env:\n  A: |\n  B: c\n", "A"), "");
    assert_eq!(env_value_of("env:\n  A: |+\n    x\n\n", "A"), "x\n\n");
}

#[test]
fn a_carriage_return_ends_a_line_only_before_a_line_feed() {
    let repo = Repo::new().file(VALUES, "env:\r\n  A: b\r\n");
    repo.run(&["validate"]).ok();
    refused("env:\n  A: b\r  B: c\n", 2, 7, "U+000D");
}

#[test]
fn nothing_after_the_document_is_dropped() {
    Repo::new()
        .file(VALUES, "env:\n  A: b\n...\nreplicas: 5\n")
        .run(&["render"])
        .fails(&[VALUES, "one YAML document"]);
    Repo::new()
        .file(VALUES, "env:\n  A: b\n---\n")
        .run(&["render"])
        .fails(&[VALUES, "one YAML document"]);
}

#[test]
fn a_file_that_is_not_utf8_is_quoted_without_its_control_characters() {
    let repo = Repo::new().file(VALUES, b"env:\n  A: \x1b]0;owned\x07\xff\n".as_slice());
    let run = repo
        .run(&["render"])
        .fails(&["not valid UTF-8", &format!("{VALUES}:2:")]);
    assert!(
        !run.stderr.contains('\u{1b}') && !run.stderr.contains('\u{7}'),
        "{:?}",
        run.stderr
    );
}
