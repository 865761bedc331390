//! Guardrails on built objects: every container of every pod template, after patches and
//! for extra objects too; platform-owned kinds and RoleBindings (rule `platform-objects`);
//! Roles (rule `rbac-escalation`, in `rbac.rs`).

use k8s_openapi::api::core::v1::{Container, PodSpec};

use serde::Deserialize as _;

use super::{Exceptions, Platform, exposure, kinds, pod_security, rbac};
use crate::build::Object;
use crate::error::{Diagnostic, Error, Result};
use crate::model::{ExtraObjectsSettings, Rule};
use crate::names::Tag;

/// Checks the guardrails on built (and patched) objects: every container of every pod
/// template, including sidecars and extra objects, against the security-context rules here
/// and the Pod Security Standards of [`pod_security`]; Services and labels too.
pub fn check_objects(
    objects: &[Object],
    tenant: &str,
    service: &str,
    platform: &Platform,
) -> Result<()> {
    let exceptions = &platform.exceptions;
    let mut problems: Vec<Error> = rbac::check_roles(objects, tenant, service, exceptions)
        .into_iter()
        .map(Error::from)
        .collect();
    // The Roles this service defines itself: the only Roles its RoleBindings may bind.
    let own_roles: Vec<&str> = objects
        .iter()
        .filter(|o| o.extra && o.kind == "Role" && kinds::group(&o.api_version) == RBAC)
        .map(|o| o.name.as_str())
        .collect();
    let ctx = Ownership {
        tenant,
        service,
        exceptions,
        settings: &platform.extra_objects,
        own_roles: &own_roles,
    };
    for object in objects {
        if let Some(problem) = platform_owned(object, &ctx) {
            problems.push(Error::from(problem));
        }
        let mut invalid = Vec::new();
        let mut report = |rule: Option<Rule>, msg: String| {
            if let Some(rule) = rule
                && rule != Rule::PodSecurityLabels
                && exceptions.allows(rule, tenant, service)
            {
                return;
            }
            let mut d = Diagnostic::new(format!("{}: {msg}", object.describe()))
                .at_opt(object.origin.as_ref());
            d = match rule {
                Some(Rule::PodSecurityLabels) => d.rule(Rule::PodSecurityLabels.name()).hint(
                    "the platform labels every tenant Namespace pod-security.kubernetes.io/{enforce,audit,warn}: restricted; no tenant input may set these labels",
                ),
                Some(rule) => d.rule(rule.name()).hint(
                    "if this is really needed, grant an exception with a reason under policy.exceptions in stencil.yaml",
                ),
                None => d.hint("every container needs an image with an immutable tag"),
            };
            problems.push(Error::from(d));
        };
        for finding in exposure::check_object(object) {
            report(Some(finding.rule), finding.message);
        }
        for finding in pod_security::check_embedded(&object.value) {
            report(Some(finding.rule), finding.message);
        }
        // Custom resources a tenant wrote or patched stay in the tenant's namespace (base/
        // is the platform's, which may name its own namespaces).
        if object
            .origin
            .as_ref()
            .is_some_and(|o| o.path().starts_with("tenants/"))
            && !kinds::is_built_in(&object.api_version, &object.kind)
            && let Some(own) = object.namespace.as_deref()
        {
            let allowed = |ns: &str| {
                ns == own
                    || ns.starts_with("kube-")
                    || platform.platform_namespaces.iter().any(|p| p == ns)
            };
            invalid.extend(kinds::other_namespaces(&object.value, own, &allowed));
        }
        for template in pod_security::pod_templates(&object.value) {
            let pod = match PodSpec::deserialize(template.spec) {
                Ok(p) => p,
                Err(e) => {
                    invalid.push(format!("{}: invalid pod spec: {e}", template.path));
                    continue;
                }
            };
            if pod
                .ephemeral_containers
                .as_ref()
                .is_some_and(|e| !e.is_empty())
            {
                invalid.push(format!(
                    "{}.ephemeralContainers: ephemeral containers are not allowed in a pod template or a new pod (kubectl debug adds them to a running pod)",
                    template.path
                ));
            }
            check_pod_template(object, &template.path, &pod, &mut report);
            for finding in pod_security::check_pod(&template, &pod) {
                report(Some(finding.rule), finding.message);
            }
        }
        for msg in invalid {
            problems.push(Error::from(
                Diagnostic::new(format!("{}: {msg}", object.describe()))
                    .at_opt(object.origin.as_ref()),
            ));
        }
    }
    Error::unless(problems, ())
}

