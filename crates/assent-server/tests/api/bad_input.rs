//! Bad input gets a 4xx problem naming the problem, and writes nothing.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{TestApp, decode};
use assent_testdb::{Backend, backends};

/// path, content type, body, expected status, what the detail must mention.
type Case<'a> = (&'a str, Option<&'a str>, Vec<u8>, u16, &'a str);

async fn raw(
    app: &TestApp,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, serde_json::Value) {
    let mut req = app
        .http
        .post(app.url(path))
        .bearer_auth(&app.agent)
        .body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    decode(req.send().await.unwrap()).await
}

#[backends]
async fn malformed_bodies_are_refused_without_writing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.create_id(&app.agent, json!({"action": "deploy"})).await;
    let before = app.event_count().await;
    let json_ct = Some("application/json");
    let deep = format!(
        "{{\"action\":\"x\",\"args\":{{\"a\":{}1{}}}}}",
        "[".repeat(40),
        "]".repeat(40)
    );
    let cases: Vec<Case> = vec![
        (
            "/v1/approvals",
            json_ct,
            b"{\"action\": ".to_vec(),
            400,
            "invalid JSON",
        ),
        (
            "/v1/approvals",
            json_ct,
            b"{\"action\": 42}".to_vec(),
            400,
            "action",
        ),
        (
            "/v1/approvals",
            json_ct,
            b"{\"action\": \"deploy\", \"args\": [1]}".to_vec(),
            400,
            "args",
        ),
        (
            "/v1/approvals",
            json_ct,
            b"{\"action\": \"rm -rf\"}".to_vec(),
            400,
            "action",
        ),
        (
            "/v1/approvals",
            json_ct,
            b"{\"action\": \"\"}".to_vec(),
            400,
            "action",
        ),
        (
            "/v1/approvals",
            json_ct,
            b"{\"action\": \"deploy\", \"timeout_seconds\": 0}".to_vec(),
            400,
            "timeout_seconds",
        ),
        (
            "/v1/approvals",
            json_ct,
            b"{\"action\": \"deploy\", \"timeout_seconds\": 99999999999}".to_vec(),
            400,
            "timeout_seconds",
        ),
        (
            "/v1/approvals",
            json_ct,
            b"{\"action\": \"deploy\", \"timeout_seconds\": -5}".to_vec(),
            400,
            "timeout_seconds",
        ),
        (
            "/v1/approvals",
            json_ct,
            b"{\"action\": \"deploy\", \"risk\": \"extreme\"}".to_vec(),
            400,
            "risk",
        ),
        (
            "/v1/approvals",
            json_ct,
            b"{\"action\": \"deploy\", \"bogus\": 1}".to_vec(),
            400,
            "bogus",
        ),
        ("/v1/approvals", json_ct, deep.into_bytes(), 400, "deeper"),
        (
            "/v1/approvals",
            json_ct,
            b"{\"action\": \"d\xffploy\"}".to_vec(),
            400,
            "UTF-8",
        ),
        (
            "/v1/approvals",
            Some("text/plain"),
            b"{\"action\": \"deploy\"}".to_vec(),
            415,
            "application/json",
        ),
        (
            "/v1/approvals",
            json_ct,
            Vec::new(),
            400,
            "body is required",
        ),
        (
            "/v1/approvals",
            json_ct,
            format!(
                "{{\"action\":\"deploy\",\"summary\":\"{}\"}}",
                "x".repeat(300 * 1024)
            )
            .into_bytes(),
            413,
            "larger",
        ),
    ];
    for (path, ct, body, want, mentions) in cases {
        let (status, problem) = raw(&app, path, ct, body).await;
        assert_eq!(status.as_u16(), want, "{problem}");
        assert!(
            problem["detail"].as_str().unwrap().contains(mentions),
            "detail should mention {mentions:?}: {problem}"
        );
    }
    let review_path = format!("/v1/approvals/{id}/reviews");
    let review_cases = [
        (json!({"decision": "approve", "scop": "once"}), "scop"),
        (json!({"decision": "maybe"}), "decision"),
        (json!({"decision": "approve", "scope": "forever"}), "scope"),
        (
            json!({"decision": "approve", "scope": "timeboxed"}),
            "ttl_seconds",
        ),
        (
            json!({"decision": "approve", "reason": "x".repeat(2_001)}),
            "reason",
        ),
        (json!({}), "decision"),
    ];
    for (body, mentions) in review_cases {
        let (status, problem) = app
            .call(Method::POST, &review_path, &app.approver, Some(body))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
        assert!(
            problem["detail"].as_str().unwrap().contains(mentions),
            "detail should mention {mentions:?}: {problem}"
        );
    }
    assert_eq!(
        app.event_count().await,
        before,
        "no refused request wrote anything"
    );
    let (_, still) = app.get(&app.agent, &id).await;
    assert_eq!(still["status"], "pending");
}

#[backends]
async fn bad_ids_and_query_parameters_are_named(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (path, mentions) in [
        ("/v1/approvals/not-a-uuid", "id"),
        ("/v1/approvals?status=maybe", "status"),
        ("/v1/approvals?limit=0", "limit"),
        ("/v1/approvals?cursor=zzz", "cursor"),
        ("/v1/approvals?label=nocolon", "label"),
        ("/v1/approvals?colour=red", "colour"),
        ("/v1/audit?after=-1", "after"),
    ] {
        let token = if path.starts_with("/v1/audit") {
            &app.admin
        } else {
            &app.approver
        };
        let (status, problem) = app.call(Method::GET, path, token, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {problem}");
        assert!(
            problem["detail"].as_str().unwrap().starts_with(mentions),
            "{path}: {problem}"
        );
    }
    let id = app.create_id(&app.agent, json!({"action": "deploy"})).await;
    let (status, problem) = app
        .call(
            Method::GET,
            &format!("/v1/approvals/{id}?wait=soon"),
            &app.agent,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    let (status, _) = app
        .call(Method::GET, "/v1/nothing-here", &app.agent, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[backends]
async fn bad_token_requests_are_refused_with_a_named_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (body, mentions) in [
        (json!({"name": "has:colon", "role": "agent"}), "name"),
        (json!({"name": "", "role": "agent"}), "name"),
        (json!({"name": "x", "role": "root"}), "role"),
        (
            json!({"name": "x", "role": "agent", "groups": ["bad group"]}),
            "groups",
        ),
        (
            json!({"name": "x", "role": "agent", "extra": true}),
            "extra",
        ),
    ] {
        let (status, problem) = app
            .call(Method::POST, "/v1/tokens", &app.admin, Some(body))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
        assert!(
            problem["detail"].as_str().unwrap().contains(mentions),
            "{problem}"
        );
    }
    let (status, problem) = app
        .call(
            Method::POST,
            "/v1/approvals",
            &app.agent,
            Some(json!({"action": "deploy"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{problem}");
    let long_key = "k".repeat(256);
    let response = app
        .http
        .post(app.url("/v1/approvals"))
        .bearer_auth(&app.agent)
        .header("Idempotency-Key", long_key)
        .json(&json!({"action": "deploy"}))
        .send()
        .await
        .unwrap();
    let (status, problem) = decode(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .starts_with("Idempotency-Key")
    );
}
