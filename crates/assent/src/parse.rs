//! Parsers for option values clap cannot read by itself; a bad value is a
//! usage error (exit 2) that says what was expected.

use std::time::Duration;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// The names `--risk`, `--scope` and `--role` accept: the API's spelling.
pub const RISKS: &[&str] = &["low", "medium", "high", "critical"];
pub const SCOPES: &[&str] = &["once", "session", "timeboxed"];
pub const ROLES: &[&str] = &["agent", "approver", "admin"];
pub const EVENT_TYPES: &[&str] = &[
    "approval.requested",
    "approval.reviewed",
    "approval.approved",
    "approval.rejected",
    "approval.expired",
    "approval.cancelled",
    "approval.escalated",
    "grant.created",
    "grant.revoked",
    "policy.reloaded",
    "token.created",
    "token.revoked",
];

/// `--args`: a JSON object.
pub fn json_object(s: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str(s) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("must be a JSON object, e.g. '{\"env\": \"prod\"}'".to_owned()),
        Err(e) => Err(format!("not valid JSON ({e})")),
    }
}

/// `--label KEY=VALUE`.
pub fn label(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err("must be KEY=VALUE".to_owned()),
    }
}

/// A humantime duration: `30s`, `10m`, `2h`, `1h 30m`.
pub fn duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{e} (expected e.g. 30s, 10m, 2h)"))
}

/// One of a domain enum's snake_case names, read through its serde
/// representation so the CLI and the API spell values alike.
pub fn domain_enum<T>(names: &'static [&'static str]) -> impl TypedValueParser<Value = T>
where
    T: DeserializeOwned + Clone + Send + Sync + 'static,
{
    PossibleValuesParser::new(names)
        .try_map(|name| serde_json::from_value::<T>(Value::String(name)))
}

/// Whole seconds, rounding a fraction up so `500ms` does not become zero.
pub fn whole_seconds(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use assent_domain::{Risk, Role, Scope};
    use clap::builder::TypedValueParser;

    use super::*;

    #[test]
    fn args_must_be_an_object() {
        assert_eq!(json_object(r#"{"env":"prod"}"#).unwrap()["env"], "prod");
        assert!(json_object("[1]").unwrap_err().contains("JSON object"));
        assert!(json_object("{").unwrap_err().contains("not valid JSON"));
    }

    #[test]
    fn labels_split_at_the_first_equals() {
        assert_eq!(
            label("team=pay=ments").unwrap(),
            ("team".into(), "pay=ments".into())
        );
        assert_eq!(label("empty=").unwrap(), ("empty".into(), String::new()));
        assert!(label("=x").is_err());
        assert!(label("team").is_err());
    }

    #[test]
    fn durations_are_humantime() {
        assert_eq!(duration("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(duration("1h 30m").unwrap(), Duration::from_secs(5400));
        assert!(duration("soon").is_err());
    }

    #[test]
    fn seconds_round_up() {
        assert_eq!(whole_seconds(Duration::from_secs(300)), 300);
        assert_eq!(whole_seconds(Duration::from_millis(500)), 1);
        assert_eq!(whole_seconds(Duration::from_millis(2001)), 3);
    }

    fn parse_all<T>(names: &'static [&'static str]) -> Vec<T>
    where
        T: DeserializeOwned + Clone + Send + Sync + 'static,
    {
        let cmd = clap::Command::new("t");
        let parser = domain_enum::<T>(names);
        names
            .iter()
            .map(|n| parser.parse_ref(&cmd, None, n.as_ref()).unwrap())
            .collect()
    }

    #[test]
    fn every_event_type_is_offered() {
        assert_eq!(
            parse_all::<assent_domain::EventType>(EVENT_TYPES),
            assent_domain::EventType::ALL
        );
    }

    #[test]
    fn every_offered_name_is_a_domain_value() {
        assert_eq!(
            parse_all::<Risk>(RISKS),
            [Risk::Low, Risk::Medium, Risk::High, Risk::Critical]
        );
        assert_eq!(
            parse_all::<Scope>(SCOPES),
            [Scope::Once, Scope::Session, Scope::Timeboxed]
        );
        assert_eq!(
            parse_all::<Role>(ROLES),
            [Role::Agent, Role::Approver, Role::Admin]
        );
    }
}
