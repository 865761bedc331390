#!/usr/bin/env bash
# Builds a statically linked stencil (no shared libraries at all) for the Argo CD sidecar
# image, and checks it: static, and runs with an empty environment.
#   deploy/argocd/build-static.sh OUT
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: build-static.sh OUT}
target=$(rustc -vV | sed -n 's/^host: //p')
RUSTFLAGS="-C target-feature=+crt-static" OPENSSL_STATIC=1 \
  cargo build --release --locked --target "$target" --target-dir target/static
mkdir -p "$(dirname "$out")"
cp "target/static/$target/release/stencil" "$out"
if ldd "$out" 2>&1 | grep -q '=>'; then
  echo "build-static: $out links shared libraries:" >&2
  ldd "$out" >&2
  exit 1
fi
env -i "$out" --version
