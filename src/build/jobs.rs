//! Jobs and CronJobs of a service. Each runs one container named after the job, with the
//! service's image unless it names its own (so `stencil bump` moves both), its env
//! ConfigMap and secrets, service account and resources unless it sets its own, and the
//! same hardened pod as the service (own `/tmp`, non-root, read-only root). Defaults a
//! platform team wants: `concurrencyPolicy: Forbid`, history 3 succeeded / 1 failed,
//! `backoffLimit: 2`, `activeDeadlineSeconds: 3600`, `restartPolicy: Never`.
//!
//! A job with `hook:` is an Argo CD resource hook (a PreSync migration by default deleted
//! before the next sync creates it again) named `<service>-<job>`. Any other job is named
//! `<service>-<job>-<hash of its spec, patched>`: a Job's template cannot change in place,
//! so a new image, env or patch makes a new Job, and the old one is pruned. A job runs the
//! image's entrypoint unless it sets `command` (it does not take the service's).

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, Job, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{Container, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use sha2::{Digest as _, Sha256};

use super::Labels;
use super::workload::{RunsOnce, meta, pod_annotations, pod_spec, runs_once, tmp_volume};
use crate::error::{Diagnostic, Result};
use crate::model::{ConcurrencyPolicy, HookDeletePolicy, HookPhase};
use crate::policy::{JobPlan, Workload};

const HOOK: &str = "argocd.argoproj.io/hook";
const HOOK_DELETE_POLICY: &str = "argocd.argoproj.io/hook-delete-policy";
const SYNC_WAVE: &str = "argocd.argoproj.io/sync-wave";

fn u32_to_i32(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

/// The job's pods: the service's labels, but named after the job, so that neither the
/// service's selector (Service, PodDisruptionBudget, anti-affinity) nor another job's
/// matches them.
fn pod_labels(w: &Workload, job: &JobPlan, labels: &Labels) -> BTreeMap<String, String> {
    let mut pod = labels.common.clone();
    pod.insert(
        "app.kubernetes.io/name".into(),
        format!("{}-{}", w.service, job.name),
    );
    pod.insert(
        "app.kubernetes.io/component".into(),
        if job.scheduled { "cronjob" } else { "job" }.into(),
    );
    pod
}

fn container(w: &Workload, job: &JobPlan) -> Container {
    let (_, mount) = tmp_volume("tmp");
    let spec = &job.spec;
    // The image's entrypoint unless the job says otherwise: a job does something else than
    // the service, so it does not take the service's command.
    let own = RunsOnce {
        name: &job.name,
        image: &job.image,
        image_spec: spec.image.as_ref(),
        command: spec.command.as_ref(),
        args: spec.args.as_ref(),
        env: spec.env.as_ref(),
        resources: spec.resources.as_ref(),
    };
    runs_once(w, &own, mount)
}

fn job_spec(w: &Workload, job: &JobPlan, labels: &Labels) -> JobSpec {
    let (volume, _) = tmp_volume("tmp");
    let mut pod = pod_spec(w, vec![container(w, job)], vec![volume]);
    pod.restart_policy = Some(
        job.spec
            .restart_policy
            .map_or("Never", |p| p.as_str())
            .to_owned(),
    );
    super::scheduling::apply(w.spec.scheduling.as_ref(), labels, false, &mut pod);
    JobSpec {
        backoff_limit: Some(job.spec.backoff_limit.map_or(2, u32_to_i32)),
        active_deadline_seconds: Some(job.spec.active_deadline_seconds.map_or(3600, i64::from)),
        ttl_seconds_after_finished: job.spec.ttl_seconds_after_finished.map(u32_to_i32),
        template: PodTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: Some(pod_labels(w, job, labels)),
                annotations: Some(pod_annotations(w)),
                ..ObjectMeta::default()
            }),
            spec: Some(pod),
        },
        ..JobSpec::default()
    }
}

/// The first 8 hex digits of SHA-256 over the JSON of a job's spec.
fn spec_hash(spec: &serde_json::Value) -> Result<String> {
    let bytes = serde_json::to_vec(spec)
        .map_err(|e| Diagnostic::new(format!("cannot serialize a job: {e}")))?;
    Ok(Sha256::digest(&bytes)
        .iter()
        .take(4)
        .map(|b| format!("{b:02x}"))
        .collect())
}

pub(super) fn job(w: &Workload, job: &JobPlan, ns: &str, labels: &Labels) -> Result<Job> {
    let spec = job_spec(w, job, labels);
    // A plain job is named after its content once patched (see `name_by_content`).
    let mut metadata = meta(&format!("{}-{}", w.service, job.name), ns, labels);
    if let Some(hook) = &job.spec.hook {
        let mut notes = BTreeMap::from([
            (
                HOOK.to_owned(),
                hook.phase.unwrap_or(HookPhase::PreSync).as_str().to_owned(),
            ),
            (
                HOOK_DELETE_POLICY.to_owned(),
                hook.delete_policy
                    .unwrap_or(HookDeletePolicy::BeforeHookCreation)
                    .as_str()
                    .to_owned(),
            ),
        ]);
        if let Some(wave) = hook.sync_wave {
            notes.insert(SYNC_WAVE.to_owned(), wave.to_string());
        }
        metadata.annotations = Some(notes);
    }
    Ok(Job {
        metadata,
        spec: Some(spec),
        ..Job::default()
    })
}

/// Names each plain job (no hook) `<service>-<job>-<hash of its spec>`, after patches: a
/// patch that changes the pod makes a new Job, as a new image does. Patches target it by
/// `<service>-<job>`.
pub(super) fn name_by_content(objects: &mut [crate::object::Object], w: &Workload) -> Result<()> {
    for job in w
        .jobs
        .iter()
        .filter(|j| !j.scheduled && j.spec.hook.is_none())
    {
        let base = format!("{}-{}", w.service, job.name);
        for o in objects
            .iter_mut()
            .filter(|o| o.kind == "Job" && !o.extra && o.name == base)
        {
            let hash = spec_hash(o.value.get("spec").unwrap_or(&serde_json::Value::Null))?;
            let name = format!("{base}-{hash}");
            if let Some(meta) = o.value.get_mut("metadata").and_then(|m| m.as_object_mut()) {
                meta.insert("name".into(), serde_json::Value::String(name.clone()));
            }
            o.name = name;
        }
    }
    Ok(())
}

pub(super) fn cron_job(w: &Workload, job: &JobPlan, ns: &str, labels: &Labels) -> CronJob {
    let s = &job.spec;
    CronJob {
        metadata: meta(&format!("{}-{}", w.service, job.name), ns, labels),
        spec: Some(CronJobSpec {
            schedule: s.schedule.clone().unwrap_or_default(),
            time_zone: s.time_zone.clone(),
            concurrency_policy: Some(
                s.concurrency_policy
                    .unwrap_or(ConcurrencyPolicy::Forbid)
                    .as_str()
                    .to_owned(),
            ),
            suspend: s.suspend,
            successful_jobs_history_limit: Some(
                s.successful_jobs_history_limit.map_or(3, u32_to_i32),
            ),
            failed_jobs_history_limit: Some(s.failed_jobs_history_limit.map_or(1, u32_to_i32)),
            starting_deadline_seconds: s.starting_deadline_seconds.map(i64::from),
            job_template: JobTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(pod_labels(w, job, labels)),
                    ..ObjectMeta::default()
                }),
                spec: Some(job_spec(w, job, labels)),
            },
        }),
        ..CronJob::default()
    }
}
