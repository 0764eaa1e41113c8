//! `GET /v1/ws`: the upgrade to a JSON-RPC 2.0 WebSocket ([`crate::ws`]).
//! The bearer token is checked before upgrading (401 problem+json).

use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};

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
    caller: Caller,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    let upgrade = upgrade.map_err(|e| {
        ApiError::BadRequest(format!("this endpoint needs a WebSocket upgrade: {e}"))
    })?;
    let limit = state.config.max_body_bytes;
    Ok(upgrade
        .max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| crate::ws::serve(state, caller, socket)))
}
