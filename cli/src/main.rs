//! `rulestudio`: the CLI of Rulestudio. The engine subcommands (`lint`, `explain`, `check`,
//! `eval`, `test`) are what CI pipelines call; `serve` runs the studio. Exit codes: 0 success,
//! 1 findings (errors, failed tests), 2 usage or I/O problems.

// Unsafe code only in the modules listed in ARCHITECTURE.md ("Unsafe code"), each block with
// a `// SAFETY:` comment; `xtask/tests/unsafe_policy.rs` keeps the list true.
#![deny(unsafe_code)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod cmd;
mod files;
mod report;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "rulestudio",
    version,
    about = "Write, test and ship Falco rules"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Load rules files in order and report every problem, with fixes.
    Lint(cmd::lint::Args),
    /// Show each rule's compiled condition, event types and output.
    Explain(cmd::explain::Args),
    /// Check conditions read from stdin, one JSON string per line.
    Check(cmd::check::Args),
    /// Evaluate rules (or one condition) over events in JSONL.
    Eval(cmd::eval::Args),
    /// Run rule unit tests.
    Test(cmd::test::Args),
    /// Run the studio: REST API, UI, live evaluation and alerts.
    // Boxed: its many flags would make every `Command` as large as it.
    Serve(Box<cmd::serve::Args>),
    /// Perform, safely, the behaviours behind the article's seven example rules.
    Demo(cmd::demo::Args),
}

/// Outcome of a subcommand that ran to completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Clean,
    /// Errors found, tests failed: exit 1.
    Findings,
}

#[allow(unsafe_code)]
fn default_sigpipe() {
    // SAFETY: called from `main` before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve(_)) {
        // Like other Unix filters, end quietly when the reader of our output goes away
        // (`rulestudio lint … | head`). Not for the server, whose sockets must see EPIPE.
        default_sigpipe();
    }
    let result = match cli.command {
        Command::Lint(a) => cmd::lint::run(a),
        Command::Explain(a) => cmd::explain::run(a),
        Command::Check(a) => cmd::check::run(a),
        Command::Eval(a) => cmd::eval::run(a),
        Command::Test(a) => cmd::test::run(a),
        Command::Demo(a) => cmd::demo::run(a),
        Command::Serve(a) => cmd::serve::run(*a),
    };
    match result {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Findings) => ExitCode::from(1),
        Err(e) => {
            eprintln!("rulestudio: {e:#}");
            ExitCode::from(2)
        }
    }
}
