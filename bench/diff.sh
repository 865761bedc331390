#!/usr/bin/env bash
# Benchmark: `stencil diff` and `stencil affected` between two revisions of a synthetic
# repository of N tenants x 3 services (default 1,000; secrets per tenant) where a base file
# changed (the API server's readiness path: every tenant's apiserver changes).
# Budget (issue 6): diff under 3 s on 2 cores.
#   bench/diff.sh [TENANTS]
set -euo pipefail
cd "$(dirname "$0")/.."
tenants=${1:-1000}
command -v hyperfine >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }
cargo build --release --locked -q -p stencil -p stencil-dev
bin=$PWD/target/release/stencil
dev=$PWD/target/release/stencil-dev
export SOPS_AGE_KEY_FILE=$PWD/keys/demo-age-key.txt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$dev" bench-repo --out "$tmp/repo" --tenants "$tenants"
cd "$tmp/repo"
git init -q -b main .
git add -A
git -c user.name=bench -c user.email=bench@example.com commit -q -m init
sed -i 's|readiness: { path: /ready }|readiness: { path: /readyz }|' base/apiserver/service.yaml
git -c user.name=bench -c user.email=bench@example.com commit -q -am "readiness path"
echo "== $("$bin" diff --from HEAD~1 --to HEAD | tail -n 1)"
echo "== peak RSS"
/usr/bin/time -f 'diff: %M KiB peak RSS, %e s' "$bin" diff --from HEAD~1 --to HEAD > /dev/null
hyperfine -N --warmup 1 --min-runs 5 \
  "$bin diff --from HEAD~1 --to HEAD" \
  "$bin diff --from HEAD~1 --to HEAD --format markdown" \
  "$bin affected --from HEAD~1 --to HEAD" \
  "$bin diff --from HEAD --to HEAD"
