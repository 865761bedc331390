//! Editing `version.yaml` for `stencil bump`: set `image.tag` (and `image.digest`) of a
//! service or one of its sidecars, changing only the bytes of the value. Comments, key order,
//! quoting style and every other line stay as they were; a missing file is created with a
//! schema header. The edited text is parsed again and checked before anyone writes it.

use std::sync::Arc;

use crate::error::{Diagnostic, Result};
use crate::names::{Digest, Tag};
use crate::node::{Node, Value};
use crate::origin::{Origin, SourceFile};
use crate::yaml::read::{Limits, parse};

/// What to set.
#[derive(Debug, Clone)]
pub(crate) struct Bump {
    pub tag: Tag,
    pub digest: Option<Digest>,
    /// A sidecar's pin instead of the main image.
    pub sidecar: Option<String>,
}

/// The outcome for one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Edit {
    /// Already at this tag (and digest): nothing to write.
    Unchanged,
    /// The new text, and the old tag if there was one.
    Changed {
        text: String,
        previous: Option<String>,
    },
}

/// A new `version.yaml`, for a file that does not exist yet.
pub(crate) fn new_file(schema_path: &str, bump: &Bump) -> String {
    let mut out = format!(
        "# yaml-language-server: $schema={schema_path}\n# Written by CI (`stencil bump`) after the image is pushed.\nkind: Version\n"
    );
    let image = |indent: &str| {
        let mut s = format!(
            "{indent}image:\n{indent}  tag: {}\n",
            scalar(bump.tag.as_str())
        );
        if let Some(d) = &bump.digest {
            s.push_str(&format!("{indent}  digest: {d}\n"));
        }
        s
    };
    match &bump.sidecar {
        None => out.push_str(&image("")),
        Some(name) => {
            out.push_str(&format!("sidecars:\n  - name: {}\n", scalar(name)));
            out.push_str(&image("    "));
        }
    }
    out
}

/// A tag as a YAML scalar: plain when every YAML reader agrees it is a string, otherwise
/// double-quoted with escapes.
fn scalar(text: &str) -> String {
    crate::yaml::write::inline_scalar(text)
}

/// The mapping that holds `tag`: `image`, or the named sidecar's `image`.
pub(crate) fn image_map<'a>(doc: &'a Node, sidecar: Option<&str>) -> Option<&'a Node> {
    match sidecar {
        None => doc.get("image"),
        Some(name) => doc
            .get("sidecars")?
            .as_seq()?
            .iter()
            .find(|s| s.get("name").and_then(Node::as_scalar_text) == Some(name))?
            .get("image"),
    }
}

/// Edits the text of an existing `version.yaml`.
pub(crate) fn edit(file: &Arc<SourceFile>, bump: &Bump) -> Result<Edit> {
    let doc = parse(file, Limits::default())?;
    if !matches!(doc.value, Value::Map(_) | Value::Null) {
        return Err(Diagnostic::new("a version file must be a mapping")
            .at(&doc.origin)
            .into());
    }
    let image = image_map(&doc, bump.sidecar.as_deref());
    let current_tag = image
        .and_then(|i| i.get("tag"))
        .and_then(Node::as_scalar_text);
    let current_digest = image
        .and_then(|i| i.get("digest"))
        .and_then(Node::as_scalar_text);
    let wanted_digest = bump.digest.as_ref().map(Digest::as_str);
    if current_tag == Some(bump.tag.as_str()) && current_digest == wanted_digest {
        return Ok(Edit::Unchanged);
    }
    let mut lines: Vec<String> = file.text.split_inclusive('\n').map(str::to_owned).collect();
    let what = match &bump.sidecar {
        Some(name) => format!("sidecar `{name}`"),
        None => "the image".to_owned(),
    };
    let Some(image) = image else {
        return Err(Diagnostic::new(format!("{} has no `image:` mapping for {what}", file.path))
            .at(&doc.origin)
            .hint("add `image: { tag: ... }` by hand once; stencil bump keeps it up to date after that")
            .into());
    };
    let tag_node = image.get("tag");
    match tag_node {
        Some(node) => replace_value(&mut lines, node, "tag", bump.tag.as_str())?,
        None => insert_child(&mut lines, image, "tag", &scalar(bump.tag.as_str()))?,
    }
    match (image.get("digest"), &bump.digest) {
        (Some(node), Some(digest)) => replace_value(&mut lines, node, "digest", digest.as_str())?,
        (None, Some(digest)) => insert_child(&mut lines, image, "digest", digest.as_str())?,
        // A digest pinned the old tag: left alone it would keep deploying the old image.
        (Some(node), None) => remove_line(&mut lines, node, "digest")?,
        (None, None) => {}
    }
    let text: String = lines.concat();
    verify(&file.path, &text, bump)?;
    Ok(Edit::Changed {
        text,
        previous: current_tag.map(str::to_owned),
    })
}

