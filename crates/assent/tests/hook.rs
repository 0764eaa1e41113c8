//! `assent hook claude-code` as Claude Code runs it: the real binary fed
//! the documented `PreToolUse` JSON on stdin, against a real gateway. Every
//! answer must be exit 0 with a JSON decision: Claude Code runs the tool
//! when a hook exits with anything but 0 or 2.

mod support;

use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use support::*;

const POLICY: &str = r#"
default = "ask"

[[rule]]
name = "reads"
effect = "allow"
action = "claude.Read"

[[rule]]
name = "no-tree-removal"
effect = "deny"
action = "claude.Bash"
command = ["rm -rf*"]
reason = "deleting directory trees is not allowed here"
"#;

struct Hooked {
    gw: Gateway,
    agent: String,
    alice: String,
}

fn gateway() -> Hooked {
    let gw = Gateway::start_with_policy(POLICY);
    let agent = gw.token("claude-agent", "agent");
    let alice = gw.token("alice", "approver");
    Hooked { gw, agent, alice }
}

/// The input Claude Code documents for `PreToolUse`.
fn hook_input(tool_name: &str, tool_input: Value) -> String {
    json!({
        "session_id": "abc123",
        "transcript_path": "/home/dev/.claude/projects/demo/abc123.jsonl",
        "cwd": "/home/dev/demo",
        "permission_mode": "default",
        "hook_event_name": "PreToolUse",
        "tool_name": tool_name,
        "tool_input": tool_input,
        "tool_use_id": "toolu_01ABC",
    })
    .to_string()
}

/// Runs the hook with `stdin` as its input and `env` on top of the gateway's.
fn hook(gw: &Gateway, token: &str, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Running {
    let mut cmd = gw.command(token, &[&["hook", "claude-code"], args].concat());
    cmd.stdin(Stdio::piped());
    for (key, value) in env {
        cmd.env(key, value);
    }
    let mut running = Running::spawn(cmd);
    let mut input = running.child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).unwrap();
    drop(input);
    running
}

/// The decision and its reason, after insisting on exit 0 and the
/// documented output shape.
fn answer(done: &Finished) -> (String, String) {
    assert_eq!(done.code, Some(0), "{done:?}");
    let out: Value = serde_json::from_str(done.stdout.trim())
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {done:?}"));
    let specific = &out["hookSpecificOutput"];
    assert_eq!(specific["hookEventName"], "PreToolUse", "{out}");
    (
        specific["permissionDecision"].as_str().unwrap().to_owned(),
        specific["permissionDecisionReason"]
            .as_str()
            .unwrap()
            .to_owned(),
    )
}

fn approvals(h: &Hooked) -> Vec<Value> {
    let page: Value = serde_json::from_str(&h.gw.ok(&h.alice, &["list", "--json"]).stdout).unwrap();
    page["items"].as_array().unwrap().clone()
}

#[test]
fn a_call_the_policy_allows_is_allowed_and_recorded() {
    let h = gateway();
    let input = hook_input("Read", json!({"file_path": "/home/dev/demo/src/main.rs"}));
    let done = hook(&h.gw, &h.agent, &[], &input, &[]).finish(PROMPT);
    let (decision, reason) = answer(&done);
    assert_eq!(decision, "allow");
    assert!(reason.contains("approved by policy rule reads"), "{reason}");

    let recorded = approvals(&h);
    let [approval] = recorded.as_slice() else {
        panic!("{recorded:?}")
    };
    assert_eq!(approval["action"], "claude.Read");
    assert_eq!(approval["status"], "approved");
    assert_eq!(
        approval["args"],
        json!({"file_path": "/home/dev/demo/src/main.rs"})
    );
    assert_eq!(approval["session_id"], "abc123");
    assert_eq!(approval["requester"], "claude-agent");
    assert_eq!(approval["context"]["cwd"], "/home/dev/demo");
    assert_eq!(approval["context"]["tool_use_id"], "toolu_01ABC");
    assert_eq!(
        approval["context"]["transcript_path"],
        "/home/dev/.claude/projects/demo/abc123.jsonl"
    );
    assert_eq!(approval["summary"], "Read: /home/dev/demo/src/main.rs");
}

#[test]
fn a_call_the_policy_denies_is_denied_with_the_rules_reason() {
    let h = gateway();
    let input = hook_input(
        "Bash",
        json!({"command": "sudo rm -rf build", "description": "clean"}),
    );
    let done = hook(&h.gw, &h.agent, &[], &input, &[]).finish(PROMPT);
    let (decision, reason) = answer(&done);
    assert_eq!(decision, "deny");
    assert!(
        reason.contains(
            "rejected by policy rule no-tree-removal: deleting directory trees is not allowed here"
        ),
        "{reason}"
    );
}

#[test]
fn an_asked_call_waits_for_a_person_and_is_allowed_once_approved() {
    let h = gateway();
    let input = hook_input(
        "mcp__github__create_issue",
        json!({"repo": "acme/api", "title": "flaky test"}),
    );
    let running = hook(&h.gw, &h.agent, &[], &input, &[]);
    let pending = wait_for_pending(&h);
    assert_eq!(pending["action"], "claude.mcp__github__create_issue");
    assert_eq!(pending["args"]["repo"], "acme/api");
    let id = pending["id"].as_str().unwrap();
    h.gw.ok(&h.alice, &["approve", id, "--reason", "go ahead"]);

    let done = running.finish(PROMPT);
    let (decision, reason) = answer(&done);
    assert_eq!(decision, "allow");
    assert!(reason.contains("approved by alice: go ahead"), "{reason}");
    assert!(
        done.stderr
            .contains(&format!("{}/#/approvals/{id}", h.gw.url)),
        "the wait names where to decide: {done:?}"
    );
}

