//! Every endpoint × {no token, bad token, agent (owner), other agent,
//! approver, admin} gives the documented answer.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::TestApp;
use assent_testdb::{Backend, backends};

const NONE: usize = 0;
const BAD: usize = 1;
const OWNER: usize = 2;
const APPROVER: usize = 4;
const ADMIN: usize = 5;

/// Every kind of caller, by index: none, a bad token, the owner (`bot`),
/// another agent (`other-bot`, index 3), an approver, the admin.
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

/// Each caller (in the order `NONE, BAD, OWNER, OTHER, APPROVER, ADMIN`)
/// with the status it must get.
fn each(want: [u16; 6]) -> impl Iterator<Item = (usize, u16)> {
    (NONE..=ADMIN).zip(want)
}

#[backends]
async fn every_endpoint_answers_each_kind_of_caller_as_documented(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = fresh(&app).await;
    let unknown_grant = format!("/v1/grants/{}", uuid::Uuid::now_v7());
    let create = json!({"action": "deploy"});
    let receipt = json!({"receipt": "x.y.z", "action": "deploy"});
    // Endpoint, body, and the status for each caller (see `each`).
    #[rustfmt::skip]
    let table: Vec<(Method, String, Option<Value>, [u16; 6])> = vec![
        (Method::POST, "/v1/approvals".into(), Some(create), [401, 401, 201, 201, 201, 201]),
        (Method::GET, format!("/v1/approvals/{id}"), None, [401, 401, 200, 404, 200, 200]),
        (Method::GET, format!("/v1/approvals/{id}?wait=1ms"), None, [401, 401, 200, 404, 200, 200]),
        (Method::GET, "/v1/approvals".into(), None, [401, 401, 200, 200, 200, 200]),
        (Method::GET, "/v1/tokens".into(), None, [401, 401, 403, 403, 403, 200]),
        (Method::GET, "/v1/audit".into(), None, [401, 401, 403, 403, 403, 200]),
        (Method::GET, "/v1/grants".into(), None, [401, 401, 403, 403, 200, 200]),
        (Method::DELETE, unknown_grant, None, [401, 401, 403, 403, 404, 404]),
        (Method::GET, "/v1/stats".into(), None, [401, 401, 403, 403, 200, 200]),
        // Any principal may open the WebSocket; a plain GET is not an upgrade.
        (Method::GET, "/v1/ws".into(), None, [401, 401, 400, 400, 400, 400]),
        (Method::GET, "/metrics".into(), None, [200; 6]),
        (Method::GET, "/healthz".into(), None, [200; 6]),
        (Method::GET, "/readyz".into(), None, [200; 6]),
        (Method::GET, "/openapi.json".into(), None, [200; 6]),
        (Method::GET, "/.well-known/jwks.json".into(), None, [200; 6]),
        (Method::POST, "/v1/receipts/verify".into(), Some(receipt), [401, 401, 200, 200, 200, 200]),
        // An approval's timeline: whoever may read the approval.
        (Method::GET, format!("/v1/approvals/{id}/events"), None, [401, 401, 200, 404, 200, 200]),
        // Who am I: any principal; a bearer token has no session to end.
        (Method::GET, "/v1/session".into(), None, [401, 401, 200, 200, 200, 200]),
        (Method::DELETE, "/v1/session".into(), None, [401, 401, 404, 404, 404, 404]),
        // The console's files are public.
        (Method::GET, "/".into(), None, [200; 6]),
        (Method::GET, "/console/js/app.js".into(), None, [200; 6]),
    ];
    for (method, path, body, want) in table {
        for (who, want) in each(want) {
            check(&app, method.clone(), &path, body.clone(), who, want).await;
        }
    }
    // Each review and cancel on an approval of its own.
    let approve = json!({"decision": "approve"});
    for (who, want) in each([401, 401, 403, 403, 200, 200]) {
        let reviews = format!("/v1/approvals/{}/reviews", fresh(&app).await);
        check(
            &app,
            Method::POST,
            &reviews,
            Some(approve.clone()),
            who,
            want,
        )
        .await;
    }
    for (who, want) in each([401, 401, 200, 404, 403, 200]) {
        let cancel = format!("/v1/approvals/{}/cancel", fresh(&app).await);
        check(&app, Method::POST, &cancel, None, who, want).await;
    }
    for (who, want) in each([401, 401, 403, 403, 403, 201]) {
        let body = Some(json!({"name": format!("t{who}"), "role": "agent"}));
        check(&app, Method::POST, "/v1/tokens", body, who, want).await;
    }
    // `t5` was created by the admin just above.
    for (who, want) in each([401, 401, 403, 403, 403, 204]) {
        check(&app, Method::DELETE, "/v1/tokens/t5", None, who, want).await;
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

#[backends]
async fn unknown_ids_are_404_for_everyone_who_may_look(backend: Backend) {
    let app = TestApp::spawn(backend).await;
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

#[backends]
async fn agents_list_only_their_own_approvals(backend: Backend) {
    let app = TestApp::spawn(backend).await;
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

#[backends]
async fn a_requester_cannot_review_its_own_approval_even_as_admin(backend: Backend) {
    let app = TestApp::spawn(backend).await;
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

#[backends]
async fn a_second_review_by_the_same_principal_is_a_conflict(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let quorum_free = fresh(&app).await;
    let (status, _) = app.review(&app.approver, &quorum_free, "approve").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        app.review(&app.approver, &quorum_free, "reject").await.0,
        StatusCode::CONFLICT
    );
}

#[backends]
async fn revoked_tokens_stop_working_at_once_and_secrets_are_never_listed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
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

#[backends]
async fn the_bootstrap_admin_token_file_is_private(backend: Backend) {
    let app = TestApp::spawn(backend).await;
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
