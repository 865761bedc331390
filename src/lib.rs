//! stencil: renders fully resolved Kubernetes manifests for many tenants from a base service
//! definition plus per-tenant overlays, with explicit inheritance (`extends:`) and provenance.
//!
//! The pipeline, one module per stage, data flowing one way:
//! [`source`] -> [`load`] -> [`resolve`] -> [`template`] -> [`policy`] -> [`build`] -> [`emit`].
//! [`pipeline`] runs the stages for a selection of tenant x services; [`compare`] compares two
//! renders (for `diff` and `affected`); [`commands`] hold one module per CLI command.

// Library and binary code must not panic on input: no unwrap/expect outside tests.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod argocd;
mod budget;
pub mod build;
mod bump;
pub mod cli;
pub mod commands;
mod compare;
pub mod emit;
pub mod error;
pub mod load;
mod migrate;
pub mod model;
pub mod names;
pub mod node;
pub mod object;
pub mod origin;
pub mod pipeline;
pub mod policy;
pub mod resolve;
pub mod secrets;
pub mod source;
pub mod template;
pub mod yaml;
