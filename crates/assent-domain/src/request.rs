//! What callers send: the bodies of "create an approval" and "review it", and
//! the validation that turns them into something the lifecycle accepts.
//! Every rejection names the offending field.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::approval::{Approval, GrantMatch, QuorumStage, Risk, Scope, Status, Verdict};

pub const MAX_ACTION_LEN: usize = 200;
pub const MAX_SUMMARY_CHARS: usize = 2_000;
pub const MAX_REASON_CHARS: usize = 2_000;
pub const MAX_ID_LEN: usize = 200;
pub const MAX_LABELS: usize = 32;
pub const MAX_LABEL_KEY_LEN: usize = 100;
pub const MAX_LABEL_VALUE_LEN: usize = 200;

/// A field a caller got wrong, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InvalidField {
    pub field: String,
    pub message: String,
}

impl InvalidField {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Body of `POST /v1/approvals` and `POST /v1/check`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateApproval {
    /// Dotted name of the action: 1–200 characters of `[A-Za-z0-9._:/-]`.
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r"^[A-Za-z0-9._:/-]{1,200}$",
            min_length = 1,
            max_length = 200
        )
    )]
    pub action: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub args: Map<String, Value>,
    /// Shown to reviewers: at most 2,000 characters, no control characters
    /// but newline and tab.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r"^[^\u0000-\u0008\u000B-\u001F\u007F-\u009F]*$",
            max_length = 2000
        )
    )]
    pub summary: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub context: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<Risk>,
    /// 1–200 characters, no control characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$",
            min_length = 1,
            max_length = 200
        )
    )]
    pub session_id: Option<String>,
    /// 1–200 characters, no control characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$",
            min_length = 1,
            max_length = 200
        )
    )]
    pub run_id: Option<String>,
    /// At most 32; keys 1–100 characters of `[A-Za-z0-9._/-]`, values at
    /// most 200 characters without control characters.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Seconds until the approval expires (1 … the server's max timeout).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "whole_number"
    )]
    pub timeout_seconds: Option<u64>,
}

/// A count of seconds as JSON allows a whole number to be written: `30`
/// or `30.0` (JSON Schema's `integer` admits both); never a fraction, a
/// negative number or anything else.
fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    use serde::de::Error;
    match Option::<serde_json::Number>::deserialize(d)? {
        None => Ok(None),
        Some(n) => n
            .as_u64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < u64::MAX as f64)
                    .map(|f| f as u64)
            })
            .map(Some)
            .ok_or_else(|| D::Error::custom(format!("{n} is not a whole number of seconds"))),
    }
}

/// What the matching policy rule adds to a create request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Placement {
    pub rule: Option<String>,
    pub risk: Option<Risk>,
    pub timeout: Option<Duration>,
    /// How long the approval may stay pending before `approval.escalated`.
    pub escalate_after: Option<Duration>,
    pub quorum: Vec<QuorumStage>,
    pub allow_self_review: bool,
}

/// Server-wide timeout settings.
#[derive(Debug, Clone, Copy)]
pub struct TimeoutLimits {
    pub default: Duration,
    pub max: Duration,
}

pub fn validate_action(action: &str) -> Result<(), InvalidField> {
    if action.is_empty() || action.len() > MAX_ACTION_LEN {
        return Err(InvalidField::new(
            "action",
            format!("must be 1–{MAX_ACTION_LEN} characters"),
        ));
    }
    if let Some(bad) = action
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '/' | '-')))
    {
        return Err(InvalidField::new(
            "action",
            format!("character {bad:?} is not allowed (use [A-Za-z0-9._:/-])"),
        ));
    }
    Ok(())
}

fn validate_identifier(field: &str, value: &Option<String>) -> Result<(), InvalidField> {
    match value {
        Some(v)
            if v.is_empty()
                || v.chars().count() > MAX_ID_LEN
                || v.chars().any(char::is_control) =>
        {
            Err(InvalidField::new(
                field,
                format!("must be 1–{MAX_ID_LEN} characters without control characters"),
            ))
        }
        _ => Ok(()),
    }
}

