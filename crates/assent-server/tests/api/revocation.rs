//! Revoking a token (or ending a console session) ends every stream it
//! opened at once: WebSockets close with 1008 and answer nothing more, SSE
//! streams end, long-polls are answered 401 — also when the revocation
//! happened on another instance.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::support::TestApp;
use assent_testdb::{Backend, backends};

/// How soon a revoked stream must end.
const AT_ONCE: Duration = Duration::from_secs(2);

fn ws_url(base: &str) -> String {
    format!("{}/v1/ws", base.replacen("http://", "ws://", 1))
}

async fn revoke(app: &TestApp, name: &str) {
    let (status, body) = app
        .call(
            Method::DELETE,
            &format!("/v1/tokens/{name}"),
            &app.admin,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
}

/// Opens `GET /v1/events` with the given request and checks it streams.
async fn open_events(request: reqwest::RequestBuilder) -> reqwest::Response {
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response
}

/// Reads the stream until it ends; panics if it is still open after `within`.
async fn assert_ends(mut response: reqwest::Response, within: Duration, what: &str) {
    let ended = tokio::time::timeout(within, async {
        loop {
            match response.chunk().await {
                Ok(Some(_)) => continue,
                Ok(None) | Err(_) => return,
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "{what}: still open after {within:?}");
}

#[backends]
async fn a_revoked_tokens_websocket_is_closed_and_its_review_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.create_id(&app.agent, json!({"action": "deploy"})).await;
    let mut request = ws_url(&app.base).into_client_request().unwrap();
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {}", app.approver).parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();

    revoke(&app, "alice").await;
    let review = json!({"jsonrpc": "2.0", "id": 1, "method": "approvals.review",
        "params": {"id": id, "decision": "approve"}});
    // The socket may already be closing; a failed send is fine.
    let _ = socket.send(Message::text(review.to_string())).await;

    let mut close_code = None;
    let outcome = tokio::time::timeout(AT_ONCE, async {
        while let Some(message) = socket.next().await {
            match message {
                Ok(Message::Close(frame)) => {
                    close_code = frame.map(|f| f.code);
                }
                Ok(Message::Text(text)) => {
                    let reply: Value = serde_json::from_str(text.as_str()).unwrap();
                    panic!("a revoked token's message was answered: {reply}");
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    })
    .await;
    assert!(
        outcome.is_ok(),
        "the WebSocket stayed open after revocation"
    );
    assert_eq!(close_code, Some(CloseCode::Policy));
    let (status, approval) = app.get(&app.admin, &id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(approval["status"], "pending", "{approval}");
}

#[backends]
async fn a_revoked_tokens_event_stream_ends(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let stream = open_events(app.http.get(app.url("/v1/events")).bearer_auth(&app.agent)).await;
    let unaffected = open_events(
        app.http
            .get(app.url("/v1/events"))
            .bearer_auth(&app.other_agent),
    )
    .await;
    revoke(&app, "bot").await;
    assert_ends(stream, AT_ONCE, "the revoked token's SSE stream").await;
    // Another token's stream goes on and still receives events.
    let mut unaffected = unaffected;
    app.create(&app.other_agent, json!({"action": "still-here"}))
        .await;
    let chunk = tokio::time::timeout(AT_ONCE, unaffected.chunk())
        .await
        .expect("the other stream keeps streaming")
        .unwrap()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&chunk).contains("still-here"),
        "{chunk:?}"
    );
}

#[backends]
async fn a_revoked_tokens_long_poll_is_answered_401(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.create_id(&app.agent, json!({"action": "deploy"})).await;
    let waiting = app.wait_in_background(&app.agent, &id, "60s");
    tokio::time::sleep(Duration::from_millis(200)).await;
    revoke(&app, "bot").await;
    let (status, body) = tokio::time::timeout(AT_ONCE, waiting)
        .await
        .expect("the long-poll was answered at once")
        .unwrap();
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

/// Signs in to the console; returns (cookie header value, CSRF token).
async fn sign_in(app: &TestApp, token: &str) -> (String, String) {
    let response = app
        .http
        .post(app.url("/v1/session"))
        .json(&json!({"token": token}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    (cookie, body["csrf_token"].as_str().unwrap().to_owned())
}

#[backends]
async fn ending_a_console_session_ends_its_event_stream(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Signed out.
    let (cookie, csrf) = sign_in(&app, &app.approver).await;
    let stream = open_events(
        app.http
            .get(app.url("/v1/events"))
            .header("cookie", &cookie),
    )
    .await;
    let signed_out = app
        .http
        .delete(app.url("/v1/session"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), StatusCode::NO_CONTENT);
    assert_ends(stream, AT_ONCE, "the signed-out session's SSE stream").await;

    // Its token revoked.
    let (cookie, _) = sign_in(&app, &app.approver2).await;
    let stream = open_events(
        app.http
            .get(app.url("/v1/events"))
            .header("cookie", &cookie),
    )
    .await;
    revoke(&app, "bob").await;
    assert_ends(
        stream,
        AT_ONCE,
        "the SSE stream of a session whose token was revoked",
    )
    .await;
}

/// Two gateways on one PostgreSQL database: a revocation on one ends the
/// streams the token opened on the other.
#[cfg(postgres_suite)]
#[tokio::test]
async fn a_revocation_on_another_instance_ends_streams_here() {
    let app = TestApp::spawn(Backend::Postgres).await;
    let other = assent_server::Server::start(crate::support::config(app.dir.path(), &app.db))
        .await
        .unwrap();
    let other_base = format!("http://{}", other.addr());
    let stream = open_events(
        app.http
            .get(format!("{other_base}/v1/events"))
            .bearer_auth(&app.agent),
    )
    .await;
    let mut request = ws_url(&other_base).into_client_request().unwrap();
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {}", app.agent).parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    revoke(&app, "bot").await;
    assert_ends(stream, AT_ONCE, "the SSE stream on the other instance").await;
    let closed = tokio::time::timeout(AT_ONCE, async {
        while let Some(Ok(message)) = socket.next().await {
            if let Message::Close(frame) = message {
                return frame.map(|f| f.code);
            }
        }
        None
    })
    .await
    .expect("the WebSocket on the other instance closed");
    assert_eq!(closed, Some(CloseCode::Policy));
    other.shutdown().await.unwrap();
}
