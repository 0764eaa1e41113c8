//! The full lifecycle over HTTP, with long-poll waiters.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{SHORT, TestApp, assert_chain_verifies, decode};
use assent_testdb::{Backend, backends};

async fn settle() {
    tokio::time::sleep(Duration::from_millis(100)).await;
}

#[backends]
async fn create_list_get_approve_wakes_the_waiter(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .send(
            Method::POST,
            "/v1/approvals",
            &app.agent,
            Some(json!({"action": "deploy", "args": {"service": "billing", "env": "prod"},
                "summary": "Deploy billing", "session_id": "sess-42", "labels": {"team": "payments"}})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let (_, created) = decode(response).await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/v1/approvals/{id}"));
    assert_eq!(
        (
            created["status"].as_str(),
            created["requester"].as_str(),
            created["risk"].as_str()
        ),
        (Some("pending"), Some("bot"), Some("medium"))
    );
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 7);

    let (status, list) = app
        .call(
            Method::GET,
            "/v1/approvals?status=pending&label=team:payments",
            &app.approver,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["items"][0]["id"], id.as_str());

    let waiter = app.wait_in_background(&app.agent, &id, "30s");
    settle().await;
    assert!(!waiter.is_finished(), "the waiter holds while pending");
    let started = Instant::now();
    let (status, approved) = app.review(&app.approver, &id, "approve").await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    let (status, woken) = tokio::time::timeout(SHORT, waiter).await.unwrap().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "woken by the commit, not a timeout"
    );
    assert_eq!(status, StatusCode::OK);
    assert_eq!(woken["status"], "approved");
    assert_eq!(woken["decision"]["by"], json!(["alice"]));
    assert_eq!(woken["reviews"][0]["principal"], "alice");

    let events = app.events().await;
    let for_this: Vec<String> = events
        .iter()
        .filter(|e| e["approval_id"] == id.as_str())
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        for_this,
        [
            "approval.requested",
            "approval.reviewed",
            "approval.approved"
        ]
    );
    assert_chain_verifies(&events);
}

