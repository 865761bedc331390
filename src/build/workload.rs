//! ServiceAccount, env ConfigMap and Deployment: the hardened pod.
//!
//! Every container, sidecars included, gets the same securityContext (no privilege
//! escalation, read-only root filesystem, uid 1000, drop ALL, seccomp RuntimeDefault) and an
//! emptyDir of its own at `/tmp`. The main container starts behind a startup probe (default
//! 5 s x 60 = 5 minutes) that gates liveness and readiness. A `checksum/config` annotation on
//! the pod template rolls the pods when the env changes.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment, StatefulSet,
    StatefulSetSpec,
};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, ConfigMapEnvSource, Container, ContainerPort, EmptyDirVolumeSource,
    EnvFromSource, EnvVar, EnvVarSource, ExecAction, HTTPGetAction, Lifecycle, LifecycleHandler,
    PodSecurityContext, PodSpec, PodTemplateSpec, Probe, ResourceRequirements, SeccompProfile,
    Secret, SecretEnvSource, SecretKeySelector, SecurityContext, ServiceAccount, SleepAction,
    TCPSocketAction, TopologySpreadConstraint, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use sha2::{Digest as _, Sha256};

use super::Labels;
use super::annotations;
use crate::error::Result;
use crate::model::{self, ProbeSpec, ProbesSpec, ResourcesSpec};
use crate::policy::{ImageRef, Workload};

pub(super) const RUN_AS_USER: i64 = 1000;
pub(super) const IRSA_ANNOTATION: &str = "eks.amazonaws.com/role-arn";
pub(super) const CONFIG_CHECKSUM: &str = "checksum/config";

pub(super) fn meta(name: &str, namespace: &str, labels: &Labels) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: Some(namespace.to_owned()),
        labels: Some(labels.common.clone()),
        ..ObjectMeta::default()
    }
}

pub(super) fn config_map_name(service: &str) -> String {
    format!("{service}-env")
}

pub(super) fn secret_name(service: &str) -> String {
    format!("{service}-secrets")
}

pub(super) const SECRETS_CHECKSUM: &str = "checksum/secrets";

/// The Secret holding a tenant's decrypted `secrets.enc.yaml`.
pub(super) fn secret(
    w: &Workload,
    secrets: &crate::secrets::Secrets,
    ns: &str,
    labels: &Labels,
) -> Secret {
    Secret {
        metadata: meta(&secret_name(&w.service), ns, labels),
        type_: Some("Opaque".into()),
        data: Some(
            secrets
                .values
                .iter()
                .map(|(k, v)| (k.clone(), ByteString(v.expose().as_bytes().to_vec())))
                .collect(),
        ),
        ..Secret::default()
    }
}

/// One `secretKeyRef` per secret (SOPS and SSM): explicit env wins over the ConfigMap's
/// `envFrom`, and the names are visible in the Deployment (the values are not).
fn secret_env(w: &Workload) -> Vec<EnvVar> {
    let reference = |secret: String, name: &String| EnvVar {
        name: name.clone(),
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: secret,
                key: name.clone(),
                ..SecretKeySelector::default()
            }),
            ..EnvVarSource::default()
        }),
        ..EnvVar::default()
    };
    let sops = w
        .secrets
        .iter()
        .flat_map(|s| s.values.keys())
        .map(|n| reference(secret_name(&w.service), n));
    let ssm = w
        .spec
        .ssm_secrets
        .iter()
        .flat_map(|m| m.keys())
        .map(|n| reference(super::external::ssm_secret_name(&w.service), n));
    let mut env: Vec<EnvVar> = sops.chain(ssm).collect();
    env.sort_by(|a, b| a.name.cmp(&b.name));
    env
}

/// Secrets synced by External Secrets Operator change without a render; the Reloader
/// annotation lets stakater/Reloader roll the pods when they do.
pub(super) const RELOADER_ANNOTATION: &str = "secret.reloader.stakater.com/reload";

fn synced_secret_names(w: &Workload) -> Vec<String> {
    let mut names = Vec::new();
    if w.spec.ssm_secrets.as_ref().is_some_and(|m| !m.is_empty()) {
        names.push(super::external::ssm_secret_name(&w.service));
    }
    if w.spec
        .feature_flags
        .as_ref()
        .is_some_and(|f| f.ssm_prefix.is_some())
    {
        names.push(super::external::feature_flags_secret_name(&w.service));
    }
    names
}

