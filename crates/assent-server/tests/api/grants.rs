//! Grants: remembered decisions answer identical later requests.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, assert_chain_verifies};
use assent_testdb::{Backend, backends};

async fn decide(app: &TestApp, token: &str, body: Value, review: Value) -> Value {
    let id = app.create_id(&app.agent, body).await;
    let (status, decided) = app
        .call(
            Method::POST,
            &format!("/v1/approvals/{id}/reviews"),
            token,
            Some(review),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{decided}");
    decided
}

/// Creates and returns (status, approval) without insisting on 201.
async fn ask(app: &TestApp, body: Value) -> (StatusCode, Value) {
    app.call(Method::POST, "/v1/approvals", &app.agent, Some(body))
        .await
}

async fn grants(app: &TestApp, token: &str) -> Vec<Value> {
    let (status, list) = app.call(Method::GET, "/v1/grants", token, None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["items"].as_array().unwrap().clone()
}

#[backends]
async fn a_session_grant_answers_the_same_request_in_the_same_session_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let request = json!({"action": "deploy", "args": {"env": "prod"}, "session_id": "s1"});
    decide(
        &app,
        &app.approver,
        request.clone(),
        json!({"decision": "approve", "scope": "session"}),
    )
    .await;
    let listed = grants(&app, &app.approver).await;
    assert_eq!(listed.len(), 1);
    let grant = &listed[0];
    assert_eq!(
        (
            grant["effect"].as_str(),
            grant["action"].as_str(),
            grant["session_id"].as_str()
        ),
        (Some("allow"), Some("deploy"), Some("s1"))
    );
    assert!(grant["args_sha256"].as_str().is_some_and(|h| h.len() == 64));
    assert_eq!(grant["created_by"], "alice");

    let (status, answered) = ask(&app, request.clone()).await;
    assert_eq!(status, StatusCode::OK, "decided at once: {answered}");
    assert_eq!(answered["status"], "approved");
    assert_eq!(
        answered["decision"]["by"],
        json!([format!("grant:{}", grant["id"].as_str().unwrap())])
    );

    let (status, _) = ask(
        &app,
        json!({"action": "deploy", "args": {"env": "prod"}, "session_id": "s2"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "another session still asks");
    let (status, _) = ask(
        &app,
        json!({"action": "deploy", "args": {"env": "staging"}, "session_id": "s1"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "other args still ask");
    let (status, _) = ask(&app, json!({"action": "deploy", "args": {"env": "prod"}})).await;
    assert_eq!(status, StatusCode::CREATED, "no session still asks");
}

#[backends]
async fn grant_match_action_covers_any_args_of_the_action(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let review = json!({"decision": "approve", "scope": "session", "grant_match": "action"});
    decide(
        &app,
        &app.approver,
        json!({"action": "deploy", "args": {"env": "prod"}, "session_id": "s1"}),
        review,
    )
    .await;
    assert_eq!(
        grants(&app, &app.approver).await[0]["args_sha256"],
        Value::Null
    );
    let (status, answered) = ask(
        &app,
        json!({"action": "deploy", "args": {"env": "staging"}, "session_id": "s1"}),
    )
    .await;
    assert_eq!(
        (status, answered["status"].as_str()),
        (StatusCode::OK, Some("approved"))
    );
    let (status, _) = ask(&app, json!({"action": "shell", "session_id": "s1"})).await;
    assert_eq!(status, StatusCode::CREATED, "another action still asks");
}

#[backends]
async fn a_timeboxed_grant_answers_every_session_until_its_ttl(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let request = json!({"action": "billing.charge", "args": {"amount": 5}});
    decide(
        &app,
        &app.approver,
        request.clone(),
        json!({"decision": "approve", "scope": "timeboxed", "ttl_seconds": 1}),
    )
    .await;
    let mut in_session = request.clone();
    in_session["session_id"] = json!("any-session");
    let (status, _) = ask(&app, in_session).await;
    assert_eq!(status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let (status, _) = ask(&app, request).await;
    assert_eq!(status, StatusCode::CREATED, "the grant ran out");
    assert!(
        grants(&app, &app.admin).await.is_empty(),
        "expired grants are not listed"
    );
}

#[backends]
async fn a_scoped_rejection_rejects_identical_requests(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let request = json!({"action": "shell", "args": {"command": "rm -rf /"}, "session_id": "s1"});
    decide(
        &app,
        &app.approver,
        request.clone(),
        json!({"decision": "reject", "scope": "session", "reason": "never"}),
    )
    .await;
    assert_eq!(grants(&app, &app.approver).await[0]["effect"], "deny");
    let (status, answered) = ask(&app, request).await;
    assert_eq!(
        (status, answered["status"].as_str()),
        (StatusCode::OK, Some("rejected"))
    );
    assert!(
        answered["decision"]["by"][0]
            .as_str()
            .unwrap()
            .starts_with("grant:")
    );
}

#[backends]
async fn revoking_stops_a_grant_at_once_and_only_its_creator_or_an_admin_may(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let request = json!({"action": "deploy", "session_id": "s1"});
    decide(
        &app,
        &app.approver,
        request.clone(),
        json!({"decision": "approve", "scope": "session"}),
    )
    .await;
    let id = grants(&app, &app.approver).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        grants(&app, &app.approver2).await.is_empty(),
        "bob sees only his own grants"
    );
    assert_eq!(grants(&app, &app.admin).await.len(), 1, "admins see all");
    let path = format!("/v1/grants/{id}");
    assert_eq!(
        app.call(Method::DELETE, &path, &app.approver2, None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.call(Method::DELETE, &path, &app.agent, None).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.call(Method::GET, "/v1/grants", &app.agent, None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.call(Method::DELETE, &path, &app.approver, None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.call(Method::DELETE, &path, &app.admin, None).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, _) = ask(&app, request).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "a revoked grant answers nothing"
    );
    let events = app.events().await;
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"grant.created") && kinds.contains(&"grant.revoked"));
    assert_chain_verifies(&events);
}

#[backends]
async fn grants_survive_a_restart(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    let request = json!({"action": "deploy", "session_id": "s1"});
    decide(
        &app,
        &app.approver,
        request.clone(),
        json!({"decision": "approve", "scope": "session"}),
    )
    .await;
    app.restart().await;
    let (status, answered) = ask(&app, request).await;
    assert_eq!(
        (status, answered["status"].as_str()),
        (StatusCode::OK, Some("approved"))
    );
}

#[backends]
async fn session_scope_needs_a_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.create_id(&app.agent, json!({"action": "deploy"})).await;
    let (status, problem) = app
        .call(
            Method::POST,
            &format!("/v1/approvals/{id}/reviews"),
            &app.approver,
            Some(json!({"decision": "approve", "scope": "session"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        problem["detail"].as_str().unwrap().starts_with("scope"),
        "{problem}"
    );
}

#[backends]
async fn a_session_grant_answers_only_the_requester_it_was_made_for(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let request = json!({"action": "deploy", "args": {"env": "prod"}, "session_id": "s1"});
    decide(
        &app,
        &app.approver,
        request.clone(),
        json!({"decision": "approve", "scope": "session"}),
    )
    .await;
    let (status, theirs) = app
        .call(
            Method::POST,
            "/v1/approvals",
            &app.other_agent,
            Some(request.clone()),
        )
        .await;
    assert_eq!(
        (status, theirs["status"].as_str()),
        (StatusCode::CREATED, Some("pending")),
        "another agent sending the same session id is asked: {theirs}"
    );
    let (status, checked) = app
        .call(
            Method::POST,
            "/v1/check",
            &app.other_agent,
            Some(request.clone()),
        )
        .await;
    assert_eq!(
        (status, checked["grant"].clone()),
        (StatusCode::OK, Value::Null)
    );
    let (status, mine) = ask(&app, request).await;
    assert_eq!(
        (status, mine["status"].as_str()),
        (StatusCode::OK, Some("approved"))
    );
}
