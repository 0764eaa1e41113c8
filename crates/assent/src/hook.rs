//! `assent hook claude-code`: Claude Code's `PreToolUse` hook. It reads the
//! hook's JSON on stdin, asks the gateway for `claude.<tool_name>` with the
//! tool's input as args, waits for the decision and prints it as the hook's
//! answer.
//!
//! Claude Code runs the tool when a hook exits with anything but 0 or 2, so
//! this command always answers on purpose: exit 0 with a JSON decision, and
//! `deny` whenever it cannot get an approval (no gateway, a refused token,
//! input it cannot read, no decision in time, even a bug: a panic answers
//! `deny` too).

use std::io::Read;
use std::process::ExitCode;
use std::time::Duration;

use assent_client::{Approval, Client, CreateApproval, Status};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use tokio::time::Instant;

use crate::cli::{ClaudeCodeArgs, Global};
use crate::{connect, fitting, verdict};

/// Longest tool name kept in the action `claude.<tool_name>`.
const MAX_TOOL_NAME: usize = 190;

/// Time allowed for withdrawing an approval nobody decided on, after the
/// hook's own timeout; it stays well inside the 10 s between the default
/// timeout and Claude Code's hook limit.
const CANCEL_BUDGET: Duration = Duration::from_secs(3);

/// Seconds the printed settings give Claude Code's own hook timeout beyond
/// `--timeout`, so the hook answers before Claude Code would kill it.
const SETTINGS_MARGIN_SECS: u64 = 10;

/// The documented `PreToolUse` input; other fields are ignored.
#[derive(Debug, Deserialize)]
struct HookInput {
    session_id: String,
    #[serde(default)]
    transcript_path: Option<String>,
    #[serde(default)]
    cwd: Option<String>,
    #[serde(default)]
    permission_mode: Option<String>,
    hook_event_name: String,
    tool_name: String,
    tool_input: Map<String, Value>,
    #[serde(default)]
    tool_use_id: Option<String>,
}

/// The hook's answer: allow or deny, and why.
#[derive(Debug, PartialEq)]
enum Answer {
    Allow(String),
    Deny(String),
}

impl Answer {
    fn to_json(&self) -> String {
        let (decision, reason) = match self {
            Answer::Allow(reason) => ("allow", reason),
            Answer::Deny(reason) => ("deny", reason),
        };
        json!({
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": decision,
                "permissionDecisionReason": reason,
            }
        })
        .to_string()
    }
}

pub async fn claude_code(global: &Global, args: ClaudeCodeArgs) -> ExitCode {
    if args.print_settings {
        println!("{}", settings(args.timeout));
        return ExitCode::SUCCESS;
    }
    std::panic::set_hook(Box::new(|panic| {
        let answer = Answer::Deny(format!(
            "Assent denied this call: the hook failed ({panic}). Please report this bug."
        ));
        println!("{}", answer.to_json());
        std::process::exit(0);
    }));
    let deadline = Instant::now() + args.timeout;
    let answer = decide(global, args.timeout, deadline).await;
    println!("{}", answer.to_json());
    ExitCode::SUCCESS
}

/// Answers deny when the hook cannot even start its runtime, since any exit
/// but 0 or 2 would let the tool run.
pub fn deny_without_runtime(error: &std::io::Error) -> ExitCode {
    let answer = Answer::Deny(format!(
        "Assent denied this call: the hook could not start ({error})."
    ));
    println!("{}", answer.to_json());
    ExitCode::SUCCESS
}

/// The `settings.json` snippet that installs the hook for every tool, its
/// keys in the order Claude Code's documentation shows them.
#[derive(Serialize)]
struct Settings {
    hooks: SettingsHooks,
}

#[derive(Serialize)]
struct SettingsHooks {
    #[serde(rename = "PreToolUse")]
    pre_tool_use: [SettingsMatcher; 1],
}

#[derive(Serialize)]
struct SettingsMatcher {
    matcher: &'static str,
    hooks: [SettingsCommand; 1],
}

#[derive(Serialize)]
struct SettingsCommand {
    #[serde(rename = "type")]
    kind: &'static str,
    command: String,
    /// Seconds, as Claude Code counts a hook's timeout.
    timeout: u64,
}

