//! `kizon`: the command-line shell over kizon-app. `main` parses the arguments, hands each
//! command to its module in [`commands`], and prints a failure once, as `error: …` and
//! `hint: …`, with a non-zero exit code.

mod cli;
mod commands;
mod progress;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};
use commands::{Context, Done};

fn main() -> ExitCode {
    // `kizon analyze | head -1`: when the reader of standard output goes away, end quietly as
    // Unix tools do (SIGPIPE's default action), instead of panicking in `println!`.
    #[cfg(unix)]
    // SAFETY: called first thing in `main`, before any thread exists; SIG_DFL is a valid action.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let ctx = Context::new(cli.actor, cli.study);
    match dispatch(&ctx, cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", failure.what);
            eprintln!("hint: {}", failure.hint);
            ExitCode::FAILURE
        }
    }
}

fn dispatch(ctx: &Context, command: Command) -> Done {
    use commands::*;
    match command {
        Command::Init(args) => init::run(ctx, args),
        Command::OwnerKey(command) => owner_key::run(ctx, command),
        Command::Plan(args) => plan::run(ctx, args),
        Command::Provider(command) => provider::run(ctx, command),
        Command::Deidentify(args) => deidentify::run(ctx, *args),
        Command::Evidence(command) => evidence::run(ctx, command),
        Command::Ingest(args) => ingest::run(ctx, args),
        Command::Items(args) => items::run(ctx, args),
        Command::Specimens(command) => specimens::run(ctx, command),
        Command::Check(flag) => check::run(ctx, flag),
        Command::Findings(args) => findings::run(ctx, args),
        Command::Resolve(args) => resolve::run(ctx, args),
        Command::TrainingSet(command) => training_set::run(ctx, command),
        Command::Dataset(command) => dataset::run(ctx, command),
        Command::Readers(command) => readers::run(ctx, command),
        Command::Reads(command) => reads::run(ctx, command),
        Command::Reference(command) => reference::run(ctx, command),
        Command::Results(command) => results::run(ctx, command),
        Command::Marks(command) => marks::run(ctx, command),
        Command::Reading(command) => reading::run(ctx, command),
        Command::Analyze(args) => analyze::run(ctx, args),
        Command::Report(args) => report::run(ctx, args),
        Command::Package(args) => package::run(ctx, args),
        Command::Export(command) => export::run(ctx, command),
        Command::Lock(command) => lock::run(ctx, command),
        Command::Amend(args) => amend::run(ctx, args),
        Command::Deviation(command) => deviation::run(ctx, command),
        Command::Audit(command) => audit::run(ctx, command),
        Command::Serve(args) => serve::run(ctx, args),
        Command::MigrateStore(args) => migrate_store::run(ctx, args),
        Command::User(command) => user::run(ctx, command),
        Command::Demo(args) => demo::run(ctx, args),
        Command::Stats(command) => stats::run(command),
    }
}
