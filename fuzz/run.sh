#!/usr/bin/env bash
# Runs each cargo-fuzz target for a bounded time, all targets at once (one core each).
#
#   fuzz/run.sh [SECONDS] [TARGET ...]     (default: 600 s; targets render and sops)
#
# Targets: render (arbitrary bytes as a tenant's values/env/version/tenant files and the base
# service, through the whole render) and sops (arbitrary bytes as a SOPS file: parse, open,
# seal). Not part of .ci/run. Needs the nightly toolchain (rustup) and cargo-fuzz, which is
# installed from crates.io when missing. The corpus starts from fuzz/seeds/<target>/ (plus,
# for sops, ../shared's sops reference files when present) and grows in fuzz/corpus/.
# A crash is saved in fuzz/artifacts/<target>/; once fixed, commit it in
# fuzz/regressions/<target>/, which tests/it/fuzz_regressions.rs replays
# (through the same entry points, dev/src/fuzzing.rs).
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-600}
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(render sops)

command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
mkdir -p logs
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  cp -n "seeds/$t"/* "corpus/$t/"
  if [ "$t" = sops ] && [ -d ../../shared/fixtures/sops-references ]; then
    cp -n ../../shared/fixtures/sops-references/*.yaml corpus/sops/
  fi
done
echo "== building the fuzz targets (nightly)" >&2
cargo +nightly fuzz build >&2

pids=()
for t in "${targets[@]}"; do
  echo "== fuzzing $t for $secs s" >&2
  cargo +nightly fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 > "logs/$t.log" 2>&1 &
  pids+=($!)
done
status=0
for i in "${!targets[@]}"; do
  t=${targets[$i]}
  if wait "${pids[$i]}"; then result="no crash"; else result="FAILED (see fuzz/logs/$t.log, fuzz/artifacts/$t/)"; status=1; fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "logs/$t.log" | grep -o '[0-9]*$' || echo "?")
  last=$(grep -E '^#[0-9]+' "logs/$t.log" | tail -1 || true)
  echo "$t: $result; $runs inputs in $secs s; last status: $last"
done
exit $status
