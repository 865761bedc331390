//! `stencil-dev bench-repo`: writes a synthetic repository of N tenants x the services
//! of the current repository's `base/`, for benchmarks. It keeps the repository's
//! `stencil.yaml`, `.sops.yaml` and `base/` and adds, per service, a profile layer
//! (`base/<svc>/prod.yaml`, where there is none), so prod tenants resolve a 3-level `extends`
//! chain; per tenant a `tenant.yaml`; per tenant x service a `values.yaml` (with `extends:`
//! and a few overrides), an `env.yaml` with 10 variables and a SOPS `secrets.enc.yaml` with
//! 3 values, encrypted for the age keys stencil found (so the result renders with them).
//!
//! With `--peers DIR` it also writes the same tenants for the tools stencil is measured
//! against (see [`peers`]): a kustomize base with per-tenant overlays and a universal Helm
//! chart with layered per-tenant values files, rendering the same objects.

mod peers;

use std::path::{Path, PathBuf};
use stencil::error::{Diagnostic, Error, Result};
use stencil::secrets::Keys;
use stencil::secrets::binding::SCOPE_KEY;
use stencil::secrets::sops::{self, EncryptOptions};
use stencil::yaml;

fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format_args!("cannot create {}", dir.display()), &e))?;
    }
    std::fs::write(path, text)
        .map_err(|e| Error::io(format_args!("cannot write {}", path.display()), &e))
}

/// Top-level keys of the example's API server that the peers' twins do not model (jobs,
/// mounted files, monitoring, placement): dropped from the benchmark copy, so that stencil
/// and its peers render the same objects, field for field.
const UNMODELED: [&str; 7] = [
    "ports",
    "lifecycle",
    "files",
    "jobs",
    "cronJobs",
    "scheduling",
    "monitoring",
];

/// Removes the [`UNMODELED`] top-level blocks of a service file (a key at column 0 and the
/// indented lines under it).
fn strip_unmodeled(path: &Path) -> Result<()> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io(format_args!("cannot read {}", path.display()), &e))?;
    let mut out = String::new();
    let mut dropping = false;
    for line in text.lines() {
        let top = !line.starts_with([' ', '#', '-']) && !line.is_empty();
        if top {
            let key = line.split(':').next().unwrap_or_default();
            dropping = UNMODELED.contains(&key);
        }
        if !dropping {
            out.push_str(line);
            out.push('\n');
        }
    }
    write(path, &out)
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    let entries = std::fs::read_dir(from)
        .map_err(|e| Error::io(format_args!("cannot list {}", from.display()), &e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("cannot list", &e))?;
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            let text = std::fs::read_to_string(entry.path()).map_err(|e| {
                Error::io(format_args!("cannot read {}", entry.path().display()), &e)
            })?;
            write(&target, &text)?;
        }
    }
    Ok(())
}

/// One synthetic tenant: everything the three layouts write for it, decided once.
pub(super) struct Tenant {
    pub name: String,
    pub environment: &'static str,
    pub namespace: String,
    pub domain: String,
    pub cost_center: String,
    pub team: String,
    pub apps: Vec<App>,
}

pub(super) struct App {
    pub service: String,
    /// `resources.limits.memory` raised for this tenant, on every 4th app.
    pub memory_limit: Option<&'static str>,
    /// The 10 tenant variables of env.yaml, in order.
    pub env: Vec<(String, String)>,
    /// The plaintext of secrets.enc.yaml, in order.
    pub secrets: Vec<(&'static str, String)>,
}

fn tenants(count: usize, services: &[String]) -> Vec<Tenant> {
    let width = count.to_string().len().max(4);
    (0..count)
        .map(|i| {
            let name = format!("t{i:0width$}");
            let apps = services
                .iter()
                .enumerate()
                .map(|(k, service)| App {
                    service: service.clone(),
                    memory_limit: ((i + k) % 4 == 0).then_some("2Gi"),
                    env: (0..10)
                        .map(|v| (format!("BENCH_VAR_{v}"), format!("value-{name}-{v}")))
                        .collect(),
                    secrets: vec![
                        ("DATABASE_PASSWORD", format!("pw-{name}-{service}")),
                        ("API_TOKEN", format!("tok-{i}-{k}")),
                        ("SESSION_SECRET", format!("s-{i}-{k}-session")),
                    ],
                })
                .collect();
            Tenant {
                environment: if i % 3 == 0 { "dev" } else { "prod" },
                namespace: format!("tenant-{name}"),
                domain: format!("{name}.bench.example.com"),
                cost_center: format!("cc-{i}"),
                team: format!("team-{}", i % 17),
                apps,
                name,
            }
        })
        .collect()
}

/// What `bench-repo` writes: its command-line arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// The folder to create
    #[arg(long)]
    pub out: PathBuf,
    /// How many tenants
    #[arg(long, default_value_t = 1000)]
    pub tenants: usize,
    /// Also write the same tenants for kustomize (DIR/kustomize) and Helm (DIR/helm)
    #[arg(long, value_name = "DIR")]
    pub peers: Option<PathBuf>,
}

