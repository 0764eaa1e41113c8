//! Every endpoint × {no token, bad token, agent (owner), other agent,
//! approver, admin} gives the documented answer.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::TestApp;

const NONE: usize = 0;
const BAD: usize = 1;
const OWNER: usize = 2;
const OTHER: usize = 3;
const APPROVER: usize = 4;
const ADMIN: usize = 5;

fn callers(app: &TestApp) -> [String; 6] {
    [
        String::new(),
        "assent_not-a-real-token".into(),
        app.agent.clone(),
        app.other_agent.clone(),
        app.approver.clone(),
        app.admin.clone(),
    ]
}

/// A fresh pending approval requested by `bot` (the owner).
async fn fresh(app: &TestApp) -> String {
    app.create_id(&app.agent, json!({"action": "deploy"})).await
}

async fn check(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
    who: usize,
    want: u16,
) {
    let token = &callers(app)[who];
    let (status, answer) = app.call(method.clone(), path, token, body).await;
    assert_eq!(
        status.as_u16(),
        want,
        "{method} {path} as caller #{who}: {answer}"
    );
}

#[tokio::test]
async fn every_endpoint_answers_each_kind_of_caller_as_documented() {
    let app = TestApp::spawn().await;
    let create = Some(json!({"action": "deploy"}));
    let approve = Some(json!({"decision": "approve"}));

    for (who, want) in [
        (NONE, 401),
        (BAD, 401),
        (OWNER, 201),
        (OTHER, 201),
        (APPROVER, 201),
        (ADMIN, 201),
    ] {
        check(
            &app,
            Method::POST,
            "/v1/approvals",
            create.clone(),
            who,
            want,
        )
        .await;
    }
    let id = fresh(&app).await;
    for (who, want) in [
        (NONE, 401),
        (BAD, 401),
        (OWNER, 200),
        (OTHER, 404),
        (APPROVER, 200),
        (ADMIN, 200),
    ] {
        check(
            &app,
            Method::GET,
            &format!("/v1/approvals/{id}"),
            None,
            who,
            want,
        )
        .await;
        check(
            &app,
            Method::GET,
            &format!("/v1/approvals/{id}?wait=1ms"),
            None,
            who,
            want,
        )
        .await;
    }
    for (who, want) in [
        (NONE, 401),
        (BAD, 401),
        (OWNER, 200),
        (OTHER, 200),
        (APPROVER, 200),
        (ADMIN, 200),
    ] {
        check(&app, Method::GET, "/v1/approvals", None, who, want).await;
    }
    for (who, want) in [
        (NONE, 401),
        (BAD, 401),
        (OWNER, 403),
        (OTHER, 403),
        (APPROVER, 200),
        (ADMIN, 200),
    ] {
        let id = fresh(&app).await;
        check(
            &app,
            Method::POST,
            &format!("/v1/approvals/{id}/reviews"),
            approve.clone(),
            who,
            want,
        )
        .await;
    }
    for (who, want) in [
        (NONE, 401),
        (BAD, 401),
        (OWNER, 200),
        (OTHER, 404),
        (APPROVER, 403),
        (ADMIN, 200),
    ] {
        let id = fresh(&app).await;
        check(
            &app,
            Method::POST,
            &format!("/v1/approvals/{id}/cancel"),
            None,
            who,
            want,
        )
        .await;
    }
    for (who, want) in [
        (NONE, 401),
        (BAD, 401),
        (OWNER, 403),
        (OTHER, 403),
        (APPROVER, 403),
        (ADMIN, 201),
    ] {
        let body = Some(json!({"name": format!("t{who}"), "role": "agent"}));
        check(&app, Method::POST, "/v1/tokens", body, who, want).await;
    }
    for (who, want) in [
        (NONE, 401),
        (BAD, 401),
        (OWNER, 403),
        (OTHER, 403),
        (APPROVER, 403),
        (ADMIN, 200),
    ] {
        check(&app, Method::GET, "/v1/tokens", None, who, want).await;
        check(&app, Method::GET, "/v1/audit", None, who, want).await;
    }
    for (who, want) in [
        (NONE, 401),
        (BAD, 401),
        (OWNER, 403),
        (OTHER, 403),
        (APPROVER, 403),
        (ADMIN, 204),
    ] {
        check(&app, Method::DELETE, "/v1/tokens/t5", None, who, want).await;
    }
    for (who, want) in [
        (NONE, 401),
        (BAD, 401),
        (OWNER, 403),
        (OTHER, 403),
        (APPROVER, 200),
        (ADMIN, 200),
    ] {
        check(&app, Method::GET, "/v1/grants", None, who, want).await;
    }
    let unknown_grant = format!("/v1/grants/{}", uuid::Uuid::now_v7());
    for (who, want) in [
        (NONE, 401),
        (BAD, 401),
        (OWNER, 403),
        (OTHER, 403),
        (APPROVER, 404),
        (ADMIN, 404),
    ] {
        check(&app, Method::DELETE, &unknown_grant, None, who, want).await;
    }
    for (who, want) in [
        (NONE, 401),
        (BAD, 401),
        (OWNER, 403),
        (OTHER, 403),
        (APPROVER, 200),
        (ADMIN, 200),
    ] {
        check(&app, Method::GET, "/v1/stats", None, who, want).await;
    }
    // Any principal may open the WebSocket; a plain GET is not an upgrade.
    for (who, want) in [
        (NONE, 401),
        (BAD, 401),
        (OWNER, 400),
        (OTHER, 400),
        (APPROVER, 400),
        (ADMIN, 400),
    ] {
        check(&app, Method::GET, "/v1/ws", None, who, want).await;
    }
    // An approval's timeline: whoever may read the approval.
    let timeline = format!("/v1/approvals/{}/events", fresh(&app).await);
    for (who, want) in [
        (NONE, 401),
        (BAD, 401),
        (OWNER, 200),
        (OTHER, 404),
        (APPROVER, 200),
        (ADMIN, 200),
    ] {
        check(&app, Method::GET, &timeline, None, who, want).await;
    }
    // Who am I: any principal; ending a session needs one (bearer: 404).
    for (who, want) in [
        (NONE, 401),
        (BAD, 401),
        (OWNER, 200),
        (APPROVER, 200),
        (ADMIN, 200),
    ] {
        check(&app, Method::GET, "/v1/session", None, who, want).await;
    }
    for (who, want) in [(NONE, 401), (BAD, 401), (OWNER, 404), (ADMIN, 404)] {
        check(&app, Method::DELETE, "/v1/session", None, who, want).await;
    }
    for who in [NONE, BAD, OWNER, OTHER, APPROVER, ADMIN] {
        check(&app, Method::GET, "/", None, who, 200).await;
        check(&app, Method::GET, "/console/js/app.js", None, who, 200).await;
        check(&app, Method::GET, "/metrics", None, who, 200).await;
        check(&app, Method::GET, "/healthz", None, who, 200).await;
        check(&app, Method::GET, "/readyz", None, who, 200).await;
        check(&app, Method::GET, "/openapi.json", None, who, 200).await;
        check(&app, Method::GET, "/.well-known/jwks.json", None, who, 200).await;
    }
    let receipt = json!({"receipt": "x.y.z", "action": "deploy"});
    for (who, want) in [
        (NONE, 401),
        (BAD, 401),
        (OWNER, 200),
        (OTHER, 200),
        (APPROVER, 200),
        (ADMIN, 200),
    ] {
        let body = Some(receipt.clone());
        check(&app, Method::POST, "/v1/receipts/verify", body, who, want).await;
    }
    for (who, want) in [
        (NONE, 401),
        (BAD, 401),
        (OWNER, 403),
        (APPROVER, 403),
        (ADMIN, 200),
    ] {
        check(&app, Method::GET, "/v1/audit/export", None, who, want).await;
    }
}