/// Parses the edited text again: the edit must say exactly what was asked.
fn verify(path: &str, text: &str, bump: &Bump) -> Result<()> {
    let file = SourceFile::new(path, text);
    let doc = parse(&file, Limits::default())?;
    let image = image_map(&doc, bump.sidecar.as_deref());
    let tag = image
        .and_then(|i| i.get("tag"))
        .and_then(Node::as_scalar_text);
    let digest = image
        .and_then(|i| i.get("digest"))
        .and_then(Node::as_scalar_text);
    if tag != Some(bump.tag.as_str()) || digest != bump.digest.as_ref().map(Digest::as_str) {
        return Err(Diagnostic::new(format!("could not edit {path} safely"))
            .hint("the file's layout is unusual; set the tag by hand once")
            .into());
    }
    Ok(())
}

fn unusual(origin: &Origin, key: &str) -> crate::error::Error {
    Diagnostic::new(format!("cannot edit `{key}` here without touching other text"))
        .at(origin)
        .hint("write the value on the same line as its key (`tag: 1.2.3`); stencil keeps everything else as it is")
        .into()
}

/// Replaces the scalar after `key:` on the key's line.
fn replace_value(lines: &mut [String], node: &Node, key: &str, value: &str) -> Result<()> {
    let origin = &node.origin;
    let line = lines
        .get_mut(origin.line as usize - 1)
        .ok_or_else(|| unusual(origin, key))?;
    let start = byte_col(line, origin.col).ok_or_else(|| unusual(origin, key))?;
    let rest = &line[start..];
    let after_key = rest.strip_prefix(key).ok_or_else(|| unusual(origin, key))?;
    let colon = after_key
        .find(':')
        .filter(|i| after_key[..*i].trim().is_empty())
        .ok_or_else(|| unusual(origin, key))?;
    let value_start = start + key.len() + colon + 1;
    let spaces =
        line[value_start..].len() - line[value_start..].trim_start_matches([' ', '\t']).len();
    let value_start = value_start + spaces;
    let tail = &line[value_start..];
    let (len, quote) = match tail.chars().next() {
        Some(q @ ('"' | '\'')) => {
            let close = tail[1..].find(q).ok_or_else(|| unusual(origin, key))?;
            (close + 2, Some(q))
        }
        Some(_) => {
            let end = tail
                .find(" #")
                .into_iter()
                .chain(tail.find([',', '}', ']', '\n', '\r']))
                .min()
                .unwrap_or(tail.len());
            (tail[..end].trim_end().len(), None)
        }
        None => return Err(unusual(origin, key)),
    };
    if len == 0 {
        return Err(unusual(origin, key));
    }
    let new = match quote {
        // Keep the file's quotes when the value needs no escape inside them.
        Some(q)
            if value.chars().all(crate::yaml::write::is_printable)
                && !value.contains([q, '\\']) =>
        {
            format!("{q}{value}{q}")
        }
        _ => scalar(value),
    };
    line.replace_range(value_start..value_start + len, &new);
    Ok(())
}

/// Inserts `key: value` as the first child of a block mapping.
fn insert_child(lines: &mut Vec<String>, map: &Node, key: &str, value: &str) -> Result<()> {
    let Some(children) = map.as_map() else {
        return Err(unusual(&map.origin, key));
    };
    let Some((_, first)) = children.first() else {
        return Err(unusual(&map.origin, key));
    };
    // Block style only: the first child starts its own line.
    let line = lines
        .get(first.origin.line as usize - 1)
        .ok_or_else(|| unusual(&map.origin, key))?;
    let indent = first.origin.col as usize - 1;
    if line.len() < indent
        || !line[..indent].trim().is_empty()
        || first.origin.line == map.origin.line
    {
        return Err(unusual(&map.origin, key));
    }
    let newline = if line.ends_with("\r\n") { "\r\n" } else { "\n" };
    lines.insert(
        first.origin.line as usize - 1,
        format!("{}{key}: {value}{newline}", &line[..indent]),
    );
    Ok(())
}

