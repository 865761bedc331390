//! What `diff` and `affected` compare: the two sides (a revision read from git, the working
//! tree, or a plain folder), loaded and ready to render, and the comparison of a selection.

use std::collections::BTreeSet;
use std::path::Path;

use tracing::info;

use super::{AppChange, Side};
use crate::error::{Error, Result};
use crate::load::{Loader, SharedFiles, load_repo};
use crate::pipeline::{RenderOptions, Renderer, Selection};
use crate::secrets::Keys;
use crate::source::git::GitRepo;
use crate::source::{Source, Worktree};

/// The outcome of comparing two sides.
pub(crate) struct Comparison {
    pub(crate) from: String,
    pub(crate) to: String,
    pub(crate) changes: Vec<AppChange>,
    /// Some secrets file could not be decrypted: it was compared by ciphertext.
    pub(crate) sealed: bool,
}

fn open_side(
    git: &mut Option<GitRepo>,
    root: &Path,
    rev: Option<&str>,
    dir: Option<&Path>,
    old: bool,
) -> Result<(Box<dyn Source>, String)> {
    if let Some(dir) = dir {
        return Ok((Box::new(Worktree::open(dir)?), dir.display().to_string()));
    }
    if rev.is_none() && !old {
        return Ok((Box::new(Worktree::open(root)?), "the working tree".into()));
    }
    if git.is_none() {
        *git = Some(GitRepo::discover(root)?);
    }
    let Some(repo) = git.as_ref() else {
        unreachable!("just set");
    };
    let (id, name) = match rev {
        Some(rev) => (repo.commit(rev)?, rev.to_owned()),
        None => repo.default_base()?,
    };
    let tree = repo.tree(id, &name)?;
    let label = repo.label(id, &name);
    Ok((Box::new(tree), label))
}

/// A random key for this run's fingerprints (see [`Renderer::fingerprint_key`]).
fn run_key() -> Result<Vec<u8>> {
    let mut key = vec![0u8; 32];
    getrandom::getrandom(&mut key).map_err(|e| {
        Error::from(crate::error::Diagnostic::new(format!(
            "no randomness for fingerprints: {e}"
        )))
    })?;
    Ok(key)
}

/// The two sides to compare: each a revision (`None`: the default base for `from`, the
/// working tree for `to`) or a plain folder.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Range<'a> {
    pub(crate) from: Option<&'a str>,
    pub(crate) to: Option<&'a str>,
    pub(crate) from_dir: Option<&'a Path>,
    pub(crate) to_dir: Option<&'a Path>,
}

impl Range<'_> {
    /// Whether a side is read from the repository at the root (not a plain folder).
    pub(crate) fn needs_root(&self) -> bool {
        self.from_dir.is_none() || self.to_dir.is_none()
    }
}

/// Compares `selection` between the two sides of `range` (revisions of the repository at
/// `root`, its working tree, or plain folders).
pub(crate) fn compare_range(
    root: &Path,
    range: &Range<'_>,
    selection: &Selection,
    keys: &Keys,
) -> Result<Comparison> {
    let mut git = None;
    let (from_source, from_label) = open_side(&mut git, root, range.from, range.from_dir, true)?;
    let (to_source, to_label) = open_side(&mut git, root, range.to, range.to_dir, false)?;
    info!(from = %from_label, to = %to_label, "comparing");
    let from_label = format!("--from {from_label}");
    let to_label = format!("--to {to_label}");

    // Two revisions share their parsed files. (A working tree has no blob ids: what one
    // side left for it would never be taken.)
    let shared = SharedFiles::default();
    let (from_loader, to_loader) = if from_source.has_blob_ids() && to_source.has_blob_ids() {
        (
            Loader::sharing(from_source.as_ref(), &shared),
            Loader::sharing(to_source.as_ref(), &shared),
        )
    } else {
        (
            Loader::new(from_source.as_ref()),
            Loader::new(to_source.as_ref()),
        )
    };
    fn on(label: &str) -> impl Fn(Error) -> Error + '_ {
        move |e: Error| e.with_note(format!("in {label}"))
    }
    let from_repo = load_repo(&from_loader).map_err(on(&from_label))?;
    let to_repo = load_repo(&to_loader).map_err(on(&to_label))?;
    selection.check(&[&from_repo, &to_repo])?;
    let key = run_key()?;
    // Each secrets file the two sides share is unwrapped once, not once a side.
    keys.share_data_keys();
    let side = |loader, repo, label: &str, unbound_secrets_ok| -> Result<Side<'_>> {
        let options = RenderOptions {
            redact_secrets: true,
            seal_secrets: true,
            fingerprint_key: Some(key.clone()),
            unbound_secrets_ok,
            ..RenderOptions::default()
        };
        let renderer = Renderer::with_options(loader, repo, keys, options).map_err(on(label))?;
        Ok(Side {
            renderer,
            label: label.to_owned(),
        })
    };
    // Before a repository's secrets were bound, its files had no binding: compare them.
    let from = side(&from_loader, &from_repo, &from_label, true)?;
    let to = side(&to_loader, &to_repo, &to_label, false)?;
    let changed: BTreeSet<String> = super::changed_paths(from_source.as_ref(), to_source.as_ref())?;
    info!(paths = changed.len(), "changed input files");
    let changes = super::compare(&from, &to, selection, Some(&changed))?;
    Ok(Comparison {
        from: from_label,
        to: to_label,
        sealed: from.renderer.sealed_secrets() || to.renderer.sealed_secrets(),
        changes,
    })
}
