//! `stencil diff`: what a change does to every tenant, object by object, as a terminal diff,
//! a PR comment (markdown) or JSON. Secret values (and `sensitiveEnv` values) appear only as
//! fingerprints keyed per run. The summary line always comes last.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::IsTerminal as _;
use std::process::ExitCode;

use similar::TextDiff;

use super::compare::{self, Comparison};
use super::{EXIT_FOUND, Outcome, write_stdout};
use crate::cli::{Color, DiffArgs, DiffFormat, Global};
use crate::compare::{AppChange, ObjectChange, Status};
use crate::secrets::Keys;

/// A PR comment stays under GitHub's 65,536-character limit.
const MAX_MARKDOWN: usize = 60_000;

const SEALED_NOTE: &str = "Secrets were compared by ciphertext: no key could decrypt them, so a value that was re-encrypted unchanged also shows as changed. Set SOPS_AGE_KEY_FILE to compare values.";

pub fn run(global: &Global, args: &DiffArgs, keys: &Keys) -> Outcome {
    let comparison = compare::run(global, &args.range, keys)?;
    let summary = Summary::of(&comparison.changes);
    let text = match args.format {
        DiffFormat::Text => text(&comparison, &summary, color(args.color)),
        DiffFormat::Markdown => markdown(&comparison, &summary, args.max_lines),
        DiffFormat::Json => {
            // The summary line goes to stderr, so stdout stays one JSON document.
            eprintln!("{}", summary.line());
            json(&comparison, &summary)?
        }
    };
    write_stdout(&text)?;
    if args.exit_code && !comparison.changes.is_empty() {
        return Ok(ExitCode::from(EXIT_FOUND));
    }
    Ok(ExitCode::SUCCESS)
}

fn color(choice: Color) -> bool {
    match choice {
        Color::Always => true,
        Color::Never => false,
        // NO_COLOR (no-color.org) and TERM=dumb (a terminal that shows escapes as text).
        Color::Auto => {
            std::env::var_os("NO_COLOR").is_none()
                && std::env::var("TERM").map_or(true, |t| t != "dumb")
                && std::io::stdout().is_terminal()
        }
    }
}

/// Counts of tenants, apps and objects by status.
#[derive(Debug, Default)]
struct Summary {
    tenants: BTreeMap<String, Status>,
    apps: [usize; 3],
    objects: [usize; 3],
}

fn index(status: Status) -> usize {
    match status {
        Status::Added => 0,
        Status::Changed => 1,
        Status::Removed => 2,
    }
}

impl Summary {
    fn of(changes: &[AppChange]) -> Summary {
        let mut summary = Summary::default();
        for change in changes {
            summary.apps[index(change.status)] += 1;
            for object in &change.objects {
                summary.objects[index(object.status())] += 1;
            }
            // A tenant is added (removed) when everything of it that changed was added
            // (removed); otherwise it changed.
            summary
                .tenants
                .entry(change.app.tenant.clone())
                .and_modify(|s| {
                    if *s != change.status {
                        *s = Status::Changed;
                    }
                })
                .or_insert(change.status);
        }
        summary
    }

    fn tenants(&self, status: Status) -> usize {
        self.tenants.values().filter(|s| **s == status).count()
    }

    fn line(&self) -> String {
        let apps: usize = self.apps.iter().sum();
        format!(
            "{apps} app{} changed ({} object{} added, {} changed, {} removed) across {} tenant{}",
            if apps == 1 { "" } else { "s" },
            self.objects[0],
            if self.objects[0] == 1 { "" } else { "s" },
            self.objects[1],
            self.objects[2],
            self.tenants.len(),
            if self.tenants.len() == 1 { "" } else { "s" },
        )
    }
}

fn unified(object: &ObjectChange) -> String {
    let before = object.before.as_deref().unwrap_or("");
    let after = object.after.as_deref().unwrap_or("");
    let name = object.describe();
    let old = if object.before.is_some() {
        format!("a/{name}")
    } else {
        "/dev/null".into()
    };
    let new = if object.after.is_some() {
        format!("b/{name}")
    } else {
        "/dev/null".into()
    };
    TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(&old, &new)
        .to_string()
}

fn paint(diff: &str) -> String {
    let mut out = String::with_capacity(diff.len() + diff.len() / 4);
    for line in diff.lines() {
        let code = if line.starts_with("+++") || line.starts_with("---") {
            "1"
        } else if line.starts_with("@@") {
            "36"
        } else if line.starts_with('+') {
            "32"
        } else if line.starts_with('-') {
            "31"
        } else {
            ""
        };
        if code.is_empty() {
            let _ = writeln!(out, "{line}");
        } else {
            let _ = writeln!(out, "\x1b[{code}m{line}\x1b[0m");
        }
    }
    out
}

