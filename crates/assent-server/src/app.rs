//! The application: shared state and the router with every route and layer.

use std::sync::Arc;
use std::time::Duration;

use assent_store::Store;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::TokenCache;
use crate::config::Config;
use crate::policy::RunningPolicy;
use crate::receipts::Receipts;
use crate::routes;
use crate::signing::Signer;
use crate::sweeper::Schedule;
use crate::waiters::Waiters;

/// Everything handlers share.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub config: Arc<Config>,
    pub waiters: Arc<Waiters>,
    pub tokens: Arc<TokenCache>,
    pub policy: Arc<RunningPolicy>,
    /// Signs receipts and audit exports; its public keys are the JWKS.
    pub signer: Arc<Signer>,
    pub receipts: Arc<Receipts>,
    /// The expiry sweep's wake-up, moved earlier by approvals that expire sooner.
    pub sweep: Arc<Schedule>,
    /// Cancelled on shutdown: long-polls return at once so clients reconnect elsewhere.
    pub shutdown: CancellationToken,
}

/// The current time at the precision the whole system uses.
pub fn now() -> OffsetDateTime {
    assent_domain::timestamp::to_millis_precision(OffsetDateTime::now_utc())
}

/// Longest `?wait=` a long-poll may ask for.
pub const MAX_WAIT: Duration = Duration::from_secs(300);

#[derive(OpenApi)]
#[openapi(
    info(title = "Assent", description = "Human-in-the-loop approval gateway. \
        People review approvals in the [web console](/) (deep links: `/#/approvals/{id}`). \
        Programs send `Authorization: Bearer <token>`; the console signs in through \
        `POST /v1/session` and then sends its session cookie, plus the `X-CSRF-Token` \
        header on every POST, PUT, PATCH and DELETE."),
    modifiers(&BearerAuth),
    security(("bearer" = []), ("session" = [], "csrf" = [])),
)]
struct ApiDoc;

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
                crate::session::COOKIE,
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
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_router().into_openapi()
}

fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(routes::approvals::router())
        .merge(routes::tokens::router())
        .merge(routes::grants::router())
        .merge(routes::events::router())
        .merge(routes::policy::router())
        .merge(routes::audit::router())
        .merge(routes::receipts::router())
        .merge(routes::keys::router())
        .merge(routes::health::router())
        .merge(routes::stats::router())
        .merge(routes::metrics::router())
        .merge(routes::ws::router())
        .merge(routes::session::router())
        .merge(routes::timeline::router())
        .merge(routes::console::router())
}

pub fn router(state: AppState) -> Router {
    let (api, openapi) = api_router().split_for_parts();
    let max_body = state.config.max_body_bytes;
    api.merge(SwaggerUi::new("/docs").url("/openapi.json", openapi))
        .fallback(routes::not_found)
        .layer(axum::middleware::from_fn(crate::metrics::track_http))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
