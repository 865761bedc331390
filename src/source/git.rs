//! A [`Source`] reading one revision straight from the git object database: no checkout, no
//! temporary worktree, the user's files and index untouched. It sees the same repository a
//! worktree would at that commit: symlinks (blobs of mode 120000) are followed within the
//! same bounds as on disk ([`boundary`](super::boundary)), and a stencil root below the git
//! root (`deploy/` holding `stencil.yaml`) is read as the root.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use git2::{ErrorCode, ObjectType, Oid, Repository, TreeWalkMode, TreeWalkResult};

use super::boundary::{Link, Links};
use super::{EntryKind, RepoPath, Source, too_big};
use crate::error::{Diagnostic, Error, Result};

fn git(what: impl std::fmt::Display, e: &git2::Error) -> Error {
    Diagnostic::new(format!("{what}: {}", e.message())).into()
}

#[derive(Debug, Clone)]
enum Entry {
    File(Oid),
    Dir,
    Symlink(String),
}

/// The files of the stencil root at one commit.
pub struct GitTree {
    git_dir: PathBuf,
    /// Open handles on the repository, one per thread reading at a time (a `Repository` is
    /// not `Sync`): renders read blobs from every thread, and one shared handle behind a
    /// lock made `diff` wait on it.
    repos: Mutex<Vec<Repository>>,
    /// Paths relative to the stencil root (`""` is the root itself).
    entries: BTreeMap<String, Entry>,
    /// Whether any entry is a symlink; without one, a path is what it names.
    symlinks: bool,
    label: String,
}

impl GitTree {
    /// Reads the tree of `commit` below `prefix` (the stencil root relative to the git root,
    /// `""` for the git root itself). `label` names the revision in messages.
    pub fn open(git_dir: &Path, commit: Oid, prefix: &str, label: String) -> Result<GitTree> {
        let repo = Repository::open(git_dir)
            .map_err(|e| git(format_args!("cannot open {}", git_dir.display()), &e))?;
        let entries = {
            let commit = repo
                .find_commit(commit)
                .map_err(|e| git(format_args!("cannot read commit {commit}"), &e))?;
            let mut tree = commit
                .tree()
                .map_err(|e| git(format_args!("cannot read the tree of {label}"), &e))?;
            if !prefix.is_empty() {
                let entry = tree.get_path(Path::new(prefix)).map_err(|_| {
                    Diagnostic::new(format!("{label} has no folder {prefix}/"))
                        .hint("the stencil root did not exist at that revision; pick a later one")
                })?;
                tree = entry
                    .to_object(&repo)
                    .and_then(|o| o.peel_to_tree())
                    .map_err(|e| git(format_args!("{prefix} at {label} is not a folder"), &e))?;
            }
            let mut entries = BTreeMap::from([(String::new(), Entry::Dir)]);
            let mut failure = None;
            tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
                let Some(name) = entry.name() else {
                    return TreeWalkResult::Skip; // not UTF-8: cannot be named from YAML
                };
                let path = format!("{dir}{name}");
                let kind = match (entry.kind(), entry.filemode()) {
                    (Some(ObjectType::Tree), _) => Entry::Dir,
                    (Some(ObjectType::Blob), 0o120_000) => match repo.find_blob(entry.id()) {
                        Ok(blob) => {
                            Entry::Symlink(String::from_utf8_lossy(blob.content()).into_owned())
                        }
                        Err(e) => {
                            failure = Some(git(format_args!("cannot read {path} at {label}"), &e));
                            return TreeWalkResult::Abort;
                        }
                    },
                    (Some(ObjectType::Blob), _) => Entry::File(entry.id()),
                    _ => return TreeWalkResult::Skip, // submodules
                };
                entries.insert(path, kind);
                TreeWalkResult::Ok
            })
            .map_err(|e| git(format_args!("cannot read the tree of {label}"), &e))?;
            if let Some(err) = failure {
                return Err(err);
            }
            entries
        };
        let symlinks = entries.values().any(|e| matches!(e, Entry::Symlink(_)));
        Ok(GitTree {
            symlinks,
            git_dir: git_dir.to_path_buf(),
            repos: Mutex::new(vec![repo]),
            entries,
            label,
        })
    }

    /// Runs `f` with a repository handle no other thread is using: a free one, else a new
    /// one (as many as threads read at once).
    fn with_repo<T>(&self, f: impl FnOnce(&Repository) -> Result<T>) -> Result<T> {
        let free = super::lock(&self.repos).pop();
        let repo = match free {
            Some(repo) => repo,
            None => Repository::open(&self.git_dir)
                .map_err(|e| git(format_args!("cannot open {}", self.git_dir.display()), &e))?,
        };
        let out = f(&repo);
        super::lock(&self.repos).push(repo);
        out
    }

    /// Follows symlinks component by component, within the path's zone (see
    /// [`boundary`](super::boundary)); `None` when the path does not exist.
    fn resolve(&self, path: &str) -> Result<Option<(String, &Entry)>> {
        if !self.symlinks {
            // Nothing to follow: every folder above an entry is a real folder (the tree walk
            // put it there), and a missing path is missing. What the walk below would find,
            // without its lookup per component.
            return Ok(self
                .entries
                .get_key_value(path)
                .map(|(real, e)| (real.clone(), e)));
        }
        self.walk(path)
    }

    /// The component-by-component resolution (what a tree with symlinks needs).
    fn walk(&self, path: &str) -> Result<Option<(String, &Entry)>> {
        let Some((real, _)) = super::boundary::resolve(self, path)? else {
            return Ok(None);
        };
        Ok(self.entries.get(&real).map(|e| (real.clone(), e)))
    }
}

