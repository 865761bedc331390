//! Pod Security Standards on every pod template of the output (and `nodeName`, which
//! bypasses the scheduler). Services, DaemonSets and Pod Security labels are in `exposure.rs`.
//!
//! The controls are those of the upstream standards for Kubernetes v1.33, `baseline` and
//! `restricted`, plus the v1.34 baseline control on probe and lifecycle hosts. The
//! restricted controls stencil already had (`no-privilege-escalation`, `run-as-non-root`,
//! `drop-all-capabilities`, `seccomp-runtime-default`) stay in `objects/containers.rs`; this
//! module adds the others, each a [`Rule`] of its own, so that relaxing a restricted rule
//! (say `drop-all-capabilities`) keeps the baseline one under it (`pss-capabilities`). Each
//! control is one small function, in a table per level (pod, container).
//!
//! Pod templates are found by shape, not by kind: any `spec` holding a `containers` list,
//! wherever it is in the object (Pod, Deployment, CronJob's job template, PodTemplate, or a
//! custom resource such as an Argo Rollout). Allowed values are exact, case-sensitive
//! strings, as Pod Security Admission compares them.

use k8s_openapi::api::core::v1::{
    Container, EphemeralContainer, LifecycleHandler, PodSecurityContext, PodSpec, Probe,
    SELinuxOptions, SecurityContext, WindowsSecurityContextOptions,
};
use serde_json::Value;

use crate::error::Diagnostic;
use crate::model::Rule;
use crate::node::Node;

/// Capabilities a container may add under `baseline` (the container runtime's default set).
const BASELINE_CAPABILITIES: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// Sysctls `baseline` calls safe: namespaced, isolated from other pods (v1.32 and later).
const SAFE_SYSCTLS: [&str; 12] = [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
];

/// SELinux types `baseline` allows (besides none at all).
const SELINUX_TYPES: [&str; 4] = [
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

/// Volume types `restricted` allows (`hostPath` is `pss-host-path`'s).
const VOLUME_TYPES: [&str; 8] = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// Taints that keep workloads off control-plane nodes.
pub(super) const CONTROL_PLANE_TAINTS: [&str; 2] = [
    "node-role.kubernetes.io/control-plane",
    "node-role.kubernetes.io/master",
];

const APPARMOR_ANNOTATION: &str = "container.apparmor.security.beta.kubernetes.io/";
const SECCOMP_POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
const SECCOMP_CONTAINER_ANNOTATION: &str = "container.seccomp.security.alpha.kubernetes.io/";

/// A violation: the rule, and what is wrong (starting with the field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Finding {
    pub rule: Rule,
    pub message: String,
}

/// A pod template found in an object: where its pod spec is (`spec.template.spec`), and the
/// metadata beside it (for annotations).
pub(super) struct PodTemplate<'a> {
    pub path: String,
    pub metadata: Option<&'a Value>,
    pub spec: &'a Value,
}

/// Every pod template in an object, in document order.
pub(super) fn pod_templates(object: &Value) -> Vec<PodTemplate<'_>> {
    let mut out = Vec::new();
    walk(object, &mut String::new(), &mut out);
    out
}

pub(super) fn join(path: &str, key: &str) -> String {
    let mut joined = path.to_owned();
    push_key(&mut joined, key);
    joined
}

/// Extends a field path by one key, in place: `a.b` + `c` is `a.b.c`, `` + `c` is `c`.
pub(super) fn push_key(path: &mut String, key: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(key);
}

/// Extends a field path by one index, in place: `a.b` + `2` is `a.b[2]`.
pub(super) fn push_index(path: &mut String, index: usize) {
    use std::fmt::Write as _;
    // Writing to a String cannot fail.
    let _ = write!(path, "[{index}]");
}

/// Walks the tree with one path buffer, extended and cut back at each step: a path is
/// copied only for a pod template found.
fn walk<'a>(node: &'a Value, path: &mut String, out: &mut Vec<PodTemplate<'a>>) {
    let depth = path.len();
    match node {
        Value::Object(map) => {
            let pod = map
                .get("spec")
                .filter(|s| s.get("containers").is_some_and(Value::is_array));
            if let Some(spec) = pod {
                out.push(PodTemplate {
                    path: join(path, "spec"),
                    metadata: map.get("metadata"),
                    spec,
                });
            }
            for (key, value) in map {
                if (key == "spec" && pod.is_some()) || !is_container(value) {
                    continue;
                }
                push_key(path, key);
                walk(value, path, out);
                path.truncate(depth);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate().filter(|(_, v)| is_container(v)) {
                push_index(path, i);
                walk(item, path, out);
                path.truncate(depth);
            }
        }
        _ => {}
    }
}

