//! Grants: remembered decisions that answer later identical requests
//! without a person (docs/api.md, "Grants"). A `session` grant answers the
//! same requester in the same session; a `timeboxed` grant answers anyone in
//! any session until its TTL passes.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::approval::{Approval, GrantMatch, Scope, Status, Verdict};
use crate::canonical::{canonical_json, sha256_hex};
use crate::event::{EventType, NewEvent};
use crate::policy::shell::{self, starts_with_words};

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
    /// The requester it answers (session grants); null for timeboxed grants,
    /// which answer anyone.
    #[serde(default)]
    pub requester: Option<String>,
    /// Set for `grant_match` `command`: the grant answers shell requests
    /// whose every simple command starts with these words and writes no file.
    #[serde(default)]
    pub command_prefix: Option<String>,
    /// What the grant answers, in words.
    #[serde(default)]
    pub covers: String,
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

/// A later request a grant may answer.
#[derive(Debug, Clone, Copy)]
pub struct GrantRequest<'a> {
    pub action: &'a str,
    pub args: &'a Map<String, Value>,
    /// [`args_sha256`] of `args`.
    pub args_sha256: &'a str,
    pub requester: &'a str,
    pub session_id: Option<&'a str>,
}

/// Whether every simple command of `line` starts with `prefix` at a word
/// boundary and writes no file (a line that cannot be split never does).
pub fn command_within(line: &str, prefix: &str) -> bool {
    match shell::split(line) {
        Ok(parts) => {
            !parts.is_empty()
                && parts
                    .iter()
                    .all(|p| !p.writes_file() && starts_with_words(&p.text, prefix))
        }
        Err(_) => false,
    }
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
    // The narrowest match any deciding review asked for; among command
    // prefixes (all beginning the same approved command) the longest.
    let grant_match = deciding.iter().map(|r| r.grant_match).min()?;
    let command_prefix = match grant_match {
        GrantMatch::Command => Some(
            deciding
                .iter()
                .filter(|r| r.grant_match == GrantMatch::Command)
                .filter_map(|r| r.command_prefix.clone())
                .max_by_key(String::len)?,
        ),
        _ => None,
    };
    let (session_id, requester, expires_at) = match scope {
        Scope::Once => return None,
        Scope::Session => (
            Some(approval.session_id.clone()?),
            Some(approval.requester.clone()),
            now + SESSION_QUIET,
        ),
        Scope::Timeboxed => {
            let ttl = deciding.iter().filter_map(|r| r.ttl_seconds).min()?;
            (
                None,
                None,
                now + time::Duration::seconds(i64::try_from(ttl).ok()?),
            )
        }
    };
    let mut grant = Grant {
        id,
        effect,
        action: approval.action.clone(),
        args_sha256: (grant_match == GrantMatch::Exact).then(|| args_sha256(&approval.args)),
        session_id,
        requester,
        command_prefix,
        covers: String::new(),
        expires_at,
        approval_id: approval.id,
        created_by: last.principal.clone(),
        created_at: now,
    };
    grant.covers = grant.describe();
    Some(grant)
}

impl Grant {
    /// Whether this grant answers `request` at `now`: same action; the
    /// same args, or any args, or (command grants) a shell line within its
    /// prefix; the same session and requester for session grants.
    pub fn answers(&self, request: &GrantRequest<'_>, now: OffsetDateTime) -> bool {
        self.expires_at > now
            && self.action == request.action
            && self
                .args_sha256
                .as_deref()
                .is_none_or(|h| h == request.args_sha256)
            && self
                .session_id
                .as_deref()
                .is_none_or(|s| Some(s) == request.session_id)
            && self
                .requester
                .as_deref()
                .is_none_or(|r| r == request.requester)
            && self.command_prefix.as_deref().is_none_or(|prefix| {
                matches!(request.args.get("command"), Some(Value::String(line)) if command_within(line, prefix))
            })
    }