fn objects_note(change: &AppChange) -> String {
    let mut counts = [0usize; 3];
    for object in &change.objects {
        counts[index(object.status())] += 1;
    }
    let parts: Vec<String> = [Status::Added, Status::Changed, Status::Removed]
        .iter()
        .filter(|s| counts[index(**s)] > 0)
        .map(|s| format!("{} {}", counts[index(*s)], s.name()))
        .collect();
    parts.join(", ")
}

fn text(comparison: &Comparison, summary: &Summary, color: bool) -> String {
    let mut out = String::new();
    for change in &comparison.changes {
        let header = format!(
            "== {} ({}: {})",
            change.app,
            change.status.name(),
            objects_note(change)
        );
        if color {
            let _ = writeln!(out, "\x1b[1m{header}\x1b[0m");
        } else {
            let _ = writeln!(out, "{header}");
        }
        for object in &change.objects {
            let diff = unified(object);
            if color {
                out.push_str(&paint(&diff));
            } else {
                out.push_str(&diff);
            }
        }
        out.push('\n');
    }
    if comparison.sealed {
        let _ = writeln!(out, "note: {SEALED_NOTE}");
    }
    let _ = writeln!(out, "{}", summary.line());
    out
}

/// A code fence longer than any run of backticks in `text`.
fn fence(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat((longest + 1).max(3))
}

fn markdown(comparison: &Comparison, summary: &Summary, max_lines: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### stencil diff\n");
    let _ = writeln!(out, "`{}` → `{}`\n", comparison.from, comparison.to);
    if comparison.changes.is_empty() {
        let _ = writeln!(out, "No rendered manifest changes.\n");
    } else {
        let _ = writeln!(out, "| | tenants | apps | objects |");
        let _ = writeln!(out, "|:--|--:|--:|--:|");
        for status in [Status::Added, Status::Changed, Status::Removed] {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                status.name(),
                summary.tenants(status),
                summary.apps[index(status)],
                summary.objects[index(status)]
            );
        }
        out.push('\n');
    }
    if comparison.sealed {
        let _ = writeln!(out, "> {SEALED_NOTE}\n");
    }
    let mut left_out = Vec::new();
    for change in &comparison.changes {
        if out.len() > MAX_MARKDOWN {
            left_out.push(change);
            continue;
        }
        let mut diff: String = change.objects.iter().map(unified).collect();
        let lines = diff.lines().count();
        if lines > max_lines {
            diff = diff.lines().take(max_lines).collect::<Vec<_>>().join("\n");
            let _ = write!(
                diff,
                "\n… {} more lines not shown: run `stencil diff --tenant {}{}` to see them\n",
                lines - max_lines,
                change.app.tenant,
                change
                    .app
                    .service
                    .as_deref()
                    .map(|s| format!(" --service {s}"))
                    .unwrap_or_default()
            );
        }
        let fence = fence(&diff);
        let _ = writeln!(
            out,
            "<details>\n<summary><code>{}</code> {}: {}</summary>\n\n{fence}diff\n{}{}{fence}\n\n</details>\n",
            change.app,
            change.status.name(),
            objects_note(change),
            diff,
            if diff.ends_with('\n') { "" } else { "\n" },
        );
    }
    if !left_out.is_empty() {
        let _ = writeln!(
            out,
            "{} more apps not shown in full (the comment would be too long):\n",
            left_out.len()
        );
        for change in left_out {
            let _ = writeln!(
                out,
                "- `{}` {}: {}",
                change.app,
                change.status.name(),
                objects_note(change)
            );
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{}", summary.line());
    out
}

fn json(comparison: &Comparison, summary: &Summary) -> crate::error::Result<String> {
    let apps: Vec<serde_json::Value> = comparison
        .changes
        .iter()
        .map(|change| {
            serde_json::json!({
                "tenant": change.app.tenant,
                "service": change.app.service,
                "status": change.status.name(),
                "objects": change.objects.iter().map(|o| serde_json::json!({
                    "apiVersion": o.api_version,
                    "kind": o.kind,
                    "namespace": o.namespace,
                    "name": o.name,
                    "status": o.status().name(),
                    "diff": unified(o),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let count = |status: Status| {
        serde_json::json!({
            "tenants": summary.tenants(status),
            "apps": summary.apps[index(status)],
            "objects": summary.objects[index(status)],
        })
    };
    let doc = serde_json::json!({
        "from": comparison.from,
        "to": comparison.to,
        "secretsComparedByCiphertext": comparison.sealed,
        "summary": {
            "line": summary.line(),
            "added": count(Status::Added),
            "changed": count(Status::Changed),
            "removed": count(Status::Removed),
        },
        "apps": apps,
    });
    super::json_text(&doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_outgrow_backticks_in_the_content() {
        assert_eq!(fence("plain"), "```");
        assert_eq!(fence("a ```` b"), "`````");
    }
}