/// Whether a value can hold more values (scalars hold no pod template and no labels).
pub(super) fn is_container(value: &Value) -> bool {
    matches!(value, Value::Object(_) | Value::Array(_))
}

/// An ephemeral container as a container (the security-relevant fields are the same).
pub(super) fn as_container(e: &EphemeralContainer) -> Option<Container> {
    serde_json::to_value(e)
        .ok()
        .and_then(|v| serde_json::from_value(v).ok())
}

/// The pod-level controls and the controls other rules do not cover on each container, init
/// container and ephemeral container.
pub(super) fn check_pod(template: &PodTemplate<'_>, pod: &PodSpec) -> Vec<Finding> {
    let mut out = Vec::new();
    let p = template.path.as_str();
    let mut find = |rule: Rule, message: String| out.push(Finding { rule, message });
    host_namespaces(p, pod, &mut find);
    placement(p, pod, &mut find);
    if let Some(sc) = &pod.security_context {
        pod_security_context(&format!("{p}.securityContext"), sc, &mut find);
    }
    check_volumes(p, template.spec, &mut find);
    pod_annotations(template, &mut find);
    containers(pod, &mut find);
    out
}

/// Host Namespaces: hostNetwork, hostPID, hostIPC.
fn host_namespaces(p: &str, pod: &PodSpec, find: &mut impl FnMut(Rule, String)) {
    for (field, set) in [
        ("hostNetwork", pod.host_network),
        ("hostPID", pod.host_pid),
        ("hostIPC", pod.host_ipc),
    ] {
        if set == Some(true) {
            find(
                Rule::PssHostNamespaces,
                format!("{p}.{field}: true shares the node's namespace"),
            );
        }
    }
}

/// Where the pod may run: no nodeName, no system priority, no control-plane tolerations.
fn placement(p: &str, pod: &PodSpec, find: &mut impl FnMut(Rule, String)) {
    if let Some(node) = pod.node_name.as_deref().filter(|n| !n.is_empty()) {
        find(
            Rule::NodePlacement,
            format!("{p}.nodeName: `{node}` pins the pod to a node, bypassing the scheduler"),
        );
    }
    if let Some(class) = pod
        .priority_class_name
        .as_deref()
        .filter(|c| c.starts_with("system-"))
    {
        find(
            Rule::NodePlacement,
            format!(
                "{p}.priorityClassName: `{class}` would preempt other tenants' pods and the node's own"
            ),
        );
    }
    for (i, t) in pod.tolerations.iter().flatten().enumerate() {
        let key = t.key.as_deref().unwrap_or_default();
        if key.is_empty() && t.operator.as_deref() == Some("Exists") {
            find(
                Rule::NodePlacement,
                format!(
                    "{p}.tolerations[{i}]: operator Exists without a key tolerates every taint, so the pod lands on any node"
                ),
            );
        } else if CONTROL_PLANE_TAINTS.contains(&key) {
            find(
                Rule::NodePlacement,
                format!("{p}.tolerations[{i}]: `{key}` lets the pod onto control-plane nodes"),
            );
        }
    }
}

/// A control on a pod's securityContext at `at`: the rule and what is wrong, if anything.
type PodControl = fn(&str, &PodSecurityContext) -> Option<(Rule, String)>;

/// The pod-level securityContext controls, in report order.
const POD_CONTROLS: [PodControl; 7] = [
    pod_host_process,
    pod_apparmor,
    pod_selinux,
    pod_seccomp,
    pod_non_root,
    pod_root_user,
    pod_sysctls,
];

/// The pod-level securityContext: HostProcess, AppArmor, SELinux, seccomp, non-root, sysctls.
fn pod_security_context(at: &str, sc: &PodSecurityContext, find: &mut impl FnMut(Rule, String)) {
    for control in POD_CONTROLS {
        if let Some((rule, msg)) = control(at, sc) {
            find(rule, msg);
        }
    }
}

/// Whether Windows options ask for a HostProcess container.
fn host_process(options: Option<&WindowsSecurityContextOptions>) -> bool {
    options.and_then(|w| w.host_process).unwrap_or(false)
}

/// Whether an AppArmor or seccomp profile type is one `restricted` allows.
fn confined(profile_type: &str) -> bool {
    matches!(profile_type, "RuntimeDefault" | "Localhost")
}

fn pod_host_process(at: &str, sc: &PodSecurityContext) -> Option<(Rule, String)> {
    host_process(sc.windows_options.as_ref()).then(|| {
        (
            Rule::PssHostProcess,
            format!("{at}.windowsOptions.hostProcess: true runs the pod on the Windows node"),
        )
    })
}

