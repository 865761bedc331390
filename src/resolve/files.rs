//! `files.<path>.from`: a config file read from the repository into the tree as `content`,
//! after templating (a file is mounted as written; `{{` in it is not a template).
//!
//! The path is relative to the folder of the file that names it, and stays inside it:
//! `..` and absolute paths are refused (a `RepoPath` cannot leave the repository, and the
//! folder prefix keeps a tenant's file from reading `base/` or another tenant's folder).
//! A symlink is followed only if it stays inside that folder too, and all the files together
//! hold at most 1 MiB (what one ConfigMap holds), read no further.

use crate::error::{Diagnostic, Error, Result};
use crate::node::Node;
use crate::source::{RepoPath, Source};

/// The largest file mounted from the repository: a ConfigMap holds 1 MiB in all.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// Reads every `files.<path>.from` of `tree` into `files.<path>.content`, all of them
/// together within [`MAX_FILE_BYTES`] (one ConfigMap holds them).
pub fn inline(source: &dyn Source, tree: &mut Node) -> Result<()> {
    let Some(files) = tree
        .as_map_mut()
        .and_then(|m| m.get_mut("files"))
        .and_then(Node::as_map_mut)
    else {
        return Ok(());
    };
    let mut problems = Vec::new();
    let mut left = MAX_FILE_BYTES;
    for (mount, file) in files.iter_mut() {
        let Some(from) = file.get("from").filter(|n| !n.is_null()) else {
            continue;
        };
        let origin = from.origin.clone();
        let text = from.as_scalar_text().unwrap_or_default().to_owned();
        if file.get("content").is_some_and(|c| !c.is_null()) {
            problems.push(Error::from(
                Diagnostic::new(format!("file `{mount}` has both `content` and `from`"))
                    .at(&origin)
                    .hint("keep one: inline `content:` or `from:` a file next to this one"),
            ));
            continue;
        }
        match read(source, origin.path(), &text, left) {
            Ok(content) => {
                left = left.saturating_sub(content.len() as u64);
                if let Some(map) = file.as_map_mut() {
                    map.insert("content".into(), Node::string(content, origin));
                }
            }
            Err(Failure::Here(d)) => problems.push(Error::from(d.at(&origin))),
            Err(Failure::Source(e)) => problems
                .push(e.with_note(format!("while reading `files.{mount}.from` at {origin}"))),
        }
    }
    Error::unless(problems, ())
}

/// Why a `from` could not be read: a problem of the value (located there), or the source's
/// own error (a symlink out of the tenant, a file too big), which keeps its rule and place.
enum Failure {
    Here(Diagnostic),
    Source(Error),
}

impl From<Diagnostic> for Failure {
    fn from(d: Diagnostic) -> Failure {
        Failure::Here(d)
    }
}

/// The text of `from`, relative to the folder of `layer` (the file that names it), at most
/// `max` bytes. The path, its symlinks followed, must still be inside that folder.
fn read(
    source: &dyn Source,
    layer: &str,
    from: &str,
    max: u64,
) -> std::result::Result<String, Failure> {
    let folder = layer.rsplit_once('/').map_or("", |(dir, _)| dir);
    let shown = crate::error::clip(from, 120);
    let relative = RepoPath::parse(from).map_err(|_| {
        Diagnostic::new(format!(
            "`from: {shown}` must be a relative path without `..`"
        ))
        .hint(format!("name a file inside {folder}/"))
    })?;
    let path = RepoPath::parse(&format!("{folder}/{relative}"))
        .map_err(|m| Diagnostic::new(m).hint(format!("name a file inside {folder}/")))?;
    let missing = || {
        Diagnostic::new(format!("{path} does not exist"))
            .hint(format!("`from:` is relative to {folder}/"))
    };
    let real = source
        .real_path(&path)
        .map_err(Failure::Source)?
        .ok_or_else(missing)?;
    if !real.starts_with(&format!("{folder}/")) {
        return Err(
            Diagnostic::new(format!("{path} is a symlink to {real}, outside {folder}/"))
                .hint(format!(
                    "`from:` reads files inside {folder}/ only; copy the file there"
                ))
                .into(),
        );
    }
    let bytes = source
        .read(&path, max)
        .map_err(Failure::Source)?
        .ok_or_else(missing)?;
    String::from_utf8(bytes).map_err(|_| {
        Diagnostic::new(format!("{path} is not UTF-8 text"))
            .hint("mount text files (configuration); binary files belong in the image")
            .into()
    })
}

/// The folders `files.*.from` reads from: the folder of each layer that names one (a file
/// read cannot leave it), for Argo CD's `manifest-generate-paths`.
pub fn from_folders(tree: &Node) -> Vec<String> {
    let mut folders: Vec<String> = tree
        .get("files")
        .and_then(Node::as_map)
        .into_iter()
        .flat_map(|files| files.values())
        .filter_map(|file| file.get("from"))
        .filter(|from| !from.is_null())
        .filter_map(|from| {
            let layer = from.origin.path();
            layer.rsplit_once('/').map(|(dir, _)| dir.to_owned())
        })
        .collect();
    folders.sort();
    folders.dedup();
    folders
}
