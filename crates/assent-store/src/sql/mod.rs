//! The SQL store: one implementation for SQLite (the zero-setup default)
//! and PostgreSQL (several instances on one database), through `sqlx::Any`.
//!
//! One file per resource (approvals, tokens, grants, events, outbox, keys,
//! stats) holds its writes — [`change::Change`]s the [`writer`] runs with
//! group commit under the backend's write lock — and its reads, which use a
//! pool and run beside the writer. [`backend`] holds everything that differs
//! between the two databases; [`notices`] publishes what each commit did.

mod approvals;
mod backend;
pub use backend::sqlite_file;
mod change;
mod events;
mod grants;
mod keys;
mod listener;
mod notices;
mod outbox;
mod sessions;
mod statement;
mod stats;
mod tokens;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use assent_domain::event::ChainHead;
use assent_domain::grant::GrantRequest;
use assent_domain::{Approval, Event, Grant, NewEvent, Principal, ReviewRequest};
use async_trait::async_trait;
use sqlx::AnyPool;
use time::OffsetDateTime;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use uuid::Uuid;

use self::backend::Backend;
pub use self::backend::{SqliteSync, StoreOptions};
use self::notices::Notices;
use self::writer::Writer;
use crate::webhooks::{Delivery, DeliveryOutcome, DeliveryRecord, WebhookTarget};
use crate::{
    ApprovalFilter, ApprovalPage, Committed, CreateOutcome, IdempotencyKey, NewToken, Redemption,
    Session, SigningKey, StatsSample, Store, StoreError, TokenRecord,
};

/// Pause before retrying a catch-up that failed (the database is down).
const CATCH_UP_RETRY: Duration = Duration::from_millis(500);

pub struct SqlStore {
    readers: AnyPool,
    writer: Writer,
    notices: Arc<Notices>,
    /// The notices' catch-up task and (PostgreSQL) its listener; stopped with the store.
    tasks: Vec<JoinHandle<()>>,
}

impl SqlStore {
    /// Opens the database at `url` (`sqlite://PATH`, created when missing, or
    /// `postgres://…`), runs migrations, and starts the writer.
    pub async fn open(url: &str, options: StoreOptions) -> Result<SqlStore, StoreError> {
        let backend = Backend::from_url(url, options)?;
        backend.migrate().await?;
        let mut conn = backend.connect_writer().await?;
        let mut head = ChainHead::default();
        backend.reload_head(&mut conn, &mut head).await?;
        let readers = backend.readers()?;
        let notices = Notices::new(head.seq);
        let mut tasks = vec![tokio::spawn(catch_up(notices.clone(), readers.clone()))];
        if backend.is_postgres() {
            tasks.push(tokio::spawn(listener::listen(
                backend.url().to_owned(),
                notices.clone(),
            )));
        }
        let writer = Writer::start(backend, conn, head, notices.clone());
        Ok(SqlStore {
            readers,
            writer,
            notices,
            tasks,
        })
    }
}

impl Drop for SqlStore {
    fn drop(&mut self) {
        self.tasks.iter().for_each(JoinHandle::abort);
    }
}

/// Runs the catch-ups as they are asked for, retrying until each succeeds.
async fn catch_up(notices: Arc<Notices>, readers: AnyPool) {
    loop {
        notices.needed().await;
        while let Err(error) = notices.catch_up(&readers).await {
            tracing::warn!(%error, "catching up with the store failed; retrying");
            tokio::time::sleep(CATCH_UP_RETRY).await;
        }
    }
}

#[async_trait]
impl Store for SqlStore {
    async fn create_approval(
        &self,
        approval: Approval,
        idempotency: Option<IdempotencyKey>,
    ) -> Result<CreateOutcome, StoreError> {
        let change = approvals::CreateApproval {
            approval,
            idempotency,
        };
        self.writer.submit(change).await
    }

    async fn get_approval(&self, id: Uuid) -> Result<Option<Approval>, StoreError> {
        approvals::get(&self.readers, id).await
    }

    async fn list_approvals(&self, filter: &ApprovalFilter) -> Result<ApprovalPage, StoreError> {
        approvals::list(&self.readers, filter).await
    }

    async fn review(
        &self,
        id: Uuid,
        reviewer: Principal,
        review: ReviewRequest,
        now: OffsetDateTime,
    ) -> Result<Approval, StoreError> {
        let change = approvals::Review {
            id,
            reviewer,
            review,
            now,
        };
        self.writer.submit(change).await
    }

    async fn cancel(
        &self,
        id: Uuid,
        by: Principal,
        reason: Option<String>,
        now: OffsetDateTime,
    ) -> Result<Approval, StoreError> {
        let change = approvals::Cancel {
            id,
            by,
            reason,
            now,
        };
        self.writer.submit(change).await
    }

