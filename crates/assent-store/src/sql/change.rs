//! What a write is: a [`Change`] the writer runs inside a batch
//! transaction, with the [`WriteCtx`] it writes through, and how it ends.
//!
//! A change either applies, or is refused with [`ChangeError::Refused`]
//! (not found, conflict, a lifecycle refusal, an idempotency mismatch) —
//! decided before it writes anything it does not mean to commit, so refused
//! and accepted changes share one batch without savepoints — or fails with
//! [`ChangeError::Failed`] because the database failed (or held data that
//! does not decode), which fails the whole batch.

use assent_domain::event::ChainHead;
use assent_domain::{Approval, NewEvent};
use async_trait::async_trait;
use sqlx::AnyConnection;
use time::OffsetDateTime;

use crate::webhooks::WebhookTarget;
use crate::{Committed, StoreError};

/// Why a change did not apply.
#[derive(Debug)]
pub(crate) enum ChangeError {
    /// The change was refused; its caller gets the error and the batch goes on.
    Refused(StoreError),
    /// The database failed; the whole batch is rolled back.
    Failed(StoreError),
}

/// What running a change gives: its output, or why it did not apply.
pub(crate) type Applied<T> = Result<T, ChangeError>;

/// `?` on a database or decoding error fails the batch; refusals are
/// always spelled out as [`ChangeError::Refused`].
impl From<StoreError> for ChangeError {
    fn from(e: StoreError) -> Self {
        ChangeError::Failed(e)
    }
}

impl From<sqlx::Error> for ChangeError {
    fn from(e: sqlx::Error) -> Self {
        ChangeError::Failed(e.into())
    }
}

impl From<serde_json::Error> for ChangeError {
    fn from(e: serde_json::Error) -> Self {
        ChangeError::Failed(e.into())
    }
}

/// Refuses a change with `error`.
pub(crate) fn refuse<T>(error: StoreError) -> Applied<T> {
    Err(ChangeError::Refused(error))
}

/// One change to the store, run by the writer inside the batch transaction.
#[async_trait]
pub(crate) trait Change: Send + 'static {
    type Output: Send + 'static;
    async fn apply(self, ctx: &mut WriteCtx) -> Applied<Self::Output>;
}

/// The writer's state, handed to each change in turn.
pub(crate) struct WriteCtx {
    pub conn: AnyConnection,
    pub(super) head: ChainHead,
    pub(super) committed: Committed,
    /// Where committed events fan out to as webhook deliveries.
    pub(super) webhook_targets: Vec<WebhookTarget>,
    /// Appended to the SELECT that picks rows to expire, escalate or
    /// deliver: `FOR UPDATE SKIP LOCKED` on PostgreSQL, so instances never
    /// pick the same row (SQLite has one writer and needs nothing).
    pub claim: &'static str,
    /// Whether a grant may answer a request in this batch: `None` until
    /// [`super::grants::answering`] first asks (once per batch), `Some(false)`
    /// when no grant was live then and none was made since. Saves a query per
    /// create on the common path of a gateway without grants; valid for the
    /// whole batch because every instance's batches hold the write lock.
    pub(super) live_grants: Option<bool>,
}

impl WriteCtx {
    /// Appends an event at the end of the chain; it is written with the batch.
    pub fn append(&mut self, new: NewEvent, at: OffsetDateTime) {
        let event = self.head.append(new, at);
        self.committed.events.push(event);
    }

    /// Records that this change decided an approval (its waiters wake after commit).
    pub fn decided(&mut self, approval: &Approval) {
        self.committed.decided.push(approval.clone());
    }
}
