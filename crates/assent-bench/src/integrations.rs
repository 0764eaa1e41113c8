//! The agent-integration figures, measured against one gateway run as
//! `assent serve` in its own process.

use std::path::PathBuf;

use crate::assent_process::{self, ServeProcess};
use crate::error::Error;

#[derive(clap::Args)]
pub struct Args {
    /// Measure only the agent-integration figures (MCP proxy, Claude Code hook).
    #[arg(long)]
    pub integrations_only: bool,
    /// The `assent` binary whose `mcp-proxy` and `hook` are measured.
    #[arg(long, default_value = "target/release/assent")]
    pub assent: PathBuf,
    /// The MCP server behind the proxy (its `stdio` transport).
    #[arg(
        long,
        default_value = "tests/interop/node_modules/.bin/mcp-server-everything"
    )]
    pub mcp_server: PathBuf,
    /// Timed `tools/call`s, each direct and through the proxy.
    #[arg(long, default_value_t = 1000)]
    pub mcp_calls: usize,
    /// Timed hook processes.
    #[arg(long, default_value_t = 200)]
    pub hook_runs: usize,
}

pub async fn run(args: &Args) -> Result<(), Error> {
    let assent = assent_process::binary(&args.assent)?;
    let dir = tempfile::tempdir_in(".")?;
    let gateway = ServeProcess::start(&assent, dir.path()).await?;
    crate::mcp::measure(&assent, &args.mcp_server, &gateway, args.mcp_calls).await?;
    crate::hook::measure(&assent, &gateway, args.hook_runs).await
}
