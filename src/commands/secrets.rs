//! `stencil secrets`: decrypt, encrypt, set, updatekeys and bind for SOPS (age) files, so
//! nobody needs the sops binary. Plaintext goes to stdout only (`decrypt`); edits happen in
//! memory and files are replaced atomically. What `encrypt` and `set` write for
//! `tenants/<tenant>/<service>/secrets.enc.yaml` is bound to that place (see
//! `secrets::binding`); `bind` adds the binding to files written before.

use std::io::Read as _;
use std::path::Path;
use std::process::ExitCode;

use zeroize::Zeroizing;

use super::{Outcome, find_root, write_atomic, write_stdout};
use crate::cli::{Global, SecretsCommand};
use crate::error::{Diagnostic, Error, Result};
use crate::load::file::{self as yaml_file, Schema};
use crate::names::check_env_name;
use crate::node::{Node, Value};
use crate::origin::{Origin, SourceFile};
use crate::secrets::binding::{self, Conflict, SCOPE_KEY};
use crate::secrets::sops::{self, EncryptOptions, SopsError};
use crate::secrets::{Keys, rules};

pub fn run(global: &Global, command: &SecretsCommand, keys: &Keys) -> Outcome {
    match command {
        SecretsCommand::Decrypt { file } => decrypt(file, keys)?,
        SecretsCommand::Encrypt { file, age } => encrypt(file, age)?,
        SecretsCommand::Set {
            file,
            key,
            value,
            from_stdin,
            age,
        } => set(file, key, value.as_deref(), *from_stdin, age, keys)?,
        SecretsCommand::Updatekeys { file } => update_keys(file, keys)?,
        SecretsCommand::Bind { files } => return bind_all(global, files, keys),
    }
    Ok(ExitCode::SUCCESS)
}

/// `secrets decrypt`: the plaintext document to stdout, written like every YAML file.
fn decrypt(file: &Path, keys: &Keys) -> Result<()> {
    let doc = read_encrypted(file)?;
    let (plain, _) = sops::open(&doc, keys).map_err(|e| fail(file, e))?;
    let text = Zeroizing::new(crate::yaml::write::node_document(&plain));
    write_stdout(&text)
}

/// `secrets encrypt`: a plaintext file encrypted in place (and bound to its place).
fn encrypt(file: &Path, age: &[String]) -> Result<()> {
    let name = file.display().to_string();
    let mut plain = yaml_file::read(file, &name, Schema::Core)?
        .ok_or_else(|| Diagnostic::new(format!("cannot read {name}: it does not exist")))?;
    let scope = bind_to_place(file, &mut plain)?;
    let options = options(file, age)?;
    let encrypted = sops::encrypt(&plain, &options).map_err(|e| fail(file, e))?;
    check_bound(file, &encrypted, scope.as_deref())?;
    write_atomic(file, &encrypted)?;
    eprintln!("encrypted {} for {}", file.display(), list(&options));
    Ok(())
}

/// `secrets set`: one value added or replaced, the file re-encrypted alike.
fn set(
    file: &Path,
    key: &str,
    value: Option<&str>,
    from_stdin: bool,
    age: &[String],
    keys: &Keys,
) -> Result<()> {
    check_env_name(key)
        .map_err(|m| Diagnostic::new(m).hint("each secret becomes an environment variable"))?;
    let value = value_to_set(value, from_stdin)?;
    // An existing file keeps its data key, so every master key it has stays (sops' edit).
    let existing = if file.exists() {
        let doc = read_encrypted(file)?;
        let (plain, data_key) = sops::open(&doc, keys).map_err(|e| fail(file, e))?;
        Some((doc, plain, data_key))
    } else {
        None
    };
    let mut plain = match &existing {
        Some((_, plain, _)) => plain.clone(),
        None => Node::empty_map(Origin::file_start(&SourceFile::new(
            file.display().to_string(),
            "",
        ))),
    };
    // A file bound to another place is refused: `set` must not re-bind a copy.
    let scope = bind_to_place(file, &mut plain)?;
    let origin = plain.origin.clone();
    if let Value::Map(map) = &mut plain.value {
        map.insert(key.to_owned(), Node::string(value.as_str(), origin));
    }
    let encrypted = match &existing {
        Some((doc, _, data_key)) => sops::reencrypt(doc, &plain, data_key),
        None => sops::encrypt(&plain, &options(file, age)?),
    }
    .map_err(|e| fail(file, e))?;
    check_bound(file, &encrypted, scope.as_deref())?;
    write_atomic(file, &encrypted)?;
    eprintln!("set {key} in {}", file.display());
    Ok(())
}

