//! The restricted container rules stencil enforces on every container of every pod
//! template (sidecars, init and ephemeral containers, extra objects' pods): an image with
//! an immutable tag, no privilege escalation, a read-only root filesystem, a non-root user,
//! all capabilities dropped, a RuntimeDefault (or Localhost) seccomp profile, resources, and
//! a startup probe on the main container. The baseline controls beside them are in
//! `pod_security.rs`.
//!
//! Each rule is one function over a [`Subject`] (the container and what it inherits from
//! its pod) in [`CONTAINER_RULES`]; a container inherits `runAsNonRoot`, `runAsUser` and the
//! seccomp profile from the pod's securityContext. Ephemeral containers take no resources;
//! only stencil's own main container (of its Deployment or StatefulSet) needs a startup
//! probe, when it has a port.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, PodSpec, SecurityContext};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::super::pod_security;
use crate::model::Rule;
use crate::names::Tag;
use crate::object::Object;

/// What a container inherits from its pod's security context.
struct PodContext<'a> {
    non_root: bool,
    user: Option<i64>,
    seccomp: Option<&'a str>,
}

impl<'a> PodContext<'a> {
    fn of(pod: &'a PodSpec) -> PodContext<'a> {
        let sc = pod.security_context.as_ref();
        PodContext {
            non_root: sc.and_then(|s| s.run_as_non_root).unwrap_or(false),
            user: sc.and_then(|s| s.run_as_user),
            seccomp: sc
                .and_then(|s| s.seccomp_profile.as_ref())
                .map(|p| p.type_.as_str()),
        }
    }
}

/// One container, as the rules see it.
struct Subject<'a> {
    container: &'a Container,
    /// stencil's own main container (it needs a startup probe).
    main: bool,
    /// An ephemeral container (it takes no resources).
    ephemeral: bool,
    pod: &'a PodContext<'a>,
}

impl Subject<'_> {
    fn security_context(&self) -> Option<&SecurityContext> {
        self.container.security_context.as_ref()
    }
}

/// A violation: the rule (`None`: no image at all) and what is wrong.
type Violation = (Option<Rule>, String);

/// One restricted control over one container.
type ContainerRule = fn(&Subject<'_>) -> Option<Violation>;

/// The rules on every container, in report order.
const CONTAINER_RULES: [ContainerRule; 9] = [
    image,
    privilege_escalation,
    read_only_root_filesystem,
    run_as_non_root,
    drop_all_capabilities,
    no_added_capabilities,
    seccomp,
    resources,
    startup_probe,
];

/// The rules on every container of one pod template at `path`; `report` gets each
/// violation as `container `<name>`: <what>`.
pub(super) fn check_pod_template(
    object: &Object,
    path: &str,
    pod: &PodSpec,
    report: &mut dyn FnMut(Option<Rule>, String),
) {
    let main = main_container(object, path);
    if let Some(main) = main
        && !pod.containers.iter().any(|c| c.name == main)
    {
        report(
            Some(Rule::StartupProbe),
            format!(
                "container `{main}`: is missing: a patch may change the main container but not remove or rename it"
            ),
        );
    }
    let context = PodContext::of(pod);
    let regular = pod
        .containers
        .iter()
        .chain(pod.init_containers.iter().flatten());
    for c in regular {
        check_container(c, main == Some(c.name.as_str()), false, &context, report);
    }
    let ephemeral = pod
        .ephemeral_containers
        .iter()
        .flatten()
        .filter_map(pod_security::as_container);
    for c in ephemeral {
        check_container(&c, false, true, &context, report);
    }
}

/// The main container is the one named after the service in stencil's own Deployment
/// (found by name: a patch may reorder containers).
fn main_container<'o>(object: &'o Object, path: &str) -> Option<&'o str> {
    match (&object.service, object.kind.as_str(), object.extra, path) {
        (Some(service), "Deployment" | "StatefulSet", false, "spec.template.spec") => {
            Some(service.as_str())
        }
        _ => None,
    }
}

fn check_container(
    container: &Container,
    main: bool,
    ephemeral: bool,
    pod: &PodContext<'_>,
    report: &mut dyn FnMut(Option<Rule>, String),
) {
    let subject = Subject {
        container,
        main,
        ephemeral,
        pod,
    };
    for rule in CONTAINER_RULES {
        if let Some((rule, msg)) = rule(&subject) {
            report(rule, format!("container `{}`: {msg}", container.name));
        }
    }
}

/// `mutable-image-tag`: an image with an immutable tag or a digest.
fn image(s: &Subject<'_>) -> Option<Violation> {
    match s.container.image.as_deref() {
        None => Some((None, "has no image".into())),
        Some(image) => image_tag_ok(image)
            .err()
            .map(|msg| (Some(Rule::MutableImageTag), msg)),
    }
}

