//! A bump as a commit: built as objects only, pushed if asked, redone on top of the remote's
//! head when another pipeline pushed first (`--retries`, `--on-conflict`).

use super::edit;
use super::edit::{Bump, Edit};
use super::plan::{FileEdit, message};
use super::publish::{self, Checkout, PushError};
use super::{Conflict, Request};
use crate::error::{Diagnostic, Result};
use crate::origin::SourceFile;
use tracing::warn;

pub(crate) fn commit_and_push(
    root: &std::path::Path,
    args: &Request,
    bump: &Bump,
    edits: &[FileEdit],
) -> Result<()> {
    let checkout = Checkout::open(root)?;
    let git_paths: Vec<String> = edits.iter().map(|(p, _, _)| checkout.git_path(p)).collect();
    checkout.ensure_clean(&git_paths)?;
    let sig = checkout.signature()?;
    let message = message(args, bump);
    let files: Vec<(String, String)> = git_paths
        .iter()
        .cloned()
        .zip(edits.iter().map(|(_, _, new)| new.clone()))
        .collect();
    let mut commit = checkout.commit_on(checkout.head, &files, &message, &sig)?;
    if let Some(remote) = &args.push {
        let publish = Publish {
            checkout: &checkout,
            remote,
            args,
            bump,
            edits,
            git_paths: &git_paths,
            message: &message,
            sig: &sig,
        };
        match publish.push(commit)? {
            Pushed::Ours(pushed) => commit = pushed,
            Pushed::Theirs(remote_head) => {
                checkout.advance(remote_head)?;
                return Ok(());
            }
        }
    }
    checkout.advance(commit)?;
    eprintln!(
        "committed {} {} on {}{}",
        args.service,
        bump.tag,
        checkout.branch,
        if args.push.is_some() {
            " and pushed"
        } else {
            ""
        }
    );
    Ok(())
}

/// Pushing a bump commit, redoing it on the remote's head when the push is rejected.
struct Publish<'a> {
    checkout: &'a Checkout,
    remote: &'a str,
    args: &'a Request,
    bump: &'a Bump,
    edits: &'a [FileEdit],
    git_paths: &'a [String],
    message: &'a str,
    sig: &'a git2::Signature<'static>,
}

/// What a push ended with: our commit is on the remote, or the remote's head already has
/// what we wanted (or keeps its own tag, `--on-conflict theirs`) and nothing was pushed.
enum Pushed {
    Ours(git2::Oid),
    Theirs(git2::Oid),
}

impl Publish<'_> {
    /// Pushes `commit`; on each rejection, waits, fetches and redoes the bump on the new
    /// remote head, up to `--retries` times.
    fn push(&self, mut commit: git2::Oid) -> Result<Pushed> {
        let token = self.args.token_env.as_deref();
        let mut attempt = 0;
        loop {
            let why = match publish::push(self.checkout, self.remote, commit, token) {
                Ok(()) => return Ok(Pushed::Ours(commit)),
                Err(PushError::Failed(e)) => {
                    return Err(e.with_note(
                        "nothing was committed or pushed; the repository is as it was",
                    ));
                }
                Err(PushError::Rejected(why)) => why,
            };
            attempt += 1;
            if attempt > self.args.retries {
                return Err(Diagnostic::new(format!(
                    "push rejected {attempt} times ({why}); giving up"
                ))
                .hint("the remote moves faster than the retries; raise --retries")
                .note("nothing was committed locally; the repository is as it was")
                .into());
            }
            let pause = publish::backoff(attempt);
            warn!(
                attempt,
                ?pause,
                "push rejected ({why}); redoing the bump on the new remote head"
            );
            std::thread::sleep(pause);
            let remote_head = publish::fetch(self.checkout, self.remote, token)?;
            match self.redo_on(remote_head)? {
                Some(redone) => commit = redone,
                None => return Ok(Pushed::Theirs(remote_head)),
            }
        }
    }

    /// The bump redone on `remote_head`: a new commit to push, or `None` when there is
    /// nothing to push (said on stderr).
    fn redo_on(&self, remote_head: git2::Oid) -> Result<Option<git2::Oid>> {
        let (args, bump) = (self.args, self.bump);
        match redo(
            self.checkout,
            remote_head,
            bump,
            self.edits,
            self.git_paths,
            args,
        )? {
            Redo::Commit(files) => Ok(Some(self.checkout.commit_on(
                remote_head,
                &files,
                self.message,
                self.sig,
            )?)),
            Redo::AlreadyThere => {
                eprintln!(
                    "the remote already has {} at {}; nothing to push",
                    args.service, bump.tag
                );
                Ok(None)
            }
            Redo::KeepTheirs(theirs) => {
                eprintln!(
                    "conflict: the remote has {} at {theirs}; keeping theirs (--on-conflict theirs)",
                    args.service
                );
                Ok(None)
            }
        }
    }
}

enum Redo {
    Commit(Vec<(String, String)>),
    AlreadyThere,
    KeepTheirs(String),
}

/// The same bump on top of the remote's files. A file the remote changed from the tag we
/// started from to a different one is a conflict, handled per `--on-conflict`.
fn redo(
    checkout: &Checkout,
    remote_head: git2::Oid,
    bump: &Bump,
    edits: &[FileEdit],
    git_paths: &[String],
    args: &Request,
) -> Result<Redo> {
    let tag_of = |text: &str, path: &str| -> Option<String> {
        let file = SourceFile::new(path, text);
        let doc = crate::yaml::read::parse(&file, crate::yaml::read::Limits::default()).ok()?;
        let image = edit::image_map(&doc, bump.sidecar.as_deref())?;
        image.get("tag")?.as_scalar_text().map(str::to_owned)
    };
    let mut files = Vec::new();
    for ((path, ours_before, _), git_path) in edits.iter().zip(git_paths) {
        let theirs = checkout
            .read_at(remote_head, git_path)?
            .map(|b| String::from_utf8_lossy(&b).into_owned());
        let before = tag_of(ours_before, path);
        let now = theirs.as_deref().and_then(|t| tag_of(t, path));
        if now.as_deref() != before.as_deref() && now.as_deref() != Some(bump.tag.as_str()) {
            let now = now.unwrap_or_else(|| "(none)".into());
            match args.on_conflict {
                Conflict::Fail => {
                    return Err(Diagnostic::new(format!(
                        "conflict: someone else set {path} to {now} after we read {}; not overwriting it with {}",
                        before.as_deref().unwrap_or("(none)"),
                        bump.tag
                    ))
                    .hint(format!("re-run the pipeline if {} is still wanted, or pass --on-conflict ours|theirs", bump.tag))
                    .note("nothing was committed locally; the repository is as it was")
                    .into());
                }
                Conflict::Theirs => return Ok(Redo::KeepTheirs(now)),
                Conflict::Ours => {}
            }
        }
        let new = match &theirs {
            Some(text) => match edit::edit(&SourceFile::new(path.as_str(), text.as_str()), bump)? {
                Edit::Unchanged => continue,
                Edit::Changed { text, .. } => text,
            },
            None => edit::new_file("../../schemas/version.schema.json", bump),
        };
        files.push((git_path.clone(), new));
    }
    if files.is_empty() {
        return Ok(Redo::AlreadyThere);
    }
    Ok(Redo::Commit(files))
}
