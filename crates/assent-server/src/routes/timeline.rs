//! `GET /v1/approvals/{id}/events`: one approval's timeline. Whoever may
//! read the approval may read its events (the audit log is for admins; this
//! is the slice of it a reviewer or the requester needs).

use assent_domain::Event;
use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::error::Problem;
use crate::operations::{self, parse_id};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(approval_events))
}

/// The events of one approval.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct Timeline {
    /// In `seq` order, each as `GET /v1/audit` shows it.
    pub items: Vec<Event>,
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