pub(super) fn service_account(w: &Workload, ns: &str, labels: &Labels) -> ServiceAccount {
    let sa = w.spec.service_account.clone().unwrap_or_default();
    let mut notes: BTreeMap<String, String> = sa.annotations.unwrap_or_default();
    if let Some(arn) = sa.iam_role_arn {
        notes.insert(IRSA_ANNOTATION.into(), arn);
    }
    let mut metadata = meta(&w.service, ns, labels);
    metadata.annotations = annotations(notes);
    ServiceAccount {
        metadata,
        automount_service_account_token: Some(sa.automount_token.unwrap_or(false)),
        ..ServiceAccount::default()
    }
}

pub(super) fn config_map(w: &Workload, ns: &str, labels: &Labels) -> ConfigMap {
    ConfigMap {
        metadata: meta(&config_map_name(&w.service), ns, labels),
        data: Some(model::env_strings(w.spec.env.as_ref())),
        ..ConfigMap::default()
    }
}

/// SHA-256 over everything that reaches containers as env, in a canonical order.
fn config_checksum(w: &Workload) -> String {
    let mut hasher = Sha256::new();
    let mut feed = |scope: &str, env: Option<&BTreeMap<String, model::EnvValue>>| {
        for (k, model::EnvValue(v)) in env.into_iter().flatten() {
            for part in [scope, k, v] {
                hasher.update((part.len() as u64).to_le_bytes());
                hasher.update(part.as_bytes());
            }
        }
    };
    feed("", w.spec.env.as_ref());
    for sidecar in w.spec.sidecars.iter().flatten() {
        feed(&sidecar.name, sidecar.env.as_ref());
    }
    for init in w.spec.init_containers.iter().flatten() {
        feed(&init.name, init.env.as_ref());
    }
    // Mounted files (by `subPath`, which a ConfigMap update does not reach) roll the pods.
    for (path, file) in w.spec.files.iter().flatten() {
        let content = file.content.clone().unwrap_or_default();
        for part in ["files", path.as_str(), content.as_str()] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(super) fn hardened() -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        read_only_root_filesystem: Some(true),
        run_as_non_root: Some(true),
        run_as_user: Some(RUN_AS_USER),
        run_as_group: Some(RUN_AS_USER),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".into()]),
            ..Capabilities::default()
        }),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".into(),
            ..SeccompProfile::default()
        }),
        ..SecurityContext::default()
    }
}

pub(super) fn resources(spec: Option<&ResourcesSpec>) -> Option<ResourceRequirements> {
    let list = |l: Option<&model::ResourceList>| -> Option<BTreeMap<String, Quantity>> {
        let l = l?;
        let mut out = BTreeMap::new();
        for (k, v) in [
            ("cpu", &l.cpu),
            ("memory", &l.memory),
            ("ephemeral-storage", &l.ephemeral_storage),
        ] {
            if let Some(v) = v {
                out.insert(k.to_owned(), Quantity(v.clone()));
            }
        }
        if out.is_empty() { None } else { Some(out) }
    };
    let spec = spec?;
    Some(ResourceRequirements {
        requests: list(spec.requests.as_ref()),
        limits: list(spec.limits.as_ref()),
        ..ResourceRequirements::default()
    })
}

struct ProbeDefaults {
    period: i32,
    timeout: i32,
    failure: i32,
}

const STARTUP: ProbeDefaults = ProbeDefaults {
    period: 5,
    timeout: 2,
    failure: 60,
};
const LIVENESS: ProbeDefaults = ProbeDefaults {
    period: 10,
    timeout: 2,
    failure: 3,
};
const READINESS: ProbeDefaults = ProbeDefaults {
    period: 5,
    timeout: 2,
    failure: 3,
};

fn int(v: Option<u32>, default: i32) -> i32 {
    v.map_or(default, |v| i32::try_from(v).unwrap_or(i32::MAX))
}

