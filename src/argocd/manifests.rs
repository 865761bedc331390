//! Argo CD objects, typed: the `ConfigManagementPlugin` of the sidecar, and per tenant an
//! `AppProject`, a workspace `Application` (the tenant's own objects) and one `Application`
//! per service, or one `ApplicationSet` generating the same Applications, plus the root
//! (app-of-apps) Application that renders all of them through the plugin.
//!
//! There are no upstream Rust types for Argo CD's CRDs; these structs carry the subset stencil
//! writes, named as in the CRDs (checked against the upstream schemas by
//! `../shared/tools/validate-manifests` in CI).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use crate::error::{Diagnostic, Result};
use crate::model::RepoSettings;
use crate::object::Object;

/// The plugin's name in its `ConfigManagementPlugin`.
pub const PLUGIN_NAME: &str = "stencil";
/// The plugin's version: bumped only when what the plugin reads from Applications changes,
/// not with every stencil release, so upgrading the sidecar never orphans Applications.
pub const PLUGIN_VERSION: &str = "v1";
/// The in-cluster API server, where the root Application and the AppProjects live.
pub const IN_CLUSTER: &str = "https://kubernetes.default.svc";
/// Plugin environment variables (Argo CD passes them as `ARGOCD_ENV_<NAME>`).
pub const ENV_TENANT: &str = "TENANT";
pub const ENV_SERVICE: &str = "SERVICE";
pub const ENV_APPS: &str = "APPS";

const API_VERSION: &str = "argoproj.io/v1alpha1";
const GENERATE_PATHS: &str = "argocd.argoproj.io/manifest-generate-paths";
const SYNC_WAVE: &str = "argocd.argoproj.io/sync-wave";
const CASCADE_FINALIZER: &str = "resources-finalizer.argocd.argoproj.io";

/// The name Applications give the plugin: `<name>-<version>`.
pub fn plugin_ref() -> String {
    format!("{PLUGIN_NAME}-{PLUGIN_VERSION}")
}

/// `managed-by` and `part-of`: on every Argo CD object stencil writes.
fn stencil_labels(settings: &RepoSettings) -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "app.kubernetes.io/managed-by".to_owned(),
            "stencil".to_owned(),
        ),
        (
            "app.kubernetes.io/part-of".to_owned(),
            settings.name.clone(),
        ),
    ])
}

/// [`stencil_labels`] plus the tenant and its environment.
fn tenant_labels(
    settings: &RepoSettings,
    tenant: &str,
    environment: &str,
) -> BTreeMap<String, String> {
    let mut labels = stencil_labels(settings);
    labels.insert(crate::build::labels::TENANT.to_owned(), tenant.to_owned());
    labels.insert(
        crate::build::labels::ENVIRONMENT.to_owned(),
        environment.to_owned(),
    );
    labels
}

/// A `manifest-generate-paths` value: the paths made absolute (repository-rooted), `;`-joined.
fn generate_paths<S: AsRef<str>>(paths: &[S]) -> String {
    paths
        .iter()
        .map(|p| format!("/{}", p.as_ref()))
        .collect::<Vec<_>>()
        .join(";")
}

/// One Argo CD Application stencil manages: a tenant's workspace (`service` is `None`) or
/// one tenant x service.
#[derive(Debug, Clone)]
pub struct App {
    pub name: String,
    pub tenant: String,
    pub service: Option<String>,
    pub environment: String,
    pub cluster: String,
    pub namespace: String,
    /// The Application's source path: the folder the plugin runs in.
    pub path: String,
    /// Repository paths (relative) whose change can change the render.
    pub inputs: Vec<String>,
}

