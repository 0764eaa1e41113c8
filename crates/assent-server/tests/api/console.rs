//! The web console's files: served from the binary without authentication,
//! with a strict Content-Security-Policy, the right content types and
//! ETags; and the OpenAPI document describing the console's session.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{TestApp, decode};
use assent_testdb::{Backend, backends};

/// The module paths a script imports (`from './x.js'`).
fn imports(script: &str) -> Vec<String> {
    script
        .split("from '")
        .skip(1)
        .filter_map(|rest| rest.split('\'').next())
        .filter(|path| path.starts_with("./"))
        .map(|path| path.trim_start_matches("./").to_owned())
        .collect()
}

#[backends]
async fn the_page_and_every_module_it_loads_are_served_without_auth(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let page = app.http.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let headers = page.headers().clone();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    let csp = headers["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{csp} lacks {directive}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["cache-control"], "no-cache");
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<script type="module" src="/console/js/app.js">"#));
    assert!(
        !html.contains("<style") && !html.contains(" style="),
        "no inline style"
    );
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing from elsewhere"
    );

    // Crawl the module graph from app.js: each import is served as JavaScript.
    let mut todo = vec!["app.js".to_owned()];
    let mut seen = BTreeSet::new();
    while let Some(module) = todo.pop() {
        if !seen.insert(module.clone()) {
            continue;
        }
        let response = app
            .http
            .get(app.url(&format!("/console/js/{module}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{module}");
        assert_eq!(
            response.headers()["content-type"],
            "text/javascript; charset=utf-8",
            "{module}"
        );
        assert!(response.headers().contains_key("content-security-policy"));
        todo.extend(imports(&response.text().await.unwrap()));
    }
    assert!(seen.len() > 10, "the crawl found the modules: {seen:?}");

    for (path, content_type) in [
        ("/console/console.css", "text/css; charset=utf-8"),
        ("/console/icon.svg", "image/svg+xml"),
    ] {
        let response = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()["content-type"], content_type, "{path}");
    }
    let (status, problem) = app
        .call(Method::GET, "/console/js/missing.js", "", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
}

#[backends]
async fn unchanged_files_are_answered_304_by_etag(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = app
        .http
        .get(app.url("/console/js/app.js"))
        .send()
        .await
        .unwrap();
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"') && etag.len() > 10, "{etag}");
    let again = app
        .http
        .get(app.url("/console/js/app.js"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()["etag"], etag.as_str());
    assert!(again.bytes().await.unwrap().is_empty());
    let other = app
        .http
        .get(app.url("/console/console.css"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(
        other.status(),
        StatusCode::OK,
        "another file's tag does not match"
    );
}

#[backends]
async fn the_openapi_document_describes_the_session_and_its_cookie(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, doc) = app.call(Method::GET, "/openapi.json", "", None).await;
    assert_eq!(status, StatusCode::OK);
    let session = &doc["paths"]["/v1/session"];
    for method in ["post", "get", "delete"] {
        assert!(
            session[method].is_object(),
            "/v1/session {method}: {session}"
        );
    }
    assert_eq!(
        session["post"]["security"],
        json!([{}]),
        "signing in needs no credentials"
    );
    assert!(
        session["post"]["responses"]["201"]["headers"]["Set-Cookie"].is_object(),
        "{session}"
    );
    assert!(doc["paths"]["/v1/approvals/{id}/events"]["get"].is_object());
    assert!(doc["paths"]["/"]["get"].is_object());
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(
        schemes["session"],
        json!({"type": "apiKey", "in": "cookie", "name": "assent_session",
               "description": schemes["session"]["description"]})
    );
    assert_eq!(schemes["csrf"]["in"], "header");
    assert_eq!(schemes["csrf"]["name"], "X-CSRF-Token");
    assert_eq!(
        doc["security"],
        json!([{"bearer": []}, {"session": [], "csrf": []}])
    );
    let description = doc["info"]["description"].as_str().unwrap();
    assert!(
        description.contains("](/)"),
        "links to the console: {description}"
    );
    assert!(description.contains("/#/approvals/"), "{description}");
}

#[backends]
async fn stats_list_every_day_of_the_window_with_its_outcomes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.create_id(&app.agent, json!({"action": "deploy"})).await;
    app.review(&app.approver, &id, "approve").await;
    let id = app.create_id(&app.agent, json!({"action": "deploy"})).await;
    app.call(
        Method::POST,
        &format!("/v1/approvals/{id}/reviews"),
        &app.approver,
        Some(json!({"decision": "reject", "reason": "no"})),
    )
    .await;
    let response = app
        .send(Method::GET, "/v1/stats?since=7d", &app.approver, None)
        .await;
    let (status, stats) = decode(response).await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    let days = stats["by_day"].as_array().unwrap();
    assert_eq!(days.len(), 8, "7 days back to today: {days:?}");
    let today = days.last().unwrap();
    assert_eq!(
        (today["approved"].as_u64(), today["rejected"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(
        days[..7]
            .iter()
            .all(|d| d["approved"] == 0 && d["rejected"] == 0)
    );
}
