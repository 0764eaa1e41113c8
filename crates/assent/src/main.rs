//! `assent`: `serve` runs the gateway; every other subcommand is a client.

mod approvals;
mod audit;
mod cli;
mod connect;
mod error;
mod exec;
mod fitting;
mod grants;
mod hook;
mod init;
mod mcp;
mod outcome;
mod output;
mod parse;
mod policy;
mod serve;
mod tokens;
mod verdict;
mod watch;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command, HookCommand};
use crate::error::CliError;
use crate::output::Output;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A hook runs once per tool call and makes one request: a
    // single-threaded runtime starts fastest. The rest (the gateway above
    // all) gets one thread per core.
    let hook = matches!(cli.command, Command::Hook(_));
    let runtime = if hook {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    }
    .enable_all()
    .build();
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(e) if hook => return hook::deny_without_runtime(&e),
        Err(e) => {
            eprintln!("assent: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("assent: {}", output::printable(&e.report()));
            e.exit_code()
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode, CliError> {
    let out = Output {
        json: cli.global.json,
    };
    let client = || connect::client(&cli.global);
    match cli.command {
        Command::Serve(args) => serve::run(args).await,
        Command::Request(args) => approvals::request(&client()?, out, args).await,
        Command::Exec(args) => exec::run(&client()?, args).await,
        Command::Wait(args) => approvals::wait(&client()?, out, args).await,
        Command::List(args) => approvals::list(&client()?, out, args).await,
        Command::Show { id } => approvals::show(&client()?, out, id).await,
        Command::Approve(args) => approvals::approve(&client()?, out, args).await,
        Command::Reject(args) => approvals::reject(&client()?, out, args).await,
        Command::Cancel(args) => approvals::cancel(&client()?, out, args).await,
        Command::Token(command) => tokens::run(&client()?, out, command).await,
        Command::Grants(command) => grants::run(&client()?, out, command).await,
        Command::Watch(args) => watch::run(&client()?, out, args).await,
        Command::Policy(command) => policy::run(client, out, command).await,
        Command::Audit(command) => audit::run(client, out, command).await,
        Command::Init(args) => init::run(args),
        Command::McpProxy(args) => mcp::run(&cli.global, args).await,
        Command::Hook(HookCommand::ClaudeCode(args)) => {
            Ok(hook::claude_code(&cli.global, args).await)
        }
    }
}
