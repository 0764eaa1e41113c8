//! The store's one error type.

use assent_domain::LifecycleError;

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule would be broken (for example a token name in use).
    #[error("{0}")]
    Conflict(String),
    /// The domain refused the transition; nothing was changed by the caller's request.
    #[error(transparent)]
    Lifecycle(LifecycleError),
    /// The idempotency key was used before with a different body.
    #[error("this Idempotency-Key was already used with a different request body")]
    IdempotencyMismatch,
    /// The database cannot be reached or refused the write; retrying later may work.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Stored data did not decode: a bug or tampering, never the caller's fault.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::ColumnDecode { .. }
            | sqlx::Error::Decode(_)
            | sqlx::Error::ColumnNotFound(_) => StoreError::Corrupt(e.to_string()),
            other => StoreError::Unavailable(other.to_string()),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}