impl App {
    fn component(&self) -> &'static str {
        if self.service.is_some() {
            "service"
        } else {
            "workspace"
        }
    }

    fn labels(&self, settings: &RepoSettings) -> BTreeMap<String, String> {
        let mut labels = tenant_labels(settings, &self.tenant, &self.environment);
        labels.insert("stencil.dev/component".to_owned(), self.component().into());
        if let Some(service) = &self.service {
            labels.insert(crate::build::labels::SERVICE.to_owned(), service.clone());
        }
        labels
    }

    /// The `manifest-generate-paths` value.
    fn generate_paths(&self) -> String {
        generate_paths(&self.inputs)
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Typed<S> {
    api_version: &'static str,
    kind: &'static str,
    metadata: ObjectMeta,
    spec: S,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ApplicationSpec {
    project: String,
    source: Source,
    destination: Destination,
    sync_policy: SyncPolicy,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Source {
    #[serde(rename = "repoURL")]
    repo_url: String,
    target_revision: String,
    path: String,
    plugin: PluginSource,
}

#[derive(Debug, Serialize)]
struct PluginSource {
    name: String,
    env: Vec<EnvEntry>,
}

#[derive(Debug, Serialize)]
struct EnvEntry {
    name: &'static str,
    value: String,
}

#[derive(Debug, Serialize)]
struct Destination {
    server: String,
    namespace: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SyncPolicy {
    #[serde(skip_serializing_if = "Option::is_none")]
    automated: Option<Automated>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    sync_options: Vec<&'static str>,
    retry: Retry,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Automated {
    prune: bool,
    self_heal: bool,
}

#[derive(Debug, Serialize)]
struct Retry {
    limit: i64,
    backoff: Backoff,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Backoff {
    duration: &'static str,
    factor: i64,
    max_duration: &'static str,
}

impl SyncPolicy {
    /// Automated sync with prune and self-heal. `allowEmpty` stays false: Argo CD refuses to
    /// prune everything when a render comes back empty.
    fn automated() -> SyncPolicy {
        SyncPolicy {
            automated: Some(Automated {
                prune: true,
                self_heal: true,
            }),
            ..SyncPolicy::manual()
        }
    }

    fn manual() -> SyncPolicy {
        SyncPolicy {
            automated: None,
            sync_options: vec!["CreateNamespace=true"],
            retry: Retry {
                limit: 5,
                backoff: Backoff {
                    duration: "10s",
                    factor: 2,
                    max_duration: "5m",
                },
            },
        }
    }
}

fn repo_url(settings: &RepoSettings) -> Result<String> {
    settings.argocd.repo_url.clone().ok_or_else(|| {
        Diagnostic::new("stencil.yaml has no `argocd.repoURL`")
            .hint("set argocd.repoURL to the Git URL Argo CD clones this repository from")
            .into()
    })
}

fn meta(
    name: &str,
    namespace: &str,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    finalizers: Option<Vec<String>>,
) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: Some(namespace.to_owned()),
        labels: (!labels.is_empty()).then_some(labels),
        annotations: (!annotations.is_empty()).then_some(annotations),
        finalizers,
        ..ObjectMeta::default()
    }
}

fn object<S: Serialize>(typed: &Typed<S>, tenant: &str) -> Result<Object> {
    Object::from_typed(typed, tenant, None)
}

/// The spec of a tenant's AppProject.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ProjectSpec {
    description: String,
    source_repos: Vec<String>,
    destinations: Vec<Destination>,
    cluster_resource_whitelist: Vec<GroupKind>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    roles: Vec<ProjectRole>,
}

#[derive(Debug, Serialize)]
struct ProjectRole {
    name: &'static str,
    description: String,
    groups: Vec<String>,
    policies: Vec<String>,
}

#[derive(Debug, Serialize)]
struct GroupKind {
    group: &'static str,
    kind: &'static str,
}

/// The tenant's AppProject (from its workspace app): sources from this repository only, destinations only the
/// tenant's namespace on its environment's cluster, no cluster-scoped kind but Namespace.
/// With a `team`, the project role `team` lets that group see and sync the tenant's
/// Applications (and nothing else).
pub fn app_project(settings: &RepoSettings, workspace: &App, team: Option<&str>) -> Result<Object> {
    let App {
        tenant,
        environment,
        cluster,
        namespace,
        ..
    } = workspace;
    let (tenant, environment) = (tenant.as_str(), environment.as_str());
    check_project_name(settings, tenant)?;
    let labels = tenant_labels(settings, tenant, environment);
    let annotations = BTreeMap::from([(SYNC_WAVE.to_owned(), "-2".to_owned())]);
    let typed = Typed {
        api_version: API_VERSION,
        kind: "AppProject",
        metadata: meta(
            tenant,
            &settings.argocd.namespace,
            labels,
            annotations,
            None,
        ),
        spec: ProjectSpec {
            description: format!("Tenant {tenant} ({environment}), rendered by stencil"),
            source_repos: vec![repo_url(settings)?],
            destinations: vec![Destination {
                server: cluster.to_owned(),
                namespace: namespace.to_owned(),
            }],
            cluster_resource_whitelist: vec![GroupKind {
                group: "",
                kind: "Namespace",
            }],
            roles: team
                .map(|team| team_role(tenant, team))
                .into_iter()
                .collect(),
        },
    };
    object(&typed, tenant)
}

/// A tenant's AppProject is named after it: never Argo CD's `default` project nor the
/// project of stencil's own Applications.
fn check_project_name(settings: &RepoSettings, tenant: &str) -> Result<()> {
    if tenant == settings.argocd.project || tenant == "default" {
        return Err(Diagnostic::new(format!(
            "tenant `{tenant}` would replace the Argo CD project `{tenant}`"
        ))
        .hint("each tenant gets an AppProject named after it; rename the tenant")
        .into());
    }
    Ok(())
}

/// The project role `team`: the group `team` may get and sync the tenant's Applications.
fn team_role(tenant: &str, team: &str) -> ProjectRole {
    ProjectRole {
        name: "team",
        description: format!("{team} sees and syncs the Applications of {tenant}"),
        groups: vec![team.to_owned()],
        policies: ["get", "sync"]
            .iter()
            .map(|action| {
                format!("p, proj:{tenant}:team, applications, {action}, {tenant}/*, allow")
            })
            .collect(),
    }
}

fn application_spec(
    settings: &RepoSettings,
    app: &App,
    sync_policy: SyncPolicy,
) -> Result<ApplicationSpec> {
    let mut env = vec![EnvEntry {
        name: ENV_TENANT,
        value: app.tenant.clone(),
    }];
    // A workspace has no SERVICE (in an ApplicationSet it is empty, which Argo CD drops).
    if let Some(service) = &app.service {
        env.push(EnvEntry {
            name: ENV_SERVICE,
            value: service.clone(),
        });
    }
    Ok(ApplicationSpec {
        project: app.tenant.clone(),
        source: Source {
            repo_url: repo_url(settings)?,
            target_revision: settings.argocd.target_revision.clone(),
            path: app.path.clone(),
            plugin: PluginSource {
                name: plugin_ref(),
                env,
            },
        },
        destination: Destination {
            server: app.cluster.clone(),
            namespace: app.namespace.clone(),
        },
        sync_policy,
    })
}

/// One Application: plugin source, automated sync, the exact files that feed it as
/// `manifest-generate-paths`, and a sync wave that puts the workspace first.
pub fn application(settings: &RepoSettings, app: &App) -> Result<Object> {
    let wave = if app.service.is_some() { "0" } else { "-1" };
    let annotations = BTreeMap::from([
        (GENERATE_PATHS.to_owned(), app.generate_paths()),
        (SYNC_WAVE.to_owned(), wave.to_owned()),
    ]);
    let typed = Typed {
        api_version: API_VERSION,
        kind: "Application",
        metadata: meta(
            &app.name,
            &settings.argocd.namespace,
            app.labels(settings),
            annotations,
            Some(vec![CASCADE_FINALIZER.to_owned()]),
        ),
        spec: application_spec(settings, app, SyncPolicy::automated())?,
    };
    object(&typed, &app.tenant)
}

/// The spec of the ApplicationSet.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SetSpec {
    go_template: bool,
    go_template_options: Vec<&'static str>,
    generators: Vec<Generator>,
    strategy: Strategy,
    sync_policy: SetSyncPolicy,
    template: Template,
}

#[derive(Debug, Serialize)]
struct Generator {
    list: List,
}

#[derive(Debug, Serialize)]
struct List {
    elements: Vec<BTreeMap<&'static str, String>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Strategy {
    #[serde(rename = "type")]
    kind: &'static str,
    rolling_sync: RollingSync,
}

#[derive(Debug, Serialize)]
struct RollingSync {
    steps: Vec<Step>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Step {
    match_expressions: Vec<Expression>,
}

#[derive(Debug, Serialize)]
struct Expression {
    key: &'static str,
    operator: &'static str,
    values: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SetSyncPolicy {
    preserve_resources_on_deletion: bool,
}

#[derive(Debug, Serialize)]
struct Template {
    metadata: ObjectMeta,
    spec: ApplicationSpec,
}

/// One ApplicationSet generating the same Applications from a list of elements, rolled out
/// environment by environment in the order of `stencil.yaml` (each environment's workspaces
/// before its services) with a `RollingSync` strategy.
pub fn application_set(settings: &RepoSettings, apps: &[App]) -> Result<Object> {
    let typed = Typed {
        api_version: API_VERSION,
        kind: "ApplicationSet",
        metadata: meta(
            &settings.name,
            &settings.argocd.namespace,
            stencil_labels(settings),
            BTreeMap::new(),
            None,
        ),
        spec: SetSpec {
            go_template: true,
            go_template_options: vec!["missingkey=error"],
            generators: vec![Generator {
                list: List {
                    elements: apps.iter().map(element).collect(),
                },
            }],
            strategy: Strategy {
                kind: "RollingSync",
                rolling_sync: RollingSync {
                    steps: rollout_steps(settings, apps),
                },
            },
            // Deleting the ApplicationSet must never delete every tenant's workloads.
            sync_policy: SetSyncPolicy {
                preserve_resources_on_deletion: true,
            },
            template: set_template(settings)?,
        },
    };
    Object::from_typed(&typed, &settings.name, None)
}

/// One app as a list generator element: every value the template takes from it.
fn element(app: &App) -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        ("name", app.name.clone()),
        ("tenant", app.tenant.clone()),
        ("service", app.service.clone().unwrap_or_default()),
        ("component", app.component().to_owned()),
        ("environment", app.environment.clone()),
        ("cluster", app.cluster.clone()),
        ("namespace", app.namespace.clone()),
        ("path", app.path.clone()),
        ("generatePaths", app.generate_paths()),
    ])
}

/// The RollingSync steps: per environment with apps, in the order of `stencil.yaml`, first
/// its workspaces, then its services.
fn rollout_steps(settings: &RepoSettings, apps: &[App]) -> Vec<Step> {
    let mut steps = Vec::new();
    for environment in settings.environments.keys() {
        if !apps.iter().any(|a| a.environment == *environment) {
            continue;
        }
        for component in ["workspace", "service"] {
            steps.push(Step {
                match_expressions: vec![
                    Expression {
                        key: crate::build::labels::ENVIRONMENT,
                        operator: "In",
                        values: vec![environment.clone()],
                    },
                    Expression {
                        key: "stencil.dev/component",
                        operator: "In",
                        values: vec![component.to_owned()],
                    },
                ],
            });
        }
    }
    steps
}

/// The template: the Application of [`application`] with every per-app value taken from the
/// element. RollingSync drives the syncs itself (Argo CD turns automated sync off for the
/// Applications it steps through), so the template has no `automated`.
fn set_template(settings: &RepoSettings) -> Result<Template> {
    let template_app = App {
        name: "{{ .name }}".into(),
        tenant: "{{ .tenant }}".into(),
        service: Some("{{ .service }}".into()),
        environment: "{{ .environment }}".into(),
        cluster: "{{ .cluster }}".into(),
        namespace: "{{ .namespace }}".into(),
        path: "{{ .path }}".into(),
        inputs: Vec::new(),
    };
    let mut labels = template_app.labels(settings);
    labels.insert("stencil.dev/component".into(), "{{ .component }}".into());
    let annotations = BTreeMap::from([(GENERATE_PATHS.to_owned(), "{{ .generatePaths }}".into())]);
    Ok(Template {
        metadata: ObjectMeta {
            name: Some(template_app.name.clone()),
            namespace: Some(settings.argocd.namespace.clone()),
            labels: Some(labels),
            annotations: Some(annotations),
            finalizers: Some(vec![CASCADE_FINALIZER.to_owned()]),
            ..ObjectMeta::default()
        },
        spec: application_spec(settings, &template_app, SyncPolicy::manual())?,
    })
}

/// Paths whose change can change the output of `stencil argocd apps`.
pub const ROOT_INPUTS: [&str; 3] = ["stencil.yaml", "base", "tenants"];

/// The root Application (app of apps): renders `stencil argocd apps --mode <mode>` through
/// the plugin into Argo CD's namespace. Deleting it leaves the Applications in place (no
/// cascade finalizer).
pub fn root_application(settings: &RepoSettings, mode: &str) -> Result<Object> {
    let name = settings
        .argocd
        .root_app
        .clone()
        .unwrap_or_else(|| format!("{}-apps", settings.name));
    let annotations = BTreeMap::from([(GENERATE_PATHS.to_owned(), generate_paths(&ROOT_INPUTS))]);
    let labels = stencil_labels(settings);
    let mut sync_policy = SyncPolicy::automated();
    sync_policy.sync_options = Vec::new();
    let typed = Typed {
        api_version: API_VERSION,
        kind: "Application",
        metadata: meta(&name, &settings.argocd.namespace, labels, annotations, None),
        spec: ApplicationSpec {
            project: settings.argocd.project.clone(),
            source: Source {
                repo_url: repo_url(settings)?,
                target_revision: settings.argocd.target_revision.clone(),
                path: ".".into(),
                plugin: PluginSource {
                    name: plugin_ref(),
                    env: vec![EnvEntry {
                        name: ENV_APPS,
                        value: mode.to_owned(),
                    }],
                },
            },
            destination: Destination {
                server: IN_CLUSTER.into(),
                namespace: settings.argocd.namespace.clone(),
            },
            sync_policy,
        },
    };
    Object::from_typed(&typed, &settings.name, None)
}

/// The spec of the sidecar's `ConfigManagementPlugin`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PluginSpec {
    version: &'static str,
    generate: Command,
    #[serde(skip_serializing_if = "Option::is_none")]
    discover: Option<Discover>,
    parameters: Parameters,
    preserve_file_mode: bool,
    provide_git_creds: bool,
}

