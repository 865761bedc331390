//! `stencil tenant add` scaffolds a tenant that renders as it is; `stencil tenant list` shows
//! every tenant with its environment, services and image tags.

use std::path::Path;
use std::process::ExitCode;

use serde::Serialize;

use crate::cli::{Global, ListFormat, TenantAddArgs, TenantCommand, TenantListArgs};
use crate::error::{Diagnostic, Error, Result, did_you_mean};
use crate::load::{Loader, Repo, Tenant, load_repo};
use crate::model::EnvironmentSpec;
use crate::names::check_dns_label;
use crate::pipeline::{RenderOptions, Renderer, Selection};
use crate::secrets::{Keys, rules, sops};
use crate::source::{EntryKind, RepoPath, Source, Worktree};

use super::{Context, Outcome, find_root, write_stdout};

pub fn run(global: &Global, command: &TenantCommand, keys: &Keys) -> Outcome {
    match command {
        TenantCommand::Add(args) => add(global, args, keys),
        TenantCommand::List(args) => list(global, args, keys),
    }
}

/// The files of a new tenant, relative to the repository root, in the order they are
/// written and reported.
struct Scaffold {
    files: Vec<(String, String)>,
    /// Whether a secrets file could not be made (no `.sops.yaml` rule), per service.
    skipped_secrets: Vec<String>,
}

fn add(global: &Global, args: &TenantAddArgs, keys: &Keys) -> Outcome {
    let root = find_root(global.repo.as_deref())?;
    let (scaffold, objects) = make(&root, args, keys)?;
    // The `$schema` lines of the files written point here.
    let schemas = super::schemas::update(&root.join("schemas"))?;
    let mut out = String::new();
    for (path, _) in &scaffold.files {
        out.push_str(&format!("created {path}\n"));
    }
    for path in schemas {
        let path = path.strip_prefix(&root).unwrap_or(&path);
        out.push_str(&format!("updated {}\n", path.display()));
    }
    write_stdout(&out)?;
    let name = &args.name;
    for service in &scaffold.skipped_secrets {
        eprintln!(
            "note: no .sops.yaml creation rule matches tenants/{name}/{service}/secrets.enc.yaml; no secrets file was written"
        );
    }
    eprintln!("ok: tenant {name} renders {objects} objects");
    Ok(ExitCode::SUCCESS)
}

/// Makes a tenant in the repository at `root` (for `stencil init`): the files written,
/// relative to `root`.
pub(super) fn create(
    root: &Path,
    args: &TenantAddArgs,
    keys: &Keys,
) -> Result<Vec<(String, String)>> {
    make(root, args, keys).map(|(scaffold, _)| scaffold.files)
}

/// Writes the tenant and renders it; takes it out again if it does not render. The files
/// and the number of objects rendered.
fn make(root: &Path, args: &TenantAddArgs, keys: &Keys) -> Result<(Scaffold, usize)> {
    let name = args.name.as_str();
    check_args(args)?;
    let dir = root.join("tenants").join(name);
    if dir.symlink_metadata().is_ok() {
        return Err(
            Diagnostic::new(format!("tenant `{name}` already exists: tenants/{name}"))
                .hint("choose another name; `stencil tenant list` shows the tenants")
                .into(),
        );
    }
    let scaffold = {
        let source = Worktree::open(root)?;
        let loader = Loader::new(&source);
        let repo = load_repo(&loader)
            .map_err(|e| e.with_note("the repository must validate before a tenant is added"))?;
        scaffold(root, &repo, &loader, args)?
    };
    let tenants = root.join("tenants");
    let made_tenants = !tenants.exists();
    write_tenant(root, name, &scaffold)?;
    // The new tenant must render as it is; if it does not, it is taken out again.
    match validate(root, name, keys) {
        Ok(objects) => Ok((scaffold, objects)),
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            if made_tenants {
                // Only if still empty: nothing but this run's tenant was ever in it.
                let _ = std::fs::remove_dir(&tenants);
            }
            Err(e.with_note(format!(
                "tenants/{name} was not created: the new tenant does not render"
            )))
        }
    }
}

/// The name, `--team` and `--domain`, checked before anything is read.
fn check_args(args: &TenantAddArgs) -> Result<()> {
    check_dns_label(&args.name, 63).map_err(|msg| {
        Diagnostic::new(format!("tenant name {msg}"))
            .hint("a tenant name is a DNS-1123 label: lowercase letters, digits and `-`, e.g. `acme-corp`")
    })?;
    if let Some(team) = &args.team {
        crate::policy::check_group(team)
            .map_err(|msg| Diagnostic::new(format!("--team: {msg}")))?;
    }
    if let Some(domain) = &args.domain
        && !domain
            .split('.')
            .all(|label| check_dns_label(label, 63).is_ok())
    {
        return Err(
            Diagnostic::new(format!("--domain `{domain}` is not a DNS name"))
                .hint("lowercase labels of letters, digits and `-`, joined by dots")
                .into(),
        );
    }
    Ok(())
}

