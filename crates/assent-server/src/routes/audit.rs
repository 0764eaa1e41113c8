//! `/v1/audit`: the hash-chained event log, in `seq` order (admin).

use assent_domain::{Event, Role};
use axum::Json;
use axum::extract::{RawQuery, State};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::query::QueryParams;
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(audit))
}

const DEFAULT_PAGE: u32 = 100;
const MAX_PAGE: u32 = 10_000;

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditPage {
    pub items: Vec<Event>,
    /// Pass as `after` for the next page; null when this page reached the end.
    pub next_after: Option<i64>,
}

/// Events after `after`, each with `prev_hash` and `hash`.
#[utoipa::path(get, path = "/v1/audit", tag = "audit",
    params(("after" = Option<i64>, Query), ("limit" = Option<u32>, Query, description = "default 100, max 10000 (clamped)")),
    responses((status = 200, body = AuditPage), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn audit(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<AuditPage>> {
    caller.require(Role::Admin)?;
    let q = QueryParams::parse(raw.as_deref(), &["after", "limit"])?;
    let after = match q.one("after")? {
        None => 0,
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| ApiError::BadRequest("after: must be a whole number ≥ 0".into()))?,
    };
    let limit = q.limit("limit", DEFAULT_PAGE, MAX_PAGE)?;
    let items = state.store.events_after(after, limit).await?;
    let next_after = (items.len() == limit as usize)
        .then(|| items.last().map(|e| e.seq))
        .flatten();
    Ok(Json(AuditPage { items, next_after }))
}
