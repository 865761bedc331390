//! Command-line interface (clap derive).

use std::path::PathBuf;

pub use crate::argocd::AppsMode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::emit::Format;

#[derive(Debug, Parser)]
#[command(
    name = "stencil",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("STENCIL_COMMIT"), ")"),
    about = "Render multi-tenant Kubernetes manifests from a base service definition plus per-tenant overlays",
    long_about = None,
    after_help = "Exit codes: 0 ok, 1 differences or problems found, 2 usage, 3 invalid input or failed render"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Repository root (default: walk up from the current directory to stencil.yaml)
    #[arg(long, global = true, value_name = "DIR", env = "STENCIL_REPO")]
    pub repo: Option<PathBuf>,
    /// More logging on stderr (-v info, -vv debug, -vvv trace)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on stderr
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Log format on stderr
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render manifests for the selected tenants and services
    Render(RenderArgs),
    /// Show each resolved value of a tenant's service with the file:line that set it
    Explain(ExplainArgs),
    /// Check every input and render every tenant; report all problems
    Validate(ValidateArgs),
    /// Show what a change does to every tenant: rendered objects compared between two
    /// revisions (default: the merge-base with upstream and the working tree)
    Diff(DiffArgs),
    /// List the tenant/service apps whose rendered output differs between two revisions
    Affected(AffectedArgs),
    /// Convert a symlinked "universal Helm chart" values layout to stencil's, proving with
    /// --check that every tenant resolves to the values it had
    Migrate(MigrateArgs),
    /// Set a service's image tag in version.yaml (CI, after an image push); commit and push
    Bump(BumpArgs),
    /// Decrypt, encrypt and edit SOPS (age) secrets files without the sops binary
    #[command(subcommand)]
    Secrets(SecretsCommand),
    /// Argo CD: the Config Management Plugin, its config, and the Applications that use it
    #[command(subcommand)]
    Argocd(ArgocdCommand),
    /// Make a new deployment repository: stencil.yaml, .sops.yaml with a new age key, one
    /// service, one tenant, schemas/ and the GitHub workflows; it renders as created
    Init(InitArgs),
    /// Write the JSON Schemas of stencil's files (editors read them through the
    /// `$schema` line each file starts with)
    Schemas(SchemasArgs),
    /// Add a tenant (scaffolded so it renders as it is) or list the tenants
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// The guardrails: every policy rule with its id and rationale, and the exceptions
    /// stencil.yaml grants
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Print a shell completion script: `stencil completion bash > /etc/bash_completion.d/stencil`
    Completion(CompletionArgs),
    /// Write the man pages (stencil.1 and one per command) into a folder
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The folder to make the repository in (made if missing; default: the current one)
    pub dir: Option<PathBuf>,
    /// The repository's name (default: the folder's name)
    #[arg(long)]
    pub name: Option<String>,
    /// Encrypt secrets for this age recipient instead of a new key (repeatable)
    #[arg(long, value_name = "RECIPIENT")]
    pub age: Vec<String>,
    /// The first service, under base/
    #[arg(long, default_value = "hello")]
    pub service: String,
    /// The first tenant, under tenants/
    #[arg(long, default_value = "demo")]
    pub tenant: String,
    /// The first environment
    #[arg(short, long, default_value = "dev")]
    pub environment: String,
    /// The DNS domain tenants' hosts are made under
    #[arg(long, default_value = "example.com")]
    pub domain: String,
    /// The Git URL Argo CD clones the repository from (argocd.repoURL; `argocd apps`
    /// needs it)
    #[arg(long, value_name = "URL")]
    pub repo_url: Option<String>,
    /// Leave out .github/workflows
    #[arg(long)]
    pub no_workflows: bool,
}

