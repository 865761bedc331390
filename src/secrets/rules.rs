//! `.sops.yaml` creation rules, as sops reads them: the first rule whose `path_regex`
//! matches the file decides its age recipients and partial-encryption settings. The file is
//! read by stencil's loader, so a malformed one is reported at file:line:col.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use super::sops::EncryptOptions;
use crate::error::Diagnostic;
use crate::load::de::from_node;
use crate::load::file::{Schema, parse_file};
use crate::origin::SourceFile;

#[derive(Debug, Default, Deserialize)]
struct SopsConfig {
    #[serde(default)]
    creation_rules: Vec<CreationRule>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum StringOrList {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize)]
struct CreationRule {
    path_regex: Option<String>,
    age: Option<StringOrList>,
    encrypted_suffix: Option<String>,
    encrypted_regex: Option<String>,
    unencrypted_suffix: Option<String>,
    unencrypted_regex: Option<String>,
    #[serde(default)]
    mac_only_encrypted: bool,
    // sops features stencil does not implement: read only to refuse them by name.
    key_groups: Option<serde::de::IgnoredAny>,
    shamir_threshold: Option<serde::de::IgnoredAny>,
    encrypted_comment_regex: Option<serde::de::IgnoredAny>,
    unencrypted_comment_regex: Option<serde::de::IgnoredAny>,
}

/// The nearest `.sops.yaml` at or above `dir`.
pub fn find_config(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .map(|d| d.join(".sops.yaml"))
        .find(|p| p.is_file())
}

/// The creation rules of one `.sops.yaml`.
#[derive(Debug)]
pub struct Rules {
    /// The config file, for messages.
    name: String,
    rules: Vec<CreationRule>,
    /// Each rule's `path_regex`, compiled once (a render matches every secrets file).
    regexes: Vec<Option<Result<regex::Regex, String>>>,
}

/// The rule that applies to a file: which one (1-based, for messages) and what it says.
pub struct Matched {
    pub number: usize,
    pub path_regex: Option<String>,
    pub options: EncryptOptions,
}

impl Rules {
    /// Parses a `.sops.yaml`; errors point into it.
    pub fn parse(file: &Arc<SourceFile>) -> Result<Rules, Diagnostic> {
        let name = file.path.as_str();
        let first = |e: crate::error::Error| {
            e.into_diagnostics()
                .into_iter()
                .next()
                .unwrap_or_else(|| Diagnostic::new(format!("{name} cannot be read")))
        };
        let node = parse_file(file, Schema::Core).map_err(first)?;
        let config: SopsConfig = if node.is_null() {
            SopsConfig::default()
        } else {
            from_node(&node)
                .map_err(|e| e.into_diagnostic(&format!("{name} is not a valid sops config")))?
        };
        let regexes = config
            .creation_rules
            .iter()
            .map(|rule| {
                rule.path_regex.as_ref().map(|pattern| {
                    regex::Regex::new(pattern)
                        .map_err(|e| format!("{name}: invalid path_regex `{pattern}`: {e}"))
                })
            })
            .collect();
        Ok(Rules {
            name: name.to_owned(),
            rules: config.creation_rules,
            regexes,
        })
    }

    /// The first rule whose `path_regex` matches one of `paths` (sops matches the path
    /// relative to `.sops.yaml`'s folder), or `None`.
    pub fn matching(&self, paths: &[&str]) -> Result<Option<Matched>, String> {
        for (index, (rule, regex)) in self.rules.iter().zip(&self.regexes).enumerate() {
            let matches = match regex {
                None => true,
                Some(Ok(re)) => paths.iter().any(|p| re.is_match(p)),
                Some(Err(e)) => return Err(e.clone()),
            };
            if matches {
                return Ok(Some(Matched {
                    number: index + 1,
                    path_regex: rule.path_regex.clone(),
                    options: self.options(rule)?,
                }));
            }
        }
        Ok(None)
    }

