//! `patches:`: RFC 6902 JSON patches and RFC 7386 merge patches on rendered objects, each
//! aimed at objects by kind (and optionally name). A patch that matches nothing is an error
//! (a typo must not pass silently), and every patched object is validated again against its
//! Kubernetes type. A patch changes what is in an object, never which object it is: its
//! apiVersion, kind, name and namespace stay, and it gains no `items` (readers would take it
//! for a List).
//!
//! Patches are bounded: a service's `patches:` hold at most `budgets.patchOps` JSON patch
//! operations, and the object is measured after every operation, so a chain of `copy` ops
//! that doubles it stops at `budgets.objectBytes` (holding at most twice that), not after
//! growing to gigabytes. A patch may not add, change or remove stencil's and Argo CD's own
//! labels and annotations (see [`platform_owned`]).

use crate::object::Pointer as _;
use std::collections::BTreeMap;

use crate::budget::{self, Kind};
use crate::error::{Diagnostic, Error, Result};
use crate::model::{Budgets, PatchSpec, PatchType, Rule};
use crate::names::is_platform_owned;
use crate::origin::Origin;

use super::Object;

pub(super) fn apply(
    objects: &mut [Object],
    patches: &[(PatchSpec, Origin)],
    namespace: &str,
    budgets: &Budgets,
) -> Result<()> {
    // Counted up front: nothing is applied from a list over its budget.
    let mut ops = 0u64;
    for (patch, origin) in patches {
        if patch.patch_type == PatchType::Json {
            ops += patch.patch.as_array().map_or(0, |a| a.len() as u64);
            if ops > budgets.patch_ops {
                return Err(budget::exceeded(
                    "the JSON patches of this tenant x service",
                    ops,
                    Kind::PatchOps,
                    budgets.patch_ops,
                )
                .at(origin)
                .into());
            }
        }
    }
    let mut problems = Vec::new();
    for (patch, origin) in patches {
        if let Err(e) = apply_one(objects, patch, origin, namespace, budgets) {
            problems.push(e);
        }
    }
    Error::unless(problems, ())
}

fn apply_one(
    objects: &mut [Object],
    patch: &PatchSpec,
    origin: &Origin,
    namespace: &str,
    budgets: &Budgets,
) -> Result<()> {
    let target = &patch.target;
    let matches =
        |o: &Object| o.kind == target.kind && target.name.as_ref().is_none_or(|n| *n == o.name);
    if !objects.iter().any(matches) {
        return Err(no_target(objects, patch, origin).into());
    }
    let ops = json_ops(patch, origin)?;
    for object in objects.iter_mut().filter(|o| matches(o)) {
        let before = Identity::of(object);
        let owned = platform_owned(&object.value);
        match &ops {
            Some(ops) => apply_json(object, ops, origin, budgets.object_bytes)?,
            None => apply_merge(object, &patch.patch, origin, budgets.object_bytes)?,
        }
        let now = platform_owned(&object.value);
        if now != owned {
            return Err(owned_changed(object, &owned, &now).at(origin).into());
        }
        let patched = Object::from_value(
            std::mem::take(&mut object.value),
            &object.tenant,
            object.service.as_deref(),
            Some(origin.clone()),
            object.extra,
        )?;
        check_patched(&patched, &before, namespace, origin)?;
        *object = patched;
    }
    Ok(())
}

/// A patch whose target this service does not render, listing what it does render.
fn no_target(objects: &[Object], patch: &PatchSpec, origin: &Origin) -> Diagnostic {
    let available: Vec<String> = objects
        .iter()
        .map(|o| format!("{} {}", o.kind, o.name))
        .collect();
    Diagnostic::new(format!(
        "patch targets {} {}, which this service does not render",
        patch.target.kind,
        patch.target.name.as_deref().unwrap_or("(any name)")
    ))
    .at(origin)
    .hint(format!("objects of this service: {}", available.join(", ")))
}

/// A JSON patch's operations, read once for every object it applies to; `None` for a merge
/// patch.
fn json_ops(patch: &PatchSpec, origin: &Origin) -> Result<Option<json_patch::Patch>> {
    match patch.patch_type {
        PatchType::Json => Ok(Some(serde_json::from_value(patch.patch.clone()).map_err(|e| {
            Diagnostic::new(format!("invalid JSON patch: {e}"))
                .at(origin)
                .hint("a JSON patch is a list of operations such as `{ op: add, path: /spec/template/spec/nodeSelector, value: {...} }`")
        })?)),
        PatchType::Merge => Ok(None),
    }
}

