//! `stencil argocd ...`: the Config Management Plugin (`generate`), its config
//! (`plugin-config`) and the Applications that use it (`apps`).

mod apps;
mod generate;

use super::Context;
use std::process::ExitCode;

use super::{Outcome, write_stdout};
use crate::argocd;
use crate::cli::{ArgocdCommand, Global};
use crate::emit;
use crate::load::load_repo;
use crate::secrets::Keys;

pub fn run(global: &Global, command: &ArgocdCommand, keys: &Keys) -> Outcome {
    match command {
        ArgocdCommand::Generate => generate::run(global, keys),
        ArgocdCommand::PluginConfig(args) => {
            let config = argocd::plugin_config(args.with_discovery)?;
            write_stdout(&crate::yaml::write::document(&config))?;
            Ok(ExitCode::SUCCESS)
        }
        ArgocdCommand::Apps(args) => {
            let ctx = Context::open(global)?;
            let loader = ctx.loader();
            let repo = load_repo(&loader)?;
            let objects = if args.root {
                vec![argocd::root_application(&repo.settings, args.mode.name())?]
            } else {
                apps::objects(&loader, &repo, args.mode)?
            };
            write_stdout(&emit::stream(&objects, args.output)?)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
