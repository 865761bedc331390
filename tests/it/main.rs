//! stencil's integration tests, as one test binary (`cargo test --test it`): one module per
//! area, most running the real `stencil` binary against fixture repositories made in temp
//! dirs (see [`common`]). Filter by module: `cargo test --test it -- render::`.
//!
//! Insta snapshots live in `tests/it/snapshots/`, named `it__<module>__<name>.snap`.
//! Tests marked `#[ignore]` need `../shared` or external tools (the sops CLI, helm, a
//! release archive); `.ci/run` runs them by module: `--ignored interop::`, `sops_parity::`,
//! `charts::`, and `workflows::release_install` after `deploy/release.sh`.

mod common;
mod completion;

mod architecture;
mod argocd;
mod atk1;
mod atk2;
mod atomic;
mod bad_input;
mod binding;
mod budgets;
mod bump;
mod charts;
mod diff;
mod docs;
mod fuzz_regressions;
mod infra;
mod init;
mod interop;
mod kinds;
mod merge;
mod migrate;
mod pss;
mod reader;
mod render;
mod schemas;
mod secrets;
mod sops_parity;
mod tenantfs;
mod workflows;
mod workloads;
mod workspace;
mod writer;
