//! Web console sessions as the store keeps them.

use time::OffsetDateTime;

/// A signed-in console session. The secret the browser holds in its cookie
/// is never stored: only its SHA-256 (`id_sha256`, lower-case hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id_sha256: String,
    /// The SHA-256 of the token the session was made from; the session
    /// authenticates only while that token does.
    pub token_sha256: String,
    /// The token's principal name when the session began (for logs and clean-up).
    pub principal: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}