fn pod_apparmor(at: &str, sc: &PodSecurityContext) -> Option<(Rule, String)> {
    let t = sc.app_armor_profile.as_ref().map(|a| a.type_.as_str())?;
    (!confined(t)).then(|| {
        (
            Rule::PssApparmor,
            format!("{at}.appArmorProfile.type: `{t}` (only RuntimeDefault or Localhost)"),
        )
    })
}

fn pod_selinux(at: &str, sc: &PodSecurityContext) -> Option<(Rule, String)> {
    let msg = selinux(sc.se_linux_options.as_ref())?;
    Some((Rule::PssSelinux, format!("{at}.seLinuxOptions: {msg}")))
}

fn pod_seccomp(at: &str, sc: &PodSecurityContext) -> Option<(Rule, String)> {
    let t = sc.seccomp_profile.as_ref().map(|s| s.type_.as_str())?;
    (!confined(t)).then(|| {
        (
            Rule::SeccompRuntimeDefault,
            format!("{at}.seccompProfile.type: `{t}` (only RuntimeDefault or Localhost)"),
        )
    })
}

fn pod_non_root(at: &str, sc: &PodSecurityContext) -> Option<(Rule, String)> {
    (sc.run_as_non_root == Some(false)).then(|| {
        (
            Rule::RunAsNonRoot,
            format!("{at}.runAsNonRoot: false (must be true or unset)"),
        )
    })
}

fn pod_root_user(at: &str, sc: &PodSecurityContext) -> Option<(Rule, String)> {
    (sc.run_as_user == Some(0)).then(|| {
        (
            Rule::RunAsNonRoot,
            format!("{at}.runAsUser: 0 runs the pod as root"),
        )
    })
}

fn pod_sysctls(at: &str, sc: &PodSecurityContext) -> Option<(Rule, String)> {
    let unsafe_sysctls: Vec<&str> = sc
        .sysctls
        .iter()
        .flatten()
        .map(|s| s.name.as_str())
        .filter(|n| !SAFE_SYSCTLS.contains(n))
        .collect();
    (!unsafe_sysctls.is_empty()).then(|| {
        (
            Rule::PssSysctls,
            format!(
                "{at}.sysctls: {} not in the safe set",
                unsafe_sysctls.join(", ")
            ),
        )
    })
}

/// AppArmor and seccomp as the (deprecated) pod annotations.
fn pod_annotations(template: &PodTemplate<'_>, find: &mut impl FnMut(Rule, String)) {
    if let Some(annotations) = template.metadata.and_then(|m| m.get("annotations")) {
        for (key, value) in annotations.as_object().into_iter().flatten() {
            if let Some((rule, msg)) = annotation(key, value.as_str().unwrap_or_default()) {
                find(rule, format!("annotation `{key}`: {msg}"));
            }
        }
    }
}

/// Every container, init container and ephemeral container.
fn containers(pod: &PodSpec, find: &mut impl FnMut(Rule, String)) {
    let ephemeral: Vec<Container> = pod
        .ephemeral_containers
        .iter()
        .flatten()
        .filter_map(as_container)
        .collect();
    let containers = pod
        .containers
        .iter()
        .chain(pod.init_containers.iter().flatten())
        .chain(ephemeral.iter());
    for c in containers {
        for Finding { rule, message } in check_container(c) {
            find(rule, format!("container `{}`: {message}", c.name));
        }
    }
}

/// Checks the container-level controls `objects/containers.rs` does not.
fn check_container(c: &Container) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut find = |rule: Rule, message: String| out.push(Finding { rule, message });
    if let Some(sc) = &c.security_context {
        container_security_context(sc, &mut find);
    }
    for (i, port) in c.ports.iter().flatten().enumerate() {
        if let Some(host) = port.host_port.filter(|p| *p != 0) {
            find(
                Rule::PssHostPorts,
                format!("ports[{i}].hostPort: {host} binds a port of the node"),
            );
        }
    }
    host_handlers(c, &mut find);
    out
}

/// A control on a container's securityContext: the rule and what is wrong, if anything.
type ContainerControl = fn(&SecurityContext) -> Option<(Rule, String)>;

/// The container securityContext controls, in report order.
const CONTAINER_CONTROLS: [ContainerControl; 6] = [
    privileged,
    container_host_process,
    capabilities,
    container_apparmor,
    container_selinux,
    proc_mount,
];

