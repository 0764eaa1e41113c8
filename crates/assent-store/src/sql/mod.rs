//! The SQL store: one implementation for SQLite (the zero-setup default)
//! and PostgreSQL (several instances on one database), through `sqlx::Any`.
//!
//! Writes go through this instance's [`writer`] (group commit under the
//! backend's write lock); reads use a pool and run beside it. [`backend`]
//! holds everything that differs between the two databases.

mod backend;
mod changes;
mod feed;
mod keys;
mod listener;
mod outbox;
mod reads;
mod rows;
mod sessions;
mod statement;
mod stats;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use assent_domain::event::ChainHead;
use assent_domain::timestamp::from_unix_millis;
use assent_domain::timestamp::unix_millis;
use assent_domain::{Approval, Event, Grant, NewEvent, Principal, ReviewRequest};
use async_trait::async_trait;
use sqlx::{AnyPool, Row};
use time::OffsetDateTime;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use uuid::Uuid;

use self::backend::Backend;
pub use self::backend::StoreOptions;
use self::feed::Feed;
use self::rows::{approval_from_doc, grant_columns, grant_from_row, token_columns, token_from_row};
use self::statement::Statement;
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
    feed: Arc<Feed>,
    /// The feed's catch-up task and (PostgreSQL) its listener; stopped with the store.
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
        let feed = Feed::new(head.seq);
        let mut tasks = vec![tokio::spawn(catch_up(feed.clone(), readers.clone()))];
        if backend.is_postgres() {
            tasks.push(tokio::spawn(listener::listen(
                backend.url().to_owned(),
                feed.clone(),
            )));
        }
        let writer = Writer::start(backend, conn, head, feed.clone());
        Ok(SqlStore {
            readers,
            writer,
            feed,
            tasks,
        })
    }
}

impl Drop for SqlStore {
    fn drop(&mut self) {
        self.tasks.iter().for_each(JoinHandle::abort);
    }
}

