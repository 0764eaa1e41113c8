//! The two types every part of the policy engine shares: what a policy
//! answers ([`Effect`]) and the request it judges ([`Input`]). They live
//! apart from `mod.rs` so the rule, loader and example modules can use them
//! without depending on the engine that uses them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::approval::Risk;
use crate::request::CreateApproval;

/// What a policy answers. Ordered by precedence: `Deny` > `Ask` > `Allow`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    Allow,
    Ask,
    Deny,
}

impl Effect {
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "allow",
            Effect::Ask => "ask",
            Effect::Deny => "deny",
        }
    }

    pub fn parse(s: &str) -> Option<Effect> {
        [Effect::Allow, Effect::Ask, Effect::Deny]
            .into_iter()
            .find(|e| e.as_str() == s)
    }
}

/// The request a policy judges, borrowed from the caller.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub action: &'a str,
    pub args: &'a Map<String, Value>,
    pub labels: &'a BTreeMap<String, String>,
    /// Name of the principal asking.
    pub requester: &'a str,
    pub session_id: Option<&'a str>,
    /// The risk the request itself claims, if any (CEL `risk`).
    pub risk: Option<Risk>,
}

impl<'a> Input<'a> {
    pub fn new(request: &'a CreateApproval, requester: &'a str) -> Self {
        Self {
            action: &request.action,
            args: &request.args,
            labels: &request.labels,
            requester,
            session_id: request.session_id.as_deref(),
            risk: request.risk,
        }
    }
}
