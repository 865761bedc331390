//! `stencil-dev`: the developers' commands (`cargo run -p stencil-dev -- <command>`), out of
//! the shipped `stencil` binary. Errors print as stencil prints them; exit 3 on error.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use stencil::secrets::Keys;
use stencil_dev::{bench_repo, schemas};

/// Exit code on error, as stencil's.
const EXIT_ERROR: u8 = 3;

#[derive(Debug, Parser)]
#[command(
    name = "stencil-dev",
    about = "stencil's development tooling: benchmark repositories and schema generation"
)]
struct Cli {
    /// Repository root (default: walk up from the current directory to stencil.yaml)
    #[arg(long, global = true, value_name = "DIR", env = "STENCIL_REPO")]
    repo: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a synthetic repository of N tenants for benchmarks (bench/, benches/), with its
    /// secrets encrypted for the keys in SOPS_AGE_KEY_FILE; --peers also writes the same
    /// tenants for kustomize and Helm
    BenchRepo(bench_repo::Options),
    /// Write the JSON Schemas of the input files (refreshes schemas/ after a model change)
    Schemas {
        /// Directory to write <kind>.schema.json files to
        #[arg(long, value_name = "DIR", default_value = "schemas")]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    // SAFETY: the first statement of main: no other thread exists yet.
    let keys = unsafe { Keys::take_from_environment() };
    let cli = Cli::parse();
    let outcome = match &cli.command {
        Command::BenchRepo(options) => stencil::commands::find_root(cli.repo.as_deref())
            .and_then(|root| bench_repo::run(&root, options, &keys)),
        Command::Schemas { out } => schemas::run(out),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprint!("{err}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
