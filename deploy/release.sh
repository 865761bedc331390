#!/usr/bin/env bash
# Builds a release of stencil for one Linux target, the same way everywhere: the release
# workflow (.github/workflows/release.yml, once per architecture on a native runner), the
# sidecar image (deploy/argocd/Dockerfile) and .ci/run (x86_64) all call this script.
#
#   deploy/release.sh OUT [TARGET]
#
# TARGET defaults to this machine's architecture with musl: x86_64-unknown-linux-musl or
# aarch64-unknown-linux-musl. musl, not glibc: a static glibc still loads the host's NSS
# libraries at run time to resolve a git host name, and breaks when their version differs.
#
# OUT receives:
#   stencil-VERSION-TARGET.tar.gz   the stripped static binary, LICENSE, README.md,
#                                   completions/ (bash, zsh, fish, powershell, elvish),
#                                   man/ (a page per command)
#   stencil-VERSION-TARGET          the binary alone (what the sidecar image copies)
#   SHA256SUMS                      sums of both, appended to (one file for all targets)
#
# Then it checks what it built: no dynamic section, runs with an empty environment, names
# the version and commit, and renders the bundled example to the same bytes as `cargo run`
# (a second, debug build; RELEASE_CHECK_RENDER=0 leaves it out, as the image build does).
# Needs: rustup (adds the target), musl-gcc (Debian/Ubuntu: musl-tools), tar, sha256sum.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: deploy/release.sh OUT [TARGET]}
target=${2:-$(uname -m)-unknown-linux-musl}
case "$target" in
  *-linux-musl) ;;
  *) echo "release: $target: only *-unknown-linux-musl targets are built as releases" >&2; exit 2 ;;
esac
command -v musl-gcc >/dev/null || { echo "release: musl-gcc is missing (apt-get install musl-tools)" >&2; exit 1; }
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx "$target"; then
  rustup target add "$target"
fi

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
export STENCIL_COMMIT=${STENCIL_COMMIT:-$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)}
# The C parts (libgit2, OpenSSL) are compiled by musl-gcc; Rust links with it too.
cc_var=CC_$(echo "$target" | tr '-' '_')
export "$cc_var=musl-gcc"
# RELEASE_PROFILE=release-check (.ci/run): the same build, faster and less optimised.
profile=${RELEASE_PROFILE:-release}
export "CARGO_PROFILE_$(echo "$profile" | tr 'a-z-' 'A-Z_')_STRIP=true"
cargo build --profile "$profile" --locked --target "$target" --target-dir target/dist

name=stencil-$version-$target
binary=target/dist/$target/$profile/stencil
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$out" "$stage/$name/completions" "$stage/$name/man"
cp "$binary" "$out/$name"
cp "$binary" LICENSE README.md "$stage/$name/"

# Checks on the binary itself, before anything is packed.
if readelf -d "$binary" 2>/dev/null | grep -q 'NEEDED'; then
  echo "release: $binary links shared libraries:" >&2
  readelf -d "$binary" >&2
  exit 1
fi
if readelf -S "$binary" | grep -q '\.symtab'; then
  echo "release: $binary is not stripped" >&2
  exit 1
fi
said=$(env -i "$binary" --version)
case "$said" in
  "stencil $version ($STENCIL_COMMIT)"*) ;;
  *) echo "release: --version says \"$said\", not stencil $version ($STENCIL_COMMIT)" >&2; exit 1 ;;
esac
if [ "$(uname -m)" = "${target%%-*}" ] && [ "${RELEASE_CHECK_RENDER:-1}" != 0 ]; then
  want=$(SOPS_AGE_KEY_FILE=keys/demo-age-key.txt cargo run -q --locked -- render | sha256sum)
  got=$(env -i SOPS_AGE_KEY_FILE=keys/demo-age-key.txt "$binary" render | sha256sum)
  if [ "$want" != "$got" ]; then
    echo "release: the release binary renders the example differently from cargo run" >&2
    exit 1
  fi
fi

for shell in bash zsh fish powershell elvish; do
  "$binary" completion "$shell" > "$stage/$name/completions/stencil.$shell"
done
"$binary" man --out-dir "$stage/$name/man" >/dev/null
# Reproducible archive: sorted names, fixed owner and time.
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2000-01-01 00:00Z' \
  -C "$stage" -czf "$out/$name.tar.gz" "$name"
(cd "$out" && sha256sum "$name.tar.gz" "$name" >> SHA256SUMS)
echo "release: $out/$name.tar.gz"
