//! `stencil bump`: the CI step after an image push. [`edit`] changes `version.yaml` byte for
//! byte (only the value), [`plan`] decides which files change and computes every edit before
//! anything is written, [`git`] commits (and pushes, redoing the edit on the remote's head
//! when another pipeline pushed first) through [`publish`], which uses git2 and touches no
//! ref until the end.

mod auth;
pub(crate) mod edit;
mod git;
mod plan;
pub(crate) mod publish;

pub(crate) use edit::Bump;
pub(crate) use git::commit_and_push;
pub(crate) use plan::{check_service, check_sidecar, edits, report_pins, targets, unified_diff};

/// What to do when the remote changed the same version file to another tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Conflict {
    /// Stop with an error; nothing is pushed.
    Fail,
    /// Push our tag over theirs.
    Ours,
    /// Keep their tag; exit 0 without pushing.
    Theirs,
}

/// A bump's settings besides the tag: which service and tenants, and how to commit.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) service: String,
    /// Tenant globs; empty: the base's version file.
    pub(crate) tenants: Vec<String>,
    pub(crate) sidecar: Option<String>,
    /// The commit message template (`{service}`, `{tag}`, `{digest}`, `{tenants}`).
    pub(crate) message: String,
    /// The remote to push to.
    pub(crate) push: Option<String>,
    pub(crate) retries: u32,
    pub(crate) on_conflict: Conflict,
    /// The environment variable holding the push token.
    pub(crate) token_env: Option<String>,
}
