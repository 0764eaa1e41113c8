//! `/v1/tokens`: admins create, list and revoke API tokens.

use assent_api::{CreateToken, CreatedToken, TokenInfo, TokenList};
use assent_domain::Role;
use assent_store::{NewToken, TokenRecord};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::body::ApiJson;
use crate::clock::now;
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;
use crate::token_cache::{generate_token, token_sha256};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_token, list_tokens))
        .routes(routes!(revoke_token))
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
#[utoipa::path(post, path = "/v1/tokens", tag = "tokens", request_body = CreateToken,
    responses((status = 201, body = CreatedToken), (status = 400, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let admin = caller.require(Role::Admin)?;
    validate_name("name", &body.name)?;
    if body.groups.len() > MAX_GROUPS {
        return Err(ApiError::BadRequest(format!(
            "groups: at most {MAX_GROUPS}"
        )));
    }
    for group in &body.groups {
        validate_name("groups", group)?;
    }
    let token = generate_token().map_err(|e| {
        tracing::error!(error = %e, "no randomness");
        ApiError::Internal
    })?;
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
        Json(CreatedToken {
            info: token_info(record),
            token,
        }),
    ))
}

/// List tokens (admin); secrets are never shown.
#[utoipa::path(get, path = "/v1/tokens", tag = "tokens",
    responses((status = 200, body = TokenList), (status = 403, body = Problem)))]
async fn list_tokens(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<TokenList>> {
    caller.require(Role::Admin)?;
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
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    let admin = caller.require(Role::Admin)?;
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
