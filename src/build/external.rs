//! ExternalSecrets (External Secrets Operator, `external-secrets.io/v1`) for SSM Parameter
//! Store: one syncing `ssmSecrets` into `<service>-ssm`, one finding `FEATURE_FLAG_*`
//! parameters under `featureFlags.ssmPrefix` into `<service>-feature-flags`.
//!
//! Typed here (the CRD is not in k8s-openapi) so that a field cannot be misspelt.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use super::Labels;
use super::workload::meta;
use crate::model::{ExternalSecretsSettings, SecretStoreKind};
use crate::policy::Workload;

const API_VERSION: &str = "external-secrets.io/v1";

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ExternalSecret {
    api_version: &'static str,
    kind: &'static str,
    metadata: ObjectMeta,
    spec: Spec,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Spec {
    refresh_interval: String,
    secret_store_ref: StoreRef,
    target: Target,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    data: Vec<Data>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    data_from: Vec<DataFrom>,
}

#[derive(Debug, Serialize)]
struct StoreRef {
    name: String,
    kind: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Target {
    name: String,
    creation_policy: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Data {
    secret_key: String,
    remote_ref: RemoteRef,
}

#[derive(Debug, Serialize)]
struct RemoteRef {
    key: String,
}

#[derive(Debug, Serialize)]
struct DataFrom {
    find: Find,
    rewrite: Vec<Rewrite>,
}

#[derive(Debug, Serialize)]
struct Find {
    path: String,
    name: NameMatch,
}

#[derive(Debug, Serialize)]
struct NameMatch {
    regexp: String,
}

#[derive(Debug, Serialize)]
struct Rewrite {
    regexp: RegexpRewrite,
}

#[derive(Debug, Serialize)]
struct RegexpRewrite {
    source: String,
    target: String,
}

pub(super) fn ssm_secret_name(service: &str) -> String {
    format!("{service}-ssm")
}

pub(super) fn feature_flags_secret_name(service: &str) -> String {
    format!("{service}-feature-flags")
}

/// The prefix every feature flag parameter name starts with.
pub(super) const FEATURE_FLAG_PREFIX: &str = "FEATURE_FLAG_";

fn external_secret(
    name: String,
    ns: &str,
    labels: &Labels,
    settings: &ExternalSecretsSettings,
    data: Vec<Data>,
    data_from: Vec<DataFrom>,
) -> ExternalSecret {
    ExternalSecret {
        api_version: API_VERSION,
        kind: "ExternalSecret",
        metadata: meta(&name, ns, labels),
        spec: Spec {
            refresh_interval: settings.refresh_interval.clone(),
            secret_store_ref: StoreRef {
                name: settings.secret_store.clone(),
                kind: match settings.secret_store_kind {
                    SecretStoreKind::ClusterSecretStore => "ClusterSecretStore",
                    SecretStoreKind::SecretStore => "SecretStore",
                },
            },
            target: Target {
                name,
                creation_policy: "Owner",
            },
            data,
            data_from,
        },
    }
}

/// The ExternalSecret for `ssmSecrets`, if any.
pub(super) fn ssm(
    w: &Workload,
    ns: &str,
    labels: &Labels,
    settings: &ExternalSecretsSettings,
) -> Option<ExternalSecret> {
    let params: &BTreeMap<String, String> =
        w.spec.ssm_secrets.as_ref().filter(|m| !m.is_empty())?;
    let data = params
        .iter()
        .map(|(env, path)| Data {
            secret_key: env.clone(),
            remote_ref: RemoteRef { key: path.clone() },
        })
        .collect();
    Some(external_secret(
        ssm_secret_name(&w.service),
        ns,
        labels,
        settings,
        data,
        Vec::new(),
    ))
}

/// The ExternalSecret for `featureFlags`, if any. ESO names found parameters by their path
/// with `/` turned into `_`; the rewrite keeps only the `FEATURE_FLAG_*` part, so each key
/// is a valid environment variable name.
pub(super) fn feature_flags(
    w: &Workload,
    ns: &str,
    labels: &Labels,
    settings: &ExternalSecretsSettings,
) -> Option<ExternalSecret> {
    let prefix = w.spec.feature_flags.as_ref()?.ssm_prefix.clone()?;
    let data_from = vec![DataFrom {
        find: Find {
            path: prefix,
            name: NameMatch {
                regexp: FEATURE_FLAG_PREFIX.to_owned(),
            },
        },
        rewrite: vec![Rewrite {
            regexp: RegexpRewrite {
                source: format!("^.*?({FEATURE_FLAG_PREFIX}[A-Za-z0-9_]*)$"),
                target: "$1".to_owned(),
            },
        }],
    }];
    Some(external_secret(
        feature_flags_secret_name(&w.service),
        ns,
        labels,
        settings,
        Vec::new(),
        data_from,
    ))
}