fn settings(timeout: Duration) -> String {
    let mut command = "assent hook claude-code".to_owned();
    if timeout != Duration::from_secs(590) {
        command.push_str(&format!(
            " --timeout {}",
            humantime::format_duration(timeout)
        ));
    }
    let settings = Settings {
        hooks: SettingsHooks {
            pre_tool_use: [SettingsMatcher {
                matcher: "*",
                hooks: [SettingsCommand {
                    kind: "command",
                    command,
                    timeout: crate::parse::whole_seconds(timeout) + SETTINGS_MARGIN_SECS,
                }],
            }],
        },
    };
    serde_json::to_string_pretty(&settings).unwrap_or_default()
}

async fn decide(global: &Global, timeout: Duration, deadline: Instant) -> Answer {
    let input = match read_input() {
        Ok(input) => input,
        Err(why) => {
            return Answer::Deny(format!(
                "Assent denied this call: {why}. It expects Claude Code's PreToolUse hook JSON on \
                 stdin; check the hook's entry in settings.json (assent hook claude-code --print-settings)."
            ));
        }
    };
    if input.hook_event_name != "PreToolUse" {
        return Answer::Deny(format!(
            "Assent denied this call: the hook ran for {:?}, but it answers PreToolUse only; \
             install it under hooks.PreToolUse (assent hook claude-code --print-settings).",
            input.hook_event_name
        ));
    }
    let client = match connect::client(global) {
        Ok(client) => client,
        Err(e) => {
            return Answer::Deny(format!(
                "Assent denied this call because it cannot ask for approval: {}. Tell the user; \
                 the call can be retried once that is fixed.",
                e.report()
            ));
        }
    };
    let url = client.base_url().as_str().trim_end_matches('/').to_owned();
    let create = approval_request(&input, timeout);
    let approval = match ask(&client, &create, deadline).await {
        Ok(approval) => approval,
        Err(why) => {
            return Answer::Deny(format!(
                "Assent denied this call because it could not get a decision: {}. Tell the user; \
                 the call can be retried once that is fixed.",
                why.unwrap_or_else(|e| verdict::gateway_failure(&e, &url))
            ));
        }
    };
    answer_for(&client, approval, timeout).await
}

/// Reads and checks the hook's JSON from stdin.
fn read_input() -> Result<HookInput, String> {
    let mut text = Vec::new();
    std::io::stdin()
        .read_to_end(&mut text)
        .map_err(|e| format!("cannot read the hook input ({e})"))?;
    serde_json::from_slice(&text).map_err(|e| format!("the hook input is not valid ({e})"))
}

/// `claude.<tool_name>` with the tool's input as args; the session is
/// Claude Code's; where and how it runs goes into the context.
fn approval_request(input: &HookInput, timeout: Duration) -> CreateApproval {
    let tool = fitting::action_segment(&input.tool_name, MAX_TOOL_NAME, "unknown");
    let mut context = Map::new();
    context.insert("agent".into(), json!("claude-code"));
    for (key, value) in [
        ("cwd", &input.cwd),
        ("tool_use_id", &input.tool_use_id),
        ("transcript_path", &input.transcript_path),
        ("permission_mode", &input.permission_mode),
    ] {
        if let Some(value) = value {
            context.insert(key.into(), json!(value));
        }
    }
    CreateApproval {
        action: format!("claude.{tool}"),
        args: input.tool_input.clone(),
        summary: Some(fitting::summary(&summary(
            &input.tool_name,
            &input.tool_input,
        ))),
        context,
        session_id: Some(input.session_id.clone()).filter(|s| !s.is_empty()),
        timeout_seconds: Some(approval_timeout(timeout)),
        ..Default::default()
    }
}

/// The approval expires a second before the hook gives up, so a wait that
/// runs out normally ends as `expired` ("nobody decided") rather than
/// being withdrawn.
fn approval_timeout(timeout: Duration) -> u64 {
    timeout.as_secs().saturating_sub(1).max(1)
}

/// What reviewers read first: the tool and the one input that says what it
/// will do (the command, the file, the URL, the pattern).
fn summary(tool: &str, input: &Map<String, Value>) -> String {
    let detail = [
        "command",
        "file_path",
        "notebook_path",
        "path",
        "url",
        "pattern",
        "query",
    ]
    .into_iter()
    .find_map(|key| input.get(key).and_then(Value::as_str));
    match detail {
        Some(detail) => format!("{tool}: {detail}"),
        None => format!("Claude Code wants to use {tool}"),
    }
}

