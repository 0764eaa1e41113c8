//! HTTPS served natively from `tls_cert` and `tls_key`, with a certificate
//! made in the test and a client that trusts only it.

use std::path::Path;

use assent_server::Server;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::config;
use assent_testdb::{Backend, TestDb, backends};

/// A self-signed certificate for `localhost` and 127.0.0.1, written as PEM
/// files into `dir`; returns the certificate's PEM.
fn self_signed(dir: &Path) -> String {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let cert = certified.cert.pem();
    std::fs::write(dir.join("cert.pem"), &cert).unwrap();
    std::fs::write(dir.join("key.pem"), certified.signing_key.serialize_pem()).unwrap();
    cert
}

#[backends]
async fn the_gateway_serves_https_with_the_configured_certificate(backend: Backend) {
    let dir = assent_testdb::private_dir();
    let db = TestDb::create(backend, Some(dir.path())).await;
    let cert = self_signed(dir.path());
    let mut settings = config(dir.path(), &db);
    settings.tls_cert = Some(dir.path().join("cert.pem").into());
    settings.tls_key = Some(dir.path().join("key.pem").into());
    let server = Server::start(settings).await.unwrap();
    assert_eq!(server.scheme(), "https");
    assert!(
        server.console_url().starts_with("https://"),
        "{}",
        server.console_url()
    );
    let port = server.addr().port();
    let admin = std::fs::read_to_string(dir.path().join("admin.token")).unwrap();

    let trusting = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(cert.as_bytes()).unwrap()])
        .build()
        .unwrap();
    let response = trusting
        .post(format!("https://localhost:{port}/v1/approvals"))
        .bearer_auth(admin.trim())
        .json(&json!({"action": "over-tls"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["action"], "over-tls");
    // The console cookie is Secure over TLS.
    let sign_in = trusting
        .post(format!("https://127.0.0.1:{port}/v1/session"))
        .json(&json!({"token": admin.trim()}))
        .send()
        .await
        .unwrap();
    assert_eq!(sign_in.status(), StatusCode::CREATED);
    assert!(
        sign_in.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Secure")
    );

    // A client that does not trust the certificate fails the handshake, and
    // plain HTTP on the TLS port gets no answer.
    let untrusting = reqwest::Client::builder()
        .tls_certs_only([])
        .build()
        .unwrap();
    assert!(
        untrusting
            .get(format!("https://localhost:{port}/healthz"))
            .send()
            .await
            .is_err()
    );
    assert!(
        reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
            .await
            .is_err()
    );
    server.shutdown().await.unwrap();
}

#[backends]
async fn a_missing_or_unmatched_tls_file_is_refused_at_start(backend: Backend) {
    let dir = assent_testdb::private_dir();
    let db = TestDb::create(backend, Some(dir.path())).await;
    self_signed(dir.path());
    let mut settings = config(dir.path(), &db);
    settings.tls_cert = Some(dir.path().join("nope.pem").into());
    settings.tls_key = Some(dir.path().join("key.pem").into());
    let err = Server::start(settings.clone())
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("tls_cert") && err.contains("nope.pem"),
        "{err}"
    );

    let other = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(
        dir.path().join("other.pem"),
        other.signing_key.serialize_pem(),
    )
    .unwrap();
    settings.tls_cert = Some(dir.path().join("cert.pem").into());
    settings.tls_key = Some(dir.path().join("other.pem").into());
    let err = Server::start(settings).await.err().unwrap().to_string();
    assert!(err.contains("tls_key"), "{err}");
}
