//! Argo CD: the objects that deploy a stencil repository ([`manifests`]: an Application or an
//! ApplicationSet per app, an AppProject per tenant, the root application, the plugin
//! config) and the Config Management Plugin's view of one app ([`cmp`]: what `stencil
//! argocd generate` renders, from the environment Argo CD gives it).

pub mod cmp;
pub mod manifests;

pub use manifests::*;

/// How Argo CD learns the apps: one Application each, or one ApplicationSet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AppsMode {
    Applications,
    Applicationset,
}

impl AppsMode {
    pub fn name(self) -> &'static str {
        match self {
            AppsMode::Applications => "applications",
            AppsMode::Applicationset => "applicationset",
        }
    }
}
