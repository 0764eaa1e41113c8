//! Shell policy and args matchers through the API: redirections are
//! effects, allow globs stop at word boundaries, deny/ask args matchers see
//! through structure, whitespace and case, and command grants stay within
//! their prefix and their requester.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::TestApp;
use assent_testdb::{Backend, backends};

const POLICY: &str = r#"
default = "ask"

[[rule]]
name = "look"
effect = "allow"
action = "shell"
command = ["git status*", "ls*", "cat *"]

[[rule]]
name = "build"
effect = "allow"
action = "shell"
command = ["make build*"]
allow_redirects = true
"#;

const ARGS_POLICY: &str = r#"
default = "allow"

[[rule]]
name = "prod"
effect = "ask"
action = "deploy"
args = { env = "prod*" }
ignore_case = true

[[rule]]
name = "billing"
effect = "deny"
action = "billing.*"
ignore_case = true
"#;

const SRV_POLICY: &str = r#"
default = "ask"

[[rule]]
name = "srv"
effect = "allow"
action = "fs.write"
args = { path = "/srv/*" }
"#;

async fn check(app: &TestApp, body: Value) -> Value {
    let (status, result) = app
        .call(Method::POST, "/v1/check", &app.agent, Some(body))
        .await;
    assert_eq!(status, StatusCode::OK, "{result}");
    result
}

async fn shell_effect(app: &TestApp, command: &str) -> String {
    let result = check(
        app,
        json!({"action": "shell", "args": {"command": command}}),
    )
    .await;
    result["effect"].as_str().unwrap().to_owned()
}

#[backends]
async fn redirecting_to_a_file_is_asked_not_allowed(backend: Backend) {
    let app = TestApp::spawn_with_policy(backend, POLICY).await;
    for line in [
        "git status > /etc/passwd",
        "git status >> ~/.bashrc",
        "ls > /dev/sda",
        "ls &> out.txt",
        "ls >| x",
        "ls 1>x",
        "cat README <<< x > y",
        "ls testx && git status > ~/.profile",
    ] {
        assert_eq!(shell_effect(&app, line).await, "ask", "{line:?}");
    }
    for line in ["ls 2>&1", "ls 2>/dev/null", "ls > /dev/null", "git status"] {
        assert_eq!(shell_effect(&app, line).await, "allow", "{line:?}");
    }
    assert_eq!(
        shell_effect(&app, "make build > build.log 2>&1").await,
        "allow"
    );
    assert_eq!(shell_effect(&app, "lsblk").await, "ask", "word boundary");

    // Creating the approval agrees with the check.
    let (status, created) = app
        .call(
            Method::POST,
            "/v1/approvals",
            &app.agent,
            Some(json!({"action": "shell", "args": {"command": "git status > /etc/passwd"}})),
        )
        .await;
    assert_eq!(
        (status, created["status"].as_str()),
        (StatusCode::CREATED, Some("pending"))
    );
}

#[backends]
async fn check_and_the_approval_show_the_parts_the_policy_saw(backend: Backend) {
    let app = TestApp::spawn_with_policy(backend, POLICY).await;
    let line = "git status > /etc/passwd 2>&1 && ls";
    let result = check(&app, json!({"action": "shell", "args": {"command": line}})).await;
    let want = json!([
        {"text": "git status", "redirects": [
            {"op": ">", "target": "/etc/passwd", "writes_file": true},
            {"op": "2>&", "target": "1", "writes_file": false},
        ]},
        {"text": "ls", "redirects": []},
    ]);
    assert_eq!(result["parts"], want, "{result}");
    let approval = app
        .create(
            &app.agent,
            json!({"action": "shell", "args": {"command": line}}),
        )
        .await;
    assert_eq!(approval["parts"], want);
    let id = approval["id"].as_str().unwrap();
    let (_, read) = app.get(&app.approver, id).await;
    assert_eq!(read["parts"], want);
    let plain = check(&app, json!({"action": "deploy", "args": {"env": "x"}})).await;
    assert!(plain.get("parts").is_none(), "{plain}");
}

#[backends]
async fn deny_and_ask_args_matchers_see_through_structure_whitespace_and_case(backend: Backend) {
    let app = TestApp::spawn_with_policy(backend, ARGS_POLICY).await;
    for args in [
        json!({"env": ["prod"]}),
        json!({"env": {"name": "prod"}}),
        json!({"env": " prod"}),
        json!({"env": "PROD"}),
    ] {
        let result = check(&app, json!({"action": "deploy", "args": args.clone()})).await;
        assert_eq!(
            (result["effect"].as_str(), result["rule"].as_str()),
            (Some("ask"), Some("prod")),
            "{args}"
        );
    }
    let result = check(
        &app,
        json!({"action": "deploy", "args": {"env": "staging"}}),
    )
    .await;
    assert_eq!(result["effect"], "allow");
    let result = check(&app, json!({"action": "Billing.Charge"})).await;
    assert_eq!(
        (result["effect"].as_str(), result["rule"].as_str()),
        (Some("deny"), Some("billing"))
    );
}

