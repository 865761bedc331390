//! The new layout, planned: `stencil.yaml`, one base per old base, one folder per tenant with
//! `extends:` where there were symlinks, and the report of what did not map. Nothing is
//! written here: the plan is files in memory.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use serde_json::{Map, Value};

use super::Options;
use super::charts::map_values;
use super::old::{Old, OldApp, doc, version_of, without_version};
use super::values::{helm_merge, leaf_paths, overrides};
use crate::error::{Error, Result};

/// The files of the new layout, and what the migration reports.
pub(crate) struct Plan {
    pub files: Vec<(PathBuf, Vec<u8>)>,
    pub report: String,
}

pub(crate) fn plan(old: &Old, args: &Options) -> Result<Plan> {
    let mut plan = Plan {
        files: Vec::new(),
        report: String::new(),
    };
    plan.settings(old, args)?;
    let mapped_bases = plan.bases(old)?;
    plan.tenants(old);
    for app in &old.apps {
        plan.app(old, app, &mapped_bases[app.base.as_str()])?;
    }
    plan.other_links(old);
    Ok(plan)
}

impl Plan {
    fn add(&mut self, path: String, text: impl Into<Vec<u8>>) {
        self.files.push((PathBuf::from(path), text.into()));
    }

    /// stencil.yaml: environments from the folders; what cannot be inferred is marked.
    fn settings(&mut self, old: &Old, args: &Options) -> Result<()> {
        let first_base = old.bases.keys().next().cloned().unwrap_or_default();
        let base_values = old.values(&format!("prod/{first_base}/values.yaml"))?;
        let registry = base_values
            .pointer("/image/repository")
            .and_then(Value::as_str)
            .and_then(|r| r.split_once('/'))
            .map(|(host, _)| host.to_owned())
            .filter(|h| h.contains('.'));
        let name = args.name.clone().unwrap_or_else(|| "platform".into());
        let mut environments = Map::new();
        for env in ["dev", "prod"] {
            if old.apps.iter().any(|a| a.environment == env) {
                environments.insert(
                    env.into(),
                    serde_json::json!({ "cluster": "https://kubernetes.default.svc" }),
                );
            }
        }
        let mut settings = serde_json::json!({
            "kind": "Stencil",
            "name": name,
            "environments": environments,
        });
        if let Some(registry) = registry {
            settings["registry"] = Value::String(registry);
        }
        // The Helm values name hosts freely (often one host for every tenant); stencil wants
        // each tenant's hosts under its own domain. Kept as they were, under a reasoned
        // exception.
        let mut exceptions = vec![serde_json::json!({
            "rule": crate::model::Rule::TenantHosts.name(),
            "reason": "migrated: hosts kept as in the Helm values; give each tenant a `domain` (tenant.yaml) and hosts under it, then remove this exception",
        })];
        // What the tenants use of the cluster: listed, for the platform to review.
        let (tenancy, roles) = super::tenancy::used(old)?;
        if roles {
            exceptions.push(serde_json::json!({
                "rule": crate::model::Rule::IamRoleArn.name(),
                "reason": "migrated: IAM roles kept as in the Helm values; list each tenant's roles in tenancy.iamRoleArns (e.g. arn:aws:iam::<account>:role/{tenant.name}-*), then remove this exception",
            }));
        }
        if !tenancy.is_empty() {
            settings["tenancy"] = Value::Object(tenancy);
        }
        settings["policy"] = serde_json::json!({ "exceptions": exceptions });
        self.add(
            "stencil.yaml".into(),
            doc(
                "# yaml-language-server: $schema=schemas/stencil.schema.json\n\
                 # Written by `stencil migrate`. PLACEHOLDERS to set before deploying:\n\
                 #   name: the platform's name (--name)\n\
                 #   environments.*.cluster: each environment's API server URL (in-cluster for now)\n\
                 #   argocd.repoURL: for `stencil argocd apps`\n\
                 #   tenancy: the storage classes, tolerations and priority classes the tenants used\n",
                settings,
            ),
        );
        Ok(())
    }

