//! WebSocket JSON-RPC 2.0 (`GET /v1/ws`): auth before the upgrade, every
//! method, batches, notifications, error codes, event subscriptions and a
//! session driven by a Python `websockets` client.

use std::collections::VecDeque;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::support::{SHORT, TestApp, python_interop};
use assent_testdb::{Backend, backends};

const QUIET: Duration = Duration::from_millis(300);

/// A JSON-RPC client over one connection; notifications that arrive while
/// waiting for a reply are kept for [`Rpc::notification`].
struct Rpc {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    notifications: VecDeque<Value>,
}

fn ws_url(app: &TestApp) -> String {
    format!("{}/v1/ws", app.base.replacen("http://", "ws://", 1))
}

impl Rpc {
    async fn connect(app: &TestApp, token: &str) -> Rpc {
        let mut request = ws_url(app).into_client_request().unwrap();
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        let (socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        Rpc {
            socket,
            next_id: 1,
            notifications: VecDeque::new(),
        }
    }

    async fn send(&mut self, message: &Value) {
        self.send_text(&message.to_string()).await;
    }

    async fn send_text(&mut self, text: &str) {
        self.socket
            .send(Message::text(text.to_owned()))
            .await
            .unwrap();
    }

    /// The next JSON message, or None if none comes within `within`.
    async fn receive(&mut self, within: Duration) -> Option<Value> {
        loop {
            match tokio::time::timeout(within, self.socket.next()).await {
                Ok(Some(Ok(Message::Text(text)))) => {
                    return Some(serde_json::from_str(text.as_str()).unwrap());
                }
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
                _ => return None,
            }
        }
    }

    /// The next message that is not an event notification.
    async fn reply(&mut self) -> Value {
        loop {
            let message = self.receive(SHORT).await.expect("a reply");
            if message["method"] == "event" {
                self.notifications.push_back(message);
            } else {
                return message;
            }
        }
    }

    /// Calls `method` and returns the whole response object.
    async fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
        let reply = self.reply().await;
        assert_eq!(reply["id"], id, "{reply}");
        assert_eq!(reply["jsonrpc"], "2.0", "{reply}");
        reply
    }

    /// Calls `method` and returns its result, failing on an error.
    async fn call(&mut self, method: &str, params: Value) -> Value {
        let reply = self.request(method, params).await;
        assert!(reply.get("error").is_none(), "{method}: {reply}");
        reply["result"].clone()
    }

    /// Calls `method` and returns its error object.
    async fn error(&mut self, method: &str, params: Value) -> Value {
        let reply = self.request(method, params).await;
        assert!(reply.get("result").is_none(), "{method}: {reply}");
        reply["error"].clone()
    }

    /// The next event notification's event, or None within `within`.
    async fn notification(&mut self, within: Duration) -> Option<Value> {
        if let Some(n) = self.notifications.pop_front() {
            return Some(n["params"].clone());
        }
        let message = self.receive(within).await?;
        assert_eq!(message["method"], "event", "{message}");
        assert!(message.get("id").is_none(), "{message}");
        Some(message["params"].clone())
    }

    async fn events(&mut self, n: usize) -> Vec<Value> {
        let mut got = Vec::new();
        while got.len() < n {
            match self.notification(Duration::from_secs(5)).await {
                Some(event) => got.push(event),
                None => panic!("expected {n} events, got {}: {got:?}", got.len()),
            }
        }
        got
    }
}

#[backends]
async fn the_upgrade_needs_a_valid_bearer_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for header in [None, Some("Bearer assent_not-a-token")] {
        let mut request = ws_url(&app).into_client_request().unwrap();
        if let Some(h) = header {
            request
                .headers_mut()
                .insert("authorization", h.parse().unwrap());
        }
        match tokio_tungstenite::connect_async(request).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), 401);
                assert_eq!(
                    response.headers()["content-type"],
                    "application/problem+json"
                );
            }
            other => panic!("expected 401, got {other:?}"),
        }
    }
    let (status, problem) = app
        .call(reqwest::Method::GET, "/v1/ws", &app.agent, None)
        .await;
    assert_eq!(status, 400, "a plain GET is not an upgrade: {problem}");
}

