//! `files:`, `secretFiles:` and `volumes:`: absolute mount paths that no two mounts share,
//! files with content (inline, or read from the repository by `resolve`), secret files
//! naming a key of `secrets.enc.yaml`, and volumes with exactly one source. Which storage
//! classes and CSI drivers a tenant may use is checked on the built objects (rule
//! `storage`), so a patch cannot slip past it.

use std::collections::BTreeMap;

use super::SpecCtx;
use crate::error::Diagnostic;
use crate::model::VolumeSpec;
use crate::names::{check_dns_label, check_quantity, file_key};
use crate::origin::Origin;

/// Volume names stencil gives the pod itself.
const RESERVED_VOLUMES: [&str; 3] = ["tmp", "files", "secret-files"];

/// Checks a mount path: absolute, normalised, not the root and not `/tmp` (stencil's own).
fn check_mount_path(path: &str) -> Result<(), String> {
    let shown = crate::error::clip(path, 120);
    if !path.starts_with('/') {
        return Err(format!("mount path `{shown}` must be absolute"));
    }
    if path
        .split('/')
        .skip(1)
        .any(|p| p.is_empty() || p == "." || p == "..")
    {
        return Err(format!(
            "mount path `{shown}` must be normalised (no empty, `.` or `..` parts, no trailing `/`)"
        ));
    }
    if path == "/tmp" || path.starts_with("/tmp/") {
        return Err(format!(
            "mount path `{shown}` is under /tmp, which stencil mounts itself"
        ));
    }
    if path.contains(|c: char| c.is_control() || c == ':') {
        return Err(format!(
            "mount path `{shown}` holds a control character or `:`"
        ));
    }
    Ok(())
}

/// Every mount path is valid and used once, whatever mounts it.
pub(super) fn mount_paths(ctx: &SpecCtx, out: &mut Vec<Diagnostic>) {
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    let files = ctx
        .spec
        .files
        .iter()
        .flatten()
        .map(|(p, _)| (p.as_str(), "files", ctx.at(&["files", p])));
    let secret_files = ctx
        .spec
        .secret_files
        .iter()
        .flatten()
        .map(|(p, _)| (p.as_str(), "secretFiles", ctx.at(&["secretFiles", p])));
    let volumes = ctx.spec.volumes.iter().flatten().filter_map(|(name, v)| {
        let at = ctx.at(&["volumes", name, "mountPath"]);
        v.mount_path.as_deref().map(|p| (p, "volumes", at))
    });
    let all: Vec<(&str, &str, Origin)> = files.chain(secret_files).chain(volumes).collect();
    for (path, source, at) in all {
        if let Err(msg) = check_mount_path(path) {
            out.push(Diagnostic::new(msg).at(&at));
        }
        if let Some(other) = seen.insert(path, source) {
            out.push(
                Diagnostic::new(format!(
                    "`{path}` is mounted twice (in {other} and {source})"
                ))
                .at(&at)
                .hint("each path in the container holds one file or volume"),
            );
        }
    }
}

/// Each file has content, and no two files share a ConfigMap key.
pub(super) fn files(ctx: &SpecCtx, out: &mut Vec<Diagnostic>) {
    let mut keys: BTreeMap<String, &str> = BTreeMap::new();
    for (path, file) in ctx.spec.files.iter().flatten() {
        let at = ctx.at(&["files", path]);
        if file.content.is_none() {
            out.push(
                Diagnostic::new(format!("file `{path}` has no content"))
                    .at(&at)
                    .hint("set `content:` inline, or `from:` a path next to the file that declares it"),
            );
        }
        let key = file_key(path);
        if key.starts_with("..") {
            out.push(Diagnostic::new(format!("file path `{}` would make a ConfigMap key starting with `..`, which Kubernetes refuses", crate::error::clip(path, 80))).at(&at));
        }
        if !key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            out.push(
                Diagnostic::new(format!(
                    "file path `{}` holds characters a ConfigMap key cannot",
                    crate::error::clip(path, 80)
                ))
                .at(&at)
                .hint("use letters, digits, `-`, `_`, `.` and `/` in file paths"),
            );
        }
        if key.len() > 253 {
            out.push(
                Diagnostic::new(format!(
                    "file path `{}` is too long (a ConfigMap key holds 253 characters)",
                    crate::error::clip(path, 80)
                ))
                .at(&at),
            );
        }
        if let Some(other) = keys.insert(key.clone(), path) {
            out.push(
                Diagnostic::new(format!(
                    "files `{other}` and `{path}` would share ConfigMap key `{key}`"
                ))
                .at(&at)
                .hint("the key is the path with `/` as `_`; rename one of them"),
            );
        }
    }
}