/// Runs the feed's catch-ups as they are asked for, retrying until each succeeds.
async fn catch_up(feed: Arc<Feed>, readers: AnyPool) {
    loop {
        feed.needed().await;
        while let Err(error) = feed.catch_up(&readers).await {
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
        self.writer
            .submit(changes::CreateApproval {
                approval,
                idempotency,
            })
            .await
    }

    async fn get_approval(&self, id: Uuid) -> Result<Option<Approval>, StoreError> {
        reads::approval(&self.readers, id).await
    }

    async fn list_approvals(&self, filter: &ApprovalFilter) -> Result<ApprovalPage, StoreError> {
        let mut q = Statement::new("SELECT a.id, a.doc FROM approvals a WHERE 1 = 1");
        if let Some(status) = filter.status {
            q.push(" AND a.status = ").bind(status.as_str());
        }
        for (column, value) in [
            ("action", &filter.action),
            ("requester", &filter.requester),
            ("session_id", &filter.session_id),
            ("run_id", &filter.run_id),
        ] {
            if let Some(value) = value {
                q.push(format_args!(" AND a.{column} = "))
                    .bind(value.clone());
            }
        }
        for (key, value) in &filter.labels {
            q.push(" AND EXISTS (SELECT 1 FROM approval_labels l WHERE l.approval_id = a.id AND l.key = ")
                .bind(key.clone())
                .push(" AND l.value = ")
                .bind(value.clone())
                .push(")");
        }
        if let Some(before) = filter.before {
            q.push(" AND a.id < ").bind(before.to_string());
        }
        q.push(" ORDER BY a.id DESC LIMIT ")
            .bind(i64::from(filter.limit) + 1);
        let rows = q.query()?.fetch_all(&self.readers).await?;
        let mut items = rows
            .iter()
            .map(|row| approval_from_doc(&row.try_get::<String, _>("doc")?))
            .collect::<Result<Vec<_>, _>>()?;
        let next = if items.len() > filter.limit as usize {
            items.truncate(filter.limit as usize);
            items.last().map(|a| a.id)
        } else {
            None
        };
        Ok(ApprovalPage { items, next })
    }

    async fn review(
        &self,
        id: Uuid,
        reviewer: Principal,
        review: ReviewRequest,
        now: OffsetDateTime,
    ) -> Result<Approval, StoreError> {
        self.writer
            .submit(changes::Review {
                id,
                reviewer,
                review,
                now,
            })
            .await
    }

    async fn cancel(
        &self,
        id: Uuid,
        by: Principal,
        reason: Option<String>,
        now: OffsetDateTime,
    ) -> Result<Approval, StoreError> {
        self.writer
            .submit(changes::Cancel {
                id,
                by,
                reason,
                now,
            })
            .await
    }

    async fn expire_due(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Approval>, StoreError> {
        self.writer.submit(changes::ExpireDue { now, limit }).await
    }

    async fn escalate_due(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Approval>, StoreError> {
        self.writer
            .submit(changes::EscalateDue { now, limit })
            .await
    }

    async fn next_deadline(&self) -> Result<Option<OffsetDateTime>, StoreError> {
        // Each MIN is one probe of its partial index.
        let ms: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(due) FROM (\
               SELECT MIN(expires_at) AS due FROM approvals WHERE status = 'pending' \
               UNION ALL \
               SELECT MIN(escalate_at) FROM approvals WHERE status = 'pending' AND escalate_at IS NOT NULL) AS deadlines",
        )
        .fetch_one(&self.readers)
        .await?;
        Ok(ms.map(from_unix_millis))
    }

    async fn create_token(
        &self,
        token: NewToken,
        now: OffsetDateTime,
    ) -> Result<TokenRecord, StoreError> {
        self.writer
            .submit(changes::CreateToken { token, now })
            .await
    }

    async fn token_by_hash(&self, token_sha256: &str) -> Result<Option<TokenRecord>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            token_columns!(),
            " FROM tokens WHERE token_sha256 = $1"
        ))
        .bind(token_sha256)
        .fetch_optional(&self.readers)
        .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    async fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            token_columns!(),
            " FROM tokens ORDER BY name"
        ))
        .fetch_all(&self.readers)
        .await?;
        rows.iter().map(token_from_row).collect()
    }

    async fn revoke_token(
        &self,
        name: &str,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let change = changes::RevokeToken {
            name: name.to_owned(),
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
        let rows = sqlx::query(concat!(
            "SELECT ",
            grant_columns!(),
            " FROM grants WHERE expires_at > $1 AND ($2 IS NULL OR created_by = $2) ORDER BY created_at DESC, id DESC"
        ))
        .bind(unix_millis(now))
        .bind(created_by)
        .fetch_all(&self.readers)
        .await?;
        rows.iter().map(grant_from_row).collect()
    }

    async fn get_grant(&self, id: Uuid) -> Result<Option<Grant>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            grant_columns!(),
            " FROM grants WHERE id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.readers)
        .await?;
        row.as_ref().map(grant_from_row).transpose()
    }

    async fn matching_grant(
        &self,
        action: &str,
        args_sha256: &str,
        session_id: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Option<Grant>, StoreError> {
        let row = changes::matching_grant_query(action, args_sha256, session_id, unix_millis(now))
            .fetch_optional(&self.readers)
            .await?;
        row.as_ref().map(grant_from_row).transpose()
    }

    async fn record_event(&self, event: NewEvent, now: OffsetDateTime) -> Result<(), StoreError> {
        self.writer
            .submit(changes::RecordEvent { event, now })
            .await
    }

    async fn revoke_grant(
        &self,
        id: Uuid,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.writer
            .submit(changes::RevokeGrant {
                id,
                actor: actor.to_owned(),
                now,
            })
            .await
    }

    async fn events_after(&self, after: i64, limit: u32) -> Result<Vec<Event>, StoreError> {
        reads::events_after(&self.readers, after, limit).await
    }

    async fn approval_events(&self, id: Uuid) -> Result<Vec<Event>, StoreError> {
        reads::approval_events(&self.readers, id).await
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
        self.feed.subscribe()
    }
}
