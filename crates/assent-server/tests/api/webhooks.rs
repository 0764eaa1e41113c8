//! Webhooks against real HTTP receivers on port 0: delivery despite
//! failures and restarts, the events filter, giving up, and the Standard
//! Webhooks reference library verifying our signatures.

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assent_server::Config;
use assent_server::webhooks::{SigningKey, WebhookConfig, WebhookSecret, resolve_all};
use assent_store::webhooks::{DeliveryRecord, DeliveryStatus};
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::support::{TestApp, python_interop};
use assent_testdb::{Backend, backends};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// How long a test waits for deliveries to settle.
const SETTLE: Duration = Duration::from_secs(20);

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
struct Request {
    headers: HashMap<String, String>,
    body: String,
    answered: StatusCode,
}

impl Request {
    fn id(&self) -> &str {
        &self.headers["webhook-id"]
    }

    fn event(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// A receiver that answers 503 to its first `failures` requests, then 200
/// (after `delay`), and remembers every request.
#[derive(Clone)]
struct Receiver {
    url: String,
    failures_left: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<Request>>>,
}

impl Receiver {
    async fn start(failures: usize) -> Receiver {
        Receiver::serve(
            TcpListener::bind("127.0.0.1:0").await.unwrap(),
            failures,
            Duration::ZERO,
        )
    }

    fn serve(listener: TcpListener, failures: usize, delay: Duration) -> Receiver {
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let receiver = Receiver {
            url,
            failures_left: Arc::new(AtomicUsize::new(failures)),
            seen: Arc::default(),
        };
        let state = receiver.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let state = state.clone();
                async move {
                    tokio::time::sleep(delay).await;
                    let failing = state
                        .failures_left
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok();
                    let answered = if failing {
                        StatusCode::SERVICE_UNAVAILABLE
                    } else {
                        StatusCode::OK
                    };
                    state.seen.lock().unwrap().push(Request {
                        headers: headers
                            .iter()
                            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
                            .collect(),
                        body: String::from_utf8(body.to_vec()).unwrap(),
                        answered,
                    });
                    answered
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        receiver
    }

    fn requests(&self) -> Vec<Request> {
        self.seen.lock().unwrap().clone()
    }

    fn delivered(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.answered == StatusCode::OK)
            .collect()
    }
}

fn hook(url: &str, events: Option<&[&str]>) -> WebhookConfig {
    WebhookConfig {
        url: url.into(),
        secret: WebhookSecret::new(SECRET),
        events: events.map(|e| e.iter().map(|s| s.to_string()).collect()),
    }
}

/// Fast retries so the tests take seconds, not hours.
fn fast(config: &mut Config, hooks: Vec<WebhookConfig>) {
    config.webhooks = hooks;
    config.webhook_retry_base = Duration::from_millis(50);
    config.webhook_timeout = Duration::from_millis(500);
}

fn webhook_id(config: &WebhookConfig) -> String {
    resolve_all(std::slice::from_ref(config)).unwrap()[0]
        .id
        .clone()
}

async fn deliveries(app: &TestApp) -> Vec<DeliveryRecord> {
    let store = app.server.as_ref().unwrap().store();
    store.webhook_deliveries(0, 10_000).await.unwrap()
}

/// Waits until every outbox row satisfies `done`, and returns the rows.
async fn settled(app: &TestApp, done: impl Fn(&DeliveryRecord) -> bool) -> Vec<DeliveryRecord> {
    let started = Instant::now();
    loop {
        let rows = deliveries(app).await;
        if !rows.is_empty() && rows.iter().all(&done) {
            return rows;
        }
        assert!(
            started.elapsed() < SETTLE,
            "outbox did not settle: {rows:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn some_activity(app: &TestApp) {
    let id = app.create_id(&app.agent, json!({"action": "deploy"})).await;
    app.review(&app.approver, &id, "approve").await;
    app.create_id(&app.agent, json!({"action": "shell"})).await;
}

/// Asserts each event in the log reached `receiver` exactly as logged,
/// under one stable `webhook-id` per event.
async fn assert_all_delivered(app: &TestApp, receiver: &Receiver) {
    let logged: BTreeSet<i64> = app
        .events()
        .await
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    let delivered = receiver.delivered();
    let seqs: BTreeSet<i64> = delivered
        .iter()
        .map(|r| r.event()["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, logged, "every event delivered");
    let ids: BTreeSet<&str> = delivered.iter().map(Request::id).collect();
    assert_eq!(ids.len(), logged.len(), "one webhook-id per event");
    for request in receiver.requests() {
        let seq = request.event()["seq"].as_i64().unwrap();
        let first = delivered
            .iter()
            .find(|d| d.event()["seq"].as_i64() == Some(seq))
            .unwrap();
        assert_eq!(request.id(), first.id(), "retries keep the webhook-id");
    }
}

#[backends]
async fn every_event_arrives_although_the_receiver_fails_at_first(backend: Backend) {
    let receiver = Receiver::start(5).await;
    let url = receiver.url.clone();
    let app = TestApp::spawn_configured(backend, move |c| fast(c, vec![hook(&url, None)])).await;
    some_activity(&app).await;

    let rows = settled(&app, |d| d.status == DeliveryStatus::Delivered).await;
    assert_all_delivered(&app, &receiver).await;
    let requests = receiver.requests();
    assert_eq!(
        requests.len() as i64,
        rows.iter().map(|d| d.attempts).sum::<i64>(),
        "the outbox counts every attempt the receiver saw"
    );
    assert!(
        rows.iter().any(|d| d.attempts > 1),
        "the 503s were retried: {rows:#?}"
    );
    let audit = app.events().await;
    for request in receiver.delivered() {
        let mut event = request.event();
        // Events about an approval also carry its console link.
        event.as_object_mut().unwrap().remove("console_url");
        let logged = audit.iter().find(|e| e["seq"] == event["seq"]).unwrap();
        assert_eq!(&event, logged, "the body is the event as logged");
        assert_eq!(request.headers["content-type"], "application/json");
        let timestamp: i64 = request.headers["webhook-timestamp"].parse().unwrap();
        let key = SigningKey::from_secret(SECRET).unwrap();
        assert_eq!(
            request.headers["webhook-signature"],
            key.sign(request.id(), timestamp, request.body.as_bytes())
        );
    }
}

#[backends]
async fn deliveries_pending_across_a_restart_arrive_once_the_receiver_is_up(backend: Backend) {
    // A port nobody listens on yet: every attempt is refused.
    let parked = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr: SocketAddr = parked.local_addr().unwrap();
    drop(parked);
    let url = format!("http://{addr}/hook");
    let hooked = url.clone();
    let mut app =
        TestApp::spawn_configured(backend, move |c| fast(c, vec![hook(&hooked, None)])).await;
    some_activity(&app).await;
    settled(&app, |d| {
        d.attempts >= 1 && d.status == DeliveryStatus::Pending
    })
    .await;

    app.restart().await;
    let later = app.create_id(&app.agent, json!({"action": "deploy"})).await;
    app.review(&app.approver, &later, "reject").await;
    let receiver = Receiver::serve(TcpListener::bind(addr).await.unwrap(), 0, Duration::ZERO);
    assert_eq!(receiver.url, url);

    settled(&app, |d| d.status == DeliveryStatus::Delivered).await;
    assert_all_delivered(&app, &receiver).await;
}

#[backends]
async fn the_filter_is_honoured_and_a_dead_receiver_ends_failed(backend: Backend) {
    let approvals = Receiver::start(0).await;
    // Answers nothing before the request timeout, every time.
    let dead = Receiver::serve(
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        0,
        Duration::from_secs(30),
    );
    let filtered = hook(&approvals.url, Some(&["approval.approved"]));
    let unanswered = hook(&dead.url, None);
    let (filtered_id, dead_id) = (webhook_id(&filtered), webhook_id(&unanswered));
    let app = TestApp::spawn_configured(backend, move |c| {
        fast(c, vec![filtered.clone(), unanswered.clone()]);
        c.webhook_timeout = Duration::from_millis(200);
        c.webhook_retry_for = Duration::from_secs(2);
    })
    .await;

    let started = Instant::now();
    some_activity(&app).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "requests never wait on a receiver"
    );

    let rows = settled(&app, |d| d.status != DeliveryStatus::Pending).await;
    let approved: Vec<&DeliveryRecord> = rows
        .iter()
        .filter(|d| d.webhook_id == filtered_id)
        .collect();
    assert_eq!(approved.len(), 1, "one approval.approved: {rows:#?}");
    assert_eq!(approved[0].status, DeliveryStatus::Delivered);
    let delivered = approvals.delivered();
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].event()["type"], "approval.approved");

    let failed: Vec<&DeliveryRecord> = rows.iter().filter(|d| d.webhook_id == dead_id).collect();
    assert_eq!(
        failed.len(),
        app.event_count().await,
        "every event for the unfiltered hook"
    );
    for row in failed {
        assert_eq!(row.status, DeliveryStatus::Failed, "{row:#?}");
        assert!(row.attempts >= 2, "retried before giving up: {row:#?}");
        assert!(row.last_error.is_some(), "{row:#?}");
    }
}

#[backends]
async fn the_standard_webhooks_library_verifies_our_signature(backend: Backend) {
    let receiver = Receiver::start(0).await;
    let url = receiver.url.clone();
    let app = TestApp::spawn_configured(backend, move |c| fast(c, vec![hook(&url, None)])).await;
    settled(&app, |d| d.status == DeliveryStatus::Delivered).await;
    let request = receiver.delivered().remove(0);

    let old = time::OffsetDateTime::now_utc().unix_timestamp() - 600;
    let key = SigningKey::from_secret(SECRET).unwrap();
    let capture = json!({
        "headers": request.headers,
        "body": request.body,
        "old": {
            "timestamp": old.to_string(),
            "signature": key.sign(request.id(), old, request.body.as_bytes()),
        },
    });
    let path = app.dir.path().join("delivery.json");
    std::fs::write(&path, capture.to_string()).unwrap();
    let Some(output) = python_interop(
        "verify_webhook.py",
        &["standardwebhooks"],
        &[SECRET, path.to_str().unwrap()],
    )
    .await
    else {
        return;
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let event = request.event();
    let expected = format!(
        "verified: seq={} type={}",
        event["seq"],
        event["type"].as_str().unwrap()
    );
    assert!(stdout.contains(&expected), "{stdout}");
    assert!(
        stdout.contains("tampered body: rejected: No matching signature found"),
        "{stdout}"
    );
    assert!(
        stdout.contains("old timestamp: rejected: Message timestamp too old"),
        "{stdout}"
    );
}

#[backends]
async fn payloads_link_to_the_console_page_of_their_approval(backend: Backend) {
    let receiver = Receiver::start(0).await;
    let url = receiver.url.clone();
    let app = TestApp::spawn_configured(backend, move |c| {
        fast(c, vec![hook(&url, None)]);
        c.public_url = Some("https://assent.example.com/".into());
    })
    .await;
    let id = app.create_id(&app.agent, json!({"action": "deploy"})).await;
    settled(&app, |d| d.status == DeliveryStatus::Delivered).await;

    let logged = app.events().await;
    for request in receiver.delivered() {
        let mut body = request.event();
        let link = body
            .as_object_mut()
            .unwrap()
            .remove("console_url")
            .map(|v| v.as_str().unwrap().to_owned());
        let logged = logged.iter().find(|e| e["seq"] == body["seq"]).unwrap();
        assert_eq!(&body, logged, "the event's own fields are unchanged");
        match body["approval_id"].as_str() {
            Some(approval) => {
                assert_eq!(approval, id);
                assert_eq!(
                    link.as_deref(),
                    Some(format!("https://assent.example.com/#/approvals/{id}").as_str())
                );
            }
            None => assert_eq!(link, None, "no link on {body}"),
        }
    }
    assert!(
        receiver
            .delivered()
            .iter()
            .any(|r| r.event()["type"] == "approval.requested"),
        "the approval's event was delivered"
    );
}