/// An HTTP probe on `path` or a TCP probe, on the named container port unless `port` is set.
fn probe(
    spec: Option<&ProbeSpec>,
    fallback_path: Option<&str>,
    port_name: &str,
    d: &ProbeDefaults,
) -> Probe {
    let empty = ProbeSpec::default();
    let spec = spec.unwrap_or(&empty);
    let port = match spec.port {
        Some(p) => IntOrString::Int(i32::from(p)),
        None => IntOrString::String(port_name.to_owned()),
    };
    let path = spec.path.as_deref().or(fallback_path);
    let (http_get, tcp_socket) = match path {
        Some(path) => (
            Some(HTTPGetAction {
                path: Some(path.to_owned()),
                port,
                ..HTTPGetAction::default()
            }),
            None,
        ),
        None => (
            None,
            Some(TCPSocketAction {
                port,
                ..TCPSocketAction::default()
            }),
        ),
    };
    Probe {
        http_get,
        tcp_socket,
        initial_delay_seconds: spec.initial_delay_seconds.map(|v| int(Some(v), 0)),
        period_seconds: Some(int(spec.period_seconds, d.period)),
        timeout_seconds: Some(int(spec.timeout_seconds, d.timeout)),
        failure_threshold: Some(int(spec.failure_threshold, d.failure)),
        success_threshold: spec.success_threshold.map(|v| int(Some(v), 1)),
        ..Probe::default()
    }
}

/// Startup (gating), liveness and readiness probes. The startup probe falls back to the
/// liveness path, so one `liveness.path` is enough for all three to use HTTP.
fn probes(spec: Option<&ProbesSpec>, port_name: &str) -> (Probe, Probe, Probe) {
    let empty = ProbesSpec::default();
    let spec = spec.unwrap_or(&empty);
    let liveness_path = spec.liveness.as_ref().and_then(|p| p.path.as_deref());
    let readiness_path = spec.readiness.as_ref().and_then(|p| p.path.as_deref());
    (
        probe(spec.startup.as_ref(), liveness_path, port_name, &STARTUP),
        probe(spec.liveness.as_ref(), None, port_name, &LIVENESS),
        probe(
            spec.readiness.as_ref(),
            readiness_path.or(liveness_path),
            port_name,
            &READINESS,
        ),
    )
}