#[backends]
async fn an_allow_args_matcher_needs_a_matching_string(backend: Backend) {
    let app = TestApp::spawn_with_policy(backend, SRV_POLICY).await;
    let result = check(
        &app,
        json!({"action": "fs.write", "args": {"path": ["/srv/x", "/etc/shadow"]}}),
    )
    .await;
    assert_eq!(
        (result["effect"].as_str(), result["rule"].as_str()),
        (Some("ask"), None)
    );
    let result = check(
        &app,
        json!({"action": "fs.write", "args": {"path": "/srv/x"}}),
    )
    .await;
    assert_eq!(result["effect"], "allow");
}

/// Approves `npm test -- --watch` in session s1 for the agent with a
/// command grant; returns the grant as listed.
async fn command_grant(app: &TestApp, review: Value) -> Value {
    let id = app
        .create_id(
            &app.agent,
            json!({"action": "shell", "args": {"command": "npm test -- --watch"}, "session_id": "s1"}),
        )
        .await;
    let (status, decided) = app
        .call(
            Method::POST,
            &format!("/v1/approvals/{id}/reviews"),
            &app.approver,
            Some(review),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{decided}");
    let (_, list) = app
        .call(Method::GET, "/v1/grants", &app.approver, None)
        .await;
    list["items"][0].clone()
}

async fn create_shell(app: &TestApp, token: &str, command: &str) -> (StatusCode, Value) {
    app.call(
        Method::POST,
        "/v1/approvals",
        token,
        Some(json!({"action": "shell", "args": {"command": command}, "session_id": "s1"})),
    )
    .await
}

#[backends]
async fn a_command_grant_answers_its_prefix_in_its_session_for_its_requester_only(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let grant = command_grant(
        &app,
        json!({"decision": "approve", "scope": "session", "grant_match": "command"}),
    )
    .await;
    assert_eq!(
        (
            grant["command_prefix"].as_str(),
            grant["requester"].as_str(),
            grant["args_sha256"].clone()
        ),
        (Some("npm test"), Some("bot"), Value::Null),
        "{grant}"
    );
    assert_eq!(
        grant["covers"],
        "allows shell requests whose every command starts with \"npm test\" and writes no file, from bot in session s1"
    );
    for line in ["npm test", "npm test -- -u"] {
        let (status, answered) = create_shell(&app, &app.agent, line).await;
        assert_eq!(
            (status, answered["status"].as_str()),
            (StatusCode::OK, Some("approved")),
            "{line}"
        );
        let check = check(
            &app,
            json!({"action": "shell", "args": {"command": line}, "session_id": "s1"}),
        )
        .await;
        assert_eq!(check["grant"], grant["id"], "{line}");
    }
    for line in [
        "npm test && rm -rf /",
        "npm testx",
        "npm test > ~/.bashrc",
        "npm run evil",
    ] {
        let (status, asked) = create_shell(&app, &app.agent, line).await;
        assert_eq!(
            (status, asked["status"].as_str()),
            (StatusCode::CREATED, Some("pending")),
            "{line}"
        );
    }
    let (status, other) = create_shell(&app, &app.other_agent, "npm test").await;
    assert_eq!(
        (status, other["status"].as_str()),
        (StatusCode::CREATED, Some("pending")),
        "another requester in the same session is asked"
    );
}

#[backends]
async fn a_command_prefix_must_begin_every_part_of_the_approved_command(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app
        .create_id(
            &app.agent,
            json!({"action": "shell", "args": {"command": "npm test && rm -rf /"}, "session_id": "s1"}),
        )
        .await;
    let (status, problem) = app
        .call(
            Method::POST,
            &format!("/v1/approvals/{id}/reviews"),
            &app.approver,
            Some(json!({"decision": "approve", "scope": "session", "grant_match": "command", "command_prefix": "npm test"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("command_prefix"),
        "{problem}"
    );
    let (status, problem) = app
        .call(
            Method::POST,
            &format!("/v1/approvals/{id}/reviews"),
            &app.approver,
            Some(json!({"decision": "approve", "command_prefix": "npm"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    let (_, still) = app.get(&app.approver, &id).await;
    assert_eq!(still["status"], "pending", "nothing was recorded");
}
