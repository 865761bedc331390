//! `stencil affected`: the apps whose rendered output differs between two revisions, for a CI
//! matrix or `argocd app sync`. Apps none of whose inputs changed are skipped without
//! rendering; the others are rendered on both sides and compared, so the list is exact.

use std::fmt::Write as _;
use std::process::ExitCode;

use super::compare;
use super::{Outcome, write_stdout};
use crate::cli::{AffectedArgs, AffectedOutput, Global};
use crate::secrets::Keys;

pub fn run(global: &Global, args: &AffectedArgs, keys: &Keys) -> Outcome {
    let comparison = compare::run(global, &args.range, keys)?;
    let text = match args.output {
        AffectedOutput::Text => {
            let mut out = String::new();
            for change in &comparison.changes {
                let _ = match &change.app.service {
                    Some(service) => writeln!(out, "{}/{service}", change.app.tenant),
                    None => writeln!(out, "{}", change.app.tenant),
                };
            }
            out
        }
        AffectedOutput::Json => {
            let apps: Vec<serde_json::Value> = comparison
                .changes
                .iter()
                .map(|change| {
                    let application = match &change.app.service {
                        Some(s) => format!("{}-{s}", change.app.tenant),
                        None => format!("{}-workspace", change.app.tenant),
                    };
                    serde_json::json!({
                        "tenant": change.app.tenant,
                        "service": change.app.service,
                        "application": application,
                        "status": change.status.name(),
                    })
                })
                .collect();
            super::json_text(&apps)?
        }
    };
    write_stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}
