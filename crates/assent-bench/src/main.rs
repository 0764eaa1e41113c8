//! Measures the gateway's performance figures (docs/benchmarks.md) against
//! real gateways: the release `assent` binary run as `assent serve` in its
//! own process, with this process as the load generator. Release build:
//! `cargo run --release -p assent-bench -- all`.
//!
//! Scenarios: `wake` (decision → waiting long-poll answered, SQLite),
//! `wake-pg` (the same across two instances on PostgreSQL), `create`
//! (durable creates/s against the gateway's read ceiling and against itself
//! without fsync; and PostgreSQL against SQLite), `check` (a 1,000-rule
//! policy over HTTP and in process), `waiters` (10,000 concurrent
//! long-polls: memory, and answering them all after a bulk decision), `mcp`
//! (an allowed `tools/call` through `assent mcp-proxy` against the same
//! server called directly) and `hook` (the whole `assent hook claude-code`
//! process). Each figure prints as a table row and as one JSON line.

mod check;
mod create;
mod ctx;
mod error;
mod figure;
mod gateway;
mod hook;
mod load;
mod mcp;
mod policy_gen;
mod process_stats;
mod waiters;
mod wake;

use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use ctx::Ctx;
use error::Error;
use figure::Report;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// Every scenario below (`wake-pg` and PostgreSQL creates with --postgres).
    All,
    Wake,
    WakePg,
    Create,
    Check,
    Waiters,
    Mcp,
    Hook,
}

#[derive(Parser)]
struct Args {
    /// What to measure.
    #[arg(value_enum, default_value = "all")]
    scenario: Scenario,
    /// Long-poll waiters for the wake-up figures.
    #[arg(long, default_value_t = 1000)]
    waiters: usize,
    /// Concurrent long-polls for the `waiters` scenario.
    #[arg(long, default_value_t = 10_000)]
    many_waiters: usize,
    /// Concurrent clients for the throughput figures.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Seconds each throughput run is counted (after a 1 s warm-up).
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// A PostgreSQL server (URL of any database there) for `wake-pg` and
    /// PostgreSQL creates; each run gets a temporary database.
    #[arg(long)]
    postgres: Option<String>,
    /// The `assent` binary measured (default: target/release/assent, built
    /// first when the harness runs under `cargo run`).
    #[arg(long)]
    assent: Option<PathBuf>,
    /// The MCP server behind the proxy (its `stdio` transport).
    #[arg(
        long,
        default_value = "tests/interop/node_modules/.bin/mcp-server-everything"
    )]
    mcp_server: PathBuf,
    /// Timed `tools/call`s, each direct and through the proxy.
    #[arg(long, default_value_t = 1000)]
    mcp_calls: usize,
    /// Timed hook processes.
    #[arg(long, default_value_t = 200)]
    hook_runs: usize,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args = Args::parse();
    let ctx = Ctx {
        assent: gateway::binary(args.assent)?,
        waiters: args.waiters,
        many_waiters: args.many_waiters,
        clients: args.clients,
        seconds: args.seconds,
        postgres: args.postgres,
        mcp_server: args.mcp_server,
        mcp_calls: args.mcp_calls,
        hook_runs: args.hook_runs,
    };
    let mut report = Report::default();
    let chosen = |s: Scenario| args.scenario == Scenario::All || args.scenario == s;
    if chosen(Scenario::Wake) {
        wake::sqlite(&ctx, &mut report).await?;
    }
    if chosen(Scenario::WakePg) {
        match &ctx.postgres {
            Some(server) => wake::postgres(&ctx, server, &mut report).await?,
            None if args.scenario == Scenario::WakePg => {
                return Err("wake-pg needs --postgres URL".into());
            }
            None => println!("wake-pg: skipped (no --postgres URL)"),
        }
    }
    if chosen(Scenario::Create) {
        create::run(&ctx, &mut report).await?;
    }
    if chosen(Scenario::Check) {
        check::run(&ctx, &mut report).await?;
    }
    if chosen(Scenario::Waiters) {
        waiters::run(&ctx, &mut report).await?;
    }
    if chosen(Scenario::Mcp) {
        mcp::run(&ctx, &mut report).await?;
    }
    if chosen(Scenario::Hook) {
        hook::run(&ctx, &mut report).await?;
    }
    report.summary();
    Ok(())
}