    async fn expire_due(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Approval>, StoreError> {
        self.writer
            .submit(approvals::ExpireDue { now, limit })
            .await
    }

    async fn escalate_due(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Approval>, StoreError> {
        self.writer
            .submit(approvals::EscalateDue { now, limit })
            .await
    }

    async fn next_deadline(&self) -> Result<Option<OffsetDateTime>, StoreError> {
        approvals::next_deadline(&self.readers).await
    }

    async fn create_token(
        &self,
        token: NewToken,
        now: OffsetDateTime,
    ) -> Result<TokenRecord, StoreError> {
        self.writer.submit(tokens::CreateToken { token, now }).await
    }

    async fn token_by_hash(&self, token_sha256: &str) -> Result<Option<TokenRecord>, StoreError> {
        tokens::by_hash(&self.readers, token_sha256).await
    }

    async fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        tokens::list(&self.readers).await
    }

    async fn revoke_token(
        &self,
        name: &str,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let change = tokens::RevokeToken {
            name: name.to_owned(),
            actor: actor.to_owned(),
            now,
        };
        self.writer.submit(change).await
    }

    async fn rotate_token(
        &self,
        name: &str,
        token_sha256: &str,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<TokenRecord, StoreError> {
        let change = tokens::RotateToken {
            name: name.to_owned(),
            token_sha256: token_sha256.to_owned(),
            actor: actor.to_owned(),
            now,
        };
        self.writer.submit(change).await
    }

    async fn list_grants(
        &self,
        now: OffsetDateTime,
        created_by: Option<&str>,
    ) -> Result<Vec<Grant>, StoreError> {
        grants::list(&self.readers, now, created_by).await
    }

    async fn get_grant(&self, id: Uuid) -> Result<Option<Grant>, StoreError> {
        grants::get(&self.readers, id).await
    }

    async fn matching_grant(
        &self,
        request: &GrantRequest<'_>,
        now: OffsetDateTime,
    ) -> Result<Option<Grant>, StoreError> {
        grants::matching(&self.readers, request, now).await
    }

    async fn revoke_grant(
        &self,
        id: Uuid,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let change = grants::RevokeGrant {
            id,
            actor: actor.to_owned(),
            now,
        };
        self.writer.submit(change).await
    }

    async fn record_event(&self, event: NewEvent, now: OffsetDateTime) -> Result<(), StoreError> {
        self.writer.submit(events::RecordEvent { event, now }).await
    }

    async fn events_after(&self, after: i64, limit: u32) -> Result<Vec<Event>, StoreError> {
        events::after(&self.readers, after, limit).await
    }

    async fn approval_events(&self, id: Uuid) -> Result<Vec<Event>, StoreError> {
        events::of_approval(&self.readers, id).await
    }

    async fn create_session(&self, session: Session) -> Result<(), StoreError> {
        self.writer
            .submit(sessions::CreateSession { session })
            .await
    }

    async fn session_by_hash(
        &self,
        id_sha256: &str,
        now: OffsetDateTime,
    ) -> Result<Option<Session>, StoreError> {
        sessions::live(&self.readers, id_sha256, now).await
    }

    async fn delete_session(&self, id_sha256: &str) -> Result<(), StoreError> {
        self.writer
            .submit(sessions::DeleteSession {
                id_sha256: id_sha256.to_owned(),
            })
            .await
    }

    async fn ensure_signing_key(&self, candidate: SigningKey) -> Result<SigningKey, StoreError> {
        self.writer
            .submit(keys::EnsureSigningKey { candidate })
            .await
    }

    async fn redeem_receipt(&self, redemption: Redemption) -> Result<(), StoreError> {
        self.writer.submit(keys::RedeemReceipt { redemption }).await
    }

    async fn stats_sample(
        &self,
        since: OffsetDateTime,
        limit: u32,
    ) -> Result<StatsSample, StoreError> {
        stats::sample(&self.readers, since, limit).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let failing = self.writer.failing();
        if failing > 0 {
            return Err(StoreError::Unavailable(format!(
                "the last {failing} write batch(es) failed; the writer is recovering"
            )));
        }
        sqlx::query("SELECT 1").execute(&self.readers).await?;
        Ok(())
    }

    async fn set_webhook_targets(&self, targets: Vec<WebhookTarget>) -> Result<(), StoreError> {
        self.writer.submit(outbox::SetTargets { targets }).await
    }

    async fn claim_deliveries(
        &self,
        now: OffsetDateTime,
        until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.writer
            .submit(outbox::Claim { now, until, limit })
            .await
    }

    async fn settle_delivery(
        &self,
        id: i64,
        outcome: DeliveryOutcome,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.writer
            .submit(outbox::Settle { id, outcome, now })
            .await
    }

    async fn next_delivery_due(&self) -> Result<Option<OffsetDateTime>, StoreError> {
        outbox::next_due(&self.readers).await
    }

    async fn webhook_deliveries(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        outbox::list(&self.readers, after, limit).await
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<Committed>> {
        self.notices.subscribe()
    }
}
