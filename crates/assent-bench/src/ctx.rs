//! What every scenario is given: the command line's settings, and the
//! scenario names figures are reported under.

use std::path::PathBuf;

pub const SCENARIO_WAKE: &str = "wake";
pub const SCENARIO_WAKE_PG: &str = "wake-pg";
pub const SCENARIO_CREATE: &str = "create";
pub const SCENARIO_CHECK: &str = "check";
pub const SCENARIO_WAITERS: &str = "waiters";
pub const SCENARIO_MCP: &str = "mcp";
pub const SCENARIO_HOOK: &str = "hook";

/// What every scenario reads from the command line.
pub struct Ctx {
    pub assent: PathBuf,
    pub waiters: usize,
    pub many_waiters: usize,
    pub clients: usize,
    pub seconds: u64,
    pub postgres: Option<String>,
    pub mcp_server: PathBuf,
    pub mcp_calls: usize,
    pub hook_runs: usize,
}
