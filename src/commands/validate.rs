//! `stencil validate`: every input file against its schema, every tenant rendered with every
//! guardrail; all problems listed at once, non-zero exit on any.

use std::process::ExitCode;

use crate::cli::{Global, ValidateArgs};
use crate::error::{Error, Result};
use crate::load::{Loader, Role, load_repo_lenient};
use crate::pipeline::{Renderer, Selection};
use crate::secrets::Keys;
use crate::source::{EntryKind, RepoPath, Source, Worktree};

use super::{Context, EXIT_FOUND, Outcome};

pub fn run(global: &Global, args: &ValidateArgs, keys: &Keys) -> Outcome {
    let ctx = Context::open(global)?;
    let source = &ctx.source;
    let loader = ctx.loader();
    let mut problems: Vec<Error> = Vec::new();

    // Every service layer under base/, used by a tenant or not.
    if let Err(e) = check_base_files(&loader, source) {
        problems.push(e);
    }
    let mut unrendered = 0;
    let (tenants, apps, objects) = match load_repo_lenient(&loader) {
        Err(e) => {
            problems.push(e);
            (0, 0, 0)
        }
        Ok((repo, repo_problems)) => {
            problems.extend(repo_problems);
            // Every relaxed guardrail is visible in every validate run, with its reason.
            for granted in crate::policy::granted(&repo.settings, &repo.settings_node) {
                eprintln!("relaxed: {granted}");
            }
            let selection = Selection::new(
                &args.filter.tenants,
                &args.filter.services,
                args.filter.environment.clone(),
            )?;
            selection.check(&[&repo])?;
            let apps = selection.apps(&repo).len();
            // Objects are counted batch by batch and dropped: memory stays flat however
            // many tenants there are (validate prints no object).
            let mut count = 0;
            let rendered = Renderer::new(&loader, &repo, keys).and_then(|r| {
                r.render_each(&selection, |objects| {
                    count += objects.len();
                    Ok(())
                })?;
                unrendered = report_passthrough(&r.passthrough(), args.strict, &mut problems);
                Ok(())
            });
            match rendered {
                Ok(()) => (repo.tenants.len(), apps, count),
                Err(e) => {
                    problems.push(e);
                    (repo.tenants.len(), apps, 0)
                }
            }
        }
    };
    match Error::collect(problems) {
        Some(err) => {
            // Each problem once, even when several tenants share the file that causes it.
            let mut seen = std::collections::HashSet::new();
            let mut count = 0;
            for d in err.diagnostics() {
                let key = (
                    d.message.clone(),
                    d.origin.as_ref().map(ToString::to_string),
                );
                if seen.insert(key) {
                    eprintln!("{}", d.render());
                    count += 1;
                }
            }
            eprintln!("{count} problem{} found", if count == 1 { "" } else { "s" });
            Ok(ExitCode::from(EXIT_FOUND))
        }
        None => {
            let note = match unrendered {
                0 => String::new(),
                n => format!(
                    "; {n} value{} in helmPassthrough not rendered",
                    if n == 1 { "" } else { "s" }
                ),
            };
            eprintln!("ok: {tenants} tenants, {apps} tenant services, {objects} objects{note}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Values `stencil migrate` could not map stay under `helmPassthrough`, where nothing
/// renders them: each is named once with where it is; under `--strict` each is a problem.
/// Returns how many.
fn report_passthrough(
    values: &[(String, String)],
    strict: bool,
    problems: &mut Vec<Error>,
) -> usize {
    for (path, at) in values {
        let text = format!("not rendered: {path} at {at}: nothing renders helmPassthrough");
        let hint = "move it to the service model (docs/migrate.md) or remove it";
        if strict {
            problems.push(Error::from(crate::error::Diagnostic::new(text).hint(hint)));
        } else {
            eprintln!("{text}; {hint}");
        }
    }
    values.len()
}

fn check_base_files(loader: &Loader<'_>, source: &Worktree) -> Result<()> {
    let base = RepoPath::parse("base").map_err(crate::error::Diagnostic::new)?;
    let mut problems = Vec::new();
    for (service, kind) in source.list(&base)? {
        if kind != EntryKind::Dir {
            continue;
        }
        let dir = base.join(&service);
        for (file, kind) in source.list(&dir)? {
            if kind != EntryKind::File || !(file.ends_with(".yaml") || file.ends_with(".yml")) {
                continue;
            }
            let role = if file == "version.yaml" {
                Role::Version
            } else {
                Role::ServiceLayer
            };
            if let Err(e) = loader.load(&dir.join(&file), role) {
                problems.push(e);
            }
        }
    }
    Error::unless(problems, ())
}
