//! Reading what callers send outside a JSON body — query strings, path ids,
//! durations, event seqs and types — the same way for HTTP and WebSocket, so
//! every bad or unknown value is a 400 naming it (and repeated keys like
//! `label` work).

use std::time::Duration;

use assent_domain::{EventType, Status};
use uuid::Uuid;

use crate::error::ApiError;

pub struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    /// Parses the raw query string, refusing parameters not in `allowed`.
    pub fn parse(raw: Option<&str>, allowed: &[&str]) -> Result<QueryParams, ApiError> {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(raw.unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if let Some((unknown, _)) = pairs.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
            return Err(ApiError::BadRequest(format!(
                "{unknown}: unknown query parameter (allowed: {})",
                allowed.join(", ")
            )));
        }
        Ok(QueryParams(pairs))
    }

    /// The single value of `key`; given twice is an error.
    pub fn one<'a>(&'a self, key: &'a str) -> Result<Option<&'a str>, ApiError> {
        let mut values = self.all(key);
        let first = values.next();
        if values.next().is_some() {
            return Err(ApiError::BadRequest(format!("{key}: given more than once")));
        }
        Ok(first)
    }

    pub fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A positive count, clamped to `max` (however many digits it has);
    /// `default` when absent.
    pub fn limit(&self, key: &str, default: u32, max: u32) -> Result<u32, ApiError> {
        match self.one(key)? {
            None => Ok(default),
            Some(v) => {
                let whole = !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
                let n = if whole {
                    v.parse::<u64>().unwrap_or(u64::MAX)
                } else {
                    0
                };
                clamp_limit(key, n, max)
            }
        }
    }

    /// A duration like `30s`, `5m` or plain seconds, clamped to `max`.
    pub fn duration(&self, key: &str, max: Duration) -> Result<Option<Duration>, ApiError> {
        self.one(key)?
            .map(|v| parse_duration(key, v, max))
            .transpose()
    }
}

/// A page size from 1, clamped to `max`; `key` names it in the error.
pub fn clamp_limit(key: &str, n: u64, max: u32) -> Result<u32, ApiError> {
    if n >= 1 {
        Ok(n.min(u64::from(max)) as u32)
    } else {
        Err(ApiError::BadRequest(format!(
            "{key}: must be a whole number from 1 (values above {max} are clamped)"
        )))
    }
}

/// A duration like `30s`, `5m` or plain seconds, clamped to `max`; `key`
/// names it in the error.
pub fn parse_duration(key: &str, raw: &str, max: Duration) -> Result<Duration, ApiError> {
    duration(raw).map(|d| d.min(max)).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "{key}: not a duration (a whole number and one of ms, s, m, h, d, e.g. 30s or 5m; \
             seconds without a unit)"
        ))
    })
}

/// Up to 12 digits and an optional unit (`ms`, `s`, `m`, `h`, `d`; none is
/// seconds): exactly what the OpenAPI document's duration pattern says.
/// Values too long to represent saturate.
pub fn duration(raw: &str) -> Option<Duration> {
    let digits = raw.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 12 {
        return None;
    }
    let (number, unit) = raw.split_at(digits);
    let n: u64 = number.parse().ok()?;
    let millis_per = match unit {
        "ms" => 1,
        "" | "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    Some(Duration::from_millis(n.saturating_mul(millis_per)))
}

/// An approval or grant id from a path.
pub fn parse_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::BadRequest(format!("id: {raw:?} is not a UUID")))
}

/// `status`: one status or `all` (then `None`).
pub fn parse_status(raw: &str) -> Result<Option<Status>, ApiError> {
    match raw {
        "all" => Ok(None),
        s => Status::parse(s).map(Some).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "status: {s:?} is not one of pending, approved, rejected, expired, cancelled, all"
            ))
        }),
    }
}

/// `label`: `key:value`.
pub fn parse_label(raw: &str) -> Result<(String, String), ApiError> {
    raw.split_once(':')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| ApiError::BadRequest(format!("label: {raw:?} is not key:value")))
}

/// A listing's `cursor`: the previous page's `next_cursor`.
pub fn parse_cursor(raw: &str) -> Result<Uuid, ApiError> {
    parse_id(raw).map_err(|_| ApiError::BadRequest("cursor: not a cursor from this API".into()))
}

/// A starting seq as a client gives it (`field` names it in the error).
pub fn check_seq(field: &str, seq: i64) -> Result<i64, ApiError> {
    if seq >= 0 {
        Ok(seq)
    } else {
        Err(ApiError::BadRequest(format!(
            "{field}: must be an event seq (a whole number ≥ 0)"
        )))
    }
}

/// One event type of a `types` filter.
pub fn parse_event_type(raw: &str) -> Result<EventType, ApiError> {
    EventType::parse(raw)
        .ok_or_else(|| ApiError::BadRequest(format!("types: unknown event type {raw:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_repeated_parameters_are_named() {
        let err = QueryParams::parse(Some("statuss=x"), &["status"])
            .err()
            .unwrap();
        assert!(err.to_string().starts_with("statuss:"));
        let q = QueryParams::parse(Some("status=a&status=b"), &["status"]).unwrap();
        assert!(
            q.one("status")
                .unwrap_err()
                .to_string()
                .starts_with("status:")
        );
    }

    #[test]
    fn limits_are_clamped_and_must_be_positive() {
        let q = QueryParams::parse(Some("limit=100000"), &["limit"]).unwrap();
        assert_eq!(q.limit("limit", 50, 500).unwrap(), 500);
        let q = QueryParams::parse(Some("limit=99999999999999999999999"), &["limit"]).unwrap();
        assert_eq!(q.limit("limit", 50, 500).unwrap(), 500);
        for bad in ["limit=0", "limit=-1", "limit=x", "limit=+5", "limit="] {
            let q = QueryParams::parse(Some(bad), &["limit"]).unwrap();
            assert!(q.limit("limit", 50, 500).is_err(), "{bad}");
        }
        assert_eq!(
            QueryParams::parse(None, &["limit"])
                .unwrap()
                .limit("limit", 50, 500)
                .unwrap(),
            50
        );
    }

    #[test]
    fn durations_accept_units_or_seconds_and_clamp() {
        let max = Duration::from_secs(300);
        for (raw, want) in [
            ("wait=30s", 30),
            ("wait=2m", 120),
            ("wait=45", 45),
            ("wait=1h", 300),
        ] {
            let q = QueryParams::parse(Some(raw), &["wait"]).unwrap();
            assert_eq!(
                q.duration("wait", max).unwrap(),
                Some(Duration::from_secs(want)),
                "{raw}"
            );
        }
        for bad in [
            "wait=soon",
            "wait=1h30m",
            "wait=1 s",
            "wait=-1",
            "wait=1.5s",
            "wait=s",
        ] {
            let q = QueryParams::parse(Some(bad), &["wait"]).unwrap();
            assert!(
                q.duration("wait", max)
                    .unwrap_err()
                    .to_string()
                    .starts_with("wait:"),
                "{bad}"
            );
        }
        assert_eq!(duration("1500ms"), Some(Duration::from_millis(1500)));
        assert_eq!(duration("7d"), Some(Duration::from_secs(7 * 86_400)));
        assert!(duration("999999999999d").is_some());
    }
}