#[backends]
async fn reject_wakes_the_waiter_with_the_reason(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app
        .create_id(
            &app.agent,
            json!({"action": "shell", "args": {"command": "rm -rf /tmp/x"}}),
        )
        .await;
    let waiter = app.wait_in_background(&app.agent, &id, "30s");
    settle().await;
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/v1/approvals/{id}/reviews"),
            &app.approver,
            Some(json!({"decision": "reject", "reason": "no"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, woken) = tokio::time::timeout(SHORT, waiter).await.unwrap().unwrap();
    assert_eq!(
        (
            woken["status"].as_str(),
            woken["decision"]["reason"].as_str()
        ),
        (Some("rejected"), Some("no"))
    );
    assert_eq!(
        app.review(&app.approver2, &id, "approve").await.0,
        StatusCode::CONFLICT
    );
}

#[backends]
async fn cancel_wakes_the_waiter_and_terminal_cancel_is_a_conflict(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.create_id(&app.agent, json!({"action": "deploy"})).await;
    let waiter = app.wait_in_background(&app.agent, &id, "30s");
    settle().await;
    let (status, cancelled) = app
        .call(
            Method::POST,
            &format!("/v1/approvals/{id}/cancel"),
            &app.agent,
            Some(json!({"reason": "not needed"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    let (_, woken) = tokio::time::timeout(SHORT, waiter).await.unwrap().unwrap();
    assert_eq!(woken["status"], "cancelled");
    assert_eq!(
        app.call(
            Method::POST,
            &format!("/v1/approvals/{id}/cancel"),
            &app.agent,
            None
        )
        .await
        .0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        app.review(&app.approver, &id, "approve").await.0,
        StatusCode::CONFLICT
    );
}

#[backends]
async fn a_two_second_timeout_expires_on_time_and_wakes_its_waiter(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = app
        .create(
            &app.agent,
            json!({"action": "deploy", "timeout_seconds": 2}),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let waiter = app.wait_in_background(&app.agent, &id, "30s");
    let started = Instant::now();
    let (status, woken) = tokio::time::timeout(SHORT, waiter).await.unwrap().unwrap();
    let took = started.elapsed();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(woken["status"], "expired");
    assert_eq!(woken["decision"]["by"], json!(["system:expiry"]));
    assert!(
        took > Duration::from_millis(1_500) && took < Duration::from_secs(3),
        "expired after {took:?}"
    );
    let (status, problem) = app.review(&app.approver, &id, "approve").await;
    assert_eq!(status, StatusCode::GONE, "{problem}");
    let expired_events = app
        .events()
        .await
        .iter()
        .filter(|e| e["type"] == "approval.expired")
        .count();
    assert_eq!(expired_events, 1);
}

#[backends]
async fn long_poll_returns_the_pending_approval_when_the_wait_ends(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.create_id(&app.agent, json!({"action": "deploy"})).await;
    let started = Instant::now();
    let (status, body) = app
        .call(
            Method::GET,
            &format!("/v1/approvals/{id}?wait=1s"),
            &app.agent,
            None,
        )
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("pending"))
    );
    assert!(started.elapsed() >= Duration::from_millis(900));
    // An already terminal approval answers at once.
    app.review(&app.approver, &id, "approve").await;
    let started = Instant::now();
    let (_, body) = app
        .call(
            Method::GET,
            &format!("/v1/approvals/{id}?wait=30s"),
            &app.agent,
            None,
        )
        .await;
    assert_eq!(body["status"], "approved");
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[backends]
async fn idempotency_key_same_body_same_approval_other_body_422(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let post = |body: Value, key: &'static str| {
        app.http
            .post(app.url("/v1/approvals"))
            .bearer_auth(&app.agent)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let first = post(
        json!({"action": "deploy", "args": {"a": 1, "b": 2}}),
        "key-1",
    )
    .await
    .unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let (_, first) = decode(first).await;
    // Same body (keys in another order): the same approval, 200.
    let again = post(
        json!({"args": {"b": 2, "a": 1}, "action": "deploy"}),
        "key-1",
    )
    .await
    .unwrap();
    let (status, again) = decode(again).await;
    assert_eq!((status, &again["id"]), (StatusCode::OK, &first["id"]));
    let events = app.event_count().await;
    let other = post(json!({"action": "deploy", "args": {"a": 2}}), "key-1")
        .await
        .unwrap();
    let (status, problem) = decode(other).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(app.event_count().await, events, "nothing written");
}

#[backends]
async fn list_pages_with_a_cursor_and_filters(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let action = if i % 2 == 0 { "deploy" } else { "shell" };
        ids.push(
            app.create_id(&app.agent, json!({"action": action, "run_id": "wf_1"}))
                .await,
        );
    }
    let mut seen = Vec::new();
    let mut path = "/v1/approvals?limit=2&run_id=wf_1".to_owned();
    loop {
        let (status, page) = app.call(Method::GET, &path, &app.approver, None).await;
        assert_eq!(status, StatusCode::OK);
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/approvals?limit=2&run_id=wf_1&cursor={cursor}"),
            None => break,
        }
    }
    ids.reverse();
    assert_eq!(seen, ids);
    let (_, shells) = app
        .call(
            Method::GET,
            "/v1/approvals?action=shell",
            &app.approver,
            None,
        )
        .await;
    assert_eq!(shells["items"].as_array().unwrap().len(), 2);
    let (status, clamped) = app
        .call(
            Method::GET,
            "/v1/approvals?limit=100000",
            &app.approver,
            None,
        )
        .await;
    assert_eq!(
        (status, clamped["items"].as_array().unwrap().len()),
        (StatusCode::OK, 5)
    );
}

#[backends]
async fn health_openapi_and_docs_are_served(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert_eq!(
        app.call(Method::GET, "/healthz", "", None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.call(Method::GET, "/readyz", "", None).await.0,
        StatusCode::OK
    );
    let (status, doc) = app.call(Method::GET, "/openapi.json", "", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/v1/approvals",
        "/v1/approvals/{id}",
        "/v1/approvals/{id}/reviews",
        "/v1/approvals/{id}/cancel",
        "/v1/tokens",
        "/v1/tokens/{name}",
        "/v1/audit",
        "/v1/audit/export",
        "/v1/receipts/verify",
        "/v1/receipts/redeem",
        "/.well-known/jwks.json",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
    let docs = app.http.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(
        docs.text().await.unwrap().contains("swagger"),
        "embedded Swagger UI"
    );
}

/// Fields every answer carries are documented as required, so clients
/// checked against the document (the SDKs' contract tests) can rely on them.
#[backends]
async fn openapi_lists_always_sent_fields_as_required(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, doc) = app.call(Method::GET, "/openapi.json", "", None).await;
    for (schema, field) in [
        ("QuorumStage", "approved_by"),
        ("Review", "grant_match"),
        ("Problem", "type"),
        ("Problem", "title"),
        ("Problem", "status"),
        ("Problem", "detail"),
    ] {
        let required = doc["components"]["schemas"][schema]["required"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(
            required.iter().any(|name| name == field),
            "{schema}.{field} is required: {required:?}"
        );
    }
}
