//! `jobs:` and `cronJobs:`: names that make valid object names, a schedule exactly where one
//! belongs, cron-only and hook-only fields in their place, and an image that inherits the
//! service's (so `stencil bump` moves a job's tag with the service's) and is checked like it
//! (never `latest`).

use super::SpecCtx;
use super::image::check_image;
use crate::error::Diagnostic;
use crate::model::{ImageSpec, JobSpec, Rule};
use crate::names::{check_dns_label, check_env_name};
use crate::node::Node;
use crate::origin::Origin;
use crate::policy::fields::{check_quantities, check_resources};
use crate::policy::{ImageRef, JobPlan};

/// Which map a job is declared in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Cron,
    Once,
}

impl Kind {
    fn key(self) -> &'static str {
        match self {
            Kind::Cron => "cronJobs",
            Kind::Once => "jobs",
        }
    }

    /// The longest job name: a CronJob's own name is at most 52 characters (its Jobs add a
    /// suffix), a Job's 63 with the 9 of its `-<hash>` suffix.
    fn max_object_name(self) -> usize {
        match self {
            Kind::Cron => 52,
            Kind::Once => 54,
        }
    }
}

/// Checks every job and cron job; returns those that can be built, cron jobs first.
pub(super) fn check(
    ctx: &SpecCtx,
    service_image: Option<&ImageRef>,
    out: &mut Vec<Diagnostic>,
) -> Vec<JobPlan> {
    let mut plans = Vec::new();
    for (kind, map) in [
        (Kind::Cron, ctx.spec.cron_jobs.as_ref()),
        (Kind::Once, ctx.spec.jobs.as_ref()),
    ] {
        for (name, spec) in map.into_iter().flatten() {
            let node = ctx
                .tree
                .get(kind.key())
                .and_then(|m| m.get(name))
                .unwrap_or(ctx.tree);
            let job = Job {
                kind,
                name,
                spec,
                node,
            };
            plans.extend(check_one(ctx, &job, service_image, out));
        }
    }
    for name in ctx.spec.jobs.iter().flat_map(|m| m.keys()) {
        if ctx
            .spec
            .cron_jobs
            .as_ref()
            .is_some_and(|c| c.contains_key(name))
        {
            out.push(
                Diagnostic::new(format!("`{name}` is both a job and a cron job"))
                    .at(&ctx.at(&["jobs", name]))
                    .hint("their pods are labelled by name; give each its own"),
            );
        }
    }
    plans
}

struct Job<'a> {
    kind: Kind,
    name: &'a str,
    spec: &'a JobSpec,
    node: &'a Node,
}

impl Job<'_> {
    fn at(&self, key: &str) -> Origin {
        self.node
            .get(key)
            .map_or_else(|| self.node.origin.clone(), |n| n.origin.clone())
    }
}

fn check_one(
    ctx: &SpecCtx,
    job: &Job,
    service_image: Option<&ImageRef>,
    out: &mut Vec<Diagnostic>,
) -> Option<JobPlan> {
    name(ctx, job, out);
    schedule(job, out);
    time_zone(job, out);
    fields_in_place(job, out);
    for name in job.spec.env.iter().flat_map(|e| e.keys()) {
        if let Err(msg) = check_env_name(name) {
            let at = job.node.get("env").and_then(|e| e.get(name));
            out.push(
                Diagnostic::new(msg).at(&at.map_or_else(|| job.at("env"), |n| n.origin.clone())),
            );
        }
    }
    check_quantities(job.node, job.spec.resources.as_ref(), &mut |d| out.push(d));
    if job.spec.resources.is_some() && !ctx.allows(Rule::Resources) {
        let resources = job.spec.resources.as_ref();
        check_resources(job.node, resources, job.name, &mut |d| out.push(d));
    }
    let image = inherited_image(
        ctx,
        job.node,
        job.spec.image.as_ref(),
        job.name,
        service_image,
        out,
    )?;
    Some(JobPlan {
        name: job.name.to_owned(),
        scheduled: job.kind == Kind::Cron,
        spec: job.spec.clone(),
        image,
    })
}

/// A DNS label that, prefixed with the service's name, still makes a valid object name.
fn name(ctx: &SpecCtx, job: &Job, out: &mut Vec<Diagnostic>) {
    let full = format!("{}-{}", ctx.service, job.name);
    let max = job.kind.max_object_name();
    if let Err(msg) = check_dns_label(job.name, 63) {
        out.push(Diagnostic::new(format!("job name {msg}")).at(&job.node.origin));
    } else if full.len() > max {
        out.push(
            Diagnostic::new(format!(
                "{} `{full}` is {} characters; Kubernetes allows {max} here",
                job.kind.key(),
                full.len()
            ))
            .at(&job.node.origin)
            .hint("the object is named `<service>-<job>`; shorten the job's name"),
        );
    }
}

