//! `stencil init`: a new deployment repository in one command. `stencil.yaml`, `.sops.yaml`
//! for a new age key (or `--age` recipients), one base service, `schemas/`, the GitHub
//! workflows (preview and bump, from `examples/ci/github/`), and one tenant made by
//! `tenant add` (so with its secrets file). Everything is built in a staging folder inside
//! the target, rendered and validated there, and only then moved into place: the target
//! gets the whole repository or nothing.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::cli::{InitArgs, TenantAddArgs};
use crate::error::{Diagnostic, Error, Result};
use crate::load::{Loader, load_repo};
use crate::names::check_dns_label;
use crate::pipeline::{RenderOptions, Renderer, Selection};
use crate::secrets::Keys;
use crate::source::Worktree;

use super::{Outcome, tenant, write_stdout};

const PREVIEW_WORKFLOW: &str = include_str!("../../examples/ci/github/preview.yml");
const BUMP_WORKFLOW: &str = include_str!("../../examples/ci/github/bump.yml");

/// The private key's file, when init makes one. Git-ignored.
const KEY_FILE: &str = "age.key";

/// The top-level entries init writes (besides `.gitignore`, appended to, and `.github/`,
/// merged): none may exist before.
const OWNED: [&str; 6] = [
    "stencil.yaml",
    ".sops.yaml",
    "base",
    "tenants",
    "schemas",
    KEY_FILE,
];

pub fn run(args: &InitArgs, keys: &Keys) -> Outcome {
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    check_args(args)?;
    check_target(&dir, args)?;
    let (recipients, private) = recipients(args)?;
    let name = repository_name(args, &dir)?;
    let mut files = platform_files(args, &name, &recipients);
    if !args.no_workflows {
        files.push((
            ".github/workflows/stencil-preview.yml".into(),
            PREVIEW_WORKFLOW.into(),
        ));
        files.push((
            ".github/workflows/stencil-bump.yml".into(),
            BUMP_WORKFLOW.into(),
        ));
    }
    let made_dir = !dir.exists();
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::io(format_args!("cannot create {}", dir.display()), &e))?;
    let result = make(&dir, args, &files, private.as_deref(), keys);
    if result.is_err() && made_dir {
        // Only if empty: the staging folder is gone, and nothing else was ours.
        let _ = std::fs::remove_dir(&dir);
    }
    let tenant_files = result?;
    append_gitignore(&dir, private.is_some())?;
    let mut out = String::new();
    for (path, _) in files.iter().chain(&tenant_files) {
        out.push_str(&format!("created {path}\n"));
    }
    if private.is_some() {
        out.push_str(&format!("created {KEY_FILE}\n"));
    }
    write_stdout(&out)?;
    say_next(&dir, args, private.is_some(), &recipients);
    Ok(ExitCode::SUCCESS)
}

/// Stages the repository in `dir`, makes the tenant (rendering everything) and moves it
/// all into place; the tenant's files.
fn make(
    dir: &Path,
    args: &InitArgs,
    files: &[(String, String)],
    private: Option<&str>,
    keys: &Keys,
) -> Result<Vec<(String, String)>> {
    let staging = tempfile::Builder::new()
        .prefix(".stencil-init-")
        .tempdir_in(dir)
        .map_err(|e| Error::io(format_args!("cannot write in {}", dir.display()), &e))?;
    write_files(staging.path(), files)?;
    if let Some(key) = private {
        write_private_key(&staging.path().join(KEY_FILE), key)?;
    }
    // The tenant is made, and everything rendered, with the key that can read its secrets.
    let own_keys;
    let keys = match private {
        Some(key) => {
            own_keys = Keys::from_text(key);
            &own_keys
        }
        None => keys,
    };
    let nothing = || format!("nothing was written to {}", dir.display());
    let tenant_files = tenant::create(staging.path(), &tenant_args(args), keys)
        .map_err(|e| e.with_note(nothing()))?;
    // With a key made here, everything renders with its secrets; with `--age` recipients
    // whose key this machine may not hold, the secrets are sealed (read, not opened).
    render_all(staging.path(), keys, private.is_none()).map_err(|e| e.with_note(nothing()))?;
    install(staging.path(), dir)?;
    Ok(tenant_files)
}

/// Renders every tenant of the repository at `root` through the whole pipeline, policy
/// included, as `stencil validate` does.
fn render_all(root: &Path, keys: &Keys, seal_secrets: bool) -> Result<()> {
    let source = Worktree::open(root)?;
    let loader = Loader::new(&source);
    let repo = load_repo(&loader)?;
    let options = RenderOptions {
        seal_secrets,
        ..RenderOptions::default()
    };
    let renderer = Renderer::with_options(&loader, &repo, keys, options)?;
    renderer.render(&Selection::new(&[], &[], None)?)?;
    Ok(())
}

