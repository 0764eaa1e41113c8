//! The approval: one request for permission to perform one action.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::policy::shell::CommandPart;

/// Where an approval is in its lifecycle. `Pending` moves to exactly one of
/// the terminal statuses, which never change again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    Approved,
    Rejected,
    Expired,
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Pending,
        Status::Approved,
        Status::Rejected,
        Status::Expired,
        Status::Cancelled,
    ];

    pub fn is_terminal(self) -> bool {
        self != Status::Pending
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
            Status::Expired => "expired",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

/// How much harm the action could do; shown to reviewers.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    Low,
    #[default]
    Medium,
    High,
    Critical,
}

impl Risk {
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
            Risk::Critical => "critical",
        }
    }
}

/// A reviewer's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Approve,
    Reject,
}

/// What a decision is remembered for. Ordered from narrowest to widest, so the
/// narrowest among several approving reviews is their minimum.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    #[default]
    Once,
    Session,
    Timeboxed,
}

/// Which later requests a grant covers: identical args, shell command lines
/// whose every simple command starts with a prefix, or any args of the
/// action. Ordered from narrowest to widest.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GrantMatch {
    #[default]
    Exact,
    Command,
    Action,
}

/// One stage of a quorum: `min` approvals from members of `group`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuorumStage {
    pub group: String,
    pub min: u32,
    /// Always sent (possibly empty), so documented as required.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub approved_by: Vec<String>,
}

impl QuorumStage {
    pub fn is_met(&self) -> bool {
        self.approved_by.len() >= self.min as usize
    }
}

/// One principal's review of a pending approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Review {
    pub principal: String,
    pub decision: Verdict,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub scope: Scope,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_seconds: Option<u64>,
    /// Always sent, so documented as required.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub grant_match: GrantMatch,
    /// With `grant_match` `command`: the prefix every simple command of a
    /// later request must start with (at a word boundary) for the grant to answer it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_prefix: Option<String>,
    /// Present (and true) only when the matching rule allowed a requester to review its own approval.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub self_review: bool,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: OffsetDateTime,
}

/// How a terminal approval was decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Decision {
    pub status: Status,
    /// Principals, or `policy:<rule>`, `grant:<id>`, `system:expiry`.
    pub by: Vec<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub scope: Option<Scope>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: OffsetDateTime,
}

/// The actor name recorded when the expiry sweep decides an approval.
pub const EXPIRY_ACTOR: &str = "system:expiry";

/// One request for permission to perform one action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Approval {
    pub id: Uuid,
    pub status: Status,
    pub action: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub args: Map<String, Value>,
    pub summary: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub context: Map<String, Value>,
    pub risk: Risk,
    pub requester: String,
    pub session_id: Option<String>,
    pub run_id: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// The policy rule that matched, if any.
    pub rule: Option<String>,
    pub quorum: Vec<QuorumStage>,
    pub reviews: Vec<Review>,
    pub decision: Option<Decision>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub expires_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub decided_at: Option<OffsetDateTime>,
    pub receipt: Option<String>,
    /// When `approval.escalated` is due if still pending (from the rule's `escalate_after`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub escalate_at: Option<OffsetDateTime>,
    /// Set once `approval.escalated` has been emitted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub escalated: bool,
    /// Whether the matching rule lets the requester review its own approval.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_self_review: bool,
    /// When `args.command` is a shell command line: the simple commands the
    /// policy saw in it, each with its redirections. Absent for other
    /// requests and for lines that cannot be split.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts: Option<Vec<CommandPart>>,
}

impl Approval {
    /// Fills in [`Approval::parts`] from `args.command` (approvals stored
    /// before parts were recorded get them on the way out).
    pub fn with_parts(mut self) -> Self {
        if self.parts.is_none() {
            self.parts = crate::policy::shell::command_parts(&self.args);
        }
        self
    }

    /// Pending, but past its deadline: the next decisive write must be the expiry.
    pub fn is_overdue(&self, now: OffsetDateTime) -> bool {
        self.status == Status::Pending && self.expires_at <= now
    }

    /// Agents see only the approvals they requested.
    pub fn visible_to(&self, who: &crate::Principal) -> bool {
        who.sees_all_approvals() || self.requester == who.name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pending_is_not_terminal() {
        for st in Status::ALL {
            assert_eq!(st.is_terminal(), st != Status::Pending);
            assert_eq!(Status::parse(st.as_str()), Some(st));
        }
        assert_eq!(Status::parse("all"), None);
    }

    #[test]
    fn scope_order_is_narrowest_first() {
        assert!(Scope::Once < Scope::Session && Scope::Session < Scope::Timeboxed);
        assert_eq!(
            [Scope::Timeboxed, Scope::Once, Scope::Session]
                .into_iter()
                .min(),
            Some(Scope::Once)
        );
    }
}