/// Applies a merge patch, then measures the object.
fn apply_merge(
    object: &mut Object,
    body: &serde_json::Value,
    origin: &Origin,
    limit: u64,
) -> Result<()> {
    json_patch::merge(&mut object.value, body);
    let size = budget::json_size(&object.value);
    if size > limit {
        return Err(budget::exceeded(
            &format!("after this merge patch, {}", object.describe()),
            size,
            Kind::Object,
            limit,
        )
        .at(origin)
        .into());
    }
    Ok(())
}

/// What a patch may not change about an object: which object it is.
struct Identity {
    kind: String,
    api_version: String,
    name: String,
}

impl Identity {
    fn of(object: &Object) -> Identity {
        Identity {
            kind: object.kind.clone(),
            api_version: object.api_version.clone(),
            name: object.name.clone(),
        }
    }
}

/// A patched object is the same object, still in the tenant's namespace, no List, and valid
/// for its Kubernetes type.
fn check_patched(
    patched: &Object,
    before: &Identity,
    namespace: &str,
    origin: &Origin,
) -> Result<()> {
    check_identity(patched, before, origin)?;
    check_namespace(patched, &before.name, namespace, origin)?;
    if patched.value.get("items").is_some() {
        return Err(Diagnostic::new(format!(
            "a patch may not add `items` to {}: kubectl and Argo CD read any object with `items` as a List",
            patched.describe()
        ))
        .at(origin)
        .into());
    }
    super::extra::validate_typed(&patched.value, &patched.api_version, &patched.kind).map_err(
        |msg| {
            Diagnostic::new(format!(
                "after patching, {} is invalid: {msg}",
                patched.describe()
            ))
            .at(origin)
            .hint("check the field names and types against the Kubernetes API reference")
        },
    )?;
    Ok(())
}

/// apiVersion, kind and name stay (the name a valid object name: it also names the file
/// with --out-dir).
fn check_identity(patched: &Object, before: &Identity, origin: &Origin) -> Result<()> {
    let Identity {
        kind,
        api_version,
        name,
    } = before;
    if patched.kind != *kind || patched.api_version != *api_version {
        return Err(Diagnostic::new(format!(
            "a patch may not change apiVersion or kind ({api_version} {kind})"
        ))
        .at(origin)
        .into());
    }
    super::extra::check_subdomain(&patched.name)
        .map_err(|msg| Diagnostic::new(format!("after patching, {msg}")).at(origin))?;
    if patched.name != *name {
        return Err(Diagnostic::new(format!(
            "a patch may not change metadata.name ({kind} {name} became `{}`)",
            patched.name
        ))
        .at(origin)
        .hint("other objects refer to this one by name; render a new object with extraObjects instead")
        .into());
    }
    Ok(())
}

/// A patch may change an object but not where it lands: the tenant's namespace.
fn check_namespace(patched: &Object, name: &str, namespace: &str, origin: &Origin) -> Result<()> {
    if patched.namespace.as_deref() == Some(namespace) {
        return Ok(());
    }
    let moved_to = patched
        .namespace
        .as_deref()
        .map_or_else(|| "no namespace".to_owned(), crate::policy::kinds::shown);
    Err(Diagnostic::new(format!(
        "a patch moved {} {moved_to}/{name} out of the tenant's namespace `{namespace}`",
        patched.kind
    ))
    .at(origin)
    .hint("patches cannot change metadata.namespace")
    .into())
}