fn check_args(args: &InitArgs) -> Result<()> {
    for (flag, value) in [
        ("--service", &args.service),
        ("--tenant", &args.tenant),
        ("--environment", &args.environment),
    ] {
        check_dns_label(value, 63).map_err(|msg| {
            Diagnostic::new(format!("{flag} {msg}"))
                .hint("lowercase letters, digits and `-`, e.g. `hello`")
        })?;
    }
    if !args
        .domain
        .split('.')
        .all(|label| check_dns_label(label, 63).is_ok())
    {
        return Err(
            Diagnostic::new(format!("--domain `{}` is not a DNS name", args.domain))
                .hint("lowercase labels of letters, digits and `-`, joined by dots")
                .into(),
        );
    }
    Ok(())
}

/// Refuses a folder that already holds any part of a repository init would write.
fn check_target(dir: &Path, args: &InitArgs) -> Result<()> {
    let mut taken: Vec<String> = OWNED
        .iter()
        .filter(|entry| dir.join(entry).symlink_metadata().is_ok())
        .map(|entry| (*entry).to_owned())
        .collect();
    if !args.no_workflows {
        for workflow in ["stencil-preview.yml", "stencil-bump.yml"] {
            let path = format!(".github/workflows/{workflow}");
            if dir.join(&path).symlink_metadata().is_ok() {
                taken.push(path);
            }
        }
    }
    if taken.is_empty() {
        return Ok(());
    }
    Err(Diagnostic::new(format!(
        "{} already has {}",
        dir.display(),
        taken.join(", ")
    ))
    .hint("run stencil init in a new or empty folder (`stencil init DIR` makes DIR)")
    .into())
}

/// The age recipients to encrypt for, and the private key when init makes a new one.
fn recipients(args: &InitArgs) -> Result<(Vec<String>, Option<String>)> {
    if !args.age.is_empty() {
        for recipient in &args.age {
            recipient.parse::<age::x25519::Recipient>().map_err(|e| {
                Diagnostic::new(format!("--age `{recipient}` is not an age recipient: {e}"))
                    .hint("an X25519 recipient: `age1…` (age-keygen -y KEYFILE prints it)")
            })?;
        }
        return Ok((args.age.clone(), None));
    }
    let identity = age::x25519::Identity::generate();
    let public = identity.to_public().to_string();
    let secret = {
        use age::secrecy::ExposeSecret as _;
        identity.to_string().expose_secret().to_owned()
    };
    let text = format!("# public key: {public}\n{secret}\n");
    Ok((vec![public], Some(text)))
}

/// `--name`, else the folder's name when it is a DNS label.
fn repository_name(args: &InitArgs, dir: &Path) -> Result<String> {
    if let Some(name) = &args.name {
        check_dns_label(name, 63).map_err(|msg| Diagnostic::new(format!("--name {msg}")))?;
        return Ok(name.clone());
    }
    let folder = std::path::absolute(dir)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().to_lowercase()))
        .unwrap_or_default();
    if check_dns_label(&folder, 63).is_ok() {
        return Ok(folder);
    }
    Err(Diagnostic::new(format!(
        "the folder name `{folder}` cannot be the repository's name"
    ))
    .hint("give one with --name (a DNS label, e.g. `platform`)")
    .into())
}

fn platform_files(args: &InitArgs, name: &str, recipients: &[String]) -> Vec<(String, String)> {
    let (domain, service, env) = (&args.domain, &args.service, &args.environment);
    let stencil = format!(
        "# yaml-language-server: $schema=schemas/stencil.schema.json\n\
         # Repository settings: environments and the values every template reads as `repo.*`.\n\
         kind: Stencil\n\
         name: {name}\n\
         domain: {domain}\n\
         environments:\n  \
           {env}:\n    \
             # Argo CD's own cluster; name another with `argocd cluster add`.\n    \
             cluster: https://kubernetes.default.svc\n    \
             domain: {env}.{domain}\n"
    );
    let argocd = match &args.repo_url {
        Some(url) => format!(
            "argocd:\n  repoURL: {}\n  targetRevision: main\n",
            crate::yaml::write::inline_scalar(url)
        ),
        None => "# argocd:\n#   repoURL: https://git.example.com/platform/deploy.git   # for `stencil argocd apps`\n#   targetRevision: main\n".to_owned(),
    };
    let stencil = format!("{stencil}{argocd}");
    let sops = format!(
        "# SOPS creation rules: `stencil secrets` and the sops CLI encrypt tenant secrets for\n\
         # these age recipients. Add your team's and the Argo CD plugin's keys here, then run\n\
         # `sops updatekeys` on each secrets file.\n\
         creation_rules:\n  \
           - path_regex: ^tenants/[^/]+/[^/]+/secrets\\.enc\\.yaml$\n    \
             age: {}\n",
        recipients.join(",")
    );
    let service_yaml = format!(
        "# yaml-language-server: $schema=../../schemas/service.schema.json\n\
         # The {service} service as every tenant runs it; tenants override parts of it.\n\
         kind: Service\n\
         image: {{ repository: docker.io/nginxinc/nginx-unprivileged }}\n\
         port: 8080\n\
         replicas: 2\n\
         resources:\n  \
           requests: {{ cpu: 50m, memory: 64Mi }}\n  \
           limits: {{ memory: 128Mi }}\n\
         probes:\n  \
           liveness: {{ path: / }}\n  \
           readiness: {{ path: / }}\n"
    );
    let version = "# yaml-language-server: $schema=../../schemas/version.schema.json\n\
                   # Written by CI: `stencil bump SERVICE TAG`.\n\
                   kind: Version\n\
                   image:\n  \
                     tag: 1.27.3-alpine\n"
        .to_owned();
    let mut files = vec![
        ("stencil.yaml".to_owned(), stencil),
        (".sops.yaml".to_owned(), sops),
        (format!("base/{service}/service.yaml"), service_yaml),
        (format!("base/{service}/version.yaml"), version),
    ];
    files.extend(
        crate::model::schema_files()
            .into_iter()
            .map(|(file, text)| (format!("schemas/{file}"), text)),
    );
    files
}

