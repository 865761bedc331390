//! `stencil bump SERVICE TAG`: the CI step after an image push. Validates the tag, edits the
//! version files byte-for-byte (only the value changes), and optionally commits and pushes,
//! redoing the edit on top of the remote when another pipeline pushed first.

use std::process::ExitCode;

use globset::{Glob, GlobSetBuilder};
use tracing::info;

use super::{Outcome, find_root, write_atomic, write_stdout};
use crate::bump::{self, Bump, Edit};
use crate::cli::{BumpArgs, Global, OnConflict};
use crate::error::{Diagnostic, Result, did_you_mean};
use crate::load::{Loader, Role, load_repo_lenient};
use crate::names::{Digest, Tag};
use crate::node::Node;
use crate::origin::SourceFile;
use crate::publish::{self, Checkout, PushError};
use crate::source::{RepoPath, Source, Worktree};

/// One version file to change.
struct Target {
    path: String,
    /// Relative path from the file to schemas/version.schema.json, for new files.
    schema: &'static str,
}

/// A version file's edit: its path, old text (empty for a new file) and new text.
type FileEdit = (String, String, String);

pub fn run(global: &Global, args: &BumpArgs) -> Outcome {
    let root = find_root(global.repo.as_deref())?;
    let source = Worktree::open(&root)?;
    let loader = Loader::new(&source);
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
    check_service(&repo, &args.service)?;
    let bump = Bump {
        tag,
        digest,
        sidecar: args.sidecar.clone(),
    };

    let targets = targets(args, &repo)?;
    if !args.tenants.is_empty() && targets.is_empty() {
        return Err(Diagnostic::new("--tenant matches no tenant that runs this service").into());
    }
    if args.tenants.is_empty() {
        report_pins(&loader, &repo, args)?;
    }
    // Every edit is computed before anything is written.
    let edits = edits(&source, &targets, &bump)?;
    if edits.is_empty() {
        eprintln!("{} is already at {}; nothing to do", args.service, bump.tag);
        return Ok(ExitCode::SUCCESS);
    }
    if args.dry_run {
        write_stdout(&unified_diff(&edits))?;
        return Ok(ExitCode::SUCCESS);
    }
    if !args.commit && args.push.is_none() {
        for (path, _, new) in &edits {
            write_atomic(&root.join(path), new)?;
            eprintln!("{path}: {} -> {}", args.service, bump.tag);
        }
        return Ok(ExitCode::SUCCESS);
    }
    commit_and_push(&root, args, &bump, &edits)
}