/// The security-context, image, resource and probe rules on every container of one pod
/// template (ephemeral containers take no resources or probes).
fn check_pod_template(
    object: &Object,
    path: &str,
    pod: &PodSpec,
    report: &mut impl FnMut(Option<Rule>, String),
) {
    let pod_sc = pod.security_context.as_ref();
    let pod_non_root = pod_sc.and_then(|s| s.run_as_non_root).unwrap_or(false);
    let pod_user = pod_sc.and_then(|s| s.run_as_user);
    let pod_seccomp = pod_sc
        .and_then(|s| s.seccomp_profile.as_ref())
        .map(|p| p.type_.as_str());
    // The main container is the one named after the service in stencil's own Deployment
    // (found by name: a patch may reorder containers).
    let main = match (&object.service, object.kind.as_str(), object.extra, path) {
        (Some(service), "Deployment", false, "spec.template.spec") => Some(service.as_str()),
        _ => None,
    };
    let mut fail = |rule: Option<Rule>, container: &str, msg: String| {
        report(rule, format!("container `{container}`: {msg}"));
    };
    if let Some(main) = main
        && !pod.containers.iter().any(|c| c.name == main)
    {
        fail(
            Some(Rule::StartupProbe),
            main,
            "is missing: a patch may change the main container but not remove or rename it".into(),
        );
    }
    let containers = pod
        .containers
        .iter()
        .chain(pod.init_containers.iter().flatten());
    let pod_context = PodContext {
        non_root: pod_non_root,
        user: pod_user,
        seccomp: pod_seccomp,
    };
    for c in containers {
        check_container(
            c,
            main == Some(c.name.as_str()),
            false,
            &pod_context,
            &mut fail,
        );
    }
    let ephemeral = pod
        .ephemeral_containers
        .iter()
        .flatten()
        .filter_map(pod_security::as_container);
    for c in ephemeral {
        check_container(&c, false, true, &pod_context, &mut fail);
    }
}

/// What a container inherits from its pod's security context.
struct PodContext<'a> {
    non_root: bool,
    user: Option<i64>,
    seccomp: Option<&'a str>,
}

fn check_container(
    c: &Container,
    main: bool,
    ephemeral: bool,
    pod: &PodContext<'_>,
    fail: &mut impl FnMut(Option<Rule>, &str, String),
) {
    let (pod_non_root, pod_user, pod_seccomp) = (pod.non_root, pod.user, pod.seccomp);
    let name = c.name.as_str();
    match c.image.as_deref() {
        None => fail(None, name, "has no image".into()),
        Some(image) => {
            if let Err(msg) = image_tag_ok(image) {
                fail(Some(Rule::MutableImageTag), name, msg);
            }
        }
    }
    let sc = c.security_context.as_ref();
    if sc.and_then(|s| s.allow_privilege_escalation) != Some(false)
        || sc.and_then(|s| s.privileged) == Some(true)
    {
        fail(
            Some(Rule::NoPrivilegeEscalation),
            name,
            "must set allowPrivilegeEscalation: false and not be privileged".into(),
        );
    }
    if sc.and_then(|s| s.read_only_root_filesystem) != Some(true) {
        fail(
            Some(Rule::ReadOnlyRootFilesystem),
            name,
            "must set readOnlyRootFilesystem: true (mount an emptyDir where it writes)".into(),
        );
    }
    let non_root = sc.and_then(|s| s.run_as_non_root).unwrap_or(pod_non_root);
    let user = sc.and_then(|s| s.run_as_user).or(pod_user);
    if !non_root || user == Some(0) {
        fail(
            Some(Rule::RunAsNonRoot),
            name,
            "must run as a non-root user (runAsNonRoot: true, runAsUser != 0)".into(),
        );
    }
    let drops_all = sc
        .and_then(|s| s.capabilities.as_ref())
        .and_then(|c| c.drop.as_ref())
        .is_some_and(|d| d.iter().any(|x| x == "ALL"));
    if !drops_all {
        fail(
            Some(Rule::DropAllCapabilities),
            name,
            "must drop ALL capabilities".into(),
        );
    }
    let adds = sc
        .and_then(|s| s.capabilities.as_ref())
        .and_then(|c| c.add.as_ref())
        .is_some_and(|a| !a.is_empty());
    if adds {
        fail(
            Some(Rule::DropAllCapabilities),
            name,
            "must not add capabilities".into(),
        );
    }
    let seccomp = sc
        .and_then(|s| s.seccomp_profile.as_ref())
        .map(|p| p.type_.as_str())
        .or(pod_seccomp);
    if seccomp != Some("RuntimeDefault") && seccomp != Some("Localhost") {
        fail(
            Some(Rule::SeccompRuntimeDefault),
            name,
            "must use the RuntimeDefault (or Localhost) seccompProfile".into(),
        );
    }
    let resources = c.resources.as_ref();
    let has = |list: Option<
        &std::collections::BTreeMap<
            String,
            k8s_openapi::apimachinery::pkg::api::resource::Quantity,
        >,
    >,
               key: &str| { list.is_some_and(|l| l.contains_key(key)) };
    let requests = resources.and_then(|r| r.requests.as_ref());
    let limits = resources.and_then(|r| r.limits.as_ref());
    if !ephemeral && (!has(requests, "cpu") || !has(requests, "memory") || !has(limits, "memory")) {
        fail(
            Some(Rule::Resources),
            name,
            "must declare resources.requests.cpu, resources.requests.memory and resources.limits.memory".into(),
        );
    }
    if main && c.startup_probe.is_none() {
        fail(
            Some(Rule::StartupProbe),
            name,
            "must have a startup probe".into(),
        );
    }
}