    /// What the grant answers, in words, e.g. `allows shell requests whose
    /// every command starts with "npm test" and writes no file, from ci-bot
    /// in session s1`.
    pub fn describe(&self) -> String {
        let verb = match self.effect {
            GrantEffect::Allow => "allows",
            GrantEffect::Deny => "rejects",
        };
        let what = match (&self.command_prefix, &self.args_sha256) {
            (Some(prefix), _) => format!(
                "{} requests whose every command starts with {prefix:?} and writes no file",
                self.action
            ),
            (None, Some(_)) => format!("{} with exactly the approved args", self.action),
            (None, None) => format!("{} with any args", self.action),
        };
        let who = match (&self.requester, &self.session_id) {
            (Some(requester), Some(session)) => format!("from {requester} in session {session}"),
            (None, Some(session)) => format!("in session {session}"),
            (Some(requester), None) => format!("from {requester}, any session"),
            (None, None) => "from anyone, any session".to_owned(),
        };
        format!("{verb} {what}, {who}")
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

    fn covers(
        g: &Grant,
        action: &str,
        hash: &str,
        session: Option<&str>,
        now: OffsetDateTime,
    ) -> bool {
        answers(g, action, &Map::new(), hash, "bot", session, now)
    }

    fn answers(
        g: &Grant,
        action: &str,
        args: &Map<String, Value>,
        hash: &str,
        requester: &str,
        session: Option<&str>,
        now: OffsetDateTime,
    ) -> bool {
        g.answers(
            &GrantRequest {
                action,
                args,
                args_sha256: hash,
                requester,
                session_id: session,
            },
            now,
        )
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
            command_prefix: None,
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
        assert!(covers(&g, "deploy", &same, Some("s1"), t(2)));
        assert!(!covers(&g, "deploy", &same, Some("s2"), t(2)));
        assert!(!covers(&g, "deploy", &same, None, t(2)));
        assert!(!covers(&g, "deploy", "other-args", Some("s1"), t(2)));
        assert!(!covers(&g, "shell", &same, Some("s1"), t(2)));
        assert!(!covers(
            &g,
            "deploy",
            &same,
            Some("s1"),
            t(1) + SESSION_QUIET
        ));
    }

    #[test]
    fn action_match_covers_any_args() {
        let a = decided(
            Some("s1"),
            scoped(Verdict::Approve, Scope::Session, None, GrantMatch::Action),
        );
        let g = from_decision(&a, Uuid::nil(), t(1)).unwrap();
        assert_eq!(g.args_sha256, None);
        assert!(covers(&g, "deploy", "anything", Some("s1"), t(2)));
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
        assert!(covers(&g, "deploy", &same, Some("any"), t(60)));
        assert!(!covers(&g, "deploy", &same, Some("any"), t(61)));
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

    #[test]
    fn a_session_grant_answers_only_its_requester() {
        let a = decided(
            Some("s1"),
            scoped(Verdict::Approve, Scope::Session, None, GrantMatch::Exact),
        );
        let g = from_decision(&a, Uuid::nil(), t(1)).unwrap();
        let same = args_sha256(&a.args);
        assert_eq!(g.requester.as_deref(), Some("bot"));
        assert!(answers(
            &g,
            "deploy",
            &a.args,
            &same,
            "bot",
            Some("s1"),
            t(2)
        ));
        assert!(!answers(
            &g,
            "deploy",
            &a.args,
            &same,
            "agent-2",
            Some("s1"),
            t(2)
        ));
    }

    fn shell_pending(command: &str, session: Option<&str>) -> Approval {
        let mut args = Map::new();
        args.insert("command".into(), json!(command));
        CreateApproval {
            action: "shell".into(),
            args,
            session_id: session.map(str::to_owned),
            ..Default::default()
        }
        .into_pending(Uuid::now_v7(), "bot", Placement::default(), LIMITS, t(0))
    }

    fn command_review(prefix: Option<&str>) -> ReviewRequest {
        ReviewRequest {
            command_prefix: prefix.map(str::to_owned),
            ..scoped(Verdict::Approve, Scope::Session, None, GrantMatch::Command)
        }
    }

    fn line_args(line: &str) -> Map<String, Value> {
        let mut args = Map::new();
        args.insert("command".into(), json!(line));
        args
    }

    #[test]
    fn a_command_grant_answers_lines_within_its_prefix_only() {
        let mut a = shell_pending("npm test -- --watch", Some("s1"));
        review(&mut a, &approver("alice"), command_review(None), t(1)).unwrap();
        let g = from_decision(&a, Uuid::nil(), t(1)).unwrap();
        assert_eq!(
            (g.command_prefix.as_deref(), g.args_sha256.as_deref()),
            (Some("npm test"), None)
        );
        assert!(g.covers.contains("\"npm test\""), "{}", g.covers);
        let ok = |line: &str, who: &str| {
            let args = line_args(line);
            answers(
                &g,
                "shell",
                &args,
                &args_sha256(&args),
                who,
                Some("s1"),
                t(2),
            )
        };
        for line in [
            "npm test",
            "npm test -- -u",
            "npm   test 2>&1",
            "npm test && npm test -u",
        ] {
            assert!(ok(line, "bot"), "{line}");
        }
        for line in [
            "npm test && rm -rf /",
            "npm testx",
            "npm test > ~/.bashrc",
            "npm run evil",
            "npm test $(rm -rf /)",
            "sudo npm test",
            "npm test 'unbalanced",
            "",
        ] {
            assert!(!ok(line, "bot"), "{line}");
        }
        assert!(!ok("npm test", "agent-2"));
    }

    #[test]
    fn a_command_prefix_must_begin_every_part_of_the_approved_command() {
        let mut a = shell_pending("npm test && rm -rf /", Some("s1"));
        let err = review(
            &mut a,
            &approver("alice"),
            command_review(Some("npm test")),
            t(1),
        )
        .unwrap_err();
        assert!(err.to_string().contains("command_prefix"), "{err}");
        let mut b = shell_pending("git status && git diff", Some("s1"));
        let err = review(&mut b, &approver("alice"), command_review(None), t(1)).unwrap_err();
        assert!(err.to_string().contains("grant_match"), "{err}");
        review(
            &mut b,
            &approver("alice"),
            command_review(Some("git")),
            t(1),
        )
        .unwrap();
        let g = from_decision(&b, Uuid::nil(), t(1)).unwrap();
        assert_eq!(g.command_prefix.as_deref(), Some("git"));
        let mut c = pending(Some("s1"));
        let err = review(&mut c, &approver("alice"), command_review(None), t(1)).unwrap_err();
        assert!(err.to_string().contains("args.command"), "{err}");
        let mut d = shell_pending("npm test", Some("s1"));
        let err = review(
            &mut d,
            &approver("alice"),
            command_review(Some("npm tes")),
            t(1),
        )
        .unwrap_err();
        assert!(err.to_string().contains("command_prefix"), "{err}");
    }

    proptest::proptest! {
        #[test]
        fn a_command_grant_never_answers_a_part_outside_its_prefix(
            words in proptest::collection::vec("[a-z0-9-]{1,6}", 0..4),
            other in "[a-z]{1,8}( [a-z-]{1,6}){0,2}",
            joiner in proptest::sample::select(vec![" && ", " | ", "; ", "\n", " & ", " || "]),
            first in proptest::bool::ANY,
        ) {
            // Reserved words alone (`do`, `fi`, `time`) run nothing, so they
            // leave no part that could lie outside the prefix.
            proptest::prop_assume!(
                crate::policy::shell::parts(&other).map_or(true, |parts| !parts.is_empty())
            );
            let mut a = shell_pending("npm test -- --watch", Some("s1"));
            review(&mut a, &approver("alice"), command_review(None), t(1)).unwrap();
            let g = from_decision(&a, Uuid::nil(), t(1)).unwrap();
            let mut inside = "npm test".to_owned();
            for w in &words {
                inside.push(' ');
                inside.push_str(w);
            }
            let line = if first { format!("{other}{joiner}{inside}") } else { format!("{inside}{joiner}{other}") };
            let args = line_args(&line);
            let answered = answers(&g, "shell", &args, &args_sha256(&args), "bot", Some("s1"), t(2));
            let outside = !starts_with_words(&other, "npm test");
            proptest::prop_assert!(!(answered && outside), "{}", line);
        }
    }
}