/// A cron job has a valid schedule; a job has none.
fn schedule(job: &Job, out: &mut Vec<Diagnostic>) {
    match (job.kind, job.spec.schedule.as_deref()) {
        (Kind::Cron, None) => out.push(
            Diagnostic::new(format!("cron job `{}` has no schedule", job.name))
                .at(&job.node.origin)
                .hint("set `schedule:` (cron syntax, e.g. `*/15 * * * *`, or `@daily`)"),
        ),
        (Kind::Cron, Some(text)) => {
            if let Err(msg) = check_schedule(text) {
                out.push(Diagnostic::new(msg).at(&job.at("schedule")).hint(
                    "five fields (minute hour day-of-month month day-of-week) or @hourly, @daily, @weekly, @monthly, @yearly; the time zone goes in `timeZone:`",
                ));
            }
        }
        (Kind::Once, Some(_)) => out.push(
            Diagnostic::new(format!("job `{}` has a schedule", job.name))
                .at(&job.at("schedule"))
                .hint("a scheduled job belongs under `cronJobs:`"),
        ),
        (Kind::Once, None) => {}
    }
}

/// A cron schedule Kubernetes accepts: a macro or five fields of digits, names and
/// `* ? , - /`. `TZ=` and `CRON_TZ=` prefixes are refused (Kubernetes refuses them too).
pub(crate) fn check_schedule(text: &str) -> Result<(), String> {
    const MACROS: [&str; 7] = [
        "@yearly",
        "@annually",
        "@monthly",
        "@weekly",
        "@daily",
        "@midnight",
        "@hourly",
    ];
    let shown = crate::error::clip(text, 80);
    if MACROS.contains(&text) {
        return Ok(());
    }
    if text.contains("TZ=") {
        return Err(format!(
            "schedule `{shown}` sets a time zone in the schedule; Kubernetes refuses that"
        ));
    }
    let fields: Vec<&str> = text.split(' ').filter(|f| !f.is_empty()).collect();
    if fields.len() != 5 || !text.chars().all(|c| c == ' ' || !c.is_whitespace()) {
        return Err(format!(
            "schedule `{shown}` has {} fields; a cron schedule has five",
            fields.len()
        ));
    }
    for (field, (name, range, names)) in fields.iter().zip(CRON_FIELDS) {
        if !cron_field(field, range, names) {
            return Err(format!(
                "schedule `{shown}`: `{}` is not a valid {name} ({}-{}{})",
                crate::error::clip(field, 40),
                range.0,
                range.1,
                if names.is_empty() { "" } else { ", or a name" }
            ));
        }
    }
    Ok(())
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// Each field of a schedule: its name, its range and the names it takes.
const CRON_FIELDS: [(&str, (u32, u32), &[&str]); 5] = [
    ("minute", (0, 59), &[]),
    ("hour", (0, 23), &[]),
    ("day of month", (1, 31), &[]),
    ("month", (1, 12), &MONTHS),
    ("day of week", (0, 7), &DAYS),
];

/// A field: comma-separated items, each `*` or `?`, a value or a range, with an optional
/// `/step`.
fn cron_field(field: &str, range: (u32, u32), names: &[&str]) -> bool {
    let value = |v: &str| -> Option<u32> {
        match v.parse::<u32>() {
            Ok(n) => (range.0..=range.1).contains(&n).then_some(n),
            Err(_) => names
                .iter()
                .position(|n| n.eq_ignore_ascii_case(v))
                .and_then(|i| u32::try_from(i).ok())
                .map(|i| i + range.0.min(1) * u32::from(names.len() == 12)),
        }
    };
    field.split(',').all(|item| {
        let (base, step) = match item.split_once('/') {
            Some((b, s)) => (b, Some(s)),
            None => (item, None),
        };
        let step_ok = step.is_none_or(|s| s.parse::<u32>().is_ok_and(|n| n > 0));
        let base_ok = match base {
            "*" | "?" => true,
            _ => match base.split_once('-') {
                Some((a, b)) => matches!((value(a), value(b)), (Some(a), Some(b)) if a <= b),
                None => value(base).is_some(),
            },
        };
        step_ok && base_ok
    })
}

/// An IANA time zone name (`Europe/Berlin`, `Etc/UTC`).
fn time_zone(job: &Job, out: &mut Vec<Diagnostic>) {
    let Some(tz) = job.spec.time_zone.as_deref() else {
        return;
    };
    let valid = !tz.is_empty()
        && tz.len() <= 64
        && !tz.starts_with('/')
        && !tz.contains("..")
        && tz
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'));
    if job.kind == Kind::Once {
        out.push(
            Diagnostic::new(format!("job `{}` has a timeZone", job.name))
                .at(&job.at("timeZone"))
                .hint("only a cron job has a schedule to place in a time zone"),
        );
    } else if !valid {
        out.push(
            Diagnostic::new(format!(
                "timeZone `{}` is not a time zone name",
                crate::error::clip(tz, 80)
            ))
            .at(&job.at("timeZone"))
            .hint("an IANA name such as `Europe/Berlin` or `Etc/UTC`"),
        );
    }
}

/// Cron-only fields under `cronJobs:`, the Argo CD hook under `jobs:`.
fn fields_in_place(job: &Job, out: &mut Vec<Diagnostic>) {
    let s = job.spec;
    let misplaced: &[(&str, bool)] = match job.kind {
        Kind::Cron => &[("hook", s.hook.is_some())],
        Kind::Once => &[
            ("concurrencyPolicy", s.concurrency_policy.is_some()),
            ("suspend", s.suspend.is_some()),
            (
                "successfulJobsHistoryLimit",
                s.successful_jobs_history_limit.is_some(),
            ),
            (
                "failedJobsHistoryLimit",
                s.failed_jobs_history_limit.is_some(),
            ),
            (
                "startingDeadlineSeconds",
                s.starting_deadline_seconds.is_some(),
            ),
        ],
    };
    for (key, _) in misplaced.iter().filter(|(_, set)| *set) {
        let hint = match job.kind {
            Kind::Cron => "an Argo CD hook runs once per sync: declare it under `jobs:`",
            Kind::Once => "this field schedules runs: declare the job under `cronJobs:`",
        };
        out.push(
            Diagnostic::new(format!(
                "`{key}` does not apply to {} `{}`",
                job.kind.key(),
                job.name
            ))
            .at(&job.at(key))
            .hint(hint),
        );
    }
}

/// The image of a job or an init container: its own `image:` where set, the service's
/// repository and tag where not (a repository alone takes the service's tag, so `stencil
/// bump` moves both), checked like every image.
pub(super) fn inherited_image(
    ctx: &SpecCtx,
    node: &Node,
    own: Option<&ImageSpec>,
    container: &str,
    service_image: Option<&ImageRef>,
    out: &mut Vec<Diagnostic>,
) -> Option<ImageRef> {
    let service = ctx.spec.image.as_ref();
    let own_repository = own.and_then(|i| i.repository.clone());
    let same_repository = own_repository.is_none()
        || own_repository.as_deref() == service.and_then(|i| i.repository.as_deref());
    let merged = ImageSpec {
        repository: own_repository.or_else(|| service.and_then(|i| i.repository.clone())),
        tag: own
            .and_then(|i| i.tag.clone())
            .or_else(|| service.and_then(|i| i.tag.clone())),
        // A digest pins one image: inherited only with the repository and the tag.
        digest: own.and_then(|i| i.digest.clone()).or_else(|| {
            (same_repository && own.and_then(|i| i.tag.as_ref()).is_none())
                .then(|| service.and_then(|i| i.digest.clone()))
                .flatten()
        }),
        pull_policy: own
            .and_then(|i| i.pull_policy)
            .or_else(|| service.and_then(|i| i.pull_policy)),
    };
    if own.is_none() && service_image.is_none() {
        // The service's image was reported already.
        return None;
    }
    let allow_mutable = ctx.allows(Rule::MutableImageTag);
    check_image(node, Some(&merged), container, allow_mutable, out)
}

#[cfg(test)]
mod tests {
    use super::check_schedule;

    #[test]
    fn schedules_kubernetes_accepts_pass() {
        for ok in [
            "*/15 * * * *",
            "0 3 * * MON-FRI",
            "0 0 1 JAN,jul *",
            "5 4 * * 0,7",
            "0 */2 1-15 * ?",
            "@daily",
            "@hourly",
        ] {
            assert_eq!(check_schedule(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn schedules_out_of_range_or_malformed_are_refused() {
        for bad in [
            "99 99 foo bar baz",
            "60 * * * *",
            "* 24 * * *",
            "* * 0 * *",
            "* * * 13 *",
            "* * * * 8",
            "*/0 * * * *",
            "5-1 * * * *",
            "* * * * MON-",
            "* * *",
            "TZ=UTC 0 * * * *",
            "@every 5m",
        ] {
            assert!(check_schedule(bad).is_err(), "{bad}");
        }
    }
}
