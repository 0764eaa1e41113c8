//! The long-poll loop against a fake gateway that answers slowly, fails,
//! or is not there at all for a while.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use assent_client::{Client, Error, Status};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::time::Instant;

const ID: &str = "0192f5c4-6f7a-7d3c-9a51-3c1f2b8e4d10";

fn approval(status: &str) -> Value {
    json!({
        "id": ID, "status": status, "action": "deploy", "args": {}, "summary": null, "context": {},
        "risk": "medium", "requester": "ci-bot", "session_id": null, "run_id": null, "labels": {},
        "rule": null, "quorum": [], "reviews": [], "decision": null,
        "created_at": "2026-11-22T10:00:00Z", "expires_at": "2026-11-22T10:30:00Z",
        "decided_at": null, "receipt": null
    })
}

/// How the fake answers the n-th (0-based) long-poll.
type Script = fn(usize) -> Response;

#[derive(Clone)]
struct Fake {
    calls: Arc<AtomicUsize>,
    script: Script,
}

#[derive(serde::Deserialize)]
struct WaitParam {
    wait: Option<String>,
}

async fn long_poll(
    State(fake): State<Fake>,
    headers: HeaderMap,
    Query(q): Query<WaitParam>,
) -> Response {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer secret") {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let n = fake.calls.fetch_add(1, Ordering::SeqCst);
    let answer = (fake.script)(n);
    if answer.status() == StatusCode::OK {
        // A pending answer comes only when the wait is over, as a real gateway's would.
        let wait = q
            .wait
            .and_then(|w| w.strip_suffix("ms").and_then(|ms| ms.parse().ok()))
            .unwrap_or(0);
        tokio::time::sleep(Duration::from_millis(wait).min(Duration::from_millis(200))).await;
    }
    answer
}

fn pending_then_approved(n: usize) -> Response {
    axum::Json(approval(if n < 2 { "pending" } else { "approved" })).into_response()
}

fn unavailable_then_approved(n: usize) -> Response {
    if n < 3 {
        return (StatusCode::SERVICE_UNAVAILABLE, "restarting").into_response();
    }
    axum::Json(approval("approved")).into_response()
}

fn always_pending(_: usize) -> Response {
    axum::Json(approval("pending")).into_response()
}

fn gone(_: usize) -> Response {
    (
        StatusCode::NOT_FOUND,
        [("content-type", "application/problem+json")],
        r#"{"type":"about:blank","title":"Not Found","status":404,"detail":"no such approval"}"#,
    )
        .into_response()
}

async fn serve(listener: TcpListener, script: Script) -> Arc<AtomicUsize> {
    let calls = Arc::new(AtomicUsize::new(0));
    let app = Router::new()
        .route("/v1/approvals/{id}", get(long_poll))
        .with_state(Fake {
            calls: Arc::clone(&calls),
            script,
        });
    tokio::spawn(async move { axum::serve(listener, app).await });
    calls
}

async fn fake(script: Script) -> (Client, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let calls = serve(listener, script).await;
    (Client::new(&url, "secret").unwrap(), calls)
}

#[tokio::test]
async fn polls_again_until_the_approval_is_decided() {
    let (client, calls) = fake(pending_then_approved).await;
    let approval = client
        .wait(ID.parse().unwrap(), Some(Duration::from_secs(10)))
        .await
        .unwrap();
    assert_eq!(approval.status, Status::Approved);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn retries_through_503s() {
    let (client, calls) = fake(unavailable_then_approved).await;
    let approval = client
        .wait(ID.parse().unwrap(), Some(Duration::from_secs(10)))
        .await
        .unwrap();
    assert_eq!(approval.status, Status::Approved);
    assert_eq!(calls.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn survives_a_gateway_that_is_down_for_a_while() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        serve(
            TcpListener::bind(addr).await.unwrap(),
            pending_then_approved,
        )
        .await
    });
    let client = Client::new(&format!("http://{addr}"), "secret").unwrap();
    let approval = client
        .wait(ID.parse().unwrap(), Some(Duration::from_secs(10)))
        .await
        .unwrap();
    assert_eq!(approval.status, Status::Approved);
}

#[tokio::test]
async fn returns_the_pending_approval_when_time_runs_out() {
    let (client, _) = fake(always_pending).await;
    let started = Instant::now();
    let approval = client
        .wait(ID.parse().unwrap(), Some(Duration::from_millis(600)))
        .await
        .unwrap();
    assert_eq!(approval.status, Status::Pending);
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_unreachable_gateway_is_an_error_at_the_deadline() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = Client::new(&format!("http://{addr}"), "secret").unwrap();
    let started = Instant::now();
    let err = client
        .wait(ID.parse().unwrap(), Some(Duration::from_millis(500)))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(started.elapsed() >= Duration::from_millis(500));
}

#[tokio::test]
async fn other_errors_end_the_wait_at_once_with_the_problem() {
    let (client, calls) = fake(gone).await;
    let err = client.wait(ID.parse().unwrap(), None).await.unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert_eq!(err.to_string(), "Not Found: no such approval");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_wrong_token_is_refused() {
    let (client, _) = fake(always_pending).await;
    let url = client.base_url().to_string();
    let client = Client::new(&url, "wrong").unwrap();
    assert_eq!(
        client.get(ID.parse().unwrap()).await.unwrap_err().status(),
        Some(401)
    );
}
