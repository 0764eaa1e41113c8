//! The command line: every subcommand and option, as clap parses them.

use std::path::PathBuf;
use std::time::Duration;

use assent_domain::{EventType, Risk, Role, Scope, Status};
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::parse::{EVENT_TYPES, RISKS, ROLES, SCOPES, domain_enum, duration, json_object, label};

/// Human-in-the-loop approval gateway: `serve` runs it, every other
/// subcommand is a client of a running gateway.
#[derive(Debug, Parser)]
#[command(name = "assent", version)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// How client subcommands reach the gateway and print.
#[derive(Debug, Args)]
pub struct Global {
    /// The gateway's base URL.
    #[arg(
        long,
        global = true,
        env = "ASSENT_URL",
        default_value = "http://127.0.0.1:8470"
    )]
    pub url: String,
    /// Bearer token; for a gateway on this machine, defaults to
    /// `$ASSENT_DATA_DIR/admin.token` (`./assent-data/admin.token`).
    #[arg(long, global = true, env = "ASSENT_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Print the gateway's JSON answers instead of tables and text.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway.
    Serve(ServeArgs),
    /// Ask for approval of an action.
    Request(RequestArgs),
    /// Ask for approval to run a command, and run it only if approved.
    Exec(ExecArgs),
    /// Wait for an approval's decision.
    Wait(WaitArgs),
    /// List approvals, newest first.
    List(ListArgs),
    /// Show one approval.
    Show { id: Uuid },
    /// Approve a pending approval.
    Approve(ApproveArgs),
    /// Reject a pending approval.
    #[command(visible_alias = "deny")]
    Reject(ReasonArgs),
    /// Withdraw a pending approval you requested.
    Cancel(ReasonArgs),
    /// Manage API tokens (admin).
    #[command(subcommand)]
    Token(TokenCommand),
    /// List or revoke grants (remembered decisions).
    #[command(subcommand)]
    Grants(GrantsCommand),
    /// Print events as they happen; reconnects and resumes on its own.
    Watch(WatchArgs),
    /// Check a request against the policy, or test a policy file's examples.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Export the signed audit log, or verify an export offline.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Write a commented assent.toml and a starter policy.toml.
    Init(InitArgs),
    /// Run an MCP server behind Assent: every tool call is asked for first.
    McpProxy(McpProxyArgs),
    /// Coding-agent hooks that ask Assent before each tool call.
    #[command(subcommand)]
    Hook(HookCommand),
}

#[derive(Debug, Args)]
pub struct McpProxyArgs {
    /// The server's name in action names (`mcp.<NAME>.<tool>`); default:
    /// the name the server gives itself when the client connects.
    #[arg(long)]
    pub name: Option<String>,
    /// The MCP server's command and its arguments (stdio transport).
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    pub command: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Claude Code `PreToolUse` hook: reads the hook's JSON on stdin and
    /// answers allow or deny; anything that goes wrong answers deny.
    ClaudeCode(ClaudeCodeArgs),
}

#[derive(Debug, Args)]
pub struct ClaudeCodeArgs {
    /// How long to wait for a decision before denying; keep it under the
    /// hook's `timeout` in settings.json (Claude Code's default: 600 s).
    #[arg(long, value_parser = duration, default_value = "590s")]
    pub timeout: Duration,
    /// Print the settings.json snippet that installs this hook, and exit.
    #[arg(long)]
    pub print_settings: bool,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Stream the audit log as NDJSON with a signed trailer (admin).
    Export {
        /// Write to FILE instead of stdout.
        #[arg(short, long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Only the events after this seq.
        #[arg(long, value_name = "SEQ")]
        after: Option<i64>,
    },
    /// Check an export offline: every link, the trailer and, with --jwks,
    /// its signature; names the first bad line (exit 1).
    Verify {
        file: PathBuf,
        /// The gateway's keys: a JWKS file, or a URL such as
        /// http://127.0.0.1:8470/.well-known/jwks.json.
        #[arg(long, value_name = "FILE_OR_URL")]
        jwks: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Config file (default: `$ASSENT_CONFIG`, else none).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on, e.g. `127.0.0.1:8470`.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// `sqlite://PATH` or `postgres://…`.
    #[arg(long = "database", value_name = "URL")]
    pub database_url: Option<String>,
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Policy file (default: none, every action asks).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    #[arg(long, value_enum)]
    pub log_format: Option<LogFormat>,
    /// Start even when other users can read the data dir or the database
    /// (by default the gateway refuses and says how to fix it).
    #[arg(long)]
    pub insecure_permissions: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Args)]
