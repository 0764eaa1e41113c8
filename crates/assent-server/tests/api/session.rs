//! Console sessions: sign-in with a token gives an HttpOnly, SameSite=Strict
//! cookie and a CSRF token; cookie state changes need the CSRF header;
//! sign-out, expiry and token revocation end the session on the server.

use std::time::Duration;

use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, decode};
use assent_testdb::{Backend, backends};

/// A signed-in browser, as far as the server can tell: its cookie and CSRF token.
struct Browser {
    cookie: String,
    csrf: String,
    set_cookie: String,
    signed_in: Value,
}

async fn sign_in(app: &TestApp, token: &str) -> Browser {
    let response = app
        .http
        .post(app.url("/v1/session"))
        .json(&json!({"token": token}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["cache-control"],
        "no-store",
        "session answers are never cached"
    );
    let set_cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    let (status, body) = decode(response).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let pair = set_cookie.split(';').next().unwrap().to_owned();
    assert!(pair.starts_with("assent_session="), "{set_cookie}");
    Browser {
        cookie: pair,
        csrf: body["csrf_token"].as_str().unwrap().to_owned(),
        set_cookie,
        signed_in: body,
    }
}

/// A request carrying the session cookie and, when given, an X-CSRF-Token.
async fn with_cookie(
    app: &TestApp,
    method: Method,
    path: &str,
    cookie: &str,
    csrf: Option<&str>,
    body: Option<Value>,
) -> Response {
    let mut request = app
        .http
        .request(method, app.url(path))
        .header(COOKIE, cookie);
    if let Some(csrf) = csrf {
        request = request.header("x-csrf-token", csrf);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    browser: &Browser,
    csrf: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    decode(with_cookie(app, method, path, &browser.cookie, csrf, body).await).await
}

#[backends]
async fn signing_in_sets_an_http_only_strict_cookie_and_answers_the_csrf_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let browser = sign_in(&app, &app.approver).await;
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(
            browser.set_cookie.contains(attribute),
            "{} lacks {attribute}",
            browser.set_cookie
        );
    }
    assert!(
        !browser.set_cookie.contains("Secure"),
        "not over plain http"
    );
    assert_eq!(browser.signed_in["principal"]["name"], "alice");
    assert_eq!(browser.signed_in["principal"]["role"], "approver");
    assert!(browser.csrf.len() >= 32, "{}", browser.signed_in);
    let expires = time::OffsetDateTime::parse(
        browser.signed_in["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let left = expires - time::OffsetDateTime::now_utc();
    assert!(
        left > time::Duration::hours(11) && left <= time::Duration::hours(12),
        "default session_ttl is 12 h: {left}"
    );

    // Who am I, for a reloaded page: the same CSRF token.
    let (status, me) = call(&app, Method::GET, "/v1/session", &browser, None, None).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["csrf_token"], browser.csrf.as_str());
    assert_eq!(me["principal"]["name"], "alice");
    let (status, list) = call(&app, Method::GET, "/v1/approvals", &browser, None, None).await;
    assert_eq!(status, StatusCode::OK, "{list}");

    // A bearer caller asking who it is gets no CSRF token or expiry.
    let (status, me) = app
        .call(Method::GET, "/v1/session", &app.approver, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(
        (me["csrf_token"].clone(), me["expires_at"].clone()),
        (Value::Null, Value::Null)
    );

    // Two sign-ins are two sessions with different CSRF tokens.
    let again = sign_in(&app, &app.approver).await;
    assert_ne!(again.cookie, browser.cookie);
    assert_ne!(again.csrf, browser.csrf);
}

#[backends]
async fn bad_sign_ins_are_refused_and_leave_no_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) = app
        .call(
            Method::POST,
            "/v1/session",
            "",
            Some(json!({"token": "assent_nope"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, body) = app
        .call(Method::POST, "/v1/session", "", Some(json!({"token": " "})))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, body) = app
        .call(Method::POST, "/v1/session", "", Some(json!({"token": ""})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["detail"].as_str().unwrap().starts_with("token"),
        "{body}"
    );
    let (status, body) = app
        .call(
            Method::POST,
            "/v1/session",
            "",
            Some(json!({"token": app.approver, "remember": true})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // A form post from another site cannot sign anyone in: JSON only.
    let response = app
        .http
        .post(app.url("/v1/session"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={}", app.approver))
        .send()
        .await
        .unwrap();
    assert!(response.headers().get(SET_COOKIE).is_none());
    assert_eq!(decode(response).await.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (status, _) = app.call(Method::GET, "/v1/session", "", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[backends]
async fn cookie_state_changes_need_the_csrf_header(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let browser = sign_in(&app, &app.approver).await;
    let id = app.create_id(&app.agent, json!({"action": "deploy"})).await;
    let review = format!("/v1/approvals/{id}/reviews");
    let approve = json!({"decision": "approve", "reason": "ok"});

    for csrf in [None, Some("wrong"), Some("")] {
        let (status, body) = call(
            &app,
            Method::POST,
            &review,
            &browser,
            csrf,
            Some(approve.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{csrf:?}: {body}");
        assert!(
            body["detail"].as_str().unwrap().starts_with("X-CSRF-Token"),
            "{body}"
        );
    }
    let (_, still) = app.get(&app.approver, &id).await;
    assert_eq!(
        still["status"], "pending",
        "a refused request changed nothing"
    );

    // Another session's CSRF token does not do either.
    let other = sign_in(&app, &app.approver2).await;
    let (status, _) = call(
        &app,
        Method::POST,
        &review,
        &browser,
        Some(&other.csrf),
        Some(approve.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, decided) = call(
        &app,
        Method::POST,
        &review,
        &browser,
        Some(&browser.csrf),
        Some(approve),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{decided}");
    assert_eq!(decided["decision"]["by"], json!(["alice"]));

    // Bearer requests need no CSRF header, even with a cookie beside them:
    // the token decides who is calling.
    let id = app.create_id(&app.agent, json!({"action": "deploy"})).await;
    let response = app
        .http
        .post(app.url(&format!("/v1/approvals/{id}/reviews")))
        .bearer_auth(&app.approver2)
        .header(COOKIE, &browser.cookie)
        .json(&json!({"decision": "reject", "reason": "no"}))
        .send()
        .await
        .unwrap();
    let (status, decided) = decode(response).await;
    assert_eq!(status, StatusCode::OK, "{decided}");
    assert_eq!(decided["decision"]["by"], json!(["bob"]));
}

#[backends]
async fn signing_out_ends_the_session_on_the_server(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let browser = sign_in(&app, &app.approver).await;
    let (status, _) = call(&app, Method::DELETE, "/v1/session", &browser, None, None).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "sign-out needs the CSRF header too"
    );

    let response = with_cookie(
        &app,
        Method::DELETE,
        "/v1/session",
        &browser.cookie,
        Some(&browser.csrf),
        None,
    )
    .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let cleared = response.headers()[SET_COOKIE].to_str().unwrap();
    assert!(
        cleared.starts_with("assent_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );

    // The old cookie no longer works, for reads or writes.
    let (status, body) = call(&app, Method::GET, "/v1/session", &browser, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("session"),
        "{body}"
    );
    let (status, _) = call(&app, Method::GET, "/v1/approvals", &browser, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = call(
        &app,
        Method::DELETE,
        "/v1/session",
        &browser,
        Some(&browser.csrf),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A bearer token has no session to end.
    let (status, _) = app
        .call(Method::DELETE, "/v1/session", &app.approver, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[backends]
async fn revoking_the_token_ends_the_sessions_made_from_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let browser = sign_in(&app, &app.approver).await;
    let bob = sign_in(&app, &app.approver2).await;
    let (status, _) = call(&app, Method::GET, "/v1/approvals", &browser, None, None).await;
    assert_eq!(status, StatusCode::OK);

    let (status, _) = app
        .call(Method::DELETE, "/v1/tokens/alice", &app.admin, None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = call(&app, Method::GET, "/v1/approvals", &browser, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, _) = call(&app, Method::GET, "/v1/session", &bob, None, None).await;
    assert_eq!(status, StatusCode::OK, "other principals' sessions go on");
}

#[backends]
async fn sessions_end_after_session_ttl(backend: Backend) {
    let app = TestApp::spawn_configured(backend, |c| c.session_ttl = Duration::from_secs(1)).await;
    let browser = sign_in(&app, &app.approver).await;
    assert!(
        browser.set_cookie.contains("Max-Age=1"),
        "{}",
        browser.set_cookie
    );
    let (status, _) = call(&app, Method::GET, "/v1/session", &browser, None, None).await;
    assert_eq!(status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (status, body) = call(&app, Method::GET, "/v1/session", &browser, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

#[backends]
async fn an_https_public_url_marks_the_cookie_secure(backend: Backend) {
    let app = TestApp::spawn_configured(backend, |c| {
        c.public_url = Some("https://assent.example.com".into());
    })
    .await;
    let browser = sign_in(&app, &app.approver).await;
    assert!(
        browser.set_cookie.contains("Secure"),
        "{}",
        browser.set_cookie
    );
}

#[backends]
async fn the_event_stream_takes_the_cookie_and_websockets_do_not(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let browser = sign_in(&app, &app.approver).await;
    let mut stream = with_cookie(
        &app,
        Method::GET,
        "/v1/events?types=approval.requested",
        &browser.cookie,
        None,
        None,
    )
    .await;
    assert_eq!(stream.status(), StatusCode::OK);
    assert!(
        stream.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let id = app.create_id(&app.agent, json!({"action": "deploy"})).await;
    let mut seen = String::new();
    while !seen.contains(&id) {
        let chunk = tokio::time::timeout(crate::support::SHORT, stream.chunk())
            .await
            .expect("the event arrives")
            .unwrap()
            .expect("the stream stays open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains("event: approval.requested"), "{seen}");

    // A cross-site page cannot open a WebSocket with someone's cookie.
    let response = app
        .http
        .get(app.url("/v1/ws"))
        .header(COOKIE, &browser.cookie)
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[backends]
async fn an_approval_timeline_is_readable_by_whoever_may_read_the_approval(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.create_id(&app.agent, json!({"action": "deploy"})).await;
    app.create_id(&app.agent, json!({"action": "other"})).await;
    let (status, _) = app.review(&app.approver, &id, "approve").await;
    assert_eq!(status, StatusCode::OK);
    let path = format!("/v1/approvals/{id}/events");
    for token in [&app.approver2, &app.agent, &app.admin] {
        let (status, timeline) = app.call(Method::GET, &path, token, None).await;
        assert_eq!(status, StatusCode::OK, "{timeline}");
        let items = timeline["items"].as_array().unwrap();
        let types: Vec<&str> = items.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(
            types,
            [
                "approval.requested",
                "approval.reviewed",
                "approval.approved"
            ]
        );
        assert!(items.iter().all(|e| e["approval_id"] == id.as_str()));
        assert!(
            items
                .windows(2)
                .all(|w| w[0]["seq"].as_i64() < w[1]["seq"].as_i64())
        );
    }
    let (status, _) = app.call(Method::GET, &path, &app.other_agent, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another agent's approval");
    let unknown = format!("/v1/approvals/{}/events", uuid::Uuid::now_v7());
    let (status, _) = app.call(Method::GET, &unknown, &app.approver, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = app
        .call(
            Method::GET,
            "/v1/approvals/nope/events",
            &app.approver,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = app.call(Method::GET, &path, "", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
