//! `stencil bump SERVICE TAG`: the CI step after an image push. Validates the tag and digest,
//! then lets [`crate::bump`] compute the edits of the version files (only the value changes)
//! and write them, or commit and push them.

use std::process::ExitCode;

use super::{Context, Outcome, write_atomic, write_stdout};
use crate::bump::{self, Bump, Conflict, Request};
use crate::cli::{BumpArgs, Global, OnConflict};
use crate::error::Diagnostic;
use crate::load::load_repo_lenient;
use crate::names::{Digest, Tag};

fn request(args: &BumpArgs) -> Request {
    Request {
        service: args.service.clone(),
        tenants: args.tenants.clone(),
        sidecar: args.sidecar.clone(),
        message: args.message.clone(),
        push: args.push.clone(),
        retries: args.retries,
        on_conflict: match args.on_conflict {
            OnConflict::Fail => Conflict::Fail,
            OnConflict::Ours => Conflict::Ours,
            OnConflict::Theirs => Conflict::Theirs,
        },
        token_env: args.token_env.clone(),
    }
}

pub fn run(global: &Global, args: &BumpArgs) -> Outcome {
    // A token variable that is not set would fall back to other credentials unnoticed.
    if let Some(name) = &args.token_env
        && std::env::var_os(name).is_none_or(|v| v.is_empty())
    {
        return Err(
            Diagnostic::new(format!("--token-env {name}: `{name}` is not set"))
                .hint(format!(
                    "export {name} (a token that may push), or leave out --token-env"
                ))
                .into(),
        );
    }
    let ctx = Context::open(global)?;
    let (root, source) = (&ctx.root, &ctx.source);
    let loader = ctx.loader();
    let tag = Tag::parse(&args.tag).map_err(|m| {
        Diagnostic::new(format!("refusing tag: {m}"))
            .hint("pass the immutable tag CI just pushed (a version or commit SHA)")
    })?;
    let digest = args
        .digest
        .as_deref()
        .map(Digest::parse)
        .transpose()
        .map_err(|m| Diagnostic::new(format!("refusing digest: {m}")))?;
    let (repo, _) = load_repo_lenient(&loader)?;
    let request = request(args);
    bump::check_service(&repo, &args.service)?;
    bump::check_sidecar(&loader, &args.service, args.sidecar.as_deref())?;
    let bump = Bump {
        tag,
        digest,
        sidecar: args.sidecar.clone(),
    };

    let targets = bump::targets(&request, &repo)?;
    if !args.tenants.is_empty() && targets.is_empty() {
        return Err(Diagnostic::new("--tenant matches no tenant that runs this service").into());
    }
    if args.tenants.is_empty() {
        bump::report_pins(&loader, &repo, &request)?;
    }
    // Every edit is computed before anything is written.
    let edits = bump::edits(source, &targets, &bump)?;
    if edits.is_empty() {
        eprintln!("{} is already at {}; nothing to do", args.service, bump.tag);
        return Ok(ExitCode::SUCCESS);
    }
    if args.dry_run {
        write_stdout(&bump::unified_diff(&edits))?;
        return Ok(ExitCode::SUCCESS);
    }
    if !args.commit && args.push.is_none() {
        for (path, _, new) in &edits {
            write_atomic(&root.join(path), new)?;
            eprintln!("{path}: {} -> {}", args.service, bump.tag);
        }
        return Ok(ExitCode::SUCCESS);
    }
    bump::commit_and_push(root, &request, &bump, &edits)?;
    Ok(ExitCode::SUCCESS)
}