#[backends]
async fn every_approval_method_works_over_one_connection(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut agent = Rpc::connect(&app, &app.agent).await;
    let mut approver = Rpc::connect(&app, &app.approver).await;

    let created = agent
        .call(
            "approvals.create",
            json!({"action": "deploy", "args": {"env": "prod"}}),
        )
        .await;
    assert_eq!(created["status"], "pending");
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(
        agent.call("approvals.get", json!({"id": id})).await["id"],
        id.as_str()
    );

    let listed = approver
        .call("approvals.list", json!({"status": "pending", "limit": 10}))
        .await;
    assert_eq!(listed["items"][0]["id"], id.as_str());
    assert_eq!(listed["next_cursor"], Value::Null);

    let reviewed = approver
        .call(
            "approvals.review",
            json!({"id": id, "decision": "approve", "reason": "fine"}),
        )
        .await;
    assert_eq!(reviewed["status"], "approved");
    // Already decided: wait answers at once.
    let waited = agent
        .call("approvals.wait", json!({"id": id, "wait": "5s"}))
        .await;
    assert_eq!(waited["status"], "approved");

    let second = agent
        .call("approvals.create", json!({"action": "deploy"}))
        .await;
    let cancelled = agent
        .call(
            "approvals.cancel",
            json!({"id": second["id"], "reason": "not needed"}),
        )
        .await;
    assert_eq!(cancelled["status"], "cancelled");
    let own = agent.call("approvals.list", json!({})).await;
    assert_eq!(own["items"].as_array().unwrap().len(), 2);
}

#[backends]
async fn a_wait_is_answered_when_another_connection_approves_and_blocks_nothing_else(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let mut agent = Rpc::connect(&app, &app.agent).await;
    let mut approver = Rpc::connect(&app, &app.approver).await;
    let id = app.create_id(&app.agent, json!({"action": "deploy"})).await;

    agent
        .send(&json!({"jsonrpc": "2.0", "id": "w", "method": "approvals.wait", "params": {"id": id, "wait": 30}}))
        .await;
    // The wait is still open, yet the next request on the connection is answered.
    let got = agent.call("approvals.get", json!({"id": id})).await;
    assert_eq!(got["status"], "pending");

    approver
        .call("approvals.review", json!({"id": id, "decision": "approve"}))
        .await;
    let woken = agent.reply().await;
    assert_eq!(woken["id"], "w", "{woken}");
    assert_eq!(woken["result"]["status"], "approved");
}

#[backends]
async fn batches_answer_every_call_but_notifications(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut agent = Rpc::connect(&app, &app.agent).await;
    let id = app.create_id(&app.agent, json!({"action": "deploy"})).await;
    let before = app.event_count().await;
    agent
        .send(&json!([
            {"jsonrpc": "2.0", "id": 1, "method": "approvals.get", "params": {"id": id}},
            {"jsonrpc": "2.0", "id": 2, "method": "approvals.nope"},
            {"jsonrpc": "2.0", "method": "approvals.create", "params": {"action": "notified"}},
            {"jsonrpc": "2.0", "id": 3},
        ]))
        .await;
    let replies = agent.reply().await;
    let replies = replies.as_array().expect("a batch gets an array");
    assert_eq!(replies.len(), 3, "{replies:?}");
    assert_eq!(replies[0]["result"]["id"], id.as_str());
    assert_eq!(replies[1]["error"]["code"], -32601);
    assert_eq!(replies[2]["error"]["code"], -32600);
    assert_eq!(replies[2]["id"], 3);
    // The notification ran, silently.
    assert_eq!(app.event_count().await, before + 1);

    agent.send_text("[]").await;
    let empty = agent.reply().await;
    assert_eq!(empty["error"]["code"], -32600, "{empty}");
    assert_eq!(empty["id"], Value::Null);

    agent
        .send(&json!([{"jsonrpc": "2.0", "method": "approvals.get", "params": {"id": id}}]))
        .await;
    assert!(
        agent.receive(QUIET).await.is_none(),
        "a batch of notifications gets no reply"
    );
}

