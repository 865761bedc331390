//! Fitness tests for the code's shape, read from `src/` as text.
//!
//! - Data flows one way: every top-level module of the library sits in one layer of
//!   [`LAYERS`], and product code (not `#[cfg(test)]` code) may name `crate::m` only for a
//!   module `m` of a lower layer. A module missing from the list fails the test, so a new
//!   module must be placed.
//! - Small functions: none in `src/` over [`MAX_FN_LINES`] lines, none in `src/policy/`
//!   over [`MAX_POLICY_FN_LINES`] (the policy is a list of small rules).
//!
//! Both read rustfmt-formatted code: an item ends at the line holding its closing brace at
//! the item's own indentation.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The layers, lowest first. Modules in one row are peers and may not import each other.
const LAYERS: &[&[&str]] = &[
    &["origin"],
    &["names"],
    &["node"],
    &["error"],
    &["model"],
    &["budget"],
    &["yaml"],
    &["object"],
    &["source"],
    &["load"],
    &["resolve"],
    &["template"],
    &["secrets"],
    &["policy"],
    &["build"],
    &["emit"],
    &["pipeline"],
    &["compare", "bump", "migrate", "argocd"],
    &["cli"],
    &["commands"],
];

const MAX_FN_LINES: usize = 100;
const MAX_POLICY_FN_LINES: usize = 80;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`src/load/parse.rs` -> `load`); `None` for the
/// crate roots.
fn top_module(path: &Path) -> Option<String> {
    let rel = path.strip_prefix(src()).unwrap();
    let first = rel.components().next()?.as_os_str().to_str()?.to_owned();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_owned();
    (!matches!(name.as_str(), "lib" | "main")).then_some(name)
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|row| row.contains(&module))
}

/// The text of a file without its `#[cfg(test)]` items (a test may build its inputs with
/// any module).
fn product_code(text: &str) -> String {
    let mut out = String::new();
    let mut skip_until: Option<String> = None;
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if let Some(end) = &skip_until {
            if line == end {
                skip_until = None;
            }
            continue;
        }
        if line.trim_start() == "#[cfg(test)]" {
            let indent = &line[..line.len() - line.trim_start().len()];
            if lines
                .peek()
                .is_some_and(|next| next.trim_end().ends_with('{'))
            {
                skip_until = Some(format!("{indent}}}"));
            } else {
                lines.next();
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Every top-level module named after `crate::` in `code`, including the members of
/// `use crate::{a, b::c}` groups.
fn crate_references(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let code: String = code
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            found.extend(group_members(group));
        } else {
            let ident: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.insert(ident);
        }
    }
    found
}

/// The first path segment of each member of a brace group (the text after `{`).
fn group_members(group: &str) -> Vec<String> {
    let mut members = Vec::new();
    let mut depth = 1;
    let mut at_member_start = true;
    let mut ident = String::new();
    for c in group.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 1 => at_member_start = true,
            _ => {}
        }
        if depth == 0 {
            break;
        }
        if depth == 1 && at_member_start {
            if c.is_alphanumeric() || c == '_' {
                ident.push(c);
                continue;
            }
            if !ident.is_empty() {
                members.push(std::mem::take(&mut ident));
                at_member_start = false;
            }
        }
    }
    if !ident.is_empty() {
        members.push(ident);
    }
    members
}

/// Each `crate::m` a file names for a module of its own layer or a higher one.
fn upward_imports(path: &Path, module: &str, text: &str) -> Vec<String> {
    let Some(own) = layer_of(module) else {
        return vec![format!(
            "{}: module `{module}` is in no layer",
            path.display()
        )];
    };
    crate_references(&product_code(text))
        .into_iter()
        .filter(|used| used != module && !matches!(used.as_str(), "self" | "super" | ""))
        .filter(|used| layer_of(used).is_none_or(|layer| layer >= own))
        .map(|used| format!("{}: `{module}` imports `crate::{used}`", path.display()))
        .collect()
}

