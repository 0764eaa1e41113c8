//! Connection limits and timeouts: floods of idle connections, slowloris,
//! stalled bodies, a reserve for health checks and reviews, the `Host`
//! check. Loopback only, bounded in time.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::TestApp;
use assent_testdb::{Backend, backends};

/// Reads until the server closes the connection; returns what it sent and
/// how long that took, or panics after `within`.
async fn read_until_closed(
    stream: &mut (impl AsyncRead + Unpin),
    within: Duration,
) -> (String, Duration) {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    let done = tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(
        done.is_ok(),
        "the connection was still open after {within:?}"
    );
    (
        String::from_utf8_lossy(&received).into_owned(),
        started.elapsed(),
    )
}

fn addr(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_owned()
}

#[backends]
async fn health_and_reviews_answer_while_5000_idle_connections_are_open(backend: Backend) {
    let app = TestApp::spawn_configured(backend, |c| {
        c.max_connections = 1000;
        c.connection_reserve = 16;
    })
    .await;
    let id = app.create_id(&app.agent, json!({"action": "deploy"})).await;
    let mut idle = Vec::with_capacity(5000);
    for _ in 0..5000 {
        idle.push(TcpStream::connect(addr(&app)).await.unwrap());
    }
    // Fresh connections (a new client): health and a review still answer.
    let fresh = reqwest::Client::new();
    let started = Instant::now();
    let health = fresh.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let review = fresh
        .post(app.url(&format!("/v1/approvals/{id}/reviews")))
        .bearer_auth(&app.approver)
        .json(&json!({"decision": "approve"}))
        .send()
        .await
        .unwrap();
    assert_eq!(review.status(), StatusCode::OK);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    // The gateway holds at most max_connections + reserve of them: the
    // oldest idle ones were closed to make room.
    let mut closed = 0;
    let mut buf = [0u8; 16];
    for stream in &mut idle {
        let read = tokio::time::timeout(Duration::from_millis(2), stream.read(&mut buf)).await;
        if matches!(read, Ok(Ok(0) | Err(_))) {
            closed += 1;
        }
    }
    assert!(
        closed >= 5000 - 1016,
        "only {closed} of the 5000 idle connections were closed"
    );
    drop(idle);
}

#[backends]
async fn when_every_connection_is_busy_the_reserve_serves_health_and_reviews_only(
    backend: Backend,
) {
    let app = TestApp::spawn_configured(backend, |c| {
        c.max_connections = 8;
        c.connection_reserve = 4;
    })
    .await;
    let id = app.create_id(&app.agent, json!({"action": "deploy"})).await;
    // Eight long-polls, each on its own connection, fill the gateway.
    let mut polls = Vec::new();
    for _ in 0..8 {
        let client = reqwest::Client::new();
        let request = client
            .get(app.url(&format!("/v1/approvals/{id}?wait=30s")))
            .bearer_auth(&app.agent);
        polls.push(tokio::spawn(async move {
            let response = request.send().await.unwrap();
            (response.status(), client)
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    let on_reserve = || reqwest::Client::builder().build().unwrap();
    let health = on_reserve().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let list = on_reserve()
        .get(app.url("/v1/approvals"))
        .bearer_auth(&app.approver)
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(list.headers()["retry-after"], "1");
    let problem: Value = list.json().await.unwrap();
    assert_eq!(
        problem["type"], "urn:assent:problem:overloaded",
        "{problem}"
    );
    let review = on_reserve()
        .post(app.url(&format!("/v1/approvals/{id}/reviews")))
        .bearer_auth(&app.approver)
        .json(&json!({"decision": "approve"}))
        .send()
        .await
        .unwrap();
    assert_eq!(review.status(), StatusCode::OK);
    // The review answered every long-poll.
    for poll in polls {
        let (status, _) = tokio::time::timeout(Duration::from_secs(5), poll)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(status, StatusCode::OK);
    }
}

#[backends]
async fn slow_and_idle_connections_are_closed_at_the_header_timeout(backend: Backend) {
    let app = TestApp::spawn_configured(backend, |c| {
        c.header_read_timeout = Duration::from_secs(1);
    })
    .await;
    // Slowloris: a header line every 300 ms, never the blank line.
    let (mut slow, mut slow_write) = TcpStream::connect(addr(&app)).await.unwrap().into_split();
    slow_write
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let drip = tokio::spawn(async move {
        for i in 0..20 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let line = format!("X-Slow-{i}: y\r\n");
            if slow_write.write_all(line.as_bytes()).await.is_err() {
                break;
            }
        }
        slow_write
    });
    // And a connection that sends nothing at all.
    let mut silent = TcpStream::connect(addr(&app)).await.unwrap();
    let ((_, slow_for), (_, silent_for)) = tokio::join!(
        read_until_closed(&mut slow, Duration::from_secs(3)),
        read_until_closed(&mut silent, Duration::from_secs(3)),
    );
    drip.abort();
    for took in [slow_for, silent_for] {
        assert!(
            took >= Duration::from_millis(800) && took < Duration::from_millis(2500),
            "{took:?}"
        );
    }

    // Keep-alive: after a response, the next request must come within the timeout too.
    let mut keep = TcpStream::connect(addr(&app)).await.unwrap();
    keep.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let (answered, idle_for) = read_until_closed(&mut keep, Duration::from_secs(3)).await;
    assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");
    assert!(
        idle_for >= Duration::from_millis(800) && idle_for < Duration::from_millis(2500),
        "{idle_for:?}"
    );
}

/// The raw request for creating an approval, with the given head fields
/// and the start of its body.
fn create_request(app: &TestApp, content_length: &str, body: &str) -> String {
    format!(
        "POST /v1/approvals HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {content_length}\r\n\r\n{body}",
        app.agent
    )
}

#[backends]
async fn a_stalled_body_is_cut_off_and_an_absurd_length_refused_at_once(backend: Backend) {
    let app = TestApp::spawn_configured(backend, |c| {
        c.body_read_timeout = Duration::from_secs(1);
    })
    .await;
    let events = app.event_count().await;
    let mut stalled = TcpStream::connect(addr(&app)).await.unwrap();
    stalled
        .write_all(create_request(&app, "100", "{\"").as_bytes())
        .await
        .unwrap();
    let (answer, took) = read_until_closed(&mut stalled, Duration::from_secs(4)).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(took >= Duration::from_millis(900), "{took:?}");

    let mut huge = TcpStream::connect(addr(&app)).await.unwrap();
    huge.write_all(create_request(&app, "10000000000", "{}").as_bytes())
        .await
        .unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    let n = tokio::time::timeout(Duration::from_millis(500), huge.read(&mut buf))
        .await
        .expect("answered at once")
        .unwrap();
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(started.elapsed() < Duration::from_millis(500));
    assert_eq!(app.event_count().await, events, "nothing was written");
}

#[backends]
async fn an_http_1_1_request_without_host_is_a_400_problem(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut stream = TcpStream::connect(addr(&app)).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (answer, _) = read_until_closed(&mut stream, Duration::from_secs(3)).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(answer.contains("Host"), "{answer}");
    // HTTP/1.0 has no Host requirement.
    let mut old = TcpStream::connect(addr(&app)).await.unwrap();
    old.write_all(b"GET /healthz HTTP/1.0\r\n\r\n")
        .await
        .unwrap();
    let (answer, _) = read_until_closed(&mut old, Duration::from_secs(3)).await;
    assert!(answer.starts_with("HTTP/1.0 200"), "{answer}");
}
