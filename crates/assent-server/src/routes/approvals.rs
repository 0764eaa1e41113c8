//! `/v1/approvals`: create, read (with long-poll), list, review, cancel.

use assent_domain::canonical::{canonical_json, sha256_hex};
use assent_domain::lifecycle;
use assent_domain::policy::{Effect, Input};
use assent_domain::{Approval, CreateApproval, ReviewRequest, Role, Status};
use assent_store::{ApprovalFilter, CreateOutcome, IdempotencyKey};
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::query::QueryParams;
use crate::app::{AppState, MAX_WAIT, now};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};
use crate::json::{ApiJson, OptionalJson};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_approval, list_approvals))
        .routes(routes!(get_approval))
        .routes(routes!(review_approval))
        .routes(routes!(cancel_approval))
}

const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;
const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 500;

pub fn parse_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::BadRequest(format!("id: {raw:?} is not a UUID")))
}

/// Reads an approval the caller may see; others' approvals are 404 to agents.
async fn visible(state: &AppState, caller: &Caller, id: Uuid) -> ApiResult<Approval> {
    match state.store.get_approval(id).await? {
        Some(a) if a.visible_to(&caller.0) => Ok(a),
        _ => Err(ApiError::NotFound("approval")),
    }
}

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
    let limits = state.config.timeouts();
    body.validate(limits).map_err(|e| ApiError::invalid(&e))?;
    let idempotency = idempotency_key(&headers, &body)?;
    let evaluation = state
        .policy
        .current()
        .evaluate(&Input::new(&body, &caller.0.name));
    let at = now();
    let mut approval = body.into_pending(
        Uuid::now_v7(),
        &caller.0.name,
        evaluation.placement,
        limits,
        at,
    );
    // Allow and deny rules decide at once; only `ask` leaves it to grants and people.
    if evaluation.effect != Effect::Ask {
        let allow = evaluation.effect == Effect::Allow;
        lifecycle::decide_by_policy(
            &mut approval,
            allow,
            evaluation.rule.as_deref(),
            evaluation.reason,
            at,
        );
    }
    match state.store.create_approval(approval, idempotency).await? {
        CreateOutcome::Created(a) if a.status == Status::Pending => {
            state
                .sweep
                .deadline_added(a.escalate_at.unwrap_or(a.expires_at));
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
    caller: Caller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Approval>> {
    let id = parse_id(&id)?;
    let wait = QueryParams::parse(raw.as_deref(), &["wait"])?.duration("wait", MAX_WAIT)?;
    let Some(wait) = wait.filter(|w| !w.is_zero()) else {
        return Ok(Json(visible(&state, &caller, id).await?));
    };
    let mut registration = state.waiters.register(id);
    let approval = visible(&state, &caller, id).await?;
    if approval.status.is_terminal() {
        return Ok(Json(approval));
    }
    tokio::select! {
        decided = registration.decided() => match decided {
            Some(decided) => Ok(Json(decided.as_ref().clone())),
            None => Ok(Json(visible(&state, &caller, id).await?)),
        },
        () = tokio::time::sleep(wait) => Ok(Json(visible(&state, &caller, id).await?)),
        // Shutting down: answer with what we have; the client polls again elsewhere.
        () = state.shutdown.cancelled() => Ok(Json(approval)),
    }
}

/// A page of approvals.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApprovalList {
    pub items: Vec<Approval>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
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
    let status = match q.one("status")? {
        None | Some("all") => None,
        Some(s) => Some(Status::parse(s).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "status: {s:?} is not one of pending, approved, rejected, expired, cancelled, all"
            ))
        })?),
    };
    let labels = q
        .all("label")
        .map(|l| {
            l.split_once(':')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .ok_or_else(|| ApiError::BadRequest(format!("label: {l:?} is not key:value")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let before = q
        .one("cursor")?
        .map(|c| {
            parse_id(c)
                .map_err(|_| ApiError::BadRequest("cursor: not a cursor from this API".into()))
        })
        .transpose()?;
    let mut requester = q.one("requester")?.map(str::to_owned);
    if caller.0.role == Role::Agent {
        if requester.as_ref().is_some_and(|r| *r != caller.0.name) {
            return Ok(Json(ApprovalList {
                items: vec![],
                next_cursor: None,
            }));
        }
        requester = Some(caller.0.name.clone());
    }
    let filter = ApprovalFilter {
        status,
        action: q.one("action")?.map(str::to_owned),
        requester,
        session_id: q.one("session_id")?.map(str::to_owned),
        run_id: q.one("run_id")?.map(str::to_owned),
        labels,
        before,
        limit: q.limit("limit", DEFAULT_PAGE, MAX_PAGE)?,
    };
    let page = state.store.list_approvals(&filter).await?;
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
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(review): ApiJson<ReviewRequest>,
) -> ApiResult<Json<Approval>> {
    let id = parse_id(&id)?;
    let reviewer = caller.require(Role::Approver)?.clone();
    review.validate().map_err(|e| ApiError::invalid(&e))?;
    match state.store.review(id, reviewer, review, now()).await {
        Err(assent_store::StoreError::NotFound) => Err(ApiError::NotFound("approval")),
        other => Ok(Json(other?)),
    }
}

/// Body of a cancel request.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    #[serde(default)]
    pub reason: Option<String>,
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
    if let Some(reason) = &body.reason
        && reason.chars().count() > assent_domain::request::MAX_REASON_CHARS
    {
        return Err(ApiError::BadRequest(format!(
            "reason: must be at most {} characters",
            assent_domain::request::MAX_REASON_CHARS
        )));
    }
    visible(&state, &caller, id).await?;
    Ok(Json(
        state.store.cancel(id, caller.0, body.reason, now()).await?,
    ))
}
