//! Committing and pushing file changes with git2, for `stencil bump`.
//!
//! Nothing local moves until the end: the commit is built as objects only (no ref, no index,
//! no worktree touched), pushed if asked, and only then is the branch moved and the changed
//! files checked out. On any failure the repository is left exactly as it was. When a push
//! is rejected because the remote moved, the same change is made again on top of the new
//! remote head (re-doing the edit, not a textual rebase) and pushed again, with jittered
//! backoff.

use std::path::{Path, PathBuf};
use std::time::Duration;

use git2::{Commit, ErrorCode, Oid, Repository, Signature, Status};

use super::auth;
use crate::error::{Diagnostic, Error, Result};

fn git(what: impl std::fmt::Display, e: &git2::Error) -> Error {
    Diagnostic::new(format!("{what}: {}", e.message())).into()
}

/// The repository holding `root`, its current branch and the path of `root` inside it.
pub(crate) struct Checkout {
    pub repo: Repository,
    pub branch: String,
    pub head: Oid,
    /// `root` relative to the repository's work tree (`""` when they are the same).
    prefix: PathBuf,
}

impl Checkout {
    pub(crate) fn open(root: &Path) -> Result<Checkout> {
        let repo = Repository::discover(root).map_err(|e| {
            Diagnostic::new(format!(
                "{} is not in a git repository: {}",
                root.display(),
                e.message()
            ))
            .hint("--commit needs a git clone of the repository")
        })?;
        let (branch, head) = {
            let head = repo.head().map_err(|e| git("cannot read HEAD", &e))?;
            if !head.is_branch() {
                return Err(Diagnostic::new("HEAD is detached: there is no branch to commit to")
                    .hint("check out the branch first (CI systems often check out a bare commit: `git checkout -B main origin/main`)")
                    .into());
            }
            let branch = head.shorthand().unwrap_or_default().to_owned();
            let target = head
                .target()
                .ok_or_else(|| Diagnostic::new("HEAD points nowhere"))?;
            (branch, target)
        };
        let workdir = repo.workdir().ok_or_else(|| {
            Diagnostic::new("the repository is bare")
                .hint("run stencil bump in a clone with a work tree")
        })?;
        let workdir = workdir
            .canonicalize()
            .map_err(|e| Error::io("cannot resolve the work tree", &e))?;
        let root = root
            .canonicalize()
            .map_err(|e| Error::io("cannot resolve the repository root", &e))?;
        let prefix = root
            .strip_prefix(&workdir)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        Ok(Checkout {
            repo,
            branch,
            head,
            prefix,
        })
    }

    /// A path of the stencil repository as a path in git (`/`-separated).
    pub(crate) fn git_path(&self, path: &str) -> String {
        let full = self.prefix.join(path);
        full.to_string_lossy().replace('\\', "/")
    }

    /// Refuses files with uncommitted changes: a bump must never clobber someone's edit.
    pub(crate) fn ensure_clean(&self, paths: &[String]) -> Result<()> {
        for path in paths {
            let status = match self.repo.status_file(Path::new(path)) {
                Ok(status) => status,
                Err(e) if e.code() == ErrorCode::NotFound => continue,
                Err(e) => return Err(git(format_args!("cannot read the status of {path}"), &e)),
            };
            if status != Status::CURRENT {
                return Err(Diagnostic::new(format!(
                    "{path} has uncommitted changes ({})",
                    describe(status)
                ))
                .hint("commit or discard them first; stencil bump does not overwrite edits")
                .into());
            }
        }
        Ok(())
    }

