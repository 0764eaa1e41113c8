//! `/v1/grants`: list and revoke remembered decisions. Approvers see and
//! revoke the grants they created; admins all of them.

use assent_api::GrantList;
use assent_domain::Role;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::clock::now;
use crate::error::{ApiError, ApiResult, Problem};
use crate::params::parse_id;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_grants))
        .routes(routes!(revoke_grant))
}

/// Live grants, newest first (approvers: the ones they created).
#[utoipa::path(get, path = "/v1/grants", tag = "grants",
    responses((status = 200, body = GrantList), (status = 403, body = Problem)))]
async fn list_grants(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<GrantList>> {
    let who = caller.require(Role::Approver)?;
    let created_by = (!who.is_admin()).then_some(who.name.as_str());
    Ok(Json(GrantList {
        items: state.store.list_grants(now(), created_by).await?,
    }))
}

/// Revoke a grant: it stops answering requests at once.
#[utoipa::path(delete, path = "/v1/grants/{id}", tag = "grants", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn revoke_grant(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = parse_id(&id)?;
    let who = caller.require(Role::Approver)?;
    let grant = state
        .store
        .get_grant(id)
        .await?
        .ok_or(ApiError::NotFound("grant"))?;
    if !who.is_admin() && grant.created_by != who.name {
        return Err(ApiError::Forbidden(
            "approvers revoke only the grants they created".into(),
        ));
    }
    match state.store.revoke_grant(id, &who.name, now()).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(assent_store::StoreError::NotFound) => Err(ApiError::NotFound("grant")),
        Err(e) => Err(e.into()),
    }
}