    /// Each base's service.yaml and version.yaml; returns the mapped service of each base.
    fn bases<'o>(&mut self, old: &'o Old) -> Result<BTreeMap<&'o str, Map<String, Value>>> {
        let mut mapped_bases = BTreeMap::new();
        for (base, service) in &old.bases {
            let values = old.values(&format!("prod/{base}/values.yaml"))?;
            let version = old.values(&format!("prod/{base}/version.yaml"))?;
            let mut effective = values.clone();
            helm_merge(&mut effective, &version);
            let mapped = map_values(&effective, old.flavor);
            let _ = writeln!(
                self.report,
                "chart: prod/{base} is written for {}",
                old.flavor.name()
            );
            for path in &mapped.superseded {
                let _ = writeln!(
                    self.report,
                    "superseded: prod/{base}: {path} (stencil's hardened pod sets at least as much)"
                );
            }
            for path in &mapped.unmapped {
                let _ = writeln!(
                    self.report,
                    "unmapped: prod/{base}: {path} -> base/{service}/service.yaml helmPassthrough.{path} (not rendered; move it by hand)"
                );
            }
            let service_map = without_version(mapped.service);
            self.add(
                format!("base/{service}/service.yaml"),
                doc(
                    &format!("# yaml-language-server: $schema=../../schemas/service.schema.json\n# Migrated from prod/{base}/values.yaml by `stencil migrate`.\nkind: Service\nname: {service}\n"),
                    Value::Object(service_map.clone()),
                ),
            );
            if let Some(pin) = version_of(&effective, old.flavor) {
                self.add(
                    format!("base/{service}/version.yaml"),
                    doc(
                        "# yaml-language-server: $schema=../../schemas/version.schema.json\n",
                        pin,
                    ),
                );
            }
            mapped_bases.insert(base.as_str(), service_map);
        }
        Ok(mapped_bases)
    }

    /// Each tenant's tenant.yaml: its environment and services.
    fn tenants(&mut self, old: &Old) {
        let mut tenants: BTreeMap<&str, (&str, Vec<&str>)> = BTreeMap::new();
        for app in &old.apps {
            let entry = tenants
                .entry(app.tenant.as_str())
                .or_insert((app.environment, Vec::new()));
            entry.1.push(app.service.as_str());
        }
        for (tenant, (environment, services)) in &tenants {
            self.add(
                format!("tenants/{tenant}/tenant.yaml"),
                doc(
                    "# yaml-language-server: $schema=../../schemas/tenant.schema.json\n",
                    serde_json::json!({ "kind": "Tenant", "environment": environment, "services": services }),
                ),
            );
        }
    }

    /// One tenant x service: values.yaml (what differs from the base), env.yaml, a version
    /// pin of its own, and its secrets file.
    fn app(&mut self, old: &Old, app: &OldApp, base_map: &Map<String, Value>) -> Result<()> {
        let out_dir = format!("tenants/{}/{}", app.tenant, app.service);
        let env = self.app_values(old, app, base_map, &out_dir)?;
        if !env.is_empty() {
            self.add(
                format!("{out_dir}/env.yaml"),
                doc(
                    "# yaml-language-server: $schema=../../../schemas/env.schema.json\n",
                    Value::Object(env),
                ),
            );
        }
        self.app_version(old, app, &out_dir)?;
        // Secrets: the same bytes, still SOPS, never decrypted.
        let secrets = old.root.join(&app.dir).join("secrets.enc.yaml");
        if secrets.exists() {
            let bytes = std::fs::read(&secrets).map_err(|e| {
                Error::io(format_args!("cannot read {}/secrets.enc.yaml", app.dir), &e)
            })?;
            self.add(format!("{out_dir}/secrets.enc.yaml"), bytes);
        }
        Ok(())
    }

    /// The app's values.yaml: `extends` its base plus what differs. Returns env.yaml's own
    /// variables (they go to the new env.yaml).
    fn app_values(
        &mut self,
        old: &Old,
        app: &OldApp,
        base_map: &Map<String, Value>,
        out_dir: &str,
    ) -> Result<Map<String, Value>> {
        let service = &app.service;
        // The tenant's values and env.yaml as Helm merges them (without the version).
        let mut tenant_values = old.values(&format!("{}/values.yaml", app.dir))?;
        let helm_env = old.values(&format!("{}/env.yaml", app.dir))?;
        helm_merge(&mut tenant_values, &helm_env);
        let mapped = map_values(&tenant_values, old.flavor);
        let mut diff = overrides(base_map, &without_version(mapped.service));
        // Values without a place that differ from the base's are the tenant's to move.
        if let Some(Value::Object(pass)) = diff.get("helmPassthrough") {
            for path in leaf_paths(pass) {
                let _ = writeln!(
                    self.report,
                    "unmapped: {}: {path} -> {out_dir}/values.yaml helmPassthrough.{path} (not rendered; move it by hand)",
                    app.dir
                );
            }
        }
        // env.yaml's own variables go to the new env.yaml; what stays in values.yaml are the
        // deletions (Helm replaces lists, so base variables a tenant's env list lacks vanish).
        let env = match map_values(&helm_env, old.flavor).service.remove("env") {
            Some(Value::Object(env)) => env,
            _ => Map::new(),
        };
        if let Some(Value::Object(diff_env)) = diff.get_mut("env") {
            diff_env.retain(|k, v| env.get(k) != Some(v));
            if diff_env.is_empty() {
                diff.remove("env");
            }
        }
        let diverging = leaf_paths(&diff);
        let header = format!(
            "# yaml-language-server: $schema=../../../schemas/service.schema.json\nextends: base/{service}\n"
        );
        let text = if diff.is_empty() {
            header
        } else {
            doc(&header, Value::Object(diff))
        };
        self.add(format!("{out_dir}/values.yaml"), text);
        self.report_values(old, app, &diverging);
        Ok(env)
    }

    /// How the app's values.yaml was migrated: a symlink replaced, or a file's divergences.
    fn report_values(&mut self, old: &Old, app: &OldApp, diverging: &[String]) {
        let service = &app.service;
        let _ = match old.link(&format!("{}/values.yaml", app.dir)) {
            Some(link) => writeln!(
                self.report,
                "symlink: {} -> {}: replaced by extends: base/{service}",
                link.path, link.target
            ),
            None => writeln!(
                self.report,
                "file: {}/values.yaml: extends: base/{service} plus {} diverging key{}{}",
                app.dir,
                diverging.len(),
                if diverging.len() == 1 { "" } else { "s" },
                if diverging.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", diverging.join(", "))
                }
            ),
        };
    }

    /// A version of its own (a real file that differs from the base's) becomes a pin.
    fn app_version(&mut self, old: &Old, app: &OldApp, out_dir: &str) -> Result<()> {
        let version_path = format!("{}/version.yaml", app.dir);
        if let Some(link) = old.link(&version_path) {
            let _ = writeln!(
                self.report,
                "symlink: {} -> {}: replaced by the base version",
                link.path, link.target
            );
            return Ok(());
        }
        let own = version_of(&old.values(&version_path)?, old.flavor);
        let base_version = version_of(
            &old.values(&format!("prod/{}/version.yaml", app.base))?,
            old.flavor,
        );
        if let Some(pin) = own.filter(|p| Some(p) != base_version.as_ref()) {
            self.add(
                format!("{out_dir}/version.yaml"),
                doc(
                    "# yaml-language-server: $schema=../../../schemas/version.schema.json\n",
                    pin,
                ),
            );
        }
        Ok(())
    }

    /// Symlinks that are no app's values or version file: reported, not migrated.
    fn other_links(&mut self, old: &Old) {
        for link in &old.links {
            let known = old.apps.iter().any(|a| {
                link.path == format!("{}/values.yaml", a.dir)
                    || link.path == format!("{}/version.yaml", a.dir)
            });
            if !known {
                let _ = writeln!(
                    self.report,
                    "symlink: {} -> {}: not migrated (not a values or version file)",
                    link.path, link.target
                );
            }
        }
    }
}
