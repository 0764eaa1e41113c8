//! Assent's storage: one [`Store`] trait and its SQL implementation, which
//! runs on SQLite and PostgreSQL.
//!
//! Every change and the events recording it are written in one transaction;
//! after commit the store publishes a [`Committed`] notice so the server can
//! wake waiters without polling.

mod error;
mod model;
mod sql;
pub mod webhooks;

use std::sync::Arc;

use assent_domain::grant::GrantRequest;
use assent_domain::{Approval, Event, Grant, LifecycleError, NewEvent, Principal, ReviewRequest};
use async_trait::async_trait;
use time::OffsetDateTime;
use tokio::sync::broadcast;
use uuid::Uuid;

pub use error::StoreError;
pub use model::{
    ApprovalFilter, ApprovalPage, Committed, CreateOutcome, IdempotencyKey, NewToken, Redemption,
    Session, SigningKey, StatsSample, TokenRecord,
};
pub use sql::{SqlStore, SqliteSync, StoreOptions, sqlite_file};

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Inserts a new approval and its events. A pending one is first offered
    /// to the live grants, which may decide it at once. With an idempotency
    /// key, replays or refuses an earlier use of the key.
    async fn create_approval(
        &self,
        approval: Approval,
        idempotency: Option<IdempotencyKey>,
    ) -> Result<CreateOutcome, StoreError>;

    async fn get_approval(&self, id: Uuid) -> Result<Option<Approval>, StoreError>;

    /// Newest first.
    async fn list_approvals(&self, filter: &ApprovalFilter) -> Result<ApprovalPage, StoreError>;

    /// Applies a review to the approval as committed. If the approval is past
    /// its deadline the expiry is recorded instead and the review is refused
    /// with [`LifecycleError::Expired`].
    async fn review(
        &self,
        id: Uuid,
        reviewer: Principal,
        review: ReviewRequest,
        now: OffsetDateTime,
    ) -> Result<Approval, StoreError>;

    async fn cancel(
        &self,
        id: Uuid,
        by: Principal,
        reason: Option<String>,
        now: OffsetDateTime,
    ) -> Result<Approval, StoreError>;

    /// Expires up to `limit` pending approvals whose deadline is at or before `now`.
    async fn expire_due(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Approval>, StoreError>;

    /// Emits `approval.escalated` for up to `limit` pending approvals whose
    /// `escalate_at` is at or before `now`, once each.
    async fn escalate_due(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Approval>, StoreError>;

    /// The earliest expiry or escalation due among pending approvals.
    async fn next_deadline(&self) -> Result<Option<OffsetDateTime>, StoreError>;

    async fn create_token(
        &self,
        token: NewToken,
        now: OffsetDateTime,
    ) -> Result<TokenRecord, StoreError>;
    async fn token_by_hash(&self, token_sha256: &str) -> Result<Option<TokenRecord>, StoreError>;
    async fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError>;
    async fn revoke_token(
        &self,
        name: &str,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Gives the live token `name` a new secret (its SHA-256) and revokes the
    /// old one in the same transaction; `NotFound` when no live token has
    /// that name.
    async fn rotate_token(
        &self,
        name: &str,
        token_sha256: &str,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<TokenRecord, StoreError>;

    /// Live grants (not expired at `now`), newest first; only those made by
    /// `created_by` when given.
    async fn list_grants(
        &self,
        now: OffsetDateTime,
        created_by: Option<&str>,
    ) -> Result<Vec<Grant>, StoreError>;
    async fn get_grant(&self, id: Uuid) -> Result<Option<Grant>, StoreError>;
    /// The live grant that would answer a request now (deny grants first),
    /// without changing anything: what `POST /v1/check` reports.
    async fn matching_grant(
        &self,
        request: &GrantRequest<'_>,
        now: OffsetDateTime,
    ) -> Result<Option<Grant>, StoreError>;
    async fn revoke_grant(
        &self,
        id: Uuid,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Appends one event that belongs to no other change.
    async fn record_event(&self, event: NewEvent, now: OffsetDateTime) -> Result<(), StoreError>;

    /// Events with `seq > after`, in order, at most `limit`.
    async fn events_after(&self, after: i64, limit: u32) -> Result<Vec<Event>, StoreError>;

    /// Every event about one approval, in `seq` order (its timeline).
    async fn approval_events(&self, id: Uuid) -> Result<Vec<Event>, StoreError>;

    /// Stores a new console session; sessions expired by its `created_at` go.
    async fn create_session(&self, session: Session) -> Result<(), StoreError>;
    /// The session whose secret hashes to `id_sha256`, unless it has expired at `now`.
    async fn session_by_hash(
        &self,
        id_sha256: &str,
        now: OffsetDateTime,
    ) -> Result<Option<Session>, StoreError>;
    /// Ends a session (sign-out); [`StoreError::NotFound`] when there is none.
    async fn delete_session(&self, id_sha256: &str) -> Result<(), StoreError>;

    /// The active signing key, making `candidate` it when there is none yet;
    /// every instance gets the same key, however they race.
    async fn ensure_signing_key(&self, candidate: SigningKey) -> Result<SigningKey, StoreError>;

    /// Spends a receipt once; [`StoreError::Conflict`] when it already was.
    async fn redeem_receipt(&self, redemption: Redemption) -> Result<(), StoreError>;
    /// The pending count, and up to `limit` approvals created at or after
    /// `since`, newest first (`limit` 0 reads only the count).
    async fn stats_sample(
        &self,
        since: OffsetDateTime,
        limit: u32,
    ) -> Result<StatsSample, StoreError>;

    /// Succeeds when the store can serve reads and its writer is healthy
    /// (its last write batch, or a probe since, succeeded).
    async fn ping(&self) -> Result<(), StoreError>;

    /// Sets the webhooks that committed events fan out to: from the next
    /// commit on, each event gets one pending delivery per webhook that
    /// wants it, written in the event's own transaction.
    async fn set_webhook_targets(
        &self,
        targets: Vec<webhooks::WebhookTarget>,
    ) -> Result<(), StoreError>;

    /// Leases up to `limit` deliveries due at `now` to the caller until
    /// `until`; after that they are due again for anyone (a crashed worker
    /// loses nothing).
    async fn claim_deliveries(
        &self,
        now: OffsetDateTime,
        until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<webhooks::Delivery>, StoreError>;

    /// Records how an attempt at a claimed delivery ended and drops the claim.
    async fn settle_delivery(
        &self,
        id: i64,
        outcome: webhooks::DeliveryOutcome,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// When the earliest pending delivery is due (or its claim runs out).
    async fn next_delivery_due(&self) -> Result<Option<OffsetDateTime>, StoreError>;

    /// Outbox rows with `id > after`, in order, at most `limit`.
    async fn webhook_deliveries(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<webhooks::DeliveryRecord>, StoreError>;

    /// Notices of committed changes, in commit order.
    fn subscribe(&self) -> broadcast::Receiver<Arc<Committed>>;
}

/// Maps a domain refusal into the store's error without losing it.
impl From<LifecycleError> for StoreError {
    fn from(e: LifecycleError) -> Self {
        StoreError::Lifecycle(e)
    }
}
