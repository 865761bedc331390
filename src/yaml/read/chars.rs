//! Which characters an input file may hold, checked on the whole text before parsing
//! (comments and every scalar style included), so that nothing a YAML reader would drop,
//! stop at or read differently gets through.
//!
//! Allowed is YAML 1.2's `c-printable` set (tab, LF, CR, U+0020..U+007E, U+0085,
//! U+00A0..U+D7FF, U+E000..U+FFFD, U+10000..U+10FFFF), with exceptions stencil adds:
//! - U+0085, U+2028 and U+2029 raw: YAML 1.1 readers (go-yaml in kubectl and Argo CD,
//!   PyYAML) break lines there, YAML 1.2 readers do not, so one file would mean two things.
//! - U+FEFF (byte order mark) anywhere but as the very first character: invisible, and a
//!   key `\u{feff}name` is not the key `name`.
//! - A CR not followed by LF: lines end with LF or CRLF, so that the line numbers in
//!   diagnostics are the ones editors and `git diff` show, and no quoted line can carry a
//!   carriage return that makes a terminal overwrite what it printed.
//!
//! Escaped forms in double-quoted strings (`"\0"`, `"\x1b"`, `"\N"`, `"\u2028"`) are plain
//! ASCII in the file and stay allowed: the value then holds exactly what the escape says.

use std::sync::Arc;

use crate::error::{Diagnostic, Result};
use crate::origin::{Origin, SourceFile};

/// Refuses the first character that a stencil input may not hold raw, at its line:col.
pub(super) fn check(file: &Arc<SourceFile>) -> Result<()> {
    let text = file.text.as_str();
    // The common case, decided without decoding: printable ASCII, tab, LF.
    if text
        .bytes()
        .all(|b| matches!(b, b'\t' | b'\n' | b' '..=b'~'))
    {
        return Ok(());
    }
    let (mut line, mut col) = (1u32, 0u32);
    for (index, c) in text.char_indices() {
        if c == '\n' {
            line += 1;
            col = 0;
            continue;
        }
        col += 1;
        if refused_at(text, index, c) {
            return Err(diagnostic(file, c, line, col).into());
        }
    }
    Ok(())
}

/// Whether `c`, at byte `index` of `text`, may not be there (see the module docs).
fn refused_at(text: &str, index: usize, c: char) -> bool {
    match c {
        '\u{feff}' => index != 0,
        '\r' => !text[index + 1..].starts_with('\n'),
        _ => is_refused(c),
    }
}

/// True for the characters refused wherever they are ([`refused_at`] adds the leading BOM
/// and CRLF that are allowed).
fn is_refused(c: char) -> bool {
    match c {
        '\t' | '\n' | '\r' => false,
        '\0'..='\u{1f}' | '\u{7f}'..='\u{9f}' => true,
        '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}' => true,
        _ => false,
    }
}

/// `text` with every character [`check`] refuses replaced by U+FFFD, which keeps columns:
/// safe to quote in a diagnostic (a raw escape sequence or carriage return would otherwise
/// reach the terminal).
pub(crate) fn quotable(text: &str) -> String {
    text.char_indices()
        .map(|(i, c)| {
            if refused_at(text, i, c) {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
}

fn diagnostic(file: &Arc<SourceFile>, c: char, line: u32, col: u32) -> Diagnostic {
    let code = format!("U+{:04X}", u32::from(c));
    let (what, escape) = match c {
        '\0' => ("a NUL character", "\\0".to_owned()),
        '\u{85}' => ("a raw next-line character", "\\N".to_owned()),
        '\u{2028}' => ("a raw line separator", "\\u2028".to_owned()),
        '\u{2029}' => ("a raw paragraph separator", "\\u2029".to_owned()),
        '\u{feff}' => (
            "a byte order mark after the start of the file",
            "\\uFEFF".to_owned(),
        ),
        '\r' => (
            "a carriage return not followed by a line feed",
            "\\r".to_owned(),
        ),
        '\u{fffe}' | '\u{ffff}' => ("a non-character", format!("\\u{:04X}", u32::from(c))),
        _ => ("a control character", format!("\\x{:02X}", u32::from(c))),
    };
    let why = match c {
        '\u{85}' | '\u{2028}' | '\u{2029}' => {
            "YAML 1.1 readers (kubectl, Argo CD, PyYAML) break the line there and YAML 1.2 \
             readers do not"
        }
        '\u{feff}' => "a byte order mark may only be the first character of a file",
        '\r' => "stencil reads lines ending in LF or CRLF only",
        _ => "YAML does not allow it in a file",
    };
    let shown = SourceFile::new(file.path.clone(), quotable(&file.text));
    Diagnostic::new(format!("invalid YAML: {what} ({code}): {why}"))
        .at(&Origin::new(&shown, line, col))
        .hint(format!(
            "remove it, or write it escaped in a double-quoted string: \"{escape}\""
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_refused(text: &str) -> Option<(u32, u32, String)> {
        check(&SourceFile::new("t.yaml", text)).err().map(|e| {
            let d = &e.diagnostics()[0];
            let o = d.origin.as_ref().unwrap();
            (o.line, o.col, d.message.clone())
        })
    }

    #[test]
    fn yaml_printable_text_passes() {
        for text in [
            "a: b\tc\r\nd: 'é ü ✓ 日本 😀'\n",
            "\u{feff}a: 1\n",
            "a: \"\\0 \\x1b \\N \\L \\P \\u2028 \\uFEFF\"\n",
            "a: \u{a0}\u{d7ff}\u{e000}\u{fffd}\u{10000}\u{10ffff}\n",
        ] {
            assert_eq!(first_refused(text), None, "{text:?}");
        }
    }

    #[test]
    fn every_character_outside_the_printable_set_is_refused() {
        let refused: Vec<u32> = (0..=0x10ffff)
            .filter_map(char::from_u32)
            .filter(|c| is_refused(*c))
            .map(u32::from)
            .collect();
        let mut expected: Vec<u32> = (0..0x20).filter(|c| ![9, 10, 13].contains(c)).collect();
        expected.extend(0x7f..=0x9f);
        expected.extend([0x2028, 0x2029, 0xfeff, 0xfffe, 0xffff]);
        assert_eq!(refused, expected);
    }

    #[test]
    fn the_position_is_the_character_s_line_and_column() {
        let (line, col, message) = first_refused("a: 1\nb: xé\u{1b}[2J\n").unwrap();
        assert_eq!((line, col), (2, 6));
        assert!(message.contains("U+001B"), "{message}");
        assert_eq!(first_refused("a: 1\n\0rest: 2\n").unwrap().0, 2);
        assert_eq!(first_refused("a: 1\n\u{feff}b: 2\n").unwrap().1, 1);
    }

    #[test]
    fn lines_end_in_lf_or_crlf_only() {
        assert_eq!(first_refused("a: 1\r\nb: 2\r\n"), None);
        let (line, col, message) = first_refused("a: 1\r\nb: x\ry: 2\n").unwrap();
        assert_eq!((line, col), (2, 5));
        assert!(message.contains("U+000D"), "{message}");
        assert!(first_refused("a: 1\r").is_some());
    }

    #[test]
    fn the_quoted_line_never_holds_the_character() {
        let err = check(&SourceFile::new(
            "tenants/acme/api/values.yaml",
            "a: \u{1b}]52;x\u{7}\n",
        ))
        .unwrap_err();
        let text = err.to_string();
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{text}"
        );
        assert!(text.contains("a: \u{fffd}]52;x\u{fffd}"), "{text}");
    }
}