/// Writes the tenant's folder: built beside its final place, then renamed in, so the tenant
/// appears whole or not at all.
fn write_tenant(root: &Path, name: &str, scaffold: &Scaffold) -> Result<()> {
    let tenants = root.join("tenants");
    std::fs::create_dir_all(&tenants)
        .map_err(|e| Error::io(format_args!("cannot create {}", tenants.display()), &e))?;
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{name}.stencil-"))
        .tempdir_in(&tenants)
        .map_err(|e| Error::io(format_args!("cannot write in {}", tenants.display()), &e))?;
    for (path, text) in &scaffold.files {
        let relative = path
            .strip_prefix(&format!("tenants/{name}/"))
            .unwrap_or(path);
        let file = staging.path().join(relative);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::io(format_args!("cannot create {}", parent.display()), &e))?;
        }
        std::fs::write(&file, text)
            .map_err(|e| Error::io(format_args!("cannot write {}", file.display()), &e))?;
    }
    let staged = staging.keep();
    let dir = tenants.join(name);
    // Fails if the folder appeared meanwhile with content: nothing of the user's is replaced.
    if let Err(e) = std::fs::rename(&staged, &dir) {
        let _ = std::fs::remove_dir_all(&staged);
        return Err(Error::io(
            format_args!("cannot create {}", dir.display()),
            &e,
        ));
    }
    Ok(())
}

fn scaffold(
    root: &Path,
    repo: &Repo,
    loader: &Loader<'_>,
    args: &TenantAddArgs,
) -> Result<Scaffold> {
    let name = args.name.as_str();
    let env = environment_of(repo, &args.environment)?;
    let from = from_tenant(repo, args.from.as_deref())?;
    let services = services_of(repo, args, from)?;
    let domain = args.domain.clone().or_else(|| {
        env.domain
            .as_ref()
            .or(repo.settings.domain.as_ref())
            .map(|d| format!("{name}.{d}"))
    });
    let tenant = tenant_file(args, domain.as_deref(), &services, from);
    let mut files = vec![(format!("tenants/{name}/tenant.yaml"), tenant)];
    let mut skipped_secrets = Vec::new();
    for service in &services {
        files.extend(service_files(loader, args, service, from)?);
        match secrets_file(root, name, service)? {
            Some(file) => files.push(file),
            None => skipped_secrets.push(service.clone()),
        }
    }
    Ok(Scaffold {
        files,
        skipped_secrets,
    })
}

/// The environment `--environment` names, or an error suggesting the closest.
fn environment_of<'r>(repo: &'r Repo, environment: &str) -> Result<&'r EnvironmentSpec> {
    let environments = &repo.settings.environments;
    environments.get(environment).ok_or_else(|| {
        let hint = match did_you_mean(environment, environments.keys().map(String::as_str)) {
            Some(e) => format!("did you mean `{e}`?"),
            None => format!(
                "the environments in stencil.yaml are: {}",
                environments.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        };
        Diagnostic::new(format!("unknown environment `{environment}`"))
            .hint(hint)
            .into()
    })
}

/// The tenant `--from` names, if any.
fn from_tenant<'r>(repo: &'r Repo, from: Option<&str>) -> Result<Option<&'r Tenant>> {
    let Some(from) = from else {
        return Ok(None);
    };
    let tenant = repo.tenant(from).ok_or_else(|| {
        let hint = match did_you_mean(from, repo.tenants.iter().map(|t| t.name.as_str())) {
            Some(t) => format!("did you mean `{t}`?"),
            None => "`stencil tenant list` shows the tenants".into(),
        };
        Diagnostic::new(format!("unknown tenant `{from}`")).hint(hint)
    })?;
    Ok(Some(tenant))
}

/// The services given (or `--from`'s), sorted, each one the repository has.
fn services_of(repo: &Repo, args: &TenantAddArgs, from: Option<&Tenant>) -> Result<Vec<String>> {
    let mut services: Vec<String> = if args.services.is_empty() {
        from.map(|t| t.spec.services.clone()).unwrap_or_default()
    } else {
        args.services.clone()
    };
    services.sort();
    services.dedup();
    if services.is_empty() {
        return Err(Diagnostic::new("a tenant needs at least one service")
            .hint(format!(
                "name one with --service (the services are: {}), or copy a tenant's with --from",
                repo.services.iter().cloned().collect::<Vec<_>>().join(", ")
            ))
            .into());
    }
    for service in &services {
        if !repo.services.contains(service) {
            let hint = match did_you_mean(service, repo.services.iter().map(String::as_str)) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "services are the folders under base/ with a service.yaml".into(),
            };
            return Err(Diagnostic::new(format!("unknown service `{service}`"))
                .hint(hint)
                .into());
        }
    }
    Ok(services)
}

