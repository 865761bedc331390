//! `stencil completion SHELL` and `stencil man --out-dir DIR`: the shell completions
//! (clap_complete) and man pages (clap_mangen) of the command line as `cli.rs` defines it,
//! so they cannot drift from it.

use std::path::Path;
use std::process::ExitCode;

use clap::CommandFactory as _;

use super::{Outcome, write_atomic, write_stdout};
use crate::cli::{Cli, CompletionArgs, ManArgs};
use crate::error::{Diagnostic, Error};

pub fn completion(args: &CompletionArgs) -> Outcome {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "stencil", &mut script);
    let text = String::from_utf8(script)
        .map_err(|_| Diagnostic::new("the completion script is not UTF-8"))?;
    write_stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}

pub fn man(args: &ManArgs) -> Outcome {
    let command = Cli::command();
    std::fs::create_dir_all(&args.out_dir)
        .map_err(|e| Error::io(format_args!("cannot create {}", args.out_dir.display()), &e))?;
    write_page(&args.out_dir, "stencil", command.clone())?;
    for sub in command.get_subcommands() {
        let name = format!("stencil-{}", sub.get_name());
        write_page(&args.out_dir, &name, sub.clone())?;
        for nested in sub.get_subcommands() {
            let nested_name = format!("{name}-{}", nested.get_name());
            write_page(&args.out_dir, &nested_name, nested.clone())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One man page, `<name>.1`, written atomically.
fn write_page(dir: &Path, name: &str, command: clap::Command) -> crate::error::Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(command)
        .title(name)
        .render(&mut page)
        .map_err(|e| Error::io(format_args!("cannot render the man page {name}"), &e))?;
    let text = String::from_utf8(page).map_err(|_| Diagnostic::new("a man page is not UTF-8"))?;
    write_atomic(&dir.join(format!("{name}.1")), &text)
}
