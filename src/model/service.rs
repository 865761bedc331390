//! Service layers: `base/<service>/service.yaml`, profiles such as `base/<service>/prod.yaml`,
//! tenant overlays (`values.yaml`), version pins (`version.yaml`) and tenant env (`env.yaml`).

use std::borrow::Cow;
use std::collections::BTreeMap;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

use super::pods::{
    EnvFromSpec, FileSpec, HttpRouteSpec, InitContainerSpec, JobSpec, LifecycleSpec,
    MonitoringSpec, SchedulingSpec, ServiceType, StatefulSetSpec, VolumeSpec, WorkloadKind,
};

#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum ServiceKind {
    Service,
}

/// `extends:` one repo-relative path or a list of them (a file, or a service folder meaning
/// its `service.yaml`). Later entries win over earlier ones; the file itself wins over all.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Extends {
    One(String),
    Many(Vec<String>),
}

/// A service definition layer. Every key is optional in a layer; after merging, the
/// guardrails decide what a workload must have (image tag, resources, port).
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServiceSpec {
    /// Always `Service` when given.
    pub kind: Option<ServiceKind>,
    /// The service name (informational; the folder name is authoritative).
    pub name: Option<String>,
    /// What this layer builds on: repo-relative file(s) or service folder(s).
    pub extends: Option<Extends>,
    /// What runs the main container: `deployment` (default), `statefulSet` or `worker`.
    pub workload: Option<WorkloadKind>,
    pub stateful_set: Option<StatefulSetSpec>,
    pub image: Option<ImageSpec>,
    /// Container port of the main container (1-65535), named `http`; none for a worker.
    pub port: Option<u16>,
    /// More named ports of the main container (`metrics: 9090`), also on the Service.
    pub ports: Option<BTreeMap<String, u16>>,
    /// Replica count; ignored when autoscaling is on (the HPA owns it).
    pub replicas: Option<u32>,
    pub command: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    pub resources: Option<ResourcesSpec>,
    pub probes: Option<ProbesSpec>,
    pub lifecycle: Option<LifecycleSpec>,
    /// Containers that run to completion before the main one; merged by `name`.
    pub init_containers: Option<Vec<InitContainerSpec>>,
    /// Existing ConfigMaps and Secrets loaded as env.
    pub env_from: Option<Vec<EnvFromSpec>>,
    /// Files mounted read-only, by absolute path, from a `<service>-files` ConfigMap.
    pub files: Option<BTreeMap<String, FileSpec>>,
    /// Keys of `secrets.enc.yaml` mounted read-only as files, `/path/in/container: KEY`.
    pub secret_files: Option<BTreeMap<String, String>>,
    /// Volumes by name: emptyDir, a new or existing PersistentVolumeClaim, a CSI volume.
    pub volumes: Option<BTreeMap<String, VolumeSpec>>,
    pub scheduling: Option<SchedulingSpec>,
    /// Kubernetes Service type (default `ClusterIP`; others need a `service-type` exception).
    pub service_type: Option<ServiceType>,
    pub ingress: Option<IngressSpec>,
    /// Gateway API HTTPRoute to the main port.
    pub http_route: Option<HttpRouteSpec>,
    /// Prometheus Operator ServiceMonitor and alerting rules.
    pub monitoring: Option<MonitoringSpec>,
    /// Scheduled jobs by name (CronJobs).
    pub cron_jobs: Option<BTreeMap<String, JobSpec>>,
    /// One-off jobs by name, e.g. an Argo CD PreSync migration.
    pub jobs: Option<BTreeMap<String, JobSpec>>,
    pub service_account: Option<ServiceAccountSpec>,
    /// Environment variables of the main container (rendered into a ConfigMap).
    pub env: Option<BTreeMap<String, EnvValue>>,
    /// SSM parameters synced into a Secret by External Secrets Operator, as env vars:
    /// `ENV_NAME: /ssm/parameter/path`.
    pub ssm_secrets: Option<BTreeMap<String, String>>,
    /// Feature flags: every SSM parameter named `FEATURE_FLAG_*` under a prefix, synced into
    /// a Secret of their own and loaded with `envFrom`.
    pub feature_flags: Option<FeatureFlagsSpec>,
    /// Extra containers in the pod; merged by `name` across layers.
    pub sidecars: Option<Vec<SidecarSpec>>,
    pub autoscaling: Option<AutoscalingSpec>,
    /// Progressive delivery with Flagger: the service's SLOs. How the analysis runs is set
    /// by the platform (`canary:` in stencil.yaml).
    pub canary: Option<super::workspace::CanarySpec>,
    pub pod_disruption_budget: Option<PdbSpec>,
    pub strategy: Option<StrategySpec>,
    /// Extra annotations on the pod template.
    pub pod_annotations: Option<BTreeMap<String, String>>,
    /// Extra labels on every object of this service.
    pub labels: Option<BTreeMap<String, String>>,
    pub termination_grace_period_seconds: Option<u32>,
    /// JSON (RFC 6902) or merge patches applied to rendered objects, validated afterwards.
    pub patches: Option<Vec<PatchSpec>>,
    /// Raw Kubernetes objects added to this service's output.
    pub extra_objects: Option<Vec<serde_json::Value>>,
    /// Helm values `stencil migrate` could not map to this model, kept as they were for a
    /// person to move. Not rendered.
    pub helm_passthrough: Option<BTreeMap<String, serde_json::Value>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FeatureFlagsSpec {
    /// SSM path searched for `FEATURE_FLAG_*` parameters.
    pub ssm_prefix: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ImageSpec {
    /// Image repository, e.g. `012345678901.dkr.ecr.us-east-1.amazonaws.com/apiserver`.
    pub repository: Option<String>,
    /// Immutable tag; `latest` and empty tags are refused.
    pub tag: Option<String>,
    /// Optional digest (`sha256:<64 hex>`) pinning the exact image.
    pub digest: Option<String>,
    pub pull_policy: Option<PullPolicy>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum PullPolicy {
    Always,
    IfNotPresent,
    Never,
}

impl PullPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            PullPolicy::Always => "Always",
            PullPolicy::IfNotPresent => "IfNotPresent",
            PullPolicy::Never => "Never",
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResourcesSpec {
    pub requests: Option<ResourceList>,
    pub limits: Option<ResourceList>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceList {
    /// Kubernetes quantity, e.g. `250m`.
    pub cpu: Option<String>,
    /// Kubernetes quantity, e.g. `512Mi`.
    pub memory: Option<String>,
    #[serde(rename = "ephemeral-storage")]
    pub ephemeral_storage: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProbesSpec {
    /// Gates liveness and readiness; default 5 s x 60 = 5 minutes to start.
    pub startup: Option<ProbeSpec>,
    pub liveness: Option<ProbeSpec>,
    pub readiness: Option<ProbeSpec>,
}

/// An HTTP GET probe on `path`, or a TCP probe on the port when `path` is not set.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProbeSpec {
    pub path: Option<String>,
    /// Port to probe (default: the container port).
    pub port: Option<u16>,
    pub initial_delay_seconds: Option<u32>,
    pub period_seconds: Option<u32>,
    pub timeout_seconds: Option<u32>,
    pub failure_threshold: Option<u32>,
    pub success_threshold: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IngressSpec {
    /// Render an Ingress (default: true when `host` is set).
    pub enabled: Option<bool>,
    /// Host name, usually a template such as `{{ service.name }}.{{ tenant.domain }}`.
    pub host: Option<String>,
    /// Path of the main container (default `/`).
    pub path: Option<String>,
    /// IngressClass (default `alb`).
    pub class_name: Option<String>,
    /// ALB scheme (default `internet-facing`).
    pub scheme: Option<IngressScheme>,
    /// ACM certificate ARN; enables HTTPS on 443 with a redirect from 80.
    pub certificate_arn: Option<String>,
    /// ALB group name, to share one ALB between ingresses.
    pub group_name: Option<String>,
    /// Extra annotations on the Ingress.
    pub annotations: Option<BTreeMap<String, String>>,
    /// More hosts, each serving the same paths as `host`.
    pub hosts: Option<Vec<String>>,
    /// More path prefixes routed to the main port.
    pub paths: Option<Vec<String>>,
    /// TLS from cert-manager: the certificate of every host in one Secret.
    pub tls: Option<IngressTlsSpec>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IngressTlsSpec {
    /// The cert-manager ClusterIssuer (`cert-manager.io/cluster-issuer`).
    pub cluster_issuer: Option<String>,
    /// Default `<service>-tls`.
    pub secret_name: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum IngressScheme {
    InternetFacing,
    Internal,
}

impl IngressScheme {
    pub fn as_str(self) -> &'static str {
        match self {
            IngressScheme::InternetFacing => "internet-facing",
            IngressScheme::Internal => "internal",
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServiceAccountSpec {
    /// IAM role for service accounts (IRSA): `eks.amazonaws.com/role-arn`.
    pub iam_role_arn: Option<String>,
    pub annotations: Option<BTreeMap<String, String>>,
    /// Mount the Kubernetes API token into pods (default: false).
    pub automount_token: Option<bool>,
}

/// A sidecar container: same guardrails as the main container.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SidecarSpec {
    /// DNS-1123 label; the key sidecars merge by across layers.
    pub name: String,
    pub image: Option<ImageSpec>,
    pub port: Option<u16>,
    /// Expose the sidecar port on the Service and route this ingress path to it.
    pub ingress_path: Option<String>,
    pub command: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    pub env: Option<BTreeMap<String, EnvValue>>,
    pub resources: Option<ResourcesSpec>,
    pub probes: Option<ProbesSpec>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AutoscalingSpec {
    /// Render a HorizontalPodAutoscaler (default: true when this section is present).
    pub enabled: Option<bool>,
    pub min_replicas: Option<u32>,
    pub max_replicas: Option<u32>,
    /// Target average CPU utilization, percent of requests.
    #[serde(rename = "targetCPUUtilization")]
    pub target_cpu_utilization: Option<u32>,
    /// Target average memory utilization, percent of requests.
    pub target_memory_utilization: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PdbSpec {
    /// Render a PodDisruptionBudget (default: true).
    pub enabled: Option<bool>,
    pub min_available: Option<IntOrString>,
    /// Default `1` when neither is set.
    pub max_unavailable: Option<IntOrString>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StrategySpec {
    /// Default `25%`.
    pub max_surge: Option<IntOrString>,
    /// Default `0`: never fewer ready pods than desired during a rollout.
    pub max_unavailable: Option<IntOrString>,
}

/// A number or a percentage string such as `25%`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(untagged)]
pub enum IntOrString {
    Int(i32),
    String(String),
}

/// A patch applied to rendered objects of this service, after they are built.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PatchSpec {
    /// Optional name; named patches merge by name across layers.
    pub name: Option<String>,
    pub target: PatchTarget,
    /// `json` (RFC 6902 operations) or `merge` (RFC 7386 merge patch).
    #[serde(rename = "type")]
    pub patch_type: PatchType,
    /// The operations (`json`) or the partial object (`merge`).
    pub patch: serde_json::Value,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PatchTarget {
    /// Object kind, e.g. `Deployment`.
    pub kind: String,
    /// Object name (default: every object of the kind).
    pub name: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PatchType {
    Json,
    Merge,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum VersionKind {
    Version,
}

/// `version.yaml`: the image tag (and digest) of a service, written by CI (`stencil bump`).
/// A tenant's `version.yaml` pins that tenant over the base.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VersionSpec {
    pub kind: Option<VersionKind>,
    pub image: Option<ImagePin>,
    /// Sidecar image pins, by sidecar name.
    pub sidecars: Option<Vec<SidecarPin>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ImagePin {
    pub tag: Option<String>,
    pub digest: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SidecarPin {
    pub name: String,
    pub image: Option<ImagePin>,
}

/// `env.yaml`: a tenant's environment variables for one service, `NAME: value`.
/// `NAME: null` removes a variable set by the layers below.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct EnvFile(pub BTreeMap<String, Option<EnvValue>>);

/// A scalar environment value: strings, numbers and booleans are taken as written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct EnvValue(pub String);

/// Environment variables as plain strings.
pub fn env_strings(env: Option<&BTreeMap<String, EnvValue>>) -> BTreeMap<String, String> {
    env.into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.0.clone()))
        .collect()
}

impl JsonSchema for EnvValue {
    fn schema_name() -> Cow<'static, str> {
        "EnvValue".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A scalar: strings, numbers and booleans are taken as written; null deletes the variable.",
            "type": ["string", "number", "boolean", "null"]
        })
    }
}
