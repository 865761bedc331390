//! Labels on every object: the standard `app.kubernetes.io/*` set plus `stencil.dev/tenant`,
//! `stencil.dev/service` and `stencil.dev/environment`, then the tenant's and the service's
//! own labels. Selectors use only `app.kubernetes.io/name` and `app.kubernetes.io/instance`,
//! which never change for a workload.

use std::collections::BTreeMap;

use crate::load::Tenant;
use crate::model::RepoSettings;
use crate::policy::Workload;

pub(crate) const TENANT: &str = "stencil.dev/tenant";
pub(crate) const SERVICE: &str = "stencil.dev/service";
pub(crate) const ENVIRONMENT: &str = "stencil.dev/environment";

#[derive(Debug, Clone)]
pub struct Labels {
    /// On every object of the service.
    pub common: BTreeMap<String, String>,
    /// Selects the service's pods.
    pub selector: BTreeMap<String, String>,
}

impl Labels {
    pub fn tenant(tenant: &Tenant, settings: &RepoSettings) -> Labels {
        let mut common = BTreeMap::new();
        for (k, v) in &tenant.spec.labels {
            common.insert(k.clone(), v.clone());
        }
        common.insert("app.kubernetes.io/managed-by".into(), "stencil".into());
        common.insert("app.kubernetes.io/part-of".into(), settings.name.clone());
        common.insert(TENANT.into(), tenant.name.to_string());
        common.insert(ENVIRONMENT.into(), tenant.spec.environment.clone());
        Labels {
            common,
            selector: BTreeMap::new(),
        }
    }

    pub fn service(tenant: &Tenant, settings: &RepoSettings, workload: &Workload) -> Labels {
        let mut labels = Labels::tenant(tenant, settings);
        let mut common = BTreeMap::new();
        for (k, v) in workload.spec.labels.iter().flatten() {
            common.insert(k.clone(), v.clone());
        }
        common.append(&mut labels.common);
        let selector: BTreeMap<String, String> = [
            (
                "app.kubernetes.io/name".to_owned(),
                workload.service.clone(),
            ),
            (
                "app.kubernetes.io/instance".to_owned(),
                format!("{}-{}", tenant.name, workload.service),
            ),
        ]
        .into();
        common.extend(selector.clone());
        common.insert(SERVICE.into(), workload.service.clone());
        let tag = workload.image.tag.as_str();
        // Label values are limited to 63 characters; tags may have 128.
        if tag.len() <= 63 {
            common.insert("app.kubernetes.io/version".into(), tag.to_owned());
        }
        Labels { common, selector }
    }

    pub fn into_map(self) -> BTreeMap<String, String> {
        self.common
    }
}
