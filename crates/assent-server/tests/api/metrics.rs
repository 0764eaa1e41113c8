//! `GET /metrics`: Prometheus series after real traffic; the auth setting.
//! The recorder is shared by every gateway in this test process, so series
//! are checked with actions only this module uses, and counts as "at least".

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::TestApp;
use assent_testdb::{Backend, backends};

/// The value of the first sample whose line starts with `name` and holds
/// every one of `labels`.
fn sample(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .find(|l| labels.iter().all(|label| l.contains(label)))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

async fn scrape(app: &TestApp, token: &str) -> (StatusCode, String) {
    let response = app.send(Method::GET, "/metrics", token, None).await;
    let status = response.status();
    (status, response.text().await.unwrap())
}

#[backends]
async fn decisions_waiters_and_requests_are_counted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app
        .create_id(&app.agent, json!({"action": "metrics.probe"}))
        .await;
    let waiter = app.wait_in_background(&app.agent, &id, "30s");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(app.review(&app.approver, &id, "approve").await.0, 200);
    assert_eq!(waiter.await.unwrap().1["status"], "approved");
    app.create(&app.agent, json!({"action": "metrics.pending"}))
        .await;

    let (status, text) = scrape(&app, "").await;
    assert_eq!(status, StatusCode::OK, "public by default");
    let action = r#"action="metrics.probe""#;
    assert!(
        sample(&text, "assent_approvals_created_total", &[action]) >= Some(1.0),
        "{text}"
    );
    assert!(
        sample(
            &text,
            "assent_approvals_decided_total",
            &[action, r#"outcome="approved""#]
        ) >= Some(1.0),
        "{text}"
    );
    assert!(
        sample(&text, "assent_decision_wakeup_seconds_count", &[]) >= Some(1.0),
        "{text}"
    );
    assert!(
        sample(&text, "assent_time_to_decision_seconds_count", &[]) >= Some(1.0),
        "{text}"
    );
    assert!(
        sample(&text, "assent_policy_evaluation_seconds_count", &[]) >= Some(2.0),
        "{text}"
    );
    assert!(
        sample(&text, "assent_approvals_pending", &[]).is_some(),
        "{text}"
    );
    assert!(
        sample(
            &text,
            "assent_http_requests_total",
            &[
                r#"route="/v1/approvals/{id}/reviews""#,
                r#"method="POST""#,
                r#"status="200""#
            ]
        ) >= Some(1.0),
        "{text}"
    );
    assert!(!text.contains(&id), "raw paths never become labels");
}

#[backends]
async fn private_metrics_need_an_admin_token(backend: Backend) {
    let app = TestApp::spawn_configured(backend, |c| c.metrics_public = false).await;
    assert_eq!(scrape(&app, "").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(scrape(&app, &app.approver).await.0, StatusCode::FORBIDDEN);
    let (status, text) = scrape(&app, &app.admin).await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.contains("assent_approvals_pending"), "{text}");
}