    /// The author: `GIT_AUTHOR_NAME`/`GIT_AUTHOR_EMAIL`, else `user.name`/`user.email`.
    pub(crate) fn signature(&self) -> Result<Signature<'static>> {
        if let (Ok(name), Ok(email)) = (
            std::env::var("GIT_AUTHOR_NAME"),
            std::env::var("GIT_AUTHOR_EMAIL"),
        ) {
            return Signature::now(&name, &email)
                .map_err(|e| git("invalid GIT_AUTHOR_NAME/EMAIL", &e));
        }
        self.repo.signature().map(|s| s.to_owned()).map_err(|_| {
            Diagnostic::new("no author for the commit")
                .hint("set GIT_AUTHOR_NAME and GIT_AUTHOR_EMAIL, or git config user.name and user.email")
                .into()
        })
    }

    /// The content of a file at a commit, if it exists there.
    pub(crate) fn read_at(&self, commit: Oid, path: &str) -> Result<Option<Vec<u8>>> {
        let commit = self
            .repo
            .find_commit(commit)
            .map_err(|e| git("cannot read a commit", &e))?;
        let tree = commit.tree().map_err(|e| git("cannot read a tree", &e))?;
        match tree.get_path(Path::new(path)) {
            Ok(entry) => {
                let blob = self
                    .repo
                    .find_blob(entry.id())
                    .map_err(|e| git(format_args!("cannot read {path}"), &e))?;
                Ok(Some(blob.content().to_vec()))
            }
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(git(format_args!("cannot read {path}"), &e)),
        }
    }

    /// A commit on `parent` that sets `files` (git path, content), made as objects only.
    pub(crate) fn commit_on(
        &self,
        parent: Oid,
        files: &[(String, String)],
        message: &str,
        sig: &Signature<'_>,
    ) -> Result<Oid> {
        let parent: Commit<'_> = self
            .repo
            .find_commit(parent)
            .map_err(|e| git("cannot read a commit", &e))?;
        let base = parent.tree().map_err(|e| git("cannot read a tree", &e))?;
        let mut update = git2::build::TreeUpdateBuilder::new();
        for (path, text) in files {
            let blob = self
                .repo
                .blob(text.as_bytes())
                .map_err(|e| git("cannot write a blob", &e))?;
            update.upsert(path.as_str(), blob, git2::FileMode::Blob);
        }
        let tree = update
            .create_updated(&self.repo, &base)
            .map_err(|e| git("cannot write a tree", &e))?;
        let tree = self
            .repo
            .find_tree(tree)
            .map_err(|e| git("cannot read a tree", &e))?;
        self.repo
            .commit(None, sig, sig, message, &tree, &[&parent])
            .map_err(|e| git("cannot create the commit", &e))
    }

    /// Moves the branch to `commit` (only if it is still where we found it) and checks out
    /// what changed, leaving every other file and index entry alone.
    pub(crate) fn advance(&self, commit: Oid) -> Result<()> {
        let target = self
            .repo
            .find_commit(commit)
            .map_err(|e| git("cannot read a commit", &e))?;
        let mut checkout = git2::build::CheckoutBuilder::new();
        checkout.safe();
        self.repo
            .checkout_tree(target.as_object(), Some(&mut checkout))
            .map_err(|e| git("cannot update the work tree (files changed meanwhile?)", &e))?;
        self.repo
            .reference_matching(
                &format!("refs/heads/{}", self.branch),
                commit,
                true,
                self.head,
                "stencil bump",
            )
            .map_err(|e| {
                git(
                    "the branch moved while stencil was working; nothing was changed",
                    &e,
                )
            })?;
        Ok(())
    }
}

/// Why a push did not land.
pub(crate) enum PushError {
    /// The remote has commits we do not: fetch and redo.
    Rejected(String),
    Failed(Error),
}

/// The `http.extraheader` values for `remote`'s push (or fetch) URL, unless `--token-env`
/// names the credentials (two Authorization headers would be refused).
fn headers(repo: &Repository, remote: &git2::Remote<'_>, token_env: Option<&str>) -> Vec<String> {
    if token_env.is_some() {
        return Vec::new();
    }
    let url = remote
        .pushurl()
        .or_else(|| remote.url())
        .unwrap_or_default();
    let headers = repo
        .config()
        .map(|config| auth::extra_headers(&config, url))
        .unwrap_or_default();
    // Names only: the values are credentials.
    tracing::debug!(
        count = headers.len(),
        "http.extraheader values sent to {url}"
    );
    headers
}

