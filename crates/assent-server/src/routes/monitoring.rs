//! What operators and their tools poll: liveness and readiness (public) and
//! the Prometheus metrics (public unless `metrics_public = false`, then
//! admin tokens only).

use assent_domain::Role;
use axum::Json;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::clock::now;
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "health", security(()), responses((status = 200, description = "alive")))]
async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// The store answers reads.
#[utoipa::path(get, path = "/readyz", tag = "health", security(()), responses(
    (status = 200, description = "ready"),
    (status = 503, description = "the store is unreachable", body = Problem),
))]
async fn readyz(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    state
        .store
        .ping()
        .await
        .map_err(|_| ApiError::Unavailable)?;
    Ok(Json(json!({"status": "ready"})))
}

/// Prometheus metrics (series prefixed `assent_`; see docs/api.md).
#[utoipa::path(get, path = "/metrics", tag = "health", security((), ("bearer" = [])),
    responses(
        (status = 200, content_type = "text/plain", description = "Prometheus text format"),
        (status = 401, description = "metrics_public = false and no admin token", body = Problem),
        (status = 403, body = Problem),
    ))]
async fn metrics(State(state): State<AppState>, request: Request) -> ApiResult<Response> {
    if !state.config.metrics_public {
        let (mut parts, _) = request.into_parts();
        Caller::from_request_parts(&mut parts, &state)
            .await?
            .require(Role::Admin)?;
    }
    // The gauge comes from the store so it is right across instances and restarts.
    match state.store.stats_sample(now(), 0).await {
        Ok(sample) => crate::metrics::pending(sample.pending),
        Err(e) => tracing::warn!(error = %e, "reading the pending count for /metrics failed"),
    }
    crate::metrics::waiters(state.waiters.waiting());
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        crate::metrics::render(),
    )
        .into_response())
}