impl Links for GitTree {
    fn lookup(&self, path: &str) -> Result<Link> {
        Ok(match self.entries.get(path) {
            None => Link::Missing,
            Some(Entry::File(_)) => Link::File,
            Some(Entry::Dir) => Link::Dir,
            Some(Entry::Symlink(target)) => Link::Symlink(target.clone()),
        })
    }

    fn inside(&self, _target: &str) -> bool {
        false
    }

    fn at(&self) -> String {
        format!(" at {}", self.label)
    }
}

impl Source for GitTree {
    fn real_path(&self, path: &RepoPath) -> Result<Option<String>> {
        Ok(self.resolve(path.as_str())?.map(|(real, _)| real))
    }

    fn read(&self, path: &RepoPath, max_bytes: u64) -> Result<Option<Vec<u8>>> {
        let Some((_, Entry::File(oid))) = self.resolve(path.as_str())? else {
            return Ok(None);
        };
        let failed = |e: &git2::Error| git(format_args!("cannot read {path} at {}", self.label), e);
        self.with_repo(|repo| {
            let odb = repo.odb().map_err(|e| failed(&e))?;
            let (size, _) = odb.read_header(*oid).map_err(|e| failed(&e))?;
            if size as u64 > max_bytes {
                return Err(too_big(path, size as u64, max_bytes));
            }
            let blob = repo.find_blob(*oid).map_err(|e| failed(&e))?;
            Ok(Some(blob.content().to_vec()))
        })
    }

    fn list(&self, dir: &RepoPath) -> Result<Vec<(String, EntryKind)>> {
        let Some((real, Entry::Dir)) = self.resolve(dir.as_str())? else {
            return Ok(Vec::new());
        };
        let prefix = format!("{real}/");
        let mut out = Vec::new();
        for (path, _) in self.entries.range(prefix.clone()..) {
            let Some(name) = path.strip_prefix(&prefix) else {
                break;
            };
            if name.contains('/') {
                continue;
            }
            if let Some(kind) = self.kind(&dir.join(name))? {
                out.push((name.to_owned(), kind));
            }
        }
        super::sort_by_name(&mut out);
        Ok(out)
    }

