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
    /// The database's disk (or quota) is full: nothing was written, and
    /// writes work again once space returns.
    #[error("the database's storage is full: {0}")]
    StorageFull(String),
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
            sqlx::Error::Database(ref db) if is_storage_full(db.code().as_deref()) => {
                StoreError::StorageFull(e.to_string())
            }
            other => StoreError::Unavailable(other.to_string()),
        }
    }
}

/// SQLite's `SQLITE_FULL` (13) and PostgreSQL's `disk_full` (53100).
fn is_storage_full(code: Option<&str>) -> bool {
    matches!(code, Some("13" | "53100"))
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_told_apart_from_other_failures() {
        assert!(is_storage_full(Some("13")));
        assert!(is_storage_full(Some("53100")));
        assert!(!is_storage_full(Some("5")));
        assert!(!is_storage_full(Some("53200")));
        assert!(!is_storage_full(None));
    }
}