/// Applies JSON patch operations one at a time, measuring the object as it grows: the
/// object never holds more than twice `limit` (its size before an op plus what the op adds).
fn apply_json(
    object: &mut Object,
    ops: &json_patch::Patch,
    origin: &Origin,
    limit: u64,
) -> Result<()> {
    use json_patch::PatchOperation as Op;
    // An upper bound of the object's size, exact after each measurement.
    let mut size = budget::json_size(&object.value);
    for (i, op) in ops.0.iter().enumerate() {
        let added = match op {
            Op::Add(a) => budget::json_size(&a.value) + a.path.as_str().len() as u64,
            Op::Replace(r) => budget::json_size(&r.value),
            Op::Copy(c) => {
                object
                    .value
                    .at(c.from.as_str())
                    .map_or(0, budget::json_size)
                    + c.path.as_str().len() as u64
            }
            Op::Move(m) => m.path.as_str().len() as u64,
            Op::Remove(_) | Op::Test(_) => 0,
        };
        json_patch::patch(&mut object.value, std::slice::from_ref(op)).map_err(|e| {
            Diagnostic::new(format!(
                "JSON patch on {} failed: operation {i} ({}): {}",
                object.describe(),
                op_name(op),
                e.kind
            ))
            .at(origin)
            .hint("paths are JSON pointers into the rendered object; render without the patch to see it")
        })?;
        size = size.saturating_add(added);
        if size > limit {
            size = budget::json_size(&object.value);
            if size > limit {
                return Err(budget::exceeded(
                    &format!(
                        "after operation {i} ({}) of this patch, {}",
                        op_name(op),
                        object.describe()
                    ),
                    size,
                    Kind::Object,
                    limit,
                )
                .at(origin)
                .into());
            }
        }
    }
    Ok(())
}

fn op_name(op: &json_patch::PatchOperation) -> String {
    use json_patch::PatchOperation as Op;
    let (name, path) = match op {
        Op::Add(a) => ("add", a.path.as_str()),
        Op::Remove(r) => ("remove", r.path.as_str()),
        Op::Replace(r) => ("replace", r.path.as_str()),
        Op::Move(m) => ("move", m.path.as_str()),
        Op::Copy(c) => ("copy", c.path.as_str()),
        Op::Test(t) => ("test", t.path.as_str()),
    };
    format!("`{name}` at {}", crate::error::clip(path, 120))
}

/// Where an object (and its pod template) carries labels and annotations.
pub(super) const METADATA: [&str; 3] = [
    "/metadata",
    "/spec/template/metadata",
    "/spec/jobTemplate/spec/template/metadata",
];

/// The platform-owned labels and annotations of an object, by place and key; and what
/// else stencil owns in it: the selectors of its Services and workloads (a patched selector
/// could send a Service's traffic to job pods or another service), and the owner labels of
/// its alerts (`stencil_dev_tenant`, `stencil_dev_service`: alert routing finds the team
/// by them).
fn platform_owned(value: &serde_json::Value) -> BTreeMap<String, serde_json::Value> {
    let mut out = BTreeMap::new();
    for pointer in ["/spec/selector"] {
        if let Some(selector) = value.at(pointer) {
            out.insert("spec.selector".to_owned(), selector.clone());
        }
    }
    let rules = value
        .at("/spec/groups")
        .and_then(|g| g.as_array())
        .into_iter()
        .flatten()
        .enumerate()
        .flat_map(|(g, group)| {
            group
                .get("rules")
                .and_then(|r| r.as_array())
                .into_iter()
                .flatten()
                .enumerate()
                .map(move |(r, rule)| (g, r, rule))
        });
    for (g, r, rule) in rules {
        for (key, v) in rule
            .get("labels")
            .and_then(|l| l.as_object())
            .into_iter()
            .flatten()
        {
            if key.starts_with(crate::names::ALERT_OWNER_PREFIX) {
                out.insert(
                    format!("spec.groups[{g}].rules[{r}].labels[{key}]"),
                    v.clone(),
                );
            }
        }
    }
    for meta in METADATA {
        for field in ["labels", "annotations"] {
            let at = format!("{meta}/{field}");
            let Some(map) = value.at(&at).and_then(|m| m.as_object()) else {
                continue;
            };
            for (key, v) in map {
                if is_platform_owned(key) {
                    out.insert(
                        format!("{}.{field}[{key}]", &meta[1..].replace('/', ".")),
                        v.clone(),
                    );
                }
            }
        }
    }
    out
}

