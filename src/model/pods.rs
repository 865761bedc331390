//! What a service runs besides its main container's basics: the workload kind, jobs and
//! cron jobs, init containers, files and volumes, scheduling, Gateway API routes and
//! monitoring. Every field is optional in a layer; the `policy` stage checks the merged
//! result (schedules, mount paths, names, the platform's lists of storage classes, CSI
//! drivers, tolerations and priority classes).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::service::{EnvValue, ImageSpec, ResourcesSpec};

/// What runs the main container.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum WorkloadKind {
    /// A Deployment behind a ClusterIP Service (the default).
    #[default]
    Deployment,
    /// A StatefulSet with a headless Service; `claim` volumes become volumeClaimTemplates.
    StatefulSet,
    /// A Deployment with no port: no Service, no Ingress, no probes unless given.
    Worker,
}

impl WorkloadKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployment",
            WorkloadKind::StatefulSet => "statefulSet",
            WorkloadKind::Worker => "worker",
        }
    }
}

/// StatefulSet settings (with `workload: statefulSet`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StatefulSetSpec {
    /// `OrderedReady` (default) or `Parallel`.
    pub pod_management_policy: Option<PodManagementPolicy>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum PodManagementPolicy {
    OrderedReady,
    Parallel,
}

impl PodManagementPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            PodManagementPolicy::OrderedReady => "OrderedReady",
            PodManagementPolicy::Parallel => "Parallel",
        }
    }
}

/// A one-off Job or, under `cronJobs:`, a scheduled one. It runs the service's image, tag,
/// env, secrets and service account unless it says otherwise.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct JobSpec {
    /// Cron schedule (cron jobs only), e.g. `*/15 * * * *` or `@hourly`.
    pub schedule: Option<String>,
    /// IANA time zone of the schedule (cron jobs only), e.g. `Europe/Berlin`.
    pub time_zone: Option<String>,
    /// `Forbid` (default), `Allow` or `Replace` (cron jobs only).
    pub concurrency_policy: Option<ConcurrencyPolicy>,
    /// Pause the schedule (cron jobs only).
    pub suspend: Option<bool>,
    /// Finished jobs kept (cron jobs only; default 3 and 1).
    pub successful_jobs_history_limit: Option<u32>,
    pub failed_jobs_history_limit: Option<u32>,
    /// Seconds after the scheduled time a missed run may still start (cron jobs only).
    pub starting_deadline_seconds: Option<u32>,
    /// Run as an Argo CD sync hook (jobs only), e.g. a PreSync database migration.
    pub hook: Option<HookSpec>,
    /// Image (default: the service's; a repository without a tag takes the service's tag, so
    /// `stencil bump` moves both).
    pub image: Option<ImageSpec>,
    pub command: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    /// Extra environment variables, on top of the service's env and secrets.
    pub env: Option<BTreeMap<String, EnvValue>>,
    /// Default: the service's resources.
    pub resources: Option<ResourcesSpec>,
    /// Retries before the job fails (default 2).
    pub backoff_limit: Option<u32>,
    /// Seconds the job may run in all (default 3600).
    pub active_deadline_seconds: Option<u32>,
    /// Seconds a finished job is kept (default: one day; hooks are deleted by policy).
    pub ttl_seconds_after_finished: Option<u32>,
    /// `Never` (default) or `OnFailure`.
    pub restart_policy: Option<RestartPolicy>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum ConcurrencyPolicy {
    Allow,
    Forbid,
    Replace,
}

impl ConcurrencyPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            ConcurrencyPolicy::Allow => "Allow",
            ConcurrencyPolicy::Forbid => "Forbid",
            ConcurrencyPolicy::Replace => "Replace",
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum RestartPolicy {
    Never,
    OnFailure,
}

impl RestartPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            RestartPolicy::Never => "Never",
            RestartPolicy::OnFailure => "OnFailure",
        }
    }
}