/// The value `set` stores: the argument, or stdin without its final line break.
fn value_to_set(value: Option<&str>, from_stdin: bool) -> Result<Zeroizing<String>> {
    match (value, from_stdin) {
        (_, true) => {
            let mut buf = Zeroizing::new(String::new());
            std::io::stdin()
                .read_to_string(&mut buf)
                .map_err(|e| Error::io("cannot read stdin", &e))?;
            let trimmed = buf.strip_suffix('\n').unwrap_or(&buf);
            Ok(Zeroizing::new(
                trimmed.strip_suffix('\r').unwrap_or(trimmed).to_owned(),
            ))
        }
        (Some(v), false) => Ok(Zeroizing::new(v.to_owned())),
        (None, false) => Err(Diagnostic::new("no value given")
            .hint("pass VALUE or --from-stdin")
            .into()),
    }
}

/// `secrets updatekeys`: the data key re-wrapped for the recipients `.sops.yaml` names.
fn update_keys(file: &Path, keys: &Keys) -> Result<()> {
    let doc = read_encrypted(file)?;
    let options = rules::options_for(file)
        .map_err(|d| or_hint(d, "updatekeys takes its recipients from .sops.yaml"))?;
    let updated = sops::update_keys(&doc, keys, &options.recipients).map_err(|e| fail(file, e))?;
    write_atomic(file, &updated)?;
    eprintln!("{} is now encrypted for {}", file.display(), list(&options));
    Ok(())
}

/// A diagnostic with `hint` unless it has one (a YAML error's own hint is more precise).
fn or_hint(d: Diagnostic, hint: &str) -> Error {
    if d.hint.is_some() {
        d.into()
    } else {
        d.hint(hint).into()
    }
}

/// `secrets bind`: every file given, or every tenant service's secrets file. Each file is
/// handled on its own; the problems are reported together at the end.
fn bind_all(global: &Global, files: &[std::path::PathBuf], keys: &Keys) -> Outcome {
    let files = if files.is_empty() {
        tenant_secrets_files(&find_root(global.repo.as_deref())?)?
    } else {
        files.to_vec()
    };
    let mut problems = Vec::new();
    let (mut bound, mut already) = (0, 0);
    for file in &files {
        match bind_one(file, keys) {
            Ok(true) => bound += 1,
            Ok(false) => already += 1,
            Err(e) => problems.push(e),
        }
    }
    eprintln!(
        "{bound} file{} bound, {already} already bound, {} refused",
        if bound == 1 { "" } else { "s" },
        problems.len()
    );
    Error::unless(problems, ExitCode::SUCCESS)
}

/// Binds one file in place; `Ok(false)` when it is bound to its place already.
fn bind_one(file: &Path, keys: &Keys) -> Result<bool> {
    let scope = binding::scope_of_file(file).ok_or_else(|| {
        Diagnostic::new(format!(
            "{} is not a tenant service's secrets file (tenants/<tenant>/<service>/secrets.enc.yaml in a folder holding stencil.yaml)",
            file.display()
        ))
        .hint("only those files are bound; pass them, or run `stencil secrets bind` in the repository")
    })?;
    let doc = read_encrypted(file)?;
    let (plain, data_key) = sops::open(&doc, keys).map_err(|e| fail(file, e))?;
    let mut bound = plain.clone();
    if !bind_to(file, &mut bound, &scope)? {
        return Ok(false);
    }
    // Keep the data key and every other ciphertext when the file has the plain shape
    // stencil writes; re-encrypt it alike otherwise.
    let text = match sops::prepend_value(&doc, &data_key, SCOPE_KEY, &scope) {
        Some(text) => text,
        None => {
            let options = sops::options_of(&doc).map_err(|e| fail(file, e))?;
            sops::encrypt(&bound, &options).map_err(|e| fail(file, e))?
        }
    };
    check_bound(file, &text, Some(&scope))?;
    write_atomic(file, &text)?;
    eprintln!("bound {} to {scope}", file.display());
    Ok(true)
}