    fn kind(&self, path: &RepoPath) -> Result<Option<EntryKind>> {
        // A dangling symlink is an error, as on disk.
        Ok(match self.resolve(path.as_str())? {
            Some((_, Entry::Dir)) => Some(EntryKind::Dir),
            Some((_, Entry::File(_))) => Some(EntryKind::File),
            Some((_, Entry::Symlink(_))) | None => None,
        })
    }

    fn describe(&self) -> String {
        self.label.clone()
    }

    fn has_blob_ids(&self) -> bool {
        true
    }

    fn blob_id(&self, path: &RepoPath) -> Result<Option<Oid>> {
        Ok(match self.resolve(path.as_str())? {
            Some((_, Entry::File(oid))) => Some(*oid),
            _ => None,
        })
    }
}

/// A git repository holding a stencil root.
pub struct GitRepo {
    pub repo: Repository,
    /// The stencil root relative to the git work tree (`""` when they are the same).
    pub prefix: String,
}

impl GitRepo {
    /// Finds the git repository containing `root` (the folder holding `stencil.yaml`).
    pub fn discover(root: &Path) -> Result<GitRepo> {
        let repo = Repository::discover(root).map_err(|_| {
            Diagnostic::new(format!("{} is not in a git repository", root.display()))
                .hint("diff compares git revisions; to compare two folders use --from-dir DIR --to-dir DIR")
        })?;
        let workdir = repo
            .workdir()
            .ok_or_else(|| Diagnostic::new("the git repository is bare; run stencil in a clone"))?
            .canonicalize()
            .map_err(|e| Error::io("cannot resolve the git work tree", &e))?;
        let root = root
            .canonicalize()
            .map_err(|e| Error::io(format_args!("cannot resolve {}", root.display()), &e))?;
        let prefix = root
            .strip_prefix(&workdir)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        Ok(GitRepo { repo, prefix })
    }

    /// Resolves a revision (branch, tag, sha, `HEAD~2`, `origin/main`) to a commit.
    pub fn commit(&self, rev: &str) -> Result<Oid> {
        let object = self.repo.revparse_single(rev).map_err(|e| {
            let hint = if self.repo.is_shallow() {
                "this is a shallow clone: fetch more history (`git fetch --unshallow`, or `fetch-depth: 0` in actions/checkout)"
            } else {
                "use a branch, tag or commit that exists here (`git fetch` first for a remote branch)"
            };
            Diagnostic::new(format!("unknown revision `{rev}`: {}", e.message())).hint(hint)
        })?;
        let commit = object
            .peel_to_commit()
            .map_err(|e| git(format_args!("`{rev}` is not a commit"), &e))?;
        Ok(commit.id())
    }

    /// The default base of a comparison: the merge-base of HEAD with its upstream branch, or
    /// HEAD when there is no upstream. Returns the commit and how it was chosen.
    pub fn default_base(&self) -> Result<(Oid, String)> {
        let head = self.repo.head().map_err(|e| {
            Diagnostic::new(format!("cannot read HEAD: {}", e.message()))
                .hint("make a first commit, or pass --from REV")
        })?;
        let head_id = head
            .peel_to_commit()
            .map_err(|e| git("HEAD is not a commit", &e))?
            .id();
        let upstream = head
            .shorthand()
            .filter(|_| head.is_branch())
            .and_then(|name| self.repo.find_branch(name, git2::BranchType::Local).ok())
            .and_then(|branch| branch.upstream().ok());
        let Some(upstream) = upstream else {
            return Ok((head_id, "HEAD".into()));
        };
        let name = upstream
            .name()
            .ok()
            .flatten()
            .unwrap_or("upstream")
            .to_owned();
        let Some(upstream_id) = upstream.get().target() else {
            return Ok((head_id, "HEAD".into()));
        };
        match self.repo.merge_base(head_id, upstream_id) {
            Ok(base) => Ok((base, format!("merge-base of HEAD and {name}"))),
            Err(e) if e.code() == ErrorCode::NotFound => {
                let hint = if self.repo.is_shallow() {
                    "this is a shallow clone without the merge-base: fetch more history (`git fetch --unshallow`, or `fetch-depth: 0` in actions/checkout), or pass --from REV"
                } else {
                    "HEAD and its upstream share no history; pass --from REV"
                };
                Err(Diagnostic::new(format!("no merge-base of HEAD and {name}"))
                    .hint(hint)
                    .into())
            }
            Err(e) => Err(git(
                format_args!("cannot find the merge-base of HEAD and {name}"),
                &e,
            )),
        }
    }

