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
    // Pod Security Standards and the pod and Service fields that reach beyond the tenant
    // (see `policy/pod_security.rs`).
    /// No Windows HostProcess pods or containers.
    PssHostProcess,
    /// No hostNetwork, hostPID or hostIPC.
    PssHostNamespaces,
    /// No privileged containers.
    PssPrivileged,
    /// Added capabilities only from the baseline set.
    PssCapabilities,
    /// No hostPath volumes.
    PssHostPath,
    /// No host ports.
    PssHostPorts,
    /// AppArmor only RuntimeDefault or Localhost.
    PssApparmor,
    /// SELinux only the container types, no custom user or role.
    PssSelinux,
    /// /proc mount type Default.
    PssProcMount,
    /// Only the safe sysctls.
    PssSysctls,
    /// Only the core volume types.
    PssVolumeTypes,
    /// No `host` in probes and lifecycle handlers.
    PssHostProbes,
    /// No nodeName, system priority, catch-all or control-plane toleration, or DaemonSet:
    /// the scheduler places a tenant's pods among the others'.
    NodePlacement,
    /// No Service externalIPs (CVE-2020-8554).
    ExternalIps,
    /// Services are ClusterIP: no NodePort, LoadBalancer or ExternalName.
    ServiceType,
    /// `pod-security.kubernetes.io/*` labels are the platform's (this rule has no exceptions).
    PodSecurityLabels,
    /// Symlinks stay inside the tenant folder (or base/) they are in. Cannot be relaxed, so
    /// not offered by the schema.
    #[schemars(skip)]
    SymlinkBoundary,
    /// `extends` names only base/ or the tenant's own files. Cannot be relaxed.
    #[schemars(skip)]
    ExtendsBoundary,
    /// A secrets file is bound to the tenant and service it was written for.
    SecretsBinding,
    /// A secrets file is encrypted only for the recipients `.sops.yaml` lists for its path.
    SecretsRecipients,
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
    /// Claims name only storage classes, inline volumes only CSI drivers, the platform lists.
    Storage,
    /// Pods tolerate only the taints the platform lists.
    Tolerations,
    /// Pods use only the priority classes the platform lists.
    PriorityClasses,
}

/// Why a rule cannot be relaxed (as the error says it) and what to do instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fixed {
    pub(crate) message: &'static str,
    pub(crate) hint: &'static str,
}

/// One guardrail's metadata: everything `stencil policy list` and the exception checks
/// say about it. [`RULES`] holds one per [`Rule`], in the enum's order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RuleInfo {
    pub(crate) rule: Rule,
    /// The id: in messages, `stencil policy list` and `policy.exceptions[].rule`.
    pub(crate) name: &'static str,
    /// What the rule requires, in one line.
    pub(crate) summary: &'static str,
    /// Why the rule exists.
    pub(crate) rationale: &'static str,
    /// `Some` for a rule no exception can relax.
    pub(crate) fixed: Option<Fixed>,
}

const NO_EXCEPTIONS_HINT: &str =
    "raise the sizes in `budgets:` instead; platform labels are never a tenant's to set";
const BOUNDARY_HINT: &str =
    "it keeps one tenant from reading another's files; move shared values into base/";
const BOUNDARY_RATIONALE: &str = "a tenant's inputs come only from its own folder, base/ and stencil.yaml: another tenant's values or secrets, the platform's keys and git metadata are never read, so never rendered or quoted in an error; cannot be relaxed";

