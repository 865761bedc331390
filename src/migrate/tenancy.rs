//! What the migrated tenants use of the cluster, for `tenancy:` in the new `stencil.yaml`:
//! the storage classes, CSI drivers, tolerations and priority classes their mapped values
//! name (stencil allows none of them unless the platform lists them), and whether any
//! service account assumes an IAM role (kept under a reasoned exception, as hosts are).

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::charts::map_values;
use super::old::Old;
use crate::error::Result;

/// What every app of `old` uses, as `tenancy:` (and whether IAM roles are named).
pub(crate) fn used(old: &Old) -> Result<(Map<String, Value>, bool)> {
    let mut classes = BTreeSet::new();
    let mut drivers = BTreeSet::new();
    let mut tolerations: Vec<Value> = Vec::new();
    let mut priorities = BTreeSet::new();
    let mut roles = false;
    for app in &old.apps {
        let service = map_values(&old.effective(app)?, old.flavor).service;
        for volume in service
            .get("volumes")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|v| v.values())
        {
            if let Some(c) = volume
                .pointer("/claim/storageClassName")
                .and_then(Value::as_str)
            {
                classes.insert(c.to_owned());
            }
            if let Some(d) = volume.pointer("/csi/driver").and_then(Value::as_str) {
                drivers.insert(d.to_owned());
            }
        }
        let scheduling = service.get("scheduling");
        for t in scheduling
            .and_then(|s| s.get("tolerations"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let mut rule = Map::new();
            for key in ["key", "value", "effect"] {
                if let Some(v) = t.get(key).filter(|v| !v.is_null()) {
                    rule.insert(key.into(), v.clone());
                }
            }
            let rule = Value::Object(rule);
            if !tolerations.contains(&rule) {
                tolerations.push(rule);
            }
        }
        if let Some(p) = scheduling
            .and_then(|s| s.get("priorityClassName"))
            .and_then(Value::as_str)
        {
            priorities.insert(p.to_owned());
        }
        roles |= service
            .get("serviceAccount")
            .and_then(|s| s.get("iamRoleArn"))
            .is_some();
    }
    let mut tenancy = Map::new();
    for (key, list) in [
        ("storageClasses", classes),
        ("csiDrivers", drivers),
        ("priorityClasses", priorities),
    ] {
        if !list.is_empty() {
            tenancy.insert(key.into(), json!(list));
        }
    }
    if !tolerations.is_empty() {
        tenancy.insert("tolerations".into(), Value::Array(tolerations));
    }
    Ok((tenancy, roles))
}
