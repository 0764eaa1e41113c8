//! Receipts: every approved approval carries one; it verifies for
//! exactly its action and args, expires, is spent once, survives restarts,
//! and a standard JOSE library (PyJWT) verifies it against the JWKS.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, python_interop};
use assent_testdb::{Backend, backends};

fn args() -> Value {
    json!({"service": "billing", "env": "prod", "replicas": 3})
}

/// An approval of `deploy` with [`args`], approved by alice: (id, receipt).
async fn approved(app: &TestApp) -> (String, String) {
    let id = app
        .create_id(&app.agent, json!({"action": "deploy", "args": args()}))
        .await;
    let (status, body) = app.review(&app.approver, &id, "approve").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let receipt = body["receipt"]
        .as_str()
        .expect("an approved approval has a receipt");
    (id, receipt.to_owned())
}

async fn verify(app: &TestApp, receipt: &str, action: &str, args: Value) -> Value {
    let (status, body) = app
        .call(
            Method::POST,
            "/v1/receipts/verify",
            &app.agent,
            Some(json!({"receipt": receipt, "action": action, "args": args})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn redeem(app: &TestApp, receipt: &str) -> (StatusCode, Value) {
    app.call(
        Method::POST,
        "/v1/receipts/redeem",
        &app.agent,
        Some(json!({"receipt": receipt, "action": "deploy", "args": args()})),
    )
    .await
}

#[backends]
async fn a_receipt_verifies_for_exactly_its_action_and_args(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let waiting = app
        .create_id(&app.agent, json!({"action": "deploy", "args": args()}))
        .await;
    let long_poll = app.wait_in_background(&app.agent, &waiting, "10s");
    let (status, decided) = app.review(&app.approver, &waiting, "approve").await;
    assert_eq!(status, StatusCode::OK);
    let receipt = decided["receipt"].as_str().unwrap().to_owned();

    let (_, woken) = long_poll.await.unwrap();
    assert_eq!(woken["receipt"], receipt, "the long-poll answer carries it");
    let (_, read) = app.get(&app.agent, &waiting).await;
    assert_eq!(read["receipt"], receipt, "the same receipt on every read");
    let (_, list) = app
        .call(
            Method::GET,
            "/v1/approvals?status=approved",
            &app.approver,
            None,
        )
        .await;
    assert_eq!(list["items"][0]["receipt"], receipt);

    let reordered = json!({"replicas": 3, "env": "prod", "service": "billing"});
    let ok = verify(&app, &receipt, "deploy", reordered).await;
    assert_eq!(ok["valid"], true, "{ok}");
    let claims = &ok["claims"];
    assert_eq!(claims["sub"], waiting.as_str());
    assert_eq!(claims["jti"], waiting.as_str());
    assert_eq!(claims["act"], "deploy");
    assert_eq!(claims["iss"], "assent");
    assert_eq!(claims["scope"], "once");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );

    let mut changed = args();
    changed["env"] = json!("staging");
    let bad = verify(&app, &receipt, "deploy", changed).await;
    assert_eq!(
        (bad["valid"].clone(), bad.get("claims")),
        (json!(false), None)
    );
    assert!(bad["reason"].as_str().unwrap().contains("args"), "{bad}");
    let other = verify(&app, &receipt, "deploy.rollback", args()).await;
    assert!(
        other["reason"].as_str().unwrap().contains("action"),
        "{other}"
    );
    let mut forged = receipt.clone();
    forged.replace_range(forged.len() - 4.., "AAAA");
    let forged = verify(&app, &forged, "deploy", args()).await;
    assert_eq!(forged["reason"], "bad signature", "{forged}");
    let garbage = verify(&app, "not-a-receipt", "deploy", args()).await;
    assert!(
        garbage["reason"].as_str().unwrap().contains("malformed"),
        "{garbage}"
    );
}

#[backends]
async fn only_approved_approvals_carry_a_receipt(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pending = app.create(&app.agent, json!({"action": "deploy"})).await;
    assert_eq!(pending["receipt"], Value::Null);
    let id = pending["id"].as_str().unwrap();
    let (_, rejected) = app.review(&app.approver, id, "reject").await;
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["receipt"], Value::Null);
}

#[backends]
async fn bad_verify_bodies_are_refused_naming_the_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) = app
        .call(
            Method::POST,
            "/v1/receipts/verify",
            &app.agent,
            Some(json!({"receipt": "x", "action": "deploy", "args": [1]})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["detail"].as_str().unwrap().starts_with("args"),
        "{body}"
    );
    let (status, _) = app
        .call(Method::POST, "/v1/receipts/verify", "", Some(json!({})))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[backends]
async fn a_receipt_expires_after_the_configured_ttl(backend: Backend) {
    let app = TestApp::spawn_configured(backend, |c| c.receipt_ttl = Duration::from_secs(1)).await;
    let (_, receipt) = approved(&app).await;
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let expired = verify(&app, &receipt, "deploy", args()).await;
    assert_eq!(
        (expired["valid"].clone(), expired["reason"].clone()),
        (json!(false), json!("expired"))
    );
    let (status, body) = redeem(&app, &receipt).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}

#[backends]
async fn a_receipt_is_redeemed_once_even_across_a_restart(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    let (id, receipt) = approved(&app).await;
    let (status, body) = redeem(&app, &receipt).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["claims"]["jti"], id.as_str());
    let (status, body) = redeem(&app, &receipt).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    let (status, body) = app
        .call(
            Method::POST,
            "/v1/receipts/redeem",
            &app.agent,
            Some(json!({"receipt": receipt, "action": "deploy", "args": {}})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "an invalid receipt is not spent: {body}"
    );

    app.restart().await;
    let (status, _) = redeem(&app, &receipt).await;
    assert_eq!(status, StatusCode::CONFLICT, "spending is durable");
}

#[backends]
async fn the_jwks_is_public_and_the_key_survives_a_restart(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    let (status, jwks) = app
        .call(Method::GET, "/.well-known/jwks.json", "", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let key = &jwks["keys"][0];
    assert_eq!(
        (key["kty"].clone(), key["crv"].clone()),
        (json!("OKP"), json!("Ed25519"))
    );
    assert!(key.get("d").is_none(), "no private part is published");
    let (id, receipt) = approved(&app).await;

    app.restart().await;

    let (_, after) = app
        .call(Method::GET, "/.well-known/jwks.json", "", None)
        .await;
    assert_eq!(after, jwks, "the same key after a restart");
    let (_, read) = app.get(&app.agent, &id).await;
    assert_eq!(read["receipt"], receipt.as_str());
    assert_eq!(
        verify(&app, &receipt, "deploy", args()).await["valid"],
        true
    );
}

#[backends]
async fn the_client_verifies_a_receipt_offline_and_online(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, receipt) = approved(&app).await;
    let client = assent_client::Client::new(&app.base, &app.agent).unwrap();
    let jwks = client.jwks().await.unwrap();
    let args = args().as_object().unwrap().clone();
    let claims = assent_client::verify_receipt(&receipt, &jwks, "deploy", &args).unwrap();
    assert_eq!(claims.act, "deploy");
    let mut other = args.clone();
    other.insert("replicas".into(), json!(4));
    assert_eq!(
        assent_client::verify_receipt(&receipt, &jwks, "deploy", &other),
        Err(assent_client::ReceiptInvalid::ArgsMismatch)
    );
    assert!(
        client
            .verify_receipt_online(&receipt, "deploy", &args)
            .await
            .unwrap()
            .valid
    );
    client
        .redeem_receipt(&receipt, "deploy", &args)
        .await
        .unwrap();
    let again = client
        .redeem_receipt(&receipt, "deploy", &args)
        .await
        .unwrap_err();
    assert_eq!(again.status(), Some(409));
}

#[backends]
async fn pyjwt_verifies_a_receipt_against_the_jwks_and_refuses_a_tampered_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, receipt) = approved(&app).await;
    let jwks_url = app.url("/.well-known/jwks.json");
    let args = args().to_string();
    let Some(out) = python_interop(
        "verify_receipt.py",
        &["jwt", "cryptography"],
        &[&jwks_url, &receipt, "deploy", &args],
    )
    .await
    else {
        return;
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let claims: Value = serde_json::from_str(stdout.trim().trim_start_matches("VALID ")).unwrap();
    assert_eq!(claims["sub"], id.as_str());
    assert_eq!(claims["act"], "deploy");

    // A receipt whose claims were edited (another action) keeps its old signature.
    let parts: Vec<&str> = receipt.split('.').collect();
    let payload = assent_domain::jose::decode(parts[1]).unwrap();
    let mut edited: Value = serde_json::from_slice(&payload).unwrap();
    edited["act"] = json!("billing.charge");
    let edited = assent_domain::jose::encode(edited.to_string().as_bytes());
    let tampered = format!("{}.{edited}.{}", parts[0], parts[2]);
    let out = python_interop(
        "verify_receipt.py",
        &["jwt", "cryptography"],
        &[&jwks_url, &tampered, "billing.charge", &args],
    )
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(stdout.starts_with("INVALID"), "{stdout}");
    assert!(stdout.to_lowercase().contains("signature"), "{stdout}");

    // And the untouched receipt, checked against other args, fails on args_sha256.
    let out = python_interop(
        "verify_receipt.py",
        &["jwt", "cryptography"],
        &[&jwks_url, &receipt, "deploy", r#"{"service":"billing"}"#],
    )
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("INVALID args_sha256"), "{stdout}");
}
