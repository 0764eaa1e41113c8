//! The policy on the request path: allow and deny decide at once, ask goes
//! to people with the rule's risk, timeout and quorum; check explains;
//! reload swaps the policy or keeps the old one.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::TestApp;
use assent_testdb::{Backend, backends};

const POLICY: &str = r#"
default = "ask"

[[rule]]
name = "reads"
effect = "allow"
action = "fs.read*"

[[rule]]
name = "no-force-push"
effect = "deny"
action = "shell"
command = ["git push --force*", "git push -f*"]
reason = "force pushes are never allowed"

[[rule]]
name = "prod-deploys"
effect = "ask"
action = "deploy"
args = { env = "prod*" }
risk = "high"
timeout = "30m"
quorum = [{ group = "sre", min = 2 }, { group = "security", min = 1 }]

[[rule]]
name = "own-notes"
effect = "ask"
action = "notes.write"
allow_self_review = true
"#;

async fn create(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    app.call(Method::POST, "/v1/approvals", token, Some(body))
        .await
}

#[backends]
async fn allow_and_deny_rules_decide_at_once_and_ask_rules_shape_the_approval(backend: Backend) {
    let app = TestApp::spawn_with_policy(backend, POLICY).await;
    let (status, read) = create(
        &app,
        &app.agent,
        json!({"action": "fs.read", "args": {"path": "/etc/hosts"}}),
    )
    .await;
    assert_eq!(
        (status, read["status"].as_str()),
        (StatusCode::OK, Some("approved"))
    );
    assert_eq!(
        (read["decision"]["by"][0].as_str(), read["rule"].as_str()),
        (Some("policy:reads"), Some("reads"))
    );

    let (status, push) = create(
        &app,
        &app.agent,
        json!({"action": "shell", "args": {"command": "sudo git push --force origin main"}}),
    )
    .await;
    assert_eq!(
        (status, push["status"].as_str()),
        (StatusCode::OK, Some("rejected"))
    );
    assert_eq!(push["decision"]["reason"], "force pushes are never allowed");

    let (status, deploy) = create(
        &app,
        &app.agent,
        json!({"action": "deploy", "args": {"env": "prod-eu"}}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        (deploy["rule"].as_str(), deploy["risk"].as_str()),
        (Some("prod-deploys"), Some("high"))
    );
    assert_eq!(
        deploy["quorum"],
        json!([{"group": "sre", "min": 2, "approved_by": []}, {"group": "security", "min": 1, "approved_by": []}])
    );
    let lifetime = time::OffsetDateTime::parse(
        deploy["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap()
        - time::OffsetDateTime::parse(
            deploy["created_at"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
    assert_eq!(lifetime, time::Duration::minutes(30));

    let (status, other) = create(
        &app,
        &app.agent,
        json!({"action": "deploy", "args": {"env": "staging"}}),
    )
    .await;
    assert_eq!(
        (status, other["rule"].clone()),
        (StatusCode::CREATED, Value::Null),
        "the default asks"
    );
    let kinds: Vec<String> = app
        .events()
        .await
        .iter()
        .filter(|e| {
            e["actor"]
                .as_str()
                .is_some_and(|a| a.starts_with("policy:"))
        })
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["approval.approved", "approval.rejected"]);
}

#[backends]
async fn a_quorum_of_two_sre_and_one_security_is_decided_by_the_third_eligible_approval(
    backend: Backend,
) {
    let app = TestApp::spawn_with_policy(backend, POLICY).await;
    let sre1 = app.token("sre-1", "approver", &["sre"]).await;
    let sre2 = app.token("sre-2", "approver", &["sre"]).await;
    let sec = app.token("sec-1", "approver", &["security"]).await;
    let (_, deploy) = create(
        &app,
        &app.agent,
        json!({"action": "deploy", "args": {"env": "prod"}}),
    )
    .await;
    let id = deploy["id"].as_str().unwrap();
    let (status, problem) = app.review(&app.approver, id, "approve").await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "alice is in neither group: {problem}"
    );
    for (token, want) in [(&sre1, "pending"), (&sec, "pending"), (&sre2, "approved")] {
        let (status, after) = app.review(token, id, "approve").await;
        assert_eq!(
            (status, after["status"].as_str()),
            (StatusCode::OK, Some(want))
        );
    }
    let (_, done) = app.get(&app.agent, id).await;
    assert_eq!(done["quorum"][0]["approved_by"], json!(["sre-1", "sre-2"]));
    assert_eq!(done["decision"]["by"], json!(["sre-1", "sec-1", "sre-2"]));
}

#[backends]
async fn self_review_only_where_the_rule_allows_it(backend: Backend) {
    let app = TestApp::spawn_with_policy(backend, POLICY).await;
    let (_, notes) = create(&app, &app.approver, json!({"action": "notes.write"})).await;
    let (status, reviewed) = app
        .review(&app.approver, notes["id"].as_str().unwrap(), "approve")
        .await;
    assert_eq!(
        (status, reviewed["reviews"][0]["self_review"].as_bool()),
        (StatusCode::OK, Some(true))
    );
    let (_, other) = create(&app, &app.approver, json!({"action": "deploy"})).await;
    assert_eq!(
        app.review(&app.approver, other["id"].as_str().unwrap(), "approve")
            .await
            .0,
        StatusCode::FORBIDDEN
    );
}

#[backends]
async fn check_explains_without_recording_and_names_a_grant(backend: Backend) {
    let app = TestApp::spawn_with_policy(backend, POLICY).await;
    let before = app.event_count().await;
    for (body, effect, rule) in [
        (json!({"action": "fs.read"}), "allow", json!("reads")),
        (
            json!({"action": "shell", "args": {"command": "git push -f"}}),
            "deny",
            json!("no-force-push"),
        ),
        (
            json!({"action": "shell", "args": {"command": "ls"}}),
            "ask",
            Value::Null,
        ),
    ] {
        let (status, result) = app
            .call(Method::POST, "/v1/check", &app.agent, Some(body))
            .await;
        assert_eq!(
            (status, result["effect"].as_str(), &result["rule"]),
            (StatusCode::OK, Some(effect), &rule),
            "{result}"
        );
        assert_eq!(result["grant"], Value::Null);
    }
    assert_eq!(app.event_count().await, before, "check records nothing");
    let (status, problem) = app
        .call(
            Method::POST,
            "/v1/check",
            &app.agent,
            Some(json!({"action": "bad action"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");

    let request = json!({"action": "shell", "args": {"command": "ls"}, "session_id": "s1"});
    let (_, asked) = create(&app, &app.agent, request.clone()).await;
    let id = asked["id"].as_str().unwrap();
    app.call(
        Method::POST,
        &format!("/v1/approvals/{id}/reviews"),
        &app.approver,
        Some(json!({"decision": "approve", "scope": "session"})),
    )
    .await;
    let (_, result) = app
        .call(Method::POST, "/v1/check", &app.agent, Some(request))
        .await;
    assert_eq!(result["effect"], "allow");
    assert!(result["grant"].as_str().is_some(), "{result}");
}

#[backends]
async fn a_deny_rule_is_never_overridden_by_a_grant(backend: Backend) {
    let app = TestApp::spawn_with_policy(backend, POLICY).await;
    let request =
        json!({"action": "shell", "args": {"command": "git push --force"}, "session_id": "s1"});
    // Make a grant for the same request while the policy still asks.
    std::fs::write(app.policy_path(), "default = \"ask\"\n").unwrap();
    assert_eq!(
        app.call(Method::POST, "/v1/policy/reload", &app.admin, None)
            .await
            .0,
        StatusCode::OK
    );
    let (_, asked) = create(&app, &app.agent, request.clone()).await;
    let id = asked["id"].as_str().unwrap();
    app.call(
        Method::POST,
        &format!("/v1/approvals/{id}/reviews"),
        &app.approver,
        Some(json!({"decision": "approve", "scope": "session"})),
    )
    .await;
    let (_, granted) = create(&app, &app.agent, request.clone()).await;
    assert_eq!(
        granted["status"], "approved",
        "the grant answers while the policy asks"
    );
    std::fs::write(app.policy_path(), POLICY).unwrap();
    assert_eq!(
        app.call(Method::POST, "/v1/policy/reload", &app.admin, None)
            .await
            .0,
        StatusCode::OK
    );
    let (_, denied) = create(&app, &app.agent, request).await;
    assert_eq!(
        (
            denied["status"].as_str(),
            denied["decision"]["by"][0].as_str()
        ),
        (Some("rejected"), Some("policy:no-force-push"))
    );
}

#[backends]
async fn a_broken_reload_keeps_the_running_policy_and_a_good_one_takes_effect(backend: Backend) {
    let app = TestApp::spawn_with_policy(backend, POLICY).await;
    let (status, shown) = app
        .call(Method::GET, "/v1/policy", &app.approver, None)
        .await;
    assert_eq!(
        (status, shown["rules"].as_array().unwrap().len()),
        (StatusCode::OK, 4)
    );
    assert_eq!(
        app.call(Method::GET, "/v1/policy", &app.agent, None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.call(Method::POST, "/v1/policy/reload", &app.approver, None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );

    std::fs::write(
        app.policy_path(),
        "[[rule]]\nname = \"x\"\neffect = \"allow\"\naction = \"[\"\n",
    )
    .unwrap();
    let (status, problem) = app
        .call(Method::POST, "/v1/policy/reload", &app.admin, None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("policy.toml") && detail.contains("\"x\"") && detail.contains("action"),
        "{detail}"
    );
    let (_, still) = create(&app, &app.agent, json!({"action": "fs.read"})).await;
    assert_eq!(still["status"], "approved", "the old policy still answers");

    std::fs::write(app.policy_path(), "default = \"deny\"\n").unwrap();
    let (status, shown) = app
        .call(Method::POST, "/v1/policy/reload", &app.admin, None)
        .await;
    assert_eq!(
        (status, shown["default"].as_str()),
        (StatusCode::OK, Some("deny"))
    );
    let (_, now_denied) = create(&app, &app.agent, json!({"action": "fs.read"})).await;
    assert_eq!(
        (
            now_denied["status"].as_str(),
            now_denied["decision"]["by"][0].as_str()
        ),
        (Some("rejected"), Some("policy:default"))
    );
    let reloads = app
        .events()
        .await
        .iter()
        .filter(|e| e["type"] == "policy.reloaded")
        .count();
    assert_eq!(reloads, 1, "only the successful reload is recorded");
}

#[backends]
async fn escalation_is_emitted_once_when_the_rule_s_escalate_after_passes(backend: Backend) {
    let policy = "[[rule]]\nname = \"slow\"\neffect = \"ask\"\naction = \"deploy\"\ntimeout = \"1h\"\nescalate_after = \"1s\"\n";
    let app = TestApp::spawn_with_policy(backend, policy).await;
    let (_, deploy) = create(&app, &app.agent, json!({"action": "deploy"})).await;
    let (_, decided) = create(&app, &app.agent, json!({"action": "deploy"})).await;
    let (id, decided_id) = (
        deploy["id"].as_str().unwrap(),
        decided["id"].as_str().unwrap(),
    );
    assert!(deploy["escalate_at"].as_str().is_some());
    app.review(&app.approver, decided_id, "approve").await;
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    let escalations: Vec<Value> = app
        .events()
        .await
        .into_iter()
        .filter(|e| e["type"] == "approval.escalated")
        .collect();
    assert_eq!(
        escalations.len(),
        1,
        "once, and only for the approval still pending: {escalations:?}"
    );
    assert_eq!(
        (
            escalations[0]["approval_id"].as_str(),
            escalations[0]["actor"].as_str()
        ),
        (Some(id), Some("system:escalation"))
    );
    let (_, now) = app.get(&app.agent, id).await;
    assert_eq!(
        (now["status"].as_str(), now["escalated"].as_bool()),
        (Some("pending"), Some(true))
    );
    let at = |v: &Value| {
        time::OffsetDateTime::parse(
            v.as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
    };
    let late = at(&escalations[0]["at"]) - at(&deploy["escalate_at"]);
    assert!(
        late >= time::Duration::ZERO && late < time::Duration::seconds(1),
        "escalated {late} after it was due"
    );
}
