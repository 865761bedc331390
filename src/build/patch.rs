//! `patches:`: RFC 6902 JSON patches and RFC 7386 merge patches on rendered objects, each
//! aimed at objects by kind (and optionally name). A patch that matches nothing is an error
//! (a typo must not pass silently), and every patched object is validated again against its
//! Kubernetes type. A patch changes what is in an object, never which object it is: its
//! apiVersion, kind, name and namespace stay, and it gains no `items` (readers would take it
//! for a List).

use crate::error::{Diagnostic, Error, Result};
use crate::model::{PatchSpec, PatchType};
use crate::origin::Origin;

use super::Object;

pub fn apply(
    objects: &mut [Object],
    patches: &[(PatchSpec, Origin)],
    namespace: &str,
) -> Result<()> {
    let mut problems = Vec::new();
    for (patch, origin) in patches {
        if let Err(e) = apply_one(objects, patch, origin, namespace) {
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
) -> Result<()> {
    let target = &patch.target;
    let matches =
        |o: &Object| o.kind == target.kind && target.name.as_ref().is_none_or(|n| *n == o.name);
    if !objects.iter().any(matches) {
        let available: Vec<String> = objects
            .iter()
            .map(|o| format!("{} {}", o.kind, o.name))
            .collect();
        return Err(Diagnostic::new(format!(
            "patch targets {} {}, which this service does not render",
            target.kind,
            target.name.as_deref().unwrap_or("(any name)")
        ))
        .at(origin)
        .hint(format!("objects of this service: {}", available.join(", ")))
        .into());
    }
    let ops: Option<json_patch::Patch> = match patch.patch_type {
        PatchType::Json => Some(serde_json::from_value(patch.patch.clone()).map_err(|e| {
            Diagnostic::new(format!("invalid JSON patch: {e}"))
                .at(origin)
                .hint("a JSON patch is a list of operations such as `{ op: add, path: /spec/template/spec/nodeSelector, value: {...} }`")
        })?),
        PatchType::Merge => None,
    };
    for object in objects.iter_mut().filter(|o| matches(o)) {
        let (kind, api_version, name) = (
            object.kind.clone(),
            object.api_version.clone(),
            object.name.clone(),
        );
        match &ops {
            Some(ops) => json_patch::patch(&mut object.value, ops).map_err(|e| {
                Diagnostic::new(format!("JSON patch on {} failed: {e}", object.describe()))
                    .at(origin)
                    .hint("paths are JSON pointers into the rendered object; render without the patch to see it")
            })?,
            None => json_patch::merge(&mut object.value, &patch.patch),
        }
        let patched = Object::from_value(
            std::mem::take(&mut object.value),
            &object.tenant,
            object.service.as_deref(),
            Some(origin.clone()),
            object.extra,
        )?;
        if patched.kind != kind || patched.api_version != api_version {
            return Err(Diagnostic::new(format!(
                "a patch may not change apiVersion or kind ({api_version} {kind})"
            ))
            .at(origin)
            .into());
        }
        // A patch may change an object but not where it lands: the name must stay a valid
        // object name (it also names the file with --out-dir) and the namespace the tenant's.
        super::extra::check_subdomain(&patched.name)
            .map_err(|msg| Diagnostic::new(format!("after patching, {msg}")).at(origin))?;
        if patched.name != name {
            return Err(Diagnostic::new(format!(
                "a patch may not change metadata.name ({kind} {name} became `{}`)",
                patched.name
            ))
            .at(origin)
            .hint("other objects refer to this one by name; render a new object with extraObjects instead")
            .into());
        }
        if patched.namespace.as_deref() != Some(namespace) {
            let moved_to = patched
                .namespace
                .as_deref()
                .map_or_else(|| "no namespace".to_owned(), crate::policy::kinds::shown);
            return Err(Diagnostic::new(format!(
                "a patch moved {kind} {moved_to}/{name} out of the tenant's namespace `{namespace}`"
            ))
            .at(origin)
            .hint("patches cannot change metadata.namespace")
            .into());
        }
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
        *object = patched;
    }
    Ok(())
}
