//! `stencil migrate --from DIR [--to DIR]`: converts the symlinked "universal Helm chart"
//! values layout to stencil's (the work is in [`crate::migrate`]); `--check` proves that every
//! tenant resolves to the values it had. This command reads the arguments, refuses to
//! overwrite without `--force`, writes the plan's files and prints.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use super::{EXIT_FOUND, Outcome, write_atomic, write_stdout};
use crate::cli::{Global, MigrateArgs};
use crate::error::{Diagnostic, Result};
use crate::migrate::{self, Options};
use crate::secrets::Keys;

pub fn run(_global: &Global, args: &MigrateArgs, keys: &Keys) -> Outcome {
    let options = Options {
        from: args.from.clone(),
        service: args.service.clone(),
        name: args.name.clone(),
    };
    let old = migrate::Old::read(&options)?;
    if args.check {
        let report = match &args.chart {
            Some(chart) => migrate::check_chart(&old, &args.to, chart, keys)?,
            None => migrate::check(&old, &args.to)?,
        };
        write_stdout(&report.text)?;
        return Ok(if report.differences == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(EXIT_FOUND)
        });
    }
    let plan = migrate::plan(&old, &options)?;
    let existing: Vec<String> = plan
        .files
        .iter()
        .filter(|(p, _)| args.to.join(p).exists())
        .map(|(p, _)| p.display().to_string())
        .collect();
    if args.dry_run {
        let mut out = String::new();
        for (path, _) in &plan.files {
            let note = if existing.contains(&path.display().to_string()) {
                " (exists)"
            } else {
                ""
            };
            let _ = writeln!(out, "would write {}{note}", args.to.join(path).display());
        }
        let _ = writeln!(out, "would update {}", args.to.join("schemas").display());
        out.push_str(&plan.report);
        write_stdout(&out)?;
        return Ok(ExitCode::SUCCESS);
    }
    if !existing.is_empty() && !args.force {
        return Err(Diagnostic::new(format!(
            "{} of the files to write exist in {}: {}",
            existing.len(),
            args.to.display(),
            existing.join(", ")
        ))
        .hint("migrate into a new folder, or pass --force to overwrite them")
        .into());
    }
    for (path, bytes) in &plan.files {
        write_bytes(&args.to.join(path), bytes)?;
    }
    // The `$schema` lines of the files written point here.
    let schemas = super::schemas::update(&args.to.join("schemas"))?;
    eprint!("{}", plan.report);
    eprintln!(
        "wrote {} files to {}; prove it with `stencil migrate --from {} --to {} --check`",
        plan.files.len() + schemas.len(),
        args.to.display(),
        args.from.display(),
        args.to.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    match std::str::from_utf8(bytes) {
        Ok(text) => write_atomic(path, text),
        Err(_) => Err(Diagnostic::new(format!("{} is not UTF-8", path.display())).into()),
    }
}