/// Every rule's metadata, indexed by `Rule as usize` (checked at compile time below), in
/// the order `stencil policy list` prints them.
pub(crate) const RULES: [RuleInfo; 43] = [
    RuleInfo {
        rule: Rule::MutableImageTag,
        name: "mutable-image-tag",
        summary: "every image has an immutable tag: never empty, never `latest`",
        rationale: "a mutable tag makes a render mean different things on different days; rollbacks and diffs need the exact image",
        fixed: None,
    },
    RuleInfo {
        rule: Rule::NoPrivilegeEscalation,
        name: "no-privilege-escalation",
        summary: "allowPrivilegeEscalation: false and not privileged, on every container",
        rationale: "Pod Security restricted, Privilege Escalation: a compromised process must not gain more privileges than it started with",
        fixed: None,
    },
    RuleInfo {
        rule: Rule::ReadOnlyRootFilesystem,
        name: "read-only-root-filesystem",
        summary: "readOnlyRootFilesystem: true on every container",
        rationale: "an attacker cannot drop tools into the image; writable paths are explicit emptyDirs",
        fixed: None,
    },
    RuleInfo {
        rule: Rule::RunAsNonRoot,
        name: "run-as-non-root",
        summary: "runAsNonRoot: true and a non-zero uid on every container",
        rationale: "Pod Security restricted, Running as Non-root (user): root in a container is one kernel bug away from root on the node",
        fixed: None,
    },
    RuleInfo {
        rule: Rule::DropAllCapabilities,
        name: "drop-all-capabilities",
        summary: "capabilities drop ALL and add nothing",
        rationale: "no service needs raw sockets or kernel capabilities; Pod Security `restricted` requires it",
        fixed: None,
    },
    RuleInfo {
        rule: Rule::SeccompRuntimeDefault,
        name: "seccomp-runtime-default",
        summary: "seccomp profile RuntimeDefault (or Localhost)",
        rationale: "blocks the syscalls most container escapes use; Pod Security `restricted` requires it",
        fixed: None,
    },
    RuleInfo {
        rule: Rule::Resources,
        name: "resources",
        summary: "requests.cpu, requests.memory and limits.memory on every container",
        rationale: "without requests the scheduler overpacks nodes; without a memory limit one pod can starve its neighbours",
        fixed: None,
    },
    RuleInfo {
        rule: Rule::StartupProbe,
        name: "startup-probe",
        summary: "the main container has a startup probe",
        rationale: "a slow start is not a failure: without it, liveness kills pods that are still starting",
        fixed: None,
    },
    RuleInfo {
        rule: Rule::QuotaCeiling,
        name: "quota-ceiling",
        summary: "a tenant's quota stays within workspace.quota.ceiling in stencil.yaml",
        rationale: "one tenant must not be able to take the cluster's capacity from the others",
        fixed: None,
    },
    RuleInfo {
        rule: Rule::CanaryMinimum,
        name: "canary-minimum",
        summary: "a canary analyses at least canary.minInterval x canary.minIterations, with the platform's step weight, threshold and smoke test",
        rationale: "a short analysis promotes a bad release before the SLOs can see it; every service gets the same rollback safety",
        fixed: None,
    },
    RuleInfo {
        rule: Rule::PlatformObjects,
        name: "platform-objects",
        summary: "no ResourceQuota, LimitRange, NetworkPolicy (Kubernetes, Cilium, Calico), Endpoints, Canary, MetricTemplate or extraObjects.platformKinds in extraObjects; RoleBindings bind only the service's own Roles (or extraObjects.bindableClusterRoles) to the namespace's service accounts; no patch of the Canary",
        rationale: "a tenant overlay must not widen its own quota, network, access or rollout analysis; those are platform decisions",
        fixed: None,
    },
    RuleInfo {
        rule: Rule::AllowedKinds,
        name: "allowed-kinds",
        summary: "extraObjects are namespaced built-in kinds or extraObjects.customResources, matched exactly by apiVersion and kind; never a List",
        rationale: "a deny-list always misses a kind (cluster-scoped CRDs, new built-ins, a List smuggling objects); only kinds known to stay in the namespace are safe",
        fixed: Some(Fixed {
            message: "the allowed-kinds rule has no exceptions: a kind is allowed for every tenant or none",
            hint: "declare the custom resource under extraObjects.customResources in stencil.yaml",
        }),
    },
    RuleInfo {
        rule: Rule::RbacEscalation,
        name: "rbac-escalation",
        summary: "extra Roles grant no bind, escalate, impersonate or `*` verb, and no writes to namespaces, quotas, limit ranges, network policies, endpoints, canaries, roles, role bindings or `*`",
        rationale: "a Role that can write RBAC, quotas or network policies, or impersonate, lets the tenant's workloads undo every other guardrail at runtime",
        fixed: None,
    },
    RuleInfo {
        rule: Rule::Budget,
        name: "budget",
        summary: "each object, each tenant x service, each template string and each `patches:` list stays within `budgets:` in stencil.yaml",
        rationale: "a few hundred bytes of patches or aliased templates can expand to gigabytes: that stalls CI and the Argo CD repo server for every tenant, and etcd refuses objects past about 1.5 MiB anyway",
        fixed: Some(Fixed {
            message: "`budget` has no exceptions",
            hint: NO_EXCEPTIONS_HINT,
        }),
    },
    RuleInfo {
        rule: Rule::PlatformLabels,
        name: "platform-labels",
        summary: "no patch adds, changes or removes a `stencil.dev/*`, `argocd.argoproj.io/*` or `app.kubernetes.io/{managed-by,part-of,name,instance}` label or annotation; extraObjects set `stencil.dev/*` labels only to stencil's values",
        rationale: "these labels say which tenant, service and Argo CD Application own an object; a tenant that rewrites them can pass its objects off as another tenant's or hide them from pruning",
        fixed: Some(Fixed {
            message: "`platform-labels` has no exceptions",
            hint: NO_EXCEPTIONS_HINT,
        }),
    },
    RuleInfo {
        rule: Rule::PssHostProcess,
        name: "pss-host-process",
        summary: "no windowsOptions.hostProcess: true, on the pod or any container",
        rationale: "Pod Security baseline, HostProcess: a HostProcess container is a process on the Windows node with the node's privileges",
        fixed: None,
    },
    RuleInfo {
        rule: Rule::PssHostNamespaces,
        name: "pss-host-namespaces",
        summary: "no hostNetwork, hostPID or hostIPC",
        rationale: "Pod Security baseline, Host Namespaces: the node's network, processes and IPC are every tenant's; sharing them lets a pod sniff, signal and attach to them",
        fixed: None,
    },
    RuleInfo {
        rule: Rule::PssPrivileged,
        name: "pss-privileged",
        summary: "no privileged: true on any container, init container or ephemeral container",
        rationale: "Pod Security baseline, Privileged Containers: a privileged container has every device and capability of the node, so it is root on the node",
        fixed: None,
    },
    RuleInfo {
        rule: Rule::PssCapabilities,
        name: "pss-capabilities",
        summary: "capabilities.add only from the baseline set (AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT), also where drop-all-capabilities is relaxed",
        rationale: "Pod Security baseline, Capabilities: SYS_ADMIN, NET_ADMIN, NET_RAW, SYS_PTRACE and the like break container isolation",
        fixed: None,
    },
    RuleInfo {
        rule: Rule::PssHostPath,
        name: "pss-host-path",
        summary: "no hostPath volumes",
        rationale: "Pod Security baseline, HostPath Volumes: a hostPath reads or writes the node's files (kubelet credentials, the runtime socket, other pods' volumes)",
        fixed: None,
    },
    RuleInfo {
        rule: Rule::PssHostPorts,
        name: "pss-host-ports",
        summary: "no hostPort on any container port",
        rationale: "Pod Security baseline, Host Ports: a hostPort listens on the node's address, outside NetworkPolicy, and takes the port from every other pod on the node",
        fixed: None,
    },
    RuleInfo {
        rule: Rule::PssApparmor,
        name: "pss-apparmor",
        summary: "AppArmor RuntimeDefault or Localhost only (appArmorProfile, container.apparmor.security.beta.kubernetes.io/* annotations)",
        rationale: "Pod Security baseline, AppArmor: an unconfined profile turns off the mandatory access control that confines the container",
        fixed: None,
    },
    RuleInfo {
        rule: Rule::PssSelinux,
        name: "pss-selinux",
        summary: "seLinuxOptions.type only container_t, container_init_t, container_kvm_t or container_engine_t; no user or role",
        rationale: "Pod Security baseline, SELinux: a custom type (spc_t, unconfined_t), user or role lifts the SELinux confinement of the container",
        fixed: None,
    },
    RuleInfo {
        rule: Rule::PssProcMount,
        name: "pss-proc-mount",
        summary: "procMount Default only",
        rationale: "Pod Security baseline, /proc Mount Type: an Unmasked /proc exposes the kernel interfaces the default masks hide",
        fixed: None,
    },
    RuleInfo {
        rule: Rule::PssSysctls,
        name: "pss-sysctls",
        summary: "only the safe sysctls: kernel.shm_rmid_forced, net.ipv4.ip_local_port_range, ip_unprivileged_port_start, tcp_syncookies, ping_group_range, ip_local_reserved_ports, tcp_keepalive_time, tcp_fin_timeout, tcp_keepalive_intvl, tcp_keepalive_probes, tcp_rmem, tcp_wmem",
        rationale: "Pod Security baseline, Sysctls: other sysctls are node-wide or disable security mechanisms, so they change every pod on the node",
        fixed: None,
    },
    RuleInfo {
        rule: Rule::PssVolumeTypes,
        name: "pss-volume-types",
        summary: "volumes only of type configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected or secret",
        rationale: "Pod Security restricted, Volume Types: other types mount storage the platform does not provision (nfs, iscsi, cloud disks) or run code on the node (gitRepo)",
        fixed: None,
    },
    RuleInfo {
        rule: Rule::PssHostProbes,
        name: "pss-host-probes",
        summary: "no `host` in probes or lifecycle handlers (httpGet.host, tcpSocket.host)",
        rationale: "Pod Security baseline (v1.34), Probes / Lifecycle Hooks: the kubelet connects from the node to the host given, reaching node-local and other tenants' endpoints",
        fixed: None,
    },
    RuleInfo {
        rule: Rule::NodePlacement,
        name: "node-placement",
        summary: "no nodeName, no system-* priorityClassName, no toleration of every taint or of control-plane taints, no DaemonSet",
        rationale: "nodeName bypasses the scheduler and with it taints, affinity and the platform's node pools; a system priority preempts other tenants' pods; a DaemonSet puts a tenant pod on every node",
        fixed: None,
    },
    RuleInfo {
        rule: Rule::ExternalIps,
        name: "external-ips",
        summary: "no Service spec.externalIPs",
        rationale: "CVE-2020-8554: a Service with externalIPs intercepts the cluster's traffic to those addresses, whoever it was meant for",
        fixed: None,
    },
    RuleInfo {
        rule: Rule::ServiceType,
        name: "service-type",
        summary: "Services are ClusterIP (or headless): no NodePort, LoadBalancer or ExternalName",
        rationale: "a NodePort opens a port on every node and a LoadBalancer a cloud load balancer, both outside the platform's ingress; an ExternalName lets the shared ingress route to another namespace",
        fixed: None,
    },
    RuleInfo {
        rule: Rule::PodSecurityLabels,
        name: "pod-security-labels",
        summary: "no pod-security.kubernetes.io/* label from tenant.yaml, service labels, patches or extra objects (cannot be relaxed)",
        rationale: "Pod Security Admission on the tenant's Namespace is the platform's backstop for every rule above; a tenant label could lower it (enforce: privileged) or pin an old version",
        fixed: Some(Fixed {
            message: "pod-security-labels cannot be relaxed: the Pod Security level of a tenant's namespace is the platform's",
            hint: "to let a workload do more than `restricted`, grant an exception for the pss-* rule it needs",
        }),
    },
    RuleInfo {
        rule: Rule::SymlinkBoundary,
        name: "symlink-boundary",
        summary: "a symlink under tenants/<t>/ resolves inside tenants/<t>/, one under base/ inside base/, none is absolute or leaves the repository, and tenants/<t>/ is a real folder; git revisions alike",
        rationale: BOUNDARY_RATIONALE,
        fixed: Some(Fixed {
            message: "the symlink-boundary guardrail cannot be relaxed",
            hint: BOUNDARY_HINT,
        }),
    },
    RuleInfo {
        rule: Rule::ExtendsBoundary,
        name: "extends-boundary",
        summary: "`extends` in a tenant's file names base/ or the tenant's own files, in a base file only base/; always a service layer (.yaml), checked before reading",
        rationale: BOUNDARY_RATIONALE,
        fixed: Some(Fixed {
            message: "the extends-boundary guardrail cannot be relaxed",
            hint: BOUNDARY_HINT,
        }),
    },
    RuleInfo {
        rule: Rule::SecretsBinding,
        name: "secrets-binding",
        summary: "every tenants/<tenant>/<service>/secrets.enc.yaml carries an encrypted, MAC-covered `stencil.dev/scope: tenants/<tenant>/<service>` naming where it is",
        rationale: "with one recipient for all tenants, a file copied from another tenant decrypts; the binding makes a copy name its origin, and an exception only tolerates unbound files while a repository migrates",
        fixed: None,
    },
    RuleInfo {
        rule: Rule::SecretsRecipients,
        name: "secrets-recipients",
        summary: "a secrets file is encrypted for no age recipient that the .sops.yaml creation rule for its path does not list",
        rationale: "with per-tenant keys, a file encrypted for another tenant's (or a revoked) key in this folder is a copy or a leak; the platform's .sops.yaml decides who can read a tenant's secrets",
        fixed: None,
    },
    RuleInfo {
        rule: Rule::ReservedNamespace,
        name: "reserved-namespace",
        summary: "a tenant's namespace is none of the built-in platform namespaces (kube-*, argocd, monitoring, ...), none stencil.yaml names, none in reservedNamespaces",
        rationale: "a tenant in the platform's namespace would run next to, and could replace, Argo CD, the monitoring or the gateways every tenant relies on",
        fixed: Some(Fixed {
            message: "reserved-namespace cannot be relaxed: a namespace is the platform's or a tenant's",
            hint: "to give a tenant a namespace, take it out of reservedNamespaces (the built-in ones stay the platform's)",
        }),
    },
    RuleInfo {
        rule: Rule::SsmPrefix,
        name: "ssm-prefix",
        summary: "ssmSecrets, featureFlags.ssmPrefix and extra ExternalSecret/PushSecret keys lie under tenancy.ssmPrefix (as a path) and name only the platform's store (externalSecrets); no SecretStore or generator of the tenant's own",
        rationale: "the shared ClusterSecretStore can read every tenant's parameters; the path is the only thing that keeps one tenant from another's database password",
        fixed: None,
    },
    RuleInfo {
        rule: Rule::TenantHosts,
        name: "tenant-hosts",
        summary: "every host (Ingress, TLS, Gateway API routes, canary, external-dns) matches tenancy.hosts; tenant domains do not overlap; no host is claimed by two tenants",
        rationale: "tenants share one ALB group and one DNS zone: a host claimed by another tenant takes its traffic, cookies and login pages",
        fixed: None,
    },
    RuleInfo {
        rule: Rule::PlatformAnnotations,
        name: "platform-annotations",
        summary: "annotations in tenancy.platformAnnotations (the ALB group.name and group.order, ...), ingress.groupName and the IngressClass (ingress.className, an Ingress's ingressClassName or kubernetes.io/ingress.class) are set only in base/",
        rationale: "group.name picks the shared load balancer and group.order decides whose rules match first: a tenant could jump the queue and take another tenant's traffic",
        fixed: None,
    },
    RuleInfo {
        rule: Rule::IamRoleArn,
        name: "iam-role-arn",
        summary: "serviceAccount.iamRoleArn and every eks.amazonaws.com/role-arn or iam.amazonaws.com/role annotation match tenancy.iamRoleArns",
        rationale: "a role ARN is a claim on AWS permissions: another tenant's role, or a role in another account, would give the pods that tenant's data",
        fixed: None,
    },
    RuleInfo {
        rule: Rule::Storage,
        name: "storage",
        summary: "PersistentVolumeClaims (and volumeClaimTemplates) name a storage class in tenancy.storageClasses (or none, the cluster default); inline CSI volumes a driver in tenancy.csiDrivers",
        rationale: "a storage class decides what the cloud bills and where data lives (encrypted or not, which EFS); a CSI driver mounts what the node can reach, another tenant's file system included",
        fixed: None,
    },
    RuleInfo {
        rule: Rule::Tolerations,
        name: "tolerations",
        summary: "every toleration matches an entry of tenancy.tolerations (key, and value and effect where the entry sets them)",
        rationale: "taints reserve nodes (GPU, dedicated, another team's pool); a toleration the platform did not grant puts a tenant's pods on nodes meant for others",
        fixed: None,
    },
    RuleInfo {
        rule: Rule::PriorityClasses,
        name: "priority-classes",
        summary: "priorityClassName is one of tenancy.priorityClasses",
        rationale: "a higher priority preempts other tenants' pods when the cluster is full",
        fixed: None,
    },
];