/// Each secret file names a key of `secrets.enc.yaml`.
pub(super) fn secret_files(ctx: &SpecCtx, out: &mut Vec<Diagnostic>) {
    for (path, key) in ctx.spec.secret_files.iter().flatten() {
        let at = ctx.at(&["secretFiles", path]);
        match ctx.secrets {
            None => out.push(
                Diagnostic::new(format!("secret file `{path}` names `{key}`, but the tenant has no secrets.enc.yaml for this service"))
                    .at(&at)
                    .hint(format!("add `{key}` with `stencil secrets edit {}/{}`", ctx.tenant.name, ctx.service)),
            ),
            Some(s) if !s.values.contains_key(key) => out.push(
                Diagnostic::new(format!("secret file `{path}` names `{key}`, which secrets.enc.yaml does not hold"))
                    .at(&at)
                    .hint(match crate::error::did_you_mean(key, s.values.keys().map(String::as_str)) {
                        Some(near) => format!("did you mean `{near}`?"),
                        None => "add the key with `stencil secrets edit`, or name one it holds".to_owned(),
                    }),
            ),
            Some(_) => {}
        }
    }
}

/// Each volume has a valid name, a mount path and exactly one source, itself valid.
pub(super) fn volumes(ctx: &SpecCtx, out: &mut Vec<Diagnostic>) {
    for (name, volume) in ctx.spec.volumes.iter().flatten() {
        let at = ctx.at(&["volumes", name]);
        if let Err(msg) = check_dns_label(name, 63) {
            out.push(Diagnostic::new(format!("volume name {msg}")).at(&at));
        } else if RESERVED_VOLUMES.contains(&name.as_str()) || name.starts_with("tmp-") {
            out.push(Diagnostic::new(format!("volume name `{name}` is stencil's own")).at(&at));
        }
        if volume.mount_path.is_none() {
            out.push(Diagnostic::new(format!("volume `{name}` has no mountPath")).at(&at));
        }
        check_source(ctx, name, volume, out);
    }
}

fn check_source(ctx: &SpecCtx, name: &str, v: &VolumeSpec, out: &mut Vec<Diagnostic>) {
    let at = |key: &str| ctx.at(&["volumes", name, key]);
    let sources = [
        v.empty_dir.is_some(),
        v.claim.is_some(),
        v.existing_claim.is_some(),
        v.csi.is_some(),
    ];
    if sources.iter().filter(|s| **s).count() != 1 {
        out.push(
            Diagnostic::new(format!(
                "volume `{name}` needs exactly one of emptyDir, claim, existingClaim, csi"
            ))
            .at(&ctx.at(&["volumes", name])),
        );
    }
    let quantities = [
        (
            "emptyDir",
            v.empty_dir.as_ref().and_then(|e| e.size_limit.as_deref()),
        ),
        ("claim", v.claim.as_ref().and_then(|c| c.size.as_deref())),
    ];
    for (key, quantity) in quantities {
        if let Some(q) = quantity
            && let Err(msg) = check_quantity(q)
        {
            out.push(Diagnostic::new(msg).at(&at(key)));
        }
    }
    if v.claim.as_ref().is_some_and(|c| c.size.is_none()) {
        out.push(
            Diagnostic::new(format!("volume `{name}`: a new claim needs a `size`"))
                .at(&at("claim")),
        );
    }
    if let Some(medium) = v.empty_dir.as_ref().and_then(|e| e.medium.as_deref())
        && medium != "Memory"
    {
        out.push(
            Diagnostic::new("emptyDir medium is `Memory` or unset (the node's disk)")
                .at(&at("emptyDir")),
        );
    }
    if let Some(claim) = &v.existing_claim
        && let Err(msg) = check_dns_label(claim, 63)
    {
        out.push(Diagnostic::new(format!("existingClaim {msg}")).at(&at("existingClaim")));
    }
    if let Some(csi) = &v.csi
        && crate::policy::kinds::check_subdomain(&csi.driver).is_err()
    {
        out.push(
            Diagnostic::new(format!(
                "CSI driver `{}` is not a valid driver name",
                crate::error::clip(&csi.driver, 80)
            ))
            .at(&at("csi")),
        );
    }
}
