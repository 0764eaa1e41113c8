//! Rate limits: failed authentications per client address (429 with
//! `Retry-After` beyond the limit), and the optional per-token request rate.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{TestApp, decode};
use assent_testdb::{Backend, backends};

#[backends]
async fn failed_authentications_beyond_the_limit_get_429_with_retry_after(backend: Backend) {
    let app = TestApp::spawn_configured(backend, |c| c.failed_auth_per_minute = 5).await;
    let bad = "assent_not-a-real-token";
    for _ in 0..5 {
        let (status, _) = app.call(Method::GET, "/v1/approvals", bad, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let response = app.send(Method::GET, "/v1/approvals", bad, None).await;
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let (status, problem) = decode(response).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(problem["type"], "urn:assent:problem:rate-limited");
    // Console sign-ins with a wrong token count too.
    let (status, _) = app
        .call(Method::POST, "/v1/session", "", Some(json!({"token": bad})))
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // A valid token from the same address still works, and requests that
    // present no credential are not counted as failures: they stay 401.
    let (status, _) = app
        .call(Method::GET, "/v1/approvals", &app.agent, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.call(Method::GET, "/v1/approvals", "", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[backends]
async fn a_configured_per_token_rate_refuses_the_excess_of_that_token_only(backend: Backend) {
    let app = TestApp::spawn_configured(backend, |c| c.token_requests_per_second = 10).await;
    let mut statuses = Vec::new();
    for _ in 0..30 {
        let response = app
            .send(Method::GET, "/v1/approvals", &app.agent, None)
            .await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(response.headers().contains_key("retry-after"));
        }
        statuses.push(decode(response).await.0);
    }
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    let (status, _) = app
        .call(Method::GET, "/v1/approvals", &app.other_agent, None)
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[backends]
async fn the_per_token_rate_is_off_by_default(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for _ in 0..50 {
        let (status, _) = app.call(Method::GET, "/healthz", &app.agent, None).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = app
            .call(Method::GET, "/v1/approvals?limit=1", &app.agent, None)
            .await;
        assert_eq!(status, StatusCode::OK);
    }
}
