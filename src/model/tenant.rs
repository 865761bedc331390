//! `tenants/<tenant>/tenant.yaml`: one tenant.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum TenantKind {
    Tenant,
}

/// A tenant: which environment it lives in and which services it runs.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TenantSpec {
    /// Always `Tenant`.
    pub kind: Option<TenantKind>,
    /// The tenant's name; must equal its folder name when given.
    pub name: Option<String>,
    /// An environment named in `stencil.yaml`.
    pub environment: String,
    /// Kubernetes namespace (default: the tenant name).
    pub namespace: Option<String>,
    /// The tenant's DNS domain, available to templates as `tenant.domain`.
    pub domain: Option<String>,
    /// Services this tenant runs, by folder name under `base/`.
    pub services: Vec<String>,
    /// The group (from the cluster's identity provider) that owns the tenant: bound to
    /// `workspace.teamRole` in its namespace, and the role `team` of its Argo CD project.
    pub team: Option<String>,
    /// More groups, by role (a key of `workspace.roles` in stencil.yaml): e.g.
    /// `viewer: [support]`.
    #[serde(default)]
    pub groups: BTreeMap<String, Vec<String>>,
    /// ResourceQuota overrides over `workspace.quota.default` (e.g. `requests.cpu: "16"`),
    /// up to `workspace.quota.ceiling`.
    #[serde(default)]
    pub quota: BTreeMap<String, String>,
    /// Extra labels on every object of this tenant.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Free-form values for templates, as `tenant.vars.<name>`.
    #[serde(default)]
    pub vars: BTreeMap<String, serde_json::Value>,
}
