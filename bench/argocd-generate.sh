#!/usr/bin/env bash
# Benchmark: one `stencil argocd generate` for one app of the example repository, process
# start to exit, run the way Argo CD's cmp-server runs it (a copy of the repository without
# .git, the app's source folder as working directory, the plugin env). Budget (issue 5):
# under 10 ms and 20 MiB. With peers installed (../shared/tools/get-peers), one `helm
# template` and one `kubectl kustomize` of a one-Deployment chart/overlay run in the same
# hyperfine call as a floor for what a peer costs per app.
#   bench/argocd-generate.sh [TENANT SERVICE]
set -euo pipefail
cd "$(dirname "$0")/.."
project=$PWD
tenant=${1:-momcorp}
service=${2:-apiserver}
command -v hyperfine >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }
cargo build --release --locked -q
bin=$PWD/target/release/stencil
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/repo"
cp -r stencil.yaml base tenants .sops.yaml "$tmp/repo/"
app=tenants/$tenant/$service
export SOPS_AGE_KEY_FILE=$PWD/keys/demo-age-key.txt
export ARGOCD_APP_NAME=$tenant-$service ARGOCD_APP_SOURCE_PATH=$app ARGOCD_APP_REVISION=HEAD
export ARGOCD_ENV_TENANT=$tenant ARGOCD_ENV_SERVICE=$service KUBE_VERSION=1.33.0
cd "$tmp/repo/$app"

peers=()
peer_dir=${PEERS:-$project/target/peers}
if [ -x "$peer_dir/helm" ] && [ -x "$peer_dir/kubectl" ]; then
  mkdir -p "$tmp/chart/templates" "$tmp/overlay" "$tmp/base"
  printf 'apiVersion: v2\nname: app\nversion: 0.1.0\n' > "$tmp/chart/Chart.yaml"
  printf 'image: registry.example.com/app:1.0.0\n' > "$tmp/chart/values.yaml"
  cat > "$tmp/chart/templates/deployment.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: { name: {{ .Release.Name }} }
spec:
  selector: { matchLabels: { app: {{ .Release.Name }} } }
  template:
    metadata: { labels: { app: {{ .Release.Name }} } }
    spec: { containers: [ { name: app, image: {{ .Values.image }} } ] }
YAML
  helm_cmd="$peer_dir/helm template app $tmp/chart"
  cat > "$tmp/base/deployment.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: { name: app }
spec:
  selector: { matchLabels: { app: app } }
  template:
    metadata: { labels: { app: app } }
    spec: { containers: [ { name: app, image: registry.example.com/app:1.0.0 } ] }
YAML
  printf 'resources: [deployment.yaml]\n' > "$tmp/base/kustomization.yaml"
  printf 'resources: [../base]\nnamespace: tenant\nimages: [{name: registry.example.com/app, newTag: 2.0.0}]\n' > "$tmp/overlay/kustomization.yaml"
  peers=("$helm_cmd" "$peer_dir/kubectl kustomize $tmp/overlay")
fi

echo "== peak RSS of one generate"
/usr/bin/time -f '%M KiB peak RSS, %e s' "$bin" argocd generate > /dev/null
echo "== hyperfine (process start to exit)"
hyperfine -N --warmup 10 --min-runs 200 "$bin argocd generate" "${peers[@]}"