/// Removes the line of `key: value` when it holds nothing else.
fn remove_line(lines: &mut Vec<String>, node: &Node, key: &str) -> Result<()> {
    let index = node.origin.line as usize - 1;
    let line = lines.get(index).ok_or_else(|| unusual(&node.origin, key))?;
    if !line.trim_start().starts_with(key) || line.contains('{') || line.contains(',') {
        return Err(unusual(&node.origin, key));
    }
    lines.remove(index);
    Ok(())
}

/// The byte offset of a 1-based character column.
fn byte_col(line: &str, col: u32) -> Option<usize> {
    let col = col.checked_sub(1)? as usize;
    line.char_indices()
        .nth(col)
        .map(|(i, _)| i)
        .or((col == line.chars().count()).then_some(line.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bump(tag: &str) -> Bump {
        Bump {
            tag: Tag::parse(tag).unwrap(),
            digest: None,
            sidecar: None,
        }
    }

    fn run(text: &str, b: &Bump) -> Edit {
        edit(&SourceFile::new("v.yaml", text), b).unwrap()
    }

    fn changed(text: &str, b: &Bump) -> String {
        match run(text, b) {
            Edit::Changed { text, .. } => text,
            Edit::Unchanged => panic!("unchanged"),
        }
    }

    #[test]
    fn changes_only_the_value() {
        let before = "# header comment\nkind: Version\nimage:\n  tag: 1.0.0   # pinned by CI\n  # trailing comment\nother: x\n";
        assert_eq!(
            changed(before, &bump("1.1.0")),
            "# header comment\nkind: Version\nimage:\n  tag: 1.1.0   # pinned by CI\n  # trailing comment\nother: x\n"
        );
    }

    #[test]
    fn keeps_quotes_and_flow_style_and_crlf() {
        assert_eq!(
            changed("image:\n  tag: \"1.0\"\n", &bump("2.0")),
            "image:\n  tag: \"2.0\"\n"
        );
        assert_eq!(
            changed("image: { tag: 1.0.0, x: y }\n", &bump("1.2.0")),
            "image: { tag: 1.2.0, x: y }\n"
        );
        assert_eq!(
            changed("image: { tag: 1.0.0 }\n", &bump("1.10")),
            "image: { tag: \"1.10\" }\n"
        );
        assert_eq!(
            changed("image:\r\n  tag: v1\r\n", &bump("v2")),
            "image:\r\n  tag: v2\r\n"
        );
    }

    #[test]
    fn same_tag_is_a_no_op() {
        assert_eq!(run("image:\n  tag: v1\n", &bump("v1")), Edit::Unchanged);
    }

    #[test]
    fn digests_are_set_inserted_and_dropped() {
        let digest = Digest::parse(&format!("sha256:{}", "a".repeat(64))).unwrap();
        let with = Bump {
            digest: Some(digest.clone()),
            ..bump("v2")
        };
        assert_eq!(
            changed("image:\n  tag: v1\n", &with),
            format!("image:\n  digest: {digest}\n  tag: v2\n")
        );
        assert_eq!(
            changed(
                &format!("image:\n  tag: v1\n  digest: {digest}\n"),
                &bump("v2")
            ),
            "image:\n  tag: v2\n"
        );
    }

    #[test]
    fn sidecars_by_name() {
        let text = "image:\n  tag: v1\nsidecars:\n  - name: a\n    image:\n      tag: s1\n";
        let b = Bump {
            sidecar: Some("a".into()),
            ..bump("s2")
        };
        assert_eq!(
            changed(text, &b),
            "image:\n  tag: v1\nsidecars:\n  - name: a\n    image:\n      tag: s2\n"
        );
    }

    #[test]
    fn new_files_parse_back() {
        let text = new_file("../../schemas/version.schema.json", &bump("2024.11.20"));
        assert!(text.contains("  tag: 2024.11.20\n"));
        assert_eq!(run(&text, &bump("2024.11.20")), Edit::Unchanged);
    }
}
