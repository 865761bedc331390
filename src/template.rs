//! The `template` stage: every string value of a resolved tree is a minijinja template over
//! `repo`, `environment`, `tenant` and `service`. Undefined variables are errors naming the
//! file, the key and the variable; templates cannot read files (no loader) and run on a fuel
//! budget, so a template that loops forever stops with an error. Output is bounded too: no
//! string may render past `budgets.objectBytes`, and the whole tree after templating (keys
//! and strings, aliases counted each time they occur) stays within `budgets.appBytes`, so an
//! alias multiplied through templates stops at the budget.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use minijinja::{Environment, ErrorKind, UndefinedBehavior, Value as JValue};
use serde::Serialize;

use crate::budget::{self, Kind, Meter};
use crate::error::{Diagnostic, Error, Result, did_you_mean};
use crate::load::Tenant;
use crate::model::{Budgets, RepoSettings};
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

/// The template engines of one render: strict undefined, fuel, no file access.
pub struct Engine {
    /// Compiles a template where it is used; no loader, so `include`, `import` and
    /// `extends` find nothing. Its errors are the ones reported.
    env: Environment<'static>,
    /// The same settings, and templates compiled once by their source: every app of every
    /// tenant renders the base's same few template strings, and compiling them was 2% of a
    /// render. Only sources without a block tag (`{%`) come here: they cannot ask for
    /// another template, so the loader (which answers a name with itself) is never asked
    /// for anything but the template at hand. On any failure, [`Engine::env`] renders again
    /// for the error as always.
    compiled: Environment<'static>,
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(TEMPLATE_FUEL));
    env.set_recursion_limit(32);
    // What `template_from_str` does for its `<string>`, for every name: no HTML escaping
    // (minijinja would escape a template whose name ends in `.html`).
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env
}

/// A template engine set up for stencil.
pub fn engine() -> Engine {
    let mut compiled = environment();
    compiled.set_loader(|source| Ok(Some(source.to_owned())));
    Engine {
        env: environment(),
        compiled,
    }
}

/// Renders every templated string in the tree in place, within `budgets`. Reports every
/// failing template, or the first place the tree passes its budget.
pub fn render_tree(
    engine: &Engine,
    vars: &Vars<'_>,
    tree: &mut Node,
    budgets: &Budgets,
) -> Result<()> {
    let ctx = JValue::from(minijinja::value::Serde(vars));
    let mut walk = Walk {
        engine,
        ctx: &ctx,
        key: String::new(),
        problems: Vec::new(),
        meter: Meter::new(Kind::App, budgets),
        string_limit: budgets.object_bytes,
        over: false,
    };
    walk.node(tree);
    Error::unless(walk.problems, ())
}

struct Walk<'e, 'c> {
    engine: &'e Engine,
    ctx: &'c JValue,
    /// The dotted key of the node being visited, for messages.
    key: String,
    problems: Vec<Error>,
    /// Bytes of keys and strings so far.
    meter: Meter,
    /// Most bytes one template may write.
    string_limit: u64,
    /// Set once the tree passed its budget: the walk stops.
    over: bool,
}

impl Walk<'_, '_> {
    fn node(&mut self, node: &mut Node) {
        if self.over {
            return;
        }
        let origin = &node.origin;
        match &mut node.value {
            Value::Scalar(s) if s.kind == ScalarKind::Str && is_template(&s.text) => {
                match render_bounded(self.engine, self.ctx, &s.text, self.string_limit) {
                    Ok(Some(mut out)) => {
                        // minijinja drops one trailing newline; block scalars (`|`) keep theirs.
                        if s.text.ends_with('\n') && !out.ends_with('\n') {
                            out.push('\n');
                        }
                        s.text = out;
                        s.kind = ScalarKind::Rendered;
                    }
                    Ok(None) => {
                        let what = format!("the template of `{}`", self.key);
                        let limit = self.string_limit;
                        self.problems.push(
                            budget::exceeded(&what, limit + 1, Kind::Object, limit)
                                .at(origin)
                                .into(),
                        );
                        self.over = true;
                        return;
                    }
                    Err(err) => {
                        self.problems.push(template_error(
                            &self.engine.env,
                            self.ctx,
                            &s.text,
                            &err,
                            &self.key,
                            origin.clone(),
                        ));
                        return;
                    }
                }
                self.count(s.text.len() as u64, origin);
            }
            Value::Scalar(s) => {
                let len = s.text.len() as u64;
                self.count(len, origin);
            }
            Value::Map(map) => {
                for (k, v) in map.iter_mut() {
                    let len = self.key.len();
                    if !self.key.is_empty() {
                        self.key.push('.');
                    }
                    self.key.push_str(k);
                    self.count(k.len() as u64, &v.origin);
                    self.node(v);
                    self.key.truncate(len);
                }
            }
            Value::Seq(items) => {
                for (i, v) in items.iter_mut().enumerate() {
                    let len = self.key.len();
                    let _ = write!(self.key, "[{i}]"); // writing to a String cannot fail
                    self.node(v);
                    self.key.truncate(len);
                }
            }
            Value::Null => {}
        }
    }

