//! Files and volumes: `files:` in a `<service>-files` ConfigMap, `secretFiles:` from the
//! service's Secret, each mounted read-only by `subPath` at its path (the checksums on the
//! pod template roll the pods when either changes); `volumes:` as emptyDir (1Gi unless
//! sized), a PersistentVolumeClaim `<service>-<volume>` (a volumeClaimTemplate in a
//! StatefulSet), an existing claim, or an inline CSI volume.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    CSIVolumeSource, ConfigMap, ConfigMapVolumeSource, EmptyDirVolumeSource, PersistentVolumeClaim,
    PersistentVolumeClaimSpec, PersistentVolumeClaimVolumeSource, SecretVolumeSource, Volume,
    VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::Labels;
use super::workload::{meta, secret_name};
use crate::model::{ClaimSpec, VolumeSpec};
use crate::names::file_key;
use crate::policy::Workload;

/// An emptyDir's size when the service does not say: a full node disk is every pod's loss.
const EMPTY_DIR_LIMIT: &str = "1Gi";
const FILES_VOLUME: &str = "files";
const SECRET_FILES_VOLUME: &str = "secret-files";

pub(super) fn files_name(service: &str) -> String {
    format!("{service}-files")
}

/// The ConfigMap of `files:`, if there are any.
pub(super) fn files_config_map(w: &Workload, ns: &str, labels: &Labels) -> Option<ConfigMap> {
    let files = w.spec.files.as_ref().filter(|f| !f.is_empty())?;
    Some(ConfigMap {
        metadata: meta(&files_name(&w.service), ns, labels),
        data: Some(
            files
                .iter()
                .map(|(path, f)| (file_key(path), f.content.clone().unwrap_or_default()))
                .collect(),
        ),
        ..ConfigMap::default()
    })
}

/// The name of the claim `<service>-<volume>` of a Deployment (a StatefulSet's pods each
/// get `<volume>-<pod>` from its template).
fn claim_name(service: &str, volume: &str) -> String {
    format!("{service}-{volume}")
}

/// What the main container mounts besides `/tmp`, and the pod volumes behind it.
pub(super) struct Mounts {
    pub volumes: Vec<Volume>,
    pub mounts: Vec<VolumeMount>,
}

/// The pod's volumes and the main container's mounts; in a StatefulSet, new claims come
/// from its volumeClaimTemplates (named after the volume) and are mounted, not declared.
pub(super) fn mounts(w: &Workload, stateful: bool) -> Mounts {
    let mut out = Mounts {
        volumes: Vec::new(),
        mounts: Vec::new(),
    };
    file_mounts(w, &mut out);
    for (name, v) in w.spec.volumes.iter().flatten() {
        let Some(path) = &v.mount_path else { continue };
        out.mounts.push(VolumeMount {
            name: name.clone(),
            mount_path: path.clone(),
            read_only: v.read_only.filter(|r| *r),
            ..VolumeMount::default()
        });
        if !(stateful && v.claim.is_some()) {
            out.volumes.push(volume(&w.service, name, v));
        }
    }
    out
}

/// `files:` and `secretFiles:`, one `subPath` mount each.
fn file_mounts(w: &Workload, out: &mut Mounts) {
    let sub_path = |volume: &str, path: &str, key: String| VolumeMount {
        name: volume.to_owned(),
        mount_path: path.to_owned(),
        sub_path: Some(key),
        read_only: Some(true),
        ..VolumeMount::default()
    };
    let files = w.spec.files.iter().flatten();
    let mut any = false;
    for (path, _) in files {
        any = true;
        out.mounts
            .push(sub_path(FILES_VOLUME, path, file_key(path)));
    }
    if any {
        out.volumes.push(Volume {
            name: FILES_VOLUME.into(),
            config_map: Some(ConfigMapVolumeSource {
                name: files_name(&w.service),
                ..ConfigMapVolumeSource::default()
            }),
            ..Volume::default()
        });
    }
    let secret_files = w.spec.secret_files.iter().flatten();
    let mut any = false;
    for (path, key) in secret_files {
        any = true;
        out.mounts
            .push(sub_path(SECRET_FILES_VOLUME, path, key.clone()));
    }
    if any {
        out.volumes.push(Volume {
            name: SECRET_FILES_VOLUME.into(),
            secret: Some(SecretVolumeSource {
                secret_name: Some(secret_name(&w.service)),
                // Readable by the pod's group (fsGroup), nobody else.
                default_mode: Some(0o440),
                ..SecretVolumeSource::default()
            }),
            ..Volume::default()
        });
    }
}

