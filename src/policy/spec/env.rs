//! Environment variables: valid names, and every variable from exactly one place (`env`,
//! `secrets.enc.yaml` or `ssmSecrets`); SSM parameter paths are absolute.

use std::collections::BTreeMap;

use super::SpecCtx;
use crate::error::Diagnostic;
use crate::names::check_env_name;

/// Every `env:` name is a valid variable name and not also in the secrets file.
pub(super) fn env_names(ctx: &SpecCtx, out: &mut Vec<Diagnostic>) {
    for name in ctx.spec.env.iter().flat_map(|e| e.keys()) {
        let at = ctx.at(&["env", name]);
        if let Err(msg) = check_env_name(name) {
            out.push(Diagnostic::new(msg).at(&at));
        }
        if ctx.secrets.is_some_and(|s| s.values.contains_key(name)) {
            out.push(
                Diagnostic::new(format!("`{name}` is set both in env and in secrets.enc.yaml"))
                    .at(&at)
                    .hint("a variable comes from one place; remove it from env (with `null` in an overlay) or from the secrets"),
            );
        }
    }
}

/// Every environment variable comes from exactly one place; `ssmSecrets` names are valid
/// variable names and their paths absolute.
pub(super) fn one_source(ctx: &SpecCtx, out: &mut Vec<Diagnostic>) {
    let mut sources = env_and_secrets(ctx, out);
    for (name, path) in ctx.spec.ssm_secrets.iter().flatten() {
        let at = ctx.at(&["ssmSecrets", name]);
        if let Err(msg) = check_env_name(name) {
            out.push(Diagnostic::new(msg).at(&at));
        }
        if !path.starts_with('/') {
            out.push(
                Diagnostic::new(format!("SSM parameter path `{path}` must start with `/`")).at(&at),
            );
        }
        if let Some(other) = sources.insert(name, "ssmSecrets") {
            out.push(
                Diagnostic::new(format!("`{name}` is set in both {other} and ssmSecrets"))
                    .at(&at)
                    .hint("a variable comes from one place; remove one of them (with `null` in an overlay)"),
            );
        }
    }
}

/// Where each variable of `env` and the secrets file comes from (a clash of the two was
/// reported by [`env_names`], with its location).
fn env_and_secrets<'a>(
    ctx: &SpecCtx<'a>,
    out: &mut Vec<Diagnostic>,
) -> BTreeMap<&'a str, &'static str> {
    let mut sources: BTreeMap<&str, &str> = BTreeMap::new();
    for name in ctx.spec.env.iter().flat_map(|e| e.keys()) {
        sources.insert(name, "env");
    }
    for name in ctx.secrets.into_iter().flat_map(|s| s.values.keys()) {
        if let Some(other) = sources.insert(name, "secrets.enc.yaml")
            && other != "env"
        {
            out.push(Diagnostic::new(format!(
                "`{name}` is set in both {other} and secrets.enc.yaml"
            )));
        }
    }
    sources
}

/// `featureFlags.ssmPrefix` is an absolute SSM path.
pub(super) fn feature_flags(ctx: &SpecCtx, out: &mut Vec<Diagnostic>) {
    let prefix = ctx.spec.feature_flags.as_ref();
    if let Some(prefix) = prefix.and_then(|f| f.ssm_prefix.as_ref())
        && !prefix.starts_with('/')
    {
        out.push(
            Diagnostic::new(format!(
                "featureFlags.ssmPrefix `{prefix}` must start with `/`"
            ))
            .at(&ctx.at(&["featureFlags", "ssmPrefix"])),
        );
    }
}
