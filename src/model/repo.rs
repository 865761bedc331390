//! `stencil.yaml`: settings for the whole repository.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::tenancy::TenancySettings;
use super::workspace::{CanarySettings, WorkspaceSettings};

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
    /// Namespaces no tenant may use, besides the built-in ones (`default`, `kube-*`,
    /// `argocd`, `monitoring`, ...) and every namespace named elsewhere in this file.
    #[serde(default)]
    pub reserved_namespaces: Vec<String>,
    /// What a tenant may claim of the shared infrastructure: SSM parameters, hosts, IAM
    /// roles, annotations only the platform sets.
    #[serde(default)]
    pub tenancy: TenancySettings,
    /// Environment variable names (globs, e.g. `*_TOKEN`) whose values are sensitive though
    /// not secret: `diff` and `render --redact-secrets` show them as fingerprints, in
    /// ConfigMaps and in container env.
    #[serde(default)]
    pub sensitive_env: Vec<String>,
    /// Exceptions: the only way to relax a guardrail (`stencil policy list` lists them).
    #[serde(default)]
    pub policy: PolicySettings,
    /// Argo CD: where the Applications live and which repository they read.
    #[serde(default)]
    pub argocd: ArgoCdSettings,
    /// What every tenant's namespace gets: quota (and its ceiling), LimitRange, network
    /// isolation, RoleBindings.
    #[serde(default)]
    pub workspace: WorkspaceSettings,
    /// Progressive delivery with Flagger: the provider and the analysis minimums every
    /// service's `canary:` gets.
    pub canary: Option<CanarySettings>,
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

/// A guardrail: a policy rule of the `policy` stage. An [`Exception`] can relax one.
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
    /// A tenant's quota may not exceed the ceiling in `stencil.yaml`.
    QuotaCeiling,
    /// A canary may not analyse for less than the platform minimum.
    CanaryMinimum,
    /// What the platform renders (quota, limits, network policies, access, canaries)
    /// comes from the platform only, not from `extraObjects` or patches.
    PlatformObjects,
    /// No tenant renders into a namespace of the platform's.
    ReservedNamespace,
    /// SSM parameters a tenant reads or writes lie under its prefix.
    SsmPrefix,
    /// A tenant serves only its own hosts.
    TenantHosts,
    /// The ALB group annotations (and others the platform lists) are the platform's.
    PlatformAnnotations,
    /// A tenant's service accounts assume only its own IAM roles.
    IamRoleArn,
}

impl Rule {
    /// Every rule, in the order `stencil policy list` prints them.
    pub const ALL: [Rule; 16] = [
        Rule::MutableImageTag,
        Rule::NoPrivilegeEscalation,
        Rule::ReadOnlyRootFilesystem,
        Rule::RunAsNonRoot,
        Rule::DropAllCapabilities,
        Rule::SeccompRuntimeDefault,
        Rule::Resources,
        Rule::StartupProbe,
        Rule::QuotaCeiling,
        Rule::CanaryMinimum,
        Rule::PlatformObjects,
        Rule::ReservedNamespace,
        Rule::SsmPrefix,
        Rule::TenantHosts,
        Rule::PlatformAnnotations,
        Rule::IamRoleArn,
    ];

