//! Values that cross the `Store` boundary besides the domain's own.

use assent_domain::{Approval, Event, Role, Status};
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

/// An `Idempotency-Key` as the store keeps it: per requester, with the hash
/// of the canonical request body it was first used with.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub key: String,
    pub body_sha256: String,
}

#[derive(Debug, Clone)]
pub enum CreateOutcome {
    Created(Approval),
    /// The key was used before with the same body: this is that approval.
    Replayed(Approval),
}

/// Filters for listing approvals, newest first.
#[derive(Debug, Clone, Default)]
pub struct ApprovalFilter {
    pub status: Option<Status>,
    pub action: Option<String>,
    pub requester: Option<String>,
    pub session_id: Option<String>,
    pub run_id: Option<String>,
    pub labels: Vec<(String, String)>,
    /// Only approvals older than this one (the previous page's last id).
    pub before: Option<Uuid>,
    pub limit: u32,
}

#[derive(Debug, Clone)]
pub struct ApprovalPage {
    pub items: Vec<Approval>,
    /// Pass as `before` to get the next page; `None` on the last page.
    pub next: Option<Uuid>,
}

#[derive(Debug, Clone)]
pub struct NewToken {
    pub name: String,
    pub token_sha256: String,
    pub role: Role,
    pub groups: Vec<String>,
    pub created_by: String,
}

/// A stored token: everything but the secret, which is never kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenRecord {
    pub name: String,
    #[serde(skip)]
    pub token_sha256: String,
    pub role: Role,
    pub groups: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub created_by: String,
}

/// What one commit changed: its events in `seq` order and the approvals it
/// moved to a terminal status.
#[derive(Debug, Clone, Default)]
pub struct Committed {
    pub events: Vec<Event>,
    pub decided: Vec<Approval>,
}

impl Committed {
    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.decided.is_empty()
    }
}

/// What `GET /v1/stats` is computed from: the pending count now, and the
/// approvals created since the window's start, newest first.
#[derive(Debug, Clone, Default)]
pub struct StatsSample {
    pub pending: u64,
    pub approvals: Vec<Approval>,
    /// More approvals were created in the window than were read.
    pub truncated: bool,
}

/// An Ed25519 key pair as stored. The store treats the key material as
/// opaque text; the server encodes and decodes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKey {
    pub kid: String,
    /// PKCS#8 DER, base64url.
    pub private_key: String,
    /// The raw 32-byte public key, base64url.
    pub public_key: String,
    pub created_at: OffsetDateTime,
}

/// One receipt spent by `POST /v1/receipts/redeem`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redemption {
    pub jti: String,
    pub approval_id: Uuid,
    pub redeemed_by: String,
    pub redeemed_at: OffsetDateTime,
}

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
