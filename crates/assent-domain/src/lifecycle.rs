//! The lifecycle: how a pending approval becomes approved, rejected, expired
//! or cancelled, who may move it, and which events record each move.
//!
//! Each transition checks everything against the approval as it stands and
//! either changes it and returns the events to append, or changes nothing and
//! says why. The store runs a transition on the freshly read row inside the
//! transaction that writes it, so "the first decisive write wins" holds.

use serde_json::json;
use time::OffsetDateTime;

use crate::approval::{Approval, Decision, EXPIRY_ACTOR, Review, Status, Verdict};
use crate::event::{EventType, NewEvent};
use crate::principal::{Principal, Role};
use crate::request::ReviewRequest;

/// Why a transition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    /// Already approved, rejected or cancelled (HTTP 409).
    #[error("the approval is already {}", .0.as_str())]
    AlreadyDecided(Status),
    /// Expired, or past its deadline (HTTP 410). The caller must record the
    /// expiry if the approval is still pending.
    #[error("the approval expired")]
    Expired,
    /// This principal already reviewed this approval (HTTP 409).
    #[error("{0} already reviewed this approval")]
    AlreadyReviewed(String),
    /// Not allowed to do this to this approval (HTTP 403).
    #[error("{0}")]
    NotEligible(String),
    /// The review does not fit this approval (HTTP 400).
    #[error(transparent)]
    Invalid(#[from] crate::request::InvalidField),
}

/// What a recorded review did to the approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewOutcome {
    /// Counted; the quorum still needs more approvals.
    Recorded,
    /// The review decided the approval.
    Decided(Status),
}

/// The event that records a new pending approval.
pub fn requested_event(approval: &Approval) -> NewEvent {
    NewEvent {
        kind: EventType::ApprovalRequested,
        actor: approval.requester.clone(),
        approval_id: Some(approval.id),
        data: json!({ "approval": approval }),
    }
}

fn pending_or_refuse(approval: &Approval, now: OffsetDateTime) -> Result<(), LifecycleError> {
    match approval.status {
        Status::Pending if approval.is_overdue(now) => Err(LifecycleError::Expired),
        Status::Pending => Ok(()),
        Status::Expired => Err(LifecycleError::Expired),
        decided => Err(LifecycleError::AlreadyDecided(decided)),
    }
}

/// A terminal status, so that mapping it to its event cannot meet `Pending`.
#[derive(Debug, Clone, Copy)]
enum Terminal {
    Approved,
    Rejected,
    Expired,
    Cancelled,
}

impl Terminal {
    fn of(status: Status) -> Option<Terminal> {
        match status {
            Status::Approved => Some(Terminal::Approved),
            Status::Rejected => Some(Terminal::Rejected),
            Status::Expired => Some(Terminal::Expired),
            Status::Cancelled => Some(Terminal::Cancelled),
            Status::Pending => None,
        }
    }

    fn status(self) -> Status {
        match self {
            Terminal::Approved => Status::Approved,
            Terminal::Rejected => Status::Rejected,
            Terminal::Expired => Status::Expired,
            Terminal::Cancelled => Status::Cancelled,
        }
    }

    fn event_type(self) -> EventType {
        match self {
            Terminal::Approved => EventType::ApprovalApproved,
            Terminal::Rejected => EventType::ApprovalRejected,
            Terminal::Expired => EventType::ApprovalExpired,
            Terminal::Cancelled => EventType::ApprovalCancelled,
        }
    }
}

/// The event recording `decision`; `actor` is the principal whose write
/// decided it (for a quorum, the reviewer who completed it).
fn event_for(
    approval: &Approval,
    decision: &Decision,
    outcome: Terminal,
    actor: String,
) -> NewEvent {
    NewEvent {
        kind: outcome.event_type(),
        actor,
        approval_id: Some(approval.id),
        data: json!({ "decision": decision }),
    }
}

/// Records a decision on `approval` and returns the event that records it;
/// `actor` decided it, `by` lists everyone the decision is credited to.
fn decide(
    approval: &mut Approval,
    outcome: Terminal,
    actor: &str,
    by: Vec<String>,
    reason: Option<String>,
    scope: Option<crate::Scope>,
    now: OffsetDateTime,
) -> NewEvent {
    let decision = Decision {
        status: outcome.status(),
        by,
        reason,
        scope,
        at: now,
    };
    let event = event_for(approval, &decision, outcome, actor.to_owned());
    approval.status = decision.status;
    approval.decided_at = Some(now);
    approval.decision = Some(decision);
    event
}

