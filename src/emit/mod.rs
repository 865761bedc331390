//! The `emit` stage: objects to a YAML stream, a JSON array, or one file per object in a
//! directory (`DIR/<tenant>/<service>/<kind>-<name>.yaml`, the rendered-manifests pattern).
//!
//! Output is built entirely in memory before anything is written: stdout gets all of it or
//! nothing, and a directory is replaced whole (built beside it, then renamed into place).
//!
//! A directory may hold plaintext Secrets: their files are 0600 and the directory 0700
//! (else files 0644, directory 0755). Renders into one directory take turns on a lock
//! (`flock` on `.<dir>.lock` beside it), and each removes what a killed render left behind
//! (`.<dir>.stencil-new-*`, `.<dir>.stencil-old-*`) before it writes.

use std::fs;
use std::path::{Path, PathBuf};

pub mod spool;

use rayon::prelude::*;

use crate::error::{Diagnostic, Error, Result};
use crate::object::Object;
use crate::yaml::write as yaml;

/// Marks a directory as written by `stencil render --out-dir`, so it may be replaced.
pub const OUT_DIR_MARKER: &str = ".stencil-out";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Yaml,
    Json,
}

fn yaml(object: &Object) -> std::borrow::Cow<'_, str> {
    match &object.yaml {
        Some(text) => std::borrow::Cow::Borrowed(text),
        None => std::borrow::Cow::Owned(yaml::document(&object.value)),
    }
}

/// The JSON form of a render, as `kubectl get -o json` prints several objects: one `v1 List`
/// (kubectl apply, kustomize and Argo CD take it; a bare array they refuse).
#[derive(serde::Serialize)]
struct List<'a> {
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    kind: &'static str,
    metadata: serde_json::Map<String, serde_json::Value>,
    items: Vec<&'a serde_json::Value>,
}

/// The whole stream as one string.
pub fn stream(objects: &[Object], format: Format) -> Result<String> {
    match format {
        Format::Yaml => {
            // Serializing is the costliest step of a large render: do it in parallel, then
            // join in input order.
            // Below a few dozen objects, starting threads costs more than it saves.
            let docs: Vec<std::borrow::Cow<'_, str>> = if objects.len() > 64 {
                objects.par_iter().map(yaml).collect()
            } else {
                objects.iter().map(yaml).collect()
            };
            let mut out = String::with_capacity(docs.iter().map(|d| d.len() + 4).sum());
            for doc in docs {
                out.push_str("---\n");
                out.push_str(&doc);
            }
            Ok(out)
        }
        Format::Json => {
            if objects.iter().any(|o| o.yaml.is_some()) {
                return Err(Diagnostic::new(
                    "internal: objects were emitted as YAML before a JSON render",
                )
                .into());
            }
            let list = List {
                api_version: "v1",
                kind: "List",
                metadata: serde_json::Map::new(),
                items: objects.iter().map(|o| &o.value).collect(),
            };
            let mut out = serde_json::to_string_pretty(&list)
                .map_err(|e| Diagnostic::new(format!("cannot write JSON: {e}")))?;
            out.push('\n');
            Ok(out)
        }
    }
}

/// The relative file path of an object in an output directory.
///
/// Built only from checked parts (the tenant, the service, the kind lowercased, the name:
/// each checked against Kubernetes' grammar before it became an object), and, belt and
/// braces, every path component made safe again here: whatever an object holds, the path
/// stays inside the output directory.
pub fn file_name(object: &Object) -> PathBuf {
    let file = format!("{}-{}.yaml", object.kind.to_ascii_lowercase(), object.name);
    let mut path = PathBuf::from(safe_component(&object.tenant));
    if let Some(service) = &object.service {
        path.push(safe_component(service));
    }
    path.push(safe_component(&file));
    path
}

/// One path component that cannot leave its directory: only ASCII letters, digits, `.`,
/// `-` and `_` (anything else becomes `_`: no `/`, `\`, NUL or control character), and
/// never empty, `.` or `..`.
fn safe_component(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.bytes().all(|b| b == b'.') {
        out.insert(0, '_');
    }
    out
}

/// Replaces `dir` with one file per object. Refuses to replace a non-empty directory that
/// stencil did not write. Waits for another render into the same directory to finish.
pub fn write_dir(objects: &[Object], dir: &Path) -> Result<()> {
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = dir
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let _lock = lock(&parent, &name)?;
    remove_leftovers(&parent, &name);
    if dir.exists() {
        let empty = fs::read_dir(dir)
            .map_err(|e| Error::io(format_args!("cannot read {}", dir.display()), &e))?
            .next()
            .is_none();
        if !empty && !dir.join(OUT_DIR_MARKER).exists() {
            return Err(Diagnostic::new(format!(
                "{} is not empty and was not written by stencil",
                dir.display()
            ))
            .hint("choose an empty or new directory; stencil replaces --out-dir as a whole")
            .into());
        }
    }
    // A fresh directory of our own beside the target, so the final rename stays on one
    // filesystem and nothing left over from an earlier run can slip in.
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{name}.stencil-new-"))
        .tempdir_in(&parent)
        .map_err(|e| {
            Error::io(
                format_args!("cannot create a directory in {}", parent.display()),
                &e,
            )
        })?
        .keep();
    let result = write_tree(objects, &staging).and_then(|()| swap(&staging, dir, &parent, &name));
    if result.is_err() {
        let _ = fs::remove_dir_all(&staging);
    }
    result
}

