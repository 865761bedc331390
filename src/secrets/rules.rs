//! `.sops.yaml` creation rules, as sops reads them: the first rule whose `path_regex`
//! matches the file decides its age recipients and partial-encryption settings.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::sops::EncryptOptions;

#[derive(Debug, Deserialize)]
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
    /// Parses the text of a `.sops.yaml` named `name` (in messages).
    pub fn parse(text: &str, name: &str) -> Result<Rules, String> {
        let config: SopsConfig = serde_yaml::from_str(text)
            .map_err(|e| format!("{name} is not a valid sops config: {e}"))?;
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
pub fn options_for(file: &Path) -> Result<EncryptOptions, String> {
    let absolute =
        std::path::absolute(file).map_err(|e| format!("cannot resolve {}: {e}", file.display()))?;
    let dir = absolute.parent().unwrap_or(Path::new("/"));
    let config_path =
        find_config(dir).ok_or_else(|| format!("no .sops.yaml found above {}", dir.display()))?;
    let text = std::fs::read_to_string(&config_path)
        .map_err(|e| format!("cannot read {}: {e}", config_path.display()))?;
    let rules = Rules::parse(&text, &config_path.display().to_string())?;
    let base = config_path.parent().unwrap_or(Path::new("/"));
    let relative = absolute
        .strip_prefix(base)
        .unwrap_or(&absolute)
        .to_string_lossy()
        .replace('\\', "/");
    match rules.matching(&[&relative, &absolute.to_string_lossy()])? {
        Some(matched) => Ok(matched.options),
        None => Err(format!(
            "no creation rule in {} matches {relative}",
            config_path.display()
        )),
    }
}
