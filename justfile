# Common tasks for working on stencil. `just` lists them; `just <task>` runs one.
# Each task is a plain cargo or script line: run it by hand if you have no `just`.

# The public demo key, which the example repository's secrets are encrypted for.
export SOPS_AGE_KEY_FILE := justfile_directory() / "keys/demo-age-key.txt"

# List the tasks.
default:
    @just --list

# Build the shipped binary (debug).
build:
    cargo build

# Build the shipped binary optimised, as users and the benchmarks run it.
release:
    cargo build --release

# Every test: the lib's unit tests, the one integration-test binary (tests/it), the dev crate's.
test *ARGS:
    cargo test --workspace {{ARGS}}

# Only the integration tests, optionally filtered by module or name, e.g. `just it render::`.
it FILTER="":
    cargo test --test it -- {{FILTER}}

# Format, then clippy on every target of both crates with warnings as errors.
lint:
    cargo fmt --all
    cargo clippy --workspace --all-targets -- -D warnings

# Check formatting and lints without changing anything (what CI runs).
lint-check:
    cargo fmt --all --check
    cargo clippy --locked --workspace --all-targets -- -D warnings

# Everything CI runs: fmt, clippy, tests, and with ../shared the interop and differential checks.
ci:
    bash .ci/run

# Review snapshot changes after a test failed on one (needs cargo-insta).
snapshots:
    cargo insta test --test it --review

# Accept every pending snapshot change (check `git diff tests/it/snapshots` after).
snapshots-accept:
    cargo insta test --test it --accept

# Regenerate schemas/ after a change to src/model/.
schemas:
    cargo run -p stencil-dev -- schemas --out schemas

# Write a synthetic repository of N tenants (and, with PEERS, its kustomize and Helm twins).
bench-repo OUT N="100" PEERS="":
    cargo run --release -p stencil-dev -- bench-repo --out {{OUT}} --tenants {{N}} {{ if PEERS != "" { "--peers " + PEERS } else { "" } }}

# Criterion micro-benchmarks of the pipeline stages, e.g. `just bench resolve/`.
bench FILTER="":
    cargo bench --bench stages -- {{FILTER}}

# stencil against kustomize and Helm (needs ../shared; slow: writes BENCHMARKS.md).
bench-compare:
    bash bench/compare.sh

# Fuzz each target for SECONDS (nightly + cargo-fuzz), e.g. `just fuzz 60 sops`.
fuzz SECONDS="600" *TARGETS:
    bash fuzz/run.sh {{SECONDS}} {{TARGETS}}

# Render the example repository to stdout (or ARGS, e.g. `just render-example -t momcorp`).
render-example *ARGS:
    cargo run -- render {{ARGS}}
