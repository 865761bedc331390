//! `stencil.yaml`: settings for the whole repository.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum RepoKind {
    Stencil,
}

/// Repository settings (`stencil.yaml` at the repository root).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RepoSettings {
    /// Always `Stencil`.
    pub kind: Option<RepoKind>,
    /// Name of the platform; becomes `app.kubernetes.io/part-of`.
    pub name: String,
    /// Base DNS domain, available to templates as `repo.domain`.
    pub domain: Option<String>,
    /// Container registry, available to templates as `repo.registry`.
    pub registry: Option<String>,
    /// Environments by name (e.g. `dev`, `prod`); every tenant names one. Their order is
    /// the rollout order (`stencil argocd apps --mode applicationset` steps through them).
    pub environments: IndexMap<String, EnvironmentSpec>,
    /// Where External Secrets Operator reads `ssmSecrets` and `featureFlags` from.
    #[serde(default)]
    pub external_secrets: ExternalSecretsSettings,
    /// Namespaces no tenant may use, besides `default` and `kube-*` (e.g. `argocd`).
    #[serde(default)]
    pub reserved_namespaces: Vec<String>,
    /// Environment variable names (globs, e.g. `*_TOKEN`) whose values are sensitive though
    /// not secret: `diff` and `render --redact-secrets` show them as fingerprints, in
    /// ConfigMaps and in container env.
    #[serde(default)]
    pub sensitive_env: Vec<String>,
    /// Guardrail exceptions: the only way to relax a guardrail.
    #[serde(default)]
    pub policy: PolicySettings,
    /// Argo CD: where the Applications live and which repository they read.
    #[serde(default)]
    pub argocd: ArgoCdSettings,
    /// Free-form values for templates, as `repo.vars.<name>`.
    #[serde(default)]
    pub vars: BTreeMap<String, serde_json::Value>,
}

/// Argo CD settings, used by `stencil argocd apps`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ArgoCdSettings {
    /// The Git URL Argo CD clones this repository from (required by `stencil argocd apps`).
    #[serde(rename = "repoURL")]
    pub repo_url: Option<String>,
    /// The branch, tag or commit the Applications track.
    #[serde(default = "default_revision")]
    pub target_revision: String,
    /// The namespace Argo CD runs in (its Applications and AppProjects live there).
    #[serde(default = "default_argocd_namespace")]
    pub namespace: String,
    /// The AppProject of the root (app-of-apps) Application.
    #[serde(default = "default_project")]
    pub project: String,
    /// Name of the root Application (default: `<name>-apps`).
    pub root_app: Option<String>,
}

fn default_revision() -> String {
    "HEAD".into()
}

fn default_argocd_namespace() -> String {
    "argocd".into()
}

fn default_project() -> String {
    "default".into()
}

impl Default for ArgoCdSettings {
    fn default() -> Self {
        ArgoCdSettings {
            repo_url: None,
            target_revision: default_revision(),
            namespace: default_argocd_namespace(),
            project: default_project(),
            root_app: None,
        }
    }
}

/// One environment: where its tenants are deployed.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EnvironmentSpec {
    /// Kubernetes API server URL of the environment's cluster.
    pub cluster: String,
    /// DNS domain of the environment, available to templates as `environment.domain`.
    pub domain: Option<String>,
    /// Free-form values for templates, as `environment.vars.<name>`.
    #[serde(default)]
    pub vars: BTreeMap<String, serde_json::Value>,
}

/// External Secrets Operator settings.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExternalSecretsSettings {
    /// Name of the (Cluster)SecretStore for AWS SSM Parameter Store.
    #[serde(default = "default_store")]
    pub secret_store: String,
    #[serde(default)]
    pub secret_store_kind: SecretStoreKind,
    /// How often ESO re-reads the parameters.
    #[serde(default = "default_refresh")]
    pub refresh_interval: String,
}

fn default_store() -> String {
    "aws-parameter-store".into()
}

fn default_refresh() -> String {
    "1h".into()
}

impl Default for ExternalSecretsSettings {
    fn default() -> Self {
        ExternalSecretsSettings {
            secret_store: default_store(),
            secret_store_kind: SecretStoreKind::default(),
            refresh_interval: default_refresh(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum SecretStoreKind {
    #[default]
    ClusterSecretStore,
    SecretStore,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PolicySettings {
    /// Named, reasoned exceptions to guardrails.
    #[serde(default)]
    pub exceptions: Vec<Exception>,
}

/// Grants tenants/services matching the globs an exception to one guardrail.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Exception {
    /// The guardrail relaxed.
    pub rule: Rule,
    /// Tenant name globs (default: all tenants).
    #[serde(default)]
    pub tenants: Vec<String>,
    /// Service name globs (default: all services).
    #[serde(default)]
    pub services: Vec<String>,
    /// Why this exception exists. Required: an exception nobody can explain gets removed.
    pub reason: String,
}

/// A guardrail that an [`Exception`] can relax.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// Images must carry an immutable tag (never `latest`) or a digest.
    MutableImageTag,
    /// Containers must not allow privilege escalation.
    NoPrivilegeEscalation,
    /// Containers must have a read-only root filesystem.
    ReadOnlyRootFilesystem,
    /// Containers must run as a non-root user (uid 1000 by default).
    RunAsNonRoot,
    /// Containers must drop all Linux capabilities.
    DropAllCapabilities,
    /// Pods and containers must use the RuntimeDefault seccomp profile.
    SeccompRuntimeDefault,
    /// Containers must declare CPU and memory requests and a memory limit.
    Resources,
    /// The main container must have a startup probe.
    StartupProbe,
}

impl Rule {
    pub fn name(self) -> &'static str {
        match self {
            Rule::MutableImageTag => "mutable-image-tag",
            Rule::NoPrivilegeEscalation => "no-privilege-escalation",
            Rule::ReadOnlyRootFilesystem => "read-only-root-filesystem",
            Rule::RunAsNonRoot => "run-as-non-root",
            Rule::DropAllCapabilities => "drop-all-capabilities",
            Rule::SeccompRuntimeDefault => "seccomp-runtime-default",
            Rule::Resources => "resources",
            Rule::StartupProbe => "startup-probe",
        }
    }
}