/// An Argo CD resource hook: `argocd.argoproj.io/hook`, `hook-delete-policy`, `sync-wave`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HookSpec {
    /// `PreSync` (default), `Sync`, `PostSync` or `SyncFail`.
    pub phase: Option<HookPhase>,
    /// Default `BeforeHookCreation`.
    pub delete_policy: Option<HookDeletePolicy>,
    /// Sync wave within the phase (default 0).
    pub sync_wave: Option<i32>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum HookPhase {
    PreSync,
    Sync,
    PostSync,
    SyncFail,
}

impl HookPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            HookPhase::PreSync => "PreSync",
            HookPhase::Sync => "Sync",
            HookPhase::PostSync => "PostSync",
            HookPhase::SyncFail => "SyncFail",
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum HookDeletePolicy {
    BeforeHookCreation,
    HookSucceeded,
    HookFailed,
}

impl HookDeletePolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            HookDeletePolicy::BeforeHookCreation => "BeforeHookCreation",
            HookDeletePolicy::HookSucceeded => "HookSucceeded",
            HookDeletePolicy::HookFailed => "HookFailed",
        }
    }
}

/// An init container: runs to completion before the main container starts. Merged by
/// `name` across layers; same guardrails as every container.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InitContainerSpec {
    /// DNS-1123 label.
    pub name: String,
    /// Default: the service's image (a repository without a tag takes the service's tag).
    pub image: Option<ImageSpec>,
    pub command: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    pub env: Option<BTreeMap<String, EnvValue>>,
    /// Default: the service's resources.
    pub resources: Option<ResourcesSpec>,
}

/// Lifecycle hooks of the main container.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LifecycleSpec {
    /// Runs before the container is stopped: a command, or a sleep that lets the load
    /// balancer drain connections.
    pub pre_stop: Option<HandlerSpec>,
    pub post_start: Option<HandlerSpec>,
}

/// One lifecycle handler: exactly one of `exec`, `sleepSeconds`, `httpGet`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HandlerSpec {
    /// The command to run, e.g. `[sh, -c, "sleep 10"]`.
    pub exec: Option<Vec<String>>,
    /// Sleep before stopping (Kubernetes 1.30+ `sleep` action).
    pub sleep_seconds: Option<u32>,
    /// HTTP GET on this path of the main port.
    pub http_get: Option<String>,
}

/// `envFrom`: every key of an existing ConfigMap or Secret in the namespace as env.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EnvFromSpec {
    pub config_map: Option<String>,
    pub secret: Option<String>,
    /// Prefix for every variable name.
    pub prefix: Option<String>,
    /// Start even when the object does not exist.
    pub optional: Option<bool>,
}

/// A file mounted into the main container, rendered into the `<service>-files`
/// ConfigMap. Exactly one of `content` and `from`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FileSpec {
    /// The file's text.
    pub content: Option<String>,
    /// A file in the folder of the layer that names it (a service's folder under base/ or
    /// the tenant's folder), relative to that layer.
    pub from: Option<String>,
}