pub struct RequestArgs {
    /// Dotted action name, e.g. `deploy` or `billing.charge`.
    pub action: String,
    /// The action's arguments, a JSON object.
    #[arg(long, value_name = "JSON", value_parser = json_object)]
    pub args: Option<Map<String, Value>>,
    /// One line for reviewers.
    #[arg(long)]
    pub summary: Option<String>,
    #[arg(long = "session", value_name = "ID")]
    pub session_id: Option<String>,
    #[arg(long = "run", value_name = "ID")]
    pub run_id: Option<String>,
    /// A label, repeatable.
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = label)]
    pub labels: Vec<(String, String)>,
    #[arg(long, value_parser = domain_enum::<Risk>(RISKS))]
    pub risk: Option<Risk>,
    /// How long reviewers have before it expires, e.g. `10m`.
    #[arg(long, value_parser = duration)]
    pub timeout: Option<Duration>,
    /// Retrying with the same key returns the same approval.
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
    /// Wait for the decision; the exit code then tells it (0 approved,
    /// 10 rejected, 11 expired, 12 cancelled).
    #[arg(long)]
    pub wait: bool,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    #[arg(long, default_value = "shell")]
    pub action: String,
    /// One line for reviewers (default: the command line).
    #[arg(long)]
    pub summary: Option<String>,
    /// How long reviewers have before it expires, e.g. `10m`.
    #[arg(long, value_parser = duration)]
    pub timeout: Option<Duration>,
    /// The command and its arguments.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct WaitArgs {
    pub id: Uuid,
    /// Give up after this long (exit 13); default: until decided.
    #[arg(long, value_parser = duration)]
    pub timeout: Option<Duration>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[arg(long, value_enum, default_value_t = StatusFilter::All)]
    pub status: StatusFilter,
    #[arg(long)]
    pub action: Option<String>,
    #[arg(long)]
    pub requester: Option<String>,
    /// At most this many (the gateway's default is 50, its maximum 500).
    #[arg(long, value_name = "N")]
    pub limit: Option<u32>,
    /// Continue from a previous listing's cursor.
    #[arg(long)]
    pub cursor: Option<String>,
}

/// One status, or all of them.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StatusFilter {
    Pending,
    Approved,
    Rejected,
    Expired,
    Cancelled,
    All,
}

impl StatusFilter {
    pub fn status(self) -> Option<Status> {
        match self {
            StatusFilter::Pending => Some(Status::Pending),
            StatusFilter::Approved => Some(Status::Approved),
            StatusFilter::Rejected => Some(Status::Rejected),
            StatusFilter::Expired => Some(Status::Expired),
            StatusFilter::Cancelled => Some(Status::Cancelled),
            StatusFilter::All => None,
        }
    }
}

#[derive(Debug, Args)]
pub struct ApproveArgs {
    pub id: Uuid,
    /// Why; recorded with the review and shown to the requester.
    #[arg(long)]
    pub reason: Option<String>,
    /// What the approval is remembered for (default: once; timeboxed with `--ttl`).
    #[arg(long, value_parser = domain_enum::<Scope>(SCOPES))]
    pub scope: Option<Scope>,
    /// Lifetime of a timeboxed grant, e.g. `5m`.
    #[arg(long, value_parser = duration, required_if_eq("scope", "timeboxed"))]
    pub ttl: Option<Duration>,
    /// Let the grant cover any arguments of this action, not only these.
    #[arg(long, conflicts_with = "command_prefix")]
    pub any_args: bool,
    /// For a shell command: let the grant cover later command lines whose
    /// every command starts with these words (e.g. "npm test") and writes
    /// no file. They must begin every command of this approval.
    #[arg(long, value_name = "WORDS")]
    pub command_prefix: Option<String>,
}

