//! `/v1/policy` (show, reload) and `/v1/check` (what the policy would answer).

use std::sync::Arc;

use assent_domain::grant::args_sha256;
use assent_domain::policy::{Effect, Input, Policy, RuleSummary};
use assent_domain::{CreateApproval, EventType, GrantEffect, NewEvent, Role};
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::app::{AppState, now};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};
use crate::json::ApiJson;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(show_policy))
        .routes(routes!(reload_policy))
        .routes(routes!(check))
}

/// The loaded policy as `GET /v1/policy` shows it.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct PolicyView {
    /// The file it was loaded from; empty when none is configured.
    pub source: String,
    pub default: Effect,
    #[schema(value_type = Vec<Object>)]
    pub rules: Vec<serde_json::Value>,
}

impl PolicyView {
    fn of(policy: &Policy) -> PolicyView {
        let rules: Vec<RuleSummary> = policy.rules();
        PolicyView {
            source: policy.source().to_owned(),
            default: policy.default_effect(),
            rules: rules
                .iter()
                .filter_map(|r| serde_json::to_value(r).ok())
                .collect(),
        }
    }
}

/// Show the loaded rules (approver+).
#[utoipa::path(get, path = "/v1/policy", tag = "policy",
    responses((status = 200, body = PolicyView), (status = 403, body = Problem)))]
async fn show_policy(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<PolicyView>> {
    caller.require(Role::Approver)?;
    Ok(Json(PolicyView::of(&state.policy.current())))
}

/// Re-reads the policy file and records `policy.reloaded`; a file that does
/// not load leaves the running policy in place. Shared by the API and SIGHUP.
pub async fn reload(state: &AppState, actor: &str) -> Result<Arc<Policy>, ApiError> {
    let policy = state.policy.reload().map_err(ApiError::BadRequest)?;
    let event = NewEvent {
        kind: EventType::PolicyReloaded,
        actor: actor.to_owned(),
        approval_id: None,
        data: json!({ "source": policy.source(), "rules": policy.rules().len() }),
    };
    state.store.record_event(event, now()).await?;
    Ok(policy)
}

/// Reload the policy file (admin). 400 with the file, rule and field when it
/// does not load; the running policy stays.
#[utoipa::path(post, path = "/v1/policy/reload", tag = "policy",
    responses((status = 200, body = PolicyView), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn reload_policy(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<PolicyView>> {
    let admin = caller.require(Role::Admin)?;
    let policy = reload(&state, &admin.name).await?;
    Ok(Json(PolicyView::of(&policy)))
}

/// What a request would get, and why.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct CheckResult {
    pub effect: Effect,
    /// The deciding rule; null when the policy's default applied.
    pub rule: Option<String>,
    pub reason: Option<String>,
    /// The grant that would answer instead of a person, if any.
    pub grant: Option<Uuid>,
}

/// Evaluate a request without recording anything.
#[utoipa::path(post, path = "/v1/check", tag = "policy", request_body = CreateApproval,
    responses((status = 200, body = CheckResult), (status = 400, body = Problem)))]
async fn check(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateApproval>,
) -> ApiResult<Json<CheckResult>> {
    body.validate(state.config.timeouts())
        .map_err(|e| ApiError::invalid(&e))?;
    let evaluation = state.policy.evaluate(&Input::new(&body, &caller.0.name));
    let mut result = CheckResult {
        effect: evaluation.effect,
        rule: evaluation.rule,
        reason: evaluation.reason,
        grant: None,
    };
    // Grants answer only what would otherwise ask: a deny rule is never overridden.
    if result.effect == Effect::Ask {
        let hash = args_sha256(&body.args);
        if let Some(grant) = state
            .store
            .matching_grant(&body.action, &hash, body.session_id.as_deref(), now())
            .await?
        {
            result.effect = match grant.effect {
                GrantEffect::Allow => Effect::Allow,
                GrantEffect::Deny => Effect::Deny,
            };
            result.grant = Some(grant.id);
        }
    }
    Ok(Json(result))
}
