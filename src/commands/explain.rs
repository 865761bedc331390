//! `stencil explain TENANT/SERVICE [KEY.PATH]`: every resolved value with the file:line that
//! set it and the files it overrode. It only prints provenance the stages already carry.

use std::fmt::Write as _;
use std::process::ExitCode;

use super::{Context, Outcome, json_text, write_stdout};
use crate::cli::{ExplainArgs, ExplainFormat, Global};
use crate::error::{Diagnostic, did_you_mean};
use crate::load::load_repo;
use crate::node::{Node, ScalarKind, Value};
use crate::pipeline::Renderer;
use crate::secrets::Keys;

pub fn run(global: &Global, args: &ExplainArgs, keys: &Keys) -> Outcome {
    let Some((tenant_name, service)) = args.target.split_once('/') else {
        return Err(
            Diagnostic::new(format!("`{}` is not TENANT/SERVICE", args.target))
                .hint("e.g. `stencil explain momcorp/apiserver image.tag`")
                .into(),
        );
    };
    let ctx = Context::open(global)?;
    let loader = ctx.loader();
    let repo = load_repo(&loader)?;
    let tenant = repo.tenant(tenant_name).ok_or_else(|| {
        let hint = match did_you_mean(tenant_name, repo.tenants.iter().map(|t| t.name.as_str())) {
            Some(s) => format!("did you mean `{s}`?"),
            None => "tenants are the folders under tenants/".into(),
        };
        Diagnostic::new(format!("no tenant `{tenant_name}`")).hint(hint)
    })?;
    tenant.check_runs(service)?;
    let renderer = Renderer::new(&loader, &repo, keys)?;
    let (raw, templated) = renderer.resolve(tenant, service)?;

    let filter = args.key.as_deref().map(normalize);
    let mut leaves = Vec::new();
    collect(&templated.tree, Some(&raw.tree), String::new(), &mut leaves);
    leaves.retain(|leaf| {
        filter.as_ref().is_none_or(|f| {
            let key = normalize(&leaf.path);
            key == *f || key.starts_with(&format!("{f}."))
        })
    });
    if leaves.is_empty() {
        let key = args.key.as_deref().unwrap_or_default();
        let mut all = Vec::new();
        collect(&templated.tree, Some(&raw.tree), String::new(), &mut all);
        let hint = match did_you_mean(key, all.iter().map(|l| l.path.as_str())) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("run `stencil explain {}` to see every key", args.target),
        };
        return Err(
            Diagnostic::new(format!("{tenant_name}/{service} has no value at `{key}`"))
                .hint(hint)
                .into(),
        );
    }
    let layers: Vec<String> = templated.layers.iter().map(ToString::to_string).collect();
    let out = match args.output {
        ExplainFormat::Text => text(&args.target, &layers, &leaves),
        ExplainFormat::Json => json_text(&serde_json::json!({
            "tenant": tenant_name,
            "service": service,
            "layers": layers,
            "values": leaves.iter().map(Leaf::json).collect::<Vec<_>>(),
        }))?,
    };
    write_stdout(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// The layers, then each value with where it was set and what it overrides.
fn text(target: &str, layers: &[String], leaves: &[Leaf<'_>]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {target}: layers, later wins");
    for (i, layer) in layers.iter().enumerate() {
        let _ = writeln!(out, "#   {}. {layer}", i + 1);
    }
    for leaf in leaves {
        let _ = writeln!(out, "{}: {}", leaf.path, leaf.value);
        if let Some(template) = &leaf.template {
            let _ = writeln!(out, "    template {template}");
        }
        let _ = writeln!(out, "    set at {}", leaf.node.origin);
        for o in &leaf.node.overridden {
            let _ = writeln!(out, "    overrides {o}");
        }
    }
    out
}

/// `sidecars[copilotkit].port` and `sidecars.copilotkit.port` are the same key.
fn normalize(path: &str) -> String {
    path.replace('[', ".").replace(']', "")
}

struct Leaf<'a> {
    path: String,
    value: String,
    template: Option<String>,
    node: &'a Node,
}

impl Leaf<'_> {
    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "path": self.path,
            "value": self.node.to_json(),
            "template": self.template,
            "setAt": self.node.origin.to_string(),
            "overrides": self.node.overridden.iter().map(ToString::to_string).collect::<Vec<_>>(),
        })
    }
}

fn collect<'a>(node: &'a Node, raw: Option<&'a Node>, path: String, out: &mut Vec<Leaf<'a>>) {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match &node.value {
        Value::Map(map) if !map.is_empty() => {
            for (k, v) in map {
                collect(v, raw.and_then(|r| r.get(k)), join(k), out);
            }
        }
        Value::Seq(items) if !items.is_empty() && items.iter().all(|i| i.get("name").is_some()) => {
            let raw_items = raw.and_then(Node::as_seq).unwrap_or(&[]);
            for (i, item) in items.iter().enumerate() {
                let name = item
                    .get("name")
                    .and_then(Node::as_scalar_text)
                    .unwrap_or("?");
                collect(item, raw_items.get(i), format!("{path}[{name}]"), out);
            }
        }
        _ => {
            let value = match &node.value {
                Value::Null => "null".to_owned(),
                Value::Scalar(s) => s.text.clone(),
                Value::Seq(_) | Value::Map(_) => {
                    serde_json::to_string(&node.to_json()).unwrap_or_default()
                }
            };
            let template = match (&node.value, raw.map(|r| &r.value)) {
                (Value::Scalar(s), Some(Value::Scalar(r))) if s.kind == ScalarKind::Rendered => {
                    Some(format!("{:?}", r.text))
                }
                _ => None,
            };
            out.push(Leaf {
                path,
                value,
                template,
                node,
            });
        }
    }
}
