//! What callers can do with approvals, independent of the transport: the
//! HTTP routes and the WebSocket methods both call these, so authorization,
//! validation and the long-poll behave the same on both.

use std::time::Duration;

use assent_domain::lifecycle;
use assent_domain::policy::{Effect, Input};
use assent_domain::request::MAX_REASON_CHARS;
use assent_domain::{Approval, CreateApproval, ReviewRequest, Role, Status};
use assent_store::{ApprovalFilter, ApprovalPage, CreateOutcome, IdempotencyKey, StoreError};
use uuid::Uuid;

use crate::app::{AppState, now};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};

pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 500;

pub fn parse_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::BadRequest(format!("id: {raw:?} is not a UUID")))
}

/// Reads an approval the caller may see; others' approvals are 404 to agents.
pub async fn get(state: &AppState, caller: &Caller, id: Uuid) -> ApiResult<Approval> {
    match state.store.get_approval(id).await? {
        Some(a) if a.visible_to(&caller.0) => Ok(a),
        _ => Err(ApiError::NotFound("approval")),
    }
}

/// Validates the request, lets the policy decide what it can, and stores it.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    body: CreateApproval,
    idempotency: Option<IdempotencyKey>,
) -> ApiResult<CreateOutcome> {
    let limits = state.config.timeouts();
    body.validate(limits).map_err(|e| ApiError::invalid(&e))?;
    let evaluation = state.policy.evaluate(&Input::new(&body, &caller.0.name));
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
    let outcome = state.store.create_approval(approval, idempotency).await?;
    if let CreateOutcome::Created(a) = &outcome
        && a.status == Status::Pending
    {
        state
            .sweep
            .deadline_added(a.escalate_at.unwrap_or(a.expires_at));
    }
    Ok(outcome)
}

/// Reads an approval, holding on for at most `wait` until it is decided;
/// answers with it either way. Registers before reading so a decision
/// committed in between is not missed.
pub async fn wait(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    wait: Duration,
) -> ApiResult<Approval> {
    if wait.is_zero() {
        return get(state, caller, id).await;
    }
    let mut registration = state.waiters.register(id);
    let approval = get(state, caller, id).await?;
    if approval.status.is_terminal() {
        return Ok(approval);
    }
    tokio::select! {
        decided = registration.decided() => match decided {
            Some(decided) => Ok(decided.as_ref().clone()),
            None => get(state, caller, id).await,
        },
        () = tokio::time::sleep(wait) => get(state, caller, id).await,
        // Shutting down: answer with what we have; the client asks again elsewhere.
        () = state.shutdown.cancelled() => Ok(approval),
    }
}

/// `status`: one status or `all`.
pub fn parse_status(raw: &str) -> ApiResult<Option<Status>> {
    match raw {
        "all" => Ok(None),
        s => Status::parse(s).map(Some).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "status: {s:?} is not one of pending, approved, rejected, expired, cancelled, all"
            ))
        }),
    }
}

/// `label`: `key:value`.
pub fn parse_label(raw: &str) -> ApiResult<(String, String)> {
    raw.split_once(':')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| ApiError::BadRequest(format!("label: {raw:?} is not key:value")))
}

pub fn parse_cursor(raw: &str) -> ApiResult<Uuid> {
    parse_id(raw).map_err(|_| ApiError::BadRequest("cursor: not a cursor from this API".into()))
}

/// Newest first; agents see only their own approvals.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    mut filter: ApprovalFilter,
) -> ApiResult<ApprovalPage> {
    if caller.0.role == Role::Agent {
        if filter
            .requester
            .as_ref()
            .is_some_and(|r| *r != caller.0.name)
        {
            return Ok(ApprovalPage {
                items: vec![],
                next: None,
            });
        }
        filter.requester = Some(caller.0.name.clone());
    }
    Ok(state.store.list_approvals(&filter).await?)
}

/// Approves or rejects as the caller, who must be an approver or admin.
pub async fn review(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    review: ReviewRequest,
) -> ApiResult<Approval> {
    let reviewer = caller.require(Role::Approver)?.clone();
    review.validate().map_err(|e| ApiError::invalid(&e))?;
    match state.store.review(id, reviewer, review, now()).await {
        Err(StoreError::NotFound) => Err(ApiError::NotFound("approval")),
        other => Ok(other?),
    }
}

/// Cancels a pending approval: its requester or an admin.
pub async fn cancel(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    reason: Option<String>,
) -> ApiResult<Approval> {
    if reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > MAX_REASON_CHARS)
    {
        return Err(ApiError::BadRequest(format!(
            "reason: must be at most {MAX_REASON_CHARS} characters"
        )));
    }
    get(state, caller, id).await?;
    Ok(state
        .store
        .cancel(id, caller.0.clone(), reason, now())
        .await?)
}