#[backends]
async fn every_error_code_and_the_http_status_in_error_data(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut agent = Rpc::connect(&app, &app.agent).await;

    agent.send_text("{\"jsonrpc\": \"2.0\", ").await;
    let parse = agent.reply().await;
    assert_eq!(
        (parse["error"]["code"].clone(), parse["id"].clone()),
        (json!(-32700), Value::Null)
    );

    for bad in [
        json!(42),
        json!({"jsonrpc": "1.0", "id": 1, "method": "approvals.get"}),
        json!({"jsonrpc": "2.0", "id": 1, "method": 7}),
        json!({"jsonrpc": "2.0", "id": {"no": 1}, "method": "approvals.get"}),
    ] {
        agent.send(&bad).await;
        let reply = agent.reply().await;
        assert_eq!(reply["error"]["code"], -32600, "{bad}: {reply}");
    }

    let missing = agent.error("approvals.frobnicate", json!({})).await;
    assert_eq!(missing["code"], -32601);

    for (method, params, field) in [
        ("approvals.get", json!({"id": "nope"}), "id"),
        ("approvals.get", json!({}), "params"),
        (
            "approvals.create",
            json!({"action": "bad action!"}),
            "action",
        ),
        (
            "approvals.create",
            json!({"action": "x", "risk": "huge"}),
            "risk",
        ),
        ("approvals.list", json!({"limit": 0}), "limit"),
        ("approvals.list", json!({"status": "maybe"}), "status"),
        (
            "approvals.wait",
            json!({"id": uuid(), "wait": "soon"}),
            "wait",
        ),
        ("events.subscribe", json!({"after": -1}), "after"),
        (
            "events.subscribe",
            json!({"types": ["approval.nope"]}),
            "types",
        ),
    ] {
        let error = agent.error(method, params.clone()).await;
        assert_eq!(error["code"], -32602, "{method} {params}: {error}");
        assert!(
            error["message"].as_str().unwrap().starts_with(field),
            "{method} {params}: {error}"
        );
        assert_eq!(error["data"]["status"], 400, "{error}");
    }

    let id = app.create_id(&app.agent, json!({"action": "deploy"})).await;
    let forbidden = agent
        .error("approvals.review", json!({"id": id, "decision": "approve"}))
        .await;
    assert_eq!(forbidden["code"], -32000);
    assert_eq!(forbidden["data"]["status"], 403, "{forbidden}");
    assert_eq!(forbidden["data"]["type"], "urn:assent:problem:forbidden");

    let unknown = agent.error("approvals.get", json!({"id": uuid()})).await;
    assert_eq!(unknown["data"]["status"], 404, "{unknown}");
    // Another agent's approval is 404 too, as over HTTP.
    let mut other = Rpc::connect(&app, &app.other_agent).await;
    let hidden = other.error("approvals.get", json!({"id": id})).await;
    assert_eq!(hidden["data"]["status"], 404, "{hidden}");
}

fn uuid() -> String {
    "0192f5c4-6f7a-7d3c-9a51-3c1f2b8e4d10".into()
}

#[backends]
async fn subscribe_after_sends_history_then_live_events_in_order_without_duplicates(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let id = app.create_id(&app.agent, json!({"action": "deploy"})).await;
    let before = app.event_count().await;
    let mut approver = Rpc::connect(&app, &app.approver).await;
    approver
        .send(&json!({"jsonrpc": "2.0", "id": "s", "method": "events.subscribe", "params": {"after": 0}}))
        .await;
    let first = approver.receive(SHORT).await.unwrap();
    assert_eq!(
        first["id"], "s",
        "the reply comes before any event: {first}"
    );
    let subscribed = first["result"].clone();
    assert!(subscribed["subscription"].is_u64(), "{subscribed}");
    let history = approver.events(before).await;
    app.review(&app.approver, &id, "approve").await;
    let live = approver.events(2).await;
    let seqs: Vec<i64> = history
        .iter()
        .chain(&live)
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=before as i64 + 2).collect::<Vec<_>>());
    assert_eq!(
        (live[0]["type"].as_str(), live[1]["type"].as_str()),
        (Some("approval.reviewed"), Some("approval.approved"))
    );
    assert!(
        approver.notification(QUIET).await.is_none(),
        "no duplicates"
    );

    let done = approver
        .call(
            "events.unsubscribe",
            json!({"subscription": subscribed["subscription"]}),
        )
        .await;
    assert_eq!(done["unsubscribed"], true);
    app.create(&app.agent, json!({"action": "after-unsubscribe"}))
        .await;
    assert!(approver.notification(QUIET).await.is_none());
}

