#!/usr/bin/env bash
# stencil against kustomize and Helm, side by side, in one run on one machine.
#
#   bench/compare.sh [N ...]        (default: 100 1000 10000 tenants)
#
# For each N, `stencil-dev bench-repo --peers` (the dev crate, dev/) writes N tenants x 3
# services (secrets, sidecar, HPA, ingress, 3-level extends for prod tenants) in stencil's
# layout, as a kustomize base +
# per-tenant overlays, and as a universal Helm chart + layered per-tenant values files; all
# three render the same objects (tests/it/interop.rs checks it). One app = a tenant workspace
# (its Namespace) or a tenant x service: 4N apps, as Argo CD would run them.
#
# Measured (hyperfine medians; peak RSS from GNU time, for loops the largest process):
#   - whole repo: `stencil render` vs `kubectl kustomize` over every overlay vs `helm
#     template` over every app (loops run with xargs -P $(nproc): the peers get every core,
#     as stencil does) vs one `kubectl kustomize` of an overlay listing all overlays;
#   - one app as Argo CD runs it: `stencil argocd generate` in the app's folder with the
#     plugin environment vs one `kubectl kustomize` vs one `helm template`;
#   - peak RSS of `stencil validate` over the whole repository (one run);
#   - `stencil diff` between two commits at N = 1,000 where a base file changed (every
#     tenant's API server changes).
# Above PEER_LOOP_TENANTS tenants (default 1000) the peer loops run over the first
# PEER_SAMPLE_TENANTS (default 250) tenants' apps and are scaled to all apps (marked
# "extrapolated"): a peer renders each app from that app's files alone, so its per-app cost
# does not depend on N, and the full loops would take hours. The aggregate `kubectl kustomize
# all` runs only up to PEER_LOOP_TENANTS.
#
# Writes the tables to stdout and to BENCHMARKS.md. Needs ../shared/tools/get-peers (helm,
# kubectl), hyperfine and GNU time (installed from Debian when missing), python3.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100 1000 10000)
loop_max=${PEER_LOOP_TENANTS:-1000}
sample=${PEER_SAMPLE_TENANTS:-250}
cores=$(nproc)

apt_install() {
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq "$@" >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq "$@" >/dev/null; fi
}
command -v hyperfine >/dev/null 2>&1 || apt_install hyperfine
[ -x /usr/bin/time ] || apt_install time
[ -f ../shared/tools/get-peers ] || {
  echo "bench/compare.sh: ../shared/tools/get-peers not found (the peers come from it)" >&2; exit 1; }
peers=$(bash ../shared/tools/get-peers "$root/target/peers")
kubectl=$peers/kubectl
helm=$peers/helm
echo "== building stencil and stencil-dev (release)" >&2
cargo build --release --locked -q -p stencil -p stencil-dev
bin=$root/target/release/stencil
dev=$root/target/release/stencil-dev
export SOPS_AGE_KEY_FILE=$root/keys/demo-age-key.txt

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
results=$tmp/results.tsv # kind, N, name, median seconds, peak KiB, note
: > "$results"

# median NAME JSON: the median of one hyperfine --export-json result.
median() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' "$1"; }
# peak_kib CMD...: peak RSS in KiB of one run (for a pipeline, its largest process).
peak_kib() { /usr/bin/time -f '%M' -o "$tmp/rss" "$@" > /dev/null 2>&1; cat "$tmp/rss"; }
# measure KIND N NAME RUNS CMD [NOTE [SCALE]]: hyperfine median (times SCALE, for a sampled
# loop) + one peak RSS run, appended to results.
measure() {
  local kind=$1 n=$2 name=$3 runs=$4 cmd=$5 note=${6:-} scale=${7:-1}
  echo "== N=$n $name" >&2
  local rss secs
  if [ "$runs" = 1 ]; then
    # One run of a minutes-long loop: time and peak RSS from the same run.
    /usr/bin/time -f '%e %M' -o "$tmp/one" bash -c "$cmd" > /dev/null
    read -r secs rss < "$tmp/one"
    echo "   $secs s, $rss KiB" >&2
  else
    hyperfine --shell=bash --warmup "$([ "$runs" -gt 2 ] && echo 1 || echo 0)" --runs "$runs" \
      --export-json "$tmp/h.json" --style basic "$cmd" >&2
    secs=$(median "$tmp/h.json")
    rss=$(peak_kib bash -c "$cmd")
  fi
  [ "$scale" = 1 ] || secs=$(python3 -c "print($secs * $scale)")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$kind" "$n" "$name" "$secs" "$rss" "$note" >> "$results"
}

