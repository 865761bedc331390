//! `stencil render`: the YAML (or JSON) stream of the selected tenant x services on stdout,
//! or one file per object with `--out-dir`. All or nothing: on any error, stdout stays empty.

use std::process::ExitCode;

use tracing::info;

use super::{Outcome, find_root, write_stdout};
use crate::cli::{Global, RenderArgs};
use crate::emit;
use crate::error::Diagnostic;
use crate::load::{Loader, load_repo};
use crate::pipeline::{Renderer, Selection};
use crate::secrets::Keys;
use crate::source::Worktree;

pub fn run(global: &Global, args: &RenderArgs, keys: &Keys) -> Outcome {
    let root = find_root(global.repo.as_deref())?;
    let source = Worktree::open(&root)?;
    let loader = Loader::new(&source);
    let repo = load_repo(&loader)?;
    let mut selection = Selection::new(
        &args.filter.tenants,
        &args.filter.services,
        args.filter.environment.clone(),
    )?;
    if args.workspace {
        selection = selection.workspace_only();
    }
    if selection.is_empty(&repo) {
        return Err(Diagnostic::new("the selection matches nothing to render")
            .hint(
                "check --tenant, --service and --environment; `stencil validate` lists the tenants",
            )
            .into());
    }
    let mut renderer = Renderer::new(&loader, &repo, keys)?;
    renderer.redact_secrets = args.redact_secrets;
    renderer.yaml_only = args.output == emit::Format::Yaml;
    let objects = renderer.render(&selection)?;
    info!(objects = objects.len(), "rendered");
    match &args.out_dir {
        Some(dir) => emit::write_dir(&objects, dir)?,
        None => {
            write_stdout(&emit::stream(&objects, args.output)?)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