/// Pushes `commit` to `refs/heads/<branch>` of `remote`.
pub(crate) fn push(
    checkout: &Checkout,
    remote: &str,
    commit: Oid,
    token_env: Option<&str>,
) -> std::result::Result<(), PushError> {
    let repo = &checkout.repo;
    let mut remote = repo
        .find_remote(remote)
        .map_err(|e| PushError::Failed(git(format_args!("no remote `{remote}`"), &e)))?;
    let rejected = std::cell::RefCell::new(None::<String>);
    let headers = headers(repo, &remote, token_env);
    let mut cb = auth::callbacks(repo, token_env);
    cb.push_update_reference(|_, status| {
        if let Some(msg) = status {
            *rejected.borrow_mut() = Some(msg.to_owned());
        }
        Ok(())
    });
    let mut options = git2::PushOptions::new();
    options.remote_callbacks(cb);
    options.custom_headers(&headers.iter().map(String::as_str).collect::<Vec<_>>());
    let refspec = format!("{commit}:refs/heads/{}", checkout.branch);
    let result = remote.push(&[refspec.as_str()], Some(&mut options));
    drop(options);
    match (result, rejected.into_inner()) {
        (Ok(()), None) => Ok(()),
        (Ok(()), Some(msg)) => Err(PushError::Rejected(msg)),
        (Err(e), _)
            if e.code() == ErrorCode::NotFastForward
                || e.message().contains("non-fast")
                || e.message().contains("fetch first") =>
        {
            Err(PushError::Rejected(e.message().to_owned()))
        }
        (Err(e), _) => Err(PushError::Failed(git("push failed", &e))),
    }
}

/// Fetches `<branch>` from `remote` and returns its head.
pub(crate) fn fetch(checkout: &Checkout, remote: &str, token_env: Option<&str>) -> Result<Oid> {
    let repo = &checkout.repo;
    let mut remote_handle = repo
        .find_remote(remote)
        .map_err(|e| git(format_args!("no remote `{remote}`"), &e))?;
    let headers = headers(repo, &remote_handle, token_env);
    let mut options = git2::FetchOptions::new();
    options.remote_callbacks(auth::callbacks(repo, token_env));
    options.custom_headers(&headers.iter().map(String::as_str).collect::<Vec<_>>());
    let tracking = format!("refs/remotes/{remote}/{}", checkout.branch);
    let refspec = format!("+refs/heads/{}:{tracking}", checkout.branch);
    remote_handle
        .fetch(&[refspec.as_str()], Some(&mut options), None)
        .map_err(|e| git("fetch failed", &e))?;
    repo.refname_to_id(&tracking)
        .map_err(|e| git("the remote branch is missing after fetch", &e))
}

/// Backoff before retry `attempt` (1-based): 100 ms doubling to 3.2 s, times 0.5-1.5 jitter.
pub(crate) fn backoff(attempt: u32) -> Duration {
    let base = 100u64 << attempt.min(5);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let seed = u64::from(nanos) ^ (u64::from(std::process::id()) << 16);
    let jitter = 50 + seed % 101; // 50..=150 percent
    Duration::from_millis(base * jitter / 100)
}

/// A file's git status in words, as `git status` says it.
fn describe(status: Status) -> String {
    let words: Vec<&str> = [
        (Status::INDEX_NEW, "added to the index"),
        (Status::INDEX_MODIFIED, "staged"),
        (Status::INDEX_DELETED, "deleted in the index"),
        (Status::INDEX_RENAMED, "renamed in the index"),
        (Status::WT_NEW, "not tracked"),
        (Status::WT_MODIFIED, "modified"),
        (Status::WT_DELETED, "deleted"),
        (Status::WT_RENAMED, "renamed"),
        (Status::CONFLICTED, "in conflict"),
    ]
    .into_iter()
    .filter(|(flag, _)| status.contains(*flag))
    .map(|(_, word)| word)
    .collect();
    if words.is_empty() {
        "changed".to_owned()
    } else {
        words.join(", ")
    }
}