    fn options(&self, rule: &CreationRule) -> Result<EncryptOptions, String> {
        let unsupported = [
            ("key_groups", rule.key_groups.is_some()),
            ("shamir_threshold", rule.shamir_threshold.is_some()),
            (
                "encrypted_comment_regex",
                rule.encrypted_comment_regex.is_some(),
            ),
            (
                "unencrypted_comment_regex",
                rule.unencrypted_comment_regex.is_some(),
            ),
        ];
        if let Some((key, _)) = unsupported.iter().find(|(_, used)| *used) {
            return Err(format!(
                "{}: the creation rule uses `{key}`, which stencil does not support (it encrypts for `age:` recipients, with the suffix and regex rules); encrypt this file with sops, or give the rule `age:` instead",
                self.name
            ));
        }
        let recipients: Vec<String> = match &rule.age {
            None => Vec::new(),
            Some(StringOrList::One(s)) => s
                .split(',')
                .map(|r| r.trim().to_owned())
                .filter(|r| !r.is_empty())
                .collect(),
            Some(StringOrList::Many(list)) => list.iter().map(|r| r.trim().to_owned()).collect(),
        };
        let recipients = recipients
            .iter()
            .map(|r| {
                r.parse::<age::x25519::Recipient>()
                    .map_err(|_| format!("{}: `{r}` is not an age recipient", self.name))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let partial = [
            ("encrypted_suffix", &rule.encrypted_suffix),
            ("encrypted_regex", &rule.encrypted_regex),
            ("unencrypted_suffix", &rule.unencrypted_suffix),
            ("unencrypted_regex", &rule.unencrypted_regex),
        ]
        .into_iter()
        .find_map(|(k, v)| v.as_ref().map(|v| (k.to_owned(), v.clone())));
        Ok(EncryptOptions {
            recipients,
            partial,
            mac_only_encrypted: rule.mac_only_encrypted,
        })
    }
}

/// The encryption options `.sops.yaml` gives `file`, or an error saying why there are none.
pub fn options_for(file: &Path) -> Result<EncryptOptions, Diagnostic> {
    let absolute = std::path::absolute(file)
        .map_err(|e| Diagnostic::new(format!("cannot resolve {}: {e}", file.display())))?;
    let dir = absolute.parent().unwrap_or(Path::new("/"));
    let config_path = find_config(dir)
        .ok_or_else(|| Diagnostic::new(format!("no .sops.yaml found above {}", dir.display())))?;
    let rules = read_config(&config_path)?;
    let base = config_path.parent().unwrap_or(Path::new("/"));
    let relative = absolute
        .strip_prefix(base)
        .unwrap_or(&absolute)
        .to_string_lossy()
        .replace('\\', "/");
    match rules.matching(&[&relative, &absolute.to_string_lossy()]) {
        Ok(Some(matched)) => Ok(matched.options),
        Ok(None) => Err(Diagnostic::new(format!(
            "no creation rule in {} matches {relative}",
            config_path.display()
        ))),
        Err(message) => Err(Diagnostic::new(message)),
    }
}

/// Reads and parses a `.sops.yaml` on disk.
fn read_config(path: &Path) -> Result<Rules, Diagnostic> {
    let name = path.display().to_string();
    let first = |e: crate::error::Error| {
        e.into_diagnostics()
            .into_iter()
            .next()
            .unwrap_or_else(|| Diagnostic::new(format!("cannot read {name}")))
    };
    let bytes = crate::load::file::read_bytes(path, &name)
        .map_err(first)?
        .ok_or_else(|| Diagnostic::new(format!("cannot read {name}: it does not exist")))?;
    let file = crate::load::file::decode(&name, bytes).map_err(first)?;
    Rules::parse(&file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Rules, Diagnostic> {
        Rules::parse(&SourceFile::new(".sops.yaml", text))
    }

    #[test]
    fn a_malformed_sops_yaml_is_reported_at_file_line_and_column() {
        let err = parse("creation_rules:\n  - path_regex: [unclosed\n").expect_err("invalid");
        let text = err.render();
        assert!(text.contains("invalid YAML"), "{text}");
        assert!(text.contains("--> .sops.yaml:3:1"), "{text}");
        let err =
            parse("creation_rules:\n  - path_regex: x\n    age: { a: b }\n").expect_err("typed");
        let text = err.render();
        assert!(
            text.contains(".sops.yaml is not a valid sops config"),
            "{text}"
        );
        assert!(text.contains("--> .sops.yaml:3:5"), "{text}");
    }

    #[test]
    fn rules_match_in_order_and_unknown_keys_are_ignored() {
        let age = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
        let rules = parse(&format!(
            "creation_rules:\n  - path_regex: ^a/\n    pgp: x\n  - age: '{age}, {age}'\n    encrypted_regex: ^data$\n"
        ))
        .expect("rules");
        let matched = rules
            .matching(&["b/secrets.enc.yaml"])
            .expect("ok")
            .expect("rule");
        assert_eq!(matched.number, 2);
        assert_eq!(matched.options.recipients.len(), 2);
        assert_eq!(
            matched.options.partial,
            Some(("encrypted_regex".to_owned(), "^data$".to_owned()))
        );
        assert!(
            parse("")
                .expect("empty")
                .matching(&["x"])
                .expect("ok")
                .is_none()
        );
    }
}
