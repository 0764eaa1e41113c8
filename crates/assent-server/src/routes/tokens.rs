//! `/v1/tokens`: admins create, list, rotate and revoke API tokens. A name
//! is never reused; rotation gives a principal a new secret.

use assent_api::{CreateToken, CreatedToken, TokenInfo, TokenList};
use assent_store::{NewToken, TokenRecord};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderName, StatusCode, header};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{AdminCaller, Caller};
use crate::body::ApiJson;
use crate::clock::now;
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;
use crate::token_cache::{generate_token, token_sha256};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_token, list_tokens))
        .routes(routes!(revoke_token))
        .routes(routes!(rotate_token))
}

/// A response carrying a secret: never stored by a cache on the way.
type SecretResponse = ([(HeaderName, &'static str); 1], Json<CreatedToken>);

fn secret_response(created: CreatedToken) -> SecretResponse {
    ([(header::CACHE_CONTROL, "no-store")], Json(created))
}

const MAX_NAME_LEN: usize = 100;
const MAX_GROUPS: usize = 32;

/// Principal and group names: no `:`, which marks `policy:`, `grant:` and `system:` actors.
fn validate_name(field: &str, name: &str) -> ApiResult<()> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::BadRequest(format!(
            "{field}: must be 1–{MAX_NAME_LEN} characters of [A-Za-z0-9._@-]"
        )))
    }
}

/// A stored token's public fields, as the API shows them.
fn token_info(t: TokenRecord) -> TokenInfo {
    TokenInfo {
        name: t.name,
        role: t.role,
        groups: t.groups,
        created_at: t.created_at,
        created_by: t.created_by,
    }
}

/// Create a token (admin). The secret is in the answer and nowhere else.
/// A name is never reused: 409 for a live token's name and for a revoked one's.
#[utoipa::path(post, path = "/v1/tokens", tag = "tokens", request_body = CreateToken,
    responses(
        (status = 201, body = CreatedToken, headers(("Cache-Control" = String, description = "no-store"))),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "the name is or was in use", body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_token(
    State(state): State<AppState>,
    AdminCaller(Caller(admin)): AdminCaller,
    ApiJson(body): ApiJson<CreateToken>,
) -> ApiResult<(StatusCode, SecretResponse)> {
    validate_name("name", &body.name)?;
    if body.groups.len() > MAX_GROUPS {
        return Err(ApiError::BadRequest(format!(
            "groups: at most {MAX_GROUPS}"
        )));
    }
    for group in &body.groups {
        validate_name("groups", group)?;
    }
    let token = new_secret()?;
    let new = NewToken {
        name: body.name,
        token_sha256: hex::encode(token_sha256(&token)),
        role: body.role,
        groups: body.groups,
        created_by: admin.name.clone(),
    };
    let record = state.store.create_token(new, now()).await?;
    Ok((
        StatusCode::CREATED,
        secret_response(CreatedToken {
            info: token_info(record),
            token,
        }),
    ))
}

fn new_secret() -> ApiResult<String> {
    generate_token().map_err(|e| {
        tracing::error!(error = %e, "no randomness");
        ApiError::Internal
    })
}

/// List tokens (admin); secrets are never shown.
#[utoipa::path(get, path = "/v1/tokens", tag = "tokens",
    responses((status = 200, body = TokenList), (status = 403, body = Problem)))]
async fn list_tokens(
    State(state): State<AppState>,
    _admin: AdminCaller,
) -> ApiResult<Json<TokenList>> {
    let items = state
        .store
        .list_tokens()
        .await?
        .into_iter()
        .map(token_info)
        .collect();
    Ok(Json(TokenList { items }))
}

/// Revoke a token (admin); it stops working at once, and the event streams,
/// WebSockets and long-polls it opened end.
#[utoipa::path(delete, path = "/v1/tokens/{name}", tag = "tokens", params(("name" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn revoke_token(
    State(state): State<AppState>,
    AdminCaller(Caller(admin)): AdminCaller,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    match state.store.revoke_token(&name, &admin.name, now()).await {
        Ok(()) => {
            // This instance stops honouring it, and ends the streams it
            // opened, before answering; others follow the commit notice.
            state.tokens.forget(&name);
            state
                .streams
                .token_revoked(state.store.as_ref(), Some(&name))
                .await;
            Ok(StatusCode::NO_CONTENT)
        }
        Err(assent_store::StoreError::NotFound) => Err(ApiError::NotFound("token")),
        Err(e) => Err(e.into()),
    }
}

/// Give a token's principal a new secret (admin): same name, role, groups
/// and approvals; the old secret stops working in the same transaction.
#[utoipa::path(post, path = "/v1/tokens/{name}/rotate", tag = "tokens",
    params(("name" = String, Path, pattern = r"^[A-Za-z0-9._@-]{1,100}$")),
    responses(
        (status = 200, body = CreatedToken, headers(("Cache-Control" = String, description = "no-store"))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no live token has this name", body = Problem, content_type = "application/problem+json"),
    ))]
async fn rotate_token(
    State(state): State<AppState>,
    AdminCaller(Caller(admin)): AdminCaller,
    Path(name): Path<String>,
) -> ApiResult<SecretResponse> {
    let token = new_secret()?;
    let digest = hex::encode(token_sha256(&token));
    match state
        .store
        .rotate_token(&name, &digest, &admin.name, now())
        .await
    {
        Ok(record) => {
            // The old secret stops here before answering; others follow the commit notice.
            state.tokens.forget(&name);
            Ok(secret_response(CreatedToken {
                info: token_info(record),
                token,
            }))
        }
        Err(assent_store::StoreError::NotFound) => Err(ApiError::NotFound("token")),
        Err(e) => Err(e.into()),
    }
}
