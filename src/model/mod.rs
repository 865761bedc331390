//! The typed input model: one struct per input kind, deserialized from [`crate::node::Node`]
//! trees and turned into the JSON Schemas under `schemas/`.
//!
//! Service layers (base files, profiles, tenant overlays, version pins) all deserialize into
//! [`ServiceSpec`], whose fields are all optional: each layer sets some of them, and what a
//! rendered workload must have is checked once, after merging, by the `policy` stage.

mod pods;
mod repo;
mod service;
mod tenancy;
mod tenant;
mod workspace;

pub use pods::{
    AccessMode, AlertSpec, AntiAffinitySpec, AntiAffinityTopology, ClaimSpec, ConcurrencyPolicy,
    CsiSpec, EmptyDirSpec, EnvFromSpec, FileSpec, GatewayParent, HandlerSpec, HookDeletePolicy,
    HookPhase, HookSpec, HttpRouteSpec, InitContainerSpec, JobSpec, LifecycleSpec, MonitoringSpec,
    PodManagementPolicy, RestartPolicy, SchedulingSpec, ServiceMonitorSpec, ServiceType,
    StatefulSetSpec, TolerationSpec, VolumeSpec, WorkloadKind,
};
pub use repo::{
    Budgets, EnvironmentSpec, Exception, ExternalSecretsSettings, PolicySettings, RepoKind,
    RepoSettings, Rule, SecretStoreKind,
};
pub use repo::{ExtraObjectsSettings, KindRef};
pub use service::{
    AutoscalingSpec, EnvFile, EnvValue, Extends, FeatureFlagsSpec, ImagePin, ImageSpec,
    IngressScheme, IngressSpec, IngressTlsSpec, IntOrString, PatchSpec, PatchTarget, PatchType,
    PdbSpec, ProbeSpec, ProbesSpec, PullPolicy, ResourceList, ResourcesSpec, ServiceAccountSpec,
    ServiceKind, ServiceSpec, SidecarPin, SidecarSpec, StrategySpec, VersionKind, VersionSpec,
    env_strings,
};
pub use tenancy::{BUILTIN_RESERVED_NAMESPACES, platform_namespaces};
pub use tenancy::{
    PLACEHOLDERS, Placeholders, TenancySettings, TolerationRule, check_host, check_tenant_domain,
    covers, ecr_account, platform_hosts, reserved_host, reserved_namespace, service_namespace,
};
pub use tenant::{TenantKind, TenantSpec};
pub use workspace::{
    CanaryProvider, CanaryQueries, CanarySettings, CanarySpec, GatewayRef, IngressFromSettings,
    LimitRangeSettings, QuotaSettings, SmokeTestSettings, WorkspaceSettings, duration_ms,
};

/// Each schema as the file `schemas/` holds: `<kind>.schema.json`, pretty JSON with a final
/// newline, in [`schemas`]' order. `stencil schemas`, `init`, `migrate` and `tenant add`
/// write these; a test compares the committed copy.
pub fn schema_files() -> Vec<(String, String)> {
    schemas()
        .into_iter()
        .map(|(stem, schema)| {
            // A schemars::Schema is a JSON value with string keys: it always serializes.
            let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
            text.push('\n');
            (format!("{stem}.schema.json"), text)
        })
        .collect()
}

/// Every input kind with a JSON Schema, by schema file stem.
pub fn schemas() -> Vec<(&'static str, schemars::Schema)> {
    vec![
        ("stencil", schemars::schema_for!(RepoSettings)),
        ("tenant", schemars::schema_for!(TenantSpec)),
        ("service", schemars::schema_for!(ServiceSpec)),
        ("version", schemars::schema_for!(VersionSpec)),
        ("env", schemars::schema_for!(EnvFile)),
    ]
}