#[test]
fn an_asked_call_rejected_by_a_person_is_denied_with_their_reason() {
    let h = gateway();
    let input = hook_input("Bash", json!({"command": "git push origin main"}));
    let running = hook(&h.gw, &h.agent, &[], &input, &[]);
    let id = wait_for_pending(&h)["id"].as_str().unwrap().to_owned();
    h.gw.ok(
        &h.alice,
        &["reject", &id, "--reason", "not during the freeze"],
    );
    let (decision, reason) = answer(&running.finish(PROMPT));
    assert_eq!(decision, "deny");
    assert!(
        reason.contains("rejected by alice: not during the freeze"),
        "{reason}"
    );
}

#[test]
fn no_decision_before_the_hooks_timeout_denies_and_ends_the_approval() {
    let h = gateway();
    let input = hook_input("Bash", json!({"command": "make deploy"}));
    let started = Instant::now();
    let done =
        hook(&h.gw, &h.agent, &["--timeout", "2s"], &input, &[]).finish(Duration::from_secs(15));
    let took = started.elapsed();
    let (decision, reason) = answer(&done);
    assert_eq!(decision, "deny");
    assert!(reason.contains("nobody decided"), "{reason}");
    assert!(reason.contains("within 2s"), "{reason}");
    assert!(took < Duration::from_secs(8), "took {took:?}");
    // Nobody can approve a call that was already denied.
    let recorded = approvals(&h);
    let [approval] = recorded.as_slice() else {
        panic!("{recorded:?}")
    };
    assert!(
        matches!(approval["status"].as_str(), Some("expired" | "cancelled")),
        "{approval}"
    );
}

#[test]
fn an_unreachable_gateway_denies_and_says_what_to_do() {
    let h = gateway();
    let unused = unused_port_url();
    let input = hook_input("Read", json!({"file_path": "/etc/hosts"}));
    let done = hook(&h.gw, &h.agent, &[], &input, &[("ASSENT_URL", &unused)]).finish(PROMPT);
    let (decision, reason) = answer(&done);
    assert_eq!(decision, "deny");
    assert!(
        reason.contains(&format!("cannot reach the Assent gateway at {unused}")),
        "{reason}"
    );
    assert!(reason.contains("ASSENT_URL"), "{reason}");
}

#[test]
fn a_refused_token_denies_and_names_the_variable_to_fix() {
    let h = gateway();
    let input = hook_input("Read", json!({"file_path": "/etc/hosts"}));
    let done = hook(&h.gw, "not-a-token", &[], &input, &[]).finish(PROMPT);
    let (decision, reason) = answer(&done);
    assert_eq!(decision, "deny");
    assert!(reason.contains("refused the token"), "{reason}");
    assert!(reason.contains("ASSENT_TOKEN"), "{reason}");
}

#[test]
fn input_that_is_not_the_documented_json_is_denied() {
    let h = gateway();
    let wrong_event = hook_input("Read", json!({})).replace("PreToolUse", "PostToolUse");
    for (input, expected) in [
        ("", "not valid"),
        ("{\"tool_name\": \"Bash\"", "not valid"),
        (
            r#"{"session_id": "s", "hook_event_name": "PreToolUse", "tool_name": "Bash"}"#,
            "missing field `tool_input`",
        ),
        (
            r#"{"session_id": "s", "hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": []}"#,
            "not valid",
        ),
        (wrong_event.as_str(), "answers PreToolUse only"),
    ] {
        let done = hook(&h.gw, &h.agent, &[], input, &[]).finish(PROMPT);
        let (decision, reason) = answer(&done);
        assert_eq!(decision, "deny", "{input}");
        assert!(reason.contains(expected), "{input}: {reason}");
    }
    assert!(approvals(&h).is_empty());
}

#[test]
fn print_settings_prints_a_settings_json_that_installs_the_hook() {
    let h = gateway();
    let done = h.gw.ok("", &["hook", "claude-code", "--print-settings"]);
    let settings: Value = serde_json::from_str(&done.stdout).unwrap();
    let entry = &settings["hooks"]["PreToolUse"][0];
    assert_eq!(entry["matcher"], "*");
    assert_eq!(entry["hooks"][0]["type"], "command");
    assert_eq!(entry["hooks"][0]["command"], "assent hook claude-code");
    assert_eq!(entry["hooks"][0]["timeout"], 600);
}

/// The one pending approval, once the hook has created it.
fn wait_for_pending(h: &Hooked) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let pending: Vec<Value> = approvals(h)
            .into_iter()
            .filter(|a| a["status"] == "pending")
            .collect();
        match pending.as_slice() {
            [one] => return one.clone(),
            [] if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            _ => panic!("expected one pending approval: {pending:?}"),
        }
    }
}

/// A loopback URL nothing listens on.
fn unused_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}
