//! `stencil bench-repo` (hidden): writes a synthetic repository of N tenants x the services
//! of the current repository's `base/`, for benchmarks. It keeps the repository's
//! `stencil.yaml`, `.sops.yaml` and `base/` and adds, per service, a profile layer
//! (`base/<svc>/prod.yaml`, where there is none), so prod tenants resolve a 3-level `extends`
//! chain; per tenant a `tenant.yaml`; per tenant x service a `values.yaml` (with `extends:`
//! and a few overrides), an `env.yaml` with 10 variables and a SOPS `secrets.enc.yaml` with
//! 3 values, encrypted for the age keys stencil found (so the result renders with them).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{Outcome, find_root};
use crate::cli::{BenchRepoArgs, Global};
use crate::error::{Diagnostic, Error, Result};
use crate::secrets::Keys;
use crate::secrets::sops::{self, EncryptOptions};

fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format_args!("cannot create {}", dir.display()), &e))?;
    }
    std::fs::write(path, text)
        .map_err(|e| Error::io(format_args!("cannot write {}", path.display()), &e))
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

pub fn run(global: &Global, args: &BenchRepoArgs, keys: &Keys) -> Outcome {
    let root = find_root(global.repo.as_deref())?;
    let out: &PathBuf = &args.out;
    if out.exists() {
        return Err(Diagnostic::new(format!("{} exists", out.display()))
            .hint("bench-repo writes a new folder; remove it or pick another")
            .into());
    }
    if keys.is_empty() {
        return Err(
            Diagnostic::new("no age key to encrypt the generated secrets for")
                .hint("set SOPS_AGE_KEY_FILE (e.g. keys/demo-age-key.txt)")
                .into(),
        );
    }
    let options = EncryptOptions {
        recipients: keys.identities().iter().map(|i| i.to_public()).collect(),
        partial: None,
        mac_only_encrypted: false,
    };
    for file in ["stencil.yaml", ".sops.yaml"] {
        if let Ok(text) = std::fs::read_to_string(root.join(file)) {
            write(&out.join(file), &text)?;
        }
    }
    copy_tree(&root.join("base"), &out.join("base"))?;
    let mut services: Vec<String> = std::fs::read_dir(root.join("base"))
        .map_err(|e| Error::io("cannot list base/", &e))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("service.yaml").is_file())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    services.sort();
    for service in &services {
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
    let width = args.tenants.to_string().len().max(4);
    for i in 0..args.tenants {
        let tenant = format!("t{i:0width$}");
        let environment = if i % 3 == 0 { "dev" } else { "prod" };
        write(
            &out.join(format!("tenants/{tenant}/tenant.yaml")),
            &format!(
                "kind: Tenant\nenvironment: {environment}\nnamespace: tenant-{tenant}\ndomain: {tenant}.bench.example.com\nservices: [{}]\nlabels:\n  example.com/cost-center: cc-{i}\n",
                services.join(", ")
            ),
        )?;
        for (k, service) in services.iter().enumerate() {
            let dir = out.join(format!("tenants/{tenant}/{service}"));
            let layer = if environment == "prod" {
                "prod.yaml"
            } else {
                "service.yaml"
            };
            let mut values = format!("extends: base/{service}/{layer}\n");
            if (i + k) % 4 == 0 {
                values.push_str("resources:\n  limits: { memory: 2Gi }\n");
            }
            values.push_str(&format!("labels:\n  example.com/team: team-{}\n", i % 17));
            write(&dir.join("values.yaml"), &values)?;
            let mut env = String::new();
            for v in 0..10 {
                env.push_str(&format!("BENCH_VAR_{v}: value-{tenant}-{v}\n"));
            }
            write(&dir.join("env.yaml"), &env)?;
            let plain: serde_yaml::Value = serde_yaml::from_str(&format!(
                "DATABASE_PASSWORD: pw-{tenant}-{service}\nAPI_TOKEN: tok-{i}-{k}\nSESSION_SECRET: s-{i}-{k}-session\n"
            ))
            .map_err(|e| Diagnostic::new(format!("cannot build secrets: {e}")))?;
            let text = sops::encrypt(&plain, &options)
                .map_err(|e| Diagnostic::new(format!("cannot encrypt: {}", e.message)))?;
            write(&dir.join("secrets.enc.yaml"), &text)?;
        }
    }
    eprintln!(
        "wrote {} tenants x {} services to {}",
        args.tenants,
        services.len(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}
