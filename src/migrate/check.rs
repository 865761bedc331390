//! `--check`: every tenant of the old layout against the resolved values of the new one.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Map, Value};

use super::charts::map_values;
use super::old::Old;
use crate::error::{Diagnostic, Result};
use crate::load::{Loader, de, load_repo};
use crate::model::ServiceSpec;
use crate::resolve;
use crate::source::Worktree;

/// `--check`: every tenant of the old layout against the resolved values of the new one.
/// The table `--check` prints, and how many tenant services differ.
#[derive(Debug)]
pub(crate) struct CheckReport {
    pub text: String,
    pub differences: usize,
}

/// Every tenant of the old layout against the resolved values of the new one at `to`.
pub(crate) fn check(old: &Old, to: &Path) -> Result<CheckReport> {
    let source = Worktree::open(to)?;
    let loader = Loader::new(&source);
    let repo = load_repo(&loader)?;
    let chains = resolve::ChainCache::default();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<24} {:<12} {:<24} result",
        "tenant", "environment", "service"
    );
    let mut differences = 0;
    for app in &old.apps {
        let expected: Result<ServiceSpec> = serde_json::from_value(Value::Object(without_meta(
            map_values(&old.effective(app)?, old.flavor).service,
        )))
        .map_err(|e| {
            Diagnostic::new(format!(
                "{}: the old values do not fit the service model: {e}",
                app.dir
            ))
            .into()
        });
        let actual: Result<ServiceSpec> = match repo.tenant(&app.tenant) {
            None => {
                Err(Diagnostic::new(format!("no tenant {} in {}", app.tenant, to.display())).into())
            }
            Some(tenant) => {
                resolve::resolve(&loader, &chains, tenant, &app.service).and_then(|r| {
                    de::from_node::<ServiceSpec>(&r.tree)
                        .map_err(|e| e.into_diagnostic("invalid service definition").into())
                })
            }
        };
        let result = match (expected, actual) {
            (Ok(a), Ok(b)) => {
                let (a, b) = (
                    serde_json::to_value(a).unwrap_or_default(),
                    serde_json::to_value(b).unwrap_or_default(),
                );
                let mut paths = Vec::new();
                differing(&a, &b, String::new(), &mut paths);
                if paths.is_empty() {
                    "OK".to_owned()
                } else {
                    differences += 1;
                    format!("DIFF {}", paths.join(", "))
                }
            }
            (Err(e), _) | (_, Err(e)) => {
                differences += 1;
                format!("DIFF {}", e.to_string().lines().next().unwrap_or_default())
            }
        };
        let _ = writeln!(
            out,
            "{:<24} {:<12} {:<24} {result}",
            app.tenant, app.environment, app.service
        );
    }
    let _ = writeln!(
        out,
        "{} of {} tenant services resolve to the values they had",
        old.apps.len() - differences,
        old.apps.len()
    );
    Ok(CheckReport {
        text: out,
        differences,
    })
}

fn without_meta(mut map: Map<String, Value>) -> Map<String, Value> {
    map.remove("kind");
    map.remove("name");
    map
}

fn differing(a: &Value, b: &Value, at: String, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for key in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                let path = if at.is_empty() {
                    key.clone()
                } else {
                    format!("{at}.{key}")
                };
                differing(
                    x.get(key).unwrap_or(&Value::Null),
                    y.get(key).unwrap_or(&Value::Null),
                    path,
                    out,
                );
            }
        }
        _ if a != b => out.push(at),
        _ => {}
    }
}