/// Writes the synthetic repository of `options.tenants` tenants x the services of `root`'s
/// `base/` (and the peers, with `--peers`), its secrets encrypted for `keys`.
pub fn run(root: &Path, options: &Options, keys: &Keys) -> Result<()> {
    let out = &options.out;
    refuse_existing(options)?;
    let encrypt = encrypt_options(keys)?;
    if let Ok(text) = std::fs::read_to_string(root.join(".sops.yaml")) {
        write(&out.join(".sops.yaml"), &text)?;
    }
    write_settings(root, out)?;
    copy_tree(&root.join("base"), &out.join("base"))?;
    let mut services = services(root)?;
    if options.peers.is_some() {
        // The peers' twins model the example's web services; the tenants run those only, so
        // that both sides render the same apps.
        if !peers::SERVICES
            .iter()
            .all(|p| services.iter().any(|s| s == p))
        {
            return Err(Diagnostic::new(format!(
                "--peers writes the example's services ({}); this repository has {}",
                peers::SERVICES.join(", "),
                services.join(", ")
            ))
            .hint("run bench-repo --peers from the repository root of the stencil project")
            .into());
        }
        services.retain(|s| peers::SERVICES.contains(&s.as_str()));
        strip_unmodeled(&out.join("base/apiserver/service.yaml"))?;
    }
    write_profiles(out, &services)?;
    let tenants = tenants(options.tenants, &services);
    for tenant in &tenants {
        write_stencil_tenant(out, tenant, &services, &encrypt)?;
    }
    if let Some(dir) = &options.peers {
        peers::write_all(dir, root, &tenants)?;
    }
    eprintln!(
        "wrote {} tenants x {} services to {}{}",
        options.tenants,
        services.len(),
        out.display(),
        options
            .peers
            .as_ref()
            .map(|d| format!(" (peers: {0}/kustomize, {0}/helm)", d.display()))
            .unwrap_or_default()
    );
    Ok(())
}

/// bench-repo writes new folders only.
fn refuse_existing(options: &Options) -> Result<()> {
    for dir in std::iter::once(&options.out).chain(options.peers.as_ref()) {
        if dir.exists() {
            return Err(Diagnostic::new(format!("{} exists", dir.display()))
                .hint("bench-repo writes new folders; remove it or pick another")
                .into());
        }
    }
    Ok(())
}

/// The generated secrets are encrypted for every age key stencil found.
fn encrypt_options(keys: &Keys) -> Result<EncryptOptions> {
    if keys.is_empty() {
        return Err(
            Diagnostic::new("no age key to encrypt the generated secrets for")
                .hint("set SOPS_AGE_KEY_FILE (e.g. keys/demo-age-key.txt)")
                .into(),
        );
    }
    // The method's path names the `age` crate, which this crate does not depend on.
    #[allow(clippy::redundant_closure_for_method_calls)]
    let recipients = keys.identities().iter().map(|i| i.to_public()).collect();
    Ok(EncryptOptions {
        recipients,
        partial: None,
        mac_only_encrypted: false,
    })
}

/// The repository's stencil.yaml without the settings the peers have no counterpart of.
fn write_settings(root: &Path, out: &Path) -> Result<()> {
    // The peers have no counterpart of the kit's quota, limits and metric templates, nor of
    // canaries: the synthetic repository leaves those settings out. (The network policies
    // every tenant gets are in the peers.)
    let settings = std::fs::read_to_string(root.join("stencil.yaml"))
        .map_err(|e| Error::io("cannot read stencil.yaml", &e))?;
    let mut settings = read_yaml("stencil.yaml", settings)?.to_json();
    if let Some(map) = settings.as_object_mut() {
        map.remove("workspace");
        map.remove("canary");
    }
    write(&out.join("stencil.yaml"), &yaml::write::document(&settings))
}

/// The services of `root`'s `base/` (folders holding a service.yaml), sorted.
fn services(root: &Path) -> Result<Vec<String>> {
    let mut services: Vec<String> = std::fs::read_dir(root.join("base"))
        .map_err(|e| Error::io("cannot list base/", &e))?
        .filter_map(Result::ok)
        .filter(|e| e.path().join("service.yaml").is_file())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    services.sort();
    Ok(services)
}

/// A prod profile layer per service that has none, so prod tenants resolve 3 levels.
fn write_profiles(out: &Path, services: &[String]) -> Result<()> {
    for service in services {
        let profile = out.join(format!("base/{service}/prod.yaml"));
        if !profile.exists() {
            write(
                &profile,
                &format!(
                    "extends: base/{service}/service.yaml\nresources:\n  requests: {{ cpu: 300m, memory: 384Mi }}\n  limits: {{ memory: 768Mi }}\nenv:\n  PROFILE: prod\n"
                ),
            )?;
        }
    }
    Ok(())
}