/// A volume mounted into the main container. Exactly one source.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VolumeSpec {
    /// Absolute path in the container.
    pub mount_path: Option<String>,
    pub read_only: Option<bool>,
    /// Scratch space, deleted with the pod.
    pub empty_dir: Option<EmptyDirSpec>,
    /// A new PersistentVolumeClaim `<service>-<volume>` (a volumeClaimTemplate in a
    /// StatefulSet).
    pub claim: Option<ClaimSpec>,
    /// An existing PersistentVolumeClaim in the namespace.
    pub existing_claim: Option<String>,
    /// An inline CSI volume (e.g. EFS); the driver must be in `tenancy.csiDrivers`.
    pub csi: Option<CsiSpec>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EmptyDirSpec {
    /// Kubernetes quantity, e.g. `1Gi` (default 1Gi: an unbounded emptyDir fills the node).
    pub size_limit: Option<String>,
    /// `Memory` for a tmpfs.
    pub medium: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClaimSpec {
    /// Must be in `tenancy.storageClasses` (none: the cluster's default class).
    pub storage_class_name: Option<String>,
    /// Kubernetes quantity, e.g. `10Gi`.
    pub size: Option<String>,
    /// Default `[ReadWriteOnce]`.
    pub access_modes: Option<Vec<AccessMode>>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum AccessMode {
    ReadWriteOnce,
    ReadOnlyMany,
    ReadWriteMany,
    ReadWriteOncePod,
}

impl AccessMode {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessMode::ReadWriteOnce => "ReadWriteOnce",
            AccessMode::ReadOnlyMany => "ReadOnlyMany",
            AccessMode::ReadWriteMany => "ReadWriteMany",
            AccessMode::ReadWriteOncePod => "ReadWriteOncePod",
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CsiSpec {
    pub driver: String,
    pub volume_attributes: Option<BTreeMap<String, String>>,
    pub read_only: Option<bool>,
}

/// Where pods run.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SchedulingSpec {
    pub node_selector: Option<BTreeMap<String, String>>,
    /// Each must match `tenancy.tolerations`; a later layer's list replaces an earlier one.
    pub tolerations: Option<Vec<TolerationSpec>>,
    /// One replica per node or per zone.
    pub anti_affinity: Option<AntiAffinitySpec>,
    /// Must be in `tenancy.priorityClasses`.
    pub priority_class_name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TolerationSpec {
    pub key: String,
    /// `Equal` (default when `value` is set) or `Exists`.
    pub operator: Option<String>,
    pub value: Option<String>,
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute` (none: every effect).
    pub effect: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AntiAffinitySpec {
    /// `node` or `zone`.
    pub topology: AntiAffinityTopology,
    /// Refuse to schedule a second replica there (default), or only prefer not to.
    pub required: Option<bool>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum AntiAffinityTopology {
    #[default]
    Node,
    Zone,
}

impl AntiAffinityTopology {
    pub fn key(self) -> &'static str {
        match self {
            AntiAffinityTopology::Node => "kubernetes.io/hostname",
            AntiAffinityTopology::Zone => "topology.kubernetes.io/zone",
        }
    }
}

/// A Gateway API HTTPRoute to the main port (instead of, or beside, an Ingress).
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HttpRouteSpec {
    /// Render the HTTPRoute (default: true when this section is present).
    pub enabled: Option<bool>,
    /// The Gateway to attach to, usually the platform's shared one.
    pub gateway: GatewayParent,
    /// Host names (each must match `tenancy.hosts`).
    pub hosts: Vec<String>,
    /// Path prefixes (default `/`).
    pub paths: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GatewayParent {
    pub name: String,
    pub namespace: String,
    pub section_name: Option<String>,
}

/// Prometheus Operator objects for the service.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MonitoringSpec {
    pub service_monitor: Option<ServiceMonitorSpec>,
    /// Alerting rules, by alert name, in one PrometheusRule.
    pub alerts: Option<BTreeMap<String, AlertSpec>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServiceMonitorSpec {
    /// Render a ServiceMonitor (default: true when this section is present).
    pub enabled: Option<bool>,
    /// The Service port name to scrape (default `http`).
    pub port: Option<String>,
    /// Default `/metrics`.
    pub path: Option<String>,
    /// Default `30s`.
    pub interval: Option<String>,
    pub scrape_timeout: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AlertSpec {
    /// PromQL expression.
    pub expr: String,
    /// How long it must hold, e.g. `5m`.
    #[serde(rename = "for")]
    pub for_: Option<String>,
    pub labels: Option<BTreeMap<String, String>>,
    pub annotations: Option<BTreeMap<String, String>>,
}

/// `service:` settings of the Kubernetes Service.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum ServiceType {
    ClusterIP,
    NodePort,
    LoadBalancer,
}

impl ServiceType {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceType::ClusterIP => "ClusterIP",
            ServiceType::NodePort => "NodePort",
            ServiceType::LoadBalancer => "LoadBalancer",
        }
    }
}
