//! `/.well-known/jwks.json`: the public keys receipts and audit exports are
//! signed with; public, so anyone can verify offline.

use assent_domain::jose::Jwks;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(jwks))
}

/// The receipt and export signing keys (Ed25519, OKP JWKs).
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "receipts", security(()),
    responses((status = 200, body = Jwks)))]
async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(state.signer.jwks().clone()),
    )
}