/// The files of modules declared `#[cfg(test)] mod name;`: test code, like a test module.
fn test_only_files(files: &[PathBuf]) -> BTreeSet<PathBuf> {
    let mut found = BTreeSet::new();
    for path in files {
        let text = std::fs::read_to_string(path).unwrap();
        let dir = match path.file_name().and_then(|n| n.to_str()) {
            Some("mod.rs" | "lib.rs" | "main.rs") => path.parent().unwrap().to_path_buf(),
            _ => path.with_extension(""),
        };
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if line.trim() != "#[cfg(test)]" {
                continue;
            }
            let Some(next) = lines.next() else { break };
            let words: Vec<&str> = next.split_whitespace().collect();
            if let Some(name) = words
                .iter()
                .position(|w| *w == "mod")
                .and_then(|at| words.get(at + 1))
                .and_then(|name| name.strip_suffix(';'))
            {
                found.insert(dir.join(format!("{name}.rs")));
                found.insert(dir.join(name).join("mod.rs"));
            }
        }
    }
    found
}

#[test]
fn modules_import_only_from_lower_layers() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let tests = test_only_files(&files);
    let mut violations = Vec::new();
    for path in &files {
        let Some(module) = top_module(path) else {
            continue;
        };
        if tests.contains(path) {
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap();
        violations.extend(upward_imports(path, &module, &text));
    }
    assert!(
        violations.is_empty(),
        "imports against the layer order (lowest first: {LAYERS:?}):\n{}",
        violations.join("\n")
    );
}

/// (first line, length in lines, name) of every function in a file.
fn functions(text: &str) -> Vec<(usize, usize, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (start, line) in lines.iter().enumerate() {
        let Some(name) = fn_name(line) else { continue };
        let indent = line.len() - line.trim_start().len();
        let Some(open) = (start..lines.len()).find(|&i| {
            let l = lines[i].trim_end();
            l.ends_with('{') || l.ends_with(';')
        }) else {
            continue;
        };
        if lines[open].trim_end().ends_with(';') {
            continue;
        }
        let closing = format!("{}}}", " ".repeat(indent));
        if let Some(end) = (open..lines.len()).find(|&i| lines[i] == closing) {
            found.push((start + 1, end - start + 1, name));
        }
    }
    found
}

/// The name of a function declared on this line, if one is.
fn fn_name(line: &str) -> Option<String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "fn")?;
    let before_ok = words[..at].iter().all(|w| {
        w.starts_with("pub")
            || matches!(*w, "const" | "async" | "unsafe" | "extern" | "\"C\"")
            || w.starts_with("#[")
    });
    let name: String = words
        .get(at + 1)?
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (before_ok && !name.is_empty()).then_some(name)
}

#[test]
fn functions_are_small() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut long = Vec::new();
    for path in &files {
        let in_policy = path.starts_with(src().join("policy"));
        let limit = if in_policy {
            MAX_POLICY_FN_LINES
        } else {
            MAX_FN_LINES
        };
        let text = std::fs::read_to_string(path).unwrap();
        for (line, len, name) in functions(&text) {
            if len > limit {
                long.push(format!(
                    "{}:{line}: fn {name} is {len} lines (limit {limit})",
                    path.display()
                ));
            }
        }
    }
    assert!(
        long.is_empty(),
        "functions over the limit:\n{}",
        long.join("\n")
    );
}

#[test]
fn the_checks_see_what_they_must() {
    // The readers themselves, on known text: an upward import, a grouped import, a test
    // module that is skipped, and a long function.
    let code = "use crate::{node::Node, build::{Object, x}};\nfn f() {\n    crate::emit::go();\n}\n#[cfg(test)]\nmod tests {\n    use crate::commands;\n}\n";
    let refs = crate_references(&product_code(code));
    assert_eq!(
        refs.into_iter().collect::<Vec<_>>(),
        ["build", "emit", "node"]
    );
    let upward = upward_imports(Path::new("src/load/x.rs"), "load", code);
    assert_eq!(upward.len(), 2, "{upward:?}");
    let long = format!("pub(crate) fn big() {{\n{}}}\n", "    x();\n".repeat(120));
    assert_eq!(functions(&long), [(1, 122, "big".to_owned())]);
}
