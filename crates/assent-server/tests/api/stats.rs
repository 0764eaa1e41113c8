//! `GET /v1/stats`: numbers over a known set of approvals.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::TestApp;
use assent_testdb::{Backend, backends};

async fn stats(app: &TestApp, token: &str, query: &str) -> (StatusCode, Value) {
    app.call(Method::GET, &format!("/v1/stats{query}"), token, None)
        .await
}

#[backends]
async fn counts_rates_and_breakdowns_match_what_happened(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let approved = app.create_id(&app.agent, json!({"action": "deploy"})).await;
    let rejected = app.create_id(&app.agent, json!({"action": "deploy"})).await;
    app.create(&app.agent, json!({"action": "deploy"})).await;
    let shell = app.create_id(&app.agent, json!({"action": "shell"})).await;
    let expiring = app
        .create_id(&app.agent, json!({"action": "shell", "timeout_seconds": 1}))
        .await;
    assert_eq!(app.review(&app.approver, &approved, "approve").await.0, 200);
    assert_eq!(app.review(&app.approver2, &rejected, "reject").await.0, 200);
    assert_eq!(app.review(&app.approver, &shell, "approve").await.0, 200);
    let (_, expired) = app
        .wait_in_background(&app.agent, &expiring, "10s")
        .await
        .unwrap();
    assert_eq!(expired["status"], "expired");

    let (status, s) = stats(&app, &app.approver, "").await;
    assert_eq!(status, StatusCode::OK, "{s}");
    for (key, want) in [
        ("pending", 1),
        ("created", 5),
        ("open", 1),
        ("decided", 3),
        ("approved", 2),
        ("rejected", 1),
        ("expired", 1),
        ("cancelled", 0),
    ] {
        assert_eq!(s[key], want, "{key}: {s}");
    }
    let rate = s["approval_rate"].as_f64().unwrap();
    assert!((rate - 2.0 / 3.0).abs() < 1e-9, "{s}");
    let ttd = &s["time_to_decision"];
    assert_eq!(ttd["count"], 3, "{s}");
    let (p50, p90) = (
        ttd["p50_seconds"].as_f64().unwrap(),
        ttd["p90_seconds"].as_f64().unwrap(),
    );
    assert!((0.0..=p90).contains(&p50) && p90 < 60.0, "{s}");
    assert_eq!(
        s["by_action"],
        json!([
            {"action": "deploy", "created": 3, "open": 1, "decided": 2, "approved": 1,
             "rejected": 1, "expired": 0, "cancelled": 0},
            {"action": "shell", "created": 2, "open": 0, "decided": 1, "approved": 1,
             "rejected": 0, "expired": 1, "cancelled": 0},
        ])
    );
    assert_eq!(
        s["by_reviewer"],
        json!([
            {"principal": "alice", "approve": 2, "reject": 0},
            {"principal": "bob", "approve": 0, "reject": 1},
        ])
    );
    assert_eq!(s["truncated"], false);
}

#[backends]
async fn the_window_bounds_what_is_counted_but_not_the_pending_count(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create(&app.agent, json!({"action": "deploy"})).await;
    let (status, s) = stats(&app, &app.admin, "?since=2099-01-01T00:00:00Z").await;
    assert_eq!(status, StatusCode::OK, "{s}");
    assert_eq!(
        (s["created"].clone(), s["pending"].clone()),
        (json!(0), json!(1))
    );
    assert_eq!(s["approval_rate"], Value::Null);
    assert_eq!(s["time_to_decision"]["p50_seconds"], Value::Null);
    let (_, s) = stats(&app, &app.admin, "?since=1h").await;
    assert_eq!(s["created"], 1, "{s}");
    // A window longer than 30 days is clamped, not refused.
    let (status, s) = stats(&app, &app.admin, "?since=400d").await;
    assert_eq!(status, StatusCode::OK, "{s}");
    let (since, until) = (s["since"].as_str().unwrap(), s["until"].as_str().unwrap());
    let parse = |t: &str| {
        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).unwrap()
    };
    assert_eq!((parse(until) - parse(since)).whole_days(), 30);
}

#[backends]
async fn agents_are_refused_and_bad_windows_are_named(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert_eq!(stats(&app, &app.agent, "").await.0, StatusCode::FORBIDDEN);
    assert_eq!(stats(&app, "", "").await.0, StatusCode::UNAUTHORIZED);
    for query in ["?since=yesterday-ish", "?since=1h&since=2h", "?until=1"] {
        let (status, problem) = stats(&app, &app.approver, query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.starts_with("since") || detail.starts_with("until"),
            "{query}: {problem}"
        );
    }
}

#[backends]
async fn stats_metrics_and_the_websocket_are_in_the_openapi_document(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, doc) = app.call(Method::GET, "/openapi.json", "", None).await;
    assert_eq!(status, StatusCode::OK);
    for (path, method) in [("/v1/stats", "get"), ("/metrics", "get"), ("/v1/ws", "get")] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{path} is documented"
        );
    }
    let schema = &doc["components"]["schemas"]["Stats"];
    assert!(schema.is_object(), "the Stats schema is documented");
    let rendered = schema.to_string();
    for field in [
        "approval_rate",
        "time_to_decision",
        "by_action",
        "by_reviewer",
        "approved",
    ] {
        assert!(
            rendered.contains(field),
            "Stats documents {field}: {rendered}"
        );
    }
}