/// `tenants/*/*/secrets.enc.yaml` under `root`, sorted.
fn tenant_secrets_files(root: &Path) -> Result<Vec<std::path::PathBuf>> {
    let mut found = Vec::new();
    let tenants = root.join("tenants");
    let read = |dir: &Path| -> Result<Vec<std::path::PathBuf>> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| Error::io(format_args!("cannot read {}", dir.display()), &e))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        Ok(entries)
    };
    if !tenants.is_dir() {
        return Err(Diagnostic::new(format!("{} has no tenants/ folder", root.display())).into());
    }
    for tenant in read(&tenants)? {
        if !tenant.is_dir() {
            continue;
        }
        for service in read(&tenant)? {
            let file = service.join("secrets.enc.yaml");
            if service.is_dir() && file.is_file() {
                found.push(file);
            }
        }
    }
    Ok(found)
}

/// Binds a plaintext document to the place of `file`, if that is a tenant service's secrets
/// file. Returns the scope.
fn bind_to_place(file: &Path, plain: &mut Node) -> Result<Option<String>> {
    let Some(scope) = binding::scope_of_file(file) else {
        return Ok(None);
    };
    bind_to(file, plain, &scope)?;
    Ok(Some(scope))
}

/// Binds `plain` to `scope`; whether it changed. A binding to another place is refused.
fn bind_to(file: &Path, plain: &mut Node, scope: &str) -> Result<bool> {
    binding::bind(plain, scope).map_err(|conflict| {
        let file = file.display();
        match conflict {
            Conflict::Elsewhere(other) => Diagnostic::new(format!(
                "{file} belongs to {other}, not to {scope}: it was copied or moved from there, and stencil does not re-bind it"
            ))
            .rule(crate::model::Rule::SecretsBinding.name())
            .hint(format!(
                "set the secrets {scope} needs with `stencil secrets set {file} NAME --from-stdin` after deleting this copy"
            )),
            Conflict::Malformed => Diagnostic::new(format!(
                "{file}: its `{SCOPE_KEY}` entry is not a string"
            ))
            .rule(crate::model::Rule::SecretsBinding.name())
            .hint("restore the file from git"),
        }
        .into()
    })
}

/// The binding must come out encrypted (a partial-encryption rule could leave it plain,
/// and a plain binding proves nothing).
fn check_bound(file: &Path, text: &str, scope: Option<&str>) -> Result<()> {
    if scope.is_none() {
        return Ok(());
    }
    let doc = sops::parse(&SourceFile::new(file.display().to_string(), text))?;
    let encrypted = doc
        .get(SCOPE_KEY)
        .and_then(sops::text)
        .is_some_and(|v| v.starts_with("ENC["));
    if encrypted {
        Ok(())
    } else {
        Err(Diagnostic::new(format!(
            "{} would have an unencrypted `{SCOPE_KEY}` entry: its partial-encryption setting leaves that key in the clear",
            file.display()
        ))
        .hint(format!(
            "make the .sops.yaml rule encrypt `{SCOPE_KEY}` (e.g. drop encrypted_regex, or include the key in it)"
        ))
        .into())
    }
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

/// A SOPS file on disk, read like every input.
fn read_encrypted(file: &Path) -> Result<Node> {
    let name = file.display().to_string();
    let bytes = yaml_file::read_bytes(file, &name)?
        .ok_or_else(|| Diagnostic::new(format!("cannot read {name}: it does not exist")))?;
    sops::parse(&yaml_file::decode(&name, bytes)?)
}

/// Recipients from `--age`, else from `.sops.yaml`.
fn options(file: &Path, age: &[String]) -> Result<EncryptOptions> {
    if age.is_empty() {
        return rules::options_for(file).map_err(|d| {
            or_hint(
                d,
                "add a creation rule with `age:` to .sops.yaml, or pass --age RECIPIENT",
            )
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
