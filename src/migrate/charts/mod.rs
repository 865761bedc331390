//! The two most used "universal Helm charts", stakater/application and nxs-universal-chart
//! 2.x, mapped to stencil's service model beside the generic layout of seed 003
//! (`values.rs`). [`Flavor::detect`] tells them apart by their top-level keys; each mapper
//! takes what it can express and leaves the rest for `helmPassthrough`, listed and reported.

pub(crate) mod kube;
mod nxs;
mod shared;
mod stakater;
#[cfg(test)]
mod tests;

use serde_json::{Map, Value, json};

use super::values::{Mapped, leaf_paths};

/// Which chart a values repository was written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// The generic universal chart of seed 003 (`replicaCount`, `containerPort`, ...).
    Generic,
    /// stakater/application: everything under `deployment:`.
    Stakater,
    /// nixys nxs-universal-chart 2.x: maps of named `deployments:`, `defaultImage`.
    Nxs,
}

impl Flavor {
    /// The chart a values tree was written for, by its top-level keys.
    pub(crate) fn detect(values: &Value) -> Flavor {
        let has = |key: &str| values.get(key).is_some();
        if has("deployments") || has("defaultImage") || has("releasePrefix") || has("hooks") {
            Flavor::Nxs
        } else if has("applicationName")
            || values
                .get("deployment")
                .is_some_and(|d| d.get("image").is_some())
        {
            Flavor::Stakater
        } else {
            Flavor::Generic
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Flavor::Generic => "the generic universal chart",
            Flavor::Stakater => "stakater/application",
            Flavor::Nxs => "nxs-universal-chart",
        }
    }
}

/// The mapping in progress: values not taken yet (`v`), the service (`out`), what has no
/// place in it (`rest`, the future `helmPassthrough`), and what stencil's guardrails
/// supersede (dropped, reported).
pub(crate) struct Mapping {
    pub(crate) v: Map<String, Value>,
    pub(crate) out: Map<String, Value>,
    pub(crate) rest: Map<String, Value>,
    pub(crate) superseded: Vec<String>,
}

impl Mapping {
    /// Keeps what is left of `key` for `helmPassthrough` (nothing if it is empty).
    pub(crate) fn keep(&mut self, key: &str, value: Value) {
        if matches!(&value, Value::Object(m) if m.is_empty()) {
            return;
        }
        insert_path(&mut self.rest, key, value);
    }

    pub(crate) fn superseded(&mut self, key: &str) {
        self.superseded.push(key.to_owned());
    }
}

/// Inserts `value` at a dotted path, making maps on the way.
fn insert_path(map: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            map.insert(path.to_owned(), value);
        }
        Some((head, tail)) => {
            let slot = map.entry(head.to_owned()).or_insert_with(|| json!({}));
            if let Value::Object(inner) = slot {
                insert_path(inner, tail, value);
            }
        }
    }
}

pub(crate) fn take(map: &mut Map<String, Value>, key: &str) -> Option<Value> {
    map.remove(key)
}

/// Removes the map at `path` (empty if absent or not a map); its parents stay.
pub(crate) fn take_path(map: &mut Map<String, Value>, path: &[&str]) -> Map<String, Value> {
    let Some((last, parents)) = path.split_last() else {
        return Map::new();
    };
    let mut node = &mut *map;
    for key in parents {
        match node.get_mut(*key) {
            Some(Value::Object(inner)) => node = inner,
            _ => return Map::new(),
        }
    }
    match node.remove(*last) {
        Some(Value::Object(m)) => m,
        Some(other) => {
            node.insert((*last).to_owned(), other);
            Map::new()
        }
        None => Map::new(),
    }
}

/// Maps a values tree written for `flavor`.
pub(crate) fn map_values(values: &Value, flavor: Flavor) -> Mapped {
    if flavor == Flavor::Generic {
        return super::values::map_values(values);
    }
    let Value::Object(v) = values else {
        return Mapped::default();
    };
    let mut m = Mapping {
        v: v.clone(),
        out: Map::new(),
        rest: Map::new(),
        superseded: Vec::new(),
    };
    match flavor {
        Flavor::Stakater => stakater::map(&mut m),
        Flavor::Nxs => nxs::map(&mut m),
        Flavor::Generic => {}
    }
    finish(m)
}