#[backends]
async fn an_agents_subscription_sees_only_its_own_approvals(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut agent = Rpc::connect(&app, &app.agent).await;
    agent
        .call(
            "events.subscribe",
            json!({"after": 0, "types": ["approval.requested", "approval.rejected"]}),
        )
        .await;
    let theirs = app
        .create_id(&app.other_agent, json!({"action": "theirs"}))
        .await;
    let mine = app.create_id(&app.agent, json!({"action": "mine"})).await;
    app.review(&app.approver, &theirs, "reject").await;
    app.review(&app.approver, &mine, "reject").await;
    let events = agent.events(2).await;
    assert!(
        events.iter().all(|e| e["approval_id"] == mine.as_str()),
        "{events:?}"
    );
    assert_eq!(
        events
            .iter()
            .map(|e| e["type"].as_str())
            .collect::<Vec<_>>(),
        [Some("approval.requested"), Some("approval.rejected")]
    );
    assert!(agent.notification(QUIET).await.is_none());
}

#[backends]
async fn a_python_websockets_client_runs_a_json_rpc_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let Some(output) = python_interop(
        "ws_session.py",
        &["websockets"],
        &[&ws_url(&app), &app.agent, &app.approver],
    )
    .await
    else {
        return;
    };
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let session: Value = serde_json::from_slice(&output.stdout).unwrap();
    let id = session["created"].as_str().unwrap();
    assert_eq!(session["reviewed"], "approved", "{session}");
    assert_eq!(
        session["events"],
        json!([
            "approval.requested",
            "approval.reviewed",
            "approval.approved"
        ]),
        "{session}"
    );
    assert!(
        session["approval_ids"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a == id),
        "{session}"
    );
    let (_, stored) = app.get(&app.agent, id).await;
    assert_eq!(stored["status"], "approved");
}

#[backends]
async fn a_message_over_the_body_limit_ends_the_connection(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut agent = Rpc::connect(&app, &app.agent).await;
    let big = "x".repeat(300 * 1024);
    let request = json!({"jsonrpc": "2.0", "id": 1, "method": "approvals.create",
        "params": {"action": "deploy", "summary": big}});
    let _ = agent.socket.send(Message::text(request.to_string())).await;
    let ended = loop {
        match tokio::time::timeout(SHORT, agent.socket.next()).await {
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            Ok(Some(Ok(Message::Close(_)) | Err(_)) | None) => break true,
            Ok(Some(Ok(other))) => panic!("expected the connection to end, got {other:?}"),
            Err(_) => break false,
        }
    };
    assert!(ended, "the connection stayed open");
    let (_, listed) = app
        .call(reqwest::Method::GET, "/v1/approvals", &app.agent, None)
        .await;
    assert_eq!(listed["items"], json!([]), "nothing was created");
}

/// The first close frame the server sends, within `SHORT`.
async fn close_code(rpc: &mut Rpc) -> Option<u16> {
    tokio::time::timeout(SHORT, async {
        while let Some(Ok(message)) = rpc.socket.next().await {
            if let Message::Close(frame) = message {
                return frame.map(|f| u16::from(f.code));
            }
        }
        None
    })
    .await
    .expect("the connection was closed")
}

#[backends]
async fn oversized_and_non_utf8_messages_close_with_1009_and_1007(backend: Backend) {
    let app = TestApp::spawn_configured(backend, |c| c.max_body_bytes = 4096).await;
    let mut big = Rpc::connect(&app, &app.agent).await;
    let _ = big.socket.send(Message::text("x".repeat(8192))).await;
    assert_eq!(close_code(&mut big).await, Some(1009));

    let mut binary = Rpc::connect(&app, &app.agent).await;
    let _ = binary
        .socket
        .send(Message::binary(vec![0xff, 0xfe, b'{', b'}']))
        .await;
    assert_eq!(close_code(&mut binary).await, Some(1007));
}
