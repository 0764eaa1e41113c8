//! `/v1/approvals`: create, read (with long-poll), list, review, cancel.
//! The handlers only translate HTTP; the work is in [`crate::operations`].

use assent_api::{ApprovalList, CancelRequest};
use assent_domain::canonical::{canonical_json, sha256_hex};
use assent_domain::{Approval, CreateApproval, ReviewRequest, Status};
use assent_store::{ApprovalFilter, CreateOutcome, IdempotencyKey};
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{ApproverCaller, Authenticated, Caller};
use crate::body::{ApiJson, OptionalJson};
use crate::error::{ApiError, ApiResult, Problem};
use crate::operations::{self, DEFAULT_PAGE, MAX_PAGE, MAX_WAIT};
use crate::params::{QueryParams, parse_cursor, parse_id, parse_label, parse_status};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_approval, list_approvals))
        .routes(routes!(get_approval))
        .routes(routes!(review_approval))
        .routes(routes!(cancel_approval))
}

const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

fn idempotency_key(
    headers: &HeaderMap,
    body: &CreateApproval,
) -> ApiResult<Option<IdempotencyKey>> {
    let Some(raw) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = raw
        .to_str()
        .ok()
        .filter(|k| {
            !k.is_empty()
                && k.len() <= MAX_IDEMPOTENCY_KEY_LEN
                && k.bytes().all(|b| b.is_ascii_graphic())
        })
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "Idempotency-Key: must be 1–{MAX_IDEMPOTENCY_KEY_LEN} visible ASCII characters"
            ))
        })?;
    Ok(Some(IdempotencyKey {
        key: key.to_owned(),
        body_sha256: sha256_hex(&canonical_json(body)),
    }))
}

/// Request approval for an action. The policy decides at once: 201 while
/// pending, 200 when already decided or replayed by `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/approvals", tag = "approvals",
    params(("Idempotency-Key" = Option<String>, Header, description = "same key and body → the same approval")),
    request_body = CreateApproval,
    responses(
        (status = 201, description = "pending", body = Approval),
        (status = 200, description = "decided at once, or replayed", body = Approval),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 413, body = Problem),
        (status = 422, description = "Idempotency-Key reused with another body", body = Problem),
    ))]
async fn create_approval(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CreateApproval>,
) -> ApiResult<Response> {
    let idempotency = idempotency_key(&headers, &body)?;
    match operations::create(&state, &caller, body, idempotency).await? {
        CreateOutcome::Created(a) if a.status == Status::Pending => {
            let location = format!("/v1/approvals/{}", a.id);
            Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(a)).into_response())
        }
        CreateOutcome::Created(a) | CreateOutcome::Replayed(a) => Ok(Json(a).into_response()),
    }
}

/// Read one approval. `?wait=30s` holds the request until it is decided or the
/// wait ends (at most 300 s), then answers with it either way.
#[utoipa::path(get, path = "/v1/approvals/{id}", tag = "approvals",
    params(("id" = Uuid, Path), ("wait" = Option<String>, Query, description = "e.g. 30s; max 300s")),
    responses((status = 200, body = Approval), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn get_approval(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Approval>> {
    let id = parse_id(&id)?;
    let wait = QueryParams::parse(raw.as_deref(), &["wait"])?
        .duration("wait", MAX_WAIT)?
        .unwrap_or_default();
    let guard = (!wait.is_zero()).then(|| state.streams.register(auth.credential()));
    let caller = Caller(auth.principal);
    let Some(guard) = guard else {
        return Ok(Json(operations::get(&state, &caller, id).await?));
    };
    tokio::select! {
        biased;
        // The token was revoked (or the session ended) while waiting.
        () = guard.ended() => Err(ApiError::Unauthorized),
        approval = operations::wait(&state, &caller, id, wait) => Ok(Json(approval?)),
    }
}

/// List approvals, newest first. Agents see only their own.
#[utoipa::path(get, path = "/v1/approvals", tag = "approvals",
    params(
        ("status" = Option<String>, Query, description = "pending|approved|rejected|expired|cancelled|all (default all)"),
        ("action" = Option<String>, Query), ("requester" = Option<String>, Query),
        ("session_id" = Option<String>, Query), ("run_id" = Option<String>, Query),
        ("label" = Option<Vec<String>>, Query, description = "k:v, repeatable"),
        ("limit" = Option<u32>, Query, description = "default 50, max 500 (clamped)"),
        ("cursor" = Option<String>, Query),
    ),
    responses((status = 200, body = ApprovalList), (status = 400, body = Problem)))]
async fn list_approvals(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<ApprovalList>> {
    let q = QueryParams::parse(
        raw.as_deref(),
        &[
            "status",
            "action",
            "requester",
            "session_id",
            "run_id",
            "label",
            "limit",
            "cursor",
        ],
    )?;
    let request = ApprovalFilter {
        status: q.one("status")?.map(parse_status).transpose()?.flatten(),
        action: q.one("action")?.map(str::to_owned),
        requester: q.one("requester")?.map(str::to_owned),
        session_id: q.one("session_id")?.map(str::to_owned),
        run_id: q.one("run_id")?.map(str::to_owned),
        labels: q.all("label").map(parse_label).collect::<Result<_, _>>()?,
        before: q.one("cursor")?.map(parse_cursor).transpose()?,
        limit: q.limit("limit", DEFAULT_PAGE, MAX_PAGE)?,
    };
    let page = operations::list(&state, &caller, request).await?;
    Ok(Json(ApprovalList {
        items: page.items,
        next_cursor: page.next.map(|id| id.to_string()),
    }))
}

/// Approve or reject. Refused with 403 for the requester itself (separation of
/// duties), agents and principals outside the quorum's groups; 409 when already
/// decided or already reviewed by the caller; 410 when expired.
#[utoipa::path(post, path = "/v1/approvals/{id}/reviews", tag = "approvals",
    params(("id" = Uuid, Path)), request_body = ReviewRequest,
    responses(
        (status = 200, body = Approval), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 410, body = Problem),
    ))]
async fn review_approval(
    State(state): State<AppState>,
    ApproverCaller(caller): ApproverCaller,
    Path(id): Path<String>,
    ApiJson(review): ApiJson<ReviewRequest>,
) -> ApiResult<Json<Approval>> {
    let id = parse_id(&id)?;
    Ok(Json(operations::review(&state, &caller, id, review).await?))
}

/// Cancel a pending approval (its requester or an admin); 409 when already over.
#[utoipa::path(post, path = "/v1/approvals/{id}/cancel", tag = "approvals",
    params(("id" = Uuid, Path)), request_body(content = Option<CancelRequest>),
    responses(
        (status = 200, body = Approval), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem),
    ))]
async fn cancel_approval(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<CancelRequest>,
) -> ApiResult<Json<Approval>> {
    let id = parse_id(&id)?;
    Ok(Json(
        operations::cancel(&state, &caller, id, body.reason).await?,
    ))
}
