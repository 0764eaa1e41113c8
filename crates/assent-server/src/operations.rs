//! What callers can do with approvals, independent of the transport: the
//! HTTP routes and the WebSocket methods both call these, so authorization,
//! validation and the long-poll behave the same on both.
//!
//! Every approval leaves through here, and [`outgoing`] gives it its receipt
//! on the way out: the one place receipts are attached.

use std::time::Duration;

use assent_domain::lifecycle;
use assent_domain::policy::{Effect, Input};
use assent_domain::request::{MAX_REASON_CHARS, validate_text};
use assent_domain::{Approval, CreateApproval, ReviewRequest, Role, Status};
use assent_store::{ApprovalFilter, ApprovalPage, CreateOutcome, IdempotencyKey, StoreError};
use uuid::Uuid;

use crate::auth::Caller;
use crate::clock::now;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Page size of a listing that names none.
pub const DEFAULT_PAGE: u32 = 50;
/// Largest page of a listing; larger limits are clamped.
pub const MAX_PAGE: u32 = 500;
/// Longest `wait` a long-poll may ask for; longer waits are clamped.
pub const MAX_WAIT: Duration = Duration::from_secs(300);

/// An approval as it leaves the gateway: with its receipt when approved.
fn outgoing(state: &AppState, approval: Approval) -> Approval {
    let mut approval = approval.with_parts();
    state.receipts.attach(&mut approval);
    approval
}

/// Reads an approval the caller may see; others' approvals are 404 to agents.
async fn visible(state: &AppState, caller: &Caller, id: Uuid) -> ApiResult<Approval> {
    match state.store.get_approval(id).await? {
        Some(a) if a.visible_to(&caller.0) => Ok(a),
        _ => Err(ApiError::NotFound("approval")),
    }
}

/// Reads an approval the caller may see.
pub async fn get(state: &AppState, caller: &Caller, id: Uuid) -> ApiResult<Approval> {
    Ok(outgoing(state, visible(state, caller, id).await?))
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
    Ok(
        match state.store.create_approval(approval, idempotency).await? {
            CreateOutcome::Created(a) => {
                if a.status == Status::Pending {
                    state
                        .sweep
                        .deadline_added(a.escalate_at.unwrap_or(a.expires_at));
                }
                CreateOutcome::Created(outgoing(state, a))
            }
            CreateOutcome::Replayed(a) => CreateOutcome::Replayed(outgoing(state, a)),
        },
    )
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
    let approval = visible(state, caller, id).await?;
    if approval.status.is_terminal() {
        return Ok(outgoing(state, approval));
    }
    tokio::select! {
        decided = registration.decided() => match decided {
            Some(decided) => Ok(outgoing(state, decided.as_ref().clone())),
            None => get(state, caller, id).await,
        },
        () = tokio::time::sleep(wait) => get(state, caller, id).await,
        // Shutting down: answer with what we have; the client asks again elsewhere.
        () = state.shutdown.cancelled() => Ok(outgoing(state, approval)),
    }
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
    let page = state.store.list_approvals(&filter).await?;
    Ok(ApprovalPage {
        items: page.items.into_iter().map(|a| outgoing(state, a)).collect(),
        next: page.next,
    })
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
        other => Ok(outgoing(state, other?)),
    }
}

/// Cancels a pending approval: its requester or an admin.
pub async fn cancel(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    reason: Option<String>,
) -> ApiResult<Approval> {
    validate_text("reason", &reason, MAX_REASON_CHARS).map_err(|e| ApiError::invalid(&e))?;
    visible(state, caller, id).await?;
    let cancelled = state
        .store
        .cancel(id, caller.0.clone(), reason, now())
        .await?;
    Ok(outgoing(state, cancelled))
}
