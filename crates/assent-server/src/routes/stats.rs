//! `GET /v1/stats`: approval statistics for approvers and admins.

use std::time::Duration;

use assent_domain::Role;
use axum::Json;
use axum::extract::{RawQuery, State};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::query::QueryParams;
use crate::app::{AppState, now};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};
use crate::stats::{Stats, summarize};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(stats))
}

/// The window when `since` is not given.
const DEFAULT_WINDOW: Duration = Duration::from_secs(24 * 3600);
/// The longest window; an earlier `since` is clamped to it.
pub const MAX_WINDOW: Duration = Duration::from_secs(30 * 24 * 3600);
/// Most approvals read for one answer (the newest in the window).
pub const MAX_SAMPLE: u32 = 10_000;

/// Statistics of the approvals created since `since` (default: the last
/// 24 h; at most 30 days back, earlier is clamped): counts by outcome,
/// approval rate, time-to-decision p50/p90, by action and by reviewer. At
/// most the newest 10,000 approvals of the window are counted
/// (`truncated` says when there were more).
#[utoipa::path(get, path = "/v1/stats", tag = "stats",
    params(("since" = Option<String>, Query,
        description = "RFC 3339 instant, or a duration back from now (e.g. 1h, 7d); default 24h, max 30d")),
    responses((status = 200, body = Stats), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn stats(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Stats>> {
    caller.require(Role::Approver)?;
    let until = now();
    let earliest = until - MAX_WINDOW;
    let since = match QueryParams::parse(raw.as_deref(), &["since"])?.one("since")? {
        None => until - DEFAULT_WINDOW,
        Some(raw) => parse_since(raw, until)?,
    }
    .max(earliest);
    let sample = state.store.stats_sample(since, MAX_SAMPLE).await?;
    Ok(Json(summarize(sample, since, until)))
}

fn parse_since(raw: &str, now: OffsetDateTime) -> ApiResult<OffsetDateTime> {
    if let Ok(at) = OffsetDateTime::parse(raw, &Rfc3339) {
        return Ok(at);
    }
    humantime::parse_duration(raw)
        .ok()
        .map(|back| {
            time::Duration::try_from(back.min(MAX_WINDOW))
                .map_or(now - MAX_WINDOW, |back| now - back)
        })
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "since: {raw:?} is neither an RFC 3339 time nor a duration like 24h"
            ))
        })
}
