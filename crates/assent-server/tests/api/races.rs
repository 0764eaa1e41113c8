//! Races: many reviewers at once, and reviews against the expiry sweep.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{TestApp, assert_chain_verifies};
use assent_testdb::{Backend, backends};

#[backends]
async fn fifty_concurrent_reviewers_make_one_decision(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut tokens = Vec::new();
    for i in 0..50 {
        tokens.push(app.token(&format!("reviewer-{i}"), "approver", &[]).await);
    }
    let id = app.create_id(&app.agent, json!({"action": "deploy"})).await;
    let mut tasks = Vec::new();
    for (i, token) in tokens.into_iter().enumerate() {
        let req = app
            .http
            .post(app.url(&format!("/v1/approvals/{id}/reviews")))
            .bearer_auth(token)
            .json(&json!({"decision": if i % 3 == 0 { "reject" } else { "approve" }}));
        tasks.push(tokio::spawn(
            async move { req.send().await.unwrap().status() },
        ));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let conflicts = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((ok, conflicts), (1, 49), "{statuses:?}");
    let events = app.events().await;
    let mine: Vec<_> = events
        .iter()
        .filter(|e| e["approval_id"] == id.as_str())
        .collect();
    let decisions = mine
        .iter()
        .filter(|e| e["type"] == "approval.approved" || e["type"] == "approval.rejected")
        .count();
    let reviews = mine
        .iter()
        .filter(|e| e["type"] == "approval.reviewed")
        .count();
    assert_eq!((decisions, reviews), (1, 1));
    assert_chain_verifies(&events);
}

#[backends]
async fn a_review_racing_the_expiry_ends_in_exactly_one_terminal_state(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut outcomes = Vec::new();
    for round in 0..6u64 {
        let created = app
            .create(
                &app.agent,
                json!({"action": "deploy", "timeout_seconds": 1}),
            )
            .await;
        let id = created["id"].as_str().unwrap().to_owned();
        // Land the review around the deadline: a little before, at, or after.
        tokio::time::sleep(Duration::from_millis(940 + round * 20)).await;
        let (status, _) = app.review(&app.approver, &id, "approve").await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (_, now) = app.get(&app.agent, &id).await;
        let terminal: Vec<String> = app
            .events()
            .await
            .iter()
            .filter(|e| {
                e["approval_id"] == id.as_str()
                    && e["type"] != "approval.requested"
                    && e["type"] != "approval.reviewed"
            })
            .map(|e| e["type"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(terminal.len(), 1, "one terminal event: {terminal:?}");
        match status {
            StatusCode::OK => assert_eq!(
                (now["status"].as_str(), terminal[0].as_str()),
                (Some("approved"), "approval.approved")
            ),
            StatusCode::GONE => assert_eq!(
                (now["status"].as_str(), terminal[0].as_str()),
                (Some("expired"), "approval.expired")
            ),
            other => panic!("unexpected {other}"),
        }
        outcomes.push(status);
    }
    assert_chain_verifies(&app.events().await);
}