pub(super) fn tmp_volume(name: &str) -> (Volume, VolumeMount) {
    (
        Volume {
            name: name.to_owned(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Volume::default()
        },
        VolumeMount {
            name: name.to_owned(),
            mount_path: "/tmp".into(),
            ..VolumeMount::default()
        },
    )
}

pub(super) fn pull_policy(image: Option<&model::ImageSpec>) -> String {
    image
        .and_then(|i| i.pull_policy)
        .map_or("IfNotPresent", model::PullPolicy::as_str)
        .to_owned()
}

/// The env ConfigMap, the feature-flag Secret (optional: flags may not exist yet), then the
/// service's own `envFrom` (later sources win).
pub(super) fn env_from(w: &Workload) -> Vec<EnvFromSource> {
    let mut sources = vec![EnvFromSource {
        config_map_ref: Some(ConfigMapEnvSource {
            name: config_map_name(&w.service),
            ..ConfigMapEnvSource::default()
        }),
        ..EnvFromSource::default()
    }];
    if w.spec
        .feature_flags
        .as_ref()
        .is_some_and(|f| f.ssm_prefix.is_some())
    {
        sources.push(EnvFromSource {
            secret_ref: Some(SecretEnvSource {
                name: super::external::feature_flags_secret_name(&w.service),
                optional: Some(true),
            }),
            ..EnvFromSource::default()
        });
    }
    for own in w.spec.env_from.iter().flatten() {
        sources.push(EnvFromSource {
            config_map_ref: own.config_map.clone().map(|name| ConfigMapEnvSource {
                name,
                optional: own.optional,
            }),
            secret_ref: own.secret.clone().map(|name| SecretEnvSource {
                name,
                optional: own.optional,
            }),
            prefix: own.prefix.clone(),
        });
    }
    sources
}

/// The main port as `http`, then the service's other named ports.
fn container_ports(w: &Workload) -> Option<Vec<ContainerPort>> {
    let port = |name: &str, number: u16| ContainerPort {
        name: Some(name.to_owned()),
        container_port: i32::from(number),
        protocol: Some("TCP".into()),
        ..ContainerPort::default()
    };
    let mut ports: Vec<ContainerPort> = w.port.map(|p| port("http", p)).into_iter().collect();
    for (name, number) in w.spec.ports.iter().flatten() {
        ports.push(port(name, *number));
    }
    (!ports.is_empty()).then_some(ports)
}

fn handler(h: &model::HandlerSpec) -> LifecycleHandler {
    LifecycleHandler {
        exec: h.exec.clone().map(|command| ExecAction {
            command: Some(command),
        }),
        http_get: h.http_get.clone().map(|path| HTTPGetAction {
            path: Some(path),
            port: IntOrString::String("http".into()),
            ..HTTPGetAction::default()
        }),
        sleep: h.sleep_seconds.map(|s| SleepAction {
            seconds: i64::from(s),
        }),
        ..LifecycleHandler::default()
    }
}

fn lifecycle(spec: Option<&model::LifecycleSpec>) -> Option<Lifecycle> {
    let spec = spec?;
    Some(Lifecycle {
        pre_stop: spec.pre_stop.as_ref().map(handler),
        post_start: spec.post_start.as_ref().map(handler),
        ..Lifecycle::default()
    })
}

/// `env:` of an init container, a job or a sidecar, as explicit variables.
pub(super) fn plain_env(env: Option<&BTreeMap<String, model::EnvValue>>) -> Vec<EnvVar> {
    env.into_iter()
        .flatten()
        .map(|(k, model::EnvValue(v))| EnvVar {
            name: k.clone(),
            value: Some(v.clone()),
            ..EnvVar::default()
        })
        .collect()
}

/// The service's secret references, then `own` variables (which win over a secret of the
/// same name).
pub(super) fn merged_env(
    w: &Workload,
    own: Option<&BTreeMap<String, model::EnvValue>>,
) -> Option<Vec<EnvVar>> {
    let own = plain_env(own);
    let mut env: Vec<EnvVar> = secret_env(w)
        .into_iter()
        .filter(|s| !own.iter().any(|o| o.name == s.name))
        .collect();
    env.extend(own);
    (!env.is_empty()).then_some(env)
}

fn main_container(w: &Workload, mounts: Vec<VolumeMount>) -> Container {
    let (startup, liveness, readiness) = probes(w.spec.probes.as_ref(), "http");
    // A worker without a port has nothing to probe.
    let probed = w.port.is_some();
    Container {
        name: w.service.clone(),
        image: Some(w.image.reference()),
        image_pull_policy: Some(pull_policy(w.spec.image.as_ref())),
        command: w.spec.command.clone(),
        args: w.spec.args.clone(),
        ports: container_ports(w),
        env: Some(secret_env(w)).filter(|e| !e.is_empty()),
        env_from: Some(env_from(w)),
        resources: resources(w.spec.resources.as_ref()),
        startup_probe: probed.then_some(startup),
        liveness_probe: probed.then_some(liveness),
        readiness_probe: probed.then_some(readiness),
        lifecycle: lifecycle(w.spec.lifecycle.as_ref()),
        security_context: Some(hardened()),
        volume_mounts: Some(mounts),
        ..Container::default()
    }
}

/// What a container that runs to completion (an init container, a job's) says of itself.
pub(super) struct RunsOnce<'a> {
    pub name: &'a str,
    pub image: &'a ImageRef,
    pub image_spec: Option<&'a model::ImageSpec>,
    pub command: Option<&'a Vec<String>>,
    pub args: Option<&'a Vec<String>>,
    pub env: Option<&'a BTreeMap<String, model::EnvValue>>,
    pub resources: Option<&'a ResourcesSpec>,
}

/// A container that runs to completion: its image, its own command and args, the service's
/// env (its own variables win), its own resources or the service's, hardened, with `mount`
/// (a `/tmp` of its own).
pub(super) fn runs_once(w: &Workload, c: &RunsOnce<'_>, mount: VolumeMount) -> Container {
    Container {
        name: c.name.to_owned(),
        image: Some(c.image.reference()),
        image_pull_policy: Some(pull_policy(c.image_spec.or(w.spec.image.as_ref()))),
        command: c.command.cloned(),
        args: c.args.cloned(),
        env: merged_env(w, c.env),
        env_from: Some(env_from(w)),
        resources: resources(c.resources.or(w.spec.resources.as_ref())),
        security_context: Some(hardened()),
        volume_mounts: Some(vec![mount]),
        ..Container::default()
    }
}

/// An init container: the service's image unless it says otherwise (see [`runs_once`]).
fn init_container(
    w: &Workload,
    spec: &model::InitContainerSpec,
    image: &ImageRef,
    mount: VolumeMount,
) -> Container {
    let own = RunsOnce {
        name: &spec.name,
        image,
        image_spec: spec.image.as_ref(),
        command: spec.command.as_ref(),
        args: spec.args.as_ref(),
        env: spec.env.as_ref(),
        resources: spec.resources.as_ref(),
    };
    runs_once(w, &own, mount)
}