#[derive(Debug, Serialize)]
struct Command {
    command: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Discover {
    file_name: &'static str,
}

#[derive(Debug, Serialize)]
struct Parameters {
    #[serde(rename = "static")]
    fixed: Vec<Announcement>,
}

#[derive(Debug, Serialize)]
struct Announcement {
    name: &'static str,
    title: &'static str,
    tooltip: &'static str,
    required: bool,
}

/// The sidecar's `ConfigManagementPlugin` (not a Kubernetes object: the file Argo CD's
/// cmp-server reads at `/home/argocd/cmp-server/config/plugin.yaml`).
pub fn plugin_config(with_discovery: bool) -> Result<serde_json::Value> {
    let typed = Typed {
        api_version: API_VERSION,
        kind: "ConfigManagementPlugin",
        metadata: ObjectMeta {
            name: Some(PLUGIN_NAME.into()),
            ..ObjectMeta::default()
        },
        spec: PluginSpec {
            version: PLUGIN_VERSION,
            generate: Command {
                command: vec!["stencil", "argocd", "generate"],
            },
            // Discovery makes Argo CD send the repository a second time per request; the
            // Applications stencil writes name the plugin instead.
            // cmp-server matches `fileName` against the repository root it received.
            discover: with_discovery.then_some(Discover {
                file_name: "./stencil.yaml",
            }),
            parameters: Parameters {
                fixed: plugin_parameters(),
            },
            preserve_file_mode: false,
            provide_git_creds: false,
        },
    };
    serde_json::to_value(&typed)
        .map_err(|e| Diagnostic::new(format!("cannot serialize the plugin config: {e}")).into())
}

/// The parameters the plugin announces to Argo CD's UI.
fn plugin_parameters() -> Vec<Announcement> {
    vec![
        Announcement {
            name: "tenant",
            title: "Tenant",
            tooltip: "The tenant to render (default: from the TENANT env or the path tenants/<tenant>/...)",
            required: false,
        },
        Announcement {
            name: "service",
            title: "Service",
            tooltip: "The service to render (default: from the SERVICE env or the path tenants/<tenant>/<service>; none renders the tenant's workspace)",
            required: false,
        },
    ]
}
