//! `/v1/receipts`: check that a receipt covers exactly an action and its
//! args (`verify`), or check it and spend it, once (`redeem`).

use assent_api::{ReceiptCheck, ReceiptVerdict};
use assent_domain::receipt::ReceiptClaims;
use assent_store::Redemption;
use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Caller;
use crate::body::ApiJson;
use crate::clock::now;
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(verify))
        .routes(routes!(redeem))
}

fn check(state: &AppState, body: &ReceiptCheck) -> Result<ReceiptClaims, String> {
    state
        .receipts
        .verify(&body.receipt, &body.action, &body.args, now())
        .map_err(|e| e.to_string())
}

/// Whether the receipt allows exactly this action with these args now. An
/// invalid receipt is an answer, not an error: 200 with `valid: false`.
#[utoipa::path(post, path = "/v1/receipts/verify", tag = "receipts", request_body = ReceiptCheck,
    responses((status = 200, body = ReceiptVerdict), (status = 400, body = Problem), (status = 401, body = Problem)))]
async fn verify(
    State(state): State<AppState>,
    _caller: Caller,
    ApiJson(body): ApiJson<ReceiptCheck>,
) -> Json<ReceiptVerdict> {
    Json(match check(&state, &body) {
        Ok(claims) => ReceiptVerdict {
            valid: true,
            claims: Some(claims),
            reason: None,
        },
        Err(reason) => ReceiptVerdict {
            valid: false,
            claims: None,
            reason: Some(reason),
        },
    })
}

/// Verifies the receipt and spends it: 200 the first time, 409 after. A
/// receipt that does not verify (malformed, bad signature, expired, for
/// another action or args) cannot be redeemed either: 409, nothing spent.
#[utoipa::path(post, path = "/v1/receipts/redeem", tag = "receipts", request_body = ReceiptCheck,
    responses(
        (status = 200, body = ReceiptVerdict), (status = 400, body = Problem),
        (status = 401, body = Problem),
        (status = 409, description = "already redeemed, or the receipt does not verify", body = Problem),
    ))]
async fn redeem(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<ReceiptCheck>,
) -> ApiResult<Json<ReceiptVerdict>> {
    let claims = check(&state, &body)
        .map_err(|r| ApiError::Conflict(format!("receipt: {r}; nothing was redeemed")))?;
    let approval_id = Uuid::parse_str(&claims.sub).map_err(|_| {
        ApiError::Conflict("receipt: sub is not an approval id; nothing was redeemed".into())
    })?;
    state
        .store
        .redeem_receipt(Redemption {
            jti: claims.jti.clone(),
            approval_id,
            redeemed_by: caller.0.name,
            redeemed_at: now(),
        })
        .await?;
    Ok(Json(ReceiptVerdict {
        valid: true,
        claims: Some(claims),
        reason: None,
    }))
}
