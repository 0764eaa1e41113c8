//! The HTTP API: one module per resource, each exporting its `router()`,
//! assembled here with the OpenAPI document, the interactive docs and the
//! layers every request passes through.

mod approvals;
mod audit;
mod console;
mod document;
mod events;
mod grants;
mod keys;
mod monitoring;
mod policy;
mod receipts;
mod session;
mod stats;
mod timeline;
mod tokens;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use crate::error::ApiError;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Assent",
        description = "Human-in-the-loop approval gateway. Behaviour beyond this document: docs/api.md in the repository. \
            People review approvals in the [web console](/) (deep links: `/#/approvals/{id}`). \
            Programs send `Authorization: Bearer <token>`; the console signs in through \
            `POST /v1/session` and then sends its session cookie, plus the `X-CSRF-Token` \
            header on every POST, PUT, PATCH and DELETE."
    ),
    modifiers(&BearerAuth),
    security(("bearer" = []), ("session" = [], "csrf" = [])),
)]
struct ApiDoc;

/// The security schemes: bearer tokens, and the console's cookie with its CSRF header.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::console_session::COOKIE,
                "The web console's session (HttpOnly, SameSite=Strict), set by POST /v1/session.",
            ))),
        );
        components.add_security_scheme(
            "csrf",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-CSRF-Token",
                "The csrf_token of POST or GET /v1/session; required with the session cookie \
                 on POST, PUT, PATCH and DELETE.",
            ))),
        );
    }
}

/// The OpenAPI document of every route.
pub fn openapi() -> serde_json::Value {
    let max_timeout = crate::config::Config::default().max_timeout;
    document::refine(&api_router().into_openapi(), max_timeout.as_secs())
}

fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(approvals::router())
        .merge(tokens::router())
        .merge(grants::router())
        .merge(events::router())
        .merge(policy::router())
        .merge(audit::router())
        .merge(receipts::router())
        .merge(keys::router())
        .merge(monitoring::router())
        .merge(stats::router())
        .merge(crate::ws::router())
        .merge(session::router())
        .merge(timeline::router())
        .merge(console::router())
}

/// Every route, with the docs at `/docs` and `/openapi.json`.
pub fn router(state: AppState) -> Router {
    let (api, openapi) = api_router().split_for_parts();
    let openapi = document::refine(&openapi, state.config.max_timeout.as_secs());
    let max_body = state.config.max_body_bytes;
    api.merge(SwaggerUi::new("/docs").external_url_unchecked("/openapi.json", openapi))
        .fallback(not_found)
        .layer(axum::middleware::from_fn(crate::metrics::track_http))
        .layer(axum::middleware::from_fn(utf8_path))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::NotFound("route")
}

/// A path whose percent-decoding is not UTF-8 is refused as a problem, like
/// every other 400 (the path extractors would answer in plain text).
async fn utf8_path(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let decoded = percent_encoding::percent_decode_str(request.uri().path()).decode_utf8();
    if decoded.is_err() {
        return ApiError::BadRequest("path: not valid UTF-8 once percent-decoded".into())
            .into_response();
    }
    next.run(request).await
}