    /// The rule's id: in messages, `stencil policy list` and `policy.exceptions[].rule`.
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
            Rule::QuotaCeiling => "quota-ceiling",
            Rule::CanaryMinimum => "canary-minimum",
            Rule::PlatformObjects => "platform-objects",
            Rule::ReservedNamespace => "reserved-namespace",
            Rule::SsmPrefix => "ssm-prefix",
            Rule::TenantHosts => "tenant-hosts",
            Rule::PlatformAnnotations => "platform-annotations",
            Rule::IamRoleArn => "iam-role-arn",
        }
    }

    /// What the rule requires, in one line.
    pub fn summary(self) -> &'static str {
        match self {
            Rule::MutableImageTag => {
                "every image has an immutable tag: never empty, never `latest`"
            }
            Rule::NoPrivilegeEscalation => {
                "allowPrivilegeEscalation: false and not privileged, on every container"
            }
            Rule::ReadOnlyRootFilesystem => "readOnlyRootFilesystem: true on every container",
            Rule::RunAsNonRoot => "runAsNonRoot: true and a non-zero uid on every container",
            Rule::DropAllCapabilities => "capabilities drop ALL and add nothing",
            Rule::SeccompRuntimeDefault => "seccomp profile RuntimeDefault (or Localhost)",
            Rule::Resources => "requests.cpu, requests.memory and limits.memory on every container",
            Rule::StartupProbe => "the main container has a startup probe",
            Rule::QuotaCeiling => {
                "a tenant's quota stays within workspace.quota.ceiling in stencil.yaml"
            }
            Rule::CanaryMinimum => {
                "a canary analyses at least canary.minInterval x canary.minIterations, with the platform's step weight, threshold and smoke test"
            }
            Rule::PlatformObjects => {
                "no ResourceQuota, LimitRange, NetworkPolicy, Canary or MetricTemplate in extraObjects, no RoleBinding but of a Role to the namespace's service accounts, no patch of the Canary"
            }
            Rule::ReservedNamespace => {
                "a tenant's namespace is none of the built-in platform namespaces (kube-*, argocd, monitoring, ...), none stencil.yaml names, none in reservedNamespaces"
            }
            Rule::SsmPrefix => {
                "ssmSecrets, featureFlags.ssmPrefix and extra ExternalSecret/PushSecret keys lie under tenancy.ssmPrefix (as a path); no SecretStore or generator of the tenant's own"
            }
            Rule::TenantHosts => {
                "every host (Ingress, TLS, Gateway API routes, canary, external-dns) matches tenancy.hosts; tenant domains do not overlap; no host is claimed by two tenants"
            }
            Rule::PlatformAnnotations => {
                "annotations in tenancy.platformAnnotations (the ALB group.name and group.order, ...) and ingress.groupName are set only in base/"
            }
            Rule::IamRoleArn => {
                "serviceAccount.iamRoleArn and every eks.amazonaws.com/role-arn or iam.amazonaws.com/role annotation match tenancy.iamRoleArns"
            }
        }
    }

    /// Why the rule exists.
    pub fn rationale(self) -> &'static str {
        match self {
            Rule::MutableImageTag => {
                "a mutable tag makes a render mean different things on different days; rollbacks and diffs need the exact image"
            }
            Rule::NoPrivilegeEscalation => {
                "a compromised process must not gain more privileges than it started with"
            }
            Rule::ReadOnlyRootFilesystem => {
                "an attacker cannot drop tools into the image; writable paths are explicit emptyDirs"
            }
            Rule::RunAsNonRoot => {
                "root in a container is one kernel bug away from root on the node"
            }
            Rule::DropAllCapabilities => {
                "no service needs raw sockets or kernel capabilities; Pod Security `restricted` requires it"
            }
            Rule::SeccompRuntimeDefault => {
                "blocks the syscalls most container escapes use; Pod Security `restricted` requires it"
            }
            Rule::Resources => {
                "without requests the scheduler overpacks nodes; without a memory limit one pod can starve its neighbours"
            }
            Rule::StartupProbe => {
                "a slow start is not a failure: without it, liveness kills pods that are still starting"
            }
            Rule::QuotaCeiling => {
                "one tenant must not be able to take the cluster's capacity from the others"
            }
            Rule::CanaryMinimum => {
                "a short analysis promotes a bad release before the SLOs can see it; every service gets the same rollback safety"
            }
            Rule::PlatformObjects => {
                "a tenant overlay must not widen its own quota, network, access or rollout analysis; those are platform decisions"
            }
            Rule::ReservedNamespace => {
                "a tenant in the platform's namespace would run next to, and could replace, Argo CD, the monitoring or the gateways every tenant relies on"
            }
            Rule::SsmPrefix => {
                "the shared ClusterSecretStore can read every tenant's parameters; the path is the only thing that keeps one tenant from another's database password"
            }
            Rule::TenantHosts => {
                "tenants share one ALB group and one DNS zone: a host claimed by another tenant takes its traffic, cookies and login pages"
            }
            Rule::PlatformAnnotations => {
                "group.name picks the shared load balancer and group.order decides whose rules match first: a tenant could jump the queue and take another tenant's traffic"
            }
            Rule::IamRoleArn => {
                "a role ARN is a claim on AWS permissions: another tenant's role, or a role in another account, would give the pods that tenant's data"
            }
        }
    }
}
