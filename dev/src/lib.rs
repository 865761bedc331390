//! stencil-dev: the tooling stencil's developers run, kept out of the shipped `stencil` binary.
//! It uses the stencil library's public API only.
//!
//! - [`bench_repo`]: writes a synthetic repository of N tenants (and the kustomize and Helm
//!   peers rendering the same objects) for `bench/*.sh`, `benches/` and the interop tests;
//! - [`schemas`]: the JSON Schemas of the input files, generated from `stencil::model`, which
//!   `schemas/` holds (a test fails when the committed copy drifts);
//! - [`fuzzing`]: the entry points of the cargo-fuzz targets in `fuzz/`, which the fuzz
//!   regression test replays.
//!
//! The binary (`cargo run -p stencil-dev -- <command>`) exposes `bench-repo` and `schemas`.

// Like the product: no unwrap/expect outside tests.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod bench_repo;
pub mod fuzzing;
pub mod schemas;