# measure_direct KIND N NAME RUNS CMD...: as measure, for one short command run without a
# shell (hyperfine -N): a shell's start would be a large part of a few milliseconds.
measure_direct() {
  local kind=$1 n=$2 name=$3 runs=$4
  shift 4
  echo "== N=$n $name" >&2
  hyperfine -N --warmup 3 --runs "$runs" --output=null --export-json "$tmp/h.json" \
    --style basic "$(printf '%q ' "$@")" >&2
  local secs rss
  secs=$(median "$tmp/h.json")
  rss=$(peak_kib "$@")
  printf '%s\t%s\t%s\t%s\t%s\t\n' "$kind" "$n" "$name" "$secs" "$rss" >> "$results"
}

for n in "${sizes[@]}"; do
  repo=$tmp/stencil-$n
  peer=$tmp/peers-$n
  echo "== writing N=$n (stencil, kustomize, helm)" >&2
  "$dev" bench-repo --out "$repo" --tenants "$n" --peers "$peer" 2>&1 | sed 's/^/   /' >&2
  apps=$(wc -l < "$peer/kustomize/apps.txt")
  runs_fast=10; runs_slow=3
  [ "$n" -ge 1000 ] && runs_slow=1
  [ "$n" -ge 10000 ] && runs_fast=3

  measure whole "$n" "stencil render" "$runs_fast" "$bin --repo $repo render > /dev/null"
  # Peak RSS of `stencil validate` (every tenant rendered and checked, nothing printed):
  # one run under GNU time, the time from the same run.
  echo "== N=$n stencil validate (peak RSS)" >&2
  /usr/bin/time -f '%e %M' -o "$tmp/one" "$bin" --repo "$repo" validate > /dev/null 2>&1
  read -r secs rss < "$tmp/one"
  printf 'validate\t%s\tstencil validate\t%s\t%s\t\n' "$n" "$secs" "$rss" >> "$results"
  scale=1; note=""; list_k=$peer/kustomize/apps.txt; list_h=$peer/helm/apps.txt
  if [ "$n" -gt "$loop_max" ]; then
    head -n $((sample * 4)) "$peer/kustomize/apps.txt" > "$tmp/k-sample.txt"; list_k=$tmp/k-sample.txt
    head -n $((sample * 4)) "$peer/helm/apps.txt" > "$tmp/h-sample.txt"; list_h=$tmp/h-sample.txt
    scale=$(python3 -c "print($apps / $((sample * 4)))")
    note="extrapolated x$scale from $((sample * 4)) apps"
  fi
  measure whole "$n" "kustomize loop" "$runs_slow" \
    "cd $peer/kustomize && xargs -P $cores -n 1 $kubectl kustomize < $list_k > /dev/null" "$note" "$scale"
  measure whole "$n" "helm loop" "$runs_slow" \
    "cd $peer/helm && xargs -P $cores -L 1 $helm template < $list_h > /dev/null" "$note" "$scale"
  if [ "$n" -le "$loop_max" ]; then
    # One build of every overlay grows faster than linearly (24 s at N=100, over 15 min at
    # N=1,000 here): bounded by AGGREGATE_TIMEOUT seconds, reported as "> limit" beyond it.
    limit=${AGGREGATE_TIMEOUT:-600}
    agg_runs=$runs_slow
    [ "$n" -ge 1000 ] && agg_runs=1
    if [ "$agg_runs" = 1 ]; then
      echo "== N=$n kubectl kustomize all (limit ${limit} s)" >&2
      if /usr/bin/time -f '%e %M' -o "$tmp/one" timeout "$limit" bash -c \
          "cd $peer/kustomize && $kubectl kustomize all > /dev/null"; then
        read -r secs rss < "$tmp/one"
        printf 'whole\t%s\tkubectl kustomize all\t%s\t%s\t\n' "$n" "$secs" "$rss" >> "$results"
      else
        printf 'whole\t%s\tkubectl kustomize all\t%s\t-\tstopped after %s s\n' "$n" "$limit" "$limit" >> "$results"
      fi
    else
      measure whole "$n" "kubectl kustomize all" "$agg_runs" "cd $peer/kustomize && $kubectl kustomize all > /dev/null"
    fi
  fi

  if [ "$n" = 1000 ] || { [ "$n" = "${sizes[0]}" ] && [[ ! " ${sizes[*]} " =~ " 1000 " ]]; }; then
    # One app, as Argo CD's cmp-server runs it: the middle tenant's API server.
    t=$(sed -n "$((apps / 2))p" "$peer/kustomize/apps.txt" | cut -d/ -f2)
    app_dir=$repo/tenants/$t/apiserver
    # In the app's folder with the plugin environment exported, as cmp-server runs it (not
    # through `env -C`, whose own start would be part of a few milliseconds).
    ( cd "$app_dir" && export ARGOCD_APP_SOURCE_PATH="tenants/$t/apiserver" \
        ARGOCD_ENV_TENANT="$t" ARGOCD_ENV_SERVICE=apiserver KUBE_VERSION=1.33.0 \
      && measure_direct app "$n" "stencil argocd generate" 100 "$bin" argocd generate )
    measure_direct app "$n" "kubectl kustomize (one overlay)" 10 \
      "$kubectl" kustomize "$peer/kustomize/tenants/$t/apiserver"
    line=$(grep "^$t-apiserver " "$peer/helm/apps.txt")
    # shellcheck disable=SC2086 # the line is helm's arguments, split on purpose
    ( cd "$peer/helm" && measure_direct app "$n" "helm template (one app)" 10 "$helm" template $line )

    # stencil diff between two commits: a base change that touches every tenant's API server.
    # Packed, as a clone (CI, Argo CD) is: with ~9,000 loose objects the second commit starts
    # git's auto gc detached, which packed the objects during some runs' timing and not others
    # (diff's system time 29 ms in one run, 113 ms in the next).
    ( cd "$repo" && git init -q -b main . && git add -A \
      && git -c gc.auto=0 -c user.name=bench -c user.email=bench@example.com commit -q -m init \
      && sed -i 's|readiness: { path: /ready }|readiness: { path: /readyz }|' base/apiserver/service.yaml \
      && git -c gc.auto=0 -c user.name=bench -c user.email=bench@example.com commit -q -am "readiness path" \
      && git gc -q )
    measure diff "$n" "stencil diff HEAD~1 HEAD" 5 "cd $repo && $bin diff --from HEAD~1 --to HEAD > /dev/null"
    measure diff "$n" "stencil diff --format markdown" 5 "cd $repo && $bin diff --from HEAD~1 --to HEAD --format markdown > /dev/null"
  fi
  rm -rf "$repo" "$peer"
