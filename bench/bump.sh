#!/usr/bin/env bash
# Benchmark: `stencil bump --commit` (no push) on a repository with 10,000 commits.
# Budget (issue 4): under 200 ms. Prints hyperfine's summary.
#   bench/bump.sh [COMMITS]
set -euo pipefail
cd "$(dirname "$0")/.."
commits=${1:-10000}
command -v hyperfine >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }
cargo build --release --locked -q
bin=$PWD/target/release/stencil
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
repo=$tmp/repo
git init -q -b main "$repo"
cp -r stencil.yaml base tenants schemas .sops.yaml "$repo/"
git -C "$repo" add -A
git -C "$repo" -c user.name=bench -c user.email=bench@example.com commit -q -m init
# $commits more commits, each changing one file, written in one go with fast-import.
python3 - "$commits" > "$tmp/stream" <<'PY'
import sys
n = int(sys.argv[1])
out = sys.stdout
for i in range(n):
    data = f"change {i}\n"
    out.write("commit refs/heads/main\n")
    out.write(f"committer bench <bench@example.com> {1700000000 + i} +0000\n")
    msg = f"commit {i}\n"
    out.write(f"data {len(msg)}\n{msg}")
    if i == 0:
        out.write("from refs/heads/main^0\n")
    out.write(f"M 100644 inline history/notes.txt\ndata {len(data)}\n{data}\n")
PY
git -C "$repo" fast-import --quiet < "$tmp/stream"
git -C "$repo" reset -q --hard main
echo "repository: $(git -C "$repo" rev-list --count main) commits"
base=$(git -C "$repo" rev-parse main)
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com
hyperfine --warmup 3 --runs 30 \
  --prepare "git -C $repo reset -q --hard $base" \
  "$bin --repo $repo bump apiserver 2026.12.01-bench --commit"