    /// A short label for messages: `abc1234 (REV)`.
    pub fn label(&self, id: Oid, rev: &str) -> String {
        let short = id.to_string()[..7].to_owned();
        if rev.starts_with(&short) {
            short
        } else {
            format!("{short} ({rev})")
        }
    }

    pub fn tree(&self, id: Oid, rev: &str) -> Result<GitTree> {
        GitTree::open(self.repo.path(), id, &self.prefix, self.label(id, rev))
    }
}

/// Commits `files` (path, content) on top of HEAD, in a repository created if need be:
/// the git fixture of the unit tests here and in `load`.
#[cfg(test)]
pub(crate) fn commit_files(dir: &Path, files: &[(&str, &str)]) -> Oid {
    let repo = Repository::open(dir)
        .or_else(|_| Repository::init(dir))
        .expect("repo");
    for (path, text) in files {
        let full = dir.join(path);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(&full, text).expect("write");
    }
    let mut index = repo.index().expect("index");
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .expect("add");
    let tree = repo
        .find_tree(index.write_tree().expect("tree"))
        .expect("tree");
    let who = git2::Signature::now("t", "t@example.com").expect("signature");
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
    repo.commit(Some("HEAD"), &who, &who, "c", &tree, &parents)
        .expect("commit")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A commit of `files` in a new repository, each holding `a: 1`.
    fn commit(dir: &Path, files: &[&str]) -> Oid {
        let files: Vec<(&str, &str)> = files.iter().map(|f| (*f, "a: 1\n")).collect();
        commit_files(dir, &files)
    }

    /// Without a symlink in the tree, the one-lookup resolve answers what the walk answers,
    /// for every path of up to four components over the tree's own names and some it lacks:
    /// files, folders, missing paths, files used as folders.
    #[test]
    fn a_tree_without_symlinks_resolves_as_the_walk_does() {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = [
            "stencil.yaml",
            "base/api/service.yaml",
            "tenants/acme/tenant.yaml",
            "tenants/acme/api/values.yaml",
        ];
        let id = commit(dir.path(), &files);
        let tree = GitTree::open(&dir.path().join(".git"), id, "", "HEAD".into()).expect("open");
        assert!(!tree.symlinks);
        let names = [
            "base",
            "api",
            "service.yaml",
            "tenants",
            "acme",
            "tenant.yaml",
            "values.yaml",
            "stencil.yaml",
            "nope",
        ];
        let mut paths: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        for _ in 0..3 {
            let longer: Vec<String> = paths
                .iter()
                .flat_map(|p| names.iter().map(move |n| format!("{p}/{n}")))
                .collect();
            paths.extend(longer);
            paths.sort();
            paths.dedup();
        }
        let mut found = 0;
        for path in &paths {
            let fast = tree.resolve(path).expect("resolve");
            let walked = tree.walk(path).expect("walk");
            assert_eq!(
                fast.as_ref().map(|(real, e)| (real, format!("{e:?}"))),
                walked.as_ref().map(|(real, e)| (real, format!("{e:?}"))),
                "{path}"
            );
            found += usize::from(fast.is_some());
        }
        // Every file and folder of the commit was among the paths.
        assert_eq!(found, files.len() + 5, "{found}");
    }
}