const RBAC: &str = "rbac.authorization.k8s.io";

/// What [`platform_owned`] needs to know besides the object.
struct Ownership<'a> {
    tenant: &'a str,
    service: &'a str,
    exceptions: &'a Exceptions,
    settings: &'a ExtraObjectsSettings,
    own_roles: &'a [&'a str],
}

/// An extra object of a platform-owned kind (see [`kinds::PLATFORM_OWNED`] and
/// `extraObjects.platformKinds`), a RoleBinding granting more than the service's own Roles
/// (or the ClusterRoles the platform lists) to the namespace's service accounts, or stencil's
/// own Canary changed by a patch.
fn platform_owned(object: &Object, ctx: &Ownership<'_>) -> Option<Diagnostic> {
    let group = kinds::group(&object.api_version);
    let owned = kinds::platform_owned(group, &object.kind, ctx.settings);
    let mut hint = "the platform sets these in stencil.yaml (workspace:, canary:); an exception needs a reason under policy.exceptions in stencil.yaml";
    let message = if object.extra && owned {
        format!(
            "{}: a tenant's {} comes from the platform, not from extraObjects",
            object.describe(),
            object.kind
        )
    } else if object.extra && group == RBAC && object.kind == "RoleBinding" {
        let problem = binding_problem(object, ctx.own_roles, &ctx.settings.bindable_cluster_roles)?;
        hint = "bind a Role this service defines in extraObjects, or a ClusterRole the platform lists in extraObjects.bindableClusterRoles, to the namespace's service accounts; people get access through the tenant's groups (tenant.yaml)";
        format!(
            "{}: an extra RoleBinding may bind only a Role to the namespace's service accounts: {problem}",
            object.describe()
        )
    } else if !object.extra && object.origin.is_some() && owned {
        format!(
            "{}: a patch may not change the {} stencil renders",
            object.describe(),
            object.kind
        )
    } else {
        return None;
    };
    if ctx
        .exceptions
        .allows(Rule::PlatformObjects, ctx.tenant, ctx.service)
    {
        return None;
    }
    Some(
        Diagnostic::new(message)
            .at_opt(object.origin.as_ref())
            .rule(Rule::PlatformObjects.name())
            .hint(hint),
    )
}

/// Why a RoleBinding is not one a tenant may add, if it is not: it must bind a Role of the
/// same service, or a ClusterRole in `bindable`, to ServiceAccounts of its own namespace.
fn binding_problem(object: &Object, own_roles: &[&str], bindable: &[String]) -> Option<String> {
    let v = &object.value;
    let text = |ptr: &str| v.pointer(ptr).and_then(|k| k.as_str()).unwrap_or_default();
    let (kind, name) = (text("/roleRef/kind"), text("/roleRef/name"));
    let own_namespace = object.namespace.as_deref();
    let subjects = v.get("subjects").and_then(|s| s.as_array());
    let stranger = subjects.into_iter().flatten().find(|s| {
        s.get("kind").and_then(|k| k.as_str()) != Some("ServiceAccount")
            || s.get("namespace")
                .and_then(|n| n.as_str())
                .is_some_and(|n| Some(n) != own_namespace)
    });
    if let Some(s) = stranger {
        let field = |k: &str| s.get(k).and_then(|x| x.as_str()).unwrap_or("?");
        return Some(format!(
            "subject {} `{}` is not a service account of this namespace; people get access through the tenant's team and groups",
            field("kind"),
            field("name")
        ));
    }
    if text("/roleRef/apiGroup") != RBAC {
        return Some("roleRef.apiGroup must be rbac.authorization.k8s.io".into());
    }
    match kind {
        "Role" if own_roles.contains(&name) => None,
        "Role" => Some(format!(
            "it binds Role `{name}`, which this service's extraObjects do not define"
        )),
        "ClusterRole" if bindable.iter().any(|b| b == name) => None,
        "ClusterRole" => Some(format!(
            "it binds ClusterRole `{name}`, which is not in extraObjects.bindableClusterRoles in stencil.yaml"
        )),
        other => Some(format!(
            "roleRef.kind `{other}` is neither Role nor ClusterRole"
        )),
    }
}

/// Checks that an image reference carries an immutable tag or a digest.
fn image_tag_ok(image: &str) -> Result<(), String> {
    if image.contains("@sha256:") {
        return Ok(());
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((_, tag)) => Tag::parse(tag).map(drop),
        None => Err(format!(
            "image `{image}` has no tag (it would pull `latest`)"
        )),
    }
}