/// A container's securityContext: Privileged, HostProcess, Capabilities, AppArmor, SELinux,
/// /proc mount.
fn container_security_context(sc: &SecurityContext, find: &mut impl FnMut(Rule, String)) {
    for control in CONTAINER_CONTROLS {
        if let Some((rule, msg)) = control(sc) {
            find(rule, msg);
        }
    }
}

fn privileged(sc: &SecurityContext) -> Option<(Rule, String)> {
    (sc.privileged == Some(true)).then(|| {
        (
            Rule::PssPrivileged,
            "securityContext.privileged: true gives it every device and capability of the node"
                .into(),
        )
    })
}

fn container_host_process(sc: &SecurityContext) -> Option<(Rule, String)> {
    host_process(sc.windows_options.as_ref()).then(|| {
        (
            Rule::PssHostProcess,
            "securityContext.windowsOptions.hostProcess: true runs it on the Windows node".into(),
        )
    })
}

fn capabilities(sc: &SecurityContext) -> Option<(Rule, String)> {
    let added: Vec<&str> = sc
        .capabilities
        .as_ref()
        .and_then(|c| c.add.as_ref())
        .into_iter()
        .flatten()
        .map(String::as_str)
        .filter(|c| !BASELINE_CAPABILITIES.contains(c))
        .collect();
    (!added.is_empty()).then(|| {
        (
            Rule::PssCapabilities,
            format!(
                "securityContext.capabilities.add: {} beyond the baseline set",
                added.join(", ")
            ),
        )
    })
}

fn container_apparmor(sc: &SecurityContext) -> Option<(Rule, String)> {
    let t = sc.app_armor_profile.as_ref().map(|a| a.type_.as_str())?;
    (!confined(t)).then(|| {
        (
            Rule::PssApparmor,
            format!(
                "securityContext.appArmorProfile.type: `{t}` (only RuntimeDefault or Localhost)"
            ),
        )
    })
}

fn container_selinux(sc: &SecurityContext) -> Option<(Rule, String)> {
    let msg = selinux(sc.se_linux_options.as_ref())?;
    Some((
        Rule::PssSelinux,
        format!("securityContext.seLinuxOptions: {msg}"),
    ))
}

fn proc_mount(sc: &SecurityContext) -> Option<(Rule, String)> {
    let mount = sc.proc_mount.as_deref().filter(|m| *m != "Default")?;
    Some((
        Rule::PssProcMount,
        format!("securityContext.procMount: `{mount}` (only Default)"),
    ))
}

/// Probes and lifecycle hooks with a `host`: the kubelet connects from the node.
fn host_handlers(c: &Container, find: &mut impl FnMut(Rule, String)) {
    let probes = [
        ("livenessProbe", c.liveness_probe.as_ref()),
        ("readinessProbe", c.readiness_probe.as_ref()),
        ("startupProbe", c.startup_probe.as_ref()),
    ];
    for (field, probe) in probes {
        if let Some(host) = probe.and_then(probe_host) {
            find(
                Rule::PssHostProbes,
                format!("{field}: host `{host}`: the kubelet would connect to it from the node"),
            );
        }
    }
    let lifecycle = c.lifecycle.as_ref();
    let hooks = [
        (
            "lifecycle.postStart",
            lifecycle.and_then(|l| l.post_start.as_ref()),
        ),
        (
            "lifecycle.preStop",
            lifecycle.and_then(|l| l.pre_stop.as_ref()),
        ),
    ];
    for (field, hook) in hooks {
        if let Some(host) = hook.and_then(handler_host) {
            find(
                Rule::PssHostProbes,
                format!("{field}: host `{host}`: the kubelet would connect to it from the node"),
            );
        }
    }
}

fn non_empty(host: Option<&String>) -> Option<&str> {
    host.map(String::as_str).filter(|h| !h.is_empty())
}

fn probe_host(p: &Probe) -> Option<&str> {
    non_empty(p.http_get.as_ref().and_then(|h| h.host.as_ref()))
        .or_else(|| non_empty(p.tcp_socket.as_ref().and_then(|t| t.host.as_ref())))
}

fn handler_host(h: &LifecycleHandler) -> Option<&str> {
    non_empty(h.http_get.as_ref().and_then(|h| h.host.as_ref()))
        .or_else(|| non_empty(h.tcp_socket.as_ref().and_then(|t| t.host.as_ref())))
}

/// What is wrong with SELinux options, if anything.
fn selinux(options: Option<&SELinuxOptions>) -> Option<String> {
    let o = options?;
    if let Some(t) = non_empty(o.type_.as_ref())
        && !SELINUX_TYPES.contains(&t)
    {
        return Some(format!(
            "type `{t}` (only {} or none)",
            SELINUX_TYPES.join(", ")
        ));
    }
    for (field, value) in [("user", &o.user), ("role", &o.role)] {
        if let Some(v) = non_empty(value.as_ref()) {
            return Some(format!(
                "{field} `{v}` (a custom SELinux {field} is not allowed)"
            ));
        }
    }
    None
}