/// Free text of at most `max_chars` characters (see [`validate_free_text`]).
pub fn validate_text(
    field: &str,
    value: &Option<String>,
    max_chars: usize,
) -> Result<(), InvalidField> {
    match value {
        Some(v) if v.chars().count() > max_chars => Err(InvalidField::new(
            field,
            format!("must be at most {max_chars} characters"),
        )),
        Some(v) => validate_free_text(field, v),
        None => Ok(()),
    }
}

/// Free text that people read (summaries, reasons) may hold newlines and
/// tabs but no other C0 or C1 control character: an escape sequence or a
/// carriage return would let a requester rewrite what a reviewer's terminal
/// shows.
pub fn validate_free_text(field: &str, value: &str) -> Result<(), InvalidField> {
    match value
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\t'))
    {
        Some(bad) => Err(InvalidField::new(
            field,
            format!(
                "control character U+{:04X} is not allowed (only newline and tab)",
                u32::from(bad)
            ),
        )),
        None => Ok(()),
    }
}

fn validate_labels(labels: &BTreeMap<String, String>) -> Result<(), InvalidField> {
    if labels.len() > MAX_LABELS {
        return Err(InvalidField::new(
            "labels",
            format!("at most {MAX_LABELS} labels"),
        ));
    }
    for (key, value) in labels {
        let key_ok = !key.is_empty()
            && key.len() <= MAX_LABEL_KEY_LEN
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-'));
        if !key_ok {
            return Err(InvalidField::new(
                format!("labels.{key}"),
                format!("label keys are 1–{MAX_LABEL_KEY_LEN} characters of [A-Za-z0-9._/-]"),
            ));
        }
        if value.chars().count() > MAX_LABEL_VALUE_LEN || value.chars().any(char::is_control) {
            return Err(InvalidField::new(
                format!("labels.{key}"),
                format!(
                    "label values are at most {MAX_LABEL_VALUE_LEN} characters without control characters"
                ),
            ));
        }
    }
    Ok(())
}

impl CreateApproval {
    /// Checks every field a caller controls.
    pub fn validate(&self, limits: TimeoutLimits) -> Result<(), InvalidField> {
        validate_action(&self.action)?;
        validate_text("summary", &self.summary, MAX_SUMMARY_CHARS)?;
        validate_identifier("session_id", &self.session_id)?;
        validate_identifier("run_id", &self.run_id)?;
        validate_labels(&self.labels)?;
        if let Some(secs) = self.timeout_seconds
            && (secs == 0 || secs > limits.max.as_secs())
        {
            return Err(InvalidField::new(
                "timeout_seconds",
                format!(
                    "must be between 1 and {} (the server's max_timeout)",
                    limits.max.as_secs()
                ),
            ));
        }
        Ok(())
    }

    /// The timeout: the request's, else the rule's, else the server default,
    /// never above the server's maximum.
    pub fn timeout(&self, placement: &Placement, limits: TimeoutLimits) -> Duration {
        self.timeout_seconds
            .map(Duration::from_secs)
            .or(placement.timeout)
            .unwrap_or(limits.default)
            .min(limits.max)
    }

