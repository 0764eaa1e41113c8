//! `GET /v1/events`: the event log as Server-Sent Events, history then live;
//! the feed itself is [`crate::event_stream`], shared with WebSocket subscriptions.

use std::convert::Infallible;
use std::time::Duration;

use assent_domain::Event;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::sse::{self, KeepAlive, Sse};
use futures::Stream;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authenticated;
use crate::error::{ApiResult, Problem};
use crate::event_stream::{self, Subscription};
use crate::params::{QueryParams, check_seq, parse_event_type};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(events))
}

const HEARTBEAT: Duration = Duration::from_secs(15);

/// Server-Sent Events: `id:` is the event's `seq`, `event:` its type, `data:`
/// the event. Resume with `Last-Event-ID` or `?after=SEQ`; without either the
/// stream starts with the next event. `?types=a,b` filters. A comment every 15 s
/// keeps the connection alive. The stream ends when its token is revoked or
/// its console session ends.
#[utoipa::path(get, path = "/v1/events", tag = "events",
    params(
        ("after" = Option<i64>, Query, description = "send events after this seq"),
        ("types" = Option<String>, Query, description = "comma-separated event types"),
        ("Last-Event-ID" = Option<i64>, Header, description = "wins over ?after"),
    ),
    responses((status = 200, content_type = "text/event-stream", description = "event stream"), (status = 400, body = Problem)))]
async fn events(
    State(state): State<AppState>,
    auth: Authenticated,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> ApiResult<Sse<impl Stream<Item = Result<sse::Event, Infallible>>>> {
    let q = QueryParams::parse(raw.as_deref(), &["after", "types"])?;
    let seq = |field: &str, v: &str| {
        let parsed = v.trim().parse::<i64>().unwrap_or(-1);
        check_seq(field, parsed)
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
        .map(|list| list.split(',').map(parse_event_type).collect())
        .transpose()?;
    // Ends the stream when the token is revoked or the console session ends.
    let guard = state.streams.register(auth.credential());
    let ended = guard.ended();
    let rx = event_stream::start(
        state,
        Subscription {
            after,
            types,
            viewer: auth.principal,
        },
    );
    let live = futures::StreamExt::take_until(ReceiverStream::new(rx), ended);
    let stream = live.map(move |event: Event| {
        let _registered = &guard;
        let frame = sse::Event::default()
            .id(event.seq.to_string())
            .event(event.kind.as_str());
        Ok(frame
            .json_data(&event)
            .unwrap_or_else(|_| sse::Event::default().comment("unencodable event")))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(HEARTBEAT)))
}
