//! The documentation's console examples run as written.
//!
//! - The README's tutorial: every `$ command` of its console blocks, in order, in one bash
//!   session (so `cd` and `export` carry over) in an empty folder.
//! - Every console block of `docs/*.md`: a session of its own in a fresh copy of the example
//!   repository (and, for `docs/migrate.md`, a symlinked Helm values layout in `helm/`),
//!   committed to git, with the demo key.
//!
//! The built stencil is first on PATH. Each command must print what the page shows (stdout
//! and stderr together) and exit 0, or non-zero when what it shows has an `error:` line. In
//! the expected text `...` on a line of its own stands for any lines, and `[..]` for any text
//! within a line. (Blocks that only list commands, without output, are `sh` blocks.)

use std::path::{Path, PathBuf};
use std::process::Command;

/// One `$ command` and the lines the document shows after it.
#[derive(Debug)]
struct Step {
    line: usize,
    command: String,
    expected: Vec<String>,
}

/// Every console block of a page, each as its steps.
fn blocks(markdown: &str) -> Vec<Vec<Step>> {
    let mut blocks: Vec<Vec<Step>> = Vec::new();
    let mut inside = false;
    for (n, line) in markdown.lines().enumerate() {
        if line.starts_with("```") {
            inside = line == "```console";
            if inside {
                blocks.push(Vec::new());
            }
            continue;
        }
        if !inside {
            continue;
        }
        let block = blocks.last_mut().expect("a block");
        match line.strip_prefix("$ ") {
            Some(command) => block.push(Step {
                line: n + 1,
                command: command.to_owned(),
                expected: Vec::new(),
            }),
            None => block
                .last_mut()
                .expect("output before any command")
                .expected
                .push(line.to_owned()),
        }
    }
    blocks
}

/// The console blocks between `heading` and the next `## ` heading.
fn steps(markdown: &str, heading: &str) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let (mut inside_section, mut inside_block) = (false, false);
    for (n, line) in markdown.lines().enumerate() {
        if line.starts_with("## ") {
            inside_section = line == heading;
            continue;
        }
        if !inside_section {
            continue;
        }
        if line.starts_with("```") {
            inside_block = line == "```console";
            continue;
        }
        if !inside_block {
            continue;
        }
        match line.strip_prefix("$ ") {
            Some(command) => steps.push(Step {
                line: n + 1,
                command: command.to_owned(),
                expected: Vec::new(),
            }),
            None => steps
                .last_mut()
                .expect("output before any command")
                .expected
                .push(line.to_owned()),
        }
    }
    steps
}

/// Whether `actual` is what `expected` shows, with `...` lines and `[..]` spans.
fn matches(expected: &[String], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if first == "..." => {
            (0..=actual.len()).any(|skip| matches(rest, &actual[skip..]))
        }
        Some((first, rest)) => actual
            .split_first()
            .is_some_and(|(line, more)| line_matches(first, line) && matches(rest, more)),
    }
}