/// Volumes, from the JSON (so that a volume type the typed API does not know is seen too).
fn check_volumes(p: &str, spec: &Value, find: &mut impl FnMut(Rule, String)) {
    let volumes = spec.get("volumes").and_then(Value::as_array);
    for (i, volume) in volumes.into_iter().flatten().enumerate() {
        let name = volume.get("name").and_then(Value::as_str).unwrap_or("");
        for (key, value) in volume.as_object().into_iter().flatten() {
            if key == "name" || value.is_null() || VOLUME_TYPES.contains(&key.as_str()) {
                continue;
            }
            if key == "hostPath" {
                find(
                    Rule::PssHostPath,
                    format!("{p}.volumes[{i}] `{name}`: hostPath mounts the node's filesystem"),
                );
            } else {
                find(
                    Rule::PssVolumeTypes,
                    format!(
                        "{p}.volumes[{i}] `{name}`: volume type `{key}` (only {})",
                        VOLUME_TYPES.join(", ")
                    ),
                );
            }
        }
    }
}

/// An AppArmor or (deprecated) seccomp annotation that weakens the pod, if `key` is one.
fn annotation(key: &str, value: &str) -> Option<(Rule, String)> {
    if key.starts_with(APPARMOR_ANNOTATION)
        && value != "runtime/default"
        && !value.starts_with("localhost/")
    {
        return Some((
            Rule::PssApparmor,
            format!("`{value}` (only runtime/default or localhost/<profile>)"),
        ));
    }
    if (key == SECCOMP_POD_ANNOTATION || key.starts_with(SECCOMP_CONTAINER_ANNOTATION))
        && !matches!(value, "runtime/default" | "docker/default")
        && !value.starts_with("localhost/")
    {
        return Some((
            Rule::SeccompRuntimeDefault,
            format!("`{value}` (only runtime/default or localhost/<profile>)"),
        ));
    }
    None
}

/// The Pod Security level the tenant's Namespace enforces: `restricted`, unless the
/// platform relaxed a rule for the tenant (for any of its services) that Pod Security
/// Admission would otherwise refuse at sync; then the loosest level that admits it. `audit`
/// and `warn` stay `restricted`, so what an exception lets through is still reported.
pub(super) fn enforce_level(exceptions: &super::Exceptions, tenant: &str) -> &'static str {
    let relaxed = |rules: &[Rule]| rules.iter().any(|r| exceptions.allows_tenant(*r, tenant));
    if relaxed(&[
        Rule::PssHostProcess,
        Rule::PssHostNamespaces,
        Rule::PssPrivileged,
        Rule::PssCapabilities,
        Rule::PssHostPath,
        Rule::PssHostPorts,
        Rule::PssApparmor,
        Rule::PssSelinux,
        Rule::PssProcMount,
        Rule::PssSysctls,
        Rule::PssHostProbes,
        // Relaxed, it lets `Unconfined` through, which baseline refuses.
        Rule::SeccompRuntimeDefault,
    ]) {
        "privileged"
    } else if relaxed(&[
        Rule::NoPrivilegeEscalation,
        Rule::RunAsNonRoot,
        Rule::DropAllCapabilities,
        Rule::PssVolumeTypes,
    ]) {
        "baseline"
    } else {
        "restricted"
    }
}

/// A tenant's or service's `labels:` (or `podAnnotations:`) entry, checked where it is
/// written: `pod-security.kubernetes.io/*` labels are refused, and so are AppArmor and
/// seccomp annotations that weaken the pod.
pub(super) fn check_input_map(
    tree: &Node,
    field: &str,
    map: Option<&std::collections::BTreeMap<String, String>>,
) -> Vec<(Finding, crate::origin::Origin)> {
    let mut out = Vec::new();
    for (key, value) in map.into_iter().flatten() {
        let at = tree
            .get(field)
            .and_then(|m| m.get(key))
            .or_else(|| tree.get(field))
            .map_or_else(|| tree.origin.clone(), |n| n.origin.clone());
        let finding = if field == "labels" {
            super::exposure::is_pod_security_label(key).then(|| Finding {
                rule: Rule::PodSecurityLabels,
                message: format!(
                    "label `{key}` is the platform's: it sets the namespace's Pod Security level"
                ),
            })
        } else {
            annotation(key, value).map(|(rule, msg)| Finding {
                rule,
                message: format!("pod annotation `{key}`: {msg}"),
            })
        };
        out.extend(finding.map(|f| (f, at)));
    }
    out
}

