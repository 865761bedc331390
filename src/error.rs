//! Errors are UI: every problem is a [`Diagnostic`] with a message, the place in the input it
//! concerns, and a hint, rendered like rustc (`error: …`, `--> file:line:col`, the source line
//! with a caret, `= hint: …`). An [`Error`] holds one or more diagnostics so that `validate`
//! can report every problem at once.

use std::fmt::{self, Write as _};

use crate::origin::Origin;
use crate::origin::Role;

/// One problem, with where it is and what to do about it.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub message: String,
    pub origin: Option<Origin>,
    /// Extra context lines, e.g. the `extends` chain that led here.
    pub notes: Vec<String>,
    pub hint: Option<String>,
    /// The policy rule this violates (see `stencil policy list`), if it is a guardrail.
    pub rule: Option<&'static str>,
}

impl Diagnostic {
    /// The diagnostic as one JSON object: message, rule, file, line, column, notes, hint
    /// (`--log-format json` errors and `validate -o json`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "message": self.message,
            "rule": self.rule,
            "file": self.origin.as_ref().map(crate::origin::Origin::path),
            "line": self.origin.as_ref().map(|o| o.line),
            "column": self.origin.as_ref().map(|o| o.col),
            "notes": self.notes,
            "hint": self.hint,
        })
    }

    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: clip_message(&message.into()),
            origin: None,
            notes: Vec::new(),
            hint: None,
            rule: None,
        }
    }

    /// Marks the diagnostic as a violation of a policy rule: it is then headed
    /// `POLICY-ID file:line message`.
    pub fn rule(mut self, id: &'static str) -> Self {
        self.rule = Some(id);
        self
    }

    pub fn at(mut self, origin: &Origin) -> Self {
        self.origin = Some(origin.clone());
        self
    }

    pub fn at_opt(mut self, origin: Option<&Origin>) -> Self {
        self.origin = origin.cloned();
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(clip_message(&note.into()));
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(clip_message(&hint.into()));
        self
    }

    /// Renders the diagnostic, rustc style. Never includes anything but the message, the
    /// one source line it points at, notes and the hint. The line is quoted only from a file
    /// that the loader admits as a stencil input ([`Role::any_admits`]): whatever else was
    /// read by mistake (a key, `.git/config`), a message shows its path and line, never its
    /// text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        match (self.rule, &self.origin) {
            (Some(rule), Some(origin)) => {
                let _ = writeln!(
                    out,
                    "error: {rule} {}:{} {}",
                    origin.path(),
                    origin.line,
                    self.message
                );
            }
            (Some(rule), None) => {
                let _ = writeln!(out, "error: {rule} {}", self.message);
            }
            (None, _) => {
                let _ = writeln!(out, "error: {}", self.message);
            }
        }
        if let Some(origin) = &self.origin {
            let _ = writeln!(out, "  --> {origin}");
            let quotable = Role::any_admits(origin.path());
            if let Some(line) = origin.file.line(origin.line).filter(|_| quotable) {
                let number = origin.line.to_string();
                let pad = " ".repeat(number.len());
                let (line, col) = excerpt(line, origin.col.saturating_sub(1) as usize);
                let caret_pad: String = line
                    .chars()
                    .take(col)
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                let _ = writeln!(out, "{pad} |");
                let _ = writeln!(out, "{number} | {line}");
                let _ = writeln!(out, "{pad} | {caret_pad}^");
            }
        }
        for note in &self.notes {
            let _ = writeln!(out, "  = note: {note}");
        }
        if let Some(hint) = &self.hint {
            let _ = writeln!(out, "  = hint: {hint}");
        }
        out
    }
}

/// At most [`EXCERPT_CHARS`] characters of a line around a column, with `…` where cut, and
/// the column within the excerpt.
fn excerpt(line: &str, col: usize) -> (String, usize) {
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= EXCERPT_CHARS {
        return (line.to_owned(), col);
    }
    let start = col
        .saturating_sub(EXCERPT_CHARS / 2)
        .min(chars.len() - EXCERPT_CHARS);
    let end = start + EXCERPT_CHARS;
    let mut out = String::new();
    let mut col = col - start;
    if start > 0 {
        out.push('…');
        col += 1;
    }
    out.extend(&chars[start..end]);
    if end < chars.len() {
        out.push('…');
    }
    (out, col)
}

const EXCERPT_CHARS: usize = 100;

/// Longest value quoted in a message (between backticks) that is kept whole.
const QUOTE_CHARS: usize = 200;
/// Longest message, note or hint that is kept whole.
const MESSAGE_CHARS: usize = 2000;

/// At most `max` characters of `text`, then `…(N more bytes)` if it was longer: a value
/// quoted in an error may be a megabyte long, or a secret's neighbour.
pub fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((cut, _)) => format!("{}…({} more bytes)", &text[..cut], text.len() - cut),
    }
}

