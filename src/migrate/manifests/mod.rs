//! `migrate --check --chart DIR`: every tenant of the old layout rendered by the real
//! `helm template` with its values files, against stencil's render of the migrated layout,
//! object by object and field by field (`facts.rs`). What stencil adds or replaces on
//! purpose (hardening, labels, checksums, defaults: `classify.rs`) is listed apart from what
//! the migration lost or changed; any loss, change or unexplained addition fails the check.

mod classify;
mod facts;
mod helm;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

use super::check::CheckReport;
use super::old::{Old, OldApp};
use crate::error::{Diagnostic, Result};
use crate::load::{Loader, load_repo};
use crate::pipeline::Renderer;
use crate::secrets::Keys;
use crate::source::Worktree;
use classify::{Side, explain};

/// What one app's comparison found.
#[derive(Default)]
struct Outcome {
    same: usize,
    /// (category, why) -> `Kind/name path` explained.
    on_purpose: BTreeMap<(&'static str, &'static str), BTreeSet<String>>,
    /// `Kind/name path: what` not explained.
    lost: Vec<String>,
}

/// Compares every app of `old` rendered by `helm template <chart>` with the new layout at `to`.
pub(crate) fn check(old: &Old, to: &Path, chart: &Path, keys: &Keys) -> Result<CheckReport> {
    let source = Worktree::open(to)?;
    let loader = Loader::new(&source);
    let repo = load_repo(&loader)?;
    let renderer = Renderer::new(&loader, &repo, keys)?;
    let helm = helm::binary();
    let mut text = String::new();
    let mut all_purpose: BTreeMap<(&str, &str), BTreeSet<String>> = BTreeMap::new();
    let mut lost = Vec::new();
    for app in &old.apps {
        let theirs = helm::template(&helm, chart, &app.service, &values_files(old, app))?;
        let tenant = repo.tenant(&app.tenant).ok_or_else(|| {
            Diagnostic::new(format!("no tenant {} in {}", app.tenant, to.display()))
        })?;
        let ours: Vec<Value> = renderer
            .render_app(tenant, &app.service)?
            .into_iter()
            .map(|o| o.value)
            .collect();
        let outcome = compare(&facts::facts(&theirs), &facts::facts(&ours));
        let purposeful: usize = outcome.on_purpose.values().map(BTreeSet::len).sum();
        let _ = writeln!(
            text,
            "{}/{}: {} the same, {} on purpose, {} lost or changed",
            app.tenant,
            app.service,
            outcome.same,
            purposeful,
            outcome.lost.len()
        );
        for (reason, facts) in outcome.on_purpose {
            all_purpose.entry(reason).or_default().extend(facts);
        }
        lost.extend(
            outcome
                .lost
                .into_iter()
                .map(|l| format!("{}/{}: {l}", app.tenant, app.service)),
        );
    }
    report(&mut text, &all_purpose, &lost);
    Ok(CheckReport {
        text,
        differences: lost.len(),
    })
}

/// The app's values files as Helm takes them: values.yaml, env.yaml, version.yaml.
fn values_files(old: &Old, app: &OldApp) -> Vec<std::path::PathBuf> {
    ["values.yaml", "env.yaml", "version.yaml"]
        .iter()
        .map(|f| old.root.join(&app.dir).join(f))
        .filter(|p| p.exists())
        .collect()
}

fn compare(theirs: &facts::Facts, ours: &facts::Facts) -> Outcome {
    let mut outcome = Outcome::default();
    let keys: BTreeSet<&String> = theirs.keys().chain(ours.keys()).collect();
    for key in keys {
        let (object, path) = key.split_once(' ').unwrap_or((key, ""));
        let kind = object.split('/').next().unwrap_or_default();
        let (side, value, what) = match (theirs.get(key), ours.get(key)) {
            (Some(a), Some(b)) if a == b => {
                outcome.same += 1;
                continue;
            }
            (Some(a), Some(b)) => (Side::Changed, a, format!("{a} -> {b}")),
            (Some(a), None) => (Side::Helm, a, format!("{a} (only in Helm's render)")),
            (None, Some(b)) => (Side::Stencil, b, format!("{b} (only in stencil's render)")),
            (None, None) => continue,
        };
        match explain(kind, path, side, value) {
            Some(reason) => {
                let label = match side {
                    Side::Helm => "replaced",
                    Side::Changed => "changed",
                    Side::Stencil => "added",
                };
                outcome
                    .on_purpose
                    .entry((reason.category, reason.why))
                    .or_default()
                    .insert(format!("{label} {object} {}", generalize(path)));
            }
            None => outcome.lost.push(format!("{key}: {what}")),
        }
    }
    outcome
}

/// A path with what differs between tenants left out: the fact's shape, for the report.
fn generalize(path: &str) -> String {
    path.to_owned()
}

fn report(
    text: &mut String,
    on_purpose: &BTreeMap<(&str, &str), BTreeSet<String>>,
    lost: &[String],
) {
    let _ = writeln!(
        text,
        "\nadded on purpose (stencil's guardrails and defaults, every tenant):"
    );
    for ((category, why), facts) in on_purpose {
        let _ = writeln!(text, "  {category}: {why}");
        for fact in facts {
            let _ = writeln!(text, "    {fact}");
        }
    }
    let _ = writeln!(text, "\nlost or changed by the migration:");
    if lost.is_empty() {
        let _ = writeln!(text, "  nothing");
    }
    for l in lost {
        let _ = writeln!(text, "  {l}");
    }
}