/// The event recording the decision of an approval decided before it was
/// stored (by policy or a grant, one decider); `None` while pending.
pub fn decision_event(approval: &Approval) -> Option<NewEvent> {
    let decision = approval.decision.as_ref()?;
    Some(event_for(
        approval,
        decision,
        Terminal::of(decision.status)?,
        decision.by.first().cloned().unwrap_or_default(),
    ))
}

/// Decides a new approval at once by policy: `rule` is the deciding rule's
/// name, `None` for the policy's default.
pub fn decide_by_policy(
    approval: &mut Approval,
    allow: bool,
    rule: Option<&str>,
    reason: Option<String>,
    now: OffsetDateTime,
) -> NewEvent {
    let by = format!("policy:{}", rule.unwrap_or("default"));
    decide_at_once(approval, allow, by, reason, now)
}

/// Decides a new approval before anyone reviews it: approved or rejected by
/// `by` (`policy:<rule>` or `grant:<id>`).
pub fn decide_at_once(
    approval: &mut Approval,
    allow: bool,
    by: String,
    reason: Option<String>,
    now: OffsetDateTime,
) -> NewEvent {
    let outcome = if allow {
        Terminal::Approved
    } else {
        Terminal::Rejected
    };
    decide(approval, outcome, &by, vec![by.clone()], reason, None, now)
}

/// Whether `who` may review at all, and which quorum stage (if any) an
/// approval from `who` counts toward.
fn eligible_stage(
    approval: &Approval,
    who: &Principal,
    verdict: Verdict,
) -> Result<Option<usize>, LifecycleError> {
    if who.role == Role::Agent {
        return Err(LifecycleError::NotEligible(
            "agents cannot review approvals".into(),
        ));
    }
    if approval.quorum.is_empty() {
        return Ok(None);
    }
    let member_of: Vec<usize> = (0..approval.quorum.len())
        .filter(|&i| who.in_group(&approval.quorum[i].group))
        .collect();
    if member_of.is_empty() {
        let groups: Vec<&str> = approval.quorum.iter().map(|s| s.group.as_str()).collect();
        return Err(LifecycleError::NotEligible(format!(
            "{} is not in any group this approval's quorum needs ({})",
            who.name,
            groups.join(", ")
        )));
    }
    if verdict == Verdict::Reject {
        return Ok(None);
    }
    // One approval counts once: toward the first of the principal's stages still short of its minimum.
    match member_of
        .into_iter()
        .find(|&i| !approval.quorum[i].is_met())
    {
        Some(stage) => Ok(Some(stage)),
        None => Err(LifecycleError::NotEligible(format!(
            "every quorum stage {} can approve for already has its approvals",
            who.name
        ))),
    }
}

/// Records `who`'s review. Refuses reviews of decided or overdue approvals,
/// self-reviews (unless the rule allows them), second reviews and ineligible
/// reviewers. Returns what happened and the events to append, in order.
pub fn review(
    approval: &mut Approval,
    who: &Principal,
    request: ReviewRequest,
    now: OffsetDateTime,
) -> Result<(ReviewOutcome, Vec<NewEvent>), LifecycleError> {
    pending_or_refuse(approval, now)?;
    let self_review = who.name == approval.requester;
    if self_review && !approval.allow_self_review {
        return Err(LifecycleError::NotEligible(format!(
            "separation of duties: {} requested this approval and cannot review it",
            who.name
        )));
    }
    if approval.reviews.iter().any(|r| r.principal == who.name) {
        return Err(LifecycleError::AlreadyReviewed(who.name.clone()));
    }
    let stage = eligible_stage(approval, who, request.decision)?;
    if request.scope == crate::Scope::Session && approval.session_id.is_none() {
        return Err(crate::request::InvalidField::new(
            "scope",
            "session needs an approval made with a session_id",
        )
        .into());
    }

    let command_prefix = match (request.grant_match, request.scope) {
        (crate::GrantMatch::Command, crate::Scope::Session | crate::Scope::Timeboxed) => Some(
            crate::request::command_prefix(approval, request.command_prefix.as_deref())?,
        ),
        _ => None,
    };

    let review = Review {
        principal: who.name.clone(),
        decision: request.decision,
        reason: request.reason,
        scope: request.scope,
        ttl_seconds: request.ttl_seconds,
        grant_match: request.grant_match,
        command_prefix,
        self_review,
        at: now,
    };
    if let Some(i) = stage {
        approval.quorum[i].approved_by.push(who.name.clone());
    }
    let mut events = vec![NewEvent {
        kind: EventType::ApprovalReviewed,
        actor: who.name.clone(),
        approval_id: Some(approval.id),
        data: json!({ "review": &review, "quorum": &approval.quorum }),
    }];
    approval.reviews.push(review.clone());

    let outcome = match review.decision {
        Verdict::Reject => Terminal::Rejected,
        Verdict::Approve if approval.quorum.iter().all(|s| s.is_met()) => Terminal::Approved,
        Verdict::Approve => return Ok((ReviewOutcome::Recorded, events)),
    };
    let (by, scope) = if review.decision == Verdict::Approve {
        let approving = approval
            .reviews
            .iter()
            .filter(|r| r.decision == Verdict::Approve);
        (
            approving.clone().map(|r| r.principal.clone()).collect(),
            approving.map(|r| r.scope).min(),
        )
    } else {
        (vec![who.name.clone()], Some(review.scope))
    };
    events.push(decide(
        approval,
        outcome,
        &who.name,
        by,
        review.reason,
        scope,
        now,
    ));
    Ok((ReviewOutcome::Decided(outcome.status()), events))
}

