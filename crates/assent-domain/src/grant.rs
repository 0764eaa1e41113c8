//! Grants: remembered decisions that answer later identical requests
//! without a person (docs/api.md, "Grants"). A `session` grant answers the
//! same session; a `timeboxed` grant answers any session until its TTL passes.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::approval::{Approval, GrantMatch, Scope, Status, Verdict};
use crate::canonical::{canonical_json, sha256_hex};
use crate::event::{EventType, NewEvent};

/// A session grant lives until the session has been quiet this long.
pub const SESSION_QUIET: time::Duration = time::Duration::hours(24);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GrantEffect {
    Allow,
    Deny,
}

impl GrantEffect {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantEffect::Allow => "allow",
            GrantEffect::Deny => "deny",
        }
    }

    pub fn parse(s: &str) -> Option<GrantEffect> {
        [GrantEffect::Allow, GrantEffect::Deny]
            .into_iter()
            .find(|e| e.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Grant {
    pub id: Uuid,
    pub effect: GrantEffect,
    pub action: String,
    /// SHA-256 of the RFC 8785 canonical args; null when the grant covers any args.
    pub args_sha256: Option<String>,
    /// The session it answers; null for timeboxed grants.
    pub session_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub expires_at: OffsetDateTime,
    /// The approval whose decision this grant remembers.
    pub approval_id: Uuid,
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
}

/// The hash grants compare args by.
pub fn args_sha256(args: &Map<String, Value>) -> String {
    sha256_hex(&canonical_json(args))
}

/// The grant a just-decided approval leaves behind, if its decision's scope
/// asks for one. Approvals remember the narrowest approving scope and match
/// (`exact` when any approver said so, the shortest TTL); a rejection
/// remembers the rejecting review's.
pub fn from_decision(approval: &Approval, id: Uuid, now: OffsetDateTime) -> Option<Grant> {
    let decision = approval.decision.as_ref()?;
    let (effect, verdict) = match decision.status {
        Status::Approved => (GrantEffect::Allow, Verdict::Approve),
        Status::Rejected => (GrantEffect::Deny, Verdict::Reject),
        _ => return None,
    };
    let deciding: Vec<_> = match verdict {
        Verdict::Approve => approval
            .reviews
            .iter()
            .filter(|r| r.decision == Verdict::Approve)
            .collect(),
        Verdict::Reject => approval
            .reviews
            .iter()
            .rev()
            .find(|r| r.decision == Verdict::Reject)
            .into_iter()
            .collect(),
    };
    let last = deciding.last()?;
    let scope = deciding.iter().map(|r| r.scope).min()?;
    let exact = deciding.iter().any(|r| r.grant_match == GrantMatch::Exact);
    let (session_id, expires_at) = match scope {
        Scope::Once => return None,
        Scope::Session => (Some(approval.session_id.clone()?), now + SESSION_QUIET),
        Scope::Timeboxed => {
            let ttl = deciding.iter().filter_map(|r| r.ttl_seconds).min()?;
            (
                None,
                now + time::Duration::seconds(i64::try_from(ttl).ok()?),
            )
        }
    };
    Some(Grant {
        id,
        effect,
        action: approval.action.clone(),
        args_sha256: exact.then(|| args_sha256(&approval.args)),
        session_id,
        expires_at,
        approval_id: approval.id,
        created_by: last.principal.clone(),
        created_at: now,
    })
}

impl Grant {
    /// Whether this grant answers a request for `action` with args hashing to
    /// `args_sha256`, in `session_id`, at `now`.
    pub fn covers(
        &self,
        action: &str,
        args_sha256: &str,
        session_id: Option<&str>,
        now: OffsetDateTime,
    ) -> bool {
        self.expires_at > now
            && self.action == action
            && self.args_sha256.as_deref().is_none_or(|h| h == args_sha256)
            && self
                .session_id
                .as_deref()
                .is_none_or(|s| Some(s) == session_id)
    }

    /// The event recording this grant's creation.
    pub fn created_event(&self) -> NewEvent {
        NewEvent {
            kind: EventType::GrantCreated,
            actor: self.created_by.clone(),
            approval_id: Some(self.approval_id),
            data: json!({ "grant": self }),
        }
    }

    /// The event recording this grant's revocation by `actor`.
    pub fn revoked_event(&self, actor: &str) -> NewEvent {
        NewEvent {
            kind: EventType::GrantRevoked,
            actor: actor.to_owned(),
            approval_id: Some(self.approval_id),
            data: json!({ "grant_id": self.id, "action": self.action }),
        }
    }

    /// Decides a new pending approval the way this grant remembers; returns
    /// the decision's event.
    pub fn decide(&self, approval: &mut Approval, now: OffsetDateTime) -> NewEvent {
        let allow = self.effect == GrantEffect::Allow;
        let reason = format!(
            "{} by {} on approval {} (grant {})",
            if allow { "approved" } else { "rejected" },
            self.created_by,
            self.approval_id,
            self.id
        );
        crate::lifecycle::decide_at_once(
            approval,
            allow,
            format!("grant:{}", self.id),
            Some(reason),
            now,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::review;
    use crate::principal::{Principal, Role};
    use crate::request::{CreateApproval, Placement, ReviewRequest};
    use crate::testing::{LIMITS, t, who};

    fn pending(session: Option<&str>) -> Approval {
        let mut args = Map::new();
        args.insert("env".into(), json!("prod"));
        CreateApproval {
            action: "deploy".into(),
            args,
            session_id: session.map(str::to_owned),
            ..Default::default()
        }
        .into_pending(Uuid::now_v7(), "bot", Placement::default(), LIMITS, t(0))
    }

    fn approver(name: &str) -> Principal {
        who(name, Role::Approver, &["sre"])
    }

    fn decided(session: Option<&str>, request: ReviewRequest) -> Approval {
        let mut a = pending(session);
        review(&mut a, &approver("alice"), request, t(1)).unwrap();
        a
    }

    fn scoped(
        verdict: Verdict,
        scope: Scope,
        ttl: Option<u64>,
        grant_match: GrantMatch,
    ) -> ReviewRequest {
        ReviewRequest {
            decision: verdict,
            reason: None,
            scope,
            ttl_seconds: ttl,
            grant_match,
        }
    }

    #[test]
    fn once_leaves_no_grant() {
        let a = decided(Some("s1"), ReviewRequest::approve());
        assert!(from_decision(&a, Uuid::nil(), t(1)).is_none());
    }

    #[test]
    fn session_grant_covers_the_same_session_action_and_args_only() {
        let a = decided(
            Some("s1"),
            scoped(Verdict::Approve, Scope::Session, None, GrantMatch::Exact),
        );
        let g = from_decision(&a, Uuid::nil(), t(1)).unwrap();
        let same = args_sha256(&a.args);
        assert_eq!(
            (g.effect, g.session_id.as_deref(), g.expires_at),
            (GrantEffect::Allow, Some("s1"), t(1) + SESSION_QUIET)
        );
        assert!(g.covers("deploy", &same, Some("s1"), t(2)));
        assert!(!g.covers("deploy", &same, Some("s2"), t(2)));
        assert!(!g.covers("deploy", &same, None, t(2)));
        assert!(!g.covers("deploy", "other-args", Some("s1"), t(2)));
        assert!(!g.covers("shell", &same, Some("s1"), t(2)));
        assert!(!g.covers("deploy", &same, Some("s1"), t(1) + SESSION_QUIET));
    }

    #[test]
    fn action_match_covers_any_args() {
        let a = decided(
            Some("s1"),
            scoped(Verdict::Approve, Scope::Session, None, GrantMatch::Action),
        );
        let g = from_decision(&a, Uuid::nil(), t(1)).unwrap();
        assert_eq!(g.args_sha256, None);
        assert!(g.covers("deploy", "anything", Some("s1"), t(2)));
    }

    #[test]
    fn timeboxed_grant_covers_every_session_until_its_ttl() {
        let a = decided(
            None,
            scoped(
                Verdict::Approve,
                Scope::Timeboxed,
                Some(60),
                GrantMatch::Exact,
            ),
        );
        let g = from_decision(&a, Uuid::nil(), t(1)).unwrap();
        let same = args_sha256(&a.args);
        assert_eq!((g.session_id.clone(), g.expires_at), (None, t(61)));
        assert!(g.covers("deploy", &same, Some("any"), t(60)));
        assert!(!g.covers("deploy", &same, Some("any"), t(61)));
    }

    #[test]
    fn a_scoped_rejection_leaves_a_deny_grant_that_rejects() {
        let a = decided(
            Some("s1"),
            scoped(Verdict::Reject, Scope::Session, None, GrantMatch::Exact),
        );
        let g = from_decision(&a, Uuid::now_v7(), t(1)).unwrap();
        assert_eq!(g.effect, GrantEffect::Deny);
        let mut next = pending(Some("s1"));
        let event = g.decide(&mut next, t(2));
        assert_eq!(
            (next.status, event.kind),
            (Status::Rejected, EventType::ApprovalRejected)
        );
        assert_eq!(next.decision.unwrap().by, [format!("grant:{}", g.id)]);
    }

    #[test]
    fn quorum_grants_take_the_narrowest_scope_exact_match_and_shortest_ttl() {
        let placement = Placement {
            quorum: vec![crate::QuorumStage {
                group: "sre".into(),
                min: 2,
                approved_by: vec![],
            }],
            ..Default::default()
        };
        let mut a = CreateApproval {
            action: "deploy".into(),
            ..Default::default()
        }
        .into_pending(Uuid::now_v7(), "bot", placement, LIMITS, t(0));
        review(
            &mut a,
            &approver("alice"),
            scoped(
                Verdict::Approve,
                Scope::Timeboxed,
                Some(600),
                GrantMatch::Action,
            ),
            t(1),
        )
        .unwrap();
        review(
            &mut a,
            &approver("bob"),
            scoped(
                Verdict::Approve,
                Scope::Timeboxed,
                Some(60),
                GrantMatch::Exact,
            ),
            t(2),
        )
        .unwrap();
        let g = from_decision(&a, Uuid::nil(), t(2)).unwrap();
        assert_eq!(
            (g.expires_at, g.args_sha256.is_some(), g.created_by.as_str()),
            (t(62), true, "bob")
        );
    }
}
