//! The one YAML stack: every YAML file stencil reads goes through [`read`], every YAML
//! text it writes through [`write`].
//!
//! - [`read`]: a character pre-scan, then saphyr-parser events to [`crate::node::Node`]
//!   trees with an [`crate::origin::Origin`] on every node, under [`read::Limits`] (size,
//!   depth, aliases), refusing what readers disagree on (merge keys, non-string keys, tags
//!   other than the core ones, several documents). Errors name file:line:col with a hint.
//! - [`yaml11`]: a pass over a read tree that resolves plain scalars as go-yaml v2 (YAML
//!   1.1) does, for files Helm reads (`stencil migrate`).
//! - [`write`]: JSON values and `Node` trees to YAML that YAML 1.1 and 1.2 readers (go-yaml,
//!   PyYAML, ruamel) read back as the same data: plain style only for a safe subset, every
//!   non-printable character escaped.
//!
//! `serde_yaml` is not used by stencil at all (tests read its output with it, as a second,
//! independent reader).

pub mod read;
pub mod write;
pub mod yaml11;