fn line_matches(pattern: &str, line: &str) -> bool {
    let mut parts = pattern.split("[..]");
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = line.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (i, part) in parts.iter().enumerate() {
        if i == parts.len() - 1 {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

/// Runs the steps as one bash session in `dir`; each step's output and exit status.
fn run_session(dir: &Path, steps: &[Step], env: &[(&str, &Path)]) -> Vec<(String, i32)> {
    let mut script = String::new();
    for (i, step) in steps.iter().enumerate() {
        script.push_str(&format!(
            "printf '\\n@@step {i}@@\\n'\n{{ {}\n}} 2>&1\nprintf '\\n@@exit %d@@\\n' $?\n",
            step.command
        ));
    }
    let bin = PathBuf::from(assert_cmd::cargo::cargo_bin!("stencil"));
    let path = format!(
        "{}:{}",
        bin.parent().expect("bin dir").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .args(["--noprofile", "--norc", "-c", &script])
        .current_dir(dir)
        .env_clear()
        .env("PATH", path)
        .env("HOME", dir.join(".home"))
        .env("XDG_CONFIG_HOME", dir.join(".home/.config"))
        .env("GIT_AUTHOR_NAME", "Ada")
        .env("GIT_AUTHOR_EMAIL", "ada@example.com")
        .env("GIT_COMMITTER_NAME", "Ada")
        .env("GIT_COMMITTER_EMAIL", "ada@example.com")
        .env("TERM", "dumb")
        .envs(env.iter().copied())
        .output()
        .expect("bash");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut results = Vec::new();
    for chunk in text.split("\n@@step ").skip(1) {
        let body = chunk.split_once("@@\n").map_or("", |(_, b)| b);
        let (output, exit) = body.rsplit_once("\n@@exit ").unwrap_or((body, "-1@@"));
        let code = exit.trim_end().trim_end_matches("@@").parse().unwrap_or(-1);
        results.push((output.trim_start_matches('\n').to_owned(), code));
    }
    results
}

#[test]
fn the_readme_tutorial_runs_as_written() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let steps = steps(&readme, "## Five-minute tutorial");
    assert!(steps.len() >= 10, "the tutorial has its steps: {steps:#?}");
    let dir = tempfile::tempdir().expect("tempdir");
    let results = run_session(dir.path(), &steps, &[]);
    let failures = check("README.md", &steps, &results);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Each step against what the page shows; the failures, described.
fn check(page: &str, steps: &[Step], results: &[(String, i32)]) -> Vec<String> {
    if results.len() != steps.len() {
        return vec![format!(
            "{page}: {} of {} steps ran: {results:#?}",
            results.len(),
            steps.len()
        )];
    }
    let mut failures = Vec::new();
    for (step, (output, code)) in steps.iter().zip(results) {
        let lines: Vec<&str> = output.lines().collect();
        let fails = step.expected.iter().any(|l| l.starts_with("error:"));
        // A command that prints its own status (`; echo "exit $?"`) ends well.
        let status_ok = step.command.contains("$?") || (*code != 0) == fails;
        if !status_ok || !matches(&step.expected, &lines) {
            failures.push(format!(
                "{page}:{}: `{}` exited {code} and printed:\n{output}\nthe page shows:\n{}",
                step.line,
                step.command,
                step.expected.join("\n")
            ));
        }
    }
    failures
}

#[test]
fn every_console_example_in_docs_runs_as_shown() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pages: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    let mut failures = Vec::new();
    let mut ran = 0;
    for page in &pages {
        let name = format!("docs/{}", page.file_name().expect("name").to_string_lossy());
        let text = std::fs::read_to_string(page).expect("page");
        for steps in blocks(&text) {
            let repo = if name == "docs/migrate.md" {
                // The migration page starts from a symlinked Helm values layout in helm/.
                let repo = crate::common::Repo::empty();
                crate::common::legacy_layout(repo.path());
                repo
            } else {
                let repo = crate::common::Repo::example();
                // The schemas a clone has (tenant add's `$schema` lines point there).
                crate::common::copy_dir(&root.join("schemas"), &repo.path().join("schemas"));
                repo
            };
            crate::common::git(repo.path(), &["init", "-q", "-b", "main"]);
            crate::common::git(repo.path(), &["add", "-A"]);
            crate::common::git(repo.path(), &["commit", "-qm", "example"]);
            let key = crate::common::demo_key();
            let results = run_session(repo.path(), &steps, &[("SOPS_AGE_KEY_FILE", &key)]);
            failures.extend(check(&name, &steps, &results));
            ran += steps.len();
        }
    }
    assert!(ran > 10, "the docs hold console examples");
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn the_matcher_takes_elisions_and_nothing_else() {
    let expected = |lines: &[&str]| lines.iter().map(|l| (*l).to_owned()).collect::<Vec<_>>();
    assert!(matches(
        &expected(&["a", "...", "d"]),
        &["a", "b", "c", "d"]
    ));
    assert!(matches(&expected(&["a", "...", "b"]), &["a", "b"]));
    assert!(!matches(&expected(&["a", "d"]), &["a", "b", "d"]));
    assert!(!matches(&expected(&["a"]), &["a", "b"]));
    assert!(line_matches("key age1[..]. Keep", "key age1xyz. Keep"));
    assert!(line_matches("[..] tail", "any tail"));
    assert!(!line_matches("key age1[..]. Keep", "key age1xyz! Keep"));
    assert!(!line_matches("exact", "exact plus"));
}