/// Cancels a pending approval on behalf of its requester or an admin.
pub fn cancel(
    approval: &mut Approval,
    who: &Principal,
    reason: Option<String>,
    now: OffsetDateTime,
) -> Result<NewEvent, LifecycleError> {
    if who.name != approval.requester && who.role != Role::Admin {
        return Err(LifecycleError::NotEligible(
            "only the requester or an admin can cancel an approval".into(),
        ));
    }
    match pending_or_refuse(approval, now) {
        Ok(()) => Ok(decide(
            approval,
            Terminal::Cancelled,
            &who.name,
            vec![who.name.clone()],
            reason,
            None,
            now,
        )),
        // Cancelling something already over is a conflict, whichever way it ended.
        Err(LifecycleError::Expired) => Err(LifecycleError::AlreadyDecided(Status::Expired)),
        Err(e) => Err(e),
    }
}

/// Expires a pending approval whose deadline has passed; `None` otherwise.
pub fn expire(approval: &mut Approval, now: OffsetDateTime) -> Option<NewEvent> {
    if !approval.is_overdue(now) {
        return None;
    }
    Some(decide(
        approval,
        Terminal::Expired,
        EXPIRY_ACTOR,
        vec![EXPIRY_ACTOR.to_owned()],
        None,
        None,
        now,
    ))
}

/// The actor recorded on `approval.escalated`.
pub const ESCALATION_ACTOR: &str = "system:escalation";