fn volume(service: &str, name: &str, v: &VolumeSpec) -> Volume {
    let mut volume = Volume {
        name: name.to_owned(),
        ..Volume::default()
    };
    if let Some(e) = &v.empty_dir {
        volume.empty_dir = Some(EmptyDirVolumeSource {
            medium: e.medium.clone(),
            size_limit: Some(Quantity(
                e.size_limit
                    .clone()
                    .unwrap_or_else(|| EMPTY_DIR_LIMIT.into()),
            )),
        });
    }
    let claim = match (&v.claim, &v.existing_claim) {
        (Some(_), _) => Some(claim_name(service, name)),
        (None, Some(existing)) => Some(existing.clone()),
        (None, None) => None,
    };
    volume.persistent_volume_claim = claim.map(|claim_name| PersistentVolumeClaimVolumeSource {
        claim_name,
        read_only: v.read_only.filter(|r| *r),
    });
    volume.csi = v.csi.as_ref().map(|c| CSIVolumeSource {
        driver: c.driver.clone(),
        read_only: c.read_only,
        volume_attributes: c.volume_attributes.clone(),
        ..CSIVolumeSource::default()
    });
    volume
}

fn claim_spec(c: &ClaimSpec) -> PersistentVolumeClaimSpec {
    let modes = c.access_modes.clone().unwrap_or_default();
    PersistentVolumeClaimSpec {
        access_modes: Some(if modes.is_empty() {
            vec!["ReadWriteOnce".into()]
        } else {
            modes.iter().map(|m| m.as_str().to_owned()).collect()
        }),
        storage_class_name: c.storage_class_name.clone(),
        resources: Some(VolumeResourceRequirements {
            requests: Some(BTreeMap::from([(
                "storage".to_owned(),
                Quantity(c.size.clone().unwrap_or_default()),
            )])),
            ..VolumeResourceRequirements::default()
        }),
        ..PersistentVolumeClaimSpec::default()
    }
}

/// The claims a Deployment's `claim:` volumes create, `<service>-<volume>` each. Argo CD
/// never prunes them: the data outlives a rename.
pub(super) fn claims(w: &Workload, ns: &str, labels: &Labels) -> Vec<PersistentVolumeClaim> {
    w.spec
        .volumes
        .iter()
        .flatten()
        .filter_map(|(name, v)| {
            let c = v.claim.as_ref()?;
            let mut metadata = meta(&claim_name(&w.service, name), ns, labels);
            metadata.annotations = Some(BTreeMap::from([(
                "argocd.argoproj.io/sync-options".to_owned(),
                "Prune=false".to_owned(),
            )]));
            Some(PersistentVolumeClaim {
                metadata,
                spec: Some(claim_spec(c)),
                ..PersistentVolumeClaim::default()
            })
        })
        .collect()
}

/// A StatefulSet's volumeClaimTemplates: one per `claim:` volume, named after it.
pub(super) fn claim_templates(w: &Workload, labels: &Labels) -> Vec<PersistentVolumeClaim> {
    w.spec
        .volumes
        .iter()
        .flatten()
        .filter_map(|(name, v)| {
            let c = v.claim.as_ref()?;
            Some(PersistentVolumeClaim {
                metadata: ObjectMeta {
                    name: Some(name.clone()),
                    labels: Some(labels.selector.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(claim_spec(c)),
                ..PersistentVolumeClaim::default()
            })
        })
        .collect()
}
