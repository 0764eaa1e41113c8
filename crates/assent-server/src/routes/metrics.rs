//! `GET /metrics`: Prometheus text exposition. Public unless the config's
//! `metrics_public = false`, then admin tokens only.

use assent_domain::Role;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::{AppState, now};
use crate::auth::Caller;
use crate::error::{ApiResult, Problem};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(metrics))
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
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        crate::metrics::render(),
    )
        .into_response())
}
