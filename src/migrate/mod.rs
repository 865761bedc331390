//! `stencil migrate`: the symlinked "universal Helm chart" values layout (seed 003) to
//! stencil's, with `extends:` where there were symlinks.
//!
//! - [`old`] reads the old layout (symlinks checked, values read as Helm reads them);
//! - [`values`] holds the pure parts: Helm's values merge, the mapping of Helm values keys to
//!   the service model, the minimal overrides between two mapped trees;
//! - [`plan`] makes the new layout's files in memory, [`check`] compares every tenant's old
//!   effective values with the resolved new layout.
//!
//! Secrets files are copied byte for byte, never decrypted. The command writes the plan.

mod charts;
mod check;
mod manifests;
mod old;
mod plan;
mod tenancy;
pub(crate) mod values;

use std::path::PathBuf;

pub(crate) use check::check;
pub(crate) use manifests::check as check_chart;
pub(crate) use old::Old;
pub(crate) use plan::plan;

/// What to migrate.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// The old layout: the folder holding `prod/<base>/` and one folder per tenant.
    pub from: PathBuf,
    /// The service name for the (single) base (default: the base folder without `-base`).
    pub service: Option<String>,
    /// The platform name in `stencil.yaml`.
    pub name: Option<String>,
}