/// `no-privilege-escalation`: `allowPrivilegeEscalation: false`, not privileged.
fn privilege_escalation(s: &Subject<'_>) -> Option<Violation> {
    let sc = s.security_context();
    let escalates = sc.and_then(|s| s.allow_privilege_escalation) != Some(false)
        || sc.and_then(|s| s.privileged) == Some(true);
    escalates.then(|| {
        (
            Some(Rule::NoPrivilegeEscalation),
            "must set allowPrivilegeEscalation: false and not be privileged".into(),
        )
    })
}

/// `read-only-root-filesystem`.
fn read_only_root_filesystem(s: &Subject<'_>) -> Option<Violation> {
    let read_only = s
        .security_context()
        .and_then(|s| s.read_only_root_filesystem);
    (read_only != Some(true)).then(|| {
        (
            Some(Rule::ReadOnlyRootFilesystem),
            "must set readOnlyRootFilesystem: true (mount an emptyDir where it writes)".into(),
        )
    })
}

/// `run-as-non-root`: `runAsNonRoot: true` and no uid 0, on the container or its pod.
fn run_as_non_root(s: &Subject<'_>) -> Option<Violation> {
    let sc = s.security_context();
    let non_root = sc.and_then(|c| c.run_as_non_root).unwrap_or(s.pod.non_root);
    let user = sc.and_then(|c| c.run_as_user).or(s.pod.user);
    (!non_root || user == Some(0)).then(|| {
        (
            Some(Rule::RunAsNonRoot),
            "must run as a non-root user (runAsNonRoot: true, runAsUser != 0)".into(),
        )
    })
}

/// `drop-all-capabilities`: `capabilities.drop` holds `ALL`.
fn drop_all_capabilities(s: &Subject<'_>) -> Option<Violation> {
    let drops_all = s
        .security_context()
        .and_then(|s| s.capabilities.as_ref())
        .and_then(|c| c.drop.as_ref())
        .is_some_and(|d| d.iter().any(|x| x == "ALL"));
    (!drops_all).then(|| {
        (
            Some(Rule::DropAllCapabilities),
            "must drop ALL capabilities".into(),
        )
    })
}

/// `drop-all-capabilities`: `capabilities.add` is empty.
fn no_added_capabilities(s: &Subject<'_>) -> Option<Violation> {
    let adds = s
        .security_context()
        .and_then(|s| s.capabilities.as_ref())
        .and_then(|c| c.add.as_ref())
        .is_some_and(|a| !a.is_empty());
    adds.then(|| {
        (
            Some(Rule::DropAllCapabilities),
            "must not add capabilities".into(),
        )
    })
}

/// `seccomp-runtime-default`: RuntimeDefault or Localhost, on the container or its pod.
fn seccomp(s: &Subject<'_>) -> Option<Violation> {
    let profile = s
        .security_context()
        .and_then(|s| s.seccomp_profile.as_ref())
        .map(|p| p.type_.as_str())
        .or(s.pod.seccomp);
    (!matches!(profile, Some("RuntimeDefault" | "Localhost"))).then(|| {
        (
            Some(Rule::SeccompRuntimeDefault),
            "must use the RuntimeDefault (or Localhost) seccompProfile".into(),
        )
    })
}

/// `resources`: CPU and memory requests and a memory limit (not on ephemeral containers).
fn resources(s: &Subject<'_>) -> Option<Violation> {
    let has = |list: Option<&BTreeMap<String, Quantity>>, key: &str| {
        list.is_some_and(|l| l.contains_key(key))
    };
    let resources = s.container.resources.as_ref();
    let requests = resources.and_then(|r| r.requests.as_ref());
    let limits = resources.and_then(|r| r.limits.as_ref());
    let complete = has(requests, "cpu") && has(requests, "memory") && has(limits, "memory");
    (!s.ephemeral && !complete).then(|| {
        (
            Some(Rule::Resources),
            "must declare resources.requests.cpu, resources.requests.memory and resources.limits.memory".into(),
        )
    })
}

/// `startup-probe`: the main container has one.
/// The main container of a long-running workload, when it has a port (a worker without
/// one has nothing to probe).
fn startup_probe(s: &Subject<'_>) -> Option<Violation> {
    let has_port = s.container.ports.as_ref().is_some_and(|p| !p.is_empty());
    (s.main && has_port && s.container.startup_probe.is_none())
        .then(|| (Some(Rule::StartupProbe), "must have a startup probe".into()))
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
