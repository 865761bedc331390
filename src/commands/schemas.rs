//! `stencil schemas`: writes the JSON Schema of each of stencil's files into `schemas/` (or
//! `--out-dir`), where the `# yaml-language-server: $schema=…` line that `init`, `migrate`
//! and `tenant add` start their files with points; those commands call [`update`] too.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::cli::{Global, SchemasArgs};
use crate::error::{Error, Result};

use super::{Outcome, find_root, write_stdout};

pub fn run(global: &Global, args: &SchemasArgs) -> Outcome {
    let dir = match &args.out_dir {
        Some(dir) => dir.clone(),
        None => find_root(global.repo.as_deref())?.join("schemas"),
    };
    let written = update(&dir)?;
    let mut out = String::new();
    for path in &written {
        out.push_str(&format!("wrote {}\n", path.display()));
    }
    write_stdout(&out)?;
    if written.is_empty() {
        eprintln!("ok: the schemas in {} are up to date", dir.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes each schema file into `dir` (made if missing) whose content differs; the paths
/// written. Each file is replaced whole (written beside, then renamed).
pub(super) fn update(dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(format_args!("cannot create {}", dir.display()), &e))?;
    let mut written = Vec::new();
    for (name, text) in crate::model::schema_files() {
        let path = dir.join(&name);
        if std::fs::read_to_string(&path).is_ok_and(|old| old == text) {
            continue;
        }
        let mut file = tempfile::NamedTempFile::new_in(dir)
            .map_err(|e| Error::io(format_args!("cannot write in {}", dir.display()), &e))?;
        std::io::Write::write_all(&mut file, text.as_bytes())
            .map_err(|e| Error::io(format_args!("cannot write {}", path.display()), &e))?;
        file.persist(&path)
            .map_err(|e| Error::io(format_args!("cannot write {}", path.display()), &e.error))?;
        written.push(path);
    }
    Ok(written)
}