fn write_stencil_tenant(
    out: &Path,
    tenant: &Tenant,
    services: &[String],
    options: &EncryptOptions,
) -> Result<()> {
    let name = &tenant.name;
    write(
        &out.join(format!("tenants/{name}/tenant.yaml")),
        &format!(
            "kind: Tenant\nenvironment: {}\nnamespace: {}\ndomain: {}\nservices: [{}]\nlabels:\n  example.com/cost-center: {}\n",
            tenant.environment,
            tenant.namespace,
            tenant.domain,
            services.join(", "),
            tenant.cost_center,
        ),
    )?;
    for app in &tenant.apps {
        let service = &app.service;
        let dir = out.join(format!("tenants/{name}/{service}"));
        let layer = if tenant.environment == "prod" {
            "prod.yaml"
        } else {
            "service.yaml"
        };
        let mut values = format!("extends: base/{service}/{layer}\n");
        if let Some(memory) = app.memory_limit {
            values.push_str(&format!("resources:\n  limits: {{ memory: {memory} }}\n"));
        }
        values.push_str(&format!("labels:\n  example.com/team: {}\n", tenant.team));
        // As the peers run it: no canary, and the frontend at a fixed replica count.
        values.push_str("canary: { enabled: false }\n");
        if service == "frontend" {
            values.push_str("autoscaling: { enabled: false }\n");
        }
        write(&dir.join("values.yaml"), &values)?;
        let env: String = app.env.iter().map(|(k, v)| format!("{k}: {v}\n")).collect();
        write(&dir.join("env.yaml"), &env)?;
        let mut plain = serde_json::Map::new();
        // Bound to its place, as `stencil secrets set` writes it.
        plain.insert(SCOPE_KEY.into(), format!("tenants/{name}/{service}").into());
        for (k, v) in &app.secrets {
            plain.insert((*k).into(), v.as_str().into());
        }
        let plain = yaml::write::document(&serde_json::Value::Object(plain));
        let text = sops::encrypt(&read_yaml("secrets.yaml", plain)?, options)
            .map_err(|e| Diagnostic::new(format!("cannot encrypt: {}", e.message)))?;
        write(&dir.join("secrets.enc.yaml"), &text)?;
    }
    Ok(())
}

/// YAML text read by stencil's own reader (the one YAML stack).
pub(crate) fn read_yaml(path: &str, text: String) -> Result<stencil::node::Node> {
    let file = stencil::origin::SourceFile::new(path, text);
    yaml::read::parse(&file, yaml::read::Limits::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> &'static Path {
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
    }

    fn demo_keys() -> Keys {
        let text = std::fs::read_to_string(root().join("keys/demo-age-key.txt")).unwrap();
        Keys::from_text(&text)
    }

    #[test]
    fn writes_every_tenant_with_its_files() {
        let tmp = tempfile::tempdir().unwrap();
        let options = Options {
            out: tmp.path().join("repo"),
            tenants: 3,
            peers: Some(tmp.path().join("peers")),
        };
        run(root(), &options, &demo_keys()).unwrap();
        let out = &options.out;
        for name in ["t0000", "t0001", "t0002"] {
            assert!(out.join(format!("tenants/{name}/tenant.yaml")).is_file());
            for service in peers::SERVICES {
                for file in ["values.yaml", "env.yaml", "secrets.enc.yaml"] {
                    let path = out.join(format!("tenants/{name}/{service}/{file}"));
                    assert!(path.is_file(), "{}", path.display());
                }
            }
        }
        assert!(!out.join("tenants/t0003").exists());
        let settings = std::fs::read_to_string(out.join("stencil.yaml")).unwrap();
        assert!(!settings.contains("canary:"), "{settings}");
        assert!(tmp.path().join("peers/kustomize/apps.txt").is_file());
        assert!(tmp.path().join("peers/helm/apps.txt").is_file());
    }

    #[test]
    fn refuses_an_existing_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let options = Options {
            out: tmp.path().to_path_buf(),
            tenants: 1,
            peers: None,
        };
        let err = run(root(), &options, &demo_keys()).unwrap_err().to_string();
        assert!(err.contains("exists"), "{err}");
    }

    #[test]
    fn refuses_to_write_secrets_without_a_key() {
        let tmp = tempfile::tempdir().unwrap();
        let options = Options {
            out: tmp.path().join("repo"),
            tenants: 1,
            peers: None,
        };
        let err = run(root(), &options, &Keys::from_text(""))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no age key"), "{err}");
        assert!(!options.out.exists());
    }
}