#[derive(Debug, Args)]
pub struct SchemasArgs {
    /// The folder to write them into (default: schemas/ of the repository)
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell to complete in
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The folder to write the man pages into (made if missing)
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum ArgocdCommand {
    /// Render one Application as Argo CD's cmp-server asks: run in the Application's source
    /// folder; tenant and service come from ARGOCD_ENV_TENANT / ARGOCD_ENV_SERVICE, the
    /// parameters in ARGOCD_APP_PARAMETERS, or the path tenants/<tenant>/<service>
    Generate,
    /// Print the sidecar's ConfigManagementPlugin (its plugin.yaml)
    PluginConfig(PluginConfigArgs),
    /// Print every tenant's AppProject and Applications (or one ApplicationSet)
    Apps(AppsArgs),
}

#[derive(Debug, Args)]
pub struct PluginConfigArgs {
    /// Add a discovery rule matching stencil.yaml (costs Argo CD a second copy of the
    /// repository per request; Applications written by `argocd apps` name the plugin instead)
    #[arg(long)]
    pub with_discovery: bool,
}

#[derive(Debug, Args)]
pub struct AppsArgs {
    /// One Application per tenant x service, or one ApplicationSet generating them
    #[arg(long, value_enum, default_value_t = AppsMode::Applications)]
    pub mode: AppsMode,
    /// Print only the root (app-of-apps) Application, which renders this output in Argo CD
    #[arg(long)]
    pub root: bool,
    /// A YAML stream, or one JSON `v1 List` (as `render -o json`)
    #[arg(long, short = 'o', value_enum, default_value_t = Format::Yaml)]
    pub output: Format,
}

#[derive(Debug, Args)]
pub struct Filter {
    /// Only tenants matching this glob (repeatable)
    #[arg(long = "tenant", short = 't', value_name = "GLOB")]
    pub tenants: Vec<String>,
    /// Only services matching this glob (repeatable)
    #[arg(long = "service", short = 's', value_name = "GLOB")]
    pub services: Vec<String>,
    /// Only tenants of this environment
    #[arg(long, short = 'e', value_name = "ENV")]
    pub environment: Option<String>,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub filter: Filter,
    /// Output format of the stream on stdout
    #[arg(long, short = 'o', value_enum, default_value_t = Format::Yaml)]
    pub output: Format,
    /// Write one file per object to DIR/<tenant>/<service>/<kind>-<name>.yaml instead of stdout
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Replace Secret values with stable fingerprints (for reviews and CI logs)
    #[arg(long)]
    pub redact_secrets: bool,
    /// Only the tenants' own objects (the workspace kit: Namespace, quota, limits, network policies, role bindings), as each tenant's workspace Application
    /// renders them. Without it, they are rendered unless --service is given.
    #[arg(long, conflicts_with = "services")]
    pub workspace: bool,
}

#[derive(Debug, Args)]
pub struct RangeArgs {
    /// The old side: a revision (default: the merge-base of HEAD and its upstream branch,
    /// or HEAD when there is none)
    #[arg(long, value_name = "REV")]
    pub from: Option<String>,
    /// The new side: a revision (default: the working tree, uncommitted changes included)
    #[arg(long, value_name = "REV")]
    pub to: Option<String>,
    /// The old side: a plain folder instead of a revision (no git needed)
    #[arg(long, value_name = "DIR", conflicts_with = "from")]
    pub from_dir: Option<PathBuf>,
    /// The new side: a plain folder instead of a revision or the working tree
    #[arg(long, value_name = "DIR", conflicts_with = "to")]
    pub to_dir: Option<PathBuf>,
    #[command(flatten)]
    pub filter: Filter,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub range: RangeArgs,
    /// Output: a unified diff per object, a PR comment, or machine-readable changes
    #[arg(long = "output", short = 'o', visible_alias = "format", value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
    /// Color the text diff
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// Exit 1 when there are differences, 0 when there are none
    #[arg(long)]
    pub exit_code: bool,
    /// Longest diff shown per app in markdown before it is cut
    #[arg(long, default_value_t = 200, value_name = "LINES")]
    pub max_lines: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Text,
    Markdown,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    /// Only when stdout is a terminal and NO_COLOR is unset
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct AffectedArgs {
    #[command(flatten)]
    pub range: RangeArgs,
    /// One app per line (TENANT/SERVICE, or TENANT for its namespace), or JSON
    #[arg(long, short = 'o', value_enum, default_value_t = AffectedOutput::Text)]
    pub output: AffectedOutput,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AffectedOutput {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The old layout: the folder holding prod/<base>/ and one folder per tenant (often helm/)
    #[arg(long, value_name = "DIR")]
    pub from: PathBuf,
    /// Where to write the stencil layout
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub to: PathBuf,
    /// The service name for the (single) base (default: the base folder without `-base`)
    #[arg(long)]
    pub service: Option<String>,
    /// The platform name in stencil.yaml
    #[arg(long)]
    pub name: Option<String>,
    /// Write nothing; compare every tenant's old effective values with the new layout at --to
    #[arg(long, conflicts_with_all = ["dry_run", "force"])]
    pub check: bool,
    /// With --check: render every tenant with `helm template` of this chart (helm from $HELM
    /// or PATH) and compare the manifests with stencil's, object by object
    #[arg(long, value_name = "DIR", requires = "check")]
    pub chart: Option<PathBuf>,
    /// List the files that would be written, and write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Overwrite files that exist in --to
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The tenant and service, as TENANT/SERVICE
    #[arg(value_name = "TENANT/SERVICE")]
    pub target: String,
    /// Only values under this key path, e.g. `image.tag` or `env.LOG_LEVEL`
    #[arg(value_name = "KEY.PATH")]
    pub key: Option<String>,
    /// Text, or one JSON document (layers, and each value with where it was set)
    #[arg(short, long, value_enum, default_value_t = ExplainFormat::Text)]
    pub output: ExplainFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExplainFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub filter: Filter,
    /// Values left in `helmPassthrough` (nothing renders them) are errors, not warnings
    #[arg(long)]
    pub strict: bool,
    /// How to report: text on stderr, one JSON document on stdout, or GitHub workflow
    /// annotations (`::error file=…,line=…::`) on stdout
    #[arg(short, long, value_enum, default_value_t = ValidateFormat::Text)]
    pub output: ValidateFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ValidateFormat {
    Text,
    Json,
    Github,
}

#[derive(Debug, Args)]
pub struct BumpArgs {
    /// The service (a folder under base/)
    pub service: String,
    /// The new image tag (never `latest`)
    pub tag: String,
    /// Pin the image digest too (sha256:...)
    #[arg(long)]
    pub digest: Option<String>,
    /// Bump these tenants' pins instead of the base (glob, repeatable)
    #[arg(long = "tenant", value_name = "GLOB")]
    pub tenants: Vec<String>,
    /// Bump this sidecar's image instead of the main one
    #[arg(long)]
    pub sidecar: Option<String>,
    /// Print the diff that would be written (and committed) and change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Commit the change on the current branch (only the version files)
    #[arg(long)]
    pub commit: bool,
    /// Commit message template: {service}, {tag}, {digest}, {tenants}
    #[arg(long, default_value = "chore({service}): bump image to {tag}")]
    pub message: String,
    /// Push the commit (implies --commit); retried on top of the new remote head if it moved
    #[arg(long, value_name = "REMOTE", num_args = 0..=1, default_missing_value = "origin")]
    pub push: Option<String>,
    /// How many times to redo the bump and push again when the remote moved
    #[arg(long, default_value_t = 5)]
    pub retries: u32,
    /// When someone else set this service to another tag meanwhile
    #[arg(long, value_enum, default_value_t = OnConflict::Fail)]
    pub on_conflict: OnConflict,
    /// Environment variable holding a token for HTTPS pushes (never printed)
    #[arg(long, value_name = "VAR")]
    pub token_env: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnConflict {
    /// Stop with an error; nothing is pushed
    Fail,
    /// Push our tag over theirs
    Ours,
    /// Keep their tag; exit 0 without pushing
    Theirs,
}

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Print the decrypted document to stdout (the only place plaintext goes), with its
    /// `stencil.dev/scope` binding, as `sops -d` prints it
    Decrypt {
        /// A SOPS file
        file: PathBuf,
    },
    /// Encrypt a plaintext file in place, for the recipients of its .sops.yaml creation rule;
    /// a tenant service's file is bound to its place
    Encrypt {
        file: PathBuf,
        /// Encrypt for these age recipients instead of .sops.yaml's (repeatable, or
        /// comma-separated in SOPS_AGE_RECIPIENTS, as sops reads it)
        #[arg(
            long = "age",
            value_name = "RECIPIENT",
            env = "SOPS_AGE_RECIPIENTS",
            value_delimiter = ','
        )]
        age: Vec<String>,
    },
    /// Set one key in an encrypted file (created if missing), never writing plaintext to disk;
    /// a tenant service's file is bound to its place (one bound elsewhere is refused)
    Set {
        file: PathBuf,
        /// The key (an environment variable name)
        key: String,
        /// The value (prefer --from-stdin: arguments are visible in the process list)
        #[arg(required_unless_present = "from_stdin", conflicts_with = "from_stdin")]
        value: Option<String>,
        /// Read the value from stdin (one trailing newline is dropped)
        #[arg(long)]
        from_stdin: bool,
        /// Recipients for a new file, instead of .sops.yaml's (repeatable, or
        /// comma-separated in SOPS_AGE_RECIPIENTS)
        #[arg(
            long = "age",
            value_name = "RECIPIENT",
            env = "SOPS_AGE_RECIPIENTS",
            value_delimiter = ','
        )]
        age: Vec<String>,
    },
    /// Re-wrap the data key for the recipients .sops.yaml now lists
    Updatekeys { file: PathBuf },
    /// Bind secrets files to their tenant and service: add the encrypted, MAC-covered
    /// `stencil.dev/scope: tenants/<tenant>/<service>` entry (the migration for files written
    /// before bindings; needs a key that opens them). Bound files are left as they are; a file
    /// bound to another place is refused
    Bind {
        /// Secrets files (default: every tenants/*/*/secrets.enc.yaml of the repository)
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Scaffold tenants/NAME (tenant.yaml; per service values.yaml, env.yaml and an empty
    /// encrypted secrets.enc.yaml), check that it renders, and print what was created
    Add(TenantAddArgs),
    /// List tenants with their environment, namespace, team, and each service's image tag
    List(TenantListArgs),
}

#[derive(Debug, Args)]
pub struct TenantAddArgs {
    /// The tenant name (a DNS-1123 label); becomes the folder and the namespace
    pub name: String,
    /// An environment named in stencil.yaml
    #[arg(short, long)]
    pub environment: String,
    /// A service (a folder under base/) the tenant runs (repeatable; default: --from's)
    #[arg(short, long = "service", value_name = "SERVICE")]
    pub services: Vec<String>,
    /// Start from this tenant: its services, labels, and each service's values.yaml and
    /// env.yaml (not its secrets, version pins or team)
    #[arg(long, value_name = "TENANT")]
    pub from: Option<String>,
    /// The group bound to the platform's team role (workspace.teamRole)
    #[arg(long, value_name = "GROUP")]
    pub team: Option<String>,
    /// The tenant's DNS domain (default: NAME.<environment domain>)
    #[arg(long)]
    pub domain: Option<String>,
}

#[derive(Debug, Args)]
pub struct TenantListArgs {
    #[arg(short, long, value_enum, default_value_t = ListFormat::Table)]
    pub output: ListFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Every policy rule: id, what it requires, why; and the exceptions in stencil.yaml
    List(PolicyListArgs),
}

#[derive(Debug, Args)]
pub struct PolicyListArgs {
    #[arg(short, long, value_enum, default_value_t = ListFormat::Table)]
    pub output: ListFormat,
}