fn sidecar_container(spec: &model::SidecarSpec, image: &ImageRef, mount: VolumeMount) -> Container {
    let port_name = crate::names::sidecar_port_name(&spec.name);
    let (startup, liveness, readiness) = if spec.port.is_some() || spec.probes.is_some() {
        let (s, l, r) = probes(spec.probes.as_ref(), &port_name);
        let has = |f: fn(&ProbesSpec) -> bool| spec.probes.as_ref().is_some_and(f);
        (Some(s), has(|p| p.liveness.is_some()).then_some(l), Some(r))
    } else {
        (None, None, None)
    };
    let env: Vec<EnvVar> = spec
        .env
        .iter()
        .flatten()
        .map(|(k, model::EnvValue(v))| EnvVar {
            name: k.clone(),
            value: Some(v.clone()),
            ..EnvVar::default()
        })
        .collect();
    Container {
        name: spec.name.clone(),
        image: Some(image.reference()),
        image_pull_policy: Some(pull_policy(spec.image.as_ref())),
        command: spec.command.clone(),
        args: spec.args.clone(),
        ports: spec.port.map(|p| {
            vec![ContainerPort {
                name: Some(port_name.clone()),
                container_port: i32::from(p),
                protocol: Some("TCP".into()),
                ..ContainerPort::default()
            }]
        }),
        env: if env.is_empty() { None } else { Some(env) },
        resources: resources(spec.resources.as_ref()),
        startup_probe: startup,
        liveness_probe: liveness,
        readiness_probe: readiness,
        security_context: Some(hardened()),
        volume_mounts: Some(vec![mount]),
        ..Container::default()
    }
}

fn spread(labels: &Labels) -> Vec<TopologySpreadConstraint> {
    ["topology.kubernetes.io/zone", "kubernetes.io/hostname"]
        .into_iter()
        .map(|key| TopologySpreadConstraint {
            topology_key: key.into(),
            max_skew: 1,
            when_unsatisfiable: "ScheduleAnyway".into(),
            label_selector: Some(LabelSelector {
                match_labels: Some(labels.selector.clone()),
                ..LabelSelector::default()
            }),
            match_label_keys: Some(vec!["pod-template-hash".into()]),
            ..TopologySpreadConstraint::default()
        })
        .collect()
}

pub(super) fn int_or_string(v: Option<&model::IntOrString>, default: IntOrString) -> IntOrString {
    match v {
        Some(model::IntOrString::Int(i)) => IntOrString::Int(*i),
        Some(model::IntOrString::String(s)) => match s.parse::<i32>() {
            Ok(i) => IntOrString::Int(i),
            Err(_) => IntOrString::String(s.clone()),
        },
        None => default,
    }
}

/// The pod template of the main workload: main container (with its files and volumes),
/// sidecars, init containers, each with a `/tmp` of its own; in a StatefulSet, new claims
/// are the set's volumeClaimTemplates.
fn pod_template(w: &Workload, labels: &Labels, stateful: bool) -> PodTemplateSpec {
    let (main_volume, main_mount) = tmp_volume("tmp");
    let extra = super::volumes::mounts(w, stateful);
    let mut volumes = vec![main_volume];
    volumes.extend(extra.volumes);
    let mut mounts = vec![main_mount];
    mounts.extend(extra.mounts);
    let mut containers = vec![main_container(w, mounts)];
    for (sidecar, image) in w.spec.sidecars.iter().flatten().zip(&w.sidecar_images) {
        let (volume, mount) = tmp_volume(&format!("tmp-{}", sidecar.name));
        volumes.push(volume);
        containers.push(sidecar_container(sidecar, image, mount));
    }
    let mut init = Vec::new();
    for (spec, image) in w.spec.init_containers.iter().flatten().zip(&w.init_images) {
        let (volume, mount) = tmp_volume(&format!("tmp-{}", spec.name));
        volumes.push(volume);
        init.push(init_container(w, spec, image, mount));
    }
    let mut pod = pod_spec(w, containers, volumes);
    pod.init_containers = (!init.is_empty()).then_some(init);
    pod.topology_spread_constraints = Some(spread(labels));
    super::scheduling::apply(w.spec.scheduling.as_ref(), labels, true, &mut pod);
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(labels.common.clone()),
            annotations: Some(pod_annotations(w)),
            ..ObjectMeta::default()
        }),
        spec: Some(pod),
    }
}

