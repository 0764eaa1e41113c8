//! `GET /v1/ws`: JSON-RPC 2.0 over WebSocket (methods and errors in
//! docs/api.md). The bearer token is checked before upgrading (401
//! problem+json).
//!
//! Each request runs in its own task, so a long `approvals.wait` never holds
//! up the connection's other requests; replies and event notifications go
//! out through one writer. The server pings every 15 s and closes a
//! connection it has heard nothing from (not even a pong) for 45 s; it
//! closes at once (1008) when the token that opened it is revoked, and with
//! 1009 / 1007 / 1002 on a message too big, not UTF-8, or breaking the protocol.

mod methods;
mod rpc;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use assent_domain::Event;
use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio::task::{AbortHandle, JoinSet};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Authenticated, Caller};
use crate::error::{ApiError, ApiResult, Problem};
use crate::live_streams::StreamGuard;
use crate::state::AppState;
use rpc::Call;

pub const PING_EVERY: Duration = Duration::from_secs(15);
pub const SILENCE_LIMIT: Duration = Duration::from_secs(45);
/// Requests one connection may have running at once; more are refused (429).
const MAX_IN_FLIGHT: usize = 256;
/// Outgoing messages buffered before senders wait for the client.
const OUTBOUND: usize = 256;
/// "Service restart": the gateway is shutting down; reconnect.
const CLOSE_RESTART: u16 = 1012;
const CLOSE_TIMEOUT: u16 = 1001;
/// "Invalid frame payload data": a message that is not UTF-8.
const CLOSE_INVALID_DATA: u16 = 1007;
/// "Policy violation": the token that opened the connection was revoked.
const CLOSE_REVOKED: u16 = 1008;
/// "Message too big": larger than `max_body_bytes`.
const CLOSE_TOO_BIG: u16 = 1009;
/// "Protocol error": a frame that breaks the WebSocket protocol.
const CLOSE_PROTOCOL: u16 = 1002;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(websocket))
}

/// WebSocket, JSON-RPC 2.0: `approvals.create|get|list|review|cancel|wait`,
/// `events.subscribe|unsubscribe`; events arrive as `event` notifications.
/// Messages are limited like request bodies (`max_body_bytes`).
#[utoipa::path(get, path = "/v1/ws", tag = "events",
    responses(
        (status = 101, description = "switched to WebSocket"),
        (status = 400, description = "not a WebSocket upgrade", body = Problem),
        (status = 401, body = Problem),
    ))]
async fn websocket(
    State(state): State<AppState>,
    auth: Authenticated,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    let upgrade = upgrade.map_err(|e| {
        ApiError::BadRequest(format!("this endpoint needs a WebSocket upgrade: {e}"))
    })?;
    let limit = state.config.max_body_bytes;
    // Registered before the upgrade: a revocation from now on closes it.
    let guard = state.streams.register(auth.credential());
    let caller = Caller(auth.principal);
    Ok(upgrade
        .max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| serve(state, caller, guard, socket)))
}

/// One client connection: who it is, where its messages go, its subscriptions.
pub struct Connection {
    state: AppState,
    caller: Caller,
    outbound: mpsc::Sender<Message>,
    subscriptions: Mutex<HashMap<u64, AbortHandle>>,
    next_subscription: AtomicU64,
}

/// Serves one upgraded connection until it closes, goes silent, its token is
/// revoked or the gateway shuts down.
async fn serve(state: AppState, caller: Caller, guard: StreamGuard, socket: WebSocket) {
    let (mut sink, mut incoming) = socket.split();
    let (outbound, mut to_send) = mpsc::channel::<Message>(OUTBOUND);
    let writer = tokio::spawn(async move {
        while let Some(message) = to_send.recv().await {
            if sink.send(message).await.is_err() {
                return;
            }
        }
        let _ = sink.close().await;
    });
    let shutdown = state.shutdown.clone();
    let connection = Arc::new(Connection {
        state,
        caller,
        outbound: outbound.clone(),
        subscriptions: Mutex::default(),
        next_subscription: AtomicU64::new(1),
    });
    let mut requests = JoinSet::new();
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
    let mut last_heard = Instant::now();
    let revoked = guard.ended();
    tokio::pin!(revoked);
    let close = loop {
        tokio::select! {
            // First, so no message is answered once the token is revoked.
            biased;
            () = &mut revoked => break Some((CLOSE_REVOKED, "the token was revoked")),
            message = incoming.next() => {
                last_heard = Instant::now();
                let text = match message {
                    Some(Ok(Message::Text(text))) => text.as_str().to_owned(),
                    Some(Ok(Message::Binary(bytes))) => match String::from_utf8(bytes.into()) {
                        Ok(text) => text,
                        Err(_) => break Some((CLOSE_INVALID_DATA, "messages must be UTF-8 JSON")),
                    },
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Err(e)) => break read_error_close(e),
                    Some(Ok(Message::Close(_))) | None => break None,
                };
                if requests.len() >= MAX_IN_FLIGHT {
                    connection.send(&rpc::failure(Value::Null, rpc::busy(MAX_IN_FLIGHT))).await;
                    continue;
                }
                let connection = connection.clone();
                requests.spawn(async move { connection.answer(&text).await });
            }
            Some(_) = requests.join_next(), if !requests.is_empty() => {}
            _ = ping.tick() => {
                if last_heard.elapsed() > SILENCE_LIMIT {
                    break Some((CLOSE_TIMEOUT, "no answer to pings"));
                }
                let _ = outbound.send(Message::Ping(Default::default())).await;
            }
            () = shutdown.cancelled() => break Some((CLOSE_RESTART, "the gateway is shutting down; reconnect")),
        }
    };
    requests.abort_all();
    connection.unsubscribe_all();
    if let Some((code, reason)) = close {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ = outbound.send(Message::Close(Some(frame))).await;
    }
    drop((outbound, connection, guard));
    let _ = writer.await;
}

