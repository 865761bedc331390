//! One module per command: each orchestrates the pipeline stages and returns an exit code.

pub mod affected;
pub mod argocd;
pub mod bump;
mod compare;
pub mod completion;
pub mod diff;
pub mod explain;
pub mod init;
pub mod migrate;
pub mod policy;
pub mod render;
pub mod schemas;
pub mod secrets;
pub mod tenant;
pub mod validate;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Diagnostic, Result};

/// Exit code for invalid input or a failed render.
pub const EXIT_ERROR: u8 = 3;
/// Exit code for "differences / problems found".
pub const EXIT_FOUND: u8 = 1;

pub type Outcome = Result<ExitCode>;

/// Set (before `main`, see main.rs) when the process started with stdout closed. Rust's
/// runtime then points stdout at /dev/null, where every write succeeds: a command would
/// exit 0 having written nothing, and Argo CD would take the empty output as the manifests.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Records that stdout was closed when the process started.
pub fn mark_stdout_closed() {
    STDOUT_CLOSED.store(true, Ordering::Relaxed);
}

/// stdout, for a command's output; an error if it was closed when the process started.
pub fn stdout() -> Result<std::io::StdoutLock<'static>> {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return Err(Diagnostic::new("cannot write to stdout: it is closed")
            .hint("nothing was written; run the command with stdout open (a file, a pipe or `>/dev/null`)")
            .into());
    }
    Ok(std::io::stdout().lock())
}

/// Writes a command's whole output to stdout at once. Any error writing or flushing is an
/// error of the command (a closed stdout, a full disk, a pipe closed early).
pub fn write_stdout(text: &str) -> Result<()> {
    use std::io::Write;
    let mut stdout = stdout()?;
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| crate::error::Error::io("cannot write to stdout", &e))
}

/// A value as pretty JSON with a final newline: the `--output json` of every command.
pub fn json_text<T: serde::Serialize + ?Sized>(value: &T) -> Result<String> {
    let mut text = serde_json::to_string_pretty(value)
        .map_err(|e| Diagnostic::new(format!("cannot write JSON: {e}")))?;
    text.push('\n');
    Ok(text)
}

/// Replaces a file atomically (a temp file beside it, then a rename), creating its folder.
pub fn write_atomic(path: &Path, text: &str) -> Result<()> {
    use std::io::Write as _;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| {
        crate::error::Error::io(format_args!("cannot create {}", dir.display()), &e)
    })?;
    let io = |e: std::io::Error| {
        crate::error::Error::io(format_args!("cannot write {}", path.display()), &e)
    };
    // Named after the target, so a leftover from a killed run says what it was.
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.stencil-"))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io)?;
    // The temporary file is private (0600); the file it replaces keeps its mode, a new
    // file gets the usual 0644.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path).map_or(0o644, |m| m.permissions().mode() & 0o7777);
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(io)?;
    }
    tmp.write_all(text.as_bytes()).map_err(io)?;
    // On disk before the rename: after a crash the target is the old file or the new one.
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// The repository a command works on: its root (`--repo`, or the nearest directory upwards
/// holding `stencil.yaml`) and the work tree there. Every command that reads the repository
/// opens it this one way.
pub struct Context {
    pub root: PathBuf,
    pub source: crate::source::Worktree,
}

impl Context {
    pub fn open(global: &crate::cli::Global) -> Result<Context> {
        let root = find_root(global.repo.as_deref())?;
        let source = crate::source::Worktree::open(&root)?;
        Ok(Context { root, source })
    }

    /// A loader over the work tree (it caches what it reads: one per render).
    pub fn loader(&self) -> crate::load::Loader<'_> {
        crate::load::Loader::new(&self.source)
    }
}

/// The repository root: `--repo`, or the nearest directory upwards holding `stencil.yaml`.
pub fn find_root(repo: Option<&Path>) -> Result<PathBuf> {
    if let Some(dir) = repo {
        return Ok(dir.to_path_buf());
    }
    let cwd = std::env::current_dir()
        .map_err(|e| crate::error::Error::io("cannot read the current directory", &e))?;
    let mut dir = cwd.as_path();
    loop {
        if dir.join("stencil.yaml").is_file() {
            return Ok(dir.to_path_buf());
        }
        match dir.parent() {
            Some(parent) => dir = parent,
            None => {
                return Err(Diagnostic::new(format!(
                    "no stencil.yaml in {} or any parent directory",
                    cwd.display()
                ))
                .hint("run stencil inside a stencil repository, or pass --repo DIR")
                .into());
            }
        }
    }
}
