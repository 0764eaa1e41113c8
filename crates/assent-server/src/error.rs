//! The HTTP layer's one error type, answered as RFC 9457 problem+json.

pub use assent_api::Problem;
use assent_domain::{InvalidField, LifecycleError};
use assent_store::StoreError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed or invalid input; the detail names the field.
    #[error("{0}")]
    BadRequest(String),
    #[error("missing or invalid bearer token")]
    Unauthorized,
    /// The console's session cookie names no live session (expired, signed
    /// out, or its token was revoked).
    #[error("the console session has ended; sign in again")]
    SessionEnded,
    #[error("{0}")]
    Forbidden(String),
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Gone(String),
    #[error("request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("the store is unavailable; retry later")]
    Unavailable,
    /// The database's disk is full; nothing was written.
    #[error("the gateway's storage is full; nothing was written; retry later")]
    StorageFull,
    /// The body did not arrive within `body_read_timeout`.
    #[error("the request body did not arrive within {0:?}")]
    RequestTimeout(std::time::Duration),
    /// A rate limit; retry after the duration.
    #[error("{0}")]
    TooManyRequests(String, std::time::Duration),
    /// Every connection is busy: a connection let in on the reserve asked
    /// for something other than a health check or a review.
    #[error("the gateway is at its connection limit; retry later")]
    Overloaded,
    /// A bug on our side; details are logged, never sent.
    #[error("internal error")]
    Internal,
}

impl ApiError {
    pub fn invalid(field: &InvalidField) -> ApiError {
        ApiError::BadRequest(field.to_string())
    }

    fn parts(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "invalid-request"),
            ApiError::Unauthorized | ApiError::SessionEnded => {
                (StatusCode::UNAUTHORIZED, "unauthorized")
            }
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not-found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::Gone(_) => (StatusCode::GONE, "expired"),
            ApiError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "body-too-large"),
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type")
            }
            ApiError::Unprocessable(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "idempotency-mismatch")
            }
            ApiError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::StorageFull => (StatusCode::SERVICE_UNAVAILABLE, "storage-full"),
            ApiError::RequestTimeout(_) => (StatusCode::REQUEST_TIMEOUT, "body-timeout"),
            ApiError::TooManyRequests(..) => (StatusCode::TOO_MANY_REQUESTS, "rate-limited"),
            ApiError::Overloaded => (StatusCode::SERVICE_UNAVAILABLE, "overloaded"),
            ApiError::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound("resource"),
            StoreError::Conflict(m) => ApiError::Conflict(m),
            StoreError::IdempotencyMismatch => ApiError::Unprocessable(e.to_string()),
            StoreError::Lifecycle(l) => l.into(),
            StoreError::Unavailable(m) => {
                tracing::warn!(error = %m, "store unavailable");
                ApiError::Unavailable
            }
            StoreError::StorageFull(m) => {
                tracing::error!(error = %m, "the database's storage is full");
                ApiError::StorageFull
            }
            StoreError::Corrupt(m) => {
                tracing::error!(error = %m, "corrupt data in the store");
                ApiError::Internal
            }
        }
    }
}

impl From<LifecycleError> for ApiError {
    fn from(e: LifecycleError) -> Self {
        match e {
            LifecycleError::Expired => ApiError::Gone(e.to_string()),
            LifecycleError::AlreadyDecided(_) | LifecycleError::AlreadyReviewed(_) => {
                ApiError::Conflict(e.to_string())
            }
            LifecycleError::NotEligible(m) => ApiError::Forbidden(m),
            LifecycleError::Invalid(field) => ApiError::invalid(&field),
        }
    }
}

impl ApiError {
    /// The problem details this error is answered with, over any transport.
    pub fn problem(&self) -> Problem {
        let (status, kind) = self.parts();
        Problem {
            kind: format!("urn:assent:problem:{kind}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: self.to_string(),
        }
    }
}

/// A full disk rarely empties within a second; callers are asked to wait longer.
const STORAGE_FULL_RETRY_SECONDS: u64 = 5;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, _) = self.parts();
        let retry_after = match &self {
            ApiError::TooManyRequests(_, wait) => {
                Some((wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1))
            }
            ApiError::Unavailable | ApiError::Overloaded => Some(1),
            ApiError::StorageFull => Some(STORAGE_FULL_RETRY_SECONDS),
            _ => None,
        };
        let closes = matches!(self, ApiError::Overloaded | ApiError::RequestTimeout(_));
        let problem = self.problem();
        let mut response = (status, axum::Json(problem)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if closes {
            // The connection is not worth keeping: full, or its body stalled.
            headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
