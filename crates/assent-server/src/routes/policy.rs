//! `/v1/policy` (show, reload) and `/v1/check` (what the policy would answer).

use assent_api::{CheckResult, PolicyView};
use assent_domain::grant::{GrantRequest, args_sha256};
use assent_domain::policy::shell::command_parts;
use assent_domain::policy::{Effect, Input, Policy};
use assent_domain::{CreateApproval, GrantEffect, Role};
use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::body::ApiJson;
use crate::clock::now;
use crate::error::{ApiError, ApiResult, Problem};
use crate::running_policy;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(show_policy))
        .routes(routes!(reload_policy))
        .routes(routes!(check))
}

/// The policy as `GET /v1/policy` shows it.
fn policy_view(policy: &Policy) -> PolicyView {
    PolicyView {
        source: policy.source().to_owned(),
        default: policy.default_effect(),
        rules: policy
            .rules()
            .iter()
            .filter_map(|r| serde_json::to_value(r).ok())
            .collect(),
    }
}

/// Show the loaded rules (approver+).
#[utoipa::path(get, path = "/v1/policy", tag = "policy",
    responses((status = 200, body = PolicyView), (status = 403, body = Problem)))]
async fn show_policy(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<PolicyView>> {
    caller.require(Role::Approver)?;
    Ok(Json(policy_view(&state.policy.current())))
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
    let policy = running_policy::reload(&state.policy, state.store.as_ref(), &admin.name).await?;
    Ok(Json(policy_view(&policy)))
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
        parts: command_parts(&body.args),
    };
    // Grants answer only what would otherwise ask: a deny rule is never overridden.
    if result.effect == Effect::Ask {
        let hash = args_sha256(&body.args);
        let request = GrantRequest {
            action: &body.action,
            args: &body.args,
            args_sha256: &hash,
            requester: &caller.0.name,
            session_id: body.session_id.as_deref(),
        };
        if let Some(grant) = state.store.matching_grant(&request, now()).await? {
            result.effect = match grant.effect {
                GrantEffect::Allow => Effect::Allow,
                GrantEffect::Deny => Effect::Deny,
            };
            result.grant = Some(grant.id);
        }
    }
    Ok(Json(result))
}
