//! The `template` stage: every string value of a resolved tree is a minijinja template over
//! `repo`, `environment`, `tenant` and `service`. Undefined variables are errors naming the
//! file, the key and the variable; templates cannot read files (no loader) and run on a fuel
//! budget, so a template that loops forever stops with an error.

use std::collections::BTreeMap;

use minijinja::{Environment, ErrorKind, UndefinedBehavior, Value as JValue};
use serde::Serialize;

use crate::error::{Diagnostic, Error, Result, did_you_mean};
use crate::load::Tenant;
use crate::model::RepoSettings;
use crate::node::{Node, ScalarKind, Value, is_template};

/// Instructions a single template may execute.
pub const TEMPLATE_FUEL: u64 = 50_000;

/// The variables templates see.
#[derive(Debug, Serialize)]
pub struct Vars<'a> {
    pub repo: RepoVars<'a>,
    pub environment: EnvironmentVars<'a>,
    pub tenant: TenantVars<'a>,
    pub service: ServiceVars<'a>,
}

#[derive(Debug, Serialize)]
pub struct RepoVars<'a> {
    pub name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<&'a str>,
    pub vars: &'a BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Serialize)]
pub struct EnvironmentVars<'a> {
    pub name: &'a str,
    pub cluster: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<&'a str>,
    pub vars: &'a BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Serialize)]
pub struct TenantVars<'a> {
    pub name: &'a str,
    pub namespace: &'a str,
    pub environment: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<&'a str>,
    pub labels: &'a BTreeMap<String, String>,
    pub vars: &'a BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Serialize)]
pub struct ServiceVars<'a> {
    pub name: &'a str,
}

impl<'a> Vars<'a> {
    /// The variables for one tenant x service. `None` if the tenant's environment is unknown
    /// (which `load` has already reported).
    pub fn new(settings: &'a RepoSettings, tenant: &'a Tenant, service: &'a str) -> Option<Self> {
        let (env_name, env) = settings
            .environments
            .get_key_value(&tenant.spec.environment)?;
        Some(Vars {
            repo: RepoVars {
                name: &settings.name,
                domain: settings.domain.as_deref(),
                registry: settings.registry.as_deref(),
                vars: &settings.vars,
            },
            environment: EnvironmentVars {
                name: env_name,
                cluster: &env.cluster,
                domain: env.domain.as_deref(),
                vars: &env.vars,
            },
            tenant: TenantVars {
                name: tenant.name.as_str(),
                namespace: tenant.namespace.as_str(),
                environment: env_name,
                domain: tenant.spec.domain.as_deref(),
                labels: &tenant.spec.labels,
                vars: &tenant.spec.vars,
            },
            service: ServiceVars { name: service },
        })
    }
}

/// A template engine set up for stencil: strict undefined, fuel, no file access.
pub fn engine() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(TEMPLATE_FUEL));
    env.set_recursion_limit(32);
    env
}

/// Renders every templated string in the tree in place. Reports every failing template.
pub fn render_tree(engine: &Environment<'_>, vars: &Vars<'_>, tree: &mut Node) -> Result<()> {
    let ctx = JValue::from(minijinja::value::Serde(vars));
    let mut problems = Vec::new();
    walk(engine, &ctx, tree, &mut String::new(), &mut problems);
    Error::unless(problems, ())
}

fn walk(
    engine: &Environment<'_>,
    ctx: &JValue,
    node: &mut Node,
    key: &mut String,
    problems: &mut Vec<Error>,
) {
    let origin = &node.origin;
    match &mut node.value {
        Value::Scalar(s) if s.kind == ScalarKind::Str && is_template(&s.text) => {
            match engine.render_str(&s.text, ctx.clone()) {
                Ok(mut out) => {
                    // minijinja drops one trailing newline; block scalars (`|`) keep theirs.
                    if s.text.ends_with('\n') && !out.ends_with('\n') {
                        out.push('\n');
                    }
                    s.text = out;
                    s.kind = ScalarKind::Rendered;
                }
                Err(err) => problems.push(template_error(
                    engine,
                    ctx,
                    &s.text,
                    &err,
                    key,
                    origin.clone(),
                )),
            }
        }
        Value::Map(map) => {
            for (k, v) in map.iter_mut() {
                let len = key.len();
                if !key.is_empty() {
                    key.push('.');
                }
                key.push_str(k);
                walk(engine, ctx, v, key, problems);
                key.truncate(len);
            }
        }
        Value::Seq(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                let len = key.len();
                key.push_str(&format!("[{i}]"));
                walk(engine, ctx, v, key, problems);
                key.truncate(len);
            }
        }
        Value::Null | Value::Scalar(_) => {}
    }
}

fn template_error(
    engine: &Environment<'_>,
    ctx: &JValue,
    source: &str,
    err: &minijinja::Error,
    key: &str,
    origin: crate::origin::Origin,
) -> Error {
    let mut d = match err.kind() {
        ErrorKind::UndefinedError => {
            let missing = undefined_variables(engine, ctx, source);
            match missing.first() {
                Some((name, hint)) => {
                    let d = Diagnostic::new(format!("undefined variable `{name}` in the template of `{key}`"));
                    match hint {
                        Some(h) => d.hint(format!("did you mean `{h}`?")),
                        None => d.hint("templates see `repo`, `environment`, `tenant` and `service`; see README \"Templates\""),
                    }
                }
                None => Diagnostic::new(format!("undefined value in the template of `{key}`: {err}"))
                    .hint("templates see `repo`, `environment`, `tenant` and `service`; see README \"Templates\""),
            }
        }
        ErrorKind::OutOfFuel => Diagnostic::new(format!("the template of `{key}` ran out of fuel"))
            .hint(format!("templates may execute at most {TEMPLATE_FUEL} instructions; this one loops too long")),
        _ => Diagnostic::new(format!("template error in `{key}`: {}", err.detail().unwrap_or(&err.to_string())))
            .hint("check the template syntax (minijinja, Jinja2-compatible)"),
    };
    d = d.at(&origin);
    d.into()
}

/// The dotted variables a template reads that the context does not have, each with the
/// closest name that exists at that level.
fn undefined_variables(
    engine: &Environment<'_>,
    ctx: &JValue,
    source: &str,
) -> Vec<(String, Option<String>)> {
    let Ok(template) = engine.template_from_str(source) else {
        return Vec::new();
    };
    let mut names: Vec<String> = template.undeclared_variables(true).into_iter().collect();
    names.sort();
    let mut out = Vec::new();
    for name in names {
        let mut current = ctx.clone();
        let mut prefix = String::new();
        for part in name.split('.') {
            let next = current.get_attr(part).ok().filter(|v| !v.is_undefined());
            match next {
                Some(v) => {
                    current = v;
                    if !prefix.is_empty() {
                        prefix.push('.');
                    }
                    prefix.push_str(part);
                }
                None => {
                    let keys: Vec<String> = current
                        .try_iter()
                        .map(|it| it.filter_map(|k| k.as_str().map(str::to_owned)).collect())
                        .unwrap_or_default();
                    let hint = did_you_mean(part, keys.iter().map(String::as_str)).map(|k| {
                        if prefix.is_empty() {
                            k.to_owned()
                        } else {
                            format!("{prefix}.{k}")
                        }
                    });
                    out.push((name.clone(), hint));
                    break;
                }
            }
        }
    }
    out
}
