//! `stencil argocd ...`: the Config Management Plugin (`generate`), its config
//! (`plugin-config`) and the Applications that use it (`apps`).

mod apps;
mod generate;

use std::process::ExitCode;

use super::{Outcome, find_root, write_stdout};
use crate::build::argocd;
use crate::cli::{ArgocdCommand, Global};
use crate::emit;
use crate::load::{Loader, load_repo};
use crate::secrets::Keys;
use crate::source::Worktree;

pub fn run(global: &Global, command: &ArgocdCommand, keys: &Keys) -> Outcome {
    match command {
        ArgocdCommand::Generate => generate::run(global, keys),
        ArgocdCommand::PluginConfig(args) => {
            let config = argocd::plugin_config(args.with_discovery)?;
            write_stdout(&crate::yaml::write::document(&config))?;
            Ok(ExitCode::SUCCESS)
        }
        ArgocdCommand::Apps(args) => {
            let root = find_root(global.repo.as_deref())?;
            let source = Worktree::open(&root)?;
            let loader = Loader::new(&source);
            let repo = load_repo(&loader)?;
            let objects = if args.root {
                vec![argocd::root_application(&repo.settings, args.mode.name())?]
            } else {
                apps::objects(&loader, &repo, args.mode)?
            };
            write_stdout(&emit::stream(&objects, emit::Format::Yaml)?)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
