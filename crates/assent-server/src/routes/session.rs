//! `/v1/session`: the web console signs in with a token and then holds a
//! session cookie ([`crate::console_session`]); this is where the cookie is made,
//! read back (who am I, and the CSRF token for a reloaded page) and ended.

use assent_api::{SessionInfo, SignIn};
use axum::Json;
use axum::extract::State;
use axum::http::{Extensions, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Authenticated, failed_authentication, principal_by_digest};
use crate::body::ApiJson;
use crate::console_session as session;
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;
use crate::token_cache::token_sha256;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(sign_in, current_session, sign_out))
}

/// Sign in: exchanges a token for a session cookie (`assent_session`:
/// HttpOnly, SameSite=Strict, Path=/, Secure over https) and answers the
/// CSRF token that state-changing requests made with the cookie must send.
#[utoipa::path(post, path = "/v1/session", tag = "session", request_body = SignIn,
    security(()),
    responses(
        (status = 201, body = SessionInfo,
            headers(("Set-Cookie" = String, description = "assent_session=…; HttpOnly; SameSite=Strict; Path=/; Max-Age=…"))),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 415, body = Problem),
        (status = 429, description = "too many failed sign-ins from this address", body = Problem),
    ))]
async fn sign_in(
    State(state): State<AppState>,
    extensions: Extensions,
    ApiJson(body): ApiJson<SignIn>,
) -> ApiResult<Response> {
    if body.token.is_empty() {
        return Err(ApiError::BadRequest("token: must not be empty".into()));
    }
    // Blank is not empty: like any other unknown token, it is 401.
    let token = body.token.trim();
    let digest = token_sha256(token);
    let principal = principal_by_digest(&state, &digest)
        .await
        .map_err(|e| failed_authentication(&state, &extensions, e))?;
    state.limits.request(&principal.name)?;
    let secret = session::new_secret()?;
    let record = session::new_session(&secret, &digest, &principal, state.config.session_ttl);
    let (expires_at, lifetime) = (record.expires_at, record.expires_at - record.created_at);
    state.store.create_session(record).await?;
    tracing::info!(principal = %principal.name, "console session started");
    let info = SessionInfo {
        principal,
        csrf_token: Some(session::csrf_token(&secret)),
        expires_at: Some(expires_at),
    };
    let cookie = session::set_cookie(&secret, lifetime, state.config.cookie_secure());
    Ok(with_no_store(
        (
            StatusCode::CREATED,
            [(header::SET_COOKIE, cookie)],
            Json(info),
        )
            .into_response(),
    ))
}

/// Who am I: the principal of the session cookie (or bearer token), and the
/// session's CSRF token, so a reloaded console page can go on.
#[utoipa::path(get, path = "/v1/session", tag = "session",
    responses((status = 200, body = SessionInfo), (status = 401, body = Problem)))]
async fn current_session(auth: Authenticated) -> Response {
    let info = SessionInfo {
        csrf_token: auth.session.as_ref().map(session::SignedIn::csrf_token),
        expires_at: auth.session.as_ref().map(|s| s.record.expires_at),
        principal: auth.principal,
    };
    with_no_store(Json(info).into_response())
}

/// Sign out: ends the session on the server (its cookie stops working at
/// once, on every instance, and the event streams it opened end) and tells
/// the browser to forget the cookie.
/// Needs the CSRF header like every cookie-authenticated change.
#[utoipa::path(delete, path = "/v1/session", tag = "session",
    responses(
        (status = 204, headers(("Set-Cookie" = String, description = "clears assent_session"))),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, description = "the request carried a bearer token, not a session", body = Problem),
    ))]
async fn sign_out(State(state): State<AppState>, auth: Authenticated) -> ApiResult<Response> {
    let signed_in = auth.session.ok_or(ApiError::NotFound("session"))?;
    match state
        .store
        .delete_session(&signed_in.record.id_sha256)
        .await
    {
        // Already gone (another tab signed out): the outcome is the same.
        Ok(()) | Err(assent_store::StoreError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    state.streams.end_session(&signed_in.record.id_sha256);
    tracing::info!(principal = %auth.principal.name, "console session ended");
    let cookie = session::clear_cookie(state.config.cookie_secure());
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

/// Session answers carry secrets (the CSRF token): never cached.
fn with_no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