    /// A new pending approval. `now` must already have millisecond precision.
    pub fn into_pending(
        self,
        id: Uuid,
        requester: &str,
        placement: Placement,
        limits: TimeoutLimits,
        now: OffsetDateTime,
    ) -> Approval {
        let timeout = self.timeout(&placement, limits);
        let expires_at =
            now + time::Duration::milliseconds(timeout.as_millis().min(i64::MAX as u128) as i64);
        let parts = crate::policy::shell::command_parts(&self.args);
        Approval {
            id,
            status: Status::Pending,
            action: self.action,
            parts,
            args: self.args,
            summary: self.summary,
            context: self.context,
            risk: self.risk.or(placement.risk).unwrap_or_default(),
            requester: requester.to_owned(),
            session_id: self.session_id,
            run_id: self.run_id,
            labels: self.labels,
            rule: placement.rule,
            quorum: placement.quorum,
            reviews: Vec::new(),
            decision: None,
            created_at: now,
            expires_at,
            decided_at: None,
            receipt: None,
            escalate_at: placement
                .escalate_after
                .map(|after| {
                    now + time::Duration::milliseconds(
                        after.as_millis().min(i64::MAX as u128) as i64
                    )
                })
                .filter(|at| *at < expires_at),
            escalated: false,
            allow_self_review: placement.allow_self_review,
        }
    }
}

/// Body of `POST /v1/approvals/{id}/reviews`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    pub decision: Verdict,
    /// At most 2,000 characters, no control characters but newline and tab.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r"^[^\u0000-\u0008\u000B-\u001F\u007F-\u009F]*$",
            max_length = 2000
        )
    )]
    pub reason: Option<String>,
    #[serde(default)]
    pub scope: Scope,
    /// Lifetime of a `timeboxed` grant; required with that scope and only with it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "whole_number"
    )]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 7776000))]
    pub ttl_seconds: Option<u64>,
    #[serde(default)]
    pub grant_match: GrantMatch,
    /// With `grant_match` `command`: the words every simple command of a
    /// later request must start with; default the approved command's first
    /// two words. It must begin every simple command of the approved command.
    /// At least one word, no control characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$",
            max_length = 2000
        )
    )]
    pub command_prefix: Option<String>,
}

/// How many words of the approved command a command grant keeps when the
/// reviewer names no prefix.
pub const DEFAULT_PREFIX_WORDS: usize = 2;

/// The prefix a `grant_match` `command` review remembers: `given`
/// (whitespace-normalised), else the approved command's first two words.
/// It must begin every simple command of the approved command, so the
/// grant never covers more than the reviewer saw.
pub fn command_prefix(approval: &Approval, given: Option<&str>) -> Result<String, InvalidField> {
    let Some(Value::String(line)) = approval.args.get("command") else {
        return Err(InvalidField::new(
            "grant_match",
            "command needs an approval whose args.command is a shell command line",
        ));
    };
    let parts = crate::policy::shell::split(line).map_err(|e| {
        InvalidField::new(
            "grant_match",
            format!("command needs a command line that can be split: {e}"),
        )
    })?;
    let Some(first) = parts.first() else {
        return Err(InvalidField::new(
            "grant_match",
            "command needs a command line with at least one command",
        ));
    };
    let prefix = match given {
        Some(given) => given.split_whitespace().collect::<Vec<_>>().join(" "),
        None => first
            .text
            .split(' ')
            .take(DEFAULT_PREFIX_WORDS)
            .collect::<Vec<_>>()
            .join(" "),
    };
    if prefix.is_empty() {
        return Err(InvalidField::new(
            "command_prefix",
            "must hold at least one word",
        ));
    }
    if let Some(part) = parts
        .iter()
        .find(|p| !crate::policy::shell::starts_with_words(&p.text, &prefix))
    {
        let field = if given.is_some() {
            "command_prefix"
        } else {
            "grant_match"
        };
        return Err(InvalidField::new(
            field,
            format!(
                "the prefix {prefix:?} does not begin every simple command of the approved command ({:?} does not start with those whole words); name a command_prefix that does",
                part.text
            ),
        ));
    }
    Ok(prefix)
}

/// The longest a timeboxed grant may live: 90 days.
pub const MAX_GRANT_TTL_SECONDS: u64 = 90 * 24 * 3600;

impl ReviewRequest {
    pub fn approve() -> Self {
        Self::new(Verdict::Approve)
    }

    pub fn reject() -> Self {
        Self::new(Verdict::Reject)
    }