/// tenant.yaml, written by hand so that it reads like the examples (`services: [a, b]`);
/// every scalar through the writer's [`yaml_scalar`].
fn tenant_file(
    args: &TenantAddArgs,
    domain: Option<&str>,
    services: &[String],
    from: Option<&Tenant>,
) -> String {
    let mut tenant = String::from(
        "# yaml-language-server: $schema=../../schemas/tenant.schema.json\nkind: Tenant\n",
    );
    tenant.push_str(&format!("environment: {}\n", args.environment));
    if let Some(domain) = domain {
        tenant.push_str(&format!("domain: {}\n", yaml_scalar(domain)));
    }
    // Never copied with --from: that would give the other tenant's team this one too.
    if let Some(team) = &args.team {
        tenant.push_str(&format!("team: {}\n", yaml_scalar(team)));
    }
    tenant.push_str(&format!("services: [{}]\n", services.join(", ")));
    if let Some(from) = from
        && !from.spec.labels.is_empty()
    {
        tenant.push_str("labels:\n");
        for (k, v) in &from.spec.labels {
            tenant.push_str(&format!("  {}: {}\n", yaml_scalar(k), yaml_scalar(v)));
        }
    }
    tenant
}

/// A service's values.yaml and env.yaml: copied from `--from`'s, or new ones.
fn service_files(
    loader: &Loader<'_>,
    args: &TenantAddArgs,
    service: &str,
    from: Option<&Tenant>,
) -> Result<Vec<(String, String)>> {
    let (name, environment) = (args.name.as_str(), args.environment.as_str());
    let folder = format!("tenants/{name}/{service}");
    let copied = |file: &str| copied(loader, from, service, file);
    let values = match copied("values.yaml")? {
        Some(text) => text,
        None => {
            let profile = format!("base/{service}/{environment}.yaml");
            let kind = RepoPath::parse(&profile)
                .ok()
                .map(|p| loader.source().kind(&p))
                .transpose()?
                .flatten();
            let extends = if kind == Some(EntryKind::File) {
                profile
            } else {
                format!("base/{service}/service.yaml")
            };
            format!(
                "# yaml-language-server: $schema=../../../schemas/service.schema.json\n# {name}'s {service}: overrides over what it extends.\nextends: {extends}\n"
            )
        }
    };
    let env_file = copied("env.yaml")?.unwrap_or_else(|| {
        "# yaml-language-server: $schema=../../../schemas/env.schema.json\n# Environment variables of the main container: NAME: value.\n{}\n".to_owned()
    });
    Ok(vec![
        (format!("{folder}/values.yaml"), values),
        (format!("{folder}/env.yaml"), env_file),
    ])
}

/// `file` of `--from`'s service, with a comment saying where it came from.
fn copied(
    loader: &Loader<'_>,
    from: Option<&Tenant>,
    service: &str,
    file: &str,
) -> Result<Option<String>> {
    let Some(from) = from.filter(|t| t.spec.services.iter().any(|s| s == service)) else {
        return Ok(None);
    };
    let path = RepoPath::parse(&format!("tenants/{}/{service}/{file}", from.name))
        .map_err(Diagnostic::new)?;
    let Some(bytes) = loader
        .source()
        .read(&path, crate::load::MAX_FILE_BYTES as u64)?
    else {
        return Ok(None);
    };
    let text =
        String::from_utf8(bytes).map_err(|_| Diagnostic::new(format!("{path} is not UTF-8")))?;
    Ok(Some(format!(
        "# Copied from {path} by `stencil tenant add`.\n{text}"
    )))
}

/// The service's secrets file: no secret yet, bound to its place, encrypted for the
/// `.sops.yaml` rule's recipients. `None` when no rule matches.
fn secrets_file(root: &Path, name: &str, service: &str) -> Result<Option<(String, String)>> {
    let folder = format!("tenants/{name}/{service}");
    let secrets = format!("{folder}/secrets.enc.yaml");
    let Ok(options) = rules::options_for(&root.join(&secrets)) else {
        return Ok(None);
    };
    let text = sops::encrypt(&bound_to(&folder), &options).map_err(|e| {
        Diagnostic::new(format!("cannot encrypt {secrets}: {}", e.message)).hint(e.hint)
    })?;
    Ok(Some((secrets, text)))
}

