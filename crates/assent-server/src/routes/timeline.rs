//! `GET /v1/approvals/{id}/events`: one approval's timeline. Whoever may
//! read the approval may read its events (the audit log is for admins; this
//! is the slice of it a reviewer or the requester needs).

use assent_api::Timeline;
use axum::Json;
use axum::extract::{Path, State};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::error::{ApiResult, Problem};
use crate::operations;
use crate::params::parse_id;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(approval_events))
}

/// The events about one approval, oldest first: requested, reviewed,
/// decided, grants it left. Same access as reading the approval.
#[utoipa::path(get, path = "/v1/approvals/{id}/events", tag = "approvals",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Timeline), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn approval_events(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Timeline>> {
    let id = parse_id(&id)?;
    operations::get(&state, &caller, id).await?;
    Ok(Json(Timeline {
        items: state.store.approval_events(id).await?,
    }))
}