/// The service to bump is one under `base/`.
fn check_service(repo: &crate::load::Repo, service: &str) -> Result<()> {
    if repo.services.contains(service) {
        return Ok(());
    }
    let hint = match did_you_mean(service, repo.services.iter().map(String::as_str)) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!(
            "services under base/: {}",
            repo.services
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    Err(Diagnostic::new(format!("no service `{service}`"))
        .hint(hint)
        .into())
}

/// The edits of the target files that change: a file already at the tag is left out, a
/// missing file is created.
fn edits(source: &Worktree, targets: &[Target], bump: &Bump) -> Result<Vec<FileEdit>> {
    let mut edits = Vec::new();
    for target in targets {
        let path = RepoPath::parse(&target.path).map_err(Diagnostic::new)?;
        let old = match source.read(&path, crate::load::MAX_FILE_BYTES as u64)? {
            Some(bytes) => Some(
                String::from_utf8(bytes)
                    .map_err(|_| Diagnostic::new(format!("{path} is not valid UTF-8")))?,
            ),
            None => None,
        };
        let new = match &old {
            Some(text) => {
                match bump::edit(&SourceFile::new(target.path.as_str(), text.as_str()), bump)? {
                    Edit::Unchanged => continue,
                    Edit::Changed { text, .. } => text,
                }
            }
            None => bump::new_file(target.schema, bump),
        };
        edits.push((target.path.clone(), old.unwrap_or_default(), new));
    }
    Ok(edits)
}

/// `--dry-run`: the edits as one unified diff.
fn unified_diff(edits: &[FileEdit]) -> String {
    let mut out = String::new();
    for (path, old, new) in edits {
        let diff = similar::TextDiff::from_lines(old.as_str(), new.as_str());
        out.push_str(
            &diff
                .unified_diff()
                .context_radius(3)
                .header(&format!("a/{path}"), &format!("b/{path}"))
                .to_string(),
        );
    }
    out
}

/// The version files to edit: the base's, or the pins of the selected tenants.
fn targets(args: &BumpArgs, repo: &crate::load::Repo) -> Result<Vec<Target>> {
    if args.tenants.is_empty() {
        return Ok(vec![Target {
            path: format!("base/{}/version.yaml", args.service),
            schema: "../../schemas/version.schema.json",
        }]);
    }
    let mut globs = GlobSetBuilder::new();
    for g in &args.tenants {
        globs.add(Glob::new(g).map_err(|e| Diagnostic::new(format!("invalid glob `{g}`: {e}")))?);
    }
    let globs = globs.build().map_err(|e| Diagnostic::new(e.to_string()))?;
    Ok(repo
        .tenants
        .iter()
        .filter(|t| globs.is_match(t.name.as_str()) && t.spec.services.contains(&args.service))
        .map(|t| Target {
            path: format!("tenants/{}/{}/version.yaml", t.name, args.service),
            schema: "../../../schemas/version.schema.json",
        })
        .collect())
}

/// Tenants that pin their own version are not affected by a base bump: say so.
fn report_pins(loader: &Loader<'_>, repo: &crate::load::Repo, args: &BumpArgs) -> Result<()> {
    for tenant in repo
        .tenants
        .iter()
        .filter(|t| t.spec.services.contains(&args.service))
    {
        let path = RepoPath::parse(&format!(
            "tenants/{}/{}/version.yaml",
            tenant.name, args.service
        ))
        .map_err(Diagnostic::new)?;
        let Some(node) = loader.load(&path, Role::Version)? else {
            continue;
        };
        let image = bump::image_map(&node, args.sidecar.as_deref());
        if let Some(pin) = image
            .and_then(|i| i.get("tag"))
            .and_then(Node::as_scalar_text)
        {
            eprintln!("not affected: tenants/{} pins {pin}", tenant.name);
        }
    }
    Ok(())
}

fn message(args: &BumpArgs, bump: &Bump) -> String {
    args.message
        .replace("{service}", &args.service)
        .replace("{tag}", bump.tag.as_str())
        .replace("{digest}", bump.digest.as_ref().map_or("", Digest::as_str))
        .replace("{tenants}", &args.tenants.join(","))
}

fn commit_and_push(
    root: &std::path::Path,
    args: &BumpArgs,
    bump: &Bump,
    edits: &[FileEdit],
) -> Outcome {
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
                return Ok(ExitCode::SUCCESS);
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
    Ok(ExitCode::SUCCESS)
}

/// Pushing a bump commit, redoing it on the remote's head when the push is rejected.
struct Publish<'a> {
    checkout: &'a Checkout,
    remote: &'a str,
    args: &'a BumpArgs,
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
            info!(
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
    args: &BumpArgs,
) -> Result<Redo> {
    let tag_of = |text: &str, path: &str| -> Option<String> {
        let file = SourceFile::new(path, text);
        let doc = crate::yaml::read::parse(&file, crate::yaml::read::Limits::default()).ok()?;
        let image = bump::image_map(&doc, bump.sidecar.as_deref())?;
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
                OnConflict::Fail => {
                    return Err(Diagnostic::new(format!(
                        "conflict: someone else set {path} to {now} after we read {}; not overwriting it with {}",
                        before.as_deref().unwrap_or("(none)"),
                        bump.tag
                    ))
                    .hint("re-run the pipeline if {tag} is still wanted, or pass --on-conflict ours|theirs")
                    .note("nothing was committed locally; the repository is as it was")
                    .into());
                }
                OnConflict::Theirs => return Ok(Redo::KeepTheirs(now)),
                OnConflict::Ours => {}
            }
        }
        let new = match &theirs {
            Some(text) => match bump::edit(&SourceFile::new(path.as_str(), text.as_str()), bump)? {
                Edit::Unchanged => continue,
                Edit::Changed { text, .. } => text,
            },
            None => bump::new_file("../../schemas/version.schema.json", bump),
        };
        files.push((git_path.clone(), new));
    }
    if files.is_empty() {
        return Ok(Redo::AlreadyThere);
    }
    Ok(Redo::Commit(files))
}
