//! `stencil validate`: every input file against its schema, every tenant rendered with every
//! guardrail; all problems listed at once, non-zero exit on any.

use std::process::ExitCode;

use crate::cli::{Global, ValidateArgs, ValidateFormat};
use crate::error::{Diagnostic, Error, Result};
use crate::load::{Loader, Role, load_repo_lenient};
use crate::pipeline::{Renderer, Selection};
use crate::secrets::Keys;
use crate::source::{EntryKind, RepoPath, Source, Worktree};

use super::{Context, EXIT_FOUND, Outcome, json_text, write_stdout};

pub fn run(global: &Global, args: &ValidateArgs, keys: &Keys) -> Outcome {
    let ctx = Context::open(global)?;
    let source = &ctx.source;
    let loader = ctx.loader();
    let mut problems: Vec<Error> = Vec::new();
    let mut report = Report::default();

    // Every service layer under base/, used by a tenant or not.
    if let Err(e) = check_base_files(&loader, source) {
        problems.push(e);
    }
    let (tenants, apps, objects) = match load_repo_lenient(&loader) {
        Err(e) => {
            problems.push(e);
            (0, 0, 0)
        }
        Ok((repo, repo_problems)) => {
            problems.extend(repo_problems);
            // Every relaxed guardrail is visible in every validate run, with its reason.
            report.relaxed = crate::policy::granted(&repo.settings, &repo.settings_node)
                .into_iter()
                .map(|g| g.to_string())
                .collect();
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
                report.warnings = passthrough(&r.passthrough(), args.strict, &mut problems);
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
    report.counts = (tenants, apps, objects);
    if let Some(err) = Error::collect(problems) {
        // Each problem once, even when several tenants share the file that causes it.
        let mut seen = std::collections::HashSet::new();
        for d in err.diagnostics() {
            let key = (
                d.message.clone(),
                d.origin.as_ref().map(ToString::to_string),
            );
            if seen.insert(key) {
                report.problems.push(d.clone());
            }
        }
    }
    let ok = report.problems.is_empty();
    match args.output {
        ValidateFormat::Text => report.text(),
        ValidateFormat::Json => write_stdout(&json_text(&report.json())?)?,
        ValidateFormat::Github => {
            write_stdout(&report.github())?;
            eprintln!("{}", report.summary());
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FOUND)
    })
}

/// What one validate run found, printed in the format asked for.
#[derive(Default)]
struct Report {
    /// Tenants, tenant services and objects rendered.
    counts: (usize, usize, usize),
    problems: Vec<Diagnostic>,
    /// Guardrails relaxed by stencil.yaml, each with its reason.
    relaxed: Vec<String>,
    /// Values not rendered (helmPassthrough) when they are not problems.
    warnings: Vec<Diagnostic>,
}

impl Report {
    fn summary(&self) -> String {
        let (tenants, apps, objects) = self.counts;
        if !self.problems.is_empty() {
            let count = self.problems.len();
            return format!("{count} problem{} found", if count == 1 { "" } else { "s" });
        }
        let note = match self.warnings.len() {
            0 => String::new(),
            n => format!(
                "; {n} value{} in helmPassthrough not rendered",
                if n == 1 { "" } else { "s" }
            ),
        };
        format!("ok: {tenants} tenants, {apps} tenant services, {objects} objects{note}")
    }

    /// Text on stderr: relaxed guardrails, warnings, each problem rendered, the summary.
    fn text(&self) {
        for granted in &self.relaxed {
            eprintln!("relaxed: {granted}");
        }
        for warning in &self.warnings {
            let hint = warning.hint.as_deref().unwrap_or_default();
            eprintln!("{}; {hint}", warning.message);
        }
        for problem in &self.problems {
            eprintln!("{}", problem.render());
        }
        eprintln!("{}", self.summary());
    }

    fn json(&self) -> serde_json::Value {
        let (tenants, apps, objects) = self.counts;
        let all = |ds: &[Diagnostic]| ds.iter().map(Diagnostic::to_json).collect::<Vec<_>>();
        serde_json::json!({
            "ok": self.problems.is_empty(),
            "tenants": tenants,
            "apps": apps,
            "objects": objects,
            "problems": all(&self.problems),
            "warnings": all(&self.warnings),
            "relaxed": self.relaxed,
        })
    }

    /// GitHub Actions workflow commands: one `::error` per problem and one `::warning` per
    /// warning, at its file and line when it has one.
    fn github(&self) -> String {
        let mut out = String::new();
        let levels = [("error", &self.problems), ("warning", &self.warnings)];
        for (level, diagnostics) in levels {
            for d in diagnostics {
                out.push_str(&annotation(level, d));
            }
        }
        for granted in &self.relaxed {
            out.push_str(&format!(
                "::notice title=stencil: relaxed::{}\n",
                escape_data(granted)
            ));
        }
        out
    }
}

fn annotation(level: &str, d: &Diagnostic) -> String {
    let mut properties = Vec::new();
    if let Some(origin) = &d.origin {
        properties.push(format!("file={}", escape_property(origin.path())));
        properties.push(format!("line={}", origin.line));
        properties.push(format!("col={}", origin.col));
    }
    let title = match d.rule {
        Some(rule) => format!("stencil ({rule})"),
        None => "stencil".to_owned(),
    };
    properties.push(format!("title={}", escape_property(&title)));
    let mut message = d.message.clone();
    for note in &d.notes {
        message.push_str(&format!("\nnote: {note}"));
    }
    if let Some(hint) = &d.hint {
        message.push_str(&format!("\nhint: {hint}"));
    }
    format!(
        "::{level} {}::{}\n",
        properties.join(","),
        escape_data(&message)
    )
}

/// The escapes GitHub's runner undoes in a workflow command's message.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// The escapes in a property value: the message's, and `:` and `,`, which end a value.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// Values `stencil migrate` could not map stay under `helmPassthrough`, where nothing
/// renders them: each is named once with where it is; under `--strict` each is a problem,
/// else a warning (returned).
fn passthrough(
    values: &[(String, String)],
    strict: bool,
    problems: &mut Vec<Error>,
) -> Vec<Diagnostic> {
    let mut warnings = Vec::new();
    for (path, at) in values {
        let text = format!("not rendered: {path} at {at}: nothing renders helmPassthrough");
        let d = Diagnostic::new(text)
            .hint("move it to the service model (docs/migrate.md) or remove it");
        if strict {
            problems.push(Error::from(d));
        } else {
            warnings.push(d);
        }
    }
    warnings
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_command_escapes_follow_the_runner() {
        assert_eq!(escape_data("100% done\r\nnext"), "100%25 done%0D%0Anext");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
        let d = Diagnostic::new("one\ntwo").hint("h");
        assert_eq!(
            annotation("warning", &d),
            "::warning title=stencil::one%0Atwo%0Ahint: h\n"
        );
    }

    /// What the runner does to a workflow command's data (GitHub's `unescapeData`/`unescapeProperty`).
    fn unescape(text: &str) -> String {
        text.replace("%2C", ",")
            .replace("%3A", ":")
            .replace("%0A", "\n")
            .replace("%0D", "\r")
            .replace("%25", "%")
    }

    proptest::proptest! {
        /// Whatever a message or path holds (tenant text among it): one line, nothing that
        /// ends a property early, and the runner reads back exactly the text.
        #[test]
        fn any_text_survives_the_workflow_command_escapes(text in proptest::prelude::any::<String>()) {
            let data = escape_data(&text);
            proptest::prop_assert!(!data.contains('\n') && !data.contains('\r'));
            proptest::prop_assert_eq!(unescape(&data), text.clone());
            let property = escape_property(&text);
            proptest::prop_assert!(!property.contains([',', ':', '\n', '\r']));
            proptest::prop_assert_eq!(unescape(&property), text);
        }
    }
}