/// The close frame for a message that could not be read: too big (1009),
/// not UTF-8 (1007), other protocol errors (1002); none when the
/// connection itself failed.
fn read_error_close(error: axum::Error) -> Option<(u16, &'static str)> {
    use tungstenite::error::{CapacityError, Error};
    let error = error.into_inner().downcast::<Error>().ok()?;
    match *error {
        Error::Capacity(CapacityError::MessageTooLong { .. }) => Some((
            CLOSE_TOO_BIG,
            "message larger than the gateway's max_body_bytes",
        )),
        Error::Capacity(_) => Some((CLOSE_TOO_BIG, "message too big")),
        Error::Utf8(_) => Some((CLOSE_INVALID_DATA, "messages must be UTF-8 JSON")),
        Error::Protocol(_) => Some((CLOSE_PROTOCOL, "WebSocket protocol error")),
        _ => None,
    }
}

impl Connection {
    async fn send(&self, message: &Value) {
        let _ = self
            .outbound
            .send(Message::Text(message.to_string().into()))
            .await;
    }

    /// Answers one text message: a request, a notification or a batch.
    async fn answer(&self, text: &str) {
        let value: Value = match crate::body::parse(text.as_bytes()) {
            Ok(value) => value,
            Err(e) => return self.send(&rpc::parse_error(&e.to_string())).await,
        };
        let (reply, gates) = match value {
            Value::Array(calls) if calls.is_empty() => (Some(rpc::empty_batch()), vec![]),
            Value::Array(calls) => {
                let answered =
                    futures::future::join_all(calls.into_iter().map(|c| self.call(c))).await;
                let (replies, gates): (Vec<_>, Vec<_>) = answered.into_iter().unzip();
                let replies: Vec<Value> = replies.into_iter().flatten().collect();
                let reply = (!replies.is_empty()).then_some(Value::Array(replies));
                (reply, gates.into_iter().flatten().collect())
            }
            single => {
                let (reply, gate) = self.call(single).await;
                (reply, gate.into_iter().collect())
            }
        };
        if let Some(reply) = reply {
            self.send(&reply).await;
        }
        gates.into_iter().for_each(|gate| {
            let _ = gate.send(());
        });
    }

    /// One call; `None` reply for a notification.
    async fn call(&self, value: Value) -> (Option<Value>, Option<oneshot::Sender<()>>) {
        let call = match Call::from_value(value) {
            Ok(call) => call,
            Err((id, error)) => return (Some(rpc::failure(id, error)), None),
        };
        let Call { id, method, params } = call;
        match (self.dispatch(&method, params).await, id) {
            (Ok((result, gate)), Some(id)) => (Some(rpc::success(id, result)), gate),
            (Err(error), Some(id)) => (Some(rpc::failure(id, error)), None),
            (Ok((_, gate)), None) => (None, gate),
            (Err(_), None) => (None, None),
        }
    }

    /// Forwards a feed's events as notifications once `go` fires; returns
    /// the subscription's id.
    fn forward(&self, mut events: mpsc::Receiver<Event>, go: oneshot::Receiver<()>) -> u64 {
        let id = self.next_subscription.fetch_add(1, Ordering::Relaxed);
        let outbound = self.outbound.clone();
        let task = tokio::spawn(async move {
            if go.await.is_err() {
                return;
            }
            while let Some(event) = events.recv().await {
                let text = rpc::notification("event", &event).to_string();
                if outbound.send(Message::Text(text.into())).await.is_err() {
                    return;
                }
            }
        });
        self.subscriptions_lock().insert(id, task.abort_handle());
        id
    }

    fn unsubscribe(&self, id: u64) -> bool {
        let removed = self.subscriptions_lock().remove(&id);
        removed.map(|task| task.abort()).is_some()
    }

    fn unsubscribe_all(&self) {
        self.subscriptions_lock()
            .drain()
            .for_each(|(_, task)| task.abort());
    }

    fn subscriptions_lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, AbortHandle>> {
        self.subscriptions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}