/// A message with every backquoted value clipped to [`QUOTE_CHARS`], and the whole to
/// [`MESSAGE_CHARS`]: however a message quotes a tenant's value, stderr stays small.
fn clip_message(text: &str) -> String {
    if text.len() <= QUOTE_CHARS {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('`') {
        out.push_str(&rest[..=open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('`') else {
            rest = after;
            break;
        };
        out.push_str(&clip(&after[..close], QUOTE_CHARS));
        out.push('`');
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    clip(&out, MESSAGE_CHARS)
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

/// The error type of every stage: one or more diagnostics.
#[derive(Debug, Clone)]
pub struct Error {
    diagnostics: Vec<Diagnostic>,
}

impl Error {
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    pub fn into_diagnostics(self) -> Vec<Diagnostic> {
        self.diagnostics
    }

    /// Collects several errors into one. Returns `None` when there is nothing to report.
    pub fn collect(errors: impl IntoIterator<Item = Error>) -> Option<Error> {
        let diagnostics: Vec<Diagnostic> = errors
            .into_iter()
            .flat_map(|e| e.diagnostics.into_iter())
            .collect();
        if diagnostics.is_empty() {
            None
        } else {
            Some(Error { diagnostics })
        }
    }

    /// `Ok(value)` when there are no problems, else every problem as one error.
    pub fn unless<T>(problems: Vec<Error>, value: T) -> Result<T> {
        match Error::collect(problems) {
            Some(err) => Err(err),
            None => Ok(value),
        }
    }

    /// An error about a file that could not be read or written.
    pub fn io(what: impl fmt::Display, err: &std::io::Error) -> Self {
        Diagnostic::new(format!("{what}: {err}")).into()
    }

    /// Adds a note to every diagnostic (e.g. which tenant/service was being rendered).
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        let note = note.into();
        let note = clip_message(&note);
        for d in &mut self.diagnostics {
            d.notes.push(note.clone());
        }
        self
    }
}

impl From<Diagnostic> for Error {
    fn from(d: Diagnostic) -> Self {
        Error {
            diagnostics: vec![d],
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            f.write_str(&d.render())?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// For in-process tests of a check: the rule id and `file:line:col` of each diagnostic it
/// reported, in order; empty when it passed.
#[cfg(test)]
pub(crate) fn rules_and_places(result: Result<()>) -> Vec<(Option<&'static str>, String)> {
    let Err(err) = result else { return Vec::new() };
    err.diagnostics()
        .iter()
        .map(|d| {
            let place = d.origin.as_ref().map(ToString::to_string);
            (d.rule, place.unwrap_or_default())
        })
        .collect()
}

/// "did you mean" for a misspelt name: the closest candidate within a small edit distance.
pub fn did_you_mean<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    // Suggestions are for typos in names; a huge input is no typo (and would cost
    // quadratic time).
    if input.len() > 64 {
        return None;
    }
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        if candidate.len().abs_diff(input.len()) > 8 {
            continue;
        }
        let distance = edit_distance(&input.to_lowercase(), &candidate.to_lowercase());
        let limit = (candidate.chars().count().max(3) / 3).max(1);
        if distance <= limit && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// Optimal string alignment distance: edits plus adjacent transpositions (`imgae` -> `image`
/// is one edit).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::origin::SourceFile;

    #[test]
    fn suggests_close_names_only() {
        let keys = ["replicas", "resources", "image"];
        assert_eq!(did_you_mean("replcas", keys), Some("replicas"));
        assert_eq!(did_you_mean("Replicas", keys), Some("replicas"));
        assert_eq!(did_you_mean("imgae", keys), Some("image"));
        assert_eq!(did_you_mean("zzzzzzz", keys), None);
    }

    #[test]
    fn long_values_are_clipped() {
        let value = "v".repeat(1_000_000);
        let d = Diagnostic::new(format!("invalid label value `{value}` in `x`"))
            .note(format!("from {value:?}"))
            .hint(value.clone());
        let text = d.render();
        assert!(text.len() < 5000, "{} bytes", text.len());
        assert!(text.contains("…(999800 more bytes)` in `x`"), "{text}");
        assert_eq!(clip("héllo", 2), "hé…(3 more bytes)");
        assert_eq!(clip("short", 200), "short");
    }

    #[test]
    fn quotes_lines_of_stencil_inputs_only() {
        for path in [
            "keys/demo-age-key.txt",
            ".git/config",
            ".sops.yaml",
            "tenants/acme/api/secrets.enc.yaml",
            "base/api/notes.txt",
            "profiles/x.yaml",
        ] {
            let file = SourceFile::new(path, "AGE-SECRET-KEY-1XYZ\n");
            let text = Diagnostic::new("bad")
                .at(&Origin::new(&file, 1, 1))
                .render();
            assert!(!text.contains("AGE-SECRET-KEY"), "{text}");
            assert!(text.contains(&format!("--> {path}:1:1")), "{text}");
        }
        let file = SourceFile::new("tenants/acme/api/values.yaml", "replcas: 2\n");
        let text = Diagnostic::new("bad")
            .at(&Origin::new(&file, 1, 1))
            .render();
        assert!(text.contains("1 | replcas: 2"), "{text}");
    }

    #[test]
    fn renders_like_rustc() {
        let file = SourceFile::new("base/api/service.yaml", "kind: Service\nreplcas: 2\n");
        let d = Diagnostic::new("unknown key `replcas`")
            .at(&Origin::new(&file, 2, 1))
            .hint("did you mean `replicas`?");
        assert_eq!(
            d.render(),
            "error: unknown key `replcas`\n  --> base/api/service.yaml:2:1\n  |\n2 | replcas: 2\n  | ^\n  = hint: did you mean `replicas`?\n"
        );
    }
}
