//! `stencil render`: the YAML (or JSON) stream of the selected tenant x services on stdout,
//! or one file per object with `--out-dir`. All or nothing: on any error, stdout stays empty.

use std::mem::ManuallyDrop;
use std::process::ExitCode;

use tracing::info;

use super::{Context, Outcome, stdout, write_stdout};
use crate::cli::{Global, RenderArgs};
use crate::emit;
use crate::emit::spool::Spool;
use crate::error::Diagnostic;
use crate::load::load_repo;
use crate::pipeline::{RenderOptions, Renderer, Selection};
use crate::secrets::Keys;

pub fn run(global: &Global, args: &RenderArgs, keys: &Keys) -> Outcome {
    if args.out_dir.is_some() && args.output == emit::Format::Json {
        // A usage error (exit 2), before anything is read or written.
        eprintln!(
            "error: --out-dir writes one YAML file per object; -o json prints one JSON array to stdout\n  = hint: drop one of them"
        );
        return Ok(std::process::ExitCode::from(2));
    }
    let ctx = Context::open(global)?;
    // The parsed files and caches of every tenant are left to the operating system when the
    // process ends, which takes the memory back at once, instead of being freed value by
    // value on one thread after the stream is out (14 ms, 2.5% of a render at N = 1,000).
    // Only memory: none of these holds a file to remove or a lock to release.
    let loader = ManuallyDrop::new(ctx.loader());
    let repo = ManuallyDrop::new(load_repo(&loader)?);
    let mut selection = Selection::new(
        &args.filter.tenants,
        &args.filter.services,
        args.filter.environment.clone(),
    )?;
    selection.check(&[&repo])?;
    if args.workspace {
        selection = selection.workspace_only();
    }
    if selection.is_empty(&repo) {
        let tenants: Vec<&str> = repo
            .tenants
            .iter()
            .map(|t| t.name.as_str())
            .take(20)
            .collect();
        return Err(Diagnostic::new("the selection matches nothing to render")
            .hint(format!(
                "check --tenant, --service and --environment; the tenants are the folders under tenants/: {}",
                tenants.join(", ")
            ))
            .into());
    }
    let options = RenderOptions {
        redact_secrets: args.redact_secrets,
        yaml_only: args.output == emit::Format::Yaml,
        ..RenderOptions::default()
    };
    let renderer = ManuallyDrop::new(Renderer::with_options(&loader, &repo, keys, options)?);
    match (&args.out_dir, args.output) {
        (None, emit::Format::Yaml) => {
            // The stream goes to a spool batch by batch, not into one large vector: memory
            // stays flat however many tenants there are. stdout gets it once all succeeded.
            let mut spool = Spool::default();
            let mut count = 0;
            renderer.render_each(&selection, |objects| {
                count += objects.len();
                spool.push(objects)
            })?;
            info!(objects = count, spilled = spool.spilled(), "rendered");
            spool.write_to(&mut stdout()?)?;
            warn_passthrough(&renderer);
        }
        (out_dir, format) => {
            let objects = renderer.render(&selection)?;
            info!(objects = objects.len(), "rendered");
            match out_dir {
                Some(dir) => emit::write_dir(&objects, dir)?,
                None => write_stdout(&emit::stream(&objects, format)?)?,
            }
            warn_passthrough(&renderer);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Values under `helmPassthrough` are not rendered: say so, once each, on stderr.
fn warn_passthrough(renderer: &Renderer<'_>) {
    for (path, at) in renderer.passthrough() {
        tracing::warn!(
            "not rendered: {path} at {at}: nothing renders helmPassthrough; move it to the service model or remove it"
        );
    }
}