#[derive(Debug, Args)]
pub struct ReasonArgs {
    pub id: Uuid,
    /// Why; recorded with the decision and shown to the requester.
    #[arg(long)]
    pub reason: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token; its secret is printed this once.
    Create {
        name: String,
        #[arg(long, value_parser = domain_enum::<Role>(ROLES))]
        role: Role,
        /// A group the principal belongs to, repeatable.
        #[arg(long = "group", value_name = "G")]
        groups: Vec<String>,
    },
    List,
    /// Revoke a token; its name is never used again.
    Revoke {
        name: String,
    },
    /// Give a token's principal a new secret (printed this once) and revoke
    /// the old one at the same moment.
    Rotate {
        name: String,
    },
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Only these event types, comma-separated (e.g. approval.approved,approval.rejected).
    #[arg(long, value_delimiter = ',', value_parser = domain_enum::<EventType>(EVENT_TYPES))]
    pub types: Vec<EventType>,
    /// Start after this event seq (replaying history); default: from the next event.
    #[arg(long)]
    pub after: Option<i64>,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// What a request would get: effect, rule, reason (and grant, from a gateway).
    Check {
        action: String,
        /// The action's arguments, a JSON object.
        #[arg(long, value_parser = json_object)]
        args: Option<serde_json::Map<String, serde_json::Value>>,
        #[arg(long = "session")]
        session_id: Option<String>,
        /// A label, `key=value`, repeatable.
        #[arg(long = "label", value_parser = label)]
        labels: Vec<(String, String)>,
        /// Evaluate this policy file here instead of asking the gateway.
        #[arg(long)]
        file: Option<PathBuf>,
        /// With --file: the requester to evaluate as.
        #[arg(long, default_value = "cli", requires = "file")]
        requester: String,
    },
    /// Load a policy file and run every rule's examples; exit 1 on any failure.
    Test {
        #[arg(default_value = "policy.toml")]
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write the files.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// Overwrite files that exist.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub enum GrantsCommand {
    /// Live grants, newest first (approvers see the ones they created).
    List,
    /// Revoke a grant; it stops answering requests at once.
    Revoke { id: Uuid },
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn exec_takes_everything_after_its_options_as_the_command() {
        let cli = Cli::try_parse_from([
            "assent",
            "exec",
            "--summary",
            "s",
            "--",
            "sh",
            "-c",
            "exit 7",
        ])
        .unwrap();
        let Command::Exec(exec) = cli.command else {
            panic!("not exec")
        };
        assert_eq!(exec.command, ["sh", "-c", "exit 7"]);
        assert_eq!(exec.action, "shell");
    }

    #[test]
    fn deny_is_reject() {
        let cli = Cli::try_parse_from([
            "assent",
            "deny",
            "0192f5c4-6f7a-7d3c-9a51-3c1f2b8e4d10",
            "--reason",
            "no",
        ])
        .unwrap();
        assert!(
            matches!(cli.command, Command::Reject(ReasonArgs { reason: Some(r), .. }) if r == "no")
        );
    }

    #[test]
    fn timeboxed_needs_a_ttl() {
        let id = "0192f5c4-6f7a-7d3c-9a51-3c1f2b8e4d10";
        assert!(Cli::try_parse_from(["assent", "approve", id, "--scope", "timeboxed"]).is_err());
        assert!(
            Cli::try_parse_from([
                "assent",
                "approve",
                id,
                "--scope",
                "timeboxed",
                "--ttl",
                "5m"
            ])
            .is_ok()
        );
    }

    #[test]
    fn bad_args_json_is_a_usage_error() {
        let err =
            Cli::try_parse_from(["assent", "request", "deploy", "--args", "[1]"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }
}
