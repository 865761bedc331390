//! `stencil policy list`: every guardrail with its id, what it requires and why, and the
//! exceptions the repository's `stencil.yaml` grants (when run inside a repository).

use std::process::ExitCode;

use serde::Serialize;

use crate::cli::{Global, ListFormat, PolicyCommand};
use crate::error::Result;
use crate::load::{Loader, load_settings};
use crate::model::Rule;
use crate::policy::{Granted, granted};
use crate::source::Worktree;

use super::{Outcome, find_root, write_stdout};

#[derive(Serialize)]
struct RuleRow {
    id: &'static str,
    requires: &'static str,
    rationale: &'static str,
    /// False for the rules no exception can relax (`Rule::fixed`).
    relaxable: bool,
    exceptions: Vec<Granted>,
}

pub fn run(global: &Global, command: &PolicyCommand) -> Outcome {
    let PolicyCommand::List(args) = command;
    let exceptions = exceptions(global)?;
    let rows: Vec<RuleRow> = Rule::ALL
        .iter()
        .map(|rule| RuleRow {
            id: rule.name(),
            requires: rule.summary(),
            rationale: rule.rationale(),
            relaxable: rule.fixed().is_none(),
            exceptions: exceptions
                .iter()
                .filter(|g| g.rule == rule.name())
                .cloned()
                .collect(),
        })
        .collect();
    let out = match args.output {
        ListFormat::Json => super::json_text(&rows)?,
        ListFormat::Table => {
            let width = rows.iter().map(|r| r.id.len()).max().unwrap_or(0);
            let mut out = String::new();
            for row in &rows {
                out.push_str(&format!("{:<width$}  {}\n", row.id, row.requires));
                out.push_str(&format!("{:<width$}  why: {}\n", "", row.rationale));
                if !row.relaxable {
                    out.push_str(&format!("{:<width$}  no exception can relax it\n", ""));
                }
                for g in &row.exceptions {
                    out.push_str(&format!("{:<width$}  relaxed: {g}\n", ""));
                }
            }
            out
        }
    };
    write_stdout(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// The exceptions of the repository, if the command runs in one.
fn exceptions(global: &Global) -> Result<Vec<Granted>> {
    let Ok(root) = find_root(global.repo.as_deref()) else {
        return Ok(Vec::new());
    };
    let source = Worktree::open(&root)?;
    let loader = Loader::new(&source);
    let (settings, node) = load_settings(&loader)?;
    Ok(granted(&settings, &node))
}
