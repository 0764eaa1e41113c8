//! `GET /v1/events`: the event log as Server-Sent Events, history then live.
//!
//! The stream subscribes to commit notices *before* reading history, so
//! nothing committed in between is missed; seqs already sent are skipped.
//! A consumer that falls behind the notices (or sees a gap) goes back to
//! reading the store from its last seq, so it never blocks the gateway and
//! never loses an event. Agents see only events about their own approvals.

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration;

use assent_domain::{Event, EventType, Principal};
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::sse::{self, KeepAlive, Sse};
use futures::Stream;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::query::QueryParams;
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(events))
}

const HEARTBEAT: Duration = Duration::from_secs(15);
/// Events read from the store per page while catching up.
const PAGE: u32 = 500;
/// Events buffered per stream before the reader waits for the client.
const BUFFER: usize = 256;

/// Which events a stream sends, and from where.
struct Subscription {
    after: Option<i64>,
    types: Option<Vec<EventType>>,
    viewer: Principal,
}

/// Server-Sent Events: `id:` is the event's `seq`, `event:` its type, `data:`
/// the event. Resume with `Last-Event-ID` or `?after=SEQ`; without either the
/// stream starts with the next event. `?types=a,b` filters. A comment every 15 s
/// keeps the connection alive.
#[utoipa::path(get, path = "/v1/events", tag = "events",
    params(
        ("after" = Option<i64>, Query, description = "send events after this seq"),
        ("types" = Option<String>, Query, description = "comma-separated event types"),
        ("Last-Event-ID" = Option<i64>, Header, description = "wins over ?after"),
    ),
    responses((status = 200, content_type = "text/event-stream", description = "event stream"), (status = 400, body = Problem)))]
async fn events(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> ApiResult<Sse<impl Stream<Item = Result<sse::Event, Infallible>>>> {
    let q = QueryParams::parse(raw.as_deref(), &["after", "types"])?;
    let seq = |field: &str, v: &str| {
        v.trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "{field}: must be an event seq (a whole number ≥ 0)"
                ))
            })
    };
    let last_event_id = headers
        .get("last-event-id")
        .map(|v| v.to_str().unwrap_or_default().to_owned());
    let after = match (last_event_id, q.one("after")?) {
        (Some(id), _) => Some(seq("Last-Event-ID", &id)?),
        (None, Some(after)) => Some(seq("after", after)?),
        (None, None) => None,
    };
    let types = q
        .one("types")?
        .map(|list| {
            list.split(',')
                .map(|t| {
                    EventType::parse(t.trim()).ok_or_else(|| {
                        ApiError::BadRequest(format!("types: unknown event type {t:?}"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let (tx, rx) = mpsc::channel(BUFFER);
    tokio::spawn(feed(
        state,
        Subscription {
            after,
            types,
            viewer: caller.0,
        },
        tx,
    ));
    let stream = ReceiverStream::new(rx).map(|event: Event| {
        let frame = sse::Event::default()
            .id(event.seq.to_string())
            .event(event.kind.as_str());
        Ok(frame
            .json_data(&event)
            .unwrap_or_else(|_| sse::Event::default().comment("unencodable event")))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(HEARTBEAT)))
}

/// Whether the viewer may see an event: agents only those about approvals
/// they requested (remembered per approval for the stream's life).
struct Visibility {
    viewer: Principal,
    owned: HashMap<Uuid, bool>,
}

impl Visibility {
    async fn allows(&mut self, state: &AppState, event: &Event) -> bool {
        if self.viewer.sees_all_approvals() {
            return true;
        }
        let Some(id) = event.approval_id else {
            return false;
        };
        if let Some(owned) = self.owned.get(&id) {
            return *owned;
        }
        let owned = match event.data["approval"]["requester"].as_str() {
            Some(requester) => requester == self.viewer.name,
            None => {
                matches!(state.store.get_approval(id).await, Ok(Some(a)) if a.requester == self.viewer.name)
            }
        };
        self.owned.insert(id, owned);
        owned
    }
}

/// Sends history after the starting point, then live events, until the
/// client goes away or the gateway shuts down.
async fn feed(state: AppState, sub: Subscription, tx: mpsc::Sender<Event>) {
    let mut notices = state.store.subscribe();
    let mut visibility = Visibility {
        viewer: sub.viewer,
        owned: HashMap::new(),
    };
    let wanted = |e: &Event| sub.types.as_ref().is_none_or(|t| t.contains(&e.kind));
    // `None` until the first live event tells us where "now" is.
    let mut last = sub.after;
    loop {
        if let Some(from) = last {
            match catch_up(&state, from, &tx, &mut visibility, &wanted).await {
                Some(seq) => last = Some(seq),
                None => return,
            }
        }
        loop {
            let committed = tokio::select! {
                notice = notices.recv() => notice,
                () = state.shutdown.cancelled() => return,
                () = tx.closed() => return,
            };
            match committed {
                Ok(committed) => {
                    let mut gap = false;
                    for event in &committed.events {
                        let expected = last.map_or(event.seq, |l| l + 1);
                        if event.seq < expected {
                            continue;
                        }
                        if event.seq > expected {
                            gap = true;
                            break;
                        }
                        last = Some(event.seq);
                        if wanted(event)
                            && visibility.allows(&state, event).await
                            && tx.send(event.clone()).await.is_err()
                        {
                            return;
                        }
                    }
                    if gap {
                        break;
                    }
                }
                Err(RecvError::Lagged(_)) if last.is_some() => break,
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            }
        }
    }
}

/// Sends stored events after `from`; returns the last seq read, or `None`
/// when the stream should end.
async fn catch_up(
    state: &AppState,
    from: i64,
    tx: &mpsc::Sender<Event>,
    visibility: &mut Visibility,
    wanted: &impl Fn(&Event) -> bool,
) -> Option<i64> {
    let mut last = from;
    loop {
        let page = match state.store.events_after(last, PAGE).await {
            Ok(page) => page,
            Err(e) => {
                tracing::warn!(error = %e, "event stream could not read the store; closing it");
                return None;
            }
        };
        for event in &page {
            last = event.seq;
            if wanted(event)
                && visibility.allows(state, event).await
                && tx.send(event.clone()).await.is_err()
            {
                return None;
            }
        }
        if page.len() < PAGE as usize {
            return Some(last);
        }
    }
}