/// A secrets file's plaintext with no secret yet, only the binding to `folder`.
fn bound_to(folder: &str) -> crate::node::Node {
    use crate::node::{Map, Node, Value};
    let origin = crate::origin::Origin::file_start(&crate::origin::SourceFile::new(
        format!("{folder}/secrets.enc.yaml"),
        "",
    ));
    let mut map = Map::new();
    map.insert(
        crate::secrets::binding::SCOPE_KEY.to_owned(),
        Node::string(folder, origin.clone()),
    );
    Node::new(Value::Map(map), origin)
}

/// A string as a YAML scalar: plain when that reads back as the same string, else
/// double-quoted with every escape a YAML 1.1 or 1.2 reader needs.
fn yaml_scalar(text: &str) -> String {
    crate::yaml::write::inline_scalar(text)
}

/// Renders the new tenant (with every check a render makes); returns its object count.
fn validate(root: &Path, name: &str, keys: &Keys) -> Result<usize> {
    let source = Worktree::open(root)?;
    let loader = Loader::new(&source);
    let repo = load_repo(&loader)?;
    let selection = Selection::new(&[name.to_owned()], &[], None)?;
    // The secrets files were just written (empty): whoever adds a tenant need not hold a
    // key that opens them.
    let options = RenderOptions {
        seal_secrets: true,
        ..RenderOptions::default()
    };
    let renderer = Renderer::with_options(&loader, &repo, keys, options)?;
    Ok(renderer.render(&selection)?.len())
}

#[derive(Serialize)]
struct TenantRow {
    name: String,
    environment: String,
    namespace: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    team: Option<String>,
    services: Vec<ServiceRow>,
}

#[derive(Serialize)]
struct ServiceRow {
    name: String,
    /// The image tag the service renders with.
    tag: Option<String>,
    /// Whether the tenant pins it (its own version.yaml).
    pinned: bool,
}

fn list(global: &Global, args: &TenantListArgs, keys: &Keys) -> Outcome {
    let ctx = Context::open(global)?;
    let source = &ctx.source;
    let loader = ctx.loader();
    let repo = load_repo(&loader)?;
    let renderer = Renderer::new(&loader, &repo, keys)?;
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for tenant in &repo.tenants {
        let mut services = Vec::new();
        let mut names = tenant.spec.services.clone();
        names.sort();
        for service in names {
            let tag = match renderer.resolve(tenant, &service) {
                Ok((_, templated)) => templated
                    .tree
                    .get("image")
                    .and_then(|i| i.get("tag"))
                    .and_then(|t| t.as_scalar_text())
                    .map(str::to_owned),
                Err(e) => {
                    problems.push(e);
                    None
                }
            };
            let pin = RepoPath::parse(&format!("tenants/{}/{service}/version.yaml", tenant.name))
                .map_err(Diagnostic::new)?;
            let pinned = source.kind(&pin)? == Some(EntryKind::File);
            services.push(ServiceRow {
                name: service,
                tag,
                pinned,
            });
        }
        rows.push(TenantRow {
            name: tenant.name.to_string(),
            environment: tenant.spec.environment.clone(),
            namespace: tenant.namespace.to_string(),
            team: tenant.spec.team.clone(),
            services,
        });
    }
    if let Some(err) = Error::collect(problems) {
        return Err(err);
    }
    let out = match args.output {
        ListFormat::Json => super::json_text(&rows)?,
        ListFormat::Table => table(&rows),
    };
    write_stdout(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// One line per tenant; services as `name@tag`, `*` marking a tenant's own pin.
fn table(rows: &[TenantRow]) -> String {
    let lines: Vec<[String; 5]> = std::iter::once(
        ["TENANT", "ENVIRONMENT", "NAMESPACE", "TEAM", "SERVICES"].map(str::to_owned),
    )
    .chain(rows.iter().map(|r| {
        let services = r
            .services
            .iter()
            .map(|s| {
                format!(
                    "{}@{}{}",
                    s.name,
                    s.tag.as_deref().unwrap_or("?"),
                    if s.pinned { "*" } else { "" }
                )
            })
            .collect::<Vec<_>>()
            .join(" ");
        [
            r.name.clone(),
            r.environment.clone(),
            r.namespace.clone(),
            r.team.clone().unwrap_or_else(|| "-".into()),
            services,
        ]
    }))
    .collect();
    let widths: Vec<usize> = (0..4)
        .map(|i| {
            lines
                .iter()
                .map(|l| l[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for line in &lines {
        for (i, width) in widths.iter().enumerate() {
            out.push_str(&format!("{:<width$}  ", line[i]));
        }
        out.push_str(&line[4]);
        out.push('\n');
    }
    if rows.iter().any(|r| r.services.iter().any(|s| s.pinned)) {
        out.push_str("(* pinned by the tenant's own version.yaml)\n");
    }
    out
}