/// Whatever is left goes to `helmPassthrough`, its leaves listed as unmapped.
fn finish(m: Mapping) -> Mapped {
    let Mapping {
        v,
        mut out,
        mut rest,
        superseded,
    } = m;
    // What no mapper took, as written: an empty map is a value too (`emptyDir: {}`), but a
    // section emptied by the mappers is not.
    for (key, value) in v {
        rest.insert(key, value);
    }
    let unmapped = if rest.is_empty() {
        Vec::new()
    } else {
        leaf_paths(&rest)
    };
    if !rest.is_empty() {
        out.insert("helmPassthrough".into(), Value::Object(rest));
    }
    Mapped {
        service: out,
        unmapped,
        superseded,
    }
}

/// A job of either chart, in the shape both share (scheduling fields, `image`, `command`,
/// `args`, `env`, `resources`, Helm hook annotations), as stencil's job. What stencil's job
/// inherits from the service (`service`) is dropped when it equals the service's; what is
/// left in `j` is the caller's to keep.
pub(crate) fn job(
    j: &mut Map<String, Value>,
    service: &Map<String, Value>,
    is_service_image: fn(&Value) -> bool,
) -> Value {
    let mut out = Map::new();
    for key in [
        "schedule",
        "timeZone",
        "concurrencyPolicy",
        "suspend",
        "successfulJobsHistoryLimit",
        "failedJobsHistoryLimit",
        "startingDeadlineSeconds",
        "backoffLimit",
        "activeDeadlineSeconds",
        "ttlSecondsAfterFinished",
        "restartPolicy",
        "command",
        "args",
        "resources",
    ] {
        if let Some(v) = take(j, key) {
            out.insert(key.into(), v);
        }
    }
    job_image(j, &mut out, is_service_image);
    if let Some(raw) = take(j, "env") {
        let (env, rest) = kube::env(raw);
        let inherited = service.get("env").and_then(Value::as_object);
        let own: Map<String, Value> = env
            .into_iter()
            .filter(|(k, v)| inherited.and_then(|e| e.get(k)) != Some(v))
            .collect();
        if !own.is_empty() {
            out.insert("env".into(), Value::Object(own));
        }
        if let Some(rest) = rest {
            j.insert("env".into(), rest);
        }
    }
    if let Some(hook) = take(j, "annotations").and_then(|a| hook(a, j)) {
        out.insert("hook".into(), hook);
    }
    Value::Object(out)
}

fn job_image(
    j: &mut Map<String, Value>,
    out: &mut Map<String, Value>,
    is_service_image: fn(&Value) -> bool,
) {
    let Some(Value::Object(mut image)) = take(j, "image") else {
        return;
    };
    let mut own = Map::new();
    for (from, to) in [
        ("repository", "repository"),
        ("tag", "tag"),
        ("imagePullPolicy", "pullPolicy"),
        ("pullPolicy", "pullPolicy"),
    ] {
        match take(&mut image, from) {
            Some(v) if is_service_image(&v) => {}
            Some(v) => {
                own.insert(to.into(), v);
            }
            None => {}
        }
    }
    if !own.is_empty() {
        out.insert("image".into(), Value::Object(own));
    }
    if !image.is_empty() {
        j.insert("image".into(), Value::Object(image));
    }
}

/// Helm hook annotations as an Argo CD hook: `pre-install`/`pre-upgrade` -> PreSync,
/// `post-install`/`post-upgrade` -> PostSync, the weight as the sync wave, one delete
/// policy. Other annotations stay in `j`.
fn hook(annotations: Value, j: &mut Map<String, Value>) -> Option<Value> {
    let Value::Object(mut notes) = annotations else {
        return None;
    };
    let kind = notes.remove("helm.sh/hook");
    let weight = notes.remove("helm.sh/hook-weight");
    let delete = notes.remove("helm.sh/hook-delete-policy");
    if !notes.is_empty() {
        j.insert("annotations".into(), Value::Object(notes));
    }
    let phase = match kind?.as_str()? {
        "pre-install,pre-upgrade" | "pre-upgrade,pre-install" | "pre-install" | "pre-upgrade" => {
            "PreSync"
        }
        "post-install,post-upgrade"
        | "post-upgrade,post-install"
        | "post-install"
        | "post-upgrade" => "PostSync",
        _ => return None,
    };
    let mut hook = Map::from_iter([("phase".to_owned(), json!(phase))]);
    if let Some(w) = weight {
        let wave: Option<i64> = w
            .as_i64()
            .or_else(|| w.as_str().and_then(|s| s.parse().ok()));
        hook.insert("syncWave".into(), json!(wave?));
    }
    if let Some(d) = delete {
        let policy = match d.as_str()? {
            "before-hook-creation" => "BeforeHookCreation",
            "hook-succeeded" => "HookSucceeded",
            "hook-failed" => "HookFailed",
            _ => return None,
        };
        hook.insert("deletePolicy".into(), json!(policy));
    }
    Some(Value::Object(hook))
}
