//! Where a value came from: a file of the repository and a line and column in it.
//!
//! Every node the loader builds carries an [`Origin`]; merging keeps the winning origin and
//! remembers the ones it overrode, so provenance is data that `explain` only has to print.

use std::fmt;
use std::sync::Arc;

/// One input file, kept in memory so that diagnostics can quote the offending line.
#[derive(Debug)]
pub struct SourceFile {
    /// Repository-relative path with `/` separators, e.g. `tenants/momcorp/apiserver/values.yaml`.
    pub path: String,
    pub text: String,
}

impl SourceFile {
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Arc<Self> {
        Arc::new(Self {
            path: path.into(),
            text: text.into(),
        })
    }

    /// The text of a 1-based line, without its line terminator.
    pub fn line(&self, line: u32) -> Option<&str> {
        let index = usize::try_from(line).ok()?.checked_sub(1)?;
        self.text
            .split('\n')
            .nth(index)
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
    }
}

/// A position in a [`SourceFile`]: 1-based line and column.
#[derive(Clone)]
pub struct Origin {
    pub file: Arc<SourceFile>,
    pub line: u32,
    pub col: u32,
}

impl Origin {
    pub fn new(file: &Arc<SourceFile>, line: u32, col: u32) -> Self {
        Self {
            file: Arc::clone(file),
            line,
            col,
        }
    }

    /// The start of a file: for problems that concern a whole file.
    pub fn file_start(file: &Arc<SourceFile>) -> Self {
        Self::new(file, 1, 1)
    }

    pub fn path(&self) -> &str {
        &self.file.path
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.path, self.line, self.col)
    }
}

impl fmt::Debug for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl PartialEq for Origin {
    fn eq(&self, other: &Self) -> bool {
        self.file.path == other.file.path && self.line == other.line && self.col == other.col
    }
}

impl Eq for Origin {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_lookup_handles_crlf_and_bounds() {
        let file = SourceFile::new("a.yaml", "one\r\ntwo\nthree");
        assert_eq!(file.line(1), Some("one"));
        assert_eq!(file.line(2), Some("two"));
        assert_eq!(file.line(3), Some("three"));
        assert_eq!(file.line(4), None);
        assert_eq!(file.line(0), None);
    }
}
