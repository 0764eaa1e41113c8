//! Restart on the same data dir: nothing acknowledged is lost, pending
//! approvals still expire on time, and a reconnecting waiter gets its decision.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{TestApp, assert_chain_verifies};
use assent_testdb::{Backend, backends};

#[backends]
async fn a_restart_keeps_everything_acknowledged(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    let approved = app.create_id(&app.agent, json!({"action": "deploy"})).await;
    app.review(&app.approver, &approved, "approve").await;
    let pending = app.create_id(&app.agent, json!({"action": "shell"})).await;
    let expiring = app
        .create(
            &app.agent,
            json!({"action": "deploy", "timeout_seconds": 3}),
        )
        .await;
    let expiring_id = expiring["id"].as_str().unwrap().to_owned();
    let events_before = app.events().await;

    app.restart().await;

    let (_, a) = app.get(&app.agent, &approved).await;
    assert_eq!(a["status"], "approved");
    let (_, p) = app.get(&app.agent, &pending).await;
    assert_eq!(p["status"], "pending");
    let events_after = app.events().await;
    assert_eq!(
        events_after[..events_before.len()],
        events_before[..],
        "the log is unchanged"
    );
    assert_chain_verifies(&events_after);
    // Tokens survive too.
    assert_eq!(
        app.call(Method::GET, "/v1/approvals", &app.approver, None)
            .await
            .0,
        StatusCode::OK
    );

    // The pending approval still expires on time after the restart.
    let started = Instant::now();
    let (_, expired) = app
        .call(
            Method::GET,
            &format!("/v1/approvals/{expiring_id}?wait=10s"),
            &app.agent,
            None,
        )
        .await;
    assert_eq!(expired["status"], "expired");
    assert!(started.elapsed() < Duration::from_secs(4));

    // A waiter reconnecting after the restart gets the decision.
    let waiter = app.wait_in_background(&app.agent, &pending, "30s");
    tokio::time::sleep(Duration::from_millis(100)).await;
    app.review(&app.approver, &pending, "reject").await;
    let (_, woken) = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(woken["status"], "rejected");
    assert_chain_verifies(&app.events().await);
}

#[backends]
async fn shutdown_sends_long_polls_back_with_the_pending_approval(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    let id = app.create_id(&app.agent, json!({"action": "deploy"})).await;
    let waiter = app.wait_in_background(&app.agent, &id, "60s");
    let events = app
        .http
        .get(app.url("/v1/events?after=0"))
        .bearer_auth(&app.approver)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    app.server.take().unwrap().shutdown().await.unwrap();
    let rest = tokio::time::timeout(Duration::from_secs(5), events.text())
        .await
        .unwrap()
        .unwrap();
    assert!(
        rest.contains("approval.requested"),
        "the open event stream got its history and then ended: {rest}"
    );
    let (_, answer) = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(answer["status"], "pending");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "shutdown did not wait for the long-poll"
    );
}