/// Host access and privilege named anywhere in an object outside the pod templates
/// [`pod_templates`] finds: a custom resource may embed pod fields in a shape of its own
/// (an Argo Workflow's `spec.hostNetwork` and `templates[].container`, a Tekton TaskRun's
/// `podTemplate` and `steps`), and its controller copies them into the pods it makes. Found
/// by field name, whatever the shape; a value other than `false` (or null) counts as set.
pub(super) fn check_embedded(object: &Value) -> Vec<Finding> {
    let mut out = Vec::new();
    scan_embedded(object, &mut String::new(), &mut out);
    out
}

fn scan_embedded(node: &Value, path: &mut String, out: &mut Vec<Finding>) {
    let depth = path.len();
    match node {
        Value::Object(map) => {
            let pod = map
                .get("spec")
                .is_some_and(|s| s.get("containers").is_some_and(Value::is_array));
            for (key, value) in map {
                if pod && key == "spec" {
                    continue;
                }
                push_key(path, key);
                if let Some((rule, why)) = embedded_field(key, value) {
                    out.push(Finding {
                        rule,
                        message: format!("{path}: {why}"),
                    });
                }
                if is_container(value) {
                    scan_embedded(value, path, out);
                }
                path.truncate(depth);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate().filter(|(_, v)| is_container(v)) {
                push_index(path, i);
                scan_embedded(item, path, out);
                path.truncate(depth);
            }
        }
        _ => {}
    }
}

/// The rule a pod field outside a pod template breaks, if any.
fn embedded_field(key: &str, value: &Value) -> Option<(Rule, &'static str)> {
    let set = !matches!(value, Value::Null | Value::Bool(false));
    let found = match key {
        "hostNetwork" | "hostPID" | "hostIPC" => (
            Rule::PssHostNamespaces,
            "shares the node's namespace (a pod field outside a pod template)",
        ),
        "podSpecPatch" => (
            Rule::PssHostNamespaces,
            "a pod spec patch in a string escapes every pod check",
        ),
        "privileged" => (
            Rule::PssPrivileged,
            "a privileged container (a pod field outside a pod template)",
        ),
        "hostProcess" => (
            Rule::PssHostProcess,
            "a Windows HostProcess container (a pod field outside a pod template)",
        ),
        "hostPath" => (
            Rule::PssHostPath,
            "a hostPath volume (a pod field outside a pod template)",
        ),
        "hostPort" if !matches!(value, Value::Number(n) if n.as_i64() == Some(0)) => (
            Rule::PssHostPorts,
            "a host port (a pod field outside a pod template)",
        ),
        "nodeName" if !matches!(value, Value::String(s) if s.is_empty()) => (
            Rule::NodePlacement,
            "nodeName bypasses the scheduler (a pod field outside a pod template)",
        ),
        "allowPrivilegeEscalation" => (
            Rule::NoPrivilegeEscalation,
            "allows privilege escalation (a pod field outside a pod template)",
        ),
        _ => return None,
    };
    set.then_some(found)
}

/// The diagnostic for a `pod-security-labels` violation at `origin`.
pub(super) fn label_diagnostic(finding: &Finding, origin: &crate::origin::Origin) -> Diagnostic {
    Diagnostic::new(finding.message.clone())
        .at(origin)
        .rule(finding.rule.name())
        .hint("the platform labels every tenant Namespace pod-security.kubernetes.io/{enforce,audit,warn}: restricted; no tenant input may set these labels")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize as _;
    use serde_json::json;

    /// The rule ids `check_pod` reports for a Pod with `spec` (and `annotations`).
    fn pod_rules(spec: Value, annotations: Value) -> Vec<&'static str> {
        let pod = json!({ "apiVersion": "v1", "kind": "Pod",
            "metadata": { "name": "p", "annotations": annotations }, "spec": spec });
        let templates = pod_templates(&pod);
        assert_eq!(templates.len(), 1);
        let typed = PodSpec::deserialize(templates[0].spec).expect("pod spec");
        let mut ids: Vec<&str> = check_pod(&templates[0], &typed)
            .iter()
            .map(|f| f.rule.name())
            .collect();
        ids.dedup();
        ids
    }

    fn container(security_context: Value) -> Value {
        json!({ "name": "c", "image": "r/c:1", "securityContext": security_context })
    }

    fn with_container(extra: Value) -> Value {
        let mut c = container(json!({}));
        if let (Some(c), Some(extra)) = (c.as_object_mut(), extra.as_object()) {
            c.extend(extra.clone());
        }
        json!({ "containers": [c] })
    }

    #[test]
    fn a_plain_pod_passes() {
        assert!(pod_rules(with_container(json!({})), Value::Null).is_empty());
    }

    #[test]
    fn each_pod_level_control_has_its_rule() {
        let cases = [
            (json!({ "hostNetwork": true }), "pss-host-namespaces"),
            (json!({ "hostPID": true }), "pss-host-namespaces"),
            (json!({ "hostIPC": true }), "pss-host-namespaces"),
            (json!({ "nodeName": "n1" }), "node-placement"),
            (
                json!({ "priorityClassName": "system-node-critical" }),
                "node-placement",
            ),
            (
                json!({ "tolerations": [{ "operator": "Exists" }] }),
                "node-placement",
            ),
            (
                json!({ "tolerations": [{ "key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule" }] }),
                "node-placement",
            ),
            (
                json!({ "securityContext": { "windowsOptions": { "hostProcess": true } } }),
                "pss-host-process",
            ),
            (
                json!({ "securityContext": { "appArmorProfile": { "type": "Unconfined" } } }),
                "pss-apparmor",
            ),
            (
                json!({ "securityContext": { "seLinuxOptions": { "type": "spc_t" } } }),
                "pss-selinux",
            ),
            (
                json!({ "securityContext": { "seccompProfile": { "type": "Unconfined" } } }),
                "seccomp-runtime-default",
            ),
            (
                json!({ "securityContext": { "runAsUser": 0 } }),
                "run-as-non-root",
            ),
            (
                json!({ "securityContext": { "runAsNonRoot": false } }),
                "run-as-non-root",
            ),
            (
                json!({ "securityContext": { "sysctls": [{ "name": "vm.swappiness", "value": "1" }] } }),
                "pss-sysctls",
            ),
            (
                json!({ "volumes": [{ "name": "h", "hostPath": { "path": "/" } }] }),
                "pss-host-path",
            ),
            (
                json!({ "volumes": [{ "name": "n", "nfs": { "server": "s", "path": "/" } }] }),
                "pss-volume-types",
            ),
            (
                json!({ "volumes": [{ "name": "i", "image": { "reference": "r/x:1" } }] }),
                "pss-volume-types",
            ),
        ];
        for (extra, rule) in cases {
            let mut spec = with_container(json!({}));
            if let (Some(s), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
                s.extend(extra.clone());
            }
            assert_eq!(pod_rules(spec, Value::Null), vec![rule], "{extra}");
        }
    }

    #[test]
    fn each_container_control_has_its_rule() {
        let cases = [
            (
                json!({ "securityContext": { "privileged": true } }),
                "pss-privileged",
            ),
            (
                json!({ "securityContext": { "windowsOptions": { "hostProcess": true } } }),
                "pss-host-process",
            ),
            (
                json!({ "securityContext": { "capabilities": { "add": ["SYS_ADMIN"] } } }),
                "pss-capabilities",
            ),
            (
                json!({ "securityContext": { "capabilities": { "add": ["CAP_CHOWN"] } } }),
                "pss-capabilities",
            ),
            (
                json!({ "securityContext": { "appArmorProfile": { "type": "Unconfined" } } }),
                "pss-apparmor",
            ),
            (
                json!({ "securityContext": { "seLinuxOptions": { "role": "r" } } }),
                "pss-selinux",
            ),
            (
                json!({ "securityContext": { "procMount": "Unmasked" } }),
                "pss-proc-mount",
            ),
            (
                json!({ "ports": [{ "containerPort": 80, "hostPort": 80 }] }),
                "pss-host-ports",
            ),
            (
                json!({ "readinessProbe": { "httpGet": { "port": 80, "host": "10.0.0.1" } } }),
                "pss-host-probes",
            ),
            (
                json!({ "lifecycle": { "postStart": { "tcpSocket": { "port": 80, "host": "node" } } } }),
                "pss-host-probes",
            ),
        ];
        for (extra, rule) in cases {
            assert_eq!(
                pod_rules(with_container(extra.clone()), Value::Null),
                vec![rule],
                "{extra}"
            );
            // The same on an init container and on an ephemeral container.
            for list in ["initContainers", "ephemeralContainers"] {
                let mut spec = with_container(json!({}));
                let helper = with_container(extra.clone())["containers"][0].clone();
                spec[list] = json!([helper]);
                assert_eq!(pod_rules(spec, Value::Null), vec![rule], "{list} {extra}");
            }
        }
    }

    #[test]
    fn allowed_values_pass() {
        let spec = json!({
            "securityContext": {
                "seLinuxOptions": { "type": "container_init_t", "level": "s0:c1" },
                "seccompProfile": { "type": "Localhost", "localhostProfile": "p.json" },
                "appArmorProfile": { "type": "Localhost", "localhostProfile": "p" },
                "sysctls": [{ "name": "net.ipv4.tcp_wmem", "value": "4096 87380 16777216" }],
                "windowsOptions": { "hostProcess": false }
            },
            "hostNetwork": false,
            "priorityClassName": "tenant-high",
            "tolerations": [{ "key": "karpenter.sh/capacity-type", "operator": "Equal", "value": "spot", "effect": "NoSchedule" }],
            "volumes": [{ "name": "t", "emptyDir": {} }, { "name": "e", "ephemeral": {} }],
            "containers": [{
                "name": "c", "image": "r/c:1",
                "ports": [{ "containerPort": 80, "hostPort": 0 }],
                "securityContext": { "capabilities": { "add": ["NET_BIND_SERVICE"] }, "procMount": "Default", "privileged": false },
                "livenessProbe": { "httpGet": { "port": 80, "host": "" } }
            }]
        });
        let annotations = json!({
            "container.apparmor.security.beta.kubernetes.io/c": "runtime/default",
            "seccomp.security.alpha.kubernetes.io/pod": "runtime/default"
        });
        assert!(pod_rules(spec, annotations).is_empty());
    }

    #[test]
    fn weakening_annotations_are_found() {
        let spec = with_container(json!({}));
        assert_eq!(
            pod_rules(
                spec.clone(),
                json!({ "container.apparmor.security.beta.kubernetes.io/c": "unconfined" })
            ),
            vec!["pss-apparmor"]
        );
        assert_eq!(
            pod_rules(
                spec,
                json!({ "container.seccomp.security.alpha.kubernetes.io/c": "unconfined" })
            ),
            vec!["seccomp-runtime-default"]
        );
    }

    #[test]
    fn input_maps_point_at_the_entry_that_set_the_value() {
        let text = "labels:\n  team: a\n  pod-security.kubernetes.io/enforce: privileged\npodAnnotations:\n  container.apparmor.security.beta.kubernetes.io/api: unconfined\n  seccomp.security.alpha.kubernetes.io/pod: unconfined\n  prometheus.io/scrape: \"true\"\n";
        let tree = crate::policy::infra::fixtures::node("tenants/acme/api/values.yaml", text);
        let map = |field: &str| -> std::collections::BTreeMap<String, String> {
            let entries = tree.get(field).map(Node::to_json).unwrap_or_default();
            serde_json::from_value(entries).expect("a string map")
        };
        let found = |field: &str| -> Vec<(&'static str, String, String)> {
            check_input_map(&tree, field, Some(&map(field)))
                .into_iter()
                .map(|(f, at)| (f.rule.name(), at.to_string(), f.message))
                .collect()
        };
        let at = |line: u32| format!("tenants/acme/api/values.yaml:{line}:3");
        assert_eq!(
            found("labels"),
            [(
                "pod-security-labels",
                at(3),
                "label `pod-security.kubernetes.io/enforce` is the platform's: it sets the namespace's Pod Security level".to_owned()
            )]
        );
        assert_eq!(
            found("podAnnotations"),
            [
                (
                    "pss-apparmor",
                    at(5),
                    "pod annotation `container.apparmor.security.beta.kubernetes.io/api`: `unconfined` (only runtime/default or localhost/<profile>)".to_owned()
                ),
                (
                    "seccomp-runtime-default",
                    at(6),
                    "pod annotation `seccomp.security.alpha.kubernetes.io/pod`: `unconfined` (only runtime/default or localhost/<profile>)".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn pod_templates_are_found_by_shape() {
        let paths =
            |v: Value| -> Vec<String> { pod_templates(&v).into_iter().map(|t| t.path).collect() };
        let c = json!({ "containers": [] });
        assert_eq!(
            paths(json!({ "spec": { "jobTemplate": { "spec": { "template": { "spec": c } } } } })),
            ["spec.jobTemplate.spec.template.spec"]
        );
        assert_eq!(
            paths(json!({ "template": { "spec": c } })),
            ["template.spec"]
        );
        assert_eq!(
            paths(
                json!({ "spec": { "workers": [{ "template": { "spec": c } }, { "template": { "spec": c } }] } })
            ),
            [
                "spec.workers[0].template.spec",
                "spec.workers[1].template.spec"
            ]
        );
        // A list called `containers` that is not under `spec` (chart values, say) is not a pod.
        assert!(paths(json!({ "spec": { "values": { "containers": [] } } })).is_empty());
    }
}
