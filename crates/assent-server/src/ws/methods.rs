//! The JSON-RPC methods. Each reads its params and calls the same
//! [`crate::operations`] and [`crate::event_stream`] as the HTTP routes.

use std::collections::BTreeMap;
use std::time::Duration;

use assent_api::ApprovalList;
use assent_domain::{CreateApproval, ReviewRequest};
use assent_store::{ApprovalFilter, CreateOutcome};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use tokio::sync::oneshot;
use uuid::Uuid;

use super::Connection;
use super::rpc::{self, METHOD_NOT_FOUND, RpcError};
use crate::event_stream::{self, Subscription};
use crate::operations::{self, DEFAULT_PAGE, MAX_PAGE, MAX_WAIT};
use crate::params::{
    check_seq, clamp_limit, parse_cursor, parse_duration, parse_event_type, parse_status,
};

/// A method's result, and for a subscription the signal that lets its
/// events flow once the result has been sent (so the reply comes first).
pub type Answer = (Value, Option<oneshot::Sender<()>>);

impl Connection {
    pub async fn dispatch(&self, method: &str, params: Value) -> Result<Answer, RpcError> {
        let state = &self.state;
        let caller = &self.caller;
        let value = match method {
            "approvals.create" => {
                let body: CreateApproval = rpc::params(params)?;
                let approval = match operations::create(state, caller, body, None).await? {
                    CreateOutcome::Created(a) | CreateOutcome::Replayed(a) => a,
                };
                to_value(approval)
            }
            "approvals.get" => {
                let IdParams { id } = rpc::params(params)?;
                to_value(operations::get(state, caller, id).await?)
            }
            "approvals.wait" => {
                let WaitParams { id, wait } = rpc::params(params)?;
                let wait = match wait {
                    None => MAX_WAIT,
                    Some(WaitParam::Seconds(s)) => Duration::from_secs(s).min(MAX_WAIT),
                    Some(WaitParam::Text(t)) => parse_duration("wait", &t, MAX_WAIT)?,
                };
                to_value(operations::wait(state, caller, id, wait).await?)
            }
            "approvals.list" => {
                let p: ListParams = rpc::params(params)?;
                let request = ApprovalFilter {
                    status: p.status.as_deref().map(parse_status).transpose()?.flatten(),
                    action: p.action,
                    requester: p.requester,
                    session_id: p.session_id,
                    run_id: p.run_id,
                    labels: p.labels.into_iter().collect(),
                    before: p.cursor.as_deref().map(parse_cursor).transpose()?,
                    limit: p
                        .limit
                        .map_or(Ok(DEFAULT_PAGE), |n| clamp_limit("limit", n, MAX_PAGE))?,
                };
                let page = operations::list(state, caller, request).await?;
                to_value(ApprovalList {
                    items: page.items,
                    next_cursor: page.next.map(|id| id.to_string()),
                })
            }
            "approvals.review" => {
                let (id, rest) = split_id(params)?;
                let review: ReviewRequest = rpc::params(rest)?;
                to_value(operations::review(state, caller, id, review).await?)
            }
            "approvals.cancel" => {
                let CancelParams { id, reason } = rpc::params(params)?;
                to_value(operations::cancel(state, caller, id, reason).await?)
            }
            "events.subscribe" => return self.subscribe(rpc::params(params)?),
            "events.unsubscribe" => {
                let UnsubscribeParams { subscription } = rpc::params(params)?;
                json!({"unsubscribed": self.unsubscribe(subscription)})
            }
            other => {
                return Err(RpcError::new(
                    METHOD_NOT_FOUND,
                    format!("method not found: {other:?}"),
                ));
            }
        };
        Ok((value, None))
    }

    fn subscribe(&self, p: SubscribeParams) -> Result<Answer, RpcError> {
        let after = p.after.map(|a| check_seq("after", a)).transpose()?;
        let types: Option<Vec<_>> = p
            .types
            .map(|types| types.iter().map(|t| parse_event_type(t)).collect())
            .transpose()?;
        let events = event_stream::start(
            self.state.clone(),
            Subscription {
                after,
                types,
                viewer: self.caller.0.clone(),
            },
        );
        let (release, released) = oneshot::channel();
        let id = self.forward(events, released);
        Ok((json!({"subscription": id}), Some(release)))
    }
}

fn to_value(body: impl Serialize) -> Value {
    serde_json::to_value(body).unwrap_or(Value::Null)
}

/// Takes `id` out of params whose rest is a type that refuses unknown fields.
fn split_id(params: Value) -> Result<(Uuid, Value), RpcError> {
    let mut object: Map<String, Value> = rpc::params(params)?;
    let IdParams { id } = rpc::params(json!({"id": object.remove("id")}))?;
    Ok((id, Value::Object(object)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IdParams {
    id: Uuid,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WaitParams {
    id: Uuid,
    #[serde(default)]
    wait: Option<WaitParam>,
}

/// Seconds, or a duration like `30s`.
#[derive(Deserialize)]
#[serde(untagged)]
enum WaitParam {
    Seconds(u64),
    Text(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    status: Option<String>,
    action: Option<String>,
    requester: Option<String>,
    session_id: Option<String>,
    run_id: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    limit: Option<u64>,
    cursor: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CancelParams {
    id: Uuid,
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubscribeParams {
    after: Option<i64>,
    types: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnsubscribeParams {
    subscription: u64,
}
