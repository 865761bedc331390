// Library and binary code must not panic on input: no unwrap/expect outside tests.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use std::process::ExitCode;

use clap::Parser;
use stencil::cli::{Cli, Command, Global, LogFormat};
use stencil::commands::{self, EXIT_ERROR};
use stencil::secrets::Keys;
use tracing_subscriber::EnvFilter;

/// mimalloc instead of the system allocator: a render makes and drops millions of small
/// strings, maps and JSON trees across threads, where glibc's malloc/free took a fifth of
/// the time (its per-thread caches and free-list consolidation); mimalloc's size-class pages
/// and thread-local free lists make that a few percent. The output does not depend on it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// No transparent huge pages for this process: mimalloc's arenas are 2 MiB aligned, and with
/// THP each first touch had the kernel zero a whole 2 MiB page. That was a sixth of an
/// `argocd generate` and a third of `validate`'s peak RSS. The `no_thp` feature stops
/// mimalloc asking for huge pages; this also covers kernels set to THP `always`. Runs before
/// the runtime (and before most allocations); children inherit it, which is harmless.
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static NO_HUGE_PAGES: extern "C" fn() = no_huge_pages;

#[cfg(target_os = "linux")]
extern "C" fn no_huge_pages() {
    // SAFETY: PR_SET_THP_DISABLE only sets a flag of this process; an error (an old kernel)
    // leaves THP as it was, which is only slower.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// Runs before Rust's runtime, which replaces a closed stdout with /dev/null: the one moment
/// a closed stdout can still be told from a redirect to /dev/null.
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static CHECK_STDOUT: extern "C" fn() = check_stdout;

#[cfg(target_os = "linux")]
extern "C" fn check_stdout() {
    // SAFETY: F_GETFD only reads the descriptor's flags; -1 (EBADF) means fd 1 is closed.
    if unsafe { libc::fcntl(1, libc::F_GETFD) } == -1 {
        commands::mark_stdout_closed();
    }
}

fn main() -> ExitCode {
    // Key files are read on first use, by the commands that decrypt; no key is left in the
    // environment for child processes to inherit.
    // SAFETY: the first statement of main: no other thread exists yet.
    let keys = unsafe { Keys::take_from_environment() };
    let cli = Cli::parse();
    if let Err(message) = init_logging(&cli.global) {
        eprintln!("error: {message}");
        return ExitCode::from(2);
    }
    let outcome = match &cli.command {
        Command::Render(args) => commands::render::run(&cli.global, args, &keys),
        Command::Explain(args) => commands::explain::run(&cli.global, args, &keys),
        Command::Validate(args) => commands::validate::run(&cli.global, args, &keys),
        Command::Diff(args) => commands::diff::run(&cli.global, args, &keys),
        Command::Affected(args) => commands::affected::run(&cli.global, args, &keys),
        Command::Migrate(args) => commands::migrate::run(&cli.global, args, &keys),
        Command::Bump(args) => commands::bump::run(&cli.global, args),
        Command::Secrets(command) => commands::secrets::run(&cli.global, command, &keys),
        Command::Argocd(command) => commands::argocd::run(&cli.global, command, &keys),
        Command::Init(args) => commands::init::run(args, &keys),
        Command::Schemas(args) => commands::schemas::run(&cli.global, args),
        Command::Tenant(command) => commands::tenant::run(&cli.global, command, &keys),
        Command::Completion(args) => commands::completion::completion(args),
        Command::Man(args) => commands::completion::man(args),
        Command::Policy(command) => commands::policy::run(&cli.global, command),
    };
    match outcome {
        Ok(code) => code,
        Err(err) => {
            match cli.global.log_format {
                LogFormat::Text => eprint!("{err}"),
                LogFormat::Json => eprint!("{}", json_errors(&err)),
            }
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Errors as JSON lines, one per diagnostic, beside the JSON logs: level, message, rule,
/// file, line, column, notes and hint.
fn json_errors(err: &stencil::error::Error) -> String {
    let mut out = String::new();
    for d in err.diagnostics() {
        let mut line = d.to_json();
        line["level"] = "ERROR".into();
        out.push_str(&line.to_string());
        out.push('\n');
    }
    out
}

/// Logs go to stderr only: stdout carries manifests. A `STENCIL_LOG` that is not a tracing
/// filter is an error (a silently ignored filter hides the logs asked for).
fn init_logging(global: &Global) -> Result<(), String> {
    let level = match (global.quiet, global.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = match std::env::var("STENCIL_LOG") {
        Ok(text) if !text.trim().is_empty() => EnvFilter::try_new(&text).map_err(|e| {
            format!(
                "STENCIL_LOG `{text}` is not a tracing filter ({e}); e.g. STENCIL_LOG=stencil=debug"
            )
        })?,
        _ => EnvFilter::new(format!("stencil={level}")),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    match global.log_format {
        LogFormat::Text => builder.with_ansi(false).init(),
        LogFormat::Json => builder.json().with_current_span(true).init(),
    }
    Ok(())
}
