//! What an outside probe broke: bodies that are not objects, control
//! characters in free text, permission before parsing, names reused after
//! revocation, and the small answers (path encoding, caching, empty headers).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, decode};
use assent_testdb::{Backend, backends};

async fn post_raw(app: &TestApp, path: &str, token: &str, body: &str) -> (StatusCode, Value) {
    let response = app
        .http
        .post(app.url(path))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    decode(response).await
}

async fn token_names(app: &TestApp) -> Vec<String> {
    let (status, body) = app.call(Method::GET, "/v1/tokens", &app.admin, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

#[backends]
async fn bodies_must_be_json_objects(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.create_id(&app.agent, json!({"action": "deploy"})).await;
    let before = app.event_count().await;

    let review = format!("/v1/approvals/{id}/reviews");
    let (status, body) = post_raw(&app, &review, &app.approver, r#"["approve"]"#).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["detail"].as_str().unwrap().starts_with("body:"),
        "{body}"
    );

    let (status, body) = post_raw(&app, "/v1/tokens", &app.admin, r#"["x","agent"]"#).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["detail"].as_str().unwrap().starts_with("body:"),
        "{body}"
    );
    assert!(!token_names(&app).await.contains(&"x".to_owned()));

    for (path, text) in [
        ("/v1/approvals", r#"["deploy"]"#),
        ("/v1/check", r#""deploy""#),
        (review.as_str(), "null"),
        (&format!("/v1/approvals/{id}/cancel"), r#"["why"]"#),
        (&format!("/v1/approvals/{id}/cancel"), "7"),
    ] {
        let token = if path.ends_with("reviews") {
            &app.approver
        } else {
            &app.agent
        };
        let (status, body) = post_raw(&app, path, token, text).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {text}: {body}");
        assert!(
            body["detail"].as_str().unwrap().starts_with("body:"),
            "{body}"
        );
    }
    let (_, approval) = app.get(&app.agent, &id).await;
    assert_eq!(approval["status"], "pending");
    assert_eq!(app.event_count().await, before);
}

#[backends]
async fn cancel_accepts_a_null_body(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.create_id(&app.agent, json!({"action": "deploy"})).await;
    let (status, body) = post_raw(
        &app,
        &format!("/v1/approvals/{id}/cancel"),
        &app.agent,
        "null",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "cancelled");
}

#[backends]
async fn control_characters_in_free_text_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let before = app.event_count().await;
    for summary in [
        "\u{1b}[2Jall clear",
        "ok\rspoofed",
        "c1 \u{9b}31m",
        "nul\u{0}",
        "del\u{7f}",
    ] {
        let (status, body) = app
            .call(
                Method::POST,
                "/v1/approvals",
                &app.agent,
                Some(json!({"action": "deploy", "summary": summary})),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{summary:?}: {body}");
        assert!(
            body["detail"].as_str().unwrap().starts_with("summary:"),
            "{body}"
        );
    }
    assert_eq!(app.event_count().await, before);
    // Newlines and tabs are text.
    let id = app
        .create_id(
            &app.agent,
            json!({"action": "deploy", "summary": "line one\n\tline two"}),
        )
        .await;
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/v1/approvals/{id}/reviews"),
            &app.approver,
            Some(json!({"decision": "reject", "reason": "no\u{1b}]0;title\u{7}"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["detail"].as_str().unwrap().starts_with("reason:"),
        "{body}"
    );
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/v1/approvals/{id}/cancel"),
            &app.agent,
            Some(json!({"reason": "bye\u{8}\u{8}\u{8}"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["detail"].as_str().unwrap().starts_with("reason:"),
        "{body}"
    );
    let (_, approval) = app.get(&app.agent, &id).await;
    assert_eq!(approval["status"], "pending");
    assert_eq!(approval["summary"], "line one\n\tline two");
}

#[backends]
async fn permission_is_checked_before_the_body(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.create_id(&app.agent, json!({"action": "deploy"})).await;
    for (path, text) in [
        ("/v1/tokens".to_owned(), "{}"),
        ("/v1/tokens".to_owned(), "not json"),
        (format!("/v1/approvals/{id}/reviews"), r#"{"bogus": 1}"#),
        ("/v1/tokens/bot/rotate".to_owned(), ""),
    ] {
        let (status, body) = post_raw(&app, &path, &app.agent, text).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path} {text}: {body}");
    }
}

#[backends]
async fn small_answers_are_right(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Invalid UTF-8 in a path is a problem, like every other 400.
    for path in ["/v1/approvals/%FF", "/v1/tokens/%C3%28", "/v1/nowhere/%FF"] {
        let response = app
            .http
            .get(app.url(path))
            .bearer_auth(&app.admin)
            .send()
            .await
            .unwrap();
        let (status, body) = decode(response).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert!(body["detail"].as_str().unwrap().contains("UTF-8"), "{body}");
    }
    // An empty Idempotency-Key is not "no key".
    let response = app
        .http
        .post(app.url("/v1/approvals"))
        .bearer_auth(&app.agent)
        .header("idempotency-key", "")
        .json(&json!({"action": "deploy"}))
        .send()
        .await
        .unwrap();
    let (status, body) = decode(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("Idempotency-Key"),
        "{body}"
    );
    // A new secret is never cached on the way.
    let response = app
        .send(
            Method::POST,
            "/v1/tokens",
            &app.admin,
            Some(json!({"name": "carol", "role": "agent"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let response = app
        .send(Method::POST, "/v1/tokens/carol/rotate", &app.admin, None)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
}

#[backends]
async fn token_names_are_never_reused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let carol = app.token("carol", "agent", &[]).await;
    let id = app.create_id(&carol, json!({"action": "deploy"})).await;
    let (status, _) = app
        .call(Method::DELETE, "/v1/tokens/carol", &app.admin, None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for role in ["agent", "admin"] {
        let (status, body) = app
            .call(
                Method::POST,
                "/v1/tokens",
                &app.admin,
                Some(json!({"name": "carol", "role": role})),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert!(body["detail"].as_str().unwrap().contains("carol"), "{body}");
        assert!(
            body["detail"].as_str().unwrap().contains("never reused"),
            "{body}"
        );
    }
    // A live name is taken too; nobody got carol's approval.
    let (status, body) = app
        .call(
            Method::POST,
            "/v1/tokens",
            &app.admin,
            Some(json!({"name": "bot", "role": "agent"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        body["detail"].as_str().unwrap().contains("rotate"),
        "{body}"
    );
    let (status, _) = app.get(&carol, &id).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(!token_names(&app).await.contains(&"carol".to_owned()));
    // Nor does a restart forget it.
    let mut app = app;
    app.restart().await;
    let (status, _) = app
        .call(
            Method::POST,
            "/v1/tokens",
            &app.admin,
            Some(json!({"name": "carol", "role": "agent"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[backends]
async fn rotation_gives_the_same_principal_a_new_secret(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let dave = app.token("dave", "approver", &["sre"]).await;
    let id = app.create_id(&app.agent, json!({"action": "deploy"})).await;
    // The old secret is cached before the rotation.
    assert_eq!(app.get(&dave, &id).await.0, StatusCode::OK);
    let before = app.event_count().await;

    let (status, body) = app
        .call(Method::POST, "/v1/tokens/dave/rotate", &app.admin, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["name"], "dave");
    assert_eq!(body["role"], "approver");
    assert_eq!(body["groups"], json!(["sre"]));
    let fresh = body["token"].as_str().unwrap().to_owned();
    assert_ne!(fresh, dave);

    assert_eq!(app.get(&dave, &id).await.0, StatusCode::UNAUTHORIZED);
    let (status, approval) = app.review(&fresh, &id, "approve").await;
    assert_eq!(status, StatusCode::OK, "{approval}");
    assert_eq!(approval["decision"]["by"], json!(["dave"]));

    // One transaction: the old secret's revocation and the new one's creation.
    let events = app.events().await;
    let rotated: Vec<&Value> = events[before..]
        .iter()
        .filter(|e| e["type"].as_str().unwrap().starts_with("token."))
        .collect();
    assert_eq!(rotated.len(), 2, "{rotated:?}");
    assert_eq!(rotated[0]["type"], "token.revoked");
    assert_eq!(rotated[1]["type"], "token.created");
    assert_eq!(
        rotated[0]["seq"].as_i64().unwrap() + 1,
        rotated[1]["seq"].as_i64().unwrap()
    );
    assert_eq!(rotated[1]["data"]["rotated"], true);

    // Unknown or revoked names have nothing to rotate.
    let (status, _) = app
        .call(Method::POST, "/v1/tokens/nobody/rotate", &app.admin, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.call(Method::DELETE, "/v1/tokens/dave", &app.admin, None)
        .await;
    let (status, _) = app
        .call(Method::POST, "/v1/tokens/dave/rotate", &app.admin, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&fresh, &id).await.0, StatusCode::UNAUTHORIZED);
}

/// A gateway on a SQLite file (these tests are about SQLite alone).
async fn sqlite_app() -> TestApp {
    TestApp::spawn(Backend::Sqlite).await
}

#[tokio::test]
async fn a_second_gateway_on_the_same_sqlite_file_refuses_and_names_the_first() {
    let app = sqlite_app().await;
    let second =
        assent_server::Server::start(crate::support::config(app.dir.path(), &app.db)).await;
    let err = second
        .err()
        .expect("the second gateway must refuse")
        .to_string();
    assert!(err.contains("in use by another gateway"), "{err}");
    let first = app.server.as_ref().unwrap().addr().to_string();
    assert!(err.contains(&format!("listening on {first}")), "{err}");
    assert!(
        err.contains(&format!("pid {}", std::process::id())),
        "{err}"
    );
    // The first keeps working.
    app.create_id(&app.agent, json!({"action": "deploy"})).await;
}

#[tokio::test]
async fn a_writer_whose_chain_head_went_stale_reports_not_ready_and_recovers() {
    let app = sqlite_app().await;
    app.create_id(&app.agent, json!({"action": "deploy"})).await;
    // Another process appends to the chain behind this gateway's back (a
    // gateway started before the database lock existed, say).
    let other = assent_store::SqlStore::open(app.db.url(), assent_store::StoreOptions::default())
        .await
        .unwrap();
    use assent_store::Store;
    other
        .create_token(
            assent_store::NewToken {
                name: "intruder".into(),
                token_sha256: "00".repeat(32),
                role: assent_domain::Role::Agent,
                groups: vec![],
                created_by: "test".into(),
            },
            assent_domain::timestamp::to_millis_precision(time::OffsetDateTime::now_utc()),
        )
        .await
        .unwrap();
    drop(other);

    let (status, body) = app
        .call(
            Method::POST,
            "/v1/approvals",
            &app.agent,
            Some(json!({"action": "deploy"})),
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let (status, body) = app.call(Method::GET, "/readyz", "", None).await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "not ready while failing: {body}"
    );

    // It re-reads its chain head: ready again, and writes work again.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (status, _) = app.call(Method::GET, "/readyz", "", None).await;
        if status == StatusCode::OK {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never ready again");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    for _ in 0..3 {
        app.create_id(&app.agent, json!({"action": "deploy"})).await;
    }
    crate::support::assert_chain_verifies(&app.events().await);
}

#[backends]
async fn the_openapi_document_describes_errors_and_formats(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, doc) = app.call(Method::GET, "/openapi.json", "", None).await;
    assert_eq!(status, StatusCode::OK);
    let create = &doc["paths"]["/v1/approvals"]["post"]["responses"];
    for code in ["400", "401", "413", "415", "429"] {
        assert!(
            create[code]["content"]["application/problem+json"].is_object(),
            "POST /v1/approvals {code}: {}",
            create[code]
        );
        assert!(create[code]["content"]["application/json"].is_null());
    }
    assert!(doc["paths"]["/v1/tokens"]["post"]["responses"]["403"].is_object());
    assert!(doc["paths"]["/healthz"]["get"]["responses"]["401"].is_null());
    let params = |path: &str| {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .clone()
    };
    let param = |path: &str, name: &str| {
        params(path)
            .into_iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{path} has no parameter {name}"))
    };
    assert_eq!(param("/v1/approvals", "limit")["schema"]["minimum"], 1);
    assert!(param("/v1/approvals", "label")["schema"]["items"]["pattern"].is_string());
    assert!(param("/v1/approvals/{id}", "wait")["schema"]["pattern"].is_string());
    assert!(param("/v1/stats", "since")["schema"]["anyOf"].is_array());
    assert!(
        param("/v1/events", "types")["schema"]["pattern"]
            .as_str()
            .unwrap()
            .contains("approval\\.requested")
    );
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["CreateApproval"]["properties"]["action"]["pattern"],
        "^[A-Za-z0-9._:/-]{1,200}$"
    );
    assert_eq!(
        schemas["CreateApproval"]["properties"]["labels"]["maxProperties"],
        32
    );
    assert!(schemas["CreateApproval"]["properties"]["summary"]["pattern"].is_string());
    assert_eq!(
        schemas["CreateToken"]["properties"]["name"]["pattern"],
        "^[A-Za-z0-9._@-]{1,100}$"
    );
    assert!(schemas["ReviewRequest"]["oneOf"].is_array());
    assert!(doc["paths"]["/v1/tokens/{name}/rotate"]["post"].is_object());
}