fn tenant_args(args: &InitArgs) -> TenantAddArgs {
    TenantAddArgs {
        name: args.tenant.clone(),
        environment: args.environment.clone(),
        services: vec![args.service.clone()],
        from: None,
        team: None,
        domain: None,
    }
}

fn write_files(root: &Path, files: &[(String, String)]) -> Result<()> {
    for (path, text) in files {
        let file = root.join(path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::io(format_args!("cannot create {}", parent.display()), &e))?;
        }
        std::fs::write(&file, text)
            .map_err(|e| Error::io(format_args!("cannot write {}", file.display()), &e))?;
    }
    Ok(())
}

/// The private key, readable by its owner only from the moment it exists.
fn write_private_key(path: &Path, text: &str) -> Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .map_err(|e| Error::io(format_args!("cannot create {}", path.display()), &e))?;
    file.write_all(text.as_bytes())
        .map_err(|e| Error::io(format_args!("cannot write {}", path.display()), &e))
}

/// Moves every staged top-level entry into `dir` (merging `.github/workflows`). Checked
/// free before anything was made, so a rename only fails if something appeared meanwhile.
fn install(staging: &Path, dir: &Path) -> Result<()> {
    let entries = std::fs::read_dir(staging)
        .map_err(|e| Error::io(format_args!("cannot read {}", staging.display()), &e))?;
    let mut names: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.file_name()))
        .collect();
    names.sort();
    for name in names {
        if name == ".github" {
            let workflows = dir.join(".github/workflows");
            std::fs::create_dir_all(&workflows).map_err(|e| {
                Error::io(format_args!("cannot create {}", workflows.display()), &e)
            })?;
            for file in ["stencil-preview.yml", "stencil-bump.yml"] {
                rename(
                    &staging.join(".github/workflows").join(file),
                    &workflows.join(file),
                )?;
            }
            continue;
        }
        rename(&staging.join(&name), &dir.join(&name))?;
    }
    Ok(())
}

fn rename(from: &Path, to: &Path) -> Result<()> {
    if to.symlink_metadata().is_ok() {
        return Err(Diagnostic::new(format!("{} appeared while init ran", to.display())).into());
    }
    std::fs::rename(from, to)
        .map_err(|e| Error::io(format_args!("cannot create {}", to.display()), &e))
}

/// Keeps the private key out of git.
fn append_gitignore(dir: &Path, key: bool) -> Result<()> {
    if !key {
        return Ok(());
    }
    let path = dir.join(".gitignore");
    let before = std::fs::read_to_string(&path).unwrap_or_default();
    if before.lines().any(|l| l.trim() == format!("/{KEY_FILE}")) {
        return Ok(());
    }
    let mut text = before;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!(
        "# The private age key stencil init made: keep it in a secret store, never in git.\n/{KEY_FILE}\n"
    ));
    std::fs::write(&path, text)
        .map_err(|e| Error::io(format_args!("cannot write {}", path.display()), &e))
}

fn say_next(dir: &Path, args: &InitArgs, made_key: bool, recipients: &[String]) {
    let cd = if dir == Path::new(".") {
        String::new()
    } else {
        format!("cd {} && ", dir.display())
    };
    eprintln!(
        "ok: a repository with service {} and tenant {}; it renders and validates",
        args.service, args.tenant
    );
    if !made_key {
        eprintln!(
            "note: the secrets are encrypted for --age {}; render needs a private key for one of them",
            recipients.join(", ")
        );
    }
    if made_key {
        eprintln!(
            "note: {KEY_FILE} holds the new private age key (git-ignored; public key {}). Keep a copy in your secret store.",
            recipients[0]
        );
        eprintln!("next: {cd}SOPS_AGE_KEY_FILE={KEY_FILE} stencil render");
    } else {
        eprintln!("next: {cd}stencil render");
    }
}
