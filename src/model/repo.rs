//! `stencil.yaml`: settings for the whole repository.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
    /// Namespaces no tenant may use, besides `default` and `kube-*` (e.g. `argocd`).
    #[serde(default)]
    pub reserved_namespaces: Vec<String>,
    /// Environment variable names (globs, e.g. `*_TOKEN`) whose values are sensitive though
    /// not secret: `diff` and `render --redact-secrets` show them as fingerprints, in
    /// ConfigMaps and in container env.
    #[serde(default)]
    pub sensitive_env: Vec<String>,
    /// Exceptions: the only way to relax a guardrail (`stencil policy list` lists them).
    #[serde(default)]
    pub policy: PolicySettings,
    /// What tenants may add with `extraObjects`, besides namespaced built-in kinds.
    #[serde(default)]
    pub extra_objects: ExtraObjectsSettings,
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
    /// Size budgets that bound what a tenant's input can make stencil produce.
    #[serde(default)]
    pub budgets: Budgets,
}

/// Output budgets (`budgets:` in `stencil.yaml`): a small tenant input must not make stencil
/// produce (or hold in memory) gigabytes. Each is checked while building, so a render stops
/// at the budget, not after it. Sizes are in bytes of compact JSON, as the API server stores
/// an object.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Budgets {
    /// Largest rendered object, and largest string a template may produce (default 1 MiB;
    /// etcd refuses objects past about 1.5 MiB).
    #[serde(default = "default_object_bytes")]
    pub object_bytes: u64,
    /// Largest output of one tenant x service, all its objects together, and largest
    /// resolved tree of its strings after templating (default 8 MiB).
    #[serde(default = "default_app_bytes")]
    pub app_bytes: u64,
    /// Most JSON patch operations in one tenant x service's `patches:` (default 1000).
    #[serde(default = "default_patch_ops")]
    pub patch_ops: u64,
}

fn default_object_bytes() -> u64 {
    1 << 20
}

fn default_app_bytes() -> u64 {
    8 << 20
}

fn default_patch_ops() -> u64 {
    1000
}

impl Default for Budgets {
    fn default() -> Self {
        Budgets {
            object_bytes: default_object_bytes(),
            app_bytes: default_app_bytes(),
            patch_ops: default_patch_ops(),
        }
    }
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

/// What a tenant's `extraObjects` may hold. Namespaced built-in Kubernetes kinds are always
/// allowed (some of them are platform-owned); anything else must be declared here.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExtraObjectsSettings {
    /// Namespaced custom resources tenants may add, one entry per allowed version (e.g.
    /// `{ apiVersion: external-secrets.io/v1, kind: ExternalSecret }`). Exact match.
    #[serde(default)]
    pub custom_resources: Vec<KindRef>,
    /// More kinds only the platform renders: refused in `extraObjects` (rule
    /// `platform-objects`, any version of the group), besides quotas, limits, network
    /// policies (Kubernetes, Cilium, Calico), Endpoints and Flagger's kinds.
    #[serde(default)]
    pub platform_kinds: Vec<KindRef>,
    /// ClusterRoles an extra RoleBinding may bind to the namespace's service accounts
    /// (default: none; a RoleBinding binds a Role of the same service).
    #[serde(default)]
    pub bindable_cluster_roles: Vec<String>,
}

/// A kind by its exact `apiVersion` (`<group>/<version>`) and `kind`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KindRef {
    pub api_version: String,
    pub kind: String,
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
    /// `extraObjects` hold only namespaced built-in kinds and the custom resources
    /// `stencil.yaml` declares (no exceptions: declare the kind instead).
    AllowedKinds,
    /// A tenant's Roles cannot grant bind, escalate, impersonate, `*`, or writes to what
    /// confines the namespace (namespaces, quotas, limits, network policies, RBAC).
    RbacEscalation,
    /// Rendered output stays within the size budgets of `stencil.yaml` (`budgets:`).
    Budget,
    /// stencil's own and Argo CD's labels and annotations come from stencil only.
    PlatformLabels,
}

impl Rule {
    /// Every rule, in the order `stencil policy list` prints them.
    pub const ALL: [Rule; 15] = [
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
        Rule::AllowedKinds,
        Rule::RbacEscalation,
        Rule::Budget,
        Rule::PlatformLabels,
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
            Rule::AllowedKinds => "allowed-kinds",
            Rule::RbacEscalation => "rbac-escalation",
            Rule::Budget => "budget",
            Rule::PlatformLabels => "platform-labels",
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
                "no ResourceQuota, LimitRange, NetworkPolicy (Kubernetes, Cilium, Calico), Endpoints, Canary, MetricTemplate or extraObjects.platformKinds in extraObjects; RoleBindings bind only the service's own Roles (or extraObjects.bindableClusterRoles) to the namespace's service accounts; no patch of the Canary"
            }
            Rule::AllowedKinds => {
                "extraObjects are namespaced built-in kinds or extraObjects.customResources, matched exactly by apiVersion and kind; never a List"
            }
            Rule::RbacEscalation => {
                "extra Roles grant no bind, escalate, impersonate or `*` verb, and no writes to namespaces, quotas, limit ranges, network policies, endpoints, canaries, roles, role bindings or `*`"
            }
            Rule::Budget => {
                "each object, each tenant x service, each template string and each `patches:` list stays within `budgets:` in stencil.yaml"
            }
            Rule::PlatformLabels => {
                "no patch adds, changes or removes a `stencil.dev/*`, `argocd.argoproj.io/*` or `app.kubernetes.io/{managed-by,part-of,name,instance}` label or annotation; extraObjects set `stencil.dev/*` labels only to stencil's values"
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
            Rule::AllowedKinds => {
                "a deny-list always misses a kind (cluster-scoped CRDs, new built-ins, a List smuggling objects); only kinds known to stay in the namespace are safe"
            }
            Rule::RbacEscalation => {
                "a Role that can write RBAC, quotas or network policies, or impersonate, lets the tenant's workloads undo every other guardrail at runtime"
            }
            Rule::Budget => {
                "a few hundred bytes of patches or aliased templates can expand to gigabytes: that stalls CI and the Argo CD repo server for every tenant, and etcd refuses objects past about 1.5 MiB anyway"
            }
            Rule::PlatformLabels => {
                "these labels say which tenant, service and Argo CD Application own an object; a tenant that rewrites them can pass its objects off as another tenant's or hide them from pruning"
            }
        }
    }
}
