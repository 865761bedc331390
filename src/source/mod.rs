//! Where input files come from. A [`Source`] reads repository-relative paths; [`Worktree`]
//! reads a directory on disk, [`git::GitTree`] reads one revision from the git object
//! database. Both follow symlinks the same way, within the bounds of [`boundary`]: nothing
//! outside the repository, and no symlink across a tenant's folder.
//!
//! Paths are [`RepoPath`]s: normalised, `/`-separated, never absolute, never containing `..`.

use std::collections::HashSet;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Diagnostic, Error, Result};

pub mod boundary;
pub mod git;

use boundary::{Link, Links};

/// Locks a mutex that guards a cache or a handle. A poisoned lock only means another render
/// thread panicked; what it guards is still consistent (cache entries are inserted whole, a
/// git handle holds no half-done state), so keep going.
pub fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A normalised repository-relative path. Construction refuses absolute paths, `..`, empty
/// paths and backslashes, so a `RepoPath` can never name something outside the repository.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RepoPath(String);

impl RepoPath {
    pub fn parse(text: &str) -> Result<RepoPath, String> {
        if text.is_empty() {
            return Err("the path is empty".into());
        }
        if text.starts_with('/') || text.contains('\\') || text.as_bytes().get(1) == Some(&b':') {
            return Err(format!(
                "`{text}` is absolute; paths are relative to the repository root (e.g. `base/apiserver`)"
            ));
        }
        let mut parts = Vec::new();
        for part in text.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    return Err(format!(
                        "`{text}` uses `..`; paths are relative to the repository root and may not leave it"
                    ));
                }
                p => parts.push(p),
            }
        }
        if parts.is_empty() {
            return Err(format!("`{text}` names the repository root, not a file"));
        }
        Ok(RepoPath(parts.join("/")))
    }

    /// Joins a single, already-safe path component (a name from a directory listing).
    pub fn join(&self, name: &str) -> RepoPath {
        RepoPath(format!("{}/{}", self.0, name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }
}

impl fmt::Display for RepoPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EntryKind {
    File,
    Dir,
}

/// Read access to the files of a repository at one state (a worktree or a git revision).
pub trait Source: Send + Sync {
    /// The bytes of a file, or `None` if there is no such file. A file larger than
    /// `max_bytes`, or one that is not a regular file (a FIFO, a device), is an error, found
    /// before anything is read.
    fn read(&self, path: &RepoPath, max_bytes: u64) -> Result<Option<Vec<u8>>>;
    /// The entries of a directory, sorted by name; empty if there is no such directory.
    fn list(&self, dir: &RepoPath) -> Result<Vec<(String, EntryKind)>>;
    /// What a path is, if it exists.
    fn kind(&self, path: &RepoPath) -> Result<Option<EntryKind>>;
    /// Shown in messages, e.g. the directory or the revision.
    fn describe(&self) -> String;
    /// The git blob id of a file, when the source is a git tree: equal ids, equal bytes.
    fn blob_id(&self, _path: &RepoPath) -> Result<Option<::git2::Oid>> {
        Ok(None)
    }
    /// Whether [`Source::blob_id`] answers (a git tree).
    fn has_blob_ids(&self) -> bool {
        false
    }
    /// Where a path really is, its symlinks followed (within their zone); `None` if missing.
    fn real_path(&self, path: &RepoPath) -> Result<Option<String>> {
        Ok(self.kind(path)?.map(|_| path.as_str().to_owned()))
    }
}

/// A directory on disk.
#[derive(Debug)]
pub struct Worktree {
    root: PathBuf,
    /// Folders (repository-relative) found to be real folders, not symlinks, as is every
    /// folder above them: a file in one that is not a symlink itself is where it seems to be.
    real_dirs: Mutex<HashSet<String>>,
}

impl Worktree {
    pub fn open(root: &Path) -> Result<Worktree> {
        let root = root.canonicalize().map_err(|e| {
            Error::io(
                format_args!("cannot open repository {}", root.display()),
                &e,
            )
        })?;
        Ok(Worktree {
            root,
            real_dirs: Mutex::new(HashSet::new()),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Resolves a path on disk through symlinks, within its zone (see [`boundary`]): the
    /// real path, or `None` when nothing is there.
    fn resolve(&self, path: &RepoPath) -> Result<Option<PathBuf>> {
        // A folder already known real (a tenant's service folder, listed and then read
        // from): no system call.
        if self.known_real_dir(path.as_str()) {
            return Ok(Some(self.root.join(path.as_str())));
        }
        Ok(match self.quick(path)? {
            Quick::Missing => None,
            Quick::Real(real, _) => Some(real),
            Quick::Follow => self.follow(path)?,
        })
    }

    /// Most paths: a real file or folder in a real folder, or nothing at all; nothing to
    /// follow, one system call, whose metadata comes along. (Nothing is nothing whatever
    /// the way to it: no byte is read, and an existing file on the same way is judged by
    /// [`Worktree::follow`].)
    fn quick(&self, path: &RepoPath) -> Result<Quick> {
        let folder = path
            .as_str()
            .rsplit_once('/')
            .map_or("", |(folder, _)| folder);
        let full = self.root.join(path.as_str());
        let meta = match std::fs::symlink_metadata(&full) {
            Ok(meta) => meta,
            Err(e) if missing(&e) => return Ok(Quick::Missing),
            Err(e) => return Err(Error::io(format_args!("cannot read {path}"), &e)),
        };
        if meta.file_type().is_symlink() || !self.is_real_dir(folder) {
            return Ok(Quick::Follow);
        }
        if meta.is_dir() {
            // A real folder in a real folder: real itself.
            self.remember_real_dir(path.as_str());
        }
        Ok(Quick::Real(full, meta))
    }

    /// A symlink on the way, or a folder not seen yet: component by component (each real
    /// folder is remembered, so this costs a system call per new folder only).
    fn follow(&self, path: &RepoPath) -> Result<Option<PathBuf>> {
        Ok(boundary::resolve(self, path.as_str())?.map(|(real, _)| self.root.join(real)))
    }

    /// Whether `dir` is already known to be a real folder reached through real folders only
    /// (no system call).
    fn known_real_dir(&self, dir: &str) -> bool {
        dir.is_empty() || lock(&self.real_dirs).contains(dir)
    }

    fn remember_real_dir(&self, dir: &str) {
        lock(&self.real_dirs).insert(dir.to_owned());
    }

    /// Whether `dir` (repository-relative, `""` for the root) is a real folder reached
    /// through real folders only. Each folder is checked once.
    fn is_real_dir(&self, dir: &str) -> bool {
        if self.known_real_dir(dir) {
            return true;
        }
        let parent = dir.rsplit_once('/').map_or("", |(parent, _)| parent);
        if !self.is_real_dir(parent) {
            return false;
        }
        let real = std::fs::symlink_metadata(self.root.join(dir)).is_ok_and(|m| m.is_dir());
        if real {
            self.remember_real_dir(dir);
        }
        real
    }
}

impl Links for Worktree {
    fn lookup(&self, path: &str) -> Result<Link> {
        if self.known_real_dir(path) {
            return Ok(Link::Dir);
        }
        let link = self.lstat(path)?;
        if link == Link::Dir {
            // `path` is free of symlinks (the resolver's contract): a real folder.
            self.remember_real_dir(path);
        }
        Ok(link)
    }

    fn inside(&self, target: &str) -> bool {
        Path::new(target).starts_with(&self.root)
    }

    fn at(&self) -> String {
        String::new()
    }
}

impl Worktree {
    /// What is at `path`, without following a final symlink. Intermediate symlinks are
    /// followed by the kernel: only [`boundary::resolve`] may conclude from this that a
    /// folder is real.
    fn lstat(&self, path: &str) -> Result<Link> {
        if path.is_empty() {
            return Ok(Link::Dir);
        }
        let full = self.root.join(path);
        let meta = match std::fs::symlink_metadata(&full) {
            Ok(meta) => meta,
            Err(e) if missing(&e) => return Ok(Link::Missing),
            Err(e) => return Err(Error::io(format_args!("cannot read {path}"), &e)),
        };
        let kind = meta.file_type();
        Ok(if kind.is_symlink() {
            let target = std::fs::read_link(&full)
                .map_err(|e| Error::io(format_args!("cannot read the symlink {path}"), &e))?;
            let Some(target) = target.to_str() else {
                return Err(Diagnostic::new(format!(
                    "{path} is a symlink to a path that is not UTF-8"
                ))
                .hint("remove the symlink; use `extends:` to share values between files")
                .into());
            };
            Link::Symlink(target.to_owned())
        } else if kind.is_dir() {
            Link::Dir
        } else {
            // Regular files, and FIFOs or devices, which `read` refuses.
            Link::File
        })
    }
}

/// What one `lstat` says of a path (see [`Worktree::quick`]).
enum Quick {
    Missing,
    /// Where it is, and its metadata: no symlink on the way.
    Real(PathBuf, std::fs::Metadata),
    /// A symlink on the way, or a folder not known real yet.
    Follow,
}

/// Nothing there: no such entry, or a file where a folder was expected on the way.
fn missing(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

impl Source for Worktree {
    fn real_path(&self, path: &RepoPath) -> Result<Option<String>> {
        Ok(boundary::resolve(self, path.as_str())?.map(|(real, _)| real))
    }

    fn read(&self, path: &RepoPath, max_bytes: u64) -> Result<Option<Vec<u8>>> {
        // The metadata of the fast path's one `lstat` is the file's own (no symlink on the
        // way); after following symlinks, the target's.
        let (real, meta) = match self.quick(path)? {
            Quick::Missing => return Ok(None),
            Quick::Real(real, meta) => (real, meta),
            Quick::Follow => {
                let Some(real) = self.follow(path)? else {
                    return Ok(None);
                };
                match std::fs::metadata(&real) {
                    Ok(meta) => (real, meta),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                    Err(e) => return Err(Error::io(format_args!("cannot read {path}"), &e)),
                }
            }
        };
        if meta.is_dir() {
            return Ok(None);
        }
        if !meta.is_file() {
            return Err(Diagnostic::new(format!("{path} is not a regular file"))
                .hint("stencil reads regular files only; remove the FIFO, socket or device")
                .into());
        }
        if meta.len() > max_bytes {
            return Err(too_big(path, meta.len(), max_bytes));
        }
        let file = std::fs::File::open(&real)
            .map_err(|e| Error::io(format_args!("cannot read {path}"), &e))?;
        let bytes = read_up_to(file, meta.len(), max_bytes)
            .map_err(|e| Error::io(format_args!("cannot read {path}"), &e))?;
        if bytes.len() as u64 > max_bytes {
            return Err(too_big(path, bytes.len() as u64, max_bytes));
        }
        Ok(Some(bytes))
    }

    fn list(&self, dir: &RepoPath) -> Result<Vec<(String, EntryKind)>> {
        let Some(real) = self.resolve(dir)? else {
            return Ok(Vec::new());
        };
        let real_here = self.known_real_dir(dir.as_str());
        let entries = match std::fs::read_dir(&real) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotADirectory => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(format_args!("cannot list {dir}"), &e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(format_args!("cannot list {dir}"), &e))?;
            let Ok(name) = entry.file_name().into_string() else {
                continue; // not UTF-8: cannot be named from YAML, so cannot matter
            };
            let file_type = entry
                .file_type()
                .map_err(|e| Error::io(format_args!("cannot list {dir}"), &e))?;
            let kind = if file_type.is_symlink() {
                match self.kind(&dir.join(&name))? {
                    Some(kind) => kind,
                    None => continue,
                }
            } else if file_type.is_dir() {
                // A folder (not a symlink) in a real folder is real: reading from it later
                // needs no `lstat` of it (each tenant's and service's folder, once each).
                if real_here {
                    self.remember_real_dir(dir.join(&name).as_str());
                }
                EntryKind::Dir
            } else {
                EntryKind::File
            };
            out.push((name, kind));
        }
        sort_by_name(&mut out);
        Ok(out)
    }

    fn kind(&self, path: &RepoPath) -> Result<Option<EntryKind>> {
        Ok(self.resolve(path)?.map(|real| {
            if real.is_dir() {
                EntryKind::Dir
            } else {
                EntryKind::File
            }
        }))
    }

    fn describe(&self) -> String {
        self.root.display().to_string()
    }
}

/// Reads a regular file that had `expected` bytes, but never more than `max + 1` (the file
/// may grow between stat and read). Asks for one byte more than expected: a regular file
/// answers a read with fewer bytes than asked only at its end, so the usual file is one
/// `read`, not a second one to see the end.
fn read_up_to(mut file: std::fs::File, expected: u64, max: u64) -> io::Result<Vec<u8>> {
    use std::io::Read as _;
    let limit = usize::try_from(max.saturating_add(1)).unwrap_or(usize::MAX);
    let first = usize::try_from(expected.saturating_add(1))
        .unwrap_or(usize::MAX)
        .min(limit);
    let mut bytes = vec![0u8; first];
    let mut filled = 0;
    loop {
        let asked = bytes.len() - filled;
        let n = match file.read(&mut bytes[filled..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        filled += n;
        if n < asked || filled >= limit {
            break;
        }
        // Grown since the stat: room for more, up to the limit.
        let more = bytes.len().saturating_mul(2).min(limit);
        bytes.resize(more, 0);
    }
    bytes.truncate(filled);
    Ok(bytes)
}

/// Sorts a folder's entries by name, byte-wise. Names in one folder are unique, so an
/// unstable sort by name alone is the order of the (name, kind) pairs. Most names differ in
/// their first eight bytes, compared as one number; only the rest go to a string
/// comparison. Listing `tenants/` at 1,000 tenants spent half its instructions sorting.
pub(crate) fn sort_by_name(entries: &mut [(String, EntryKind)]) {
    fn head(name: &str) -> u64 {
        let mut bytes = [0u8; 8];
        let n = name.len().min(8);
        bytes[..n].copy_from_slice(&name.as_bytes()[..n]);
        u64::from_be_bytes(bytes)
    }
    // Zero padding keeps the byte order: a name holds no NUL, so a shorter name whose bytes
    // begin a longer one is below it both ways.
    entries.sort_unstable_by(|a, b| head(&a.0).cmp(&head(&b.0)).then_with(|| a.0.cmp(&b.0)));
}

pub fn too_big(path: &RepoPath, len: u64, max: u64) -> Error {
    Diagnostic::new(format!("{path} is {len} bytes; input files are limited to {max} bytes"))
        .hint("stencil inputs are small configuration files; split the file or move data out of the repository")
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_byte_wise() {
        use proptest::prelude::*;
        let name = proptest::collection::vec(
            prop_oneof![
                Just('a'),
                Just('b'),
                Just('-'),
                Just('é'),
                Just('\u{7f}'),
                any::<char>()
            ]
            .prop_filter("no NUL or slash", |c| !matches!(c, '\0' | '/')),
            0..12,
        )
        .prop_map(|chars| chars.into_iter().collect::<String>());
        let mut runner = proptest::test_runner::TestRunner::default();
        runner
            .run(&proptest::collection::vec(name, 0..40), |names| {
                let mut entries: Vec<(String, EntryKind)> =
                    names.iter().map(|n| (n.clone(), EntryKind::File)).collect();
                entries.sort();
                entries.dedup_by(|a, b| a.0 == b.0);
                let mut ours = entries.clone();
                ours.reverse();
                sort_by_name(&mut ours);
                prop_assert_eq!(ours, entries);
                Ok(())
            })
            .unwrap();
    }

    /// Whatever the stat said: the whole file, or the limit and one byte more.
    #[test]
    fn reads_up_to_the_limit_whatever_the_stat_said() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        for len in [0usize, 1, 7, 4096, 70_000] {
            let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            std::fs::write(&path, &data).unwrap();
            let open = || std::fs::File::open(&path).unwrap();
            let len = len as u64;
            // The stat was right, too small (the file grew), too large (it shrank), zero.
            for expected in [len, len / 2, len + 100, 0] {
                assert_eq!(
                    read_up_to(open(), expected, 1 << 20).unwrap(),
                    data,
                    "{len} {expected}"
                );
                // A limit below the size: never more than the limit and one byte.
                if len > 3 {
                    let got = read_up_to(open(), expected, 3).unwrap();
                    assert_eq!(got, data[..4], "{len} {expected}");
                }
            }
        }
    }

    #[test]
    fn repo_paths_refuse_escapes() {
        assert_eq!(RepoPath::parse("base/api/").unwrap().as_str(), "base/api");
        assert_eq!(RepoPath::parse("./base//api").unwrap().as_str(), "base/api");
        assert!(RepoPath::parse("../../etc/passwd").is_err());
        assert!(RepoPath::parse("base/../../x").is_err());
        assert!(RepoPath::parse("/etc/passwd").is_err());
        assert!(RepoPath::parse("C:\\x").is_err());
        assert!(RepoPath::parse(".").is_err());
        assert!(RepoPath::parse("").is_err());
    }
}