done

python3 - "$results" "$cores" "$(git rev-parse --short HEAD)" "$("$helm" version --short)" \
  "$("$kubectl" version --client 2>/dev/null | tr '\n' ' ')" > "$tmp/BENCHMARKS.md" <<'PY'
import sys, datetime, platform
path, cores, rev, helm, kubectl = sys.argv[1:6]
rows = [l.rstrip("\n").split("\t") for l in open(path)]
def get(kind, n, name):
    for r in rows:
        if r[0] == kind and r[1] == n and r[2] == name:
            return r
    return None
def secs(v):
    v = float(v)
    return f"{v * 1000:.1f} ms" if v < 1 else f"{v:.2f} s"
def mib(kib):
    return f"{int(kib) / 1024:.0f} MiB" if kib != "-" else "-"
def ratio(a, b):
    return f"{float(b) / float(a):.0f}x" if float(b) / float(a) >= 10 else f"{float(b) / float(a):.1f}x"
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
out = []
out.append("# Benchmarks: stencil vs kustomize and Helm\n")
out.append(f"Produced by `bench/compare.sh` on {datetime.date.today()} ({cores} cores, {cpu}); "
           f"stencil {rev}, helm {helm}, {kubectl.strip()}. Medians of hyperfine runs in one run "
           "of the script; absolute times on a shared machine are noisy, the ratios within the run "
           "are the figures that count. Peers get their secrets as plaintext (no sops step); "
           "stencil decrypts every SOPS file. Peer loops run `xargs -P <cores>`.\n")
