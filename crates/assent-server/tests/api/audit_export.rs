//! `GET /v1/audit/export`: the log as NDJSON, each line an `/v1/audit`
//! item, then a trailer whose signature verifies against the JWKS.

use assent_client::{ExportTrailer, Jwks, verify_export_trailer};
use assent_domain::audit_export::{ExportVerifier, TrailerLine};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::TestApp;
use assent_testdb::{Backend, backends};

async fn export(app: &TestApp, query: &str) -> Vec<String> {
    let response = app
        .send(
            Method::GET,
            &format!("/v1/audit/export{query}"),
            &app.admin,
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/x-ndjson");
    let text = response.text().await.unwrap();
    assert!(text.ends_with('\n'));
    text.lines().map(str::to_owned).collect()
}

fn trailer(lines: &[String]) -> ExportTrailer {
    serde_json::from_str::<TrailerLine>(lines.last().unwrap())
        .unwrap()
        .trailer
}

async fn jwks(app: &TestApp) -> Jwks {
    let (_, body) = app
        .call(Method::GET, "/.well-known/jwks.json", "", None)
        .await;
    serde_json::from_value(body).unwrap()
}

#[backends]
async fn the_export_is_the_audit_log_plus_a_signed_trailer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for _ in 0..3 {
        let id = app.create_id(&app.agent, json!({"action": "deploy"})).await;
        app.review(&app.approver, &id, "approve").await;
    }
    let events = app.events().await;
    let lines = export(&app, "").await;
    assert_eq!(lines.len(), events.len() + 1);
    for (line, event) in lines.iter().zip(&events) {
        assert_eq!(&serde_json::from_str::<Value>(line).unwrap(), event);
    }
    let t = trailer(&lines);
    assert_eq!(t.count, events.len() as u64);
    assert_eq!(
        (t.first_seq, t.last_seq),
        (Some(1), Some(events.len() as i64))
    );
    assert_eq!(
        t.head_hash,
        events.last().unwrap()["hash"].as_str().unwrap()
    );
    let keys = jwks(&app).await;
    verify_export_trailer(&t, &keys).unwrap();
    let mut verifier = ExportVerifier::new(Some(&t));
    for line in &lines {
        verifier.line(line.as_bytes()).unwrap();
    }
    assert!(verifier.finish().unwrap().from_genesis);

    let mut forged = t.clone();
    forged.head_hash = events[0]["hash"].as_str().unwrap().to_owned();
    assert!(verify_export_trailer(&forged, &keys).is_err());
}

#[backends]
async fn an_export_after_a_seq_is_a_verifiable_suffix(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let total = app.event_count().await as i64;
    let lines = export(&app, "?after=2").await;
    let t = trailer(&lines);
    assert_eq!((t.first_seq, t.last_seq), (Some(3), Some(total)));
    let mut verifier = ExportVerifier::new(Some(&t));
    for line in &lines {
        verifier.line(line.as_bytes()).unwrap();
    }
    assert!(!verifier.finish().unwrap().from_genesis);
    verify_export_trailer(&t, &jwks(&app).await).unwrap();

    let empty = export(&app, &format!("?after={total}")).await;
    assert_eq!(empty.len(), 1);
    assert_eq!(trailer(&empty).count, 0);

    let (status, body) = app
        .call(
            Method::GET,
            "/v1/audit/export?after=999999",
            &app.admin,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["detail"].as_str().unwrap().contains("after"), "{body}");
}

#[backends]
async fn only_admins_export(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, _) = app
        .call(Method::GET, "/v1/audit/export", &app.approver, None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