/// Marks a pending approval escalated once its `escalate_at` has passed;
/// `None` if it is not due, not pending, or already escalated.
pub fn escalate(approval: &mut Approval, now: OffsetDateTime) -> Option<NewEvent> {
    let due = approval.escalate_at.filter(|at| *at <= now)?;
    if approval.status != Status::Pending || approval.escalated {
        return None;
    }
    approval.escalated = true;
    Some(NewEvent {
        kind: EventType::ApprovalEscalated,
        actor: ESCALATION_ACTOR.to_owned(),
        approval_id: Some(approval.id),
        data: json!({
            "escalate_at": due.format(&time::format_description::well_known::Rfc3339).ok(),
            "rule": approval.rule,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approval::{QuorumStage, Scope};
    use crate::request::{CreateApproval, Placement};
    use crate::testing::{LIMITS, t, who};
    use uuid::Uuid;

    fn approver(name: &str) -> Principal {
        who(name, Role::Approver, &[])
    }

    fn pending_with(placement: Placement) -> Approval {
        CreateApproval {
            action: "deploy".into(),
            ..Default::default()
        }
        .into_pending(Uuid::nil(), "bot", placement, LIMITS, t(0))
    }

    fn pending() -> Approval {
        pending_with(Placement::default())
    }

    fn quorum(stages: &[(&str, u32)]) -> Placement {
        Placement {
            quorum: stages
                .iter()
                .map(|(g, min)| QuorumStage {
                    group: g.to_string(),
                    min: *min,
                    approved_by: vec![],
                })
                .collect(),
            ..Default::default()
        }
    }

    fn kinds(events: &[NewEvent]) -> Vec<EventType> {
        events.iter().map(|e| e.kind).collect()
    }

    #[test]
    fn one_approver_decides_without_a_quorum() {
        let mut a = pending();
        let (outcome, events) =
            review(&mut a, &approver("alice"), ReviewRequest::approve(), t(1)).unwrap();
        assert_eq!(outcome, ReviewOutcome::Decided(Status::Approved));
        assert_eq!(
            kinds(&events),
            [EventType::ApprovalReviewed, EventType::ApprovalApproved]
        );
        let d = a.decision.as_ref().unwrap();
        assert_eq!(
            (a.status, d.by.clone(), d.scope, a.decided_at),
            (
                Status::Approved,
                vec!["alice".to_string()],
                Some(Scope::Once),
                Some(t(1))
            )
        );
    }

    #[test]
    fn reject_decides_at_once_with_its_reason() {
        let mut a = pending();
        let mut r = ReviewRequest::reject();
        r.reason = Some("not today".into());
        let (outcome, events) = review(&mut a, &approver("alice"), r, t(1)).unwrap();
        assert_eq!(outcome, ReviewOutcome::Decided(Status::Rejected));
        assert_eq!(
            kinds(&events),
            [EventType::ApprovalReviewed, EventType::ApprovalRejected]
        );
        assert_eq!(a.decision.unwrap().reason.as_deref(), Some("not today"));
    }

    #[test]
    fn terminal_approvals_refuse_every_transition() {
        let mut a = pending();
        review(&mut a, &approver("alice"), ReviewRequest::approve(), t(1)).unwrap();
        let before = a.clone();
        assert_eq!(
            review(&mut a, &approver("bob"), ReviewRequest::reject(), t(2)).unwrap_err(),
            LifecycleError::AlreadyDecided(Status::Approved)
        );
        assert_eq!(
            cancel(&mut a, &who("bot", Role::Agent, &[]), None, t(2)).unwrap_err(),
            LifecycleError::AlreadyDecided(Status::Approved)
        );
        assert!(expire(&mut a, t(10_000)).is_none());
        assert_eq!(a, before, "a refused transition changes nothing");
    }

    #[test]
    fn expiry_happens_only_at_or_after_the_deadline() {
        let mut a = pending();
        assert!(expire(&mut a, t(59)).is_none());
        let event = expire(&mut a, t(60)).unwrap();
        assert_eq!(event.kind, EventType::ApprovalExpired);
        assert_eq!(event.actor, EXPIRY_ACTOR);
        assert_eq!(a.status, Status::Expired);
        assert_eq!(a.decision.unwrap().by, vec![EXPIRY_ACTOR.to_string()]);
    }

    #[test]
    fn a_review_after_the_deadline_loses_to_the_expiry() {
        let mut a = pending();
        let before = a.clone();
        assert_eq!(
            review(&mut a, &approver("alice"), ReviewRequest::approve(), t(60)).unwrap_err(),
            LifecycleError::Expired
        );
        assert_eq!(a, before);
        expire(&mut a, t(61)).unwrap();
        assert_eq!(
            review(&mut a, &approver("alice"), ReviewRequest::approve(), t(62)).unwrap_err(),
            LifecycleError::Expired
        );
    }

    #[test]
    fn requesters_never_review_their_own_approval_whatever_their_role() {
        for role in [Role::Approver, Role::Admin] {
            let mut a = pending();
            a.requester = "alice".into();
            let err = review(
                &mut a,
                &who("alice", role, &[]),
                ReviewRequest::approve(),
                t(1),
            )
            .unwrap_err();
            assert!(
                matches!(err, LifecycleError::NotEligible(ref m) if m.contains("separation of duties")),
                "{err}"
            );
            assert!(a.reviews.is_empty());
        }
    }

    #[test]
    fn self_review_is_recorded_as_such_when_the_rule_allows_it() {
        let mut a = pending_with(Placement {
            allow_self_review: true,
            ..Default::default()
        });
        a.requester = "alice".into();
        review(&mut a, &approver("alice"), ReviewRequest::approve(), t(1)).unwrap();
        assert!(a.reviews[0].self_review);
        assert_eq!(a.status, Status::Approved);
    }

    #[test]
    fn agents_never_review() {
        let mut a = pending();
        let err = review(
            &mut a,
            &who("other-bot", Role::Agent, &[]),
            ReviewRequest::approve(),
            t(1),
        )
        .unwrap_err();
        assert!(matches!(err, LifecycleError::NotEligible(_)));
    }

    #[test]
    fn quorum_needs_every_stage_and_counts_each_principal_once() {
        let mut a = pending_with(quorum(&[("sre", 2), ("security", 1)]));
        let alice = who("alice", Role::Approver, &["sre"]);
        let bob = who("bob", Role::Approver, &["sre", "security"]);
        let carol = who("carol", Role::Approver, &["security"]);
        let dave = who("dave", Role::Approver, &["sre"]);

        assert_eq!(
            review(&mut a, &alice, ReviewRequest::approve(), t(1))
                .unwrap()
                .0,
            ReviewOutcome::Recorded
        );
        // bob counts toward sre (his first unmet stage), not security too.
        assert_eq!(
            review(&mut a, &bob, ReviewRequest::approve(), t(2))
                .unwrap()
                .0,
            ReviewOutcome::Recorded
        );
        assert_eq!(a.quorum[0].approved_by, ["alice", "bob"]);
        assert!(a.quorum[1].approved_by.is_empty());
        // sre is full: dave has nothing left to approve for.
        assert!(matches!(
            review(&mut a, &dave, ReviewRequest::approve(), t(3)),
            Err(LifecycleError::NotEligible(_))
        ));
        assert_eq!(a.status, Status::Pending);
        let (outcome, events) = review(&mut a, &carol, ReviewRequest::approve(), t(4)).unwrap();
        assert_eq!(outcome, ReviewOutcome::Decided(Status::Approved));
        assert_eq!(
            kinds(&events),
            [EventType::ApprovalReviewed, EventType::ApprovalApproved]
        );
        assert_eq!(a.decision.unwrap().by, ["alice", "bob", "carol"]);
    }

    #[test]
    fn the_decision_event_names_the_reviewer_whose_review_completed_the_quorum() {
        let mut a = pending_with(quorum(&[("sre", 2)]));
        let sre = |name: &str| who(name, Role::Approver, &["sre"]);
        review(&mut a, &sre("alice"), ReviewRequest::approve(), t(1)).unwrap();
        let (_, events) = review(&mut a, &sre("bob"), ReviewRequest::approve(), t(2)).unwrap();
        let approved = events
            .iter()
            .find(|e| e.kind == EventType::ApprovalApproved)
            .unwrap();
        assert_eq!(approved.actor, "bob");
        assert_eq!(
            a.decision.as_ref().unwrap().by,
            vec!["alice".to_string(), "bob".to_string()]
        );
    }

    #[test]
    fn quorum_refuses_principals_outside_its_groups_even_admins() {
        let mut a = pending_with(quorum(&[("sre", 1)]));
        let err = review(
            &mut a,
            &who("root", Role::Admin, &["ops"]),
            ReviewRequest::approve(),
            t(1),
        )
        .unwrap_err();
        assert!(
            matches!(err, LifecycleError::NotEligible(ref m) if m.contains("sre")),
            "{err}"
        );
    }

    #[test]
    fn first_eligible_reject_decides_a_quorum() {
        let mut a = pending_with(quorum(&[("sre", 2), ("security", 1)]));
        review(
            &mut a,
            &who("alice", Role::Approver, &["sre"]),
            ReviewRequest::approve(),
            t(1),
        )
        .unwrap();
        let (outcome, _) = review(
            &mut a,
            &who("carol", Role::Approver, &["security"]),
            ReviewRequest::reject(),
            t(2),
        )
        .unwrap();
        assert_eq!(outcome, ReviewOutcome::Decided(Status::Rejected));
        assert_eq!(a.decision.unwrap().by, ["carol"]);
    }

    #[test]
    fn a_principal_reviews_at_most_once() {
        let mut a = pending_with(quorum(&[("sre", 2)]));
        let alice = who("alice", Role::Approver, &["sre"]);
        review(&mut a, &alice, ReviewRequest::approve(), t(1)).unwrap();
        assert_eq!(
            review(&mut a, &alice, ReviewRequest::approve(), t(2)).unwrap_err(),
            LifecycleError::AlreadyReviewed("alice".into())
        );
        assert_eq!(a.reviews.len(), 1);
    }

    #[test]
    fn decision_scope_is_the_narrowest_approving_scope() {
        let mut a = pending_with(quorum(&[("sre", 2)]));
        a.session_id = Some("sess-1".into());
        let mut session = ReviewRequest::approve();
        session.scope = Scope::Session;
        let mut timeboxed = ReviewRequest::approve();
        timeboxed.scope = Scope::Timeboxed;
        timeboxed.ttl_seconds = Some(60);
        review(
            &mut a,
            &who("alice", Role::Approver, &["sre"]),
            timeboxed,
            t(1),
        )
        .unwrap();
        review(&mut a, &who("bob", Role::Approver, &["sre"]), session, t(2)).unwrap();
        assert_eq!(a.decision.unwrap().scope, Some(Scope::Session));
    }

    #[test]
    fn session_scope_needs_a_session() {
        let mut a = pending();
        let mut r = ReviewRequest::approve();
        r.scope = Scope::Session;
        let err = review(&mut a, &approver("alice"), r, t(1)).unwrap_err();
        assert!(
            matches!(err, LifecycleError::Invalid(ref f) if f.field == "scope"),
            "{err}"
        );
        assert!(a.reviews.is_empty());
    }

    #[test]
    fn cancel_is_for_the_requester_or_an_admin() {
        let mut a = pending();
        assert!(matches!(
            cancel(&mut a, &approver("alice"), None, t(1)),
            Err(LifecycleError::NotEligible(_))
        ));
        let event = cancel(
            &mut a,
            &who("bot", Role::Agent, &[]),
            Some("changed my mind".into()),
            t(1),
        )
        .unwrap();
        assert_eq!(event.kind, EventType::ApprovalCancelled);
        assert_eq!(a.status, Status::Cancelled);

        let mut b = pending();
        cancel(&mut b, &who("root", Role::Admin, &[]), None, t(1)).unwrap();
        assert_eq!(b.decision.unwrap().by, ["root"]);
    }

    #[test]
    fn cancelling_an_overdue_approval_is_a_conflict() {
        let mut a = pending();
        assert_eq!(
            cancel(&mut a, &who("bot", Role::Agent, &[]), None, t(60)).unwrap_err(),
            LifecycleError::AlreadyDecided(Status::Expired)
        );
        assert_eq!(a.status, Status::Pending);
    }

    #[test]
    fn policy_decides_at_once_in_the_rule_s_name() {
        let mut a = pending();
        assert!(
            decision_event(&a).is_none(),
            "pending approvals have no decision event"
        );
        let event = decide_by_policy(
            &mut a,
            false,
            Some("no-force-push"),
            Some("never".into()),
            t(0),
        );
        assert_eq!(
            (a.status, event.kind, event.actor.as_str()),
            (
                Status::Rejected,
                EventType::ApprovalRejected,
                "policy:no-force-push"
            )
        );
        assert_eq!(decision_event(&a), Some(event));
        let mut b = pending();
        decide_by_policy(&mut b, true, None, None, t(0));
        assert_eq!(
            (b.status, b.decision.unwrap().by),
            (Status::Approved, vec!["policy:default".to_string()])
        );
    }

    #[test]
    fn escalation_happens_once_when_due_and_only_while_pending() {
        let placement = Placement {
            escalate_after: Some(std::time::Duration::from_secs(10)),
            ..Default::default()
        };
        let mut a = pending_with(placement.clone());
        assert_eq!(a.escalate_at, Some(t(10)));
        assert!(escalate(&mut a, t(9)).is_none());
        let event = escalate(&mut a, t(10)).unwrap();
        assert_eq!(
            (event.kind, event.actor.as_str(), a.escalated),
            (EventType::ApprovalEscalated, ESCALATION_ACTOR, true)
        );
        assert!(escalate(&mut a, t(11)).is_none(), "once");

        let mut decided = pending_with(placement);
        review(
            &mut decided,
            &approver("alice"),
            ReviewRequest::approve(),
            t(1),
        )
        .unwrap();
        assert!(escalate(&mut decided, t(20)).is_none());

        let late = Placement {
            escalate_after: Some(std::time::Duration::from_secs(600)),
            ..Default::default()
        };
        assert_eq!(
            pending_with(late).escalate_at,
            None,
            "no escalation after the deadline"
        );
    }

    #[test]
    fn requested_event_carries_the_whole_approval() {
        let a = pending();
        let e = requested_event(&a);
        assert_eq!(
            (e.kind, e.actor.as_str(), e.approval_id),
            (EventType::ApprovalRequested, "bot", Some(a.id))
        );
        assert_eq!(e.data["approval"]["action"], "deploy");
    }
}