fn owned_changed(
    object: &Object,
    before: &BTreeMap<String, serde_json::Value>,
    after: &BTreeMap<String, serde_json::Value>,
) -> Diagnostic {
    let changed: Vec<&String> = before
        .keys()
        .chain(after.keys())
        .filter(|k| before.get(*k) != after.get(*k))
        .collect();
    let first = changed.first().map_or("", |k| k.as_str());
    let verb = match (before.get(first), after.get(first)) {
        (Some(_), None) => "removes",
        (None, Some(_)) => "adds",
        _ => "changes",
    };
    Diagnostic::new(format!(
        "a patch {verb} {} of {}, which stencil owns",
        crate::error::clip(first, 200),
        object.describe()
    ))
    .rule(Rule::PlatformLabels.name())
    .hint("stencil.dev/*, argocd.argoproj.io/* and app.kubernetes.io/{managed-by,part-of,name,instance}, selectors and alert owner labels say who owns and serves what; set your own labels under another prefix")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::PatchTarget;
    use crate::origin::SourceFile;

    /// The origin of a `patches:` item: base/api/service.yaml:7:5.
    fn origin() -> Origin {
        let file = SourceFile::new("base/api/service.yaml", "\n".repeat(10));
        Origin::new(&file, 7, 5)
    }

    fn config_map(name: &str) -> Object {
        let value = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "acme"},
            "data": {"a": "1"},
        });
        Object::from_value(value, "acme", Some("api"), None, false).unwrap()
    }

    fn spec(patch_type: PatchType, name: Option<&str>, patch: serde_json::Value) -> PatchSpec {
        PatchSpec {
            name: None,
            target: PatchTarget {
                kind: "ConfigMap".into(),
                name: name.map(str::to_owned),
            },
            patch_type,
            patch,
        }
    }

    /// Applies one patch to one ConfigMap `api`; the first error's message and place.
    fn apply_err(patch: PatchSpec) -> (String, String) {
        let mut objects = [config_map("api")];
        let err = apply(
            &mut objects,
            &[(patch, origin())],
            "acme",
            &Budgets::default(),
        )
        .unwrap_err();
        let d = &err.diagnostics()[0];
        (d.message.clone(), d.origin.as_ref().unwrap().to_string())
    }

    #[test]
    fn a_patch_changes_the_matching_objects_and_records_its_origin() {
        let mut objects = [config_map("api"), config_map("other")];
        let patch = spec(PatchType::Merge, Some("api"), json!({"data": {"b": "2"}}));
        apply(
            &mut objects,
            &[(patch, origin())],
            "acme",
            &Budgets::default(),
        )
        .unwrap();
        assert_eq!(objects[0].value["data"], json!({"a": "1", "b": "2"}));
        assert_eq!(objects[0].origin, Some(origin()));
        assert_eq!(objects[1].value["data"], json!({"a": "1"}));
    }

    #[test]
    fn a_patch_that_matches_nothing_is_an_error_at_the_patch() {
        let (message, at) = apply_err(spec(PatchType::Merge, Some("nope"), json!({})));
        assert_eq!(
            message,
            "patch targets ConfigMap nope, which this service does not render"
        );
        assert_eq!(at, "base/api/service.yaml:7:5");
    }

    #[test]
    fn a_failing_json_operation_is_named() {
        let ops = json!([{"op": "remove", "path": "/data/missing"}]);
        let (message, at) = apply_err(spec(PatchType::Json, None, ops));
        assert!(
            message.starts_with(
                "JSON patch on ConfigMap acme/api failed: operation 0 (`remove` at /data/missing)"
            ),
            "{message}"
        );
        assert_eq!(at, "base/api/service.yaml:7:5");
        let (message, _) = apply_err(spec(PatchType::Json, None, json!({"op": "add"})));
        assert!(message.starts_with("invalid JSON patch: "), "{message}");
    }

    #[test]
    fn a_patch_keeps_the_object_s_identity_and_place() {
        let cases = [
            (
                json!({"metadata": {"name": "renamed"}}),
                "a patch may not change metadata.name (ConfigMap api became `renamed`)",
            ),
            (
                json!({"kind": "Secret"}),
                "a patch may not change apiVersion or kind (v1 ConfigMap)",
            ),
            (
                json!({"metadata": {"namespace": "other"}}),
                "a patch moved ConfigMap other/api out of the tenant's namespace `acme`",
            ),
            (
                json!({"metadata": {"labels": {"stencil.dev/tenant": "evil"}}}),
                "a patch adds metadata.labels[stencil.dev/tenant] of ConfigMap acme/api, which stencil owns",
            ),
        ];
        for (body, expected) in cases {
            let (message, at) = apply_err(spec(PatchType::Merge, None, body));
            assert_eq!(message, expected);
            assert_eq!(at, "base/api/service.yaml:7:5");
        }
        let (message, _) = apply_err(spec(PatchType::Merge, None, json!({"items": []})));
        assert!(
            message.starts_with("a patch may not add `items`"),
            "{message}"
        );
    }
}