/// Creates the approval and, when a person must decide, waits until the
/// deadline. The error is the reason to give, or the gateway's error.
async fn ask(
    client: &Client,
    create: &CreateApproval,
    deadline: Instant,
) -> Result<Approval, Result<String, assent_client::Error>> {
    let no_answer = || Ok("the gateway did not answer before the hook's timeout".to_owned());
    let approval = tokio::time::timeout_at(deadline, client.request(create))
        .await
        .map_err(|_| no_answer())?
        .map_err(Err)?;
    if approval.status.is_terminal() {
        return Ok(approval);
    }
    crate::output::status(&format!(
        "waiting for approval {} of {}: decide at {}",
        approval.id,
        approval.action,
        verdict::console_link(client, &approval)
    ));
    let left = deadline.saturating_duration_since(Instant::now());
    client.wait(approval.id, Some(left)).await.map_err(Err)
}

async fn answer_for(client: &Client, approval: Approval, timeout: Duration) -> Answer {
    let id = approval.id;
    match approval.status {
        Status::Approved => Answer::Allow(format!(
            "Assent: {} (approval {id})",
            verdict::outcome(&approval)
        )),
        Status::Rejected | Status::Cancelled => Answer::Deny(format!(
            "Assent: {} (approval {id}). The call was not run; do not retry it unchanged, \
             ask the user how to proceed.",
            verdict::outcome(&approval)
        )),
        Status::Expired | Status::Pending => {
            if approval.status == Status::Pending {
                withdraw(client, &approval, timeout).await;
            }
            Answer::Deny(format!(
                "Assent: nobody decided on approval {id} within {}, so the call was denied. \
                 Ask the user to keep the Assent console ({}) open to decide, then retry the call.",
                humantime::format_duration(timeout),
                client.base_url()
            ))
        }
    }
}

/// Cancels an approval the hook stopped waiting for, so nobody approves a
/// call that was already denied; a failure only leaves it to expire.
async fn withdraw(client: &Client, approval: &Approval, timeout: Duration) {
    let reason = format!(
        "the Claude Code hook stopped waiting after {} and denied the call",
        humantime::format_duration(timeout)
    );
    let _ = tokio::time::timeout(CANCEL_BUDGET, client.cancel(approval.id, Some(reason))).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_the_documented_hook_output() {
        let answer: Value = serde_json::from_str(&Answer::Deny("no".into()).to_json()).unwrap();
        assert_eq!(
            answer,
            json!({"hookSpecificOutput": {"hookEventName": "PreToolUse",
                "permissionDecision": "deny", "permissionDecisionReason": "no"}})
        );
    }

    #[test]
    fn summaries_name_the_tool_and_what_it_will_touch() {
        let input = |v: Value| v.as_object().cloned().unwrap();
        assert_eq!(
            summary(
                "Bash",
                &input(json!({"command": "npm test", "description": "run"}))
            ),
            "Bash: npm test"
        );
        assert_eq!(
            summary(
                "Write",
                &input(json!({"file_path": "/a/b.rs", "content": "x"}))
            ),
            "Write: /a/b.rs"
        );
        assert_eq!(
            summary("mcp__github__create_issue", &input(json!({"title": "t"}))),
            "Claude Code wants to use mcp__github__create_issue"
        );
    }

    #[test]
    fn the_approval_expires_just_before_the_hook_gives_up() {
        assert_eq!(approval_timeout(Duration::from_secs(590)), 589);
        assert_eq!(approval_timeout(Duration::from_millis(500)), 1);
    }

    #[test]
    fn settings_install_the_hook_for_every_tool_inside_claude_codes_limit() {
        let default: Value = serde_json::from_str(&settings(Duration::from_secs(590))).unwrap();
        let hook = &default["hooks"]["PreToolUse"][0];
        assert_eq!(hook["matcher"], "*");
        assert_eq!(hook["hooks"][0]["command"], "assent hook claude-code");
        assert_eq!(hook["hooks"][0]["timeout"], 600);
        let short: Value = serde_json::from_str(&settings(Duration::from_secs(120))).unwrap();
        let hook = &short["hooks"]["PreToolUse"][0]["hooks"][0];
        assert_eq!(hook["command"], "assent hook claude-code --timeout 2m");
        assert_eq!(hook["timeout"], 130);
    }
}