sizes = sorted({r[1] for r in rows}, key=int)
out.append("## Whole repository (N tenants x 3 services + N namespaces = 4N apps)\n")
out.append("| N | stencil render | kustomize loop | helm loop | kubectl kustomize all | kustomize loop / stencil | helm loop / stencil | kustomize all / stencil |")
out.append("|---|---|---|---|---|---|---|---|")
notes = []
for n in sizes:
    s, k, h, a = (get("whole", n, x) for x in ("stencil render", "kustomize loop", "helm loop", "kubectl kustomize all"))
    if not s:
        continue
    mark = lambda r: ("> " + secs(r[3]) if r[5].startswith("stopped") else secs(r[3]) + (" *" if r[5] else "")) if r else "-"
    for r in (k, h, a):
        if r and r[5]:
            notes.append(f"N={n} {r[2]}: {r[5]}")
    out.append(f"| {int(n):,} | {secs(s[3])} | {mark(k)} | {mark(h)} | {mark(a)} | "
               f"{ratio(s[3], k[3]) if k else '-'} | {ratio(s[3], h[3]) if h else '-'} | {(('> ' if a[5] else '') + ratio(s[3], a[3])) if a else '-'} |")
out.append("")
for note in notes:
    out.append(f"\\* {note}  ")
out.append("\n### Peak RSS (whole repository; loops: the largest process)\n")
out.append("| N | stencil render | kubectl kustomize (loop) | helm template (loop) | kubectl kustomize all |")
out.append("|---|---|---|---|---|")
for n in sizes:
    rs = [get("whole", n, x) for x in ("stencil render", "kustomize loop", "helm loop", "kubectl kustomize all")]
    if rs[0]:
        out.append(f"| {int(n):,} | " + " | ".join(mib(r[4]) if r else "-" for r in rs) + " |")
validates = [r for r in rows if r[0] == "validate"]
if validates:
    out.append("\n### `stencil validate` (every tenant rendered and checked, one run)\n")
    out.append("| N | time | peak RSS |")
    out.append("|---|---|---|")
    for r in validates:
        out.append(f"| {int(r[1]):,} | {secs(r[3])} | {mib(r[4])} |")
ns = [n for n in sizes if get("whole", n, "stencil render")]
if len(ns) > 1:
    out.append("\n### Scaling of `stencil render`\n")
    out.append("| from N | to N | time ratio | N ratio |")
    out.append("|---|---|---|---|")
    for a, b in zip(ns, ns[1:]):
        ta, tb = float(get("whole", a, "stencil render")[3]), float(get("whole", b, "stencil render")[3])
        out.append(f"| {int(a):,} | {int(b):,} | {tb / ta:.1f}x | {int(b) / int(a):g}x |")
apps = [r for r in rows if r[0] == "app"]
if apps:
    n = apps[0][1]
    out.append(f"\n## One app as Argo CD renders it (N = {int(n):,}, a prod tenant's API server)\n")
    out.append("| command | median | peak RSS | vs stencil |")
    out.append("|---|---|---|---|")
    st = get("app", n, "stencil argocd generate")
    for r in apps:
        out.append(f"| `{r[2]}` | {secs(r[3])} | {mib(r[4])} | {ratio(st[3], r[3]) if r is not st else '1x'} |")
diffs = [r for r in rows if r[0] == "diff"]
if diffs:
    n = diffs[0][1]
    out.append(f"\n## `stencil diff` between two commits (N = {int(n):,}, a base change reaching every tenant's API server)\n")
    out.append("| command | median | peak RSS |")
    out.append("|---|---|---|")
    for r in diffs:
        out.append(f"| `{r[2]}` | {secs(r[3])} | {mib(r[4])} |")
print("\n".join(out))
PY
cp "$tmp/BENCHMARKS.md" "$root/BENCHMARKS.md"
cat "$root/BENCHMARKS.md"
