//! Reading JSON request bodies defensively: size (413, also for a declared
//! `Content-Length` before reading), time (408 after `body_read_timeout`),
//! content type (415),
//! nesting depth, UTF-8 and shape (400 naming the field). Handlers never see
//! a body that failed any of these, so nothing is ever half-written.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;

/// Deepest nesting of arrays and objects accepted in a body.
pub const MAX_JSON_DEPTH: usize = 32;

/// A JSON body; required.
pub struct ApiJson<T>(pub T);

/// A JSON body that may be left out entirely or sent as `null` (then
/// `T::default()`).
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let bytes = read_json_bytes(req, state).await?;
        if bytes.is_empty() {
            return Err(ApiError::BadRequest("a JSON body is required".into()));
        }
        require_object(&bytes, false)?;
        parse(&bytes).map(ApiJson)
    }
}

impl<T: DeserializeOwned + Default> FromRequest<AppState> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let bytes = read_json_bytes(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) || require_object(&bytes, true)? {
            return Ok(OptionalJson(T::default()));
        }
        parse(&bytes).map(OptionalJson)
    }
}

async fn read_json_bytes(req: Request, state: &AppState) -> Result<Bytes, ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // A declared length over the limit is refused before a byte is read.
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let limit = state.config.max_body_bytes;
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(ApiError::PayloadTooLarge(limit));
    }
    // A body that trickles or stalls is cut off (408), so it cannot hold
    // its connection and handler for ever.
    let timeout = state.config.body_read_timeout;
    let read = tokio::time::timeout(timeout, Bytes::from_request(req, state))
        .await
        .map_err(|_| ApiError::RequestTimeout(timeout))?;
    let bytes = read.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(limit)
        } else {
            ApiError::BadRequest(format!("could not read the body: {rejection}"))
        }
    })?;
    if !bytes.is_empty() {
        let is_json = content_type.as_deref().is_some_and(|ct| {
            let essence = ct
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            essence == "application/json" || essence.ends_with("+json")
        });
        if !is_json {
            return Err(ApiError::UnsupportedMediaType(
                "the body must be sent as Content-Type: application/json".into(),
            ));
        }
    }
    Ok(bytes)
}

/// Every request body is a JSON object: an array, string or number where an
/// object belongs is refused before it is parsed, so `["approve"]` can never
/// be read as a struct's fields in order. With `null_allowed`, a body of
/// `null` is accepted and reported as `true` (then the handler uses its
/// default).
fn require_object(bytes: &[u8], null_allowed: bool) -> Result<bool, ApiError> {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace());
    match start.map(|i| &bytes[i..]) {
        Some(rest) if rest.starts_with(b"{") => Ok(false),
        Some(rest) if null_allowed && rest.trim_ascii_end() == b"null" => Ok(true),
        _ => Err(ApiError::BadRequest(if null_allowed {
            "body: must be a JSON object (or null)".into()
        } else {
            "body: must be a JSON object".into()
        })),
    }
}

/// Parses a body, naming the field that is wrong.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if std::str::from_utf8(bytes).is_err() {
        return Err(ApiError::BadRequest("the body is not valid UTF-8".into()));
    }
    if nesting_depth(bytes) > MAX_JSON_DEPTH {
        return Err(ApiError::BadRequest(format!(
            "JSON nested deeper than {MAX_JSON_DEPTH} levels"
        )));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let syntax = matches!(
            inner.classify(),
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof
        );
        if syntax || path == "." || path.is_empty() {
            ApiError::BadRequest(format!("invalid JSON body: {inner}"))
        } else {
            ApiError::BadRequest(format!("{path}: {inner}"))
        }
    })?;
    de.end()
        .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))?;
    Ok(value)
}

/// The deepest nesting of `[`/`{` outside strings. Counted before parsing so a
/// hostile body cannot make the parser recurse deeply.
fn nesting_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

#[cfg(test)]
mod tests {
    use super::*;
    use assent_domain::ReviewRequest;

    #[test]
    fn depth_ignores_brackets_inside_strings() {
        assert_eq!(nesting_depth(br#"{"a": "[[[[{{{{\"[[["}"#), 1);
        assert_eq!(nesting_depth(br#"[[1], {"a": [{}]}]"#), 4);
        assert_eq!(nesting_depth(b"1"), 0);
    }

    #[test]
    fn too_deep_is_refused_before_parsing() {
        let deep = format!("{}{}", "[".repeat(33), "]".repeat(33));
        let err = parse::<serde_json::Value>(deep.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("deeper than 32"), "{err}");
        let ok = format!("{}{}", "[".repeat(32), "]".repeat(32));
        assert!(parse::<serde_json::Value>(ok.as_bytes()).is_ok());
    }

    #[test]
    fn errors_name_the_field() {
        let err = parse::<ReviewRequest>(br#"{"decision":"maybe"}"#)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("decision:"), "{err}");
        let err = parse::<ReviewRequest>(br#"{"decision":"approve","ttl_seconds":"x"}"#)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("ttl_seconds:"), "{err}");
        let err = parse::<ReviewRequest>(br#"{"decision":"approve"} trailing"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("trailing"), "{err}");
    }

    #[test]
    fn only_objects_are_bodies() {
        assert!(!require_object(b" {\"a\": 1}", false).unwrap());
        for body in [&b"[\"approve\"]"[..], b"\"x\"", b"1", b"null", b"true"] {
            let err = require_object(body, false).unwrap_err().to_string();
            assert_eq!(err, "body: must be a JSON object", "{body:?}");
        }
        assert!(require_object(b" null \n", true).unwrap());
        assert!(require_object(b"[null]", true).is_err());
    }

    #[test]
    fn invalid_utf8_is_refused() {
        let err = parse::<serde_json::Value>(b"{\"a\": \"\xff\"}").unwrap_err();
        assert!(err.to_string().contains("UTF-8"), "{err}");
    }
}