/// The workload's own metadata: the Reloader annotation when ESO syncs its secrets.
fn workload_meta(w: &Workload, ns: &str, labels: &Labels) -> ObjectMeta {
    let mut metadata = meta(&w.service, ns, labels);
    let synced = synced_secret_names(w);
    if !synced.is_empty() {
        metadata.annotations = Some([(RELOADER_ANNOTATION.to_owned(), synced.join(","))].into());
    }
    metadata
}

/// The replica count, unless an HPA owns it (writing it here would fight the HPA).
fn replicas(w: &Workload) -> Option<i32> {
    let autoscaled = w
        .spec
        .autoscaling
        .as_ref()
        .is_some_and(|a| a.enabled != Some(false));
    (!autoscaled).then(|| int(w.spec.replicas, 1))
}

pub(super) fn deployment(w: &Workload, ns: &str, labels: &Labels) -> Result<Deployment> {
    Ok(Deployment {
        metadata: workload_meta(w, ns, labels),
        spec: Some(DeploymentSpec {
            replicas: replicas(w),
            revision_history_limit: Some(5),
            selector: LabelSelector {
                match_labels: Some(labels.selector.clone()),
                ..LabelSelector::default()
            },
            strategy: Some(rolling_update(w)),
            template: pod_template(w, labels, false),
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    })
}

/// A StatefulSet behind its headless Service, each pod with its own claims; rolled one pod
/// at a time (`OrderedReady` unless the service says `Parallel`).
pub(super) fn stateful_set(w: &Workload, ns: &str, labels: &Labels) -> StatefulSet {
    let templates = super::volumes::claim_templates(w, labels);
    StatefulSet {
        metadata: workload_meta(w, ns, labels),
        spec: Some(StatefulSetSpec {
            replicas: replicas(w),
            revision_history_limit: Some(5),
            service_name: Some(super::network::headless_name(&w.service)),
            pod_management_policy: w
                .spec
                .stateful_set
                .as_ref()
                .and_then(|s| s.pod_management_policy)
                .map(|p| p.as_str().to_owned()),
            selector: LabelSelector {
                match_labels: Some(labels.selector.clone()),
                ..LabelSelector::default()
            },
            template: pod_template(w, labels, true),
            volume_claim_templates: (!templates.is_empty()).then_some(templates),
            ..StatefulSetSpec::default()
        }),
        ..StatefulSet::default()
    }
}

/// The pod's annotations: the service's own, and the checksums that roll the pods when
/// their config or secrets change.
pub(super) fn pod_annotations(w: &Workload) -> BTreeMap<String, String> {
    let mut annotations = w.spec.pod_annotations.clone().unwrap_or_default();
    annotations.insert(CONFIG_CHECKSUM.into(), config_checksum(w));
    if let Some(secrets) = &w.secrets {
        annotations.insert(SECRETS_CHECKSUM.into(), secrets.checksum());
    }
    annotations
}

/// A rolling update, by default one that never takes a pod down before its replacement.
fn rolling_update(w: &Workload) -> DeploymentStrategy {
    let strategy = w.spec.strategy.clone().unwrap_or_default();
    DeploymentStrategy {
        type_: Some("RollingUpdate".into()),
        rolling_update: Some(RollingUpdateDeployment {
            max_surge: Some(int_or_string(
                strategy.max_surge.as_ref(),
                IntOrString::String("25%".into()),
            )),
            max_unavailable: Some(int_or_string(
                strategy.max_unavailable.as_ref(),
                IntOrString::Int(0),
            )),
        }),
    }
}

/// The pod: its own service account (no token unless asked for), non-root with the
/// runtime's default seccomp profile.
pub(super) fn pod_spec(w: &Workload, containers: Vec<Container>, volumes: Vec<Volume>) -> PodSpec {
    PodSpec {
        service_account_name: Some(w.service.clone()),
        automount_service_account_token: Some(
            w.spec
                .service_account
                .as_ref()
                .and_then(|s| s.automount_token)
                .unwrap_or(false),
        ),
        security_context: Some(PodSecurityContext {
            run_as_non_root: Some(true),
            run_as_user: Some(RUN_AS_USER),
            run_as_group: Some(RUN_AS_USER),
            fs_group: Some(RUN_AS_USER),
            seccomp_profile: Some(SeccompProfile {
                type_: "RuntimeDefault".into(),
                ..SeccompProfile::default()
            }),
            ..PodSecurityContext::default()
        }),
        termination_grace_period_seconds: w.spec.termination_grace_period_seconds.map(i64::from),
        containers,
        volumes: Some(volumes),
        ..PodSpec::default()
    }
}