/// An exclusive lock on `PARENT/.NAME.lock`, held until the file is dropped. Another render
/// into the same directory waits for it. The lock file stays (removing it would let a
/// waiting render lock a file that no longer has a name).
fn lock(parent: &Path, name: &str) -> Result<fs::File> {
    let path = parent.join(format!(".{name}.lock"));
    let io = |e: std::io::Error| Error::io(format_args!("cannot lock {}", path.display()), &e);
    let mut options = fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let file = options.open(&path).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd as _;
        // SAFETY: flock on a descriptor this function owns; no memory is involved.
        let try_lock = |op| unsafe { libc::flock(file.as_raw_fd(), op) };
        if try_lock(libc::LOCK_EX | libc::LOCK_NB) != 0 {
            tracing::info!(lock = %path.display(), "another render is writing this directory; waiting");
            loop {
                if try_lock(libc::LOCK_EX) == 0 {
                    break;
                }
                let err = std::io::Error::last_os_error();
                if err.kind() != std::io::ErrorKind::Interrupted {
                    return Err(io(err));
                }
            }
        }
    }
    Ok(file)
}

/// Removes the staging and old directories of renders into `NAME` that were killed before
/// they could clean up: they may hold plaintext Secrets. Only called under the lock.
fn remove_leftovers(parent: &Path, name: &str) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    let prefixes = [
        format!(".{name}.stencil-new-"),
        format!(".{name}.stencil-old-"),
    ];
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(file_name) = file_name.to_str() else {
            continue;
        };
        if prefixes.iter().any(|p| file_name.starts_with(p.as_str())) {
            let path = entry.path();
            match fs::remove_dir_all(&path) {
                Ok(()) => {
                    tracing::info!(path = %path.display(), "removed a leftover of an interrupted render");
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), "cannot remove a leftover of an interrupted render: {e}");
                }
            }
        }
    }
}

/// Whether an object's file must be private: a Secret holds plaintext values.
fn is_secret(object: &Object) -> bool {
    object.kind == "Secret"
}

fn write_tree(objects: &[Object], root: &Path) -> Result<()> {
    let io = |what: &Path, e: std::io::Error| {
        Error::io(format_args!("cannot write {}", what.display()), &e)
    };
    // Private (0700) if it will hold a Secret; else the output is meant to be shared. Set
    // before anything is written into it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = if objects.iter().any(is_secret) {
            0o700
        } else {
            0o755
        };
        fs::set_permissions(root, fs::Permissions::from_mode(mode)).map_err(|e| io(root, e))?;
    }
    let mut seen = std::collections::HashMap::new();
    for object in objects {
        if let Some(first) = seen.insert(file_name(object), object) {
            return Err(Diagnostic::new(format!(
                "{} and {} would both be written to {}",
                first.describe(),
                object.describe(),
                file_name(object).display()
            ))
            .hint("objects of the same kind and name from different API groups cannot share a directory; rename one")
            .into());
        }
    }
    fs::write(
        root.join(OUT_DIR_MARKER),
        "written by stencil render --out-dir; replaced on every render\n",
    )
    .map_err(|e| io(root, e))?;
    for object in objects {
        let path = root.join(file_name(object));
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        }
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        // Created private, so a Secret is never readable by others, not even for a moment.
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(if is_secret(object) { 0o600 } else { 0o644 });
        }
        let text = format!("---\n{}", yaml(object));
        options
            .open(&path)
            .and_then(|mut file| std::io::Write::write_all(&mut file, text.as_bytes()))
            .map_err(|e| io(&path, e))?;
    }
    Ok(())
}

fn swap(staging: &Path, dir: &Path, parent: &Path, name: &str) -> Result<()> {
    let io = |what: &Path, e: std::io::Error| {
        Error::io(format_args!("cannot replace {}", what.display()), &e)
    };
    if dir.exists() {
        let old = tempfile::Builder::new()
            .prefix(&format!(".{name}.stencil-old-"))
            .tempdir_in(parent)
            .map_err(|e| io(parent, e))?
            .keep();
        // Renaming a directory onto an empty one replaces it.
        if let Err(e) = fs::rename(dir, &old) {
            let _ = fs::remove_dir(&old);
            return Err(io(dir, e));
        }
        if let Err(e) = fs::rename(staging, dir) {
            // Put the previous output back: never leave the user with nothing.
            let _ = fs::rename(&old, dir);
            return Err(io(dir, e));
        }
        fs::remove_dir_all(&old).map_err(|e| io(&old, e))?;
    } else {
        fs::rename(staging, dir).map_err(|e| io(dir, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::safe_component;

    #[test]
    fn path_components_stay_in_their_directory() {
        assert_eq!(
            safe_component("configmap-api-env.yaml"),
            "configmap-api-env.yaml"
        );
        for bad in [
            "..", ".", "", "../x", "a/b", "a\\b", "a\0b", "/etc", "\u{2028}",
        ] {
            let safe = safe_component(bad);
            assert!(!safe.is_empty() && safe != "." && safe != "..", "{bad:?}");
            assert!(!safe.contains(['/', '\\', '\0']), "{bad:?} -> {safe:?}");
            assert_eq!(
                std::path::Path::new(&safe).components().count(),
                1,
                "{bad:?}"
            );
        }
    }
}
