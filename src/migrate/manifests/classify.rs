//! What a difference between Helm's render and stencil's means. A fact only Helm renders,
//! or one stencil renders differently, is a loss unless a rule here says why stencil does
//! it on purpose; a fact only stencil renders is an addition, explained by a rule or
//! reported as unexplained. Each rule is one category with its reason, matched on the kind
//! and the fact's path.

/// The side a fact is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// Only Helm renders it.
    Helm,
    /// Both render it, with different values.
    Changed,
    /// Only stencil renders it.
    Stencil,
}

/// An explanation: the category (a heading of the report) and why.
pub(crate) struct Reason {
    pub category: &'static str,
    pub why: &'static str,
}

/// Whether a rule explains the fact: its kind, path, side and value (Helm's, or stencil's
/// when only stencil renders it).
type Matcher = fn(kind: &str, path: &str, side: Side, value: &str) -> bool;

const RULES: &[(Matcher, Reason)] = &[
    (
        |_, p, s, _| {
            let label = p.starts_with("labels[") || p.contains(".labels[");
            label && (s == Side::Stencil || helm_label(p))
        },
        Reason {
            category: "labels",
            why: "stencil's labels (app.kubernetes.io/*, stencil.dev/tenant, service, environment) replace Helm's (helm.sh/chart, managed-by Helm, the chart's own)",
        },
    ),
    (
        |_, p, s, _| {
            s != Side::Helm
                && (p.contains("securityContext") || p.ends_with("automountServiceAccountToken"))
        },
        Reason {
            category: "hardening",
            why: "every pod runs as uid 1000, non-root, read-only root filesystem, no privilege escalation, all capabilities dropped, RuntimeDefault seccomp, no service account token",
        },
    ),
    (
        |_, p, s, _| {
            s == Side::Stencil && (p.contains("mounts[/tmp]") || p.contains(".mounts[/tmp]"))
        },
        Reason {
            category: "hardening",
            why: "a read-only root filesystem needs a writable /tmp: an emptyDir per container",
        },
    ),
    (
        |_, p, s, _| s == Side::Stencil && p.contains("annotations[checksum/"),
        Reason {
            category: "checksums",
            why: "checksum/config and checksum/secrets roll the pods when their env, files or secrets change",
        },
    ),
    (
        |_, p, s, _| s == Side::Helm && p.contains("annotations[reloader.stakater.com/auto]"),
        Reason {
            category: "checksums",
            why: "stencil rolls pods by checksum on every config change instead of Reloader watching them",
        },
    ),
    (
        |_, p, s, _| s == Side::Stencil && p.contains("topologySpreadConstraints"),
        Reason {
            category: "spread",
            why: "replicas spread over zones and nodes (ScheduleAnyway)",
        },
    ),
    (
        |k, p, s, _| {
            s != Side::Helm
                && matches!(k, "Deployment" | "StatefulSet")
                && (p.starts_with("strategy") || p == "revisionHistoryLimit")
        },
        Reason {
            category: "rollout defaults",
            why: "rolling updates never take a pod down before its replacement (maxUnavailable 0, maxSurge 25%); 5 revisions kept",
        },
    ),
    (
        |k, p, s, v| {
            s == Side::Helm && k == "Deployment" && p == "progressDeadlineSeconds" && v == "600"
        },
        Reason {
            category: "rollout defaults",
            why: "the chart writes Kubernetes' default (600 s); stencil leaves it to the default",
        },
    ),
    (
        |k, p, s, _| {
            s == Side::Stencil
                && matches!(k, "Job" | "CronJob")
                && (p.contains(".containers.")
                    || p.contains(".tolerations")
                    || p.contains(".nodeSelector")
                    || p.contains(".affinity")
                    || p.contains(".priorityClassName")
                    || p.contains(".serviceAccountName"))
        },
        Reason {
            category: "jobs inherit the service",
            why: "a job runs with the service's env, secrets, resources, service account and scheduling unless it sets its own",
        },
    ),
    (
        |k, p, s, _| {
            s == Side::Stencil
                && matches!(k, "Job" | "CronJob")
                && (p.ends_with("backoffLimit")
                    || p.ends_with("activeDeadlineSeconds")
                    || p.ends_with("restartPolicy")
                    || p.ends_with("HistoryLimit")
                    || p == "concurrencyPolicy")
        },
        Reason {
            category: "job defaults",
            why: "a job gives up after 2 retries or an hour, is not restarted in place, and a cron job keeps 3/1 runs and never overlaps",
        },
    ),
    (
        |_, p, s, _| {
            s == Side::Stencil
                && p.contains("pod.init.")
                && (p.contains(".env.") || p.contains(".resources.") || p.contains(".env["))
        },
        Reason {
            category: "init containers inherit the service",
            why: "an init container runs with the service's env and, unless it sets its own, resources",
        },
    ),
    (
        |_, p, s, v| s == Side::Helm && p.ends_with("pod.enableServiceLinks") && v == "true",
        Reason {
            category: "kubernetes defaults",
            why: "the chart writes `enableServiceLinks: true`, Kubernetes' default",
        },
    ),
    (
        |k, p, s, v| s == Side::Helm && k == "CronJob" && p == "suspend" && v == "false",
        Reason {
            category: "kubernetes defaults",
            why: "the chart writes `suspend: false`, Kubernetes' default",
        },
    ),
    (
        |k, p, s, v| {
            s == Side::Helm
                && k == "Ingress"
                && p == "annotations[kubernetes.io/tls-acme]"
                && v == "\"true\""
        },
        Reason {
            category: "tls",
            why: "cert-manager.io/cluster-issuer on the Ingress names the issuer; kubernetes.io/tls-acme is not needed beside it",
        },
    ),
    (
        |k, p, s, _| {
            s == Side::Stencil
                && k == "PersistentVolumeClaim"
                && p.contains("annotations[argocd.argoproj.io/sync-options]")
        },
        Reason {
            category: "argo cd",
            why: "a claim is never pruned by a sync: its data outlives a rename (Prune=false)",
        },
    ),
    (
        |k, p, s, _| {
            s == Side::Stencil && k == "PrometheusRule" && p.contains("labels.stencil_dev_")
        },
        Reason {
            category: "labels",
            why: "alerts carry stencil_dev_tenant and stencil_dev_service so that routing finds the team",
        },
    ),
    (
        |_, p, s, _| s == Side::Stencil && (p.contains("Probe.") || p.contains("probe")),
        Reason {
            category: "probes",
            why: "the main container starts behind a startup probe gating liveness and readiness; unset timings take stencil's defaults",
        },
    ),
    (
        |_, p, s, _| s == Side::Stencil && p.contains("imagePullPolicy"),
        Reason {
            category: "kubernetes defaults",
            why: "IfNotPresent, Kubernetes' default for a tagged image, written out",
        },
    ),
    (
        |k, p, s, _| s == Side::Stencil && k == "ServiceAccount" && p.starts_with("annotations"),
        Reason {
            category: "argo cd",
            why: "platform annotations of the service account",
        },
    ),
];

/// The labels a chart writes for its own bookkeeping, which stencil's labels replace (a
/// label of the tenant's own that stencil lost is a loss).
fn helm_label(path: &str) -> bool {
    const KEYS: [&str; 8] = [
        "[helm.sh/chart]",
        "[app.kubernetes.io/managed-by]",
        "[app.kubernetes.io/instance]",
        "[app.kubernetes.io/version]",
        "[app.kubernetes.io/name]",
        "[app.kubernetes.io/component]",
        "[app.kubernetes.io/part-of]",
        "[application.stakater.com/workload-class]",
    ];
    KEYS.iter().any(|k| path.ends_with(k))
}

/// Why a difference is on purpose, if it is.
pub(crate) fn explain(kind: &str, path: &str, side: Side, value: &str) -> Option<&'static Reason> {
    RULES
        .iter()
        .find(|(m, _)| m(kind, path, side, value))
        .map(|(_, r)| r)
}
