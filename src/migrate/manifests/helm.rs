//! The old side of `migrate --check --chart`: `helm template` of one tenant's values files,
//! as Helm would install them, read back as JSON objects.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::error::{Diagnostic, Result};
use crate::load::file::{Schema, parse_bytes};

/// API versions `helm template` assumes present (offline it knows none with kinds): current
/// Kubernetes kinds, and the Prometheus Operator and Gateway API groups stencil renders too.
const API_VERSIONS: [&str; 6] = [
    "batch/v1/CronJob",
    "batch/v1/Job",
    "policy/v1/PodDisruptionBudget",
    "autoscaling/v2/HorizontalPodAutoscaler",
    "monitoring.coreos.com/v1",
    "gateway.networking.k8s.io/v1",
];

/// The `helm` to run: `$HELM`, else `helm` on the PATH.
pub(crate) fn binary() -> PathBuf {
    std::env::var_os("HELM").map_or_else(|| PathBuf::from("helm"), PathBuf::from)
}

/// `helm template <release> <chart> -f <file>...`: every object it renders.
pub(crate) fn template(
    helm: &Path,
    chart: &Path,
    release: &str,
    files: &[PathBuf],
) -> Result<Vec<Value>> {
    let mut cmd = Command::new(helm);
    cmd.arg("template").arg(release).arg(chart);
    for file in files {
        cmd.arg("-f").arg(file);
    }
    for api in API_VERSIONS {
        cmd.args(["-a", api]);
    }
    let out = cmd.output().map_err(|e| {
        Diagnostic::new(format!("cannot run {}: {e}", helm.display()))
            .hint("install helm 3, or point $HELM at it")
    })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(Diagnostic::new(format!(
            "helm template {release} {} failed: {}",
            chart.display(),
            crate::error::clip(stderr.trim(), 2000)
        ))
        .into());
    }
    documents(&out.stdout)
}

/// The objects of a YAML stream as Helm writes it (documents split by `---` lines).
fn documents(stream: &[u8]) -> Result<Vec<Value>> {
    let text = String::from_utf8_lossy(stream);
    let mut docs = Vec::new();
    let mut current = String::new();
    let mut flush = |current: &mut String| -> Result<()> {
        if current.trim().is_empty() {
            current.clear();
            return Ok(());
        }
        let node = parse_bytes(
            "helm template",
            std::mem::take(current).into_bytes(),
            Schema::Yaml11,
        )?;
        let value = node.to_json();
        if value.is_object() {
            docs.push(value);
        }
        Ok(())
    };
    for line in text.lines() {
        if line.trim_end() == "---" {
            flush(&mut current)?;
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    flush(&mut current)?;
    Ok(docs)
}