#[tokio::test]
async fn unknown_ids_are_404_for_everyone_who_may_look() {
    let app = TestApp::spawn().await;
    let unknown = uuid::Uuid::now_v7();
    for who in [OWNER, APPROVER, ADMIN] {
        check(
            &app,
            Method::GET,
            &format!("/v1/approvals/{unknown}"),
            None,
            who,
            404,
        )
        .await;
    }
    check(
        &app,
        Method::POST,
        &format!("/v1/approvals/{unknown}/reviews"),
        Some(json!({"decision": "approve"})),
        APPROVER,
        404,
    )
    .await;
    check(
        &app,
        Method::POST,
        &format!("/v1/approvals/{unknown}/cancel"),
        None,
        ADMIN,
        404,
    )
    .await;
    check(&app, Method::DELETE, "/v1/tokens/nobody", None, ADMIN, 404).await;
}

#[tokio::test]
async fn agents_list_only_their_own_approvals() {
    let app = TestApp::spawn().await;
    fresh(&app).await;
    app.create(&app.other_agent, json!({"action": "shell"}))
        .await;
    let (_, mine) = app
        .call(Method::GET, "/v1/approvals", &app.agent, None)
        .await;
    let requesters: Vec<&str> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["requester"].as_str().unwrap())
        .collect();
    assert_eq!(requesters, ["bot"]);
    let (_, snooping) = app
        .call(
            Method::GET,
            "/v1/approvals?requester=other-bot",
            &app.agent,
            None,
        )
        .await;
    assert!(snooping["items"].as_array().unwrap().is_empty());
    let (_, all) = app
        .call(Method::GET, "/v1/approvals", &app.approver, None)
        .await;
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_requester_cannot_review_its_own_approval_even_as_admin() {
    let app = TestApp::spawn().await;
    for token in [&app.admin, &app.approver] {
        let id = app.create_id(token, json!({"action": "deploy"})).await;
        let (status, problem) = app.review(token, &id, "approve").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("separation of duties"),
            "{problem}"
        );
    }
}

