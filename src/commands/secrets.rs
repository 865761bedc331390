//! `stencil secrets`: decrypt, encrypt, set and updatekeys for SOPS (age) files, so nobody
//! needs the sops binary. Plaintext goes to stdout only (`decrypt`); edits happen in memory
//! and files are replaced atomically.

use std::io::Read as _;
use std::path::Path;
use std::process::ExitCode;

use serde_yaml::Value;
use zeroize::Zeroizing;

use super::{Outcome, write_atomic, write_stdout};
use crate::cli::SecretsCommand;
use crate::error::{Diagnostic, Error, Result};
use crate::names::check_env_name;
use crate::secrets::sops::{self, EncryptOptions, SopsError};
use crate::secrets::{Keys, rules};

pub fn run(command: &SecretsCommand, keys: &Keys) -> Outcome {
    match command {
        SecretsCommand::Decrypt { file } => {
            let doc = read_encrypted(file)?;
            let (plain, _) = sops::open(&doc, keys).map_err(|e| fail(file, e))?;
            let text = Zeroizing::new(
                serde_yaml::to_string(&plain).map_err(|_| Diagnostic::new("cannot write YAML"))?,
            );
            write_stdout(&text)?;
        }
        SecretsCommand::Encrypt { file, age } => {
            let text = read(file)?;
            let plain: Value = serde_yaml::from_str(&text).map_err(|e| {
                Diagnostic::new(format!(
                    "{} is not valid YAML: {}",
                    file.display(),
                    location(&e)
                ))
            })?;
            let options = options(file, age)?;
            let encrypted = sops::encrypt(&plain, &options).map_err(|e| fail(file, e))?;
            write_atomic(file, &encrypted)?;
            eprintln!("encrypted {} for {}", file.display(), list(&options));
        }
        SecretsCommand::Set {
            file,
            key,
            value,
            from_stdin,
            age,
        } => {
            check_env_name(key).map_err(|m| {
                Diagnostic::new(m).hint("each secret becomes an environment variable")
            })?;
            let value = match (value, from_stdin) {
                (_, true) => {
                    let mut buf = Zeroizing::new(String::new());
                    std::io::stdin()
                        .read_to_string(&mut buf)
                        .map_err(|e| Error::io("cannot read stdin", &e))?;
                    let trimmed = buf.strip_suffix('\n').unwrap_or(&buf);
                    Zeroizing::new(trimmed.strip_suffix('\r').unwrap_or(trimmed).to_owned())
                }
                (Some(v), false) => Zeroizing::new(v.clone()),
                (None, false) => {
                    return Err(Diagnostic::new("no value given")
                        .hint("pass VALUE or --from-stdin")
                        .into());
                }
            };
            let (mut plain, options) = if file.exists() {
                let doc = read_encrypted(file)?;
                let plain = sops::decrypt(&doc, keys).map_err(|e| fail(file, e))?;
                let options = sops::options_of(&doc).map_err(|e| fail(file, e))?;
                (plain, options)
            } else {
                (
                    Value::Mapping(serde_yaml::Mapping::new()),
                    options(file, age)?,
                )
            };
            if let Value::Mapping(map) = &mut plain {
                map.insert(Value::from(key.as_str()), Value::from(value.as_str()));
            }
            let encrypted = sops::encrypt(&plain, &options).map_err(|e| fail(file, e))?;
            write_atomic(file, &encrypted)?;
            eprintln!("set {key} in {}", file.display());
        }
        SecretsCommand::Updatekeys { file } => {
            let doc = read_encrypted(file)?;
            let options = rules::options_for(file).map_err(|m| {
                Diagnostic::new(m).hint("updatekeys takes its recipients from .sops.yaml")
            })?;
            let updated =
                sops::update_keys(&doc, keys, &options.recipients).map_err(|e| fail(file, e))?;
            write_atomic(file, &updated)?;
            eprintln!("{} is now encrypted for {}", file.display(), list(&options));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn list(options: &EncryptOptions) -> String {
    options
        .recipients
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn fail(file: &Path, e: SopsError) -> Error {
    Diagnostic::new(format!("{} {}", file.display(), e.message))
        .hint(e.hint)
        .into()
}

fn location(e: &serde_yaml::Error) -> String {
    e.location().map_or_else(
        || "parse error".to_owned(),
        |l| format!("line {}, column {}", l.line(), l.column()),
    )
}

fn read(file: &Path) -> Result<String> {
    std::fs::read_to_string(file)
        .map_err(|e| Error::io(format_args!("cannot read {}", file.display()), &e))
}

fn read_encrypted(file: &Path) -> Result<Value> {
    let text = read(file)?;
    sops::parse(&text).map_err(|e| fail(file, e))
}

/// Recipients from `--age`, else from `.sops.yaml`.
fn options(file: &Path, age: &[String]) -> Result<EncryptOptions> {
    if age.is_empty() {
        return rules::options_for(file).map_err(|m| {
            Diagnostic::new(m)
                .hint("add a creation rule with `age:` to .sops.yaml, or pass --age RECIPIENT")
                .into()
        });
    }
    let recipients = age
        .iter()
        .map(|r| {
            r.parse::<age::x25519::Recipient>()
                .map_err(|_| Diagnostic::new(format!("`{r}` is not an age recipient (age1...)")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(EncryptOptions {
        recipients,
        partial: None,
        mac_only_encrypted: false,
    })
}
