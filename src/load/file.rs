//! One YAML file outside the repository model, read like every input: SOPS files,
//! `.sops.yaml`, the Helm values `stencil migrate` reads. The same steps as [`Loader`]
//! (`super::Loader`) takes: a size bound, UTF-8 (naming the line of the first bad byte), the
//! character pre-scan and the strict parser with its limits, so every error names
//! file:line:col and carries a hint.
//!
//! [`Schema::Yaml11`] reads plain scalars as go-yaml v2 does (Helm): see [`super::yaml11`].

use std::path::Path;
use std::sync::Arc;

use super::MAX_FILE_BYTES;
use super::parse::{self, Limits};
use crate::error::{Diagnostic, Error, Result};
use crate::node::Node;
use crate::origin::{Origin, SourceFile};
use crate::yaml::yaml11;

/// How plain scalars resolve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schema {
    /// YAML 1.2 core schema: every stencil input.
    Core,
    /// YAML 1.1 as go-yaml v2 reads it (`yes`, `on`, `0755`): Helm values.
    Yaml11,
}

/// Bytes to text, naming the line and column of the first byte that is not UTF-8.
pub(crate) fn decode(name: &str, bytes: Vec<u8>) -> Result<Arc<SourceFile>> {
    match String::from_utf8(bytes) {
        Ok(text) => Ok(SourceFile::new(name, text)),
        Err(err) => {
            let valid = err.utf8_error().valid_up_to();
            let bytes = err.into_bytes();
            let line = bytes[..valid].iter().filter(|b| **b == b'\n').count() + 1;
            let col = valid
                - bytes[..valid]
                    .iter()
                    .rposition(|b| *b == b'\n')
                    .map_or(0, |p| p + 1)
                + 1;
            let text = parse::quotable(&String::from_utf8_lossy(&bytes));
            let file = SourceFile::new(name, text);
            let at = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
            Err(Diagnostic::new("file is not valid UTF-8")
                .at(&Origin::new(&file, at(line), at(col)))
                .hint("save the file as UTF-8")
                .into())
        }
    }
}

/// Parses the bytes of a file named `name` (in messages) into a tree with positions.
pub fn parse_bytes(name: &str, bytes: Vec<u8>, schema: Schema) -> Result<Node> {
    let file = decode(name, bytes)?;
    parse_file(&file, schema)
}

/// Parses a file already decoded.
pub fn parse_file(file: &Arc<SourceFile>, schema: Schema) -> Result<Node> {
    let mut node = parse::parse(file, Limits::default())?;
    if schema == Schema::Yaml11 {
        yaml11::resolve(&mut node, &file.text);
    }
    Ok(node)
}

/// Reads and parses a file on disk, shown as `name`; `Ok(None)` when it does not exist.
pub fn read(path: &Path, name: &str, schema: Schema) -> Result<Option<Node>> {
    match read_bytes(path, name)? {
        Some(bytes) => parse_bytes(name, bytes, schema).map(Some),
        None => Ok(None),
    }
}

/// A file's bytes, bounded like every input; `Ok(None)` when it does not exist.
pub fn read_bytes(path: &Path, name: &str) -> Result<Option<Vec<u8>>> {
    let size = match std::fs::metadata(path) {
        Ok(meta) => meta.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(format_args!("cannot read {name}"), &e)),
    };
    if size > MAX_FILE_BYTES as u64 {
        return Err(Diagnostic::new(format!(
            "{name} is too large ({size} bytes, at most {MAX_FILE_BYTES})"
        ))
        .hint("no stencil input needs this size; check that this is the right file")
        .into());
    }
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(format_args!("cannot read {name}"), &e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(e: &Error) -> String {
        e.diagnostics()
            .iter()
            .map(Diagnostic::render)
            .collect::<String>()
    }

    #[test]
    fn errors_name_the_file_line_and_column() {
        let err = parse_bytes("values.yaml", b"a: 1\nb: [1,\n".to_vec(), Schema::Yaml11)
            .expect_err("unclosed");
        let text = message(&err);
        assert!(text.contains("invalid YAML"), "{text}");
        assert!(text.contains("--> values.yaml:"), "{text}");
        assert!(text.contains("hint:"), "{text}");
        let err = parse_bytes("x.yaml", b"a: 1\nb: \xff\n".to_vec(), Schema::Core)
            .expect_err("not UTF-8");
        assert!(
            message(&err).contains("--> x.yaml:2:4"),
            "{}",
            message(&err)
        );
    }

    #[test]
    fn a_missing_file_is_none() {
        let path = Path::new("/nonexistent/stencil/values.yaml");
        assert!(matches!(read(path, "values.yaml", Schema::Core), Ok(None)));
    }
}