    fn new(decision: Verdict) -> Self {
        Self {
            decision,
            reason: None,
            scope: Scope::Once,
            ttl_seconds: None,
            grant_match: GrantMatch::Exact,
            command_prefix: None,
        }
    }

    pub fn validate(&self) -> Result<(), InvalidField> {
        validate_text("reason", &self.reason, MAX_REASON_CHARS)?;
        validate_text("command_prefix", &self.command_prefix, MAX_REASON_CHARS)?;
        if let Some(prefix) = &self.command_prefix {
            if self.grant_match != GrantMatch::Command {
                return Err(InvalidField::new(
                    "command_prefix",
                    "only applies with grant_match command",
                ));
            }
            if prefix.trim().is_empty() || prefix.chars().any(char::is_control) {
                return Err(InvalidField::new(
                    "command_prefix",
                    "must hold at least one word, without control characters",
                ));
            }
        }
        match (self.scope, self.ttl_seconds) {
            (Scope::Timeboxed, None) => Err(InvalidField::new(
                "ttl_seconds",
                "required with scope timeboxed",
            )),
            (Scope::Timeboxed, Some(t)) if t == 0 || t > MAX_GRANT_TTL_SECONDS => {
                Err(InvalidField::new(
                    "ttl_seconds",
                    format!("must be between 1 and {MAX_GRANT_TTL_SECONDS}"),
                ))
            }
            (Scope::Once | Scope::Session, Some(_)) => Err(InvalidField::new(
                "ttl_seconds",
                "only applies to scope timeboxed",
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: TimeoutLimits = TimeoutLimits {
        default: Duration::from_secs(3600),
        max: Duration::from_secs(7 * 24 * 3600),
    };

    fn create(action: &str) -> CreateApproval {
        CreateApproval {
            action: action.into(),
            ..Default::default()
        }
    }

    #[test]
    fn action_names_follow_the_spec_alphabet() {
        for ok in [
            "shell",
            "deploy",
            "billing.charge",
            "mcp.github.create_pull_request",
            "a:b/c-d",
            "x",
        ] {
            assert!(validate_action(ok).is_ok(), "{ok}");
        }
        let long = "a".repeat(201);
        for bad in ["", "rm -rf", "déploy", "a*b", long.as_str()] {
            assert_eq!(validate_action(bad).unwrap_err().field, "action", "{bad}");
        }
        assert!(validate_action(&"a".repeat(200)).is_ok());
    }

    #[test]
    fn invalid_fields_are_named() {
        let mut c = create("deploy");
        c.summary = Some("x".repeat(2_001));
        assert_eq!(c.validate(LIMITS).unwrap_err().field, "summary");

        let mut c = create("deploy");
        c.session_id = Some(String::new());
        assert_eq!(c.validate(LIMITS).unwrap_err().field, "session_id");

        let mut c = create("deploy");
        c.labels.insert("team:x".into(), "a".into());
        assert_eq!(c.validate(LIMITS).unwrap_err().field, "labels.team:x");

        for secs in [0, 7 * 24 * 3600 + 1, u64::MAX] {
            let mut c = create("deploy");
            c.timeout_seconds = Some(secs);
            assert_eq!(c.validate(LIMITS).unwrap_err().field, "timeout_seconds");
        }
        let mut c = create("deploy");
        c.timeout_seconds = Some(7 * 24 * 3600);
        assert!(c.validate(LIMITS).is_ok());
    }

    #[test]
    fn seconds_may_be_written_as_whole_floats_only() {
        let c: CreateApproval =
            serde_json::from_str(r#"{"action": "a", "timeout_seconds": 30.0}"#).unwrap();
        assert_eq!(c.timeout_seconds, Some(30));
        for bad in ["30.5", "-1", "\"30\"", "1e30"] {
            let text = format!(r#"{{"action": "a", "timeout_seconds": {bad}}}"#);
            assert!(
                serde_json::from_str::<CreateApproval>(&text).is_err(),
                "{bad}"
            );
        }
        let r: ReviewRequest =
            serde_json::from_str(r#"{"decision": "approve", "ttl_seconds": null}"#).unwrap();
        assert_eq!(r.ttl_seconds, None);
    }

    #[test]
    fn free_text_refuses_control_characters_but_newlines_and_tabs() {
        let mut c = create("deploy");
        c.summary = Some("two\n\tlines".into());
        assert!(c.validate(LIMITS).is_ok());
        for bad in ["\u{1b}[31m", "a\rb", "\u{0}", "\u{7f}", "\u{85}", "\u{9b}"] {
            c.summary = Some(bad.into());
            assert_eq!(c.validate(LIMITS).unwrap_err().field, "summary", "{bad:?}");
        }
        let mut r = ReviewRequest::reject();
        r.reason = Some("no\u{7}".into());
        let err = r.validate().unwrap_err();
        assert_eq!(err.field, "reason");
        assert!(err.message.contains("U+0007"), "{err}");
    }

    #[test]
    fn summary_limit_counts_characters_not_bytes() {
        let mut c = create("deploy");
        c.summary = Some("é".repeat(2_000));
        assert!(c.validate(LIMITS).is_ok());
    }

    #[test]
    fn timeout_prefers_request_then_rule_then_default_and_is_capped() {
        let rule = Placement {
            timeout: Some(Duration::from_secs(60)),
            ..Default::default()
        };
        let mut c = create("deploy");
        assert_eq!(c.timeout(&Placement::default(), LIMITS), LIMITS.default);
        assert_eq!(c.timeout(&rule, LIMITS), Duration::from_secs(60));
        c.timeout_seconds = Some(5);
        assert_eq!(c.timeout(&rule, LIMITS), Duration::from_secs(5));
        let huge = Placement {
            timeout: Some(Duration::from_secs(30 * 24 * 3600)),
            ..Default::default()
        };
        assert_eq!(create("deploy").timeout(&huge, LIMITS), LIMITS.max);
    }

    #[test]
    fn pending_approval_takes_risk_from_request_then_rule_then_medium() {
        let now = crate::timestamp::from_unix_millis(1_795_000_000_000);
        let a =
            create("deploy").into_pending(Uuid::nil(), "bot", Placement::default(), LIMITS, now);
        assert_eq!(
            (a.status, a.risk, a.expires_at - now),
            (Status::Pending, Risk::Medium, time::Duration::hours(1))
        );
        let rule = Placement {
            risk: Some(Risk::High),
            ..Default::default()
        };
        assert_eq!(
            create("deploy")
                .into_pending(Uuid::nil(), "bot", rule.clone(), LIMITS, now)
                .risk,
            Risk::High
        );
        let mut c = create("deploy");
        c.risk = Some(Risk::Low);
        assert_eq!(
            c.into_pending(Uuid::nil(), "bot", rule, LIMITS, now).risk,
            Risk::Low
        );
    }

    #[test]
    fn review_ttl_goes_with_timeboxed_only() {
        assert!(ReviewRequest::approve().validate().is_ok());
        let mut r = ReviewRequest::approve();
        r.scope = Scope::Timeboxed;
        assert_eq!(r.validate().unwrap_err().field, "ttl_seconds");
        r.ttl_seconds = Some(300);
        assert!(r.validate().is_ok());
        r.scope = Scope::Session;
        assert_eq!(r.validate().unwrap_err().field, "ttl_seconds");
        let mut r = ReviewRequest::reject();
        r.reason = Some("x".repeat(2_001));
        assert_eq!(r.validate().unwrap_err().field, "reason");
    }

    #[test]
    fn unknown_review_fields_are_refused() {
        let err = serde_json::from_str::<ReviewRequest>(r#"{"decision":"approve","scop":"once"}"#)
            .unwrap_err();
        assert!(err.to_string().contains("unknown field `scop`"), "{err}");
    }
}
