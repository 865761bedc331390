//! Checks of single fields of a resolved service definition, each with the location of the
//! value at fault.

use super::origin_of;
use crate::error::Diagnostic;
use crate::node::Node;

/// Resources are required: CPU and memory requests and a memory limit (guardrail
/// `resources`). Checked here for a located error; checked again on the built objects.
pub(super) fn check_resources(
    tree: &Node,
    resources: Option<&crate::model::ResourcesSpec>,
    container: &str,
    problem: &mut impl FnMut(Diagnostic),
) {
    let requests = resources.and_then(|r| r.requests.as_ref());
    let limits = resources.and_then(|r| r.limits.as_ref());
    let mut missing = Vec::new();
    if requests.and_then(|r| r.cpu.as_ref()).is_none() {
        missing.push("resources.requests.cpu");
    }
    if requests.and_then(|r| r.memory.as_ref()).is_none() {
        missing.push("resources.requests.memory");
    }
    if limits.and_then(|r| r.memory.as_ref()).is_none() {
        missing.push("resources.limits.memory");
    }
    if !missing.is_empty() {
        problem(
            Diagnostic::new(format!("container `{container}` must declare {}", missing.join(", ")))
                .at(&origin_of(tree, &["resources"]))
                .rule(crate::model::Rule::Resources.name())
                .hint("the scheduler and the autoscaler need them; an exception needs a reason under policy.exceptions in stencil.yaml"),
        );
    }
}

pub(super) fn check_probes(
    tree: &Node,
    path: &[&str],
    probes: Option<&crate::model::ProbesSpec>,
    problem: &mut impl FnMut(Diagnostic),
) {
    let Some(probes) = probes else { return };
    for (name, probe) in [
        ("startup", &probes.startup),
        ("liveness", &probes.liveness),
        ("readiness", &probes.readiness),
    ] {
        if probe.as_ref().and_then(|p| p.port) == Some(0) {
            let mut key = path.to_vec();
            key.extend([name, "port"]);
            problem(Diagnostic::new("probe port 0 is not a valid port").at(&origin_of(tree, &key)));
        }
        if let Some(p) = probe.as_ref().and_then(|p| p.path.as_deref())
            && !p.starts_with('/')
        {
            let mut key = path.to_vec();
            key.extend([name, "path"]);
            problem(
                Diagnostic::new(format!("probe path `{p}` must start with `/`"))
                    .at(&origin_of(tree, &key)),
            );
        }
    }
}

/// Quantities of a container's resources must parse (`250m`, `512Mi`).
pub(super) fn check_quantities(
    tree: &Node,
    resources: Option<&crate::model::ResourcesSpec>,
    problem: &mut impl FnMut(Diagnostic),
) {
    let Some(resources) = resources else { return };
    for (section, list) in [
        ("requests", &resources.requests),
        ("limits", &resources.limits),
    ] {
        let Some(list) = list else { continue };
        for (key, value) in [
            ("cpu", &list.cpu),
            ("memory", &list.memory),
            ("ephemeral-storage", &list.ephemeral_storage),
        ] {
            if let Some(value) = value
                && let Err(msg) = crate::names::check_quantity(value)
            {
                problem(Diagnostic::new(msg).at(&origin_of(tree, &["resources", section, key])));
            }
        }
    }
}

/// Label and annotation keys (and label values) must be valid Kubernetes names.
pub(super) fn check_metadata_map(
    tree: &Node,
    path: &[&str],
    map: Option<&std::collections::BTreeMap<String, String>>,
    labels: bool,
    problem: &mut impl FnMut(Diagnostic),
) {
    for (key, value) in map.into_iter().flatten() {
        let mut at = path.to_vec();
        at.push(key);
        if let Err(msg) = crate::names::check_qualified_name(key) {
            problem(Diagnostic::new(msg).at(&origin_of(tree, &at)));
        } else if labels && let Err(msg) = crate::names::check_label_value(key, value) {
            problem(Diagnostic::new(msg).at(&origin_of(tree, &at)));
        }
    }
}

/// `maxSurge`/`maxUnavailable`/`minAvailable`: a non-negative integer or a percentage.
pub(super) fn check_int_or_percent(
    tree: &Node,
    path: &[&str],
    value: Option<&crate::model::IntOrString>,
    problem: &mut impl FnMut(Diagnostic),
) {
    use crate::model::IntOrString;
    let ok = match value {
        None => true,
        Some(IntOrString::Int(i)) => *i >= 0,
        Some(IntOrString::String(s)) => {
            s.parse::<u32>().is_ok()
                || s.strip_suffix('%')
                    .is_some_and(|p| p.parse::<u32>().is_ok_and(|p| p <= 100))
        }
    };
    if !ok {
        problem(
            Diagnostic::new(format!(
                "`{}` must be a non-negative integer or a percentage such as `25%`",
                path.join(".")
            ))
            .at(&origin_of(tree, path)),
        );
    }
}