    fn count(&mut self, bytes: u64, origin: &crate::origin::Origin) {
        if self.over {
            return;
        }
        let key = &self.key;
        if let Err(d) = self.meter.add(bytes, || {
            format!("the values of this tenant x service, at `{key}`,")
        }) {
            self.problems.push(d.at(origin).into());
            self.over = true;
        }
    }
}

/// Renders one template, writing at most `limit` bytes: `Ok(None)` if it would write more.
fn render_bounded(
    engine: &Engine,
    ctx: &JValue,
    source: &str,
    limit: u64,
) -> std::result::Result<Option<String>, minijinja::Error> {
    if !source.contains("{%")
        && let Ok(template) = engine.compiled.get_template(source)
        && let Ok(out) = render_with(&template, ctx, limit)
    {
        return Ok(out);
    }
    render_with(&engine.env.template_from_str(source)?, ctx, limit)
}

/// Renders a compiled template, writing at most `limit` bytes: `Ok(None)` if it would
/// write more.
fn render_with(
    template: &minijinja::Template<'_, '_>,
    ctx: &JValue,
    limit: u64,
) -> std::result::Result<Option<String>, minijinja::Error> {
    let mut out = Bounded {
        bytes: Vec::new(),
        limit: usize::try_from(limit).unwrap_or(usize::MAX),
        over: false,
    };
    let result = template.render_captured_to(ctx.clone(), &mut out);
    if out.over {
        return Ok(None);
    }
    result?;
    // minijinja writes only `str`s.
    Ok(Some(String::from_utf8_lossy(&out.bytes).into_owned()))
}

/// A writer that refuses to hold more than `limit` bytes.
struct Bounded {
    bytes: Vec<u8>,
    limit: usize,
    over: bool,
}

impl std::io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len().saturating_add(buf.len()) > self.limit {
            self.over = true;
            return Err(std::io::Error::other("over the output budget"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
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
                        None => d.hint("templates see `repo`, `environment`, `tenant` and `service`; see docs/repository.md#templates"),
                    }
                }
                None => Diagnostic::new(format!("undefined value in the template of `{key}`: {err}"))
                    .hint("templates see `repo`, `environment`, `tenant` and `service`; see docs/repository.md#templates"),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(value: serde_json::Value) -> JValue {
        JValue::from(minijinja::value::Serde(value))
    }

    fn render(engine: &Engine, source: &str, vars: &JValue) -> std::result::Result<String, String> {
        match render_bounded(engine, vars, source, 1 << 20) {
            Ok(Some(out)) => Ok(out),
            Ok(None) => Err("over budget".into()),
            Err(e) => Err(format!("{e:#}")),
        }
    }

    /// The compiled-once engine answers as a fresh engine does: the same text, the same
    /// error for a context a template fails in after it worked in another, no HTML escaping
    /// for a source ending in `.html`, and no template found by `include`.
    #[test]
    fn compiled_templates_render_as_fresh_ones() {
        let shared = engine();
        let good = ctx(serde_json::json!({"tenant": {"name": "a<b>&"}}));
        let bad = ctx(serde_json::json!({"service": {"name": "x"}}));
        let sources = [
            "{{ tenant.name }}-db",
            "https://{{ tenant.name }}/index.html",
            "{{ tenant.name | upper }}.xml",
            "{% include \"{{ tenant.name }}-db\" %}",
            "{% if tenant.name %}yes{% endif %}",
            "{{ tenant.missing.deeper }}",
            "{{ 1 + }}",
        ];
        for _ in 0..2 {
            for source in sources {
                for vars in [&good, &bad] {
                    let fresh = render(&engine(), source, vars);
                    assert_eq!(render(&shared, source, vars), fresh, "{source}");
                }
            }
        }
        assert_eq!(
            render(&shared, "https://{{ tenant.name }}/index.html", &good).as_deref(),
            Ok("https://a<b>&/index.html")
        );
        assert!(render(&shared, "{% include \"{{ tenant.name }}-db\" %}", &good).is_err());
    }
}