// `RULES[rule as usize]` is that rule's entry: a table out of order does not compile.
const _: () = {
    let mut i = 0;
    while i < RULES.len() {
        assert!(
            RULES[i].rule as usize == i,
            "RULES is not in the order of Rule"
        );
        i += 1;
    }
};

impl Rule {
    /// Every rule, in the order `stencil policy list` prints them.
    pub const ALL: [Rule; 43] = {
        let mut all = [Rule::MutableImageTag; 43];
        let mut i = 0;
        while i < RULES.len() {
            all[i] = RULES[i].rule;
            i += 1;
        }
        all
    };

    /// The rule's entry in [`RULES`].
    pub(crate) const fn info(self) -> &'static RuleInfo {
        &RULES[self as usize]
    }

    /// A rule no exception can relax: why (as the error says it) and what to do instead.
    pub fn fixed(self) -> Option<(String, &'static str)> {
        self.info().fixed.map(|f| (f.message.to_owned(), f.hint))
    }

    /// The rule's id: in messages, `stencil policy list` and `policy.exceptions[].rule`.
    pub const fn name(self) -> &'static str {
        self.info().name
    }

    /// What the rule requires, in one line.
    pub fn summary(self) -> &'static str {
        self.info().summary
    }

    /// Why the rule exists.
    pub fn rationale(self) -> &'static str {
        self.info().rationale
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_its_entry_and_its_id_is_its_serde_name() {
        for (i, rule) in Rule::ALL.into_iter().enumerate() {
            assert_eq!(rule as usize, i);
            assert_eq!(rule.info().rule, rule);
            let serde = serde_json::to_value(rule).ok();
            assert_eq!(serde, Some(serde_json::Value::from(rule.name())));
            assert!(!rule.summary().is_empty() && !rule.rationale().is_empty());
        }
    }

    #[test]
    fn seven_rules_cannot_be_relaxed() {
        let fixed: Vec<&str> = Rule::ALL
            .into_iter()
            .filter(|r| r.fixed().is_some())
            .map(Rule::name)
            .collect();
        assert_eq!(
            fixed,
            [
                "allowed-kinds",
                "budget",
                "platform-labels",
                "pod-security-labels",
                "symlink-boundary",
                "extends-boundary",
                "reserved-namespace"
            ]
        );
    }
}