#[tokio::test]
async fn a_second_review_by_the_same_principal_is_a_conflict() {
    let app = TestApp::spawn().await;
    let quorum_free = fresh(&app).await;
    let (status, _) = app.review(&app.approver, &quorum_free, "approve").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        app.review(&app.approver, &quorum_free, "reject").await.0,
        StatusCode::CONFLICT
    );
}

#[tokio::test]
async fn revoked_tokens_stop_working_at_once_and_secrets_are_never_listed() {
    let app = TestApp::spawn().await;
    let token = app.token("temp", "approver", &["sre"]).await;
    assert_eq!(
        app.call(Method::GET, "/v1/approvals", &token, None).await.0,
        StatusCode::OK
    );
    let (_, list) = app.call(Method::GET, "/v1/tokens", &app.admin, None).await;
    let text = list.to_string();
    assert!(
        !text.contains(&token) && !text.contains("sha256") && !text.contains("\"token\""),
        "{text}"
    );
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "temp" && t["groups"] == json!(["sre"]))
    );
    assert_eq!(
        app.call(Method::DELETE, "/v1/tokens/temp", &app.admin, None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.call(Method::GET, "/v1/approvals", &token, None).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, _) = app
        .call(
            Method::POST,
            "/v1/tokens",
            &app.admin,
            Some(json!({"name": "bot", "role": "agent"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "names are unique");
    let kinds: Vec<String> = app
        .events()
        .await
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        kinds.contains(&"token.created".to_owned()) && kinds.contains(&"token.revoked".to_owned())
    );
}

#[tokio::test]
async fn the_bootstrap_admin_token_file_is_private() {
    let app = TestApp::spawn().await;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(app.dir.path().join("admin.token"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(app.admin.starts_with("assent_"));
}
